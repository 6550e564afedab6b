"""`Notifier` against a real JSON webhook on loopback: rules, cooldown, outbox, retries, problems, digest."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from camsift.config import Settings, load_config
from camsift.events import Event, FileRecord
from camsift.listeners import EventChange, Problem
from camsift.notify import Notifier
from camsift.store import Store
from camsift.store.outbox import Outbox
from camsift.store.status import ServiceBoard
from helpers.notify import HttpReceiver, http_receiver
from helpers.service import wait_for

T0 = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)


def event(at_s: float = 0.0, label: str = "person", camera: str = "porch", n: int = 1) -> Event:
    start = T0 + timedelta(seconds=at_s)
    return Event(f"{camera}-{label}-{n}", camera, label, 0.0, 1.0, start, start, 0.9, (0, 0, 10, 10))


def new(e: Event, alarm: bool = True) -> EventChange:
    return EventChange("new", None, e, alarm, "folder")


@pytest.fixture
def hook() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    with Store(data_dir) as s:
        yield s


@pytest.fixture
def make_settings(data_dir: Path, hook: HttpReceiver) -> Callable[..., Settings]:
    """Settings with one channel, ``hook``, on the test's receiver (quick retries)."""

    def make(**overrides: Any) -> Settings:
        base = {
            "data_dir": str(data_dir),
            "timezone": "UTC",
            "notify.channels": {"hook": {"url": f"json://127.0.0.1:{hook.port}/hook"}},
            "notify.retry_first_s": 0.1,
            "notify.retry_max_s": 0.4,
        }
        return load_config(environ={}, overrides={**base, **overrides})

    return make


def titles(hook: HttpReceiver) -> list[str]:
    return [r.json()["title"] for r in hook.received()]


def test_an_object_told_in_progress_is_notified_once_and_never_when_its_clip_disproved_it(
    make_settings: Callable[..., Settings], store: Store, hook: HttpReceiver
) -> None:
    notifier = Notifier(make_settings(**{"notify.rules": {"all": {"cooldown_s": 0}}})).attach(store)
    started, ghost = event(), event(8, n=2)
    stored = started.replace(end_utc=T0 + timedelta(seconds=4), snapshot=None, hits=12)

    notifier.on_event(EventChange("start", None, started, True, "stream"))
    notifier.on_event(EventChange("start", None, ghost, True, "stream"))
    assert notifier.flush(10)
    notifier.on_event(EventChange("end", started, stored, True, "stream"))  # the clip's event, same id
    notifier.on_event(EventChange("end", ghost, ghost, True, "stream", false_positive=True))
    assert notifier.flush(10)

    assert titles(hook) == ["Person on porch", "Person on porch"]  # one each, at the start
    assert [m.message.key for m in store.outbox.messages("hook")] == ["event:porch-person-1", "event:porch-person-2"]


def test_an_alarm_is_sent_once_and_an_update_of_the_same_event_is_not_sent_again(
    make_settings: Callable[..., Settings], store: Store, hook: HttpReceiver
) -> None:
    notifier = Notifier(make_settings()).attach(store)
    e = event()

    notifier.on_event(new(e))
    notifier.on_event(new(event(5, "car", n=2), alarm=False))  # no alarm: the default rule stays quiet
    assert notifier.flush(10)
    notifier.on_event(EventChange("update", e, e.replace(sub_label="unknown"), False, "folder"))
    notifier.on_event(EventChange("update", e, e.replace(sub_label="unknown"), True, "folder"))
    assert notifier.flush(10)

    assert titles(hook) == ["Person on porch"]
    [sent] = Outbox(store.engine).messages()
    assert (sent.state, sent.attempts, sent.message.key) == ("sent", 1, f"event:{e.id}")


def test_the_cooldown_is_per_camera_and_label_and_survives_a_restart(
    make_settings: Callable[..., Settings], store: Store, hook: HttpReceiver
) -> None:
    settings = make_settings(**{"notify.rules": {"all": {"cooldown_s": 60}}})
    first = Notifier(settings).attach(store)
    for n, (at_s, camera) in enumerate([(0, "porch"), (30, "porch"), (30, "gate")]):
        first.on_event(new(event(at_s, camera=camera, n=n)))
    again = Notifier(settings).attach(store)  # a restart: the cooldown comes from the database
    again.on_event(new(event(50, n=3)))
    again.on_event(new(event(90, n=4)))
    assert again.flush(10)

    assert titles(hook) == ["Person on porch", "Person on gate", "Person on porch"]
    assert [q.message.key for q in Outbox(store.engine).messages()] == [
        "event:porch-person-0",
        "event:gate-person-2",
        "event:porch-person-4",
    ]


def test_rules_pick_channels_and_quiet_hours_hold_messages(
    make_settings: Callable[..., Settings], store: Store, hook: HttpReceiver
) -> None:
    with http_receiver() as night:
        channels = {
            "hook": {"url": f"json://127.0.0.1:{hook.port}/hook"},
            "night": {"url": f"json://127.0.0.1:{night.port}/night"},
        }
        rules = {
            "cars": {"labels": ["car"], "channels": ["night"]},
            "never": {"labels": ["person"], "channels": ["hook"], "quiet_hours": ["00:00-12:00", "12:00-00:00"]},
        }
        notifier = Notifier(make_settings(**{"notify.channels": channels, "notify.rules": rules})).attach(store)
        notifier.on_event(new(event(label="car")))
        notifier.on_event(new(event(label="person", n=2)))
        assert notifier.flush(10)

        assert titles(night) == ["Car on porch"]
    assert titles(hook) == []


@pytest.mark.slow
def test_a_channel_that_is_down_gets_every_pending_message_exactly_once_when_it_is_back(
    make_settings: Callable[..., Settings], store: Store, hook: HttpReceiver
) -> None:
    hook.down()
    notifier = Notifier(make_settings(**{"notify.rules": {"all": {"cooldown_s": 0}}}))
    notifier.start(FakeService(store))
    try:
        for n in range(3):
            notifier.on_event(new(event(n * 10, n=n)))
        outbox = Outbox(store.engine)
        wait_for(lambda: outbox.messages()[0].attempts >= 3, 20, "three failed tries")
        assert (
            outbox.messages()[0].last_error
            == "channel hook: A Connection error occurred sending JSON notification to ***."
        )
        hook.up()
        wait_for(lambda: len(outbox.messages(state="sent")) == 3, 20, "all three sent")
        time.sleep(1.5)  # the sender goes on polling: nothing more may arrive
    finally:
        notifier.stop()

    assert [r.json()["message"].splitlines()[0] for r in hook.received()] == [
        f"Person seen on porch at 2026-11-22 14:30:{5 + n * 10:02d} UTC (confidence 90%)." for n in range(3)
    ]


def test_messages_pending_at_a_restart_are_sent_then(
    make_settings: Callable[..., Settings], data_dir: Path, hook: HttpReceiver
) -> None:
    settings = make_settings(**{"notify.rules": {"all": {"cooldown_s": 0}}})
    hook.down()
    with Store(data_dir) as store:
        before = Notifier(settings).attach(store)
        before.on_event(new(event(0, n=1)))
        before.on_event(new(event(5, n=2)))
        assert not before.flush(0.3)  # the channel is down: both stay pending
    hook.up()
    with Store(data_dir) as store:
        assert Notifier(settings).attach(store).flush(10)
        assert [q.state for q in Outbox(store.engine).messages()] == ["sent", "sent"]
    assert len(hook.received()) == 2


# --- problems ------------------------------------------------------------------------------------------------------


@dataclass
class FakeService:
    """What a companion sees of the service: its store, and `problem` (which reaches the notifier)."""

    store: Store
    problems: list[Problem] = field(default_factory=list)

    def problem(self, problem: Problem) -> None:
        self.problems.append(problem)


def test_a_problem_is_told_once_then_its_resolution_once(
    make_settings: Callable[..., Settings], store: Store, hook: HttpReceiver
) -> None:
    notifier = Notifier(make_settings()).attach(store)
    full = Problem("disk_full", "Data disk 93 % full", "Delete old clips.")

    for _ in range(3):
        notifier.on_problem(full)
    notifier.on_problem(Problem("disk_full", "Data disk back to 80 % full", resolved=True))
    notifier.on_problem(Problem("disk_full", "Data disk back to 80 % full", resolved=True))
    notifier.on_problem(Problem("login_needed:blink", "Blink login needed", resolved=True))  # never told: nothing
    assert notifier.flush(10)

    assert titles(hook) == ["camsift: Data disk 93 % full", "camsift: resolved: Data disk back to 80 % full"]


def test_repeated_analysis_failures_are_reported_and_so_is_the_recovery(
    make_settings: Callable[..., Settings], store: Store, hook: HttpReceiver
) -> None:
    notifier = Notifier(make_settings(**{"notify.problems.failures": 2})).attach(store)
    notifier.on_analysed(Path("/in/a.mp4"), "porch", None)
    notifier.on_analysed(Path("/in/b.mp4"), "porch", "not a video")
    notifier.on_analysed(Path("/in/c.mp4"), "porch", "not a video")
    notifier.on_analysed(Path("/in/d.mp4"), "porch", "not a video")
    notifier.on_analysed(Path("/in/e.mp4"), "porch", None)
    assert notifier.flush(10)

    assert titles(hook) == ["camsift: 2 files in a row failed", "camsift: resolved: File analysis works again"]
    assert "/in/c.mp4 (camera porch): not a video" in hook.received()[0].json()["message"]


def test_a_source_down_for_long_and_a_full_disk_are_found_by_the_checks(
    make_settings: Callable[..., Settings], store: Store, hook: HttpReceiver
) -> None:
    settings = make_settings(**{"notify.problems.source_down_s": 0.2, "notify.problems.disk_used_pct": 0.01})
    notifier = Notifier(settings).attach(store)
    board = ServiceBoard(store.engine)
    board.report("source:driveway", "stream", "connecting", error="cannot open the stream: Connection refused")
    board.report("source:inbox", "folder", "running")

    notifier.check_sources()  # down, but not for long yet
    time.sleep(0.3)
    notifier.check_sources()
    notifier.check_sources()  # still down: told already
    board.report("source:driveway", "stream", "recording")
    notifier.check_sources()
    notifier.check_disk()
    assert notifier.flush(10)

    got = titles(hook)
    assert got[0] == "camsift: Source driveway down for 0 minutes"
    assert got[1] == "camsift: resolved: Source driveway is back"
    assert got[2].startswith("camsift: Data disk ")
    assert len(got) == 3
    assert "Last error: cannot open the stream: Connection refused" in hook.received()[0].json()["message"]


def test_a_source_that_needs_a_new_login_is_told_at_once(
    make_settings: Callable[..., Settings], store: Store, hook: HttpReceiver
) -> None:
    notifier = Notifier(make_settings(**{"notify.problems.source_down_s": 600})).attach(store)
    board = ServiceBoard(store.engine)
    refused = "Blink refused the saved token: run camsift blink login"
    board.report("source:blink", "blink", "login needed", error=refused)

    notifier.check_sources()
    assert notifier.flush(10)

    assert titles(hook) == ["camsift: Source blink: login needed"]
    assert "run camsift blink login" in hook.received()[0].json()["message"]


def test_the_daily_digest_is_sent_once_after_its_time(
    make_settings: Callable[..., Settings], store: Store, hook: HttpReceiver, data_dir: Path
) -> None:
    settings = make_settings(**{"notify.digest.channels": ["hook"], "notify.digest.at": "08:00"})
    path = data_dir / "a.mp4"
    record = FileRecord(path, 1, 0.0, "x", "porch", "ok", None, 3.0, T0, "name", T0)
    store.save(record, [event(0, n=1).replace(source=path), event(60, "cat", n=2).replace(source=path)])
    notifier = Notifier(settings).attach(store)

    assert not notifier.digest_if_due(datetime(2026, 11, 23, 7, 59, tzinfo=UTC))
    assert notifier.digest_if_due(datetime(2026, 11, 23, 8, 1, tzinfo=UTC))
    assert not notifier.digest_if_due(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert notifier.flush(10)

    [digest] = hook.received()
    assert digest.json()["title"] == "camsift digest 2026-11-23: 2 events"
    assert "porch: 1 cat, 1 person (first 14:30, last 14:31)" in digest.json()["message"]
