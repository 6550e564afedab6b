"""Objects confirmed on live streams: told at once, matched to their clip's events (same id) or dropped.

The first tests run the service's steps on a real store; the last ones run ``camsift run`` on a stream FFmpeg
serves on loopback in real time, with the real Mosquitto on 127.0.0.1:1883 and a webhook notification channel:
``new`` must come before the clip is even closed, ``end`` with the same id, one notification per object, and a
kill of every process in between loses and duplicates nothing.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from camsift.alarms import Alarms
from camsift.config import Settings
from camsift.events import Event, FileRecord
from camsift.listeners import EventChange
from camsift.live_events import ORPHAN_AFTER_S, announce, drop, end_orphans, match_clip
from camsift.mqtt import MqttPublisher
from camsift.store import Store
from camsift.store.live import LiveEvent, live_id
from helpers.notify import http_receiver
from helpers.service import FFMPEG, free_port, serve_stream, wait_for
from test_mqtt import (
    RunningService,
    Subscriber,
    clear_retained,
    kill_group,
    needs_broker,
    start_run,
    stop_run,
    subscribed,
)

T0 = datetime(2026, 11, 22, 14, 30, 0, tzinfo=UTC)
MakeSettings = Callable[..., Settings]


def confirmed(n: int, label: str = "person", start_s: float = 3.0) -> LiveEvent:
    start = T0 + timedelta(seconds=start_s)
    track = f"{T0.isoformat()}/{n}"
    return LiveEvent(
        live_id("door", track, start), "door", track, label, start, start + timedelta(seconds=0.4), 0.9,
        (10.0, 10.0, 40.0, 90.0),
    )  # fmt: skip


def clip_event(n: int, label: str, start_s: float, end_s: float) -> Event:
    return Event(
        f"clip-{n:03d}", "door", label, start_s, end_s, T0 + timedelta(seconds=start_s),
        T0 + timedelta(seconds=end_s), 0.95, (12.0, 11.0, 41.0, 92.0),
    )  # fmt: skip


def record(path: Path, seconds: float = 10.0) -> FileRecord:
    return FileRecord(path, 1, 1.0, "0" * 64, "door", "ok", None, seconds, T0, "metadata", T0)


def test_announce_tells_each_confirmed_object_once_with_its_alarm(scripted_settings: MakeSettings) -> None:
    told: list[EventChange] = []
    with Store(scripted_settings().data_dir) as store:
        store.live.open(confirmed(1))
        store.live.open(confirmed(1))  # written twice by the stream: one row
        store.live.open(confirmed(2, "car", start_s=4.0))
        alarms = Alarms(scripted_settings(**{"alarm.labels": ["person"]}), store)

        assert announce(store, alarms, told.append) == 2
        assert announce(store, alarms, told.append) == 0

    assert [(c.kind, c.after.label, c.alarm, c.before) for c in told] == [
        ("start", "person", True, None),
        ("start", "car", False, None),
    ]
    assert told[0].after.id == confirmed(1).id
    assert told[0].after.snapshot is None


def test_a_clip_event_keeps_the_id_of_the_object_told_in_progress_and_an_unseen_one_is_dropped(
    scripted_settings: MakeSettings, tmp_path: Path
) -> None:
    person, car, ghost = confirmed(1), confirmed(2, "car", start_s=3.5), confirmed(3, "dog", start_s=6.0)
    later = confirmed(4, "dog", start_s=9.8)  # confirmed at 10.2 s, after the clip's end: the next clip's
    clip = tmp_path / "door.mp4"
    events = [clip_event(1, "person", 2.8, 6.0), clip_event(2, "car", 3.2, 5.0), clip_event(3, "person", 7.0, 8.0)]
    told: list[EventChange] = []
    with Store(scripted_settings().data_dir) as store:
        for row in (person, car, ghost, later):
            store.live.open(row)

        match = match_clip(store.live, record(clip), events)
        again = match_clip(store.live, record(clip), match.events)  # the clip analysed again after a restart
        drop(store.live, match, record(clip), "stream", told.append)
        left = store.live.in_progress()

    assert [e.id for e in match.events] == [person.id, car.id, "clip-003"]  # the second person was not told
    assert sorted(match.started) == sorted([person.id, car.id])
    assert [e.id for e in again.events] == [person.id, car.id, "clip-003"]
    assert [d.id for d in match.dropped] == [ghost.id]
    [end] = told
    assert (end.kind, end.false_positive, end.after.id, end.after.label) == ("end", True, ghost.id, "dog")
    assert [c.id for c in left] == [later.id]


def test_two_people_told_in_progress_each_keep_their_own_id(scripted_settings: MakeSettings, tmp_path: Path) -> None:
    first, second = confirmed(1, start_s=1.0), confirmed(2, start_s=6.0)
    events = [clip_event(1, "person", 0.9, 4.0), clip_event(2, "person", 5.8, 9.0)]
    with Store(scripted_settings().data_dir) as store:
        store.live.open(first)
        store.live.open(second)
        match = match_clip(store.live, record(tmp_path / "door.mp4"), events)

    assert [e.id for e in match.events] == [first.id, second.id]
    assert match.dropped == []


def test_an_object_no_clip_will_show_ends_unless_its_camera_still_records_or_has_a_clip_waiting(
    scripted_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = scripted_settings(
        sources={"live": {"type": "stream", "url": "tcp://127.0.0.1:9", "camera": "door"}},
        **{"record.max_clip_s": 30, "record.post_roll_s": 10},
    )
    wait_s = 30 + 10 + ORPHAN_AFTER_S
    now = datetime.now(UTC)  # the streams' rows on the board are judged fresh by the wall clock
    orphan = replace(
        confirmed(1), start_utc=now - timedelta(seconds=wait_s + 2), seen_utc=now - timedelta(seconds=wait_s + 1)
    )
    told: list[EventChange] = []
    with Store(settings.data_dir) as store:
        store.live.open(orphan)
        assert end_orphans(store, settings, told.append, now - timedelta(seconds=2)) == 0  # not yet
        store.board.report("source:live", "stream", "recording")
        assert end_orphans(store, settings, told.append, now) == 0  # its clip is being written
        store.board.report("source:live", "stream", "running")
        clip = tmp_path / "door.mp4"
        clip.write_bytes(b"x")
        store.jobs.submit(clip, "door", "live", "stream")
        assert end_orphans(store, settings, told.append, now) == 0  # its clip waits for analysis
        [(job, _, _)] = store.jobs.jobs()
        store.jobs.done(job, "ok")

        assert end_orphans(store, settings, told.append, now) == 1
        assert store.live.in_progress() == []

    [end] = told
    assert (end.kind, end.after.id, end.false_positive) == ("end", orphan.id, False)  # not disproved


# --- what follows the objects in view on MQTT: counts, snapshot, review item -----------------------------------------


class Door:
    """The service's side of two people on the door camera, told to a real `MqttPublisher` in the service's order
    on a real store: A (in the zone ``path``) and B confirmed, then A's clip analysed (A found, named) and B a
    false positive."""

    def __init__(self, data_dir: Path, shared_data: Path) -> None:
        self.data_dir = data_dir
        frames = data_dir / "snapshots"
        frames.mkdir(parents=True)
        self.frame, self.annotated = frames / "a-confirmed.jpg", frames / "a-annotated.jpg"
        self.frame.write_bytes((shared_data / "images" / "skimage_rocket.jpg").read_bytes())
        self.annotated.write_bytes((shared_data / "images" / "ultralytics_zidane.jpg").read_bytes())
        self.a = replace(confirmed(1), zones=("path",), snapshot=self.frame)
        self.b = confirmed(2, start_s=5.0)
        self.clip = data_dir / "clips" / "door.mp4"
        self.stored = replace(
            self.a.event(), start_utc=self.a.start_utc - timedelta(seconds=0.3), end_utc=T0 + timedelta(seconds=6),
            sub_label="alice", source=self.clip, clip=self.clip, snapshot_annotated=self.annotated,
        )  # fmt: skip

    def start(self, store: Store, publisher: MqttPublisher, live: LiveEvent) -> None:
        store.live.open(live)
        publisher.on_event(EventChange("start", None, live.event(), True, "stream"))
        store.live.announced(live.id, True)

    def clip_analysed(self, store: Store, publisher: MqttPublisher) -> None:
        store.live.matched([self.a.id], self.clip)
        store.save(record(self.clip), [self.stored])
        publisher.on_event(EventChange("end", self.a.event(), self.stored, True, "stream"))
        ghost = self.b.event()
        publisher.on_event(EventChange("end", ghost, ghost, True, "stream", false_positive=True))
        store.live.dropped(self.b.id)


def door_settings(scripted_settings: MakeSettings, prefix: str) -> Settings:
    """MQTT on ``prefix``; the door camera's stream (not started: the test tells what its process would)."""
    return scripted_settings(
        sources={"live": {"type": "stream", "url": "tcp://127.0.0.1:9", "camera": "door"}},
        mqtt={"enabled": True, "topic_prefix": prefix, "discovery": False, "off_delay_s": 0.5},
    )


def connected(settings: Settings, store: Store) -> MqttPublisher:
    """A publisher on ``store``, started and connected to the broker (the caller stops it)."""
    publisher = MqttPublisher(settings)
    publisher.start(RunningService(store))
    if not publisher.connected.wait(10):
        publisher.stop()
        raise AssertionError("the MQTT publisher did not connect to the broker in 10 s")
    return publisher


def reviews_of(sub: Subscriber, prefix: str) -> list[tuple[str, str, list[str], float | None]]:
    """``(type, id, detections, end_time)`` of each ``reviews`` message, in order."""
    told = [json.loads(p) for p in sub.payloads(f"{prefix}/reviews")]
    return [(m["type"], m["after"]["id"], m["after"]["data"]["detections"], m["after"]["end_time"]) for m in told]


@needs_broker
def test_counts_snapshot_and_review_item_follow_live_objects_from_start_to_end(
    scripted_settings: MakeSettings, shared_data: Path, prefix: str
) -> None:
    settings = door_settings(scripted_settings, prefix)
    door = Door(settings.data_dir, shared_data)
    a, b = door.a.id, door.b.id
    with Store(settings.data_dir) as store, subscribed([f"{prefix}/#"]) as sub:
        publisher = connected(settings, store)
        try:
            door.start(store, publisher, door.a)
            wait_for(lambda: sub.payloads(f"{prefix}/reviews"), 10, "the review item's new")
            assert sub.payloads(f"{prefix}/door/person")[-1] == b"1"  # in view at once, long before its clip
            door.start(store, publisher, door.b)
            door.clip_analysed(store, publisher)
            wait_for(lambda: len(sub.payloads(f"{prefix}/reviews")) >= 4, 10, "the review item's end")
            threading.Event().wait(1.0)  # nothing more may follow
            with subscribed([f"{prefix}/door/person/snapshot"]) as late:  # retained, as Frigate's
                wait_for(lambda: late.got(f"{prefix}/door/person/snapshot"), 10, "the retained snapshot")
        finally:
            publisher.stop()

    assert late.payloads(f"{prefix}/door/person/snapshot") == [door.annotated.read_bytes()]
    assert sub.payloads(f"{prefix}/door/person") == [b"0", b"1", b"2", b"1", b"0"]  # up at each start, down at its end
    assert sub.payloads(f"{prefix}/door/all") == [b"0", b"1", b"2", b"1", b"0"]
    assert sub.payloads(f"{prefix}/door/person/active") == [b"1", b"2", b"1", b"0"]
    assert sub.payloads(f"{prefix}/path/person") == [b"1", b"0"]  # only A entered the zone
    assert sub.payloads(f"{prefix}/door/person/snapshot") == [door.frame.read_bytes(), door.annotated.read_bytes()]
    assert [json.loads(p)["id"] for p in sub.payloads(f"{prefix}/door/person/event")] == [a, b, a]
    events = [json.loads(p) for p in sub.payloads(f"{prefix}/events")]
    assert [(m["type"], m["after"]["id"]) for m in events] == [("new", a), ("new", b), ("end", a), ("end", b)]
    end = door.stored.end_utc.timestamp()
    assert reviews_of(sub, prefix) == [
        ("new", a, [a], None),
        ("update", a, [a, b], None),  # B joined
        ("update", a, [a, b], None),  # A's clip analysed: A named, B still in view
        ("end", a, [a], end),  # B was a false positive: nothing left in view
    ]
    new, joined, named, ended = (json.loads(p) for p in sub.payloads(f"{prefix}/reviews"))
    assert new["before"] == new["after"]
    assert (new["after"]["camera"], new["after"]["severity"], new["after"]["data"]["objects"]) == (
        "door", "alert", ["person"],
    )  # fmt: skip
    assert new["after"]["start_time"] == door.a.start_utc.timestamp()
    assert new["after"]["data"]["zones"] == ["path"]
    assert new["after"]["thumb_path"] == f"/api/events/{a}/thumbnail.webp"  # the confirming frame, served
    assert joined["before"] == new["after"]
    assert (named["before"]["data"]["sub_labels"], named["after"]["data"]["sub_labels"]) == ([], ["alice"])
    assert ended["before"] == named["after"]
    assert ended["after"]["start_time"] == door.stored.start_utc.timestamp()


@needs_broker
def test_a_kill_between_start_and_end_leaves_no_count_stuck_and_tells_each_review_message_once(
    scripted_settings: MakeSettings, shared_data: Path, prefix: str
) -> None:
    settings = door_settings(scripted_settings, prefix)
    door = Door(settings.data_dir, shared_data)
    a, b = door.a.id, door.b.id
    with Store(settings.data_dir) as store, subscribed([f"{prefix}/#"]) as sub:
        killed = connected(settings, store)
        door.start(store, killed, door.a)
        door.start(store, killed, door.b)
        wait_for(lambda: len(sub.payloads(f"{prefix}/reviews")) >= 2, 10, "new and update")
        killed._stop.set()  # killed: no goodbye, its counts left retained
        assert killed._client is not None
        killed._client.loop_stop()

        publisher = connected(settings, store)
        try:
            door.clip_analysed(store, publisher)
            publisher.on_event(EventChange("new", None, door.stored, True, "stream"))  # told again after the kill
            wait_for(lambda: len(sub.payloads(f"{prefix}/reviews")) >= 3, 10, "the review item's end")
            wait_for(lambda: sub.payloads(f"{prefix}/door/person")[-1:] == [b"0"], 10, "the count back to 0")
            threading.Event().wait(1.0)  # nothing more may follow
        finally:
            publisher.stop()
        with Store(settings.data_dir) as again, subscribed([f"{prefix}/door/+"]) as late:
            wait_for(lambda: late.got(f"{prefix}/door/person"), 10, "the retained count")
            retained = late.payloads(f"{prefix}/door/person")
            assert again.live.in_progress() == []

    assert sub.payloads(f"{prefix}/door/person")[:4] == [b"0", b"1", b"2", b"0"]  # 0 as the restarted run connects
    assert retained == [b"0"]
    events = [json.loads(p) for p in sub.payloads(f"{prefix}/events")]
    assert [(m["type"], m["after"]["id"]) for m in events] == [("new", a), ("new", b), ("end", a), ("end", b)]
    end = door.stored.end_utc.timestamp()
    assert reviews_of(sub, prefix) == [("new", a, [a], None), ("update", a, [a, b], None), ("end", a, [a], end)]


def test_a_false_positive_seen_alone_ends_its_review_item_under_the_keys_a_restart_would_use(
    scripted_settings: MakeSettings, shared_data: Path
) -> None:
    from camsift.mqtt.reviews import ReviewsTold, item_now

    settings = scripted_settings()
    ghost = Door(settings.data_dir, shared_data).b
    start = EventChange("start", None, ghost.event(), True, "stream")
    end = EventChange("end", ghost.event(), ghost.event(), True, "stream", false_positive=True)
    told = ReviewsTold()
    with Store(settings.data_dir) as store:
        store.live.open(ghost)
        first = told.messages(*item_now(store, start, ["person"]), ghost.id)
        store.live.announced(ghost.id, True)
        ending = told.messages(*item_now(store, end, ["person"]), ghost.id)
        again = ReviewsTold().messages(*item_now(store, end, ["person"]), ghost.id)  # told again after a kill

    assert [
        (m["type"], m["after"]["id"], m["after"]["data"]["detections"], m["after"]["end_time"])
        for _, m in first + ending
    ] == [
        ("new", ghost.id, [ghost.id], None),
        ("end", ghost.id, [ghost.id], ghost.seen_utc.timestamp()),
    ]
    assert [key for key, _ in again] == [key for key, _ in first + ending]  # so the outbox queues neither again


# --- camsift run on a live stream ----------------------------------------------------------------------------------


Events = list[tuple[float, dict[str, Any]]]


@pytest.fixture
def prefix() -> Iterator[str]:
    """A topic prefix of the test's own; its retained messages are cleared after."""
    name = f"camsift-test-{uuid.uuid4().hex[:8]}"
    yield name
    clear_retained([name])


@pytest.fixture
def mqtt_events() -> Iterator[Callable[[str], Events]]:
    """``mqtt_events(prefix)``: the ``<prefix>/events`` messages from now on, each with the wall time (Unix
    seconds) it arrived, kept in a list that grows as they come."""
    subscribers: list[Subscriber] = []

    def listen(prefix: str) -> Events:
        got: Events = []
        lock = threading.Lock()
        sub = Subscriber([f"{prefix}/events"])

        def on_message(_client: Any, _userdata: Any, message: Any) -> None:
            with lock:
                got.append((time.time(), json.loads(message.payload)))

        sub.client.on_message = on_message
        subscribers.append(sub)
        return got

    yield listen
    for sub in subscribers:
        sub.close()


def run_config(tmp_path: Path, port: int, prefix: str, hook_port: int) -> Path:
    config = tmp_path / "camsift.yaml"
    doc = {
        "data_dir": str(tmp_path / "data"),
        "timezone": "UTC",
        "detect": {"detector": "scripted"},
        "service": {"workers": 1},
        "record": {"buffer_s": 4, "pre_roll_s": 2, "post_roll_s": 1},
        "sources": {"live": {"type": "stream", "url": f"tcp://127.0.0.1:{port}", "camera": "door", "timeout_s": 3}},
        "mqtt": {"enabled": True, "topic_prefix": prefix, "discovery": False},
        "notify": {"channels": {"hook": {"url": f"json://127.0.0.1:{hook_port}/alerts"}}},
    }
    config.write_text(yaml.safe_dump(doc))
    return config


def events_of(messages: Events) -> list[tuple[str, str, float | None]]:
    """``(type, id, end_time)`` of each ``events`` message, in order."""
    return [(m["type"], m["after"]["id"], m["after"]["end_time"]) for _, m in messages]


def first_job_utc(data_dir: Path) -> datetime | None:
    """When the first clip was queued (the clip closed), if one was."""
    with Store(data_dir) as store:
        jobs = [job for job, _, _ in store.jobs.jobs()]
    return min((j.enqueued_utc for j in jobs), default=None)


@needs_broker
@pytest.mark.slow
def test_new_comes_before_the_clip_closes_and_end_keeps_its_id_with_one_notification(
    tmp_path: Path, mqtt_events: Callable[[str], Events], prefix: str
) -> None:
    port = free_port()
    walker = write_walker(tmp_path)
    with http_receiver() as hook, serve_stream(walker, port), subscribed(state_topics(prefix)) as state:
        messages = mqtt_events(prefix)
        run = start_run(run_config(tmp_path, port, prefix, hook.port))
        try:
            wait_for(lambda: len(messages) >= 2, 90, "the live person's new and end")
            wait_for(lambda: state.payloads(f"{prefix}/door/person")[-1:] == [b"0"], 10, "the count down at the end")
            wait_for(lambda: hook.requests, 15, "the notification")
            time.sleep(1.5)  # anything sent twice would come now
        finally:
            stop_run(run)
        [(arrived, new), (_, end)] = messages
        closed = first_job_utc(tmp_path / "data")

    assert events_of(messages) == [
        ("new", new["after"]["id"], None),
        ("end", new["after"]["id"], end["after"]["end_time"]),
    ]
    assert end["after"]["end_time"] is not None
    assert end["after"]["has_snapshot"] is True
    assert new["after"]["label"] == end["after"]["label"] == "person"
    assert closed is not None
    assert arrived < closed.timestamp(), "the 'new' came after the clip was closed"
    assert new["after"]["has_snapshot"] is True  # the frame it was confirmed in
    [notification] = hook.requests
    doc = notification.json()
    assert "Person" in doc["title"]
    [picture] = [base64.b64decode(a["base64"]) for a in doc["attachments"]]
    assert picture[:3] == b"\xff\xd8\xff"  # a JPEG
    assert_followed(state, prefix, new["after"]["id"])
    print(f"\nlive stream: MQTT 'new' came {closed.timestamp() - arrived:.1f} s before the clip was closed")


@needs_broker
@pytest.mark.slow
def test_a_kill_between_new_and_end_loses_and_duplicates_nothing(
    tmp_path: Path, mqtt_events: Callable[[str], Events], prefix: str
) -> None:
    port = free_port()
    walker = write_walker(tmp_path)
    data = tmp_path / "data"
    with http_receiver() as hook, serve_stream(walker, port), subscribed(state_topics(prefix)) as state:
        messages = mqtt_events(prefix)
        config = run_config(tmp_path, port, prefix, hook.port)
        run = start_run(config)
        try:
            wait_for(lambda: messages, 90, "the live person's new")
            time.sleep(1.5)  # the person is in the clip being written for a while longer
            assert first_job_utc(data) is None, "the clip closed before the kill"
            os.killpg(run.pid, signal.SIGKILL)  # the service, its workers and the stream's process
            run.wait(10)
            kill_group(run.pid)
            run = start_run(config)  # the cut-off clip is recovered, queued and analysed
            wait_for(lambda: len(messages) >= 2, 90, "the end after the restart")
            wait_for(lambda: hook.requests, 15, "the notification")
            time.sleep(1.5)  # anything sent twice would come now
        finally:
            stop_run(run)

    new_id = messages[0][1]["after"]["id"]
    assert events_of(messages)[0] == ("new", new_id, None)
    assert [(kind, ident) for kind, ident, _ in events_of(messages)] == [("new", new_id), ("end", new_id)]
    assert messages[1][1]["after"]["false_positive"] is False
    assert len(hook.requests) == 1
    assert_followed(state, prefix, new_id)  # the review item told once over the kill, the count not left at 1
    with Store(data) as store:
        assert [e.id for e in store.events()] == [new_id]


def state_topics(prefix: str) -> list[str]:
    """The door person's count and the review items."""
    return [f"{prefix}/door/person", f"{prefix}/reviews"]


def assert_followed(state: Subscriber, prefix: str, event_id: str) -> None:
    """The door's person count went up with the live person and down at its end; its review item was ``new``
    (in progress) then ``end``, under the event's id."""
    counts = [c for c in state.payloads(f"{prefix}/door/person") if c != b"0"]
    assert counts == [b"1"], state.payloads(f"{prefix}/door/person")
    assert state.payloads(f"{prefix}/door/person")[-1] == b"0"
    reviews = [json.loads(p) for p in state.payloads(f"{prefix}/reviews")]
    assert [(r["type"], r["after"]["id"], r["after"]["data"]["detections"]) for r in reviews] == [
        ("new", event_id, [event_id]),
        ("end", event_id, [event_id]),
    ]
    assert reviews[0]["after"]["end_time"] is None
    assert reviews[1]["after"]["end_time"] is not None


def write_walker(tmp_path: Path) -> Path:
    """A 10 s clip (10 fps, 320x180) in which a person (the scripted detector's red box) is in view 3-6 s."""
    from helpers.media import Walk, write_clip

    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed")
    return write_clip(tmp_path / "walker.mp4", [Walk(3.0, 6.0)], seconds=10.0, fps=10, size=(320, 180)).path
