"""The ``<prefix>/events`` messages in Frigate's shapes, and updates queued by other processes (the web API).

Every ``events`` and ``reviews`` message goes through the durable outbox (`camsift.store.outbox`, channel
`OUTBOX_CHANNEL`) under a key per message, so a kill never loses one and a message told again is queued once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from camsift.config import Settings
from camsift.events import Event
from camsift.frigate import tracked_object
from camsift.listeners import EventChange
from camsift.store.outbox import Message

if TYPE_CHECKING:
    from camsift.store import Store

__all__ = ["OUTBOX_CHANNEL", "MarkedEvent", "event_payload", "outbox_message", "queue_update", "update_key"]

OUTBOX_CHANNEL = "@mqtt"
"""Channel of ``events`` messages in the notification outbox (`camsift.store.outbox`); a notification channel's
name cannot start with ``@``, so no notifier ever takes them."""


def event_payload(e: Event, change: EventChange, ended: bool) -> dict[str, Any]:
    """An event as Frigate's ``frigate/events`` ``before``/``after`` objects carry it, plus camsift's own keys.

    `camsift.frigate.tracked_object` (Frigate's keys, ``sub_label`` as ``[name, score]``; camsift's
    `Event.to_dict`, its sub-label string as ``camsift_sub_label``), with ``end_utc`` and ``end_time`` null
    until ``ended``, Frigate's ``false_positive`` (an object told in progress that its clip did not show), and
    camsift's ``alarm`` and ``origin``.
    """
    extra = {"alarm": change.alarm, "origin": change.origin}
    return tracked_object(e, ended=ended, false_positive=change.false_positive, extra=extra)


def update_key(e: Event) -> str:
    """Outbox key of one ``update`` of ``e``: ``event:<id>:update:<ns>``, unique per change (nanoseconds)."""
    return f"event:{e.id}:update:{time.time_ns()}"


def outbox_message(topic: str, key: str, message: dict[str, Any]) -> Message:
    """The outbox `Message` (channel `OUTBOX_CHANNEL`) of one ``<prefix>/events`` or ``<prefix>/reviews``
    message: ``title`` is the topic, ``body`` the JSON that `MqttPublisher.deliver` publishes."""
    return Message(key, "mqtt", topic, json.dumps(message))


@dataclass(frozen=True)
class MarkedEvent:
    """What the owner said about an event, as Frigate's tracked objects carry it.

    Attributes:
        event: The event as stored.
        false_positive: Marked as a false positive on its camera.
        retain: Pinned (Frigate's ``retain_indefinitely``).
    """

    event: Event
    false_positive: bool
    retain: bool


def queue_update(store: Store, settings: Settings, before: MarkedEvent, after: MarkedEvent, origin: str) -> bool:
    """Queue an ``update`` on ``<prefix>/events`` for a change made outside the service (the web API: a
    sub-label written back by Double Take, a false positive, a pin) in ``store``'s outbox.

    The outbox is the seam between processes: the web app may run inside ``camsift run`` or apart from it
    (``camsift serve``), and either way the ``camsift run`` that has MQTT publishes the message from the shared
    store (`MqttPublisher.deliver`, within half a second; later, in order, if it is not running). ``before`` and
    ``after`` are Frigate's tracked objects (`camsift.frigate.tracked_object`, ended) with ``false_positive``
    and camsift's ``retain_indefinitely`` and ``origin``.

    Args:
        store: The event store (its outbox).
        settings: The configuration (``mqtt.enabled``, ``mqtt.topic_prefix``).
        before: The event and its marks before the change.
        after: The same after it.
        origin: Who changed it (``api``).

    Returns:
        Whether a message was queued (``False`` with MQTT off).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the outbox could not be written.
    """
    if not settings.mqtt.enabled:
        return False

    def told(m: MarkedEvent) -> dict[str, Any]:
        extra = {"alarm": False, "origin": origin, "retain_indefinitely": m.retain}
        return tracked_object(m.event, ended=True, false_positive=m.false_positive, extra=extra)

    message = {"type": "update", "before": told(before), "after": told(after)}
    return store.outbox.put(
        OUTBOX_CHANNEL, outbox_message(f"{settings.mqtt.topic_prefix}/events", update_key(after.event), message)
    )
