"""`FaceRecognizer`: names the person events of a clip from their best few frames at full resolution.

For each of an event's kept frames (``events.best_frames``, at least half a
second apart) the recognizer searches the top of the person's box for faces,
keeps the face that belongs to this person, embeds it and asks the library.
`camsift.faces.library.decide` turns the event's faces into one
``sub_label``: a name (only when most of its faces agree on it), ``"unknown"``,
or none when no usable face was seen.

The search is budgeted: the region is resized so that a face of
``faces.min_face_px`` reaches the detector's own minimum (dlib HOG: 80 px),
but never to more than `SEARCH_PX` pixels, so a person close to a 4K camera
costs what a distant one does (~50 ms of HOG).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
import numpy.typing as npt

from camsift.config import FacesConfig, Settings
from camsift.detections import Detections
from camsift.events import Event, Snapshot
from camsift.faces import Face, FaceEngine, FaceSighting, create_engine
from camsift.faces.library import Library, decide

__all__ = ["HEAD_SHARE", "SEARCH_PX", "FaceRecognizer", "FrameReader", "face_recognizer", "faces_settled"]

FrameReader = Callable[[int | None], npt.NDArray[np.uint8]]
"""Reads a frame of the current clip again by its ``pts`` (``None``: the image), ``(H, W, 3)`` uint8 RGB."""

SEARCH_PX = 640 * 480
"""Most pixels the face detector searches per person box and frame."""

HEAD_SHARE = 0.4
"""Share of a person box taller than twice its width (someone standing, head in the top sixth)
searched for the face, from the top; other boxes (close-ups, seated people) are searched whole."""


class FaceRecognizer:
    """Finds and names the face of each person event.

    Args:
        engine: Face engine.
        library: Known faces (of ``engine.model``).
        config: ``faces`` settings (thresholds and sizes).
    """

    def __init__(self, engine: FaceEngine, library: Library, config: FacesConfig) -> None:
        self.engine = engine
        self.library = library
        self.config = config

    def find(self, image: npt.NDArray[np.uint8], detections: Detections, row: int) -> Face | None:
        """The usable face of the person at ``detections[row]`` in a full-resolution frame.

        A face found belongs to the person box that contains most of it and is
        best centred on it (`_owner`), so a neighbour's face inside an
        overlapping box is not taken. Of this person's faces the largest is
        kept; it must be at least ``min_face_px`` wide and ``min_sharpness`` sharp.

        Args:
            image: ``(H, W, 3)`` uint8 RGB frame the detections are in.
            detections: Every detection of that frame (frame pixels).
            row: The person's row.

        Returns:
            The face with its box in frame pixels, or ``None``.
        """
        height, width = image.shape[:2]
        x1, y1, x2, y2 = (float(v) for v in detections.xyxy[row])
        w, h = x2 - x1, y2 - y1
        pad = 0.1 * w
        left, top = max(0, math.floor(x1 - pad)), max(0, math.floor(y1 - pad))
        right = min(width, math.ceil(x2 + pad))
        bottom = min(height, math.ceil(y1 + (HEAD_SHARE * h if h > 2 * w else h) + pad))
        if right - left < 2 or bottom - top < 2:
            return None
        region = image[top:bottom, left:right]
        scale = min(self.engine.min_face_px / self.config.min_face_px, math.sqrt(SEARCH_PX / region[..., 0].size))
        mine = []
        for face in self.engine.faces(region, scale=scale):
            fx1, fy1, fx2, fy2 = face.box_xyxy
            box = (fx1 + left, fy1 + top, fx2 + left, fy2 + top)
            if _owner(detections, box) == row:
                mine.append(Face(box, face.score, face.sharpness, face.embedding))
        if not mine:
            return None
        face = max(mine, key=lambda f: f.size_px)
        usable = face.size_px >= self.config.min_face_px and face.sharpness >= self.config.min_sharpness
        return face if usable else None

    def recognise(self, event: Event, read: FrameReader) -> tuple[Event, list[npt.NDArray[np.uint8]]]:
        """Look for the face of a person event in its kept frames and name it.

        Args:
            event: An event with ``shots`` (other labels and events without shots are returned as they are).
            read: Re-reads a frame of the event's clip at full resolution.

        Returns:
            The event with ``faces``, ``sub_label`` and ``sub_label_score`` set (the
            name is also drawn on its snapshot), and a picture of each face
            (``(h, w, 3)`` uint8 RGB, the face box with 40 % margin), in ``faces`` order.

        Raises:
            MediaError: a frame cannot be read again.
        """
        if event.label != "person" or not event.shots:
            return event, []
        sightings: list[FaceSighting] = []
        crops = []
        for shot in event.shots:
            image = read(shot.pts)
            face = self.find(image, shot.detections, shot.index)
            if face is None:
                continue
            match = self.library.match(face.embedding, self.config.match_distance)
            x1, y1, x2, y2 = (round(v, 1) for v in face.box_xyxy)
            sightings.append(
                FaceSighting(
                    n=len(sightings),
                    ts_s=shot.ts_s,
                    box_xyxy=(x1, y1, x2, y2),
                    score=round(face.score, 3),
                    sharpness=round(face.sharpness, 1),
                    model=self.engine.model,
                    embedding=face.embedding,
                    name=match.name,
                    distance=None if match.distance is None else round(match.distance, 4),
                )
            )
            crops.append(_crop(image, face.box_xyxy))
        sub_label, score = decide([(s.name, s.distance) for s in sightings], self.config.match_distance)
        best = event.best
        if best is not None and sub_label is not None:
            best = _labelled(best, sub_label)
        return event.replace(faces=tuple(sightings), sub_label=sub_label, sub_label_score=score, best=best), crops


def _owner(detections: Detections, face: tuple[float, float, float, float]) -> int | None:
    """Row of the person box a face belongs to: among person boxes holding the face's centre, the one
    with the most of the face inside (share of its area) less its horizontal offset from the box's
    centre (share of the box width) and less its depth below the box's top (share of the box height).
    Two people side by side: the centred one; a detector box that cuts a face in half loses to one that
    holds it whole; a child's face in front of an adult's chest belongs to the child, whose head it is."""
    xyxy = detections.xyxy
    fx1, fy1, fx2, fy2 = face
    cx, cy = (fx1 + fx2) / 2, (fy1 + fy2) / 2
    inside = (detections.label == "person") & (xyxy[:, 0] <= cx) & (cx <= xyxy[:, 2])
    inside &= (xyxy[:, 1] <= cy) & (cy <= xyxy[:, 3])
    if not inside.any():
        return None
    overlap_w = np.clip(np.minimum(xyxy[:, 2], fx2) - np.maximum(xyxy[:, 0], fx1), 0, None)
    overlap_h = np.clip(np.minimum(xyxy[:, 3], fy2) - np.maximum(xyxy[:, 1], fy1), 0, None)
    held = overlap_w * overlap_h / max((fx2 - fx1) * (fy2 - fy1), 1.0)
    offset = np.abs(cx - (xyxy[:, 0] + xyxy[:, 2]) / 2) / np.maximum(xyxy[:, 2] - xyxy[:, 0], 1)
    depth = (cy - xyxy[:, 1]) / np.maximum(xyxy[:, 3] - xyxy[:, 1], 1)
    return int(np.argmax(np.where(inside, held - offset - depth, -np.inf)))


def _crop(image: npt.NDArray[np.uint8], box: tuple[float, float, float, float]) -> npt.NDArray[np.uint8]:
    x1, y1, x2, y2 = box
    m = 0.4 * (x2 - x1)
    height, width = image.shape[:2]
    top, bottom = max(0, int(y1 - m)), min(height, int(y2 + m))
    left, right = max(0, int(x1 - m)), min(width, int(x2 + m))
    return np.ascontiguousarray(image[top:bottom, left:right])


def _labelled(shot: Snapshot, sub_label: str) -> Snapshot:
    """The snapshot with ``sub_label`` drawn next to the event's own object."""
    d = shot.detections
    column = np.asarray(d.data.get("sub_label", np.full(len(d), "", dtype=object)), dtype=object).copy()
    column[shot.index] = sub_label
    return Snapshot(shot.ts_s, shot.pts, d.with_data(sub_label=column.astype(np.str_)), shot.index)


@cache
def _engine(name: str) -> FaceEngine:
    """One engine per process; models load once."""
    return create_engine(name)


_LIBRARIES: dict[tuple[str, str], tuple[tuple[int, int], Library]] = {}
"""Per process: (store URL, model) -> (library version, library)."""


def faces_settled(settings: Settings) -> Settings:
    """``settings`` with ``faces.enabled: auto`` turned off while the library knows no one (one small query).

    The process that owns the database calls this before it hands files to workers (`camsift.analysis.pool.Workers`
    for each file, so the service sees a face added at its next file; `camsift.analysis.cluster.ClusterRunner` once
    for its batch), so a worker never opens the database
    only to find the library empty: it then never loads SQLAlchemy (22 MB of its memory), and a cluster
    worker on another machine needs no access to the database. A camera's own ``faces`` settings still
    apply in the worker.

    Raises:
        StorageError: the store cannot be read.
    """
    if settings.faces.enabled != "auto":
        return settings
    from camsift.store import Store

    with Store(settings.data_dir, settings.database) as store:
        if store.faces.version()[0] > 0:
            return settings
    return settings.model_copy(update={"faces": settings.faces.model_copy(update={"enabled": False})})


def face_recognizer(settings: Settings) -> FaceRecognizer | None:
    """The recognizer for a clip, or ``None`` when faces are not looked for.

    ``faces.enabled: auto`` looks only when the library knows someone, so a
    scan with no library costs one small query per file and never loads the
    engine. The library is read from the store (read-only, so worker processes
    may) and read again only when it changed: the service sees ``camsift faces
    add`` at its next file.

    Raises:
        DetectorError: the face engine cannot be loaded.
        StorageError: the store cannot be read.
    """
    config = settings.faces
    if config.enabled is False:
        return None
    from camsift.store import Store

    with Store(settings.data_dir, settings.database) as store:
        faces = store.faces
        version = faces.version()
        if config.enabled == "auto" and version[0] == 0:
            return None
        engine = _engine(config.engine)
        key = (store.url, engine.model)
        if key not in _LIBRARIES or _LIBRARIES[key][0] != version:
            _LIBRARIES[key] = (version, faces.library(engine.model))
    library = _LIBRARIES[key][1]
    if config.enabled == "auto" and not library.people:
        return None
    return FaceRecognizer(engine, library, config)
