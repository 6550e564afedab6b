"""MQTT against the real Mosquitto broker on 127.0.0.1:1883 (``.ci/run`` starts it), and a broker of our own
with a password file and TLS.

Each test uses topic prefixes of its own and clears the retained messages it left behind, because the
shared broker keeps retained messages (and persists them).
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from camsift.config import Settings, load_config
from camsift.events import Event
from camsift.listeners import EventChange, Problem
from camsift.mqtt import DISCOVERY_NODE, MarkedEvent, MqttPublisher, live_motion, queue_update
from camsift.store import Store
from camsift.store.status import Component, MotionState, ServiceBoard
from helpers.cli import CAMSIFT, clean_environ
from helpers.service import free_port, wait_for

BROKER = ("127.0.0.1", 1883)


def _broker_up(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


needs_broker = pytest.mark.skipif(
    not _broker_up(*BROKER), reason="no MQTT broker on 127.0.0.1:1883 (apt-get install mosquitto; .ci/run starts it)"
)


@dataclass(frozen=True)
class Received:
    """One MQTT message as a subscriber got it."""

    topic: str
    payload: bytes
    retain: bool


class Subscriber:
    """A paho client subscribed to some topic filters, keeping every message."""

    def __init__(self, filters: list[str], port: int = BROKER[1], **tls: Any) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
        if tls.get("username"):
            self.client.username_pw_set(tls.pop("username"), tls.pop("password"))
        if tls:
            self.client.tls_set(ca_certs=tls["ca_certs"])

        def on_connect(client: Any, *_: Any) -> None:
            client.subscribe([(f, 1) for f in filters])

        def on_subscribe(*_: Any) -> None:
            self._ready.set()

        def on_message(_client: Any, _userdata: Any, message: Any) -> None:
            with self._lock:
                self.messages.append(Received(message.topic, bytes(message.payload), bool(message.retain)))

        self.client.on_connect, self.client.on_subscribe, self.client.on_message = on_connect, on_subscribe, on_message
        self.client.connect(BROKER[0], port)
        self.client.loop_start()
        assert self._ready.wait(10), "subscription not acknowledged"

    def got(self, topic: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def payloads(self, topic: str) -> list[bytes]:
        return [m.payload for m in self.got(topic)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def subscribed(filters: list[str], **kw: Any) -> Iterator[Subscriber]:
    sub = Subscriber(filters, **kw)
    try:
        yield sub
    finally:
        sub.close()


def clear_retained(prefixes: list[str]) -> None:
    """Publish an empty retained message on every retained topic under ``prefixes`` (deletes them)."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    with subscribed([f"{p}/#" for p in prefixes]) as sub:
        threading.Event().wait(0.3)  # retained messages arrive right after the subscription
        topics = {m.topic for m in sub.messages if m.retain}
    client = paho.Client(CallbackAPIVersion.VERSION2)
    client.connect(*BROKER)
    client.loop_start()
    for topic in topics:
        client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def prefixes() -> Iterator[tuple[str, str]]:
    """``(topic_prefix, discovery_prefix)`` unique to the test; their retained messages are cleared after."""
    tag = uuid.uuid4().hex[:8]
    pair = (f"camsift-test-{tag}", f"ha-test-{tag}")
    yield pair
    if _broker_up(*BROKER):
        clear_retained(list(pair))


T0 = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)


def stored_event(picture: Path, n: int = 1, camera: str = "porch") -> Event:
    return Event(
        f"{camera}-{n}",
        camera,
        "person",
        1.0,
        3.0,
        T0,
        T0 + timedelta(seconds=2),
        0.87,
        (10.0, 20.0, 110.0, 220.0),
        zones=("path",),
        source=Path("/in/porch/clip.mp4"),
        snapshot=picture,
        snapshot_annotated=picture,
    )


def mqtt_settings(prefixes: tuple[str, str], **overrides: Any) -> Settings:
    base = {
        "timezone": "UTC",
        "mqtt": {"enabled": True, "topic_prefix": prefixes[0], "discovery_prefix": prefixes[1], "off_delay_s": 0.5},
        "objects.labels": ["person", "car"],
        "cameras": {"porch": {}},
    }
    return load_config(environ={}, overrides={**base, **overrides})


@needs_broker
def test_events_counts_motion_snapshot_and_discovery(prefixes: tuple[str, str], shared_data: Path) -> None:
    prefix, ha = prefixes
    picture = shared_data / "images" / "skimage_rocket.jpg"
    publisher = MqttPublisher(mqtt_settings(prefixes))
    with subscribed([f"{prefix}/#"]) as sub:
        publisher.start()
        try:
            assert publisher.connected.wait(10)
            e = stored_event(picture)
            publisher.on_event(EventChange("new", None, e, True, "folder"))
            publisher.on_event(EventChange("update", e, e.replace(sub_label="alice"), False, "folder"))
            # OFF on connecting (the state of every known camera), then ON by the event, OFF off_delay_s later
            wait_for(lambda: sub.payloads(f"{prefix}/porch/motion") == [b"OFF", b"ON", b"OFF"], 10, "motion ON, OFF")
        finally:
            publisher.stop()
        wait_for(lambda: sub.payloads(f"{prefix}/available")[-1:] == [b"stopped"], 10, "stopped at stop")

    events = [json.loads(m.payload) for m in sub.got(f"{prefix}/events")]
    assert [m["type"] for m in events] == ["new", "end", "update"]
    new, end, update = events
    assert new["before"] == new["after"]
    assert new["after"]["end_time"] is None
    assert end["after"]["end_time"] == (T0 + timedelta(seconds=2)).timestamp()
    assert {k: end["after"][k] for k in ("id", "camera", "label", "top_score", "box", "entered_zones")} == {
        "id": "porch-1",
        "camera": "porch",
        "label": "person",
        "top_score": 0.87,
        "box": [10, 20, 110, 220],  # Frigate's pixels
        "entered_zones": ["path"],
    }
    after = end["after"]
    assert (after["area"], after["ratio"], after["region"]) == (20000, 0.5, [10, 20, 110, 220])
    assert (after["active"], after["stationary"], after["current_zones"]) == (True, False, [])
    assert new["after"]["current_zones"] == ["path"]
    assert {"frame_time", "snapshot", "motionless_count", "position_changes", "attributes"} <= set(after)
    assert (after["has_snapshot"], after["has_clip"], after["alarm"]) == (True, True, True)
    assert (update["before"]["sub_label"], update["after"]["sub_label"]) == (None, ["alice", None])
    assert update["after"]["camsift_sub_label"] == "alice"
    assert sub.payloads(f"{prefix}/porch/person") == [b"0", b"1", b"0"]  # 0 on connecting, whatever was retained
    assert sub.payloads(f"{prefix}/porch/all") == [b"0", b"1", b"0"]
    assert sub.payloads(f"{prefix}/path/person") == [b"1", b"0"]  # a zone
    assert json.loads(sub.payloads(f"{prefix}/porch/person/event")[0])["id"] == "porch-1"
    assert sub.payloads(f"{prefix}/porch/person/snapshot") == [picture.read_bytes()]
    assert sub.payloads(f"{prefix}/available") == [b"online", b"stopped"]  # Frigate 0.14+: a clean stop

    with subscribed([f"{ha}/#", f"{prefix}/#"]) as late:  # a subscriber that comes later gets what is retained
        wait_for(lambda: len(late.messages) >= 7, 10, "retained messages")
        retained = {m.topic: m.payload for m in late.messages if m.retain}
    assert retained[f"{prefix}/porch/person/snapshot"] == picture.read_bytes()
    assert retained[f"{prefix}/porch/motion"] == b"OFF"
    assert retained[f"{prefix}/available"] == b"stopped"
    configs = {t: json.loads(p) for t, p in retained.items() if t.startswith(ha)}
    assert sorted(configs) == [  # the node id is never the topic prefix
        f"{ha}/binary_sensor/camsift/porch_motion/config",
        f"{ha}/image/camsift/porch_car_snapshot/config",
        f"{ha}/image/camsift/porch_person_snapshot/config",
        f"{ha}/sensor/camsift/porch_car_count/config",
        f"{ha}/sensor/camsift/porch_person_count/config",
    ]
    count = configs[f"{ha}/sensor/camsift/porch_person_count/config"]
    assert count["unique_id"] == "camsift_porch_person_count"
    assert count["state_topic"] == f"{prefix}/porch/person"
    assert count["json_attributes_topic"] == f"{prefix}/porch/person/event"
    assert count["availability_topic"] == f"{prefix}/available"
    assert count["availability_template"] == "{{ 'online' if value == 'online' else 'offline' }}"  # stopped too
    assert count["device"]["identifiers"] == ["camsift_porch"]
    assert count["device"]["sw_version"] == count["origin"]["sw_version"]
    assert count["origin"]["name"] == "camsift"
    image = configs[f"{ha}/image/camsift/porch_person_snapshot/config"]
    assert (image["image_topic"], image["content_type"]) == (f"{prefix}/porch/person/snapshot", "image/jpeg")
    assert configs[f"{ha}/binary_sensor/camsift/porch_motion/config"]["device_class"] == "motion"
    for config in configs.values():  # Home Assistant's documented MQTT discovery keys
        assert set(config) <= HA_KEYS, set(config) - HA_KEYS
        assert set(config["device"]) <= {
            "identifiers",
            "name",
            "manufacturer",
            "model",
            "sw_version",
            "configuration_url",
        }


HA_KEYS = {
    "name",
    "unique_id",
    "state_topic",
    "json_attributes_topic",
    "state_class",
    "unit_of_measurement",
    "device_class",
    "payload_on",
    "payload_off",
    "image_topic",
    "content_type",
    "availability_topic",
    "payload_available",
    "payload_not_available",
    "availability_template",
    "device",
    "origin",
}
"""Keys of Home Assistant's MQTT sensor, binary_sensor and image discovery schemas that camsift uses."""


@needs_broker
def test_a_live_object_is_new_when_started_and_ends_with_its_stored_event_or_as_a_false_positive(
    prefixes: tuple[str, str], shared_data: Path
) -> None:
    prefix = prefixes[0]
    stored = stored_event(shared_data / "images" / "skimage_rocket.jpg")
    started = stored.replace(end_utc=T0 + timedelta(seconds=0.5), snapshot=None, snapshot_annotated=None)
    ghost = started.replace(id="porch-2")
    publisher = MqttPublisher(mqtt_settings(prefixes))
    with subscribed([f"{prefix}/events", f"{prefix}/porch/person/snapshot"]) as sub:
        publisher.start()
        try:
            assert publisher.connected.wait(10)
            publisher.on_event(EventChange("start", None, started, True, "stream"))
            publisher.on_event(EventChange("start", None, ghost, True, "stream"))
            publisher.on_event(EventChange("end", started, stored, True, "stream"))
            publisher.on_event(EventChange("end", ghost, ghost, True, "stream", false_positive=True))
            wait_for(lambda: len(sub.got(f"{prefix}/events")) >= 4, 10, "four events messages")
            wait_for(lambda: sub.got(f"{prefix}/porch/person/snapshot"), 10, "the stored event's snapshot")
        finally:
            publisher.stop()

    told = [json.loads(m.payload) for m in sub.got(f"{prefix}/events")]
    assert [(m["type"], m["after"]["id"], m["after"]["false_positive"]) for m in told] == [
        ("new", "porch-1", False),
        ("new", "porch-2", False),
        ("end", "porch-1", False),
        ("end", "porch-2", True),
    ]
    assert [m["after"]["end_time"] for m in told[:2]] == [None, None]
    assert (told[0]["after"]["has_snapshot"], told[2]["after"]["has_snapshot"]) == (False, True)
    assert told[2]["before"]["end_time"] is None
    assert len(sub.got(f"{prefix}/porch/person/snapshot")) == 1  # the false positive has none


@needs_broker
def test_counts_are_objects_in_view_together_not_events(prefixes: tuple[str, str], shared_data: Path) -> None:
    prefix, _ = prefixes
    picture = shared_data / "images" / "skimage_rocket.jpg"
    publisher = MqttPublisher(mqtt_settings(prefixes, **{"mqtt.off_delay_s": 1.0, "mqtt.discovery": False}))
    first, second = stored_event(picture, 1), stored_event(picture, 2)  # together from T0 to T0 + 2 s
    later = stored_event(picture, 3).replace(start_utc=T0 + timedelta(seconds=10), end_utc=T0 + timedelta(seconds=12))
    parked = stored_event(picture, 4).replace(stationary=True)
    with subscribed([f"{prefix}/#"]) as sub:
        publisher.start()
        try:
            assert publisher.connected.wait(10)
            for e in (first, second, later, parked):
                publisher.on_event(EventChange("new", None, e, False, "folder"))
            wait_for(lambda: sub.payloads(f"{prefix}/porch/person")[-1:] == [b"0"], 10, "counts back to 0")
        finally:
            publisher.stop()
    counts = sub.payloads(f"{prefix}/porch/person")
    assert max(int(c) for c in counts) == 3  # three people together, not four events
    assert max(int(c) for c in sub.payloads(f"{prefix}/porch/person/active")) == 2  # the parked one never moved


def sighting(n: int, start_s: float, end_s: float) -> Event:
    return stored_event(Path("/none.jpg"), n).replace(
        start_utc=T0 + timedelta(seconds=start_s), end_utc=T0 + timedelta(seconds=end_s)
    )


@pytest.mark.parametrize(
    ("spans", "ongoing", "expected"),
    [
        ([(0, 2), (1, 3), (5, 6)], (), 2),
        ([(0, 2), (2, 3)], (), 2),  # touching sightings are together
        ([(0, 1), (5, 6)], (), 1),
        ([(0, 1), (5, 6)], ("porch-0",), 2),  # still in view: its sighting has no end yet
        ([(0, 1), (5, 6), (9, 9.5)], ("porch-0", "porch-1"), 3),
        ([], (), 0),
    ],
)
def test_in_view_together_counts_overlapping_sightings_and_objects_still_in_view(
    spans: list[tuple[float, float]], ongoing: tuple[str, ...], expected: int
) -> None:
    from camsift.mqtt import in_view_together

    events = [sighting(n, start, end) for n, (start, end) in enumerate(spans)]

    assert in_view_together(events, ongoing) == expected


@needs_broker
def test_two_publishers_with_default_client_ids_do_not_disconnect_each_other(prefixes: tuple[str, str]) -> None:
    from camsift.mqtt import default_client_id

    settings = mqtt_settings(prefixes, **{"mqtt.discovery": False})
    assert settings.mqtt.client_id is None
    assert default_client_id().startswith("camsift-")
    one, two = MqttPublisher(settings), MqttPublisher(settings)
    with subscribed([f"{prefixes[0]}/available"]) as sub:
        one.start()
        two.start()
        try:
            assert one.connected.wait(10)
            assert two.connected.wait(10)
            assert one.client_id != two.client_id
            threading.Event().wait(2)
            assert one.connected.is_set()
            assert two.connected.is_set()
        finally:
            one.stop()
            two.stop()
    assert sub.payloads(f"{prefixes[0]}/available").count(b"online") == 2  # once each: nobody was kicked


@needs_broker
def test_discovery_configs_of_cameras_no_longer_configured_are_removed(prefixes: tuple[str, str]) -> None:
    ha = prefixes[1]
    old = MqttPublisher(mqtt_settings(prefixes, cameras={"porch": {}, "shed": {}}))
    old.start()
    assert old.connected.wait(10)
    old.stop()
    new = MqttPublisher(mqtt_settings(prefixes, **{"cameras": {"porch": {}}, "objects.labels": ["person"]}))
    with subscribed([f"{ha}/#"]) as sub:
        new.start()
        try:
            assert new.connected.wait(10)
            shed = f"{ha}/sensor/camsift/shed_person_count/config"
            wait_for(lambda: sub.payloads(shed)[-1:] == [b""], 10, "the shed's config removed")
        finally:
            new.stop()
    removed = {m.topic for m in sub.messages if m.payload == b""}
    assert f"{ha}/sensor/camsift/porch_car_count/config" in removed  # car is no longer a label
    assert f"{ha}/sensor/camsift/porch_person_count/config" not in removed


@needs_broker
def test_scan_notify_publishes_the_events_on_mqtt(
    prefixes: tuple[str, str], camsift_main: Any, tmp_path: Path, footage: Path
) -> None:
    from helpers.media import Walk, write_clip

    prefix, ha = prefixes
    write_clip(footage / "porch" / "walker.mp4", [Walk(0.5, 3.5)])
    doc = {
        "detect": {"detector": "scripted"},
        "timezone": "UTC",
        "mqtt": {"enabled": True, "topic_prefix": prefix, "discovery_prefix": ha},
    }
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(doc))
    with subscribed([f"{prefix}/#"]) as sub:
        result = camsift_main("scan", footage, "-c", config, "--notify")
        wait_for(lambda: len(sub.got(f"{prefix}/reviews")) >= 2, 10, "the scan's events and review item")

    assert result.code == 0, result.stderr
    events = [json.loads(m.payload) for m in sub.got(f"{prefix}/events")]
    assert [(m["type"], m["after"]["camera"], m["after"]["label"]) for m in events] == [
        ("new", "porch", "person"),
        ("end", "porch", "person"),
    ]
    assert events[0]["after"]["origin"] == "scan"
    reviews = [json.loads(m.payload) for m in sub.got(f"{prefix}/reviews")]
    assert [r["type"] for r in reviews] == ["new", "end"]  # frigate-notify's review mode
    item = reviews[1]["after"]
    assert (item["camera"], item["severity"], item["data"]["objects"]) == ("porch", "alert", ["person"])
    assert item["data"]["detections"] == [events[0]["after"]["id"]]
    assert reviews[0]["after"]["end_time"] is None
    assert sub.payloads(f"{prefix}/available") == []  # a scan leaves camsift run's availability alone
    assert sub.payloads(f"{prefix}/porch/person")[-1:] == [b"0"]


@dataclass
class RunningService:
    """The part of the service a companion uses: its open store, and where problems go."""

    store: Store | None = None
    problems: list[Problem] = field(default_factory=list)

    def problem(self, problem: Problem) -> None:
        self.problems.append(problem)


@needs_broker
def test_a_live_cameras_motion_follows_its_stored_motion_state(prefixes: tuple[str, str], tmp_path: Path) -> None:
    prefix = prefixes[0]
    door, yard = f"{prefix}/door/motion", f"{prefix}/yard/motion"
    publisher = MqttPublisher(mqtt_settings(prefixes))
    with Store(tmp_path / "data") as store, subscribed([f"{prefix}/+/motion"]) as sub:
        board = ServiceBoard(store.engine)
        publisher.start(RunningService(store))
        try:
            assert publisher.connected.wait(10)
            board.report("source:door-stream", "stream", "running")
            board.report_motion("door", "door-stream", True)  # as the stream's process does
            wait_for(lambda: sub.payloads(door) == [b"ON"], 10, "door ON from the board")
            board.report_motion("door", "door-stream", False)
            wait_for(lambda: sub.payloads(door) == [b"ON", b"OFF"], 10, "door OFF from the board")
            publisher.on_event(EventChange("new", None, stored_event(tmp_path / "none.jpg", camera="door"), True, "x"))
            threading.Event().wait(1.0)  # an event does not turn a live camera's motion ON (off_delay_s is 0.5)
            assert sub.payloads(door) == [b"ON", b"OFF"]

            board.report_motion("door", "door-stream", True)
            wait_for(lambda: sub.payloads(door)[2:] == [b"ON"], 10, "door ON again")
            board.report("source:door-stream", "stream", "stopped")  # gone without saying OFF
            wait_for(lambda: sub.payloads(door)[3:] == [b"OFF"], 10, "door OFF with its stream stopped")

            board.report("source:yard-stream", "stream", "recording")
            board.report_motion("yard", "yard-stream", True)
            wait_for(lambda: sub.payloads(yard) == [b"ON"], 10, "yard ON")
        finally:
            publisher.stop()
        wait_for(lambda: sub.payloads(yard) == [b"ON", b"OFF"], 10, "yard OFF as camsift stops")

    assert sub.payloads(door) == [b"ON", b"OFF", b"ON", b"OFF"]
    assert sub.payloads(f"{prefix}/porch/motion") == [b"OFF"]  # a camera of the config, on connecting


@needs_broker
def test_events_stored_while_the_broker_was_away_are_published_after_a_kill_and_counts_reset(
    prefixes: tuple[str, str], tmp_path: Path
) -> None:
    """The broker is away, ten events are told, the service is killed; the next start publishes all ten once."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from camsift.mqtt import OUTBOX_CHANNEL
    from camsift.store.outbox import Outbox

    prefix = prefixes[0]
    stale = paho.Client(CallbackAPIVersion.VERSION2)  # what a killed run left retained: 5 people on the porch
    stale.connect(*BROKER)
    stale.loop_start()
    stale.publish(f"{prefix}/porch/person", b"5", qos=1, retain=True).wait_for_publish(5)
    stale.disconnect()
    stale.loop_stop()
    events = [stored_event(tmp_path / "none.jpg", n) for n in range(10)]
    with Store(tmp_path / "data") as store:
        away = MqttPublisher(mqtt_settings(prefixes, **{"mqtt.port": free_port()}))  # nobody listens there
        away.start(RunningService(store))
        for e in events:
            away.on_event(EventChange("new", None, e, True, "ftp"))
        away._stop.set()  # killed: no goodbye, nothing flushed
        assert away._client is not None
        away._client.loop_stop()
        assert len(Outbox(store.engine).messages(OUTBOX_CHANNEL, "pending")) == 20

        back = MqttPublisher(mqtt_settings(prefixes))
        with subscribed([f"{prefix}/#"]) as sub:
            back.start(RunningService(store))
            try:
                assert back.connected.wait(10)
                for e in events[:3]:  # the restarted service tells the events stored before the kill again
                    back.on_event(EventChange("new", None, e, True, "ftp"))
                wait_for(lambda: len(sub.got(f"{prefix}/events")) >= 20, 20, "the twenty queued messages")
                threading.Event().wait(1.0)  # nothing more may follow
            finally:
                back.stop()
        assert Outbox(store.engine).messages(OUTBOX_CHANNEL, "pending") == []

    published = [json.loads(m.payload) for m in sub.got(f"{prefix}/events")]
    assert [(m["type"], m["after"]["id"]) for m in published] == [
        (kind, e.id) for e in events for kind in ("new", "end")
    ]
    counts = sub.payloads(f"{prefix}/porch/person")
    assert counts[:2] == [b"5", b"0"]  # the retained 5, then 0 as the new run connects
    assert counts[-1] == b"0"


@needs_broker
def test_updates_queued_by_another_process_are_published_by_the_service(
    prefixes: tuple[str, str], tmp_path: Path
) -> None:
    """The web app apart from ``camsift run`` (``camsift serve``) writes a sub-label, a false positive and a pin:
    it queues the updates in the shared store's outbox and the service's publisher sends them, once each."""
    prefix = prefixes[0]
    settings = mqtt_settings(prefixes)
    e = stored_event(tmp_path / "none.jpg")
    plain = MarkedEvent(e, false_positive=False, retain=False)
    named = MarkedEvent(e.replace(sub_label="david", sub_label_score=0.91), false_positive=False, retain=False)
    with Store(tmp_path / "data") as store, subscribed([f"{prefix}/events"]) as sub:
        publisher = MqttPublisher(settings)
        publisher.start(RunningService(store))
        try:
            assert publisher.connected.wait(10)
            with Store(tmp_path / "data") as web:  # another process's store: no MQTT client of its own
                assert queue_update(web, settings, plain, named, origin="api")
                assert queue_update(web, settings, named, MarkedEvent(named.event, True, True), origin="api")
                off = mqtt_settings(prefixes, **{"mqtt.enabled": False})
                assert not queue_update(web, off, plain, named, origin="api")  # MQTT off: nothing queued
            wait_for(lambda: len(sub.got(f"{prefix}/events")) >= 2, 10, "the two updates")
            threading.Event().wait(1.0)  # nothing more may follow
        finally:
            publisher.stop()

    first, second = (json.loads(p) for p in sub.payloads(f"{prefix}/events"))
    assert (first["type"], first["before"]["sub_label"], first["after"]["sub_label"]) == (
        "update",
        None,
        ["david", 0.91],
    )
    assert first["after"]["origin"] == "api"
    assert (first["after"]["end_time"], first["after"]["id"]) == ((T0 + timedelta(seconds=2)).timestamp(), "porch-1")
    assert [(m["false_positive"], m["retain_indefinitely"]) for m in (second["before"], second["after"])] == [
        (False, False),
        (True, True),
    ]
    assert len(sub.payloads(f"{prefix}/events")) == 2


NOW = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)


def part(state: str, age_s: float, name: str = "source:door-stream") -> Component:
    return Component(name, "stream", state, "", 1, None, NOW - timedelta(seconds=age_s), None, None)


@pytest.mark.parametrize(
    ("on", "parts", "expected"),
    [
        (True, [part("running", 1)], True),
        (True, [part("recording", 10.9)], True),
        (False, [part("running", 1)], False),
        (True, [part("running", 11.5)], False),  # stale: the stream was killed before saying OFF
        (True, [part("stopped", 1)], False),
        (True, [part("error", 1)], False),  # dropped
        (True, [part("connecting", 1)], False),
        (True, [part("running", 1, "source:other")], False),  # another stream's row
        (True, [], False),
    ],
)
def test_live_motion_is_on_only_while_the_stream_that_said_so_is_reading(
    on: bool, parts: list[Component], expected: bool
) -> None:
    states = [MotionState("door", "door-stream", on, NOW)]

    assert live_motion(states, parts, NOW, stale_s=11.0) == {"door": expected}


@needs_broker
@pytest.mark.slow
def test_camsift_run_says_stopped_when_stopped_and_the_last_will_offline_when_killed(
    prefixes: tuple[str, str], tmp_path: Path
) -> None:
    prefix, ha = prefixes
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = tmp_path / "camsift.yaml"
    doc = {
        "data_dir": str(tmp_path / "data"),
        "detect": {"detector": "scripted"},
        "service": {"workers": 1},
        "sources": {"inbox": {"type": "folder", "path": str(inbox), "camera": "yard"}},
        "mqtt": {"enabled": True, "topic_prefix": prefix, "discovery_prefix": ha, "keepalive_s": 60},
    }
    config.write_text(yaml.safe_dump(doc))

    with subscribed([f"{prefix}/available", f"{ha}/#"]) as sub:
        run = start_run(config)
        try:
            wait_for(lambda: sub.payloads(f"{prefix}/available") == [b"online"], 60, "camsift run to say online")
            run.send_signal(signal.SIGTERM)  # a clean stop: Frigate 0.14+ says "stopped"
            assert run.wait(30) == 0
            wait_for(lambda: sub.payloads(f"{prefix}/available") == [b"online", b"stopped"], 10, "stopped")
            sub.messages.clear()
            run = start_run(config)
            wait_for(lambda: sub.payloads(f"{prefix}/available") == [b"online"], 60, "camsift run to say online")
            wait_for(lambda: len(sub.messages) >= 4, 10, "discovery of camera yard")
            run.send_signal(signal.SIGKILL)  # no goodbye: the broker publishes the last will
            run.wait(10)
            wait_for(lambda: sub.payloads(f"{prefix}/available") == [b"online", b"offline"], 10, "the last will")
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
            kill_group(run.pid)
    assert f"{ha}/binary_sensor/{DISCOVERY_NODE}/yard_motion/config" in {m.topic for m in sub.messages}


def start_run(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``camsift run -c config`` in its own process group, in the config's folder, output discarded."""
    return subprocess.Popen(
        [str(CAMSIFT), "run", "-c", str(config)],
        cwd=config.parent,
        env=env or clean_environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_run(run: subprocess.Popen[bytes]) -> None:
    """Stop a `start_run` with SIGTERM (killed after 20 s) and what is left of its process group."""
    run.send_signal(signal.SIGTERM)
    try:
        run.wait(20)
    except subprocess.TimeoutExpired:
        run.kill()
        run.wait()
    kill_group(run.pid)


def kill_group(pid: int) -> None:
    """Kill what is left of a killed run's process group (its forkserver, resource tracker)."""
    import contextlib
    import os

    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


# --- a broker with a password and TLS ------------------------------------------------------------------------------

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@contextmanager
def private_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A Mosquitto of our own on a free loopback port: TLS only, user ``cam`` with password ``s3cret``.

    Yields ``(port, ca certificate)``.
    """
    port = free_port()
    ca, cert, key = broker_cert(tmp_path)
    passwords = tmp_path / "passwords"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), "cam", "s3cret"], check=True)
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"user root\nlistener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
        f"certfile {cert}\nkeyfile {key}\npersistence false\nlog_dest none\n"
    )
    broker = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _broker_up("127.0.0.1", port), 10, "the private broker")
        yield port, ca
    finally:
        broker.terminate()
        broker.wait(10)


def broker_cert(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a certificate it issued for 127.0.0.1 (trustme); returns ``(ca, cert, key)`` PEM files."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    files = folder / "ca.pem", folder / "broker.pem", folder / "broker.key"
    for blob, path in zip((ca.cert_pem, issued.cert_chain_pems[0], issued.private_key_pem), files, strict=True):
        blob.write_to_path(str(path))
    return files


def private_settings(mqtt: dict[str, Any]) -> Settings:
    keys = {f"mqtt.{k}": v for k, v in mqtt.items()}
    return mqtt_settings(("camsift", "homeassistant"), **keys, **{"notify.problems.source_down_s": 0.5})


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None, reason="mosquitto is not installed")
def test_tls_with_user_and_password(tmp_path: Path, shared_data: Path) -> None:
    picture = shared_data / "images" / "skimage_rocket.jpg"
    with private_broker(tmp_path) as (port, ca):
        mqtt = {"host": "127.0.0.1", "port": port, "tls": True, "ca_file": str(ca), "username": "cam"}
        wrong = MqttPublisher(private_settings(mqtt))
        heard = RunningService()
        wrong.start(heard)  # no password: refused; camsift goes on and tells the owner
        wait_for(lambda: heard.problems, 10, "the broker reported away")
        assert not wrong.connected.is_set()
        wrong.stop()
        [away] = heard.problems
        assert (away.key, away.resolved) == ("mqtt_down", False)
        assert f"127.0.0.1:{port}" in away.detail

        mqtt["password"] = "s3cret"
        publisher = MqttPublisher(private_settings(mqtt))
        with subscribed(["camsift/#"], port=port, ca_certs=str(ca), username="cam", password="s3cret") as sub:
            publisher.start()
            try:
                assert publisher.connected.wait(10)
                publisher.on_event(EventChange("new", None, stored_event(picture), True, "ftp"))
                wait_for(lambda: sub.payloads("camsift/porch/person/snapshot"), 10, "the snapshot over TLS")
            finally:
                publisher.stop()
    assert sub.payloads("camsift/porch/person/snapshot") == [picture.read_bytes()]
    assert sub.payloads("camsift/available")[0] == b"online"
