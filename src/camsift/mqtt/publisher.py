"""`MqttPublisher`: the paho client of ``camsift run``, publishing events, counts, snapshots, motion and stats
in Frigate's layout (`camsift.mqtt`)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from camsift.background import BackgroundLoop
from camsift.config import MqttConfig, Settings
from camsift.errors import ConfigError
from camsift.events import Event
from camsift.frigate import alert_labels, camera_states, frigate_stats, live_cameras
from camsift.frigate import camera_names as frigate_camera_names
from camsift.listeners import EventChange, Problem
from camsift.logs import get_logger
from camsift.mqtt.discovery import configured_cameras, discovery_configs, sweep_stale
from camsift.mqtt.payloads import OUTBOX_CHANNEL, event_payload, outbox_message, update_key
from camsift.mqtt.reviews import ReviewsTold, item_now
from camsift.mqtt.topics import default_client_id, in_view_together, live_motion
from camsift.mqtt.topics import topic_part as _topic_part
from camsift.store.outbox import Outbox
from camsift.store.status import ServiceBoard

if TYPE_CHECKING:
    import paho.mqtt.client as paho

    from camsift.listeners import ServiceContext
    from camsift.store import Store

__all__ = ["MqttPublisher"]

log = get_logger("camsift.mqtt")

_ACK_WAIT_S = 5.0
"""Seconds to wait for the broker to acknowledge an outbox message before trying it again later."""


class MqttPublisher(BackgroundLoop):
    """Publishes events, counts, snapshots and motion; an `EventListener` and a `Companion` of the service.

    The paho client runs its own network thread and reconnects by itself
    (1 s doubling up to 30 s); messages published while the broker is away are
    kept in memory (QoS 1) and sent on reconnection. A second thread, every
    half second, reads live streams' motion from the status board and lets
    counts (and the motion of cameras without a live stream) fall back
    ``off_delay_s`` after the last event (see the module docstring).

    Args:
        settings: The configuration (``mqtt`` section; cameras and labels for discovery; ``service.stale_s``).
        availability: Say ``online``/``offline`` on ``<prefix>/available`` (with the last will) and publish
            discovery and motion state on connecting; off for a one-off publisher (``camsift scan --notify``)
            beside a running ``camsift run``.

    Attributes:
        connected: Set while connected to the broker.

    Raises:
        ConfigError: (from `start`) paho-mqtt is not installed. A broker that cannot be reached is not an
            error: it is logged, tried again, and after ``notify.problems.source_down_s`` reported as a
            `Problem` (``mqtt_down``).
    """

    name = "mqtt"

    def __init__(self, settings: Settings, *, availability: bool = True) -> None:
        super().__init__()
        self.settings = settings
        self.availability = availability
        self.config: MqttConfig = settings.mqtt
        self.prefix = self.config.topic_prefix
        self.available = f"{self.prefix}/available"
        self._client: paho.Client | None = None
        self.client_id: str | None = None
        self._last: paho.MQTTMessageInfo | None = None
        self._lock = threading.Lock()
        self._held: dict[str, tuple[float, Event]] = {}  # event id -> (expiry, event), for the counts (`_hold`)
        self._counts: dict[str, int] = {}  # count topic -> last published
        self._event_motion: dict[str, float] = {}  # camera -> when its event-driven motion goes OFF (monotonic)
        self._live: dict[str, bool] = {}  # camera with a live stream -> its motion (`live_motion`)
        self._motion_on: dict[str, bool] = {}  # camera -> motion last published
        self._board: ServiceBoard | None = None
        self._outbox: Outbox | None = None
        self._store: Store | None = None
        self._due = threading.Event()  # outbox messages were queued
        self._outbox_failing = False  # the last outbox read or write failed (logged once)
        self._reviews = ReviewsTold()
        self._board_failing = False  # the last read of the board failed (logged once)
        self._announced: set[str] = set()
        self._service: ServiceContext | None = None
        self.connected = threading.Event()

    # --- life --------------------------------------------------------------------------------------------------

    def attach(self, store: Store) -> None:
        """Read live streams' motion from ``store``'s status board, review items from its events, and queue events
        in its outbox (`start` does it with the service's store)."""
        self._board = store.board
        self._outbox = store.outbox
        self._store = store

    def start(self, service: ServiceContext | None = None) -> None:
        """Connect in the background (last will set) and start the fall-back thread; returns at once.

        Without a service (or before its store is open) motion follows events only.
        """
        try:
            import paho.mqtt.client as paho
            from paho.mqtt.enums import CallbackAPIVersion
        except ImportError as err:
            raise ConfigError("mqtt.enabled: MQTT needs paho-mqtt: pip install 'camsift[mqtt]'") from err

        c = self.config
        self.client_id = c.client_id or default_client_id()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id)
        if c.username is not None:
            client.username_pw_set(c.username, c.password.get_secret_value() if c.password else None)
        if c.tls:
            client.tls_set(
                ca_certs=str(c.ca_file) if c.ca_file else None,
                certfile=str(c.cert_file) if c.cert_file else None,
                keyfile=str(c.key_file) if c.key_file else None,
            )
            client.tls_insecure_set(c.tls_insecure)
        if self.availability:
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
        self._start_loop("camsift-mqtt", self._fall_back)
        log.info("mqtt starting", host=c.host, port=c.port, tls=c.tls, prefix=self.prefix)

    def stop(self) -> None:
        """Say motion ``OFF`` where it is ON and ``stopped`` (retained; Frigate's clean stop, whereas the last will
        says ``offline``), disconnect, stop the threads."""
        self._stop.set()
        self._due.set()
        self._stop_loop(5)
        client = self._client
        if client is None:
            return
        if self.connected.is_set():
            with self._lock:
                on = sorted(camera for camera, was in self._motion_on.items() if was)
                self._motion_on.clear()
                counted = sorted(topic for topic, count in self._counts.items() if count)
                self._counts.clear()
                self._held.clear()
            for camera in on:
                self._publish(self._motion_topic(camera), "OFF", retain=True)
            for topic in counted:  # nothing is in view once camsift is gone
                self._publish(topic, "0", retain=True)
            if self._last is not None:
                self._last.wait_for_publish(timeout=5)
            if self.availability:
                client.publish(self.available, "stopped", qos=1, retain=True).wait_for_publish(timeout=3)
        client.disconnect()
        client.loop_stop()
        self._client = None

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt connection refused", host=self.config.host, reason=str(reason))
            return
        log.info("mqtt connected", host=self.config.host, port=self.config.port)
        if not self.availability:
            self.connected.set()
            return
        client.publish(self.available, "online", qos=1, retain=True)
        cameras = configured_cameras(self.settings)
        with self._lock:
            self._announced.clear()
            motion = dict.fromkeys(cameras, False) | self._motion_on
            self._motion_on.update(motion)
        for camera in sorted(cameras):
            self._announce(camera)
        if self.config.discovery:
            sweep_stale(client, self.settings, self._announced_cameras, self._publish_retained)
        for camera, on in sorted(motion.items()):  # the state now, over what a killed run left retained
            self._publish(self._motion_topic(camera), "ON" if on else "OFF", retain=True)
        for topic, count in self._all_counts(cameras):  # likewise: 0 after a start, not a killed run's 5
            self._publish(topic, str(count), retain=True)
        live = live_cameras(self.settings)
        for camera in sorted(cameras):  # Frigate's feature states: the HA integration's switches and camera
            for feature, value in camera_states(self.settings, camera, camera in live).items():
                self._publish(f"{self.prefix}/{_topic_part(camera)}/{feature}/state", value, retain=True)
        self.connected.set()
        self._due.set()

    def _all_counts(self, cameras: set[str]) -> list[tuple[str, int]]:
        """Every count topic known (cameras and labels of the config and the store, ``all``, and what is counted
        now) with its count, 0 where nothing is in view."""
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
            for label in labels | set(self.settings.for_camera(camera).objects.labels) | {"all"}:
                counts.setdefault(f"{self.prefix}/{_topic_part(camera)}/{_topic_part(label)}", 0)
        return sorted(counts.items())

    def _on_disconnect(self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("mqtt disconnected; reconnecting", host=self.config.host, reason=str(reason))

    # --- publishing ------------------------------------------------------------------------------------------------

    def _publish(self, topic: str, payload: str | bytes, retain: bool = False, qos: int = 1) -> None:
        if self._client is not None:
            self._last = self._client.publish(topic, payload, qos=qos, retain=retain)

    def _motion_topic(self, camera: str) -> str:
        return f"{self.prefix}/{_topic_part(camera)}/motion"

    def on_event(self, change: EventChange) -> None:
        """Publish ``events``: ``new`` + ``end`` of a new stored event, ``new`` of a live event in progress
        (``start``), ``end`` of a started one (``false_positive`` when its clip did not show it), or ``update``;
        then what follows the objects in view (`_show`)."""
        e = change.after
        self._announce(e.camera)
        if change.kind == "update":
            before = change.before or e
            message = {
                "type": "update",
                "before": event_payload(before, change, True),
                "after": event_payload(e, change, True),
            }
            self._queue("events", update_key(e), message)
            return
        started = event_payload(change.before or e, change, False)
        if change.kind in ("new", "start"):
            self._queue("events", f"event:{e.id}:new", {"type": "new", "before": started, "after": started})
        told = started
        if change.kind != "start":
            told = event_payload(e, change, True)
            self._queue("events", f"event:{e.id}:end", {"type": "end", "before": started, "after": told})
        self._show(change, told)

    def _show(self, change: EventChange, told: dict[str, Any]) -> None:
        """Counts, the ``<camera>/<label>/snapshot`` and ``…/event``, the review item and motion, one path for live
        objects and stored events: an object told in progress (``start``) is counted until its ``end`` (down at
        once, also as a false positive); a stored event not told in progress (``new``) for ``off_delay_s``."""
        e = change.after
        self._hold(change)
        self._publish_counts()
        if not change.false_positive:
            camera, label = _topic_part(e.camera), _topic_part(e.label)
            self._publish(f"{self.prefix}/{camera}/{label}/event", json.dumps(told), retain=True)
            picture = e.snapshot_annotated or e.snapshot  # in progress: the frame it was confirmed in
            if picture is not None and picture.is_file():
                # QoS 0 on purpose (Frigate publishes its snapshots so too): paho keeps a QoS 1 message in memory
                # until the broker acknowledges it and, while the broker is away, queues it among the 1,000 that
                # max_queued_messages allows, so JPEGs of 100 kB and more would crowd out the small state
                # messages. A snapshot lost while away is replaced by the next one; the state topics stay QoS 1.
                self._publish(f"{self.prefix}/{camera}/{label}/snapshot", picture.read_bytes(), retain=True, qos=0)
        self._publish_motion()
        self._publish_review(change)  # reads the store: after the state topics

    def _hold(self, change: EventChange) -> None:
        """Count ``change.after`` as in view: until its ``end`` when it starts (its sighting open-ended,
        `in_view_together`), for ``off_delay_s`` when it is stored without having started; motion of a camera
        without a live stream likewise follows stored events."""
        e = change.after
        with self._lock:
            if change.kind == "start":
                self._held[e.id] = (float("inf"), e)
                return
            if change.kind == "end":  # out of view (it was counted from its start, if told in this run)
                self._held.pop(e.id, None)
            else:
                self._held[e.id] = (time.monotonic() + self.config.off_delay_s, e)
            if not change.false_positive:
                self._event_motion[e.camera] = time.monotonic() + self.config.off_delay_s

    def _publish_review(self, change: EventChange) -> None:
        """Queue the change of the review item of ``change.after`` on ``<prefix>/reviews`` (`ReviewsTold`): ``new``
        with its first object, ``update`` while its objects in view change, ``end`` when none is in view."""
        if self._store is None:
            return
        try:
            item, in_view = item_now(self._store, change, alert_labels(self.settings))
        except SQLAlchemyError as err:
            log.warning("cannot read the review item of an event", event_id=change.after.id, reason=type(err).__name__)
            return
        with self._lock:
            told = self._reviews.messages(item, in_view, change.after.id)
        for key, message in told:
            self._queue("reviews", key, message)

    def _publish_stats(self) -> None:
        """Publish Frigate's stats (`camsift.frigate.frigate_stats`, as ``GET /api/stats`` has them) on
        ``<prefix>/stats``; nothing without the service's store or for a one-off publisher."""
        if self._board is None or self._store is None or not self.availability:
            return
        try:
            running = self._board.service_running(self.settings.service.stale_s)
            cameras = frigate_camera_names(self.settings, self._store.cameras())
            figures = frigate_stats(self.settings, self._board.components(), running, cameras)
        except SQLAlchemyError as err:
            log.warning("cannot read the stats; trying again", reason=type(err).__name__)
            return
        for camera in figures["cameras"].values():
            camera.pop("source_part", None)
        self._publish(f"{self.prefix}/stats", json.dumps(figures))

    def _wanted_counts(self) -> dict[str, int]:
        """Count topic -> objects in view together (`in_view_together`) of the events still held (those held
        until their end still in view)."""
        groups: dict[tuple[str, str], list[Event]] = {}
        ongoing = {e.id for until, e in self._held.values() if until == float("inf")}
        for _, e in self._held.values():
            scopes = [e.camera, *e.zones]
            for scope in scopes:
                for label in (e.label, "all"):
                    groups.setdefault((scope, label), []).append(e)
        counts: dict[str, int] = {}
        for (scope, label), events in groups.items():
            topic = f"{self.prefix}/{_topic_part(scope)}/{_topic_part(label)}"
            counts[topic] = in_view_together(events, ongoing)
            counts[f"{topic}/active"] = in_view_together([e for e in events if not e.stationary], ongoing)
        return counts

    def _queue(self, topic: str, key: str, message: dict[str, Any]) -> None:
        """Queue a ``<prefix>/<topic>`` message (``events``, ``reviews``) in the outbox under ``key`` (`deliver`
        publishes it; a key queued before is not queued again), or publish it at once without a store or when the
        outbox cannot be written (a full disk: paho then keeps it in memory)."""
        queued = outbox_message(f"{self.prefix}/{topic}", key, message)
        if self._outbox is not None:
            try:
                self._outbox.put(OUTBOX_CHANNEL, queued)
            except SQLAlchemyError as err:
                log.warning("cannot queue an MQTT message; publishing it directly", key=key, reason=type(err).__name__)
            else:
                self._due.set()
                return
        self._publish(queued.title, queued.body)

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
            for event_id in [i for i, (until, _) in self._held.items() if until <= now]:
                del self._held[event_id]
            wanted = self._wanted_counts()
            changed = sorted(
                (topic, wanted.get(topic, 0))
                for topic in wanted.keys() | self._counts.keys()
                if wanted.get(topic, 0) != self._counts.get(topic)
            )
            self._counts.update(changed)
        for topic, count in changed:
            self._publish(topic, str(count), retain=True)

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
        next_stats = time.monotonic() + 1.0
        while not self._stop.is_set():
            if self._due.wait(0.5):
                self._due.clear()
            self.deliver()
            self._read_live_motion()
            self._publish_counts()
            self._publish_motion()
            if time.monotonic() >= next_stats and self.connected.is_set():
                self._publish_stats()
                next_stats = time.monotonic() + self.config.stats_interval_s
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

    def _announced_cameras(self) -> set[str]:
        with self._lock:
            return set(self._announced)

    def _publish_retained(self, topic: str, payload: bytes) -> None:
        self._publish(topic, payload, retain=True)
