"""The service's side of events in progress on live streams: tell them at once, then match them to the clip's.

A stream's process records each object its pipeline confirms (`camsift.store.live`). The service's main loop
reads the new ones every `POLL_S` and tells the listeners (`announce`: kind ``start``, so MQTT publishes
Frigate's ``new`` and the notifier queues the owner's message), then marks them announced: a kill in between
tells them again at the next start, and the outbox keys (``event:<id>:new`` on MQTT, ``event:<id>`` per
notification channel) keep that to one message each.

When the stream's clip is analysed, `match_clip` gives each of the clip's events that is an object told in
progress (same camera and label, overlapping time: `LiveEvent.overlap_s`) the in-progress event's id, so the
stored event, its ``end`` and any later ``update`` carry the id of the ``new``; the notification queued at the
start is not queued again (same key). An in-progress object the full analysis did not find is *dropped*: it
ends as Frigate's ``end`` with ``false_positive`` set, and nothing is stored (Frigate, too, keeps no false
positive); the owner's notification about it was already sent.

The frame an object was confirmed in (its snapshot while in progress, written by the stream beside the stored
events' snapshots) is referred to by no event once the clip's event has its own: retention removes it as an
orphan picture after ``retention.orphan_age_s``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from camsift.alarms import Alarms
from camsift.config import Settings
from camsift.errors import disk_full
from camsift.events import Event, FileRecord
from camsift.listeners import EventChange
from camsift.logs import get_logger
from camsift.store import Store
from camsift.store.live import LiveEvent, LiveEvents

__all__ = ["ORPHAN_AFTER_S", "POLL_S", "ClipMatch", "announce", "drop", "end_orphans", "look", "match_clip"]

log = get_logger("camsift.live_events")

POLL_S = 0.2
"""Seconds between two looks of the service for objects confirmed on live streams (the most it adds to the time
from a confirmation to its MQTT ``new`` and notification)."""


ORPHAN_AFTER_S = 60.0
"""Seconds beyond ``record.max_clip_s + record.post_roll_s`` after its confirmation an object told in progress
may wait for its clip before `end_orphans` looks at it (also the seconds after a start it waits, while the
streams queue the clips a kill cut off)."""


def look(
    store: Store, alarms: Alarms, settings: Settings, publish: Callable[[EventChange], None], *, orphans: bool = False
) -> None:
    """The service's look at the live objects: tell the new ones (`announce`) and, with ``orphans``, end those no
    clip will show (`end_orphans`). A busy database is logged and tried again at the next look.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the data disk is full (the service's disk-full state handles it).
    """
    try:
        announce(store, alarms, publish)
        if orphans:
            end_orphans(store, settings, publish, store.clock())
    except SQLAlchemyError as err:
        if disk_full(err):
            raise
        log.warning("cannot read the objects confirmed on live streams", reason=type(err).__name__)


def announce(store: Store, alarms: Alarms, publish: Callable[[EventChange], None]) -> int:
    """Tell the listeners of each object confirmed on a live stream and not yet told (kind ``start``, the alarm
    decided now), then mark it announced; returns how many.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database could not be read or written.
    """
    waiting = store.live.unannounced()
    for live in waiting:
        event = live.event()
        alarm = alarms.decide([event])[event.id]
        publish(EventChange("start", None, event, alarm, "stream"))
        store.live.announced(live.id, alarm)
    return len(waiting)


@dataclass(frozen=True)
class ClipMatch:
    """What the events of an analysed live clip are, next to the objects told in progress.

    Attributes:
        events: The clip's events, those that are an object told in progress under its id.
        started: The objects told in progress that the clip's events are, by id.
        dropped: The objects told in progress in the clip's time that the analysis did not find.
    """

    events: list[Event]
    started: dict[str, LiveEvent]
    dropped: list[LiveEvent]


def match_clip(live: LiveEvents, record: FileRecord, events: list[Event]) -> ClipMatch:
    """Match a live clip's events to the objects told in progress in its time, and record the matches.

    Each pair of the same label is taken by the most shared time first (`LiveEvent.overlap_s`, at least 0);
    an event and an object are in at most one pair. An object matched by an earlier analysis of the same clip
    (a restart) is matched again, so its event keeps its id. An object left unmatched is dropped only if it was
    confirmed within the clip's time: one confirmed later waits for the next clip (a clip split at
    ``record.max_clip_s``).

    Args:
        live: `Store.live`.
        record: The clip as analysed (its camera, path, ``start_utc`` and ``duration_s``).
        events: Its events.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database could not be read or written.
    """
    if record.start_utc is None:
        return ClipMatch(events, {}, [])
    end = record.start_utc + timedelta(seconds=record.duration_s)
    candidates = live.candidates(record.camera, record.start_utc, end, record.path)
    pairs = sorted(
        ((c.overlap_s(e), i, c) for i, e in enumerate(events) for c in candidates if c.label == e.label),
        key=lambda pair: -pair[0],
    )
    taken = {i: c for i, e in enumerate(events) for c in candidates if c.id == e.id}  # matched before: kept
    for shared_s, i, c in pairs:
        if shared_s >= 0 and i not in taken and c not in taken.values():
            taken[i] = c
    matched = [e.replace(id=taken[i].id) if i in taken else e for i, e in enumerate(events)]
    started = {c.id: c for c in taken.values()}
    live.matched(list(started), Path(record.path))
    # an object confirmed after the clip's end is in the next clip (the clip was split or cut off), not disproved
    dropped = [c for c in candidates if c.state == "open" and c.id not in started and c.seen_utc <= end]
    return ClipMatch(matched, started, dropped)


def drop(
    live: LiveEvents,
    match: ClipMatch,
    record: FileRecord | None,
    origin: str,
    publish: Callable[[EventChange], None],
) -> None:
    """End the objects told in progress that the analysis of their clip did not find (``end``, nothing stored):
    with ``false_positive`` when the clip was analysed, without when it could not be (``record.status`` is
    ``error``, or no clip: ``None``; the object was not disproved). Told first, then marked, so a kill in between
    tells them again.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database could not be written.
    """
    disproved = record is not None and record.status == "ok"
    for started in match.dropped:
        event = started.event()
        publish(EventChange("end", event, event, bool(started.alarm), origin, false_positive=disproved))
        live.dropped(started.id)
        log.info("object told in progress ended unseen", event_id=started.id, camera=started.camera, origin=origin)


def end_orphans(store: Store, settings: Settings, publish: Callable[[EventChange], None], now_utc: datetime) -> int:
    """End the objects told in progress that no clip will show (its clip could not be written, or its analysis
    found no time to match it by): ``end`` without ``false_positive`` (not disproved), nothing stored; returns
    how many.

    An object is an orphan once confirmed more than ``record.max_clip_s + record.post_roll_s`` plus
    `ORPHAN_AFTER_S` before ``now_utc`` while no clip of its camera waits in the queue or is in analysis and
    its stream is not recording (`camsift.store.status.ServiceBoard`): its clip, if any, was analysed. Call it
    only `ORPHAN_AFTER_S` after the service started (a stream queues the clips a kill cut off as it starts).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database could not be read or written.
    """
    waiting = store.live.in_progress()
    if not waiting:
        return 0
    queued = {job.camera for state in ("pending", "leased") for job, _, _ in store.jobs.jobs(state)}
    fresh = [
        c for c in store.board.components() if (now_utc - c.updated_utc).total_seconds() <= settings.service.stale_s
    ]
    cameras = {name: getattr(config, "camera", None) or name for name, config in settings.sources.items()}
    recording = {cameras.get(c.name.removeprefix("source:")) for c in fresh if c.state == "recording"}
    orphans = []
    for started in waiting:
        record = settings.for_camera(started.camera).record
        wait_s = record.max_clip_s + record.post_roll_s + ORPHAN_AFTER_S
        busy = started.camera in queued or started.camera in recording
        if not busy and (now_utc - started.seen_utc).total_seconds() > wait_s:
            orphans.append(started)
    drop(store.live, ClipMatch([], {}, orphans), None, "stream", publish)
    return len(orphans)
