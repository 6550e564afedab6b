"""Review items: one camera activity with all its objects, as Frigate 0.14+ shows a day for review.

An event is one tracked object; a review item is what a person looks at once: a camera's
activity with every object seen in it. The events of one file (an uploaded clip, a picture) are
one item; live-stream recordings (an event whose ``clip`` is the footage it was found in, or an
event with no footage) are cut into clips of at most ``record.max_clip_s``, so their events are
joined while they overlap or follow each other within `LIVE_GAP_S`.

Items are derived on read from the stored events (`review_items`): nothing but the events'
``reviewed`` marks is stored, so an item is reviewed when all its events are, and marking an
item marks its events (`Store.mark` with `ReviewItem.detections`).

Example:
    >>> items = review_items(store.events(since=day), reviewed=reviewed_ids)  # doctest: +SKIP
    >>> [(i.camera, i.severity, i.data.objects) for i in items]  # doctest: +SKIP
    [('street', 'alert', ('bicycle', 'person'))]
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from camsift.events import Event

__all__ = [
    "DEFAULT_ALERT_LABELS",
    "LIVE_GAP_S",
    "ReviewData",
    "ReviewItem",
    "Severity",
    "is_live",
    "review_items",
]

Severity = Literal["alert", "detection"]
"""How much an item asks for attention: ``alert`` when it holds an object of an alert label."""

DEFAULT_ALERT_LABELS: tuple[str, ...] = ("person", "car")
"""Labels that make an item an alert (Frigate's ``review.alerts.labels`` default)."""

LIVE_GAP_S = 30.0
"""Seconds without any object after which a live stream's activity is a new item (Frigate ends a
detection segment after 30 s without activity)."""


@dataclass(frozen=True)
class ReviewData:
    """What a review item holds, in Frigate's ``data`` shape.

    Attributes:
        detections: Ids of its events, oldest first.
        objects: Distinct labels of its events, sorted.
        sub_labels: Distinct known names of its events (faces), sorted; ``"unknown"`` is left out.
        zones: Distinct zones its objects entered, sorted.
    """

    detections: tuple[str, ...]
    objects: tuple[str, ...]
    sub_labels: tuple[str, ...]
    zones: tuple[str, ...]


@dataclass(frozen=True)
class ReviewItem:
    """One camera activity to review.

    Attributes:
        id: Stable identifier: the id of its first event (oldest, then smallest id), so an item
            that grows as a live stream records keeps its id.
        camera: Camera name.
        start_time: First sighting of any of its objects, Unix seconds (UTC).
        end_time: Last sighting of any of its objects, Unix seconds (UTC).
        severity: ``alert`` when one of its labels is an alert label, else ``detection``.
        data: Its events, labels, names and zones.
        reviewed: Every one of its events is marked reviewed.
        events: Its events, oldest first (not part of the JSON).
        cover: The event that shows the item best: of an alert label if any, then the surest
            (`Event.top_score`), then the first (not part of the JSON).
    """

    id: str
    camera: str
    start_time: float
    end_time: float
    severity: Severity
    data: ReviewData
    reviewed: bool
    events: tuple[Event, ...] = field(repr=False, compare=False)
    cover: Event = field(repr=False, compare=False)

    @property
    def detections(self) -> list[str]:
        """Ids of its events (to mark them reviewed together)."""
        return list(self.data.detections)

    @property
    def has_clip(self) -> bool:
        """One of its events has a video to play (`Event.video`)."""
        return any(e.video is not None for e in self.events)

    def to_dict(self) -> dict[str, Any]:
        """The item as Frigate's ``/api/review`` lists it: ``id``, ``camera``, ``start_time`` and ``end_time``
        (Unix seconds), ``has_been_reviewed``, ``severity``, ``thumb_path`` (``None``: no picture), and
        ``data`` with ``detections``, ``objects``, ``sub_labels``, ``zones`` and ``audio`` (always empty)."""
        snapshot = self.cover.snapshot
        return {
            "id": self.id,
            "camera": self.camera,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "has_been_reviewed": self.reviewed,
            "severity": self.severity,
            "thumb_path": None if snapshot is None else str(snapshot),
            "data": {
                "detections": list(self.data.detections),
                "objects": list(self.data.objects),
                "sub_labels": list(self.data.sub_labels),
                "zones": list(self.data.zones),
                "audio": [],
            },
        }


def _score(event: Event) -> float:
    return event.confidence if event.top_score is None else event.top_score


def is_live(event: Event) -> bool:
    """A live-stream event: found in its own recording, or in no file at all."""
    return event.source is None or (event.clip is not None and event.clip == event.source)


def review_items(
    events: Iterable[Event],
    *,
    alert_labels: Collection[str] = DEFAULT_ALERT_LABELS,
    reviewed: Collection[str] = (),
    gap_s: float = LIVE_GAP_S,
) -> list[ReviewItem]:
    """Group events into review items, newest first.

    Events of one camera are one item when they come from the same file, or, for live streams
    (`is_live`), when one starts at most ``gap_s`` after the activity so far ended. Events of
    different cameras are never together.

    Args:
        events: Stored events in any order (typically one day's, from `Store.events`).
        alert_labels: Labels that make an item an ``alert``.
        reviewed: Ids of the events marked reviewed.
        gap_s: Seconds without objects that end a live item.

    Returns:
        The items, by ``start_time`` descending (then id).

    Raises:
        ValueError: ``gap_s`` is negative.
    """
    if gap_s < 0:
        raise ValueError(f"gap_s must be >= 0 seconds, got {gap_s}")
    files: dict[tuple[str, Path], list[Event]] = {}
    live: dict[str, list[Event]] = {}
    for event in events:
        if is_live(event):
            live.setdefault(event.camera, []).append(event)
        else:
            assert event.source is not None
            files.setdefault((event.camera, event.source), []).append(event)
    groups = list(files.values())
    for camera_events in live.values():
        groups.extend(_activities(camera_events, gap_s))
    alerts, done = frozenset(alert_labels), frozenset(reviewed)
    items = [_item(group, alerts, done) for group in groups]
    return sorted(items, key=lambda i: (-i.start_time, i.id))


def _activities(events: list[Event], gap_s: float) -> list[list[Event]]:
    """One camera's live events cut where nothing was seen for more than ``gap_s``."""
    found: list[list[Event]] = []
    end = float("-inf")
    for event in sorted(events, key=lambda e: (e.start_utc, e.id)):
        start = event.start_utc.timestamp()
        if not found or start - end > gap_s:
            found.append([])
        found[-1].append(event)
        end = max(end, event.end_utc.timestamp())
    return found


def _item(events: list[Event], alerts: frozenset[str], reviewed: frozenset[str]) -> ReviewItem:
    ordered = tuple(sorted(events, key=lambda e: (e.start_utc, e.id)))
    labels = {e.label for e in ordered}
    ids = tuple(e.id for e in ordered)
    data = ReviewData(
        detections=ids,
        objects=tuple(sorted(labels)),
        sub_labels=tuple(sorted({e.sub_label for e in ordered if e.sub_label and e.sub_label != "unknown"})),
        zones=tuple(sorted({z for e in ordered for z in e.zones})),
    )
    # The first of the best: ``ordered`` is oldest first, and max() keeps the first of equal keys.
    cover = max(ordered, key=lambda e: (e.label in alerts, _score(e))) if len(ordered) > 1 else ordered[0]
    return ReviewItem(
        id=ids[0],
        camera=ordered[0].camera,
        start_time=ordered[0].start_utc.timestamp(),
        end_time=max(e.end_utc for e in ordered).timestamp(),
        severity="alert" if labels & alerts else "detection",
        data=data,
        reviewed=reviewed.issuperset(ids),
        events=ordered,
        cover=cover,
    )
