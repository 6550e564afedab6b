"""The ``blink`` source: polls `FakeBlink`, hands new clips in at once, reports state, recovers, never crashes."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from camsift.blink import login
from camsift.blink.client import BlinkClient
from camsift.config import BlinkSourceConfig, Settings, load_config
from camsift.service import Service
from camsift.sources import create
from camsift.sources.blink import BlinkSource
from camsift.store import Store
from helpers.blink import EMAIL, PASSWORD, FakeBlink, minutes_ago, ts_of
from helpers.media import Walk, write_clip
from helpers.service import FakeIntake, needs_ffmpeg, wait_for
from test_service import Recorder

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(64)

pytest_plugins = ["helpers.blink_fixtures"]


def settings_for(data_dir: Path, token: Path, extra: dict[str, Any] | None = None, **blink_keys: Any) -> Settings:
    """Settings with one ``blink`` source named ``cloud`` (plus ``blink_keys``) and the dotted ``extra`` keys."""
    source = {"type": "blink", "token_file": str(token), "request_delay_s": 0.5, **blink_keys}
    base = {"data_dir": str(data_dir), "timezone": "UTC", "service.heartbeat_s": 0.3, "sources": {"cloud": source}}
    return load_config(environ={}, overrides={**base, **(extra or {})})


def quick(settings: Settings, poll_s: float = 0.3) -> Settings:
    """The same settings with a poll interval below the 30 s floor (only a test may do that)."""
    cloud = settings.sources["cloud"]
    fast = BlinkSourceConfig.model_construct(**{**dict(cloud), "poll_s": poll_s})
    return settings.model_copy(update={"sources": {"cloud": fast}})


@pytest.fixture
def running() -> Iterator[Callable[[Settings, FakeIntake], BlinkSource]]:
    started: list[BlinkSource] = []

    def start(settings: Settings, intake: FakeIntake) -> BlinkSource:
        source = create("cloud", settings.sources["cloud"], settings, intake)
        assert isinstance(source, BlinkSource)
        source.start()
        started.append(source)
        return source

    yield start
    for source in started:
        source.stop()


def states(intake: FakeIntake) -> list[str]:
    return [state for _, _, state, _, _ in intake.reports]


def test_a_poll_downloads_new_clips_hands_them_in_and_reports_the_cameras(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    blink.add_clip("Front Door", MP4, minutes_ago(2))
    blink.add_clip("Back Yard", MP4, minutes_ago(1), local=True)
    settings = settings_for(tmp_path / "data", logged_in)
    intake = FakeIntake()
    source = create("cloud", settings.sources["cloud"], settings, intake)
    assert isinstance(source, BlinkSource)

    async def go() -> None:
        async with BlinkClient(logged_in) as client:
            await source.poll(client)

    asyncio.run(go())

    assert [(p.parent.parent.name, camera, name, origin) for p, camera, name, origin in intake.submitted] == [
        ("Front_Door", "Front_Door", "cloud", "blink"),
        ("Back_Yard", "Back_Yard", "cloud", "blink"),
    ]
    assert all(p.read_bytes() == MP4 for p in intake.paths)
    name, kind, state, detail, error = intake.reports[-1]
    assert (name, kind, state, error) == ("cloud", "blink", "running", None)
    cameras = "Front_Door armed, battery ok, 21.1 °C, wifi 4 bars; Back_Yard armed, battery ok, 21.1 °C, wifi 4 bars"
    assert detail == f"account 1111, 2 clips; {cameras}"


def test_login_needed_is_reported_and_recovers_without_a_restart(
    blink: FakeBlink, token_file: Path, tmp_path: Path, running: Callable[[Settings, FakeIntake], BlinkSource]
) -> None:
    blink.add_clip("Front Door", MP4, minutes_ago(2))
    intake = FakeIntake()
    running(quick(settings_for(tmp_path / "data", token_file), poll_s=600), intake)

    wait_for(lambda: "login needed" in states(intake), 30, "login needed")
    report = next(r for r in intake.reports if r[2] == "login needed")
    assert report[4] is not None
    assert "run 'camsift blink login'" in report[4]
    assert intake.submitted == []

    login(token_file, EMAIL, PASSWORD)  # `camsift blink login` while the service runs

    wait_for(lambda: intake.submitted, 30, "the clip, at once after the login (not at the next poll, 10 min away)")
    assert states(intake)[-1] == "running"


def test_a_token_renewal_answered_with_a_web_page_is_login_needed_not_an_internal_error(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, running: Callable[[Settings, FakeIntake], BlinkSource]
) -> None:
    doc = json.loads(logged_in.read_text())
    doc["expiration_date"] = time.time() + 60  # due for renewal
    logged_in.write_text(json.dumps(doc))
    blink.fail("/oauth/token", 200, body="<html>Sorry, we are down for maintenance</html>")
    intake = FakeIntake()
    running(quick(settings_for(tmp_path / "data", logged_in), poll_s=600), intake)

    wait_for(lambda: "login needed" in states(intake), 30, "login needed")
    assert "backing off" not in states(intake)
    error = next(r for r in intake.reports if r[2] == "login needed")[4]
    assert error is not None
    assert "not JSON" in error
    assert "internal error" not in error


def test_429_backs_off_as_asked_then_polls_again(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, running: Callable[[Settings, FakeIntake], BlinkSource]
) -> None:
    blink.fail("/homescreen", 429, retry_after="2")
    intake = FakeIntake()
    running(quick(settings_for(tmp_path / "data", logged_in)), intake)

    wait_for(lambda: "running" in states(intake), 40, "a good poll after backing off")
    backing = [r for r in intake.reports if r[2] == "backing off"]
    assert backing
    assert backing[0][3] == "next try in 2 s"
    assert "Blink answered 429" in str(backing[0][4])
    assert blink.count("homescreen") >= 2


def test_a_changed_answer_never_kills_the_source(
    blink: FakeBlink,
    logged_in: Path,
    tmp_path: Path,
    running: Callable[[Settings, FakeIntake], BlinkSource],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = BlinkClient.status
    calls: list[int] = []

    def flaky(self: BlinkClient) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("battery_state")  # blinkpy met an answer it did not expect
        return real(self)

    monkeypatch.setattr(BlinkClient, "status", flaky)
    intake = FakeIntake()
    running(quick(settings_for(tmp_path / "data", logged_in)), intake)

    wait_for(lambda: "running" in states(intake), 40, "a good poll after the failure")
    assert states(intake)[:2] == ["connecting", "backing off"]
    assert "internal error: KeyError" in str(intake.reports[1][4])


def test_a_clip_list_refused_with_426_is_shown_and_its_clips_come_at_a_later_poll(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, running: Callable[[Settings, FakeIntake], BlinkSource]
) -> None:
    """Blink answered 426 "app update required" to the clip list: not "no clips", which moved the watermark past
    every clip older than 10 minutes for good."""
    blink.add_clip("Front Door", MP4, minutes_ago(40))
    blink.fail("/media/changed", 426, body='{"message": "An app update is required", "code": 426}')
    intake = FakeIntake()
    running(quick(settings_for(tmp_path / "data", logged_in)), intake)

    wait_for(lambda: intake.submitted, 40, "the clip, at the next poll")
    backing = [r for r in intake.reports if r[2] == "backing off"]
    assert backing
    assert "426 Upgrade Required: An app update is required" in str(backing[0][4])


def test_the_poll_interval_cannot_go_below_30_s(logged_in: Path, tmp_path: Path) -> None:
    from camsift.errors import ConfigError

    with pytest.raises(ConfigError, match=r"sources\.cloud\.poll_s: Input should be greater than or equal to 30"):
        settings_for(tmp_path, logged_in, poll_s=10)


@pytest.fixture
def service() -> Iterator[Callable[[Settings], Recorder]]:
    threads: list[tuple[threading.Thread, threading.Event]] = []

    def start(settings: Settings) -> Recorder:
        listener = Recorder()
        stop = threading.Event()
        thread = threading.Thread(target=Service(settings, listeners=[listener], workers=1).run, args=(stop,))
        thread.start()
        threads.append((thread, stop))
        return listener

    yield start
    for thread, stop in threads:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive()


@pytest.mark.slow
def test_a_person_in_a_blink_clip_becomes_a_stored_person_event(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, person_clip: bytes, service: Callable[[Settings], Recorder]
) -> None:
    blink.add_clip("Front Door", person_clip, minutes_ago(1))
    data = tmp_path / "data"
    settings = settings_for(data, logged_in, {"alarm.labels": ["person"]})
    listener = service(settings)

    wait_for(lambda: listener.changes, 180, "a stored event")
    change = listener.changes[0]
    assert (change.kind, change.after.label, change.after.camera, change.origin, change.alarm) == (
        "new",
        "person",
        "Front_Door",
        "blink",
        True,
    )
    assert change.after.source is not None
    assert change.after.source.is_relative_to(data.resolve() / "blink" / "1111" / "Home" / "Front_Door")
    assert change.after.source.read_bytes() == person_clip
    with Store(data) as store:
        stored = store.events(camera="Front_Door")
    assert [e.label for e in stored] == ["person"] * len(stored)
    assert stored


@pytest.mark.slow
@needs_ffmpeg
def test_a_live_view_is_recorded_around_an_event_and_survives_blink_ending_sessions(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, service: Callable[[Settings], Recorder]
) -> None:
    walker = write_clip(tmp_path / "walker.mp4", [Walk(2.0, 4.0)], seconds=6.0, fps=10, size=(320, 180)).path
    blink.live_ts = ts_of(walker, 6.0)
    blink.live_duration_s = 6.0
    data = tmp_path / "data"
    record = {"record.buffer_s": 4, "record.pre_roll_s": 2, "record.post_roll_s": 1}
    settings = settings_for(data, logged_in, {"detect.detector": "scripted", **record}, live=["Front Door"])
    listener = service(settings)

    wait_for(lambda: [c for c in listener.changes if c.kind != "start"], 120, "an event from the live view's clip")
    told, change = listener.changes[0], listener.changes[-1]
    assert (told.kind, told.after.camera, told.after.label) == ("start", "Front_Door", "person")  # told at once
    assert (change.kind, change.after.id) == ("end", told.after.id)  # the clip's event keeps the live id
    assert (change.after.camera, change.after.label, change.origin) == ("Front_Door", "person", "stream")
    assert change.after.clip is not None
    assert change.after.clip.exists()
    wait_for(lambda: blink.live_sessions >= 2, 30, "a second live session after Blink ended the first")


def test_a_live_view_keeps_30_s_in_memory_and_may_start_its_clips_30_s_before_the_event(
    logged_in: Path, tmp_path: Path
) -> None:
    """Blink live views came from a design that keeps 30 s of pre-roll in RAM (``bench/blink_live.py``: memory)."""
    settings = settings_for(tmp_path / "data", logged_in, {"record.pre_roll_s": 30}, live=["Front Door"])
    assert (settings.record.buffer_s, settings.record.pre_roll_s) == (30.0, 30.0)
    cloud = settings.sources["cloud"]
    assert isinstance(cloud, BlinkSourceConfig)
    assert cloud.live_reconnect_max_s == 300.0  # not every 10 s forever


@pytest.mark.parametrize(("delete_empty", "events", "kept"), [(False, 0, True), (True, 0, False), (True, 2, True)])
def test_delete_empty_clears_away_clips_with_no_event(
    tmp_path: Path, delete_empty: bool, events: int, kept: bool
) -> None:
    settings = settings_for(tmp_path / "data", tmp_path / "token.json", delete_empty=delete_empty)
    source = create("cloud", settings.sources["cloud"], settings, FakeIntake())
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(MP4)
    source.processed(clip, events)
    assert clip.exists() is kept
