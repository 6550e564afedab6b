"""MQTT in Frigate's topic layout, with Home Assistant discovery (paho-mqtt).

Topics (``<prefix>`` is ``mqtt.topic_prefix``, default ``camsift``)::

    <prefix>/available                   "online" / "offline" (retained; "offline" is also the last will)
    <prefix>/events                      JSON {"type": "new"|"update"|"end", "before": {...}, "after": {...}}
    <prefix>/<camera>/<label>            objects of that label seen in the last off_delay_s seconds (a number)
    <prefix>/<camera>/<label>/snapshot   JPEG bytes of the newest event's annotated snapshot (retained, QoS 0)
    <prefix>/<camera>/motion             "ON" / "OFF" (retained): the motion gate of a live stream, see below

Home Assistant discovery (``mqtt.discovery``), retained, per camera: a count
sensor per label, a motion binary sensor, and an MQTT camera per label showing
the snapshot; all on one device per camera and unavailable when camsift is
offline.

Motion follows Frigate's ``<camera>/motion``. A camera with a live stream
(a ``stream`` source, a Blink live view) follows its motion gate: the
stream's process writes ON at the first frame in which the gate sees motion
and OFF after ``motion.mqtt_off_delay_s`` (30 s) of stream time without any
(`camsift.sources.stream.MotionReporter`) to the database
(`ServiceBoard.report_motion`); this publisher reads that every half second
and publishes changes. Motion is also OFF while the stream's own status row
is not ``running``/``recording`` or older than ``service.stale_s``, so a
stream that stops, drops or is killed never leaves it stuck ON
(`live_motion`). A camera without a live stream (files from folders, FTP,
Blink clips) only has its events: its motion is ON when an event is stored
and OFF ``mqtt.off_delay_s`` after the last one. Each known camera's motion
is published on every connection (OFF after a restart), and OFF for the
cameras still ON when camsift stops.

Events reach camsift's store only once their footage is complete (a file
analysed, a live stream's clip closed), so the Frigate event types map as
follows: a new stored event is published as ``new`` (``end_time`` null) and
at once as ``end`` (``end_time`` set); a stored event that changes later (a
file analysed again, a face named) is published as ``update``.

Example:
    >>> mqtt = MqttPublisher(settings)  # doctest: +SKIP
    >>> Service(settings, listeners=[mqtt], companions=[mqtt]).run(stop)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from camsift.config import MqttConfig, Settings
from camsift.errors import ConfigError
from camsift.events import Event
from camsift.listeners import EventChange, Problem
from camsift.logs import get_logger
from camsift.store.outbox import Message, Outbox
from camsift.store.status import Component, MotionState, ServiceBoard

if TYPE_CHECKING:
    import paho.mqtt.client as paho

    from camsift.service import Service
    from camsift.store import Store

__all__ = ["OUTBOX_CHANNEL", "MqttPublisher", "event_payload", "live_motion"]

log = get_logger("camsift.mqtt")

OUTBOX_CHANNEL = "@mqtt"
"""Channel of ``events`` messages in the notification outbox (`camsift.store.outbox`); a notification channel's
name cannot start with ``@``, so no notifier ever takes them."""

_ACK_WAIT_S = 5.0
"""Seconds to wait for the broker to acknowledge an outbox message before trying it again later."""

_TOPIC_UNSAFE = re.compile(r"[+#/\s]+")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _topic_part(name: str) -> str:
    return _TOPIC_UNSAFE.sub("_", name) or "_"


def _object_id(*parts: str) -> str:
    return _ID_UNSAFE.sub("_", "_".join(parts))


_STREAMING = frozenset({"running", "recording"})
"""States of a stream's own status row in which its frames reach the motion gate (`camsift.sources.stream`)."""


def live_motion(
    states: Iterable[MotionState], parts: Iterable[Component], now_utc: datetime, stale_s: float
) -> dict[str, bool]:
    """Motion of each camera with a live stream, from what the streams wrote to the status board.

    A camera's motion is ON while its stream's last `MotionState` says ON *and* that stream's own row
    (``source:<name>``) says it is reading (``running``/``recording``) and was written at most ``stale_s``
    seconds before ``now_utc``: a stream that stopped, dropped, or was killed before it could say OFF never
    leaves motion stuck ON.

    Args:
        states: `ServiceBoard.motion`.
        parts: `ServiceBoard.components`.
        now_utc: The time to judge staleness at.
        stale_s: Age in seconds from which a row is stale (``service.stale_s``).

    Returns:
        ON or OFF by camera, for the cameras whose stream has reported motion (the others follow events).
    """
    alive = {p.name for p in parts if p.state in _STREAMING and (now_utc - p.updated_utc).total_seconds() <= stale_s}
    return {m.camera: m.on and f"source:{m.source}" in alive for m in states}


def event_payload(e: Event, change: EventChange, ended: bool) -> dict[str, Any]:
    """An event as Frigate's ``frigate/events`` ``before``/``after`` objects carry it, plus camsift's own keys.

    `Event.to_dict` (camsift's keys: ``id``, ``camera``, ``label``, ``sub_label``, ISO 8601 times, paths …;
    and Frigate's ``top_score``, ``start_time``, ``end_time``, ``box``, ``has_snapshot``, ``has_clip``), with
    ``end_utc`` and ``end_time`` null until ``ended``, and Frigate's ``score``, ``entered_zones``,
    ``current_zones``, ``false_positive``, and camsift's ``alarm`` and ``origin``.
    """
    return {
        **e.to_dict(),
        "end_utc": e.end_utc.isoformat() if ended else None,
        "score": e.confidence,
        "end_time": e.end_utc.timestamp() if ended else None,
        "entered_zones": list(e.zones),
        "current_zones": [] if ended else list(e.zones),
        "false_positive": False,
        "alarm": change.alarm,
        "origin": change.origin,
    }


class MqttPublisher:
    """Publishes events, counts, snapshots and motion; an `EventListener` and a `Companion` of the service.

    The paho client runs its own network thread and reconnects by itself
    (1 s doubling up to 30 s); messages published while the broker is away are
    kept in memory (QoS 1) and sent on reconnection. A second thread, every
    half second, reads live streams' motion from the status board and lets
    counts (and the motion of cameras without a live stream) fall back
    ``off_delay_s`` after the last event (see the module docstring).

    Args:
        settings: The configuration (``mqtt`` section; cameras and labels for discovery; ``service.stale_s``).

    Attributes:
        connected: Set while connected to the broker.

    Raises:
        ConfigError: (from `start`) paho-mqtt is not installed. A broker that cannot be reached is not an
            error: it is logged, tried again, and after ``notify.problems.source_down_s`` reported as a
            `Problem` (``mqtt_down``).
    """

    name = "mqtt"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config: MqttConfig = settings.mqtt
        self.prefix = self.config.topic_prefix
        self.available = f"{self.prefix}/available"
        self._client: paho.Client | None = None
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], dict[str, float]] = {}  # (camera, label) -> event id -> expiry
        self._counts: dict[tuple[str, str], int] = {}
        self._event_motion: dict[str, float] = {}  # camera -> when its event-driven motion goes OFF (monotonic)
        self._live: dict[str, bool] = {}  # camera with a live stream -> its motion (`live_motion`)
        self._motion_on: dict[str, bool] = {}  # camera -> motion last published
        self._board: ServiceBoard | None = None
        self._outbox: Outbox | None = None
        self._store: Store | None = None
        self._due = threading.Event()  # outbox messages were queued
        self._outbox_failing = False  # the last outbox read or write failed (logged once)
        self._board_failing = False  # the last read of the board failed (logged once)
        self._announced: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._service: Service | None = None
        self.connected = threading.Event()

    # --- life --------------------------------------------------------------------------------------------------

    def attach(self, store: Store) -> None:
        """Read live streams' motion from ``store``'s status board and queue events in its outbox (`start` does
        it with the service's store)."""
        self._board = ServiceBoard(store.engine)
        self._outbox = Outbox(store.engine)
        self._store = store

    def start(self, service: Service | None = None) -> None:
        """Connect in the background (last will set) and start the fall-back thread; returns at once.

        Without a service (or before its store is open) motion follows events only.
        """
        try:
            import paho.mqtt.client as paho
            from paho.mqtt.enums import CallbackAPIVersion
        except ImportError as err:
            raise ConfigError("mqtt.enabled: MQTT needs paho-mqtt: pip install 'camsift[mqtt]'") from err

        c = self.config
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=c.client_id)
        if c.username is not None:
            client.username_pw_set(c.username, c.password.get_secret_value() if c.password else None)
        if c.tls:
            client.tls_set(
                ca_certs=str(c.ca_file) if c.ca_file else None,
                certfile=str(c.cert_file) if c.cert_file else None,
                keyfile=str(c.key_file) if c.key_file else None,
            )
            client.tls_insecure_set(c.tls_insecure)
        client.will_set(self.available, "offline", qos=1, retain=True)
        client.reconnect_delay_set(1, 30)
        client.max_queued_messages_set(1000)  # while the broker is away: bounded memory
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        self._client = client
        client.connect_async(c.host, c.port, keepalive=c.keepalive_s)
        client.loop_start()
        self._service = service
        if service is not None and service.store is not None:
            self.attach(service.store)
        self._stop.clear()
        self._thread = threading.Thread(target=self._fall_back, name="camsift-mqtt", daemon=True)
        self._thread.start()
        log.info("mqtt starting", host=c.host, port=c.port, tls=c.tls, prefix=self.prefix)

    def stop(self) -> None:
        """Say motion ``OFF`` where it is ON and ``offline`` (retained), disconnect, stop the threads."""
        self._stop.set()
        self._due.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        client = self._client
        if client is None:
            return
        if self.connected.is_set():
            with self._lock:
                on = sorted(camera for camera, was in self._motion_on.items() if was)
                self._motion_on.clear()
            for camera in on:
                self._publish(self._motion_topic(camera), "OFF", retain=True)
            client.publish(self.available, "offline", qos=1, retain=True).wait_for_publish(timeout=3)
        client.disconnect()
        client.loop_stop()
        self._client = None

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt connection refused", host=self.config.host, reason=str(reason))
            return
        log.info("mqtt connected", host=self.config.host, port=self.config.port)
        client.publish(self.available, "online", qos=1, retain=True)
        cameras = self._cameras()
        with self._lock:
            self._announced.clear()
            motion = dict.fromkeys(cameras, False) | self._motion_on
            self._motion_on.update(motion)
        for camera in sorted(cameras):
            self._announce(camera)
        for camera, on in sorted(motion.items()):  # the state now, over what a killed run left retained
            self._publish(self._motion_topic(camera), "ON" if on else "OFF", retain=True)
        for (camera, label), count in self._all_counts(cameras):  # likewise: 0 after a start, not a killed run's 5
            self._publish(f"{self.prefix}/{_topic_part(camera)}/{_topic_part(label)}", str(count), retain=True)
        self.connected.set()
        self._due.set()

    def _all_counts(self, cameras: set[str]) -> list[tuple[tuple[str, str], int]]:
        """The count of every camera and label known (config, store, seen since the start), 0 where none is seen."""
        labels: set[str] = set()
        if self._store is not None:
            try:
                cameras = cameras | set(self._store.cameras())
                labels = set(self._store.labels())
            except SQLAlchemyError as err:
                log.warning("cannot read the store's cameras and labels", reason=type(err).__name__)
        with self._lock:
            counts = dict(self._counts)
        for camera in cameras:
            for label in labels | set(self.settings.for_camera(camera).objects.labels):
                counts.setdefault((camera, label), 0)
        return sorted(counts.items())

    def _on_disconnect(self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("mqtt disconnected; reconnecting", host=self.config.host, reason=str(reason))

    # --- publishing ------------------------------------------------------------------------------------------------

    def _publish(self, topic: str, payload: str | bytes, retain: bool = False, qos: int = 1) -> None:
        if self._client is not None:
            self._client.publish(topic, payload, qos=qos, retain=retain)

    def _motion_topic(self, camera: str) -> str:
        return f"{self.prefix}/{_topic_part(camera)}/motion"

    def on_event(self, change: EventChange) -> None:
        """Publish ``events`` (new + end, or update); on a new event also counts, the snapshot, and motion
        (of a camera without a live stream)."""
        e = change.after
        self._announce(e.camera)
        if change.kind == "update":
            before = change.before or e
            message = {
                "type": "update",
                "before": event_payload(before, change, True),
                "after": event_payload(e, change, True),
            }
            self._publish_event(f"event:{e.id}:update:{time.time_ns()}", message)
            return
        started = event_payload(e, change, False)
        self._publish_event(f"event:{e.id}:new", {"type": "new", "before": started, "after": started})
        ended = event_payload(e, change, True)
        self._publish_event(f"event:{e.id}:end", {"type": "end", "before": started, "after": ended})
        camera, label = _topic_part(e.camera), _topic_part(e.label)
        picture = e.snapshot_annotated or e.snapshot
        if picture is not None and picture.is_file():
            # QoS 0 on purpose (Frigate publishes its snapshots so too): paho keeps a QoS 1 message in memory
            # until the broker acknowledges it and, while the broker is away, queues it among the 1,000 that
            # max_queued_messages allows, so JPEGs of 100 kB and more would crowd out the small state messages.
            # A snapshot lost while away is replaced by the next event's; the state topics stay QoS 1.
            self._publish(f"{self.prefix}/{camera}/{label}/snapshot", picture.read_bytes(), retain=True, qos=0)
        until = time.monotonic() + self.config.off_delay_s
        with self._lock:
            self._seen.setdefault((e.camera, e.label), {})[e.id] = until
            self._event_motion[e.camera] = until
        self._publish_counts()
        self._publish_motion()

    def _publish_event(self, key: str, message: dict[str, Any]) -> None:
        """Queue an ``events`` message in the outbox (`deliver` publishes it), or publish it at once without a
        store or when the outbox cannot be written (a full disk: paho then keeps it in memory)."""
        payload = json.dumps(message)
        if self._outbox is not None:
            try:
                self._outbox.put(OUTBOX_CHANNEL, Message(key, "mqtt", f"{self.prefix}/events", payload))
            except SQLAlchemyError as err:
                log.warning("cannot queue an MQTT event; publishing it directly", key=key, reason=type(err).__name__)
            else:
                self._due.set()
                return
        self._publish(f"{self.prefix}/events", payload)

    def deliver(self) -> int:
        """Publish the outbox's due ``events`` messages while connected, each marked sent once the broker has
        acknowledged it; returns how many were sent. Stops at the first one not acknowledged in time (it is
        tried again later, keeping the order)."""
        outbox, client = self._outbox, self._client
        sent = 0
        try:
            while outbox is not None and client is not None and self.connected.is_set():
                due = outbox.due(OUTBOX_CHANNEL, limit=50)
                if not due:
                    break
                for queued in due:
                    if not outbox.claim(queued.id, lease_s=2 * _ACK_WAIT_S):
                        continue
                    info = client.publish(queued.message.title, queued.message.body, qos=1)
                    with contextlib.suppress(RuntimeError, ValueError):  # the client lost its connection meanwhile
                        info.wait_for_publish(timeout=_ACK_WAIT_S)
                    if not info.is_published():
                        outbox.retry(queued.id, "the broker did not acknowledge it")
                        return sent
                    outbox.sent(queued.id)
                    sent += 1
        except SQLAlchemyError as err:
            if not self._outbox_failing:
                log.warning("cannot read the MQTT outbox; trying again", reason=type(err).__name__)
            self._outbox_failing = True
            return sent
        self._outbox_failing = False
        return sent

    def _publish_counts(self) -> None:
        now = time.monotonic()
        with self._lock:
            changed = []
            for key, seen in self._seen.items():
                for event_id in [i for i, until in seen.items() if until <= now]:
                    del seen[event_id]
                if self._counts.get(key) != len(seen):
                    self._counts[key] = len(seen)
                    changed.append((key, len(seen)))
        for (camera, label), count in changed:
            self._publish(f"{self.prefix}/{_topic_part(camera)}/{_topic_part(label)}", str(count), retain=True)

    def _publish_motion(self) -> None:
        """Publish each camera's motion that differs from what was published last.

        A camera with a live stream follows `live_motion` (its events change nothing); any other camera is
        ON until ``off_delay_s`` after its last event.
        """
        now = time.monotonic()
        with self._lock:
            for camera in [c for c, until in self._event_motion.items() if until <= now]:
                del self._event_motion[camera]
            wanted = dict.fromkeys(self._event_motion, True) | self._live
            changed = sorted(
                (camera, wanted.get(camera, False))
                for camera in wanted.keys() | self._motion_on.keys()
                if wanted.get(camera, False) != self._motion_on.get(camera, False)
            )
            self._motion_on.update(changed)
        for camera, on in changed:
            self._publish(self._motion_topic(camera), "ON" if on else "OFF", retain=True)

    def _read_live_motion(self) -> None:
        """Take live streams' motion from the status board (kept as it was when the database cannot be read)."""
        if self._board is None:
            return
        try:
            live = live_motion(
                self._board.motion(), self._board.components(), datetime.now(UTC), self.settings.service.stale_s
            )
        except SQLAlchemyError as err:  # a busy or unreachable database: try again at the next tick
            if not self._board_failing:
                log.warning("cannot read live motion; trying again", reason=type(err).__name__)
            self._board_failing = True
            return
        self._board_failing = False
        with self._lock:
            self._live = live

    def _fall_back(self) -> None:
        """Every half second (and as soon as events are queued): the outbox is delivered, live motion is read,
        counts and event motion fall back; a broker away for ``problems.source_down_s`` is reported."""
        away_since = time.monotonic()
        told = False
        while not self._stop.is_set():
            if self._due.wait(0.5):
                self._due.clear()
            self.deliver()
            self._read_live_motion()
            self._publish_counts()
            self._publish_motion()
            if self.connected.is_set():
                away_since = time.monotonic()
                if told and self._service is not None:
                    self._service.problem(Problem("mqtt_down", "MQTT broker reachable again", resolved=True))
                told = False
            elif not told and self._service is not None:
                minutes = (time.monotonic() - away_since) / 60
                if minutes * 60 >= self.settings.notify.problems.source_down_s:
                    c = self.config
                    detail = (
                        f"camsift has not been connected to the MQTT broker {c.host}:{c.port} for {minutes:.0f} "
                        "minutes (Home Assistant sees it offline). It keeps trying; check the broker, the address, "
                        "the user name and password, and TLS."
                    )
                    self._service.problem(Problem("mqtt_down", f"MQTT broker away for {minutes:.0f} minutes", detail))
                    told = True

    # --- Home Assistant discovery --------------------------------------------------------------------------------

    def _cameras(self) -> set[str]:
        """Cameras known from the config: ``cameras``, FTP users, stream and folder sources' cameras."""
        names = set(self.settings.cameras)
        for name, source in self.settings.sources.items():
            if source.type == "ftp":
                names |= set(source.users)
            elif source.type == "stream":
                names.add(source.camera or name)
            elif source.type == "folder" and source.camera:
                names.add(source.camera)
        return names

    def _announce(self, camera: str) -> None:
        """Publish ``camera``'s discovery configs once per connection (retained)."""
        if not self.config.discovery:
            return
        with self._lock:
            if camera in self._announced:
                return
            self._announced.add(camera)
        for topic, config in discovery_configs(self.settings, camera):
            self._publish(topic, json.dumps(config), retain=True)


def discovery_configs(settings: Settings, camera: str) -> list[tuple[str, dict[str, Any]]]:
    """Home Assistant MQTT discovery ``(topic, config)`` pairs for one camera.

    Per label in the camera's ``objects.labels``: a count ``sensor`` and a ``camera`` entity showing the
    snapshot; per camera a motion ``binary_sensor``. Topics follow
    ``<discovery_prefix>/<component>/<node>/<object>/config`` (Home Assistant's MQTT discovery docs).
    """
    c = settings.mqtt
    prefix, node = c.topic_prefix, _object_id(c.topic_prefix)
    cam = _topic_part(camera)
    device = {
        "identifiers": [f"{node}_{_object_id(camera)}"],
        "name": f"{camera} (camsift)",
        "manufacturer": "camsift",
        "model": "camera",
    }
    common = {
        "availability_topic": f"{prefix}/available",
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": device,
    }
    configs: list[tuple[str, dict[str, Any]]] = []
    motion_id = _object_id(camera, "motion")
    configs.append(
        (
            f"{c.discovery_prefix}/binary_sensor/{node}/{motion_id}/config",
            {
                "name": "Motion",
                "unique_id": f"{node}_{motion_id}",
                "state_topic": f"{prefix}/{cam}/motion",
                "payload_on": "ON",
                "payload_off": "OFF",
                "device_class": "motion",
                **common,
            },
        )
    )
    for label in settings.for_camera(camera).objects.labels:
        count_id, snap_id = _object_id(camera, label, "count"), _object_id(camera, label, "snapshot")
        configs.append(
            (
                f"{c.discovery_prefix}/sensor/{node}/{count_id}/config",
                {
                    "name": f"{label.capitalize()} count",
                    "unique_id": f"{node}_{count_id}",
                    "state_topic": f"{prefix}/{cam}/{_topic_part(label)}",
                    "state_class": "measurement",
                    "unit_of_measurement": label,
                    **common,
                },
            )
        )
        configs.append(
            (
                f"{c.discovery_prefix}/camera/{node}/{snap_id}/config",
                {
                    "name": f"{label.capitalize()} snapshot",
                    "unique_id": f"{node}_{snap_id}",
                    "topic": f"{prefix}/{cam}/{_topic_part(label)}/snapshot",
                    **common,
                },
            )
        )
    return configs
