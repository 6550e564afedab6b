"""Analysing one file: what every worker runs, local or on a cluster (never the database).

`analyse_file` decodes a clip or image, runs the pipeline, names the faces and
saves the snapshots, and returns a `FileResult`; the process that owns the
database records it (`camsift.scanner.scan`, the service). This module and
those it imports load no database layer: a worker process that imports it
stays free of SQLAlchemy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from camsift import media
from camsift.config import Settings
from camsift.detectors import Detector, configured
from camsift.errors import DetectorError, MediaError, disk_full
from camsift.events import Event, FileRecord
from camsift.faces.recognizer import FrameReader, face_recognizer
from camsift.layout import DataDir, atomic_writer
from camsift.pipeline import Pipeline, PipelineStats

__all__ = [
    "FileResult",
    "Status",
    "analyse_file",
    "find_faces",
    "frame_reader",
    "save_snapshots",
    "shared_detector",
]

Status = Literal["ok", "skipped", "error"]


@dataclass(frozen=True)
class FileResult:
    """The outcome for one file.

    Attributes:
        path: Absolute path.
        camera: Camera it was attributed to.
        status: ``"ok"``, ``"skipped"`` (unchanged since an earlier scan that went well) or ``"error"``
            (also for an unchanged file that failed before: reported again, not analysed again).
        error: One-line reason when ``status == "error"``.
        duration_s: Seconds of footage decoded (0 for images).
        events: Events found (for a skipped file: those stored earlier).
        stats: Pipeline figures (``None`` when skipped).
        record: What was stored about the file (``None`` when skipped).
        crashed: Its worker process died on it (analysing it alone, so the file is the suspect); ``record``
            is then ``None``.
    """

    path: Path
    camera: str
    status: Status
    error: str | None = None
    duration_s: float = 0.0
    events: list[Event] = field(default_factory=list)
    stats: PipelineStats | None = field(default=None, repr=False)
    record: FileRecord | None = field(default=None, repr=False)
    crashed: bool = False


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


_DETECTOR_KEYS = {"detector", "providers", "yolo", "rekognition", "deepstack"}
"""The ``detect`` keys that make a different detector (sampling keys such as ``fps`` do not)."""

_DETECTORS: dict[tuple[str, str | None, int, frozenset[str]], Detector] = {}


def shared_detector(settings: Settings, threads: int) -> Detector:
    """The detector ``settings`` configure, built once per process and configuration (models load once).

    Args:
        settings: Settings (a camera's, with its overrides applied, or the global ones).
        threads: Inference threads.

    Raises:
        DetectorError: the detector cannot be built (`camsift.detectors.configured`).
    """
    detect = settings.detect
    secret = detect.deepstack.api_key
    counted_in = f"{settings.data_dir.resolve()} {settings.database}" if detect.detector == "rekognition" else ""
    key = (
        detect.model_dump_json(include=_DETECTOR_KEYS) + counted_in,  # secrets are masked in JSON: see next item
        secret.get_secret_value() if secret else None,
        threads,
        frozenset(settings.objects.labels),
    )
    if key not in _DETECTORS:
        _DETECTORS[key] = configured(
            detect, threads=threads, labels=key[3], data_dir=settings.data_dir.resolve(), database=settings.database
        )
    return _DETECTORS[key]


def _write_jpeg(path: Path, rgb: Any) -> None:
    """Write atomically (`atomic_writer`): a crash never leaves a half picture under the final name.

    Not fsync'd, as before: a sync per picture would stall the worker's decoding. A process killed after
    the write keeps the picture; a power cut within the kernel's writeback delay may not.
    """
    from PIL import Image

    with atomic_writer(path, sync=False) as f:
        Image.fromarray(rgb).save(f, format="JPEG", quality=90)


@contextmanager
def frame_reader(path: Path, keep: int = 8) -> Iterator[FrameReader]:
    """Re-reads frames of ``path`` at full resolution (a `media.Rereader`, closed at the end of the block),
    keeping the last ``keep`` (events that share a frame, and the face step then the snapshots, read it once)."""
    with media.Rereader(path) as again:
        yield lru_cache(maxsize=keep)(again.read)


def save_snapshots(events: list[Event], settings: Settings, read: FrameReader) -> list[Event]:
    """Re-read each event's best frame at full resolution and save it clean and annotated (`DataDir.picture`).

    Args:
        events: Events with ``best`` set.
        settings: For the data directory and the time zone of folder names.
        read: Reads the frames of the clip or image they were found in (`frame_reader`); asked in time order.

    Returns:
        The events, in their order, with ``snapshot`` and ``snapshot_annotated`` set and ``best`` and
        ``shots`` dropped.

    Raises:
        MediaError: the frame cannot be read again.
    """
    from camsift.annotate import annotate

    data, tz = DataDir(settings.data_dir), settings.tz()
    shot_s = [e.best.ts_s if e.best is not None else 0.0 for e in events]
    saved: list[Event | None] = [None] * len(events)
    for i in sorted(range(len(events)), key=shot_s.__getitem__):  # in time order: the reader decodes on
        event = events[i]
        assert event.best is not None
        frame = read(event.best.pts)
        clean, marked = data.picture(event, False, tz), data.picture(event, True, tz)
        shot = (event.start_utc + timedelta(seconds=event.best.ts_s - event.start_s)).astimezone(tz)
        caption = f"{event.camera} {shot:%Y-%m-%d %H:%M:%S}"
        _write_jpeg(clean, frame)
        _write_jpeg(marked, annotate(frame, event.best, caption))
        saved[i] = event.replace(snapshot=clean, snapshot_annotated=marked, best=None, shots=())
    return [e for e in saved if e is not None]


def find_faces(events: list[Event], read: FrameReader, settings: Settings) -> list[Event]:
    """Name the person events' faces when face recognition is on (`face_recognizer`); save a picture of each face.

    Returns:
        The events, person events with ``faces`` (pictures saved, `DataDir.face`) and ``sub_label`` set.

    Raises:
        MediaError: a frame cannot be read again.
        DetectorError: the face engine cannot be loaded.
    """
    recognizer = face_recognizer(settings)
    if recognizer is None:
        return events

    data, tz = DataDir(settings.data_dir), settings.tz()
    named = []
    for event in events:
        event, crops = recognizer.recognise(event, read)
        paths = [data.face(event, f.n, tz) for f in event.faces]
        for picture, crop in zip(paths, crops, strict=True):
            _write_jpeg(picture, crop)
        named.append(event.replace(faces=tuple(f.replace(crop=p) for f, p in zip(event.faces, paths, strict=True))))
    return named


def analyse_file(path: Path, camera: str, settings: Settings, threads: int = 1) -> FileResult:
    """Analyse one clip or image and save its snapshots (no database access).

    Never raises for bad input: a file that cannot be read gives
    ``status="error"`` with a one-line reason; events found before a decoding
    failure are kept.

    Args:
        path: Absolute path of the file.
        camera: Camera name for its events.
        settings: Global settings (the camera's overrides are applied here).
        threads: Inference and decoding threads.
    """
    s = settings.for_camera(camera)
    pipeline = Pipeline(s, shared_detector(s, threads))
    sha, error, events = "", None, []
    size, mtime = 0, 0.0
    start_utc, origin = datetime.now(UTC), "mtime"
    try:
        stat = path.stat()
        size, mtime = stat.st_size, stat.st_mtime
        start_utc = datetime.fromtimestamp(mtime, UTC)
        sha = _sha256(path)
        info = media.probe(path)
        start_utc, origin = media.capture_time(path, info, mtime, s.tz())
        prefix = hashlib.sha256(f"{path}\n{sha}".encode()).hexdigest()[:12]
        frames = media.frames(path, threads)
        try:
            for event in pipeline.events(
                frames, camera=camera, start_utc=start_utc, id_prefix=prefix, still=info.kind == "image"
            ):
                events.append(event)
        except MediaError as err:  # decoding broke part-way: keep what was found before
            error = err.reason
        with frame_reader(path) as read:
            with pipeline.stats.timed("faces"):
                events = find_faces(events, read, s)
            events = save_snapshots(events, s, read)
    except MediaError as err:
        error = err.reason
    except OSError as err:  # a full data disk is not the file's fault: the service waits and analyses it again
        error = f"{'data disk full' if disk_full(err) else 'cannot read'}: {err.strerror or err}"
    except DetectorError:
        raise
    except Exception as err:  # noqa: BLE001 - a bug must not stop the batch; report it on one line
        error = f"internal error: {type(err).__name__}: {err}"
    stats = pipeline.stats
    duration = stats.footage_s
    record = FileRecord(
        path=path,
        size=size,
        mtime=mtime,
        sha256=sha,
        camera=camera,
        status="error" if error else "ok",
        error=error,
        duration_s=duration,
        start_utc=start_utc,
        time_origin=origin,
        processed_utc=datetime.now(UTC),
    )
    return FileResult(
        path, camera, record.status, error, duration, [e.replace(source=path) for e in events], stats, record
    )
