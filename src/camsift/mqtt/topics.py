"""MQTT topic names, client ids, and the figures the state topics carry (motion, counts).

Topic parts and Home Assistant object ids are made safe here (`topic_part`, `object_id`); `live_motion` and
`in_view_together` are the rules behind ``<camera>/motion`` and the count topics (`camsift.mqtt`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime

from camsift.events import Event
from camsift.store.status import Component, MotionState

__all__ = ["default_client_id", "in_view_together", "live_motion", "object_id", "topic_part"]

_TOPIC_UNSAFE = re.compile(r"[+#/\s]+")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def topic_part(name: str) -> str:
    """``name`` as one MQTT topic level: ``+``, ``#``, ``/`` and white space become ``_``."""
    return _TOPIC_UNSAFE.sub("_", name) or "_"


def object_id(*parts: str) -> str:
    """Home Assistant object id of ``parts`` joined by ``_`` (letters, digits, ``_``, ``-`` only)."""
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


def default_client_id() -> str:
    """``camsift-<host name>-<process id>-<4 random hex digits>``: unique per publisher, also for two in one
    process (``camsift run`` and a ``scan --notify`` on one host, or tests). MQTT 3.1.1 brokers must take 23
    characters and Mosquitto, EMQX, HiveMQ take far more."""
    import os
    import secrets
    import socket

    host = _ID_UNSAFE.sub("-", socket.gethostname()) or "host"
    return f"camsift-{host[:40]}-{os.getpid()}-{secrets.token_hex(2)}"


def in_view_together(events: Iterable[Event], ongoing: Collection[str] = ()) -> int:
    """The largest number of ``events`` whose sightings (``start_utc`` .. ``end_utc``) overlap at one instant;
    the sightings of those whose id is in ``ongoing`` (objects told in progress, still in view) have no end."""
    events = list(events)
    edges = sorted(
        [(e.start_utc.timestamp(), 1) for e in events]
        + [(e.end_utc.timestamp(), -1) for e in events if e.id not in ongoing],
        key=lambda edge: (edge[0], -edge[1]),  # touching sightings count as together
    )
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most
