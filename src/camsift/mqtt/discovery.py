"""Home Assistant MQTT discovery: the retained configs of each camera's entities, and removing stale ones."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from camsift.config import Settings
from camsift.logs import get_logger
from camsift.mqtt.topics import object_id
from camsift.mqtt.topics import topic_part as _topic_part

if TYPE_CHECKING:
    import paho.mqtt.client as paho

__all__ = [
    "AVAILABILITY_TEMPLATE",
    "DISCOVERY_NODE",
    "configuration_url",
    "configured_cameras",
    "discovery_configs",
    "sweep_stale",
]

log = get_logger("camsift.mqtt")

DISCOVERY_SWEEP_S = 2.0
"""Seconds spent reading the retained discovery configs after connecting, before stale ones are removed."""


DISCOVERY_NODE = "camsift"
"""Node id of every discovery topic and first part of every ``unique_id``: never the topic prefix, so that
setting ``topic_prefix: frigate`` keeps the entities Home Assistant already has."""


AVAILABILITY_TEMPLATE = "{{ 'online' if value == 'online' else 'offline' }}"
"""Home Assistant's ``availability_template`` of every discovered entity: ``stopped`` (a clean stop) is unavailable
too, like ``offline`` (the last will)."""


def configuration_url(settings: Settings) -> str | None:
    """Where the camera's device page in Home Assistant links to: ``notify.public_url``, else the web app's
    address when it runs inside ``camsift run``; ``None`` without either."""
    if settings.notify.public_url:
        return str(settings.notify.public_url).rstrip("/")
    web = settings.web
    if web.enabled:
        host = "localhost" if web.host in ("0.0.0.0", "::") else web.host  # noqa: S104 (a URL, not a bind)
        return f"http://{host}:{web.port}"
    return None


def discovery_configs(settings: Settings, camera: str) -> list[tuple[str, dict[str, Any]]]:
    """Home Assistant MQTT discovery ``(topic, config)`` pairs for one camera.

    Per label in the camera's ``objects.labels``: a count ``sensor`` whose attributes are the newest event of
    that label (``json_attributes_topic``) and an ``image`` entity showing its snapshot; per camera a motion
    ``binary_sensor``. Topics follow ``<discovery_prefix>/<component>/camsift/<object>/config`` and
    ``unique_id``s are ``camsift_<camera>_…`` whatever ``topic_prefix`` is (`DISCOVERY_NODE`). Each config has
    Home Assistant's ``origin`` (camsift and its version) and a ``device`` per camera with ``sw_version`` and,
    where known, ``configuration_url`` (`configuration_url`).
    """
    from camsift import __version__

    c = settings.mqtt
    prefix, node = c.topic_prefix, DISCOVERY_NODE
    cam = _topic_part(camera)
    device: dict[str, Any] = {
        "identifiers": [f"{node}_{object_id(camera)}"],
        "name": f"{camera} (camsift)",
        "manufacturer": "camsift",
        "model": "camera",
        "sw_version": __version__,
    }
    url = configuration_url(settings)
    if url:
        device["configuration_url"] = url
    common = {
        "availability_topic": f"{prefix}/available",
        "payload_available": "online",
        "payload_not_available": "offline",
        "availability_template": AVAILABILITY_TEMPLATE,
        "device": device,
        "origin": {"name": "camsift", "sw_version": __version__},
    }
    configs: list[tuple[str, dict[str, Any]]] = []
    motion_id = object_id(camera, "motion")
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
        count_id, snap_id = object_id(camera, label, "count"), object_id(camera, label, "snapshot")
        base = f"{prefix}/{cam}/{_topic_part(label)}"
        configs.append(
            (
                f"{c.discovery_prefix}/sensor/{node}/{count_id}/config",
                {
                    "name": f"{label.capitalize()} count",
                    "unique_id": f"{node}_{count_id}",
                    "state_topic": base,
                    "json_attributes_topic": f"{base}/event",
                    "state_class": "measurement",
                    "unit_of_measurement": "objects",
                    **common,
                },
            )
        )
        configs.append(
            (
                f"{c.discovery_prefix}/image/{node}/{snap_id}/config",
                {
                    "name": f"{label.capitalize()} snapshot",
                    "unique_id": f"{node}_{snap_id}",
                    "image_topic": f"{base}/snapshot",
                    "content_type": "image/jpeg",
                    **common,
                },
            )
        )
    return configs


def configured_cameras(settings: Settings) -> set[str]:
    """Cameras known from the config: ``cameras``, FTP users, stream and folder sources' cameras."""
    names = set(settings.cameras)
    for name, source in settings.sources.items():
        if source.type == "ftp":
            names |= set(source.users)
        elif source.type == "stream":
            names.add(source.camera or name)
        elif source.type == "folder" and source.camera:
            names.add(source.camera)
    return names


def sweep_stale(
    client: paho.Client,
    settings: Settings,
    announced: Callable[[], set[str]],
    publish: Callable[[str, bytes], None],
) -> None:
    """Remove (empty retained payload) the discovery configs this prefix left for cameras or labels no longer
    configured, or under an older node id (the topic prefix): read the retained ones for
    `DISCOVERY_SWEEP_S`, then clear those not announced now whose availability topic is this prefix's.

    Args:
        client: The connected paho client.
        settings: The configuration (``mqtt`` section, cameras and labels).
        announced: The cameras whose configs were announced on this connection (read when sweeping).
        publish: Publishes a retained payload on a topic.
    """
    c = settings.mqtt
    available = f"{c.topic_prefix}/available"
    nodes = sorted({DISCOVERY_NODE, object_id(c.topic_prefix)})  # before: the node was the topic prefix
    patterns = [f"{c.discovery_prefix}/+/{node}/+/config" for node in nodes]
    found: dict[str, bytes] = {}

    def collect(_client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        if message.retain and message.payload:
            found[message.topic] = bytes(message.payload)

    for pattern in patterns:
        client.message_callback_add(pattern, collect)
        client.subscribe(pattern, qos=1)

    def sweep() -> None:
        for pattern in patterns:
            client.unsubscribe(pattern)
            client.message_callback_remove(pattern)
        wanted = {t for camera in announced() for t, _ in discovery_configs(settings, camera)}
        for topic, payload in sorted(found.items()):
            try:
                ours = json.loads(payload).get("availability_topic") == available
            except (ValueError, AttributeError):
                ours = False
            if ours and topic not in wanted:
                log.info("mqtt discovery config removed (no longer configured)", topic=topic)
                publish(topic, b"")

    timer = threading.Timer(DISCOVERY_SWEEP_S, sweep)
    timer.daemon = True
    timer.start()
