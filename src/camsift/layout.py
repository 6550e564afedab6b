"""Where camsift keeps its pictures and clips in the data directory.

Layout::

    <data_dir>/camsift.db                (the event store, `camsift.store`)
    <data_dir>/events/YYYY-MM-DD/<camera>/<HHMMSS>-<label>-<event id>.jpg            (`picture_path`)
    <data_dir>/events/YYYY-MM-DD/<camera>/<HHMMSS>-<label>-<event id>-annotated.jpg
    <data_dir>/clips/YYYY-MM-DD/<camera>/<HHMMSS>-<camera>.mp4    (live streams, `clip_path`)
    <data_dir>/faces/YYYY-MM-DD/<camera>/<HHMMSS>-person-<event id>-face<n>.jpg      (`face_path`)

Dates and times in folder and file names are local wall-clock time (what an
owner browsing the folders expects). These functions are the one place that
decides where a file lives. They are apart from the store so that worker
processes, which write pictures but never the database, do not load
SQLAlchemy (22 MB of each worker's memory).
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from camsift.events import Event

__all__ = ["clip_path", "face_path", "picture_path"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def picture_path(data_dir: Path, event: Event, annotated: bool = False, tz: tzinfo | None = None) -> Path:
    """Where an event's snapshot lives: ``events/YYYY-MM-DD/<camera>/<HHMMSS>-<label>-<id>[-annotated].jpg``.

    Args:
        data_dir: The data directory.
        event: The event (its ``start_utc``, camera, label and id are used).
        annotated: The annotated copy instead of the clean one.
        tz: Time zone of the folder dates; ``None`` = this machine's.

    Returns:
        An absolute path under ``data_dir``; camera and label are reduced to
        ``[A-Za-z0-9._-]`` so no name can escape the folder.
    """
    local = event.start_utc.astimezone(tz)
    camera = _UNSAFE.sub("_", event.camera).strip("._") or "camera"
    label = _UNSAFE.sub("_", event.label)
    name = f"{local:%H%M%S}-{label}-{event.id}{'-annotated' if annotated else ''}.jpg"
    return data_dir.resolve() / "events" / f"{local:%Y-%m-%d}" / camera / name


def clip_path(data_dir: Path, camera: str, start_utc: datetime, tz: tzinfo | None = None) -> Path:
    """Where a clip recorded from a live stream lives: ``clips/YYYY-MM-DD/<camera>/<HHMMSS>-<camera>.mp4``.

    Args:
        data_dir: The data directory.
        camera: Camera name (reduced to ``[A-Za-z0-9._-]``).
        start_utc: Wall-clock time of the clip's first frame (aware).
        tz: Time zone of folder dates and names; ``None`` = this machine's.

    Returns:
        An absolute path under ``data_dir``. A second clip in the same second
        gets ``-1``, ``-2`` … appended, so names never collide.
    """
    local = start_utc.astimezone(tz)
    name = _UNSAFE.sub("_", camera).strip("._") or "camera"
    folder = data_dir.resolve() / "clips" / f"{local:%Y-%m-%d}" / name
    path = folder / f"{local:%H%M%S}-{name}.mp4"
    n = 0
    while path.exists() or path.with_name(path.name + ".part").exists():
        n += 1
        path = folder / f"{local:%H%M%S}-{name}-{n}.mp4"
    return path


def face_path(data_dir: Path, event: Event, n: int, tz: tzinfo | None = None) -> Path:
    """Where the picture of face ``n`` of an event lives: beside its snapshot, under ``faces/``."""
    snapshot = picture_path(data_dir, event, False, tz)
    folder = snapshot.parent.relative_to(data_dir.resolve() / "events")
    return data_dir.resolve() / "faces" / folder / f"{snapshot.stem}-face{n}.jpg"
