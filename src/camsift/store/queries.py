"""Reading events back: the review grid's filters, the owner's marks, and rows made into `Event`s."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from camsift.events import Event
from camsift.media import VIDEO_SUFFIXES
from camsift.store.schema import events_table

__all__ = ["EVENTS_KEPT", "EventMarks", "ReviewFilter", "event_of"]


@dataclass(frozen=True)
class ReviewFilter:
    """Filters of the web app's review grid, beyond camera, label and time (`Store.events`).

    Attributes:
        face: ``"known"`` (a known person's name), ``"unknown"`` (a face not in the library),
            ``"none"`` (no face seen); ``None``: any.
        has_clip: Only events with (``True``) or without (``False``) a video (`Event.video` in SQL: a
            recorded clip, or footage that is a video file).
        reviewed: Only reviewed (``True``) or not yet reviewed (``False``) events.
        pinned: Only pinned (``True``) or unpinned (``False``) events.
        cameras: Only these cameras (empty: any).
        labels: Only these labels (empty: any).
        sub_labels: Only these sub-labels (names, ``"unknown"``), alone or in a comma-separated list of names
            (``"Ann, Bob"`` is found by ``Bob``); ``None`` in it stands for events without one.
        zones: Only events that entered one of these zones (empty: anywhere).
        has_snapshot: Only events with (``True``) or without (``False``) a snapshot.
        min_score: Only events whose top score (`Event.top_score`, else the confidence) is at least this.
        max_score: Only events whose top score is at most this.
    """

    face: Literal["known", "unknown", "none"] | None = None
    has_clip: bool | None = None
    reviewed: bool | None = None
    pinned: bool | None = None
    cameras: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    sub_labels: tuple[str | None, ...] = ()
    zones: tuple[str, ...] = ()
    has_snapshot: bool | None = None
    min_score: float | None = None
    max_score: float | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """SQL conditions on the ``events`` table."""
        t = events_table
        found: list[sa.ColumnElement[bool]] = []
        if self.face == "known":
            found.append(sa.and_(t.c.sub_label.is_not(None), t.c.sub_label != "unknown"))
        elif self.face == "unknown":
            found.append(t.c.sub_label == "unknown")
        elif self.face == "none":
            found.append(t.c.sub_label.is_(None))
        if self.has_clip is not None:
            video = sa.or_(
                t.c.clip.is_not(None), *(sa.func.lower(t.c.source).like(f"%{s}") for s in sorted(VIDEO_SUFFIXES))
            )
            found.append(video if self.has_clip else sa.not_(video))
        for column, wanted in ((t.c.reviewed, self.reviewed), (t.c.pinned, self.pinned)):
            if wanted is not None:
                found.append(column.is_(sa.true()) if wanted else column.is_(sa.false()))
        for column, values in ((t.c.camera, self.cameras), (t.c.label, self.labels)):
            if values:
                found.append(column.in_(values))
        if self.sub_labels:
            names = [v for v in self.sub_labels if v is not None]
            listed = sa.literal(", ") + t.c.sub_label + sa.literal(",")  # Double Take writes "Ann, Bob"
            either = [t.c.sub_label.in_(names)] if names else []
            either += [listed.like(f"%, {_like(name)},%", escape="\\") for name in names]
            if None in self.sub_labels:
                either.append(t.c.sub_label.is_(None))
            found.append(sa.or_(*either))
        if self.zones:
            padded = sa.literal(",") + t.c.zones + sa.literal(",")
            found.append(sa.or_(*(padded.like(f"%,{_like(z)},%", escape="\\") for z in self.zones)))
        if self.has_snapshot is not None:
            found.append(t.c.snapshot.is_not(None) if self.has_snapshot else t.c.snapshot.is_(None))
        score = sa.func.coalesce(t.c.top_score, t.c.confidence)
        if self.min_score is not None:
            found.append(score >= self.min_score)
        if self.max_score is not None:
            found.append(score <= self.max_score)
        return found


def _like(text: str) -> str:
    """``text`` as a literal in a SQL LIKE pattern (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class EventMarks:
    """What the owner said about a stored event in the web app.

    Attributes:
        reviewed: Looked at.
        pinned: Kept forever: retention never deletes it.
    """

    reviewed: bool
    pinned: bool


EVENTS_KEPT = 8192
"""Events kept made from their rows (`event_of`): the review page reads a busy day of 2,000 again at each
load, and a row read again unchanged gives the same frozen `Event`."""


@functools.lru_cache(maxsize=EVENTS_KEPT)
def event_of(data_dir: Path, keys: tuple[str, ...], row: tuple[Any, ...]) -> Event:
    """The `Event` of an ``events`` row (``keys``: its column names), pictures and clip under ``data_dir``."""
    v = dict(zip(keys, row, strict=True))

    def absolute(name: str | None) -> Path | None:
        return None if name is None else data_dir / name

    return Event(
        id=v["id"],
        camera=v["camera"],
        label=v["label"],
        sub_label=v["sub_label"],
        start_utc=v["start_utc"],
        end_utc=v["end_utc"],
        start_s=v["start_s"],
        end_s=v["end_s"],
        confidence=v["confidence"],
        box_xyxy=(v["x1"], v["y1"], v["x2"], v["y2"]),
        zones=tuple(z for z in v["zones"].split(",") if z) if v["zones"] else (),
        hits=v["hits"],
        source=Path(v["source"]) if v["source"] else None,
        snapshot=absolute(v["snapshot"]),
        snapshot_annotated=absolute(v["snapshot_annotated"]),
        clip=absolute(v["clip"]),
        sub_label_score=v["sub_label_score"],
        top_score=v["top_score"],
        stationary=v["stationary"],
    )
