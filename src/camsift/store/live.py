"""Events in progress on live streams: objects confirmed before their clip is closed (the ``live_events`` table).

A stream's process writes a row the moment its pipeline confirms a tracked object (`LiveEvents.open`, with the
pipeline's own event rule, `camsift.events.EventBuilder.confirmed`); the service tells it as Frigate's ``new``
and marks it announced; when the clip is analysed, the clip's event of the same camera and label whose time
overlaps it takes its id (`LiveEvents.matched`), or, when the full analysis found no such object, the row is
dropped (Frigate's ``end`` with ``false_positive``; no stored event is left). States::

    open ──clip analysed, found──> matched      (the stored event has the row's id)
      └───clip analysed, not found──> dropped  (also: no clip will show it, `camsift.live_events.end_orphans`)

A row's id is stable for its camera, stream session and tracker id (`live_id`), so a track written twice (a
retry) is one row, and the id carried by ``new``, ``update`` and ``end`` is one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from camsift.events import Event
from camsift.store.clock import Clock, utc_now
from camsift.store.engine import insert_new
from camsift.store.schema import live_events_table

__all__ = ["MATCH_SLACK_S", "LiveEvent", "LiveEvents", "live_id"]

MATCH_SLACK_S = 1.0
"""Seconds an in-progress event's time may lie outside a clip event's and still be the same object (the live
look and the clip's analysis sample different frames)."""

LiveState = Literal["open", "matched", "dropped"]


def live_id(camera: str, track: str, start_utc: datetime) -> str:
    """Frigate-like event id of a live track: ``<first sighting, Unix seconds>-<6 hex digits>``, the digits from
    the camera and ``track`` (``<session start>/<tracker id>``), so the same track always gets the same id."""
    digest = hashlib.sha256(f"{camera}\0{track}".encode()).hexdigest()[:6]
    return f"{start_utc.timestamp():.6f}-{digest}"


@dataclass(frozen=True)
class LiveEvent:
    """An object confirmed on a live stream, as its stream saw it then.

    Attributes:
        id: Its event id (`live_id`), kept by the stored event it becomes.
        camera: Camera name.
        track: ``<session start, ISO 8601>/<tracker id>``: unique per camera.
        label: What it is.
        start_utc: First sighting (aware, UTC).
        seen_utc: When the pipeline confirmed it (aware, UTC).
        confidence: Highest detector confidence so far, 0..1.
        box_xyxy: Its box when confirmed, full-resolution pixels.
        zones: Zones it entered so far.
        state: ``open``, ``matched`` or ``dropped``.
        announced: Told as ``new``.
        alarm: Whether it raised an alarm (decided when told; ``None`` before).
        source: The clip whose analysis matched it.
        snapshot: The frame it was confirmed in (clean JPEG, `camsift.layout.DataDir.picture`), if written.
    """

    id: str
    camera: str
    track: str
    label: str
    start_utc: datetime
    seen_utc: datetime
    confidence: float
    box_xyxy: tuple[float, float, float, float]
    zones: tuple[str, ...] = ()
    state: LiveState = "open"
    announced: bool = False
    alarm: bool | None = None
    source: Path | None = field(default=None)
    snapshot: Path | None = None

    def event(self) -> Event:
        """The in-progress event as listeners and Frigate's API see it: the frame it was confirmed in as its
        snapshot, no clip yet, last seen when confirmed (``start_s`` 0, ``end_s`` the seconds since the first
        sighting)."""
        seen_s = round((self.seen_utc - self.start_utc).total_seconds(), 3)
        return Event(
            id=self.id,
            camera=self.camera,
            label=self.label,
            start_s=0.0,
            end_s=seen_s,
            start_utc=self.start_utc,
            end_utc=self.seen_utc,
            confidence=self.confidence,
            box_xyxy=self.box_xyxy,
            zones=self.zones,
            top_score=self.confidence,
            snapshot=self.snapshot,
        )

    def overlap_s(self, e: Event) -> float:
        """Seconds of ``e``'s time (first to last sighting) shared with this one's (first sighting to
        confirmation), widened by `MATCH_SLACK_S`; negative when they are further apart."""
        slack = timedelta(seconds=MATCH_SLACK_S)
        start, end = max(self.start_utc, e.start_utc - slack), min(self.seen_utc, e.end_utc + slack)
        return (end - start).total_seconds()


class LiveEvents:
    """The ``live_events`` table.

    Args:
        engine: The event store's engine (`camsift.store.Store.engine`).
        data_dir: The data directory (snapshots are kept relative to it, as `camsift.store.Store` keeps them).
        clock: Now as an aware UTC datetime (`camsift.store.clock`); `prune` measures age by it.
    """

    def __init__(self, engine: Engine, data_dir: Path, clock: Clock = utc_now) -> None:
        self.engine, self.data_dir, self._clock = engine, data_dir, clock

    def open(self, live: LiveEvent) -> bool:
        """Record a newly confirmed object; ``False`` when its camera and track are already recorded.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database refused the write.
        """
        x1, y1, x2, y2 = live.box_xyxy
        row = {
            "id": live.id,
            "camera": live.camera,
            "track": live.track,
            "label": live.label,
            "start_utc": live.start_utc,
            "seen_utc": live.seen_utc,
            "confidence": live.confidence,
            "x1": x1,
            "y1": y1,
            "x2": x2,
            "y2": y2,
            "zones": ",".join(live.zones),
            "state": "open",
            "announced": False,
            "snapshot": live.snapshot.relative_to(self.data_dir).as_posix() if live.snapshot else None,
        }
        return insert_new(self.engine, live_events_table, row)

    def unannounced(self) -> list[LiveEvent]:
        """Open rows not yet told as ``new``, oldest first."""
        t = live_events_table
        return self._select(t.c.state == "open", t.c.announced.is_(sa.false()))

    def get(self, event_id: str) -> LiveEvent | None:
        """The row of ``event_id``, in any state."""
        found = self._select(live_events_table.c.id == event_id)
        return found[0] if found else None

    def in_progress(self, camera: str | None = None) -> list[LiveEvent]:
        """Open rows (the objects whose clip is not analysed yet), newest first; of one camera if given."""
        t = live_events_table
        where = [t.c.state == "open"] + ([t.c.camera == camera] if camera is not None else [])
        return self._select(*where)[::-1]

    def announced(self, event_id: str, alarm: bool) -> None:
        """The row was told as ``new``, with ``alarm``."""
        self._set([event_id], announced=True, alarm=alarm)

    def candidates(self, camera: str, start_utc: datetime, end_utc: datetime, source: Path) -> list[LiveEvent]:
        """Rows a clip of ``camera`` covering ``start_utc`` .. ``end_utc`` may match: open ones whose time (first
        sighting to confirmation) meets the clip's (widened by `MATCH_SLACK_S`), and those an earlier analysis of
        the same clip matched."""
        t = live_events_table
        slack = timedelta(seconds=MATCH_SLACK_S)
        inside = sa.and_(t.c.state == "open", t.c.start_utc <= end_utc + slack, t.c.seen_utc >= start_utc - slack)
        again = sa.and_(t.c.state == "matched", t.c.source == str(source))
        return self._select(t.c.camera == camera, sa.or_(inside, again))

    def matched(self, event_ids: list[str], source: Path) -> None:
        """The analysis of the clip ``source`` found these objects (its events keep their ids)."""
        self._set(event_ids, state="matched", source=str(source))

    def dropped(self, event_id: str) -> None:
        """The analysis of its clip did not find the object: the in-progress event ends, nothing is stored."""
        self._set([event_id], state="dropped")

    def prune(self, keep_s: float) -> int:
        """Forget matched and dropped rows that started more than ``keep_s`` seconds ago; returns how many."""
        t = live_events_table
        before = self._clock() - timedelta(seconds=keep_s)
        with self.engine.begin() as conn:
            return int(conn.execute(t.delete().where(t.c.state != "open", t.c.start_utc < before)).rowcount)

    def _set(self, event_ids: list[str], **values: Any) -> None:
        if not event_ids:
            return
        t = live_events_table
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.id.in_(event_ids)).values(**values))

    def _select(self, *where: sa.ColumnElement[bool]) -> list[LiveEvent]:
        t = live_events_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(*where).order_by(t.c.start_utc, t.c.id)).all()
        return [_live(row._mapping, self.data_dir) for row in rows]


def _live(m: Any, data_dir: Path) -> LiveEvent:
    return LiveEvent(
        id=m["id"],
        camera=m["camera"],
        track=m["track"],
        label=m["label"],
        start_utc=m["start_utc"],
        seen_utc=m["seen_utc"],
        confidence=m["confidence"],
        box_xyxy=(m["x1"], m["y1"], m["x2"], m["y2"]),
        zones=tuple(z for z in m["zones"].split(",") if z),
        state=m["state"],
        announced=bool(m["announced"]),
        alarm=m["alarm"],
        source=Path(m["source"]) if m["source"] else None,
        snapshot=data_dir / m["snapshot"] if m["snapshot"] else None,
    )
