"""Events: what a tracked object amounts to, from first to last sighting.

An event is one tracked object of one label in one clip or stream: when it
was first and last seen, how sure the detector was at best, and the frame that
shows it best (for the snapshot). A `FileRecord` is what the scan did with
the file they came from.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from camsift.boxes import box_ios
from camsift.config import EventsConfig, ObjectsConfig
from camsift.detections import Detections
from camsift.media import VIDEO_SUFFIXES, Frame

if TYPE_CHECKING:
    from camsift.faces import FaceSighting

__all__ = [
    "REJOIN_AFTER_S",
    "SCORE_WINDOW",
    "SHOT_GAP_S",
    "STATIONARY_IOU",
    "Confirmed",
    "Event",
    "EventBuilder",
    "FileRecord",
    "Snapshot",
    "computed_score",
]

SHOT_GAP_S = 0.5
"""Seconds between the frames kept per event: neighbouring frames show the same pose, and a
face turned away in one is often turned towards the camera half a second later."""


SCORE_WINDOW = 10
"""Detections of a tracked object whose median is its computed score (Frigate's score history of 10)."""

SCORE_PAD = 3
"""A history shorter than this is padded with zeros before the median (Frigate's rule): one lucky frame
never makes an object, two of three sure looks do."""

SCORE_BINS = 100
"""A track's confidences are counted in this many bins for the median over all its detections."""

STATIONARY_IOU = 0.6
"""A tracked box overlapping its last resting position by at least this IoU has not moved (Frigate's
stationary check uses the same 0.6)."""

MOVING_IOS = 0.1
"""A new object whose first box lies this much (intersection over its area) in a moving region of that
frame appeared with motion."""

REJOIN_AFTER_S = 1.0
"""Seconds a track must have been unseen before a new track of its label may continue it
(`EventBuilder`): shorter gaps are the tracker's own to bridge, and a new object next to one
still in view is a second object."""


@dataclass(frozen=True)
class Snapshot:
    """The frame that shows an event best, and everything detected in it.

    Attributes:
        ts_s: Seconds from the first decoded frame.
        pts: Raw presentation timestamp to re-read the frame (``None`` for images).
        detections: Every tracked detection in that frame (frame pixels).
        index: Row in ``detections`` of the event's own object.
    """

    ts_s: float
    pts: int | None
    detections: Detections = field(repr=False)
    index: int


@dataclass(frozen=True)
class Event:
    """One object seen in footage.

    Attributes:
        id: Stable identifier: the same footage under the same settings gives the same ids.
        camera: Camera name.
        label: What was seen (``"person"``, ``"car"`` …).
        start_s: First sighting, seconds from the first decoded frame.
        end_s: Last sighting, seconds from the first decoded frame.
        start_utc: Wall-clock time of the first sighting (aware, UTC).
        end_utc: Wall-clock time of the last sighting (aware, UTC).
        confidence: Highest detector confidence, 0..1.
        box_xyxy: Bounding box ``(x1, y1, x2, y2)`` in full-resolution pixels in the best frame.
        zones: Names of the zones the object entered.
        hits: Number of frames with a detection of this object.
        sub_label: A refinement such as a known face's name, or ``"unknown"`` for a face seen
            and not recognised; ``None`` when there is none.
        sub_label_score: Confidence of ``sub_label``, 0..1.
        top_score: The highest computed score of the tracked object (`computed_score`, Frigate's
            ``top_score``), 0..1; ``None`` for events stored before it was kept.
        stationary: The object never moved while in view (present from the start of the footage or
            appeared without motion, and its box stayed put: Frigate's ``position_changes == 0``).
        source: The clip or image it was found in.
        snapshot: Clean full-resolution JPEG, once saved.
        snapshot_annotated: The same with boxes, labels, confidence and time drawn, once saved.
        clip: A saved clip of the event (live streams, downloads), if any.
        best: The best frame, while the footage is at hand (not stored).
        shots: The best few frames (``events.best_frames``), best first, while the footage is at hand.
        faces: Faces seen on the event (person events, when face recognition is on).
    """

    id: str
    camera: str
    label: str
    start_s: float
    end_s: float
    start_utc: datetime
    end_utc: datetime
    confidence: float
    box_xyxy: tuple[float, float, float, float]
    zones: tuple[str, ...] = ()
    hits: int = 1
    sub_label: str | None = None
    sub_label_score: float | None = None
    source: Path | None = None
    snapshot: Path | None = None
    snapshot_annotated: Path | None = None
    clip: Path | None = None
    top_score: float | None = None
    stationary: bool = False
    best: Snapshot | None = field(default=None, repr=False, compare=False)
    shots: tuple[Snapshot, ...] = field(default=(), repr=False, compare=False)
    faces: tuple[FaceSighting, ...] = field(default=(), repr=False, compare=False)

    @property
    def duration_s(self) -> float:
        """``end_s - start_s`` in seconds."""
        return self.end_s - self.start_s

    @property
    def video(self) -> Path | None:
        """The event's video: its recorded ``clip``, else the footage it was found in (``source``) when that is
        a video file (`camsift.media.VIDEO_SUFFIXES`); ``None`` for an event in a still picture.

        Judged by name, not on disk (the file may be gone). `camsift.store.ReviewFilter`'s ``has_clip`` is
        the same rule in SQL.
        """
        if self.clip is not None:
            return self.clip
        if self.source is not None and self.source.suffix.lower() in VIDEO_SUFFIXES:
            return self.source
        return None

    def fields(self) -> dict[str, Any]:
        """The event's own values by field name: what is stored and shown, without what is held only while
        the footage is at hand (``best``, ``shots``, ``faces``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.compare}

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready values: the one serialisation behind ``camsift scan --format json``,
        ``camsift events --format json``, the web API's events and MQTT's ``camsift/events``.

        Returns:
            Every key of `fields` (times ISO 8601 UTC, paths as strings or ``None``, ``box_xyxy`` and
            ``zones`` as lists), plus Frigate's names for the same facts: ``top_score`` (``confidence`` for an
            event stored before the computed score was kept),
            ``start_time`` and ``end_time`` (Unix seconds), ``box`` (xyxy pixels), ``has_snapshot`` and
            ``has_clip`` (there is a `video`).
        """
        out = {name: _json_ready(value) for name, value in self.fields().items()}
        return {
            **out,
            "top_score": self.confidence if self.top_score is None else self.top_score,
            "start_time": self.start_utc.timestamp(),
            "end_time": self.end_utc.timestamp(),
            "box": list(self.box_xyxy),
            "has_snapshot": self.snapshot is not None,
            "has_clip": self.video is not None,
        }

    def replace(self, **changes: Any) -> Event:
        """A copy with some fields replaced."""
        return replace(self, **changes)


def _json_ready(value: object) -> object:
    """A field value as JSON has it: a time as ISO 8601, a path as a string, a tuple as a list."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def computed_score(scores: Iterable[float]) -> float:
    """Frigate's computed score of a tracked object: the median of its detection confidences, the history
    padded with zeros to `SCORE_PAD` (Frigate ``TrackedObject.compute_score``).

    Args:
        scores: The object's most recent confidences (at most `SCORE_WINDOW`), each 0..1.
    """
    history = list(scores)
    return float(np.median(history + [0.0] * (SCORE_PAD - len(history))))


@dataclass
class _Track:
    label: str
    first_s: float
    last_s: float
    hits: int = 0
    sure: int = 0
    confidence: float = 0.0
    score: float = -1.0
    top_score: float = 0.0
    history: deque[float] = field(default_factory=lambda: deque(maxlen=SCORE_WINDOW))
    appeared_moving: bool = False
    scores: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(SCORE_BINS + 1, np.int64))
    rest: npt.NDArray[np.float32] | None = None
    position_changes: int = 0
    best: Snapshot | None = None
    zones: set[str] = field(default_factory=set)
    shots: list[tuple[float, Snapshot]] = field(default_factory=list)

    def look(self, confidence: float, box: npt.NDArray[np.float32]) -> None:
        """Add one detection: its confidence to the score history, its box to the position check."""
        self.history.append(confidence)
        self.top_score = max(self.top_score, computed_score(self.history))
        self.scores[round(confidence * SCORE_BINS)] += 1
        if self.rest is None:
            self.rest = box
        elif _iou(self.rest, box) < STATIONARY_IOU:
            self.rest = box
            self.position_changes += 1

    def median_score(self) -> float:
        """The median confidence over every detection of the track (to 1/`SCORE_BINS`)."""
        half = (int(self.scores.sum()) + 1) // 2
        return float(np.searchsorted(np.cumsum(self.scores), half)) / SCORE_BINS

    @property
    def never_moved(self) -> bool:
        """Appeared without motion and stayed where it was: a stationary object."""
        return not self.appeared_moving and self.position_changes == 0

    def keep(self, shot: Snapshot, score: float, count: int) -> None:
        """Keep the ``count`` best-scoring shots at least `SHOT_GAP_S` apart (a better one replaces a near one)."""
        near = [i for i, (_, kept) in enumerate(self.shots) if abs(kept.ts_s - shot.ts_s) < SHOT_GAP_S]
        if any(self.shots[i][0] >= score for i in near):
            return
        shots = [s for i, s in enumerate(self.shots) if i not in near] + [(score, shot)]
        self.shots = sorted(shots, key=lambda s: -s[0])[:count]


@dataclass(frozen=True)
class Confirmed:
    """A tracked object in view that already counts as an event (`EventBuilder.confirmed`).

    Attributes:
        track: Its tracker id (a rejoined track keeps the first one's), unique within one `EventBuilder`.
        label: What it is.
        first_s: First sighting, seconds from the first decoded frame.
        last_s: Last sighting so far, seconds from the first decoded frame.
        confidence: Highest detector confidence so far, 0..1.
        box_xyxy: Its box in its best frame so far, full-resolution pixels.
        zones: Zones it entered so far.
    """

    track: int
    label: str
    first_s: float
    last_s: float
    confidence: float
    box_xyxy: tuple[float, float, float, float]
    zones: tuple[str, ...]


class EventBuilder:
    """Turns tracked detections, frame after frame, into events.

    Args:
        camera: Camera name for the events.
        start_utc: Wall-clock time of the first decoded frame.
        config: ``min_hits`` and ``lost_s``.
        objects: Per-label ``min_confidence`` an object must reach once.
        id_prefix: Prefix of event ids (stable per clip).
        width: Frame width in pixels (for the snapshot choice).
        height: Frame height in pixels.
    """

    def __init__(
        self,
        camera: str,
        start_utc: datetime,
        config: EventsConfig,
        objects: ObjectsConfig,
        id_prefix: str,
        width: int,
        height: int,
    ) -> None:
        self.camera = camera
        self.start_utc = start_utc
        self.config = config
        self.objects = objects
        self.id_prefix = id_prefix
        self._size = np.array([width, height, width, height], np.float32)
        self._tracks: dict[int, _Track] = {}
        self._same: dict[int, int] = {}
        self._count = 0

    def _score(self, confidence: float, box: np.ndarray) -> float:
        """Snapshot quality: confidence, less if the box is cut by the frame edge (as Frigate prefers)."""
        cut = bool(np.any(box[:2] <= 1) or np.any(box[2:] >= self._size[2:] - 1))
        return confidence - (0.25 if cut else 0.0)

    def feed(self, frame: Frame, detections: Detections, moving: npt.NDArray[np.float32] | None = None) -> list[Event]:
        """Add one frame's tracked detections.

        Args:
            frame: The frame they were found in.
            detections: Detections with ``tracker_id`` set, and optionally a
                ``first_s`` column (when a new track was first seen).
            moving: ``(k, 4)`` float32 moving regions of the frame (xyxy pixels, `MotionGate.check`):
                an object first seen outside them appeared without motion (see `Event.stationary`).

        Returns:
            Events whose object has not been seen for ``lost_s`` seconds (ended).
        """
        zones = detections.data.get("zones")
        first = detections.data.get("first_s")
        motion = np.zeros((0, 4), np.float32) if moving is None else moving
        with_motion = box_ios(detections.xyxy, motion).max(axis=1, initial=0) >= MOVING_IOS
        for i, (tid, label, conf, box) in enumerate(
            zip(
                self._rejoin(frame.ts_s, detections),
                detections.label.tolist(),
                detections.confidence.tolist(),
                detections.xyxy,
                strict=True,
            )
        ):
            since = frame.ts_s if first is None else float(first[i])
            if tid not in self._tracks:
                self._tracks[tid] = _Track(label, since, frame.ts_s, appeared_moving=bool(with_motion[i]))
            track = self._tracks[tid]
            track.last_s = frame.ts_s
            track.hits += 1
            track.look(conf, box)
            track.sure += conf >= self.objects.filter_for(label).min_confidence
            track.confidence = max(track.confidence, conf)
            if zones is not None and zones[i]:
                track.zones.update(str(zones[i]).split(","))
            score = self._score(conf, box)
            shot = Snapshot(frame.ts_s, frame.pts, detections, i)
            if score > track.score:
                track.score = score
                track.best = shot
            track.keep(shot, score, self.config.best_frames)
        ended = [t for t, tr in self._tracks.items() if frame.ts_s - tr.last_s > self.config.lost_s]
        return self._close(ended)

    def _rejoin(self, ts_s: float, detections: Detections) -> list[int]:
        """The track of each detection, a new track taken as the continuation of a lost one.

        The tracker starts a new track when an object it lost for a while comes
        back elsewhere (a person crossing a dark patch, hidden behind a pillar,
        missed by the detector for a second or two). A new track of a label is
        the same object as an open track of that label last seen at least
        `REJOIN_AFTER_S` and at most ``lost_s`` ago (older ones are closed), when
        exactly one such track exists: one walk-through is then one event, not
        two with a gap between them.
        """
        ids = detections.tracker_id.tolist()
        current = {self._same.get(t, t) for t in ids}
        for tid, label in zip(ids, detections.label.tolist(), strict=True):
            if tid in self._tracks or tid in self._same:
                continue
            lost = [
                t
                for t, tr in self._tracks.items()
                if tr.label == label and t not in current and ts_s - tr.last_s >= REJOIN_AFTER_S
            ]
            if len(lost) == 1:
                self._same[tid] = lost[0]
                current.add(lost[0])
        return [self._same.get(t, t) for t in ids]

    def confirmed(self) -> list[Confirmed]:
        """The tracks in view that already count as events, by the rule that makes events at their end
        (`_is_object`: ``min_hits``, the score threshold), oldest first. A live stream asks this between frames
        to start recording as soon as an event starts, and tells them at once (`camsift.store.live`)."""
        found = []
        for tid, t in sorted(self._tracks.items(), key=lambda item: item[1].first_s):
            if not self._is_object(t) or t.best is None:
                continue
            zones = tuple(sorted(t.zones))
            found.append(Confirmed(tid, t.label, t.first_s, t.last_s, round(t.confidence, 4), _box_of(t.best), zones))
        return found

    def settled(self, detections: Detections) -> npt.NDArray[np.bool_]:
        """``(n,)`` whether each of a frame's tracked ``detections`` (as given to `feed`, after it) belongs to a
        track that already counts as an event (`confirmed`)."""
        return np.array(
            [
                (t := self._tracks.get(self._same.get(tid, tid))) is not None and self._is_object(t)
                for tid in detections.tracker_id.tolist()
            ],
            bool,
        ).reshape(-1)

    def _is_object(self, track: _Track) -> bool:
        """The track's whole evidence makes it an object: ``min_hits`` sure detections and a computed
        score that reached the label's ``threshold`` (`computed_score`); and for a stationary object (one
        that never moved: balloons in a doorway, a coat on a hook, a raccoon asleep on the porch) the median
        of every look it was given must reach it too, so a look-alike the detector is sure of now and then
        does not become an event over a long stay, while a person who walked in and then stood still is one."""
        need = self.objects.filter_for(track.label).threshold
        if track.sure < self.config.min_hits or track.top_score < need:
            return False
        return not track.never_moved or track.median_score() >= need

    def finish(self) -> list[Event]:
        """Close every open track (end of the clip) and return their events."""
        return self._close(list(self._tracks))

    def _close(self, track_ids: list[int]) -> list[Event]:
        if track_ids:  # a long stream must not keep the tracker ids of every object it ever rejoined
            self._same = {t: same for t, same in self._same.items() if same not in track_ids}
        events = []
        for tid in sorted(track_ids, key=lambda t: self._tracks[t].first_s):
            track = self._tracks.pop(tid)
            if not self._is_object(track) or track.best is None:
                continue
            self._count += 1
            best = track.best
            events.append(
                Event(
                    id=f"{self.id_prefix}-{self._count:03d}",
                    camera=self.camera,
                    label=track.label,
                    start_s=round(track.first_s, 3),
                    end_s=round(track.last_s, 3),
                    start_utc=self.start_utc + timedelta(seconds=track.first_s),
                    end_utc=self.start_utc + timedelta(seconds=track.last_s),
                    confidence=round(track.confidence, 4),
                    box_xyxy=_box_of(best),
                    zones=tuple(sorted(track.zones)),
                    hits=track.hits,
                    top_score=round(track.top_score, 4),
                    stationary=track.never_moved,
                    best=best,
                    shots=tuple(shot for _, shot in track.shots),
                )
            )
        return events


def _box_of(shot: Snapshot) -> tuple[float, float, float, float]:
    """The event's own box in ``shot`` (xyxy pixels, to 0.1)."""
    x1, y1, x2, y2 = (round(float(v), 1) for v in shot.detections.xyxy[shot.index])
    return (x1, y1, x2, y2)


def _iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """IoU of two xyxy boxes."""
    ix = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
    iy = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
    inter = ix * iy
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


FileStatus = Literal["ok", "error"]


@dataclass(frozen=True)
class FileRecord:
    """What is known about one processed file.

    Attributes:
        path: Absolute path of the file.
        size: Bytes.
        mtime: Modification time, Unix seconds.
        sha256: Hex digest of the content.
        camera: Camera the file was attributed to.
        status: ``"ok"`` or ``"error"``.
        error: One-line reason when ``status == "error"``.
        duration_s: Seconds of footage decoded (0 for images).
        start_utc: Wall-clock time of the first frame.
        time_origin: Where ``start_utc`` came from (``metadata``, ``name``, ``epoch``, ``mtime``).
        processed_utc: When camsift processed it.
    """

    path: Path
    size: int
    mtime: float
    sha256: str
    camera: str
    status: FileStatus
    error: str | None
    duration_s: float
    start_utc: datetime | None
    time_origin: str | None
    processed_utc: datetime
