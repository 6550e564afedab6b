"""Frigate's shapes of camsift's events: the version string, an event as ``/api/events`` lists it, a tracked
object as ``<prefix>/events`` carries it in ``before``/``after``, and a review item (`camsift.frigate`).

Boxes: Frigate's API gives ``data.box`` and ``data.region`` relative to the
frame as ``[x, y, width, height]`` (0..1); its MQTT gives ``box`` and
``region`` in pixels as ``[x1, y1, x2, y2]``, with ``area`` in square pixels
and ``ratio`` width/height. camsift has one box per event (in the snapshot's
pixels) and no detection region, so ``region`` is the box.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camsift import __version__

if TYPE_CHECKING:
    from camsift.config import Settings
    from camsift.events import Event
    from camsift.review import ReviewItem
    from camsift.store import Store

__all__ = [
    "FRIGATE_VERSION",
    "REVIEW_WINDOW_S",
    "alert_labels",
    "api_event",
    "frame_size",
    "item_of",
    "relative_box",
    "review_payload",
    "sub_label_pair",
    "tracked_object",
    "version",
]

FRIGATE_VERSION = "0.16.0"
"""The Frigate release whose API and MQTT camsift is a superset of (0.14 and 0.15 clients work too)."""


def version() -> str:
    """What ``GET /api/version`` answers: Frigate's version with camsift's as a pre-release tag.

    ``0.16.0-camsift.<camsift version>``: Frigate's clients compare the part before ``-`` (the Home
    Assistant integration refuses 0.13 and older; frigate-notify reads the minor number).
    """
    return f"{FRIGATE_VERSION}-camsift.{__version__}"


@lru_cache(maxsize=4096)
def _size(path: str, mtime_ns: int) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        return None


def frame_size(path: Path | None) -> tuple[int, int] | None:
    """Width and height in pixels of a snapshot (read from the file's header, cached); ``None`` when there is
    no readable picture."""
    if path is None:
        return None
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    return _size(str(path), mtime)


def relative_box(box_xyxy: tuple[float, float, float, float], size: tuple[int, int] | None) -> list[float] | None:
    """A pixel box ``(x1, y1, x2, y2)`` as Frigate's API gives it: ``[x, y, width, height]`` relative to a frame
    of ``size`` (width, height), each 0..1 and rounded to 4 places; ``None`` without a size."""
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    width, height = size
    x1, y1, x2, y2 = box_xyxy
    values = (x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height)
    return [round(min(1.0, max(0.0, v)), 4) for v in values]


def sub_label_pair(e: Event) -> list[Any] | None:
    """Frigate's MQTT ``sub_label``: ``[name, score]`` (score 0..1, ``None`` when unknown), or ``None``."""
    if e.sub_label is None:
        return None
    return [e.sub_label, None if e.sub_label_score is None else round(e.sub_label_score, 4)]


def _score(e: Event) -> float:
    return round(e.confidence if e.top_score is None else e.top_score, 4)


def api_event(
    e: Event,
    *,
    retain: bool = False,
    false_positive: bool = False,
    thumbnail: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An event as Frigate's ``GET /api/events`` lists it, with camsift's keys (`Event.to_dict`) as extras.

    Args:
        e: The stored event.
        retain: Pinned (Frigate's ``retain_indefinitely``).
        false_positive: Marked as a false positive.
        thumbnail: Base64 JPEG for ``include_thumbnails=1`` (Frigate's key is left out otherwise).
        extra: More keys to add (camsift's marks).

    Returns:
        Frigate's keys ``id``, ``camera``, ``label``, ``sub_label`` (a string, as Frigate's API has it),
        ``start_time``/``end_time`` (Unix seconds), ``zones``, ``has_clip``, ``has_snapshot``,
        ``retain_indefinitely``, ``false_positive``, ``plus_id``, ``model_hash``, ``model_type``,
        ``detector_type``, ``data`` (``box`` and ``region`` relative ``[x, y, w, h]``, ``score``,
        ``top_score``, ``attributes``, ``type``), and camsift's keys.
    """
    size = frame_size(e.snapshot)
    box = relative_box(e.box_xyxy, size)
    out = {
        **e.to_dict(),
        "zones": list(e.zones),
        "retain_indefinitely": retain,
        "false_positive": false_positive,
        "plus_id": None,
        "model_hash": None,
        "model_type": None,
        "detector_type": None,
        "data": {
            "box": box,
            "region": box,
            "score": round(e.confidence, 4),
            "top_score": _score(e),
            "attributes": [],
            "type": "object",
            "sub_label_score": e.sub_label_score,
        },
        **(extra or {}),
    }
    if thumbnail is not None:
        out["thumbnail"] = thumbnail
    return out


def tracked_object(
    e: Event,
    *,
    ended: bool,
    active: bool = True,
    false_positive: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A tracked object as Frigate's ``<prefix>/events`` ``before``/``after`` carry it, plus camsift's keys.

    Args:
        e: The event.
        ended: The object is gone: ``end_time`` set, ``current_zones`` empty.
        active: Frigate's ``active`` (moving, not stationary).
        false_positive: Frigate's ``false_positive``.
        extra: More keys (camsift's ``alarm``, ``origin``).

    Returns:
        Frigate's keys (``frame_time``, ``snapshot{}``, ``box``/``region`` in pixels ``[x1, y1, x2, y2]``,
        ``area`` in square pixels, ``ratio``, ``score``, ``top_score``, ``active``, ``stationary``,
        ``motionless_count``, ``position_changes``, ``current_zones``, ``entered_zones``, ``attributes``,
        ``current_attributes``, ``has_snapshot``, ``has_clip``, ``sub_label`` as ``[name, score]``), and
        camsift's (`Event.to_dict`, ``end_utc`` null until ended).
    """
    x1, y1, x2, y2 = e.box_xyxy
    width, height = max(0.0, x2 - x1), max(0.0, y2 - y1)
    box = [round(v) for v in e.box_xyxy]
    area = round(width * height)
    ratio = round(width / height, 4) if height else 0.0
    end = e.end_utc.timestamp()
    base = e.to_dict()
    return {
        **base,
        "end_utc": base["end_utc"] if ended else None,
        "end_time": end if ended else None,
        "frame_time": end,
        "sub_label": sub_label_pair(e),
        "camsift_sub_label": e.sub_label,
        "score": round(e.confidence, 4),
        "top_score": _score(e),
        "false_positive": false_positive,
        "box": box,
        "region": box,
        "area": area,
        "ratio": ratio,
        "active": active and not e.stationary,
        "stationary": e.stationary,
        "motionless_count": 0,
        "position_changes": 0 if e.stationary else 1,
        "current_zones": [] if ended else list(e.zones),
        "entered_zones": list(e.zones),
        "attributes": {},
        "current_attributes": [],
        "thumbnail": None,
        "snapshot": {
            "frame_time": e.start_utc.timestamp(),
            "box": box,
            "area": area,
            "region": box,
            "score": round(e.confidence, 4),
            "attributes": [],
        }
        if e.snapshot is not None
        else None,
        **(extra or {}),
    }


REVIEW_WINDOW_S = 3600.0
"""Seconds around a live-stream event searched for the rest of its review item (`item_of`)."""


def alert_labels(settings: Settings) -> tuple[str, ...]:
    """Labels that make a review item an alert: ``web.alert_labels`` where the config has it, else
    `camsift.review.DEFAULT_ALERT_LABELS` (Frigate's person and car)."""
    from camsift.review import DEFAULT_ALERT_LABELS

    labels = getattr(settings.web, "alert_labels", None)
    return tuple(labels) if labels else DEFAULT_ALERT_LABELS


def review_payload(item: ReviewItem) -> dict[str, Any]:
    """A review item as Frigate's ``/api/review`` and ``<prefix>/reviews`` carry it (`ReviewItem.to_dict`),
    with ``thumb_path`` the API address of its cover event's thumbnail rather than a file path."""
    doc = item.to_dict()
    doc["thumb_path"] = f"/api/events/{item.cover.id}/thumbnail.webp" if item.cover.snapshot else None
    return doc


def item_of(
    store: Store, event: Event, alert_labels: Collection[str], in_progress: Collection[Event] = ()
) -> ReviewItem | None:
    """The review item (`camsift.review.review_items`) an event belongs to, from the stored events: those of
    its file, or for a live stream those of its camera within `REVIEW_WINDOW_S` and ``in_progress`` (objects
    told in progress on live streams, not stored yet: `camsift.store.live.LiveEvent.event`); ``None`` when the
    event is neither stored nor in progress."""
    from datetime import timedelta

    from camsift.review import review_items

    window = timedelta(seconds=REVIEW_WINDOW_S)
    if event.source is not None and event.clip != event.source:
        near = store.events(camera=event.camera, source=event.source)
    else:
        near = store.events(camera=event.camera, since=event.start_utc - window, until=event.end_utc + window)
    stored = {e.id for e in near}
    near = near + [e for e in in_progress if e.id not in stored]
    reviewed = [i for i, m in store.marks(sorted(stored)).items() if m.reviewed]
    return next(
        (i for i in review_items(near, alert_labels=alert_labels, reviewed=reviewed) if event.id in i.detections),
        None,
    )
