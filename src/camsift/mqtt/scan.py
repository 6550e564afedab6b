"""``camsift scan --notify``'s MQTT: a one-off publisher for a scan's new events."""

from __future__ import annotations

from collections.abc import Iterable

from camsift.config import Settings
from camsift.listeners import EventChange
from camsift.mqtt.publisher import MqttPublisher

__all__ = ["publish_scan"]


def publish_scan(settings: Settings, changes: Iterable[EventChange], connect_s: float = 10.0) -> int:
    """Publish a scan's new events (``camsift scan --notify``) as ``camsift run`` would, then disconnect.

    It does not touch ``<prefix>/available`` (a ``camsift run`` on the same prefix keeps it) and uses its own
    client id. Review items go to ``<prefix>/reviews``. Counts go back to 0 when it is done.

    Args:
        settings: The configuration (``mqtt`` section).
        changes: The scan's new events.
        connect_s: Seconds to wait for the broker.

    Returns:
        How many events were published.

    Raises:
        ConfigError: paho-mqtt is not installed.
        SourceError: the broker could not be reached within ``connect_s``.
    """
    from camsift.errors import SourceError
    from camsift.store import Store

    publisher = MqttPublisher(settings, availability=False)
    publisher.start()
    store = Store(settings.data_dir, settings.database)
    publisher.attach(store)  # for the review items
    try:
        if not publisher.connected.wait(connect_s):
            c = settings.mqtt
            raise SourceError(f"mqtt: cannot reach the broker {c.host}:{c.port} within {connect_s:.0f} s")
        done = 0
        for change in changes:
            publisher.on_event(change)
            done += 1
        return done
    finally:
        publisher.stop()
        store.close()
