"""`scan`: find the events in files and folders of footage, keep the evidence.

The main job. Files are analysed in worker processes (each loads its models
once); the main process alone writes the database, one transaction per file,
so an interrupted scan keeps every file already recorded and nothing half.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

from camsift import media
from camsift.config import Settings
from camsift.detectors import Detector, create
from camsift.errors import DetectorError, MediaError, SourceError
from camsift.events import Event
from camsift.pipeline import Pipeline, PipelineStats
from camsift.store import FileRecord, Store, picture_path

__all__ = ["FileResult", "ScanReport", "analyse_file", "camera_for", "collect", "scan"]

Status = Literal["ok", "skipped", "error"]


@dataclass(frozen=True)
class FileResult:
    """The outcome for one file.

    Attributes:
        path: Absolute path.
        camera: Camera it was attributed to.
        status: ``"ok"``, ``"skipped"`` (unchanged since an earlier scan) or ``"error"``.
        error: One-line reason when ``status == "error"``.
        duration_s: Seconds of footage decoded (0 for images).
        events: Events found (for a skipped file: those stored earlier).
        stats: Pipeline figures (``None`` when skipped).
        record: What was stored about the file (``None`` when skipped).
    """

    path: Path
    camera: str
    status: Status
    error: str | None = None
    duration_s: float = 0.0
    events: list[Event] = field(default_factory=list)
    stats: PipelineStats | None = field(default=None, repr=False)
    record: FileRecord | None = field(default=None, repr=False)


@dataclass
class ScanReport:
    """Everything a scan did.

    Attributes:
        files: One result per file, in the order the files were found.
        wall_s: Seconds the scan took.
        stats: Pipeline figures summed over the analysed files.
        interrupted: The scan was stopped (Ctrl-C) before every file was done.
    """

    files: list[FileResult]
    wall_s: float
    stats: PipelineStats
    interrupted: bool = False

    @property
    def failed(self) -> list[FileResult]:
        """Files that could not be analysed."""
        return [f for f in self.files if f.status == "error"]

    def summary(self) -> dict[str, Any]:
        """Totals: files by status, footage seconds, events per label, throughput (footage s per wall s)."""
        status = Counter(f.status for f in self.files)
        labels = Counter(e.label for f in self.files for e in f.events)
        footage = sum(f.duration_s for f in self.files if f.status != "skipped")
        return {
            "files": len(self.files),
            "ok": status["ok"],
            "skipped": status["skipped"],
            "errors": status["error"],
            "footage_s": round(footage, 2),
            "events": dict(sorted(labels.items())),
            "wall_s": round(self.wall_s, 2),
            "realtime_factor": round(footage / self.wall_s, 2) if self.wall_s > 0 else None,
            "interrupted": self.interrupted,
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``camsift scan --format json``."""
        return {"files": [_file_dict(f) for f in self.files], "summary": self.summary()}


def _file_dict(f: FileResult) -> dict[str, Any]:
    return {
        "path": str(f.path),
        "camera": f.camera,
        "status": f.status,
        "error": f.error,
        "duration_s": round(f.duration_s, 3),
        "events": [event_dict(e) for e in f.events],
    }


def event_dict(e: Event) -> dict[str, Any]:
    """An event as JSON-ready values (times ISO 8601 UTC, box in pixels)."""
    return {
        "id": e.id,
        "camera": e.camera,
        "label": e.label,
        "sub_label": e.sub_label,
        "sub_label_score": e.sub_label_score,
        "start_s": e.start_s,
        "end_s": e.end_s,
        "start_utc": e.start_utc.isoformat(),
        "end_utc": e.end_utc.isoformat(),
        "confidence": e.confidence,
        "box_xyxy": list(e.box_xyxy),
        "zones": list(e.zones),
        "source": str(e.source) if e.source else None,
        "snapshot": str(e.snapshot) if e.snapshot else None,
        "snapshot_annotated": str(e.snapshot_annotated) if e.snapshot_annotated else None,
        "clip": str(e.clip) if e.clip else None,
    }


def collect(paths: Iterable[Path]) -> list[Path]:
    """Media files named or found (recursively) under ``paths``, absolute, sorted per argument.

    Hidden files and folders (``.name``) and partial downloads (``.part``) are skipped.

    Raises:
        SourceError: a path does not exist.
    """
    found: list[Path] = []
    for path in paths:
        path = path.expanduser()
        if not path.exists():
            raise SourceError(f"{path}: no such file or directory")
        if path.is_file():
            found.append(path.resolve())
            continue
        inner = sorted(
            p.resolve()
            for p in path.rglob("*")
            if p.suffix.lower() in media.MEDIA_SUFFIXES
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        found.extend(inner)
    return list(dict.fromkeys(found))


def camera_for(path: Path, settings: Settings, override: str | None = None) -> str:
    """The camera a file belongs to: ``override``, else the first camera whose
    ``paths`` globs match, else the name of the file's folder."""
    if override:
        return override
    text = path.as_posix()
    for name, camera in settings.cameras.items():
        if any(fnmatch.fnmatch(text, os.path.expanduser(pattern)) for pattern in camera.paths):
            return name
    return path.parent.name or "camera"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def _detector(name: str, threads: int, labels: frozenset[str]) -> Detector:
    """One detector per process and label set; models load once."""
    return create(name, threads=threads, labels=labels) if name == "auto" else create(name, threads=threads)


def _write_jpeg(path: Path, rgb: Any) -> None:
    """Write atomically: a crash never leaves a half picture under the final name."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(rgb).save(tmp, format="JPEG", quality=90)
    os.replace(tmp, path)


def save_snapshots(events: list[Event], path: Path, data_dir: Path, settings: Settings) -> list[Event]:
    """Re-read each event's best frame at full resolution and save it clean and annotated.

    Returns:
        The events with ``snapshot`` and ``snapshot_annotated`` set and ``best`` dropped.

    Raises:
        MediaError: the frame cannot be read again.
    """
    from camsift.annotate import annotate

    tz = settings.tz()
    frames: dict[int | None, Any] = {}
    saved = []
    for event in events:
        assert event.best is not None
        pts = event.best.pts
        if pts not in frames:
            frames[pts] = media.read_frame(path, pts)
        clean, marked = picture_path(data_dir, event, False, tz), picture_path(data_dir, event, True, tz)
        shot = (event.start_utc + timedelta(seconds=event.best.ts_s - event.start_s)).astimezone(tz)
        caption = f"{event.camera} {shot:%Y-%m-%d %H:%M:%S}"
        _write_jpeg(clean, frames[pts])
        _write_jpeg(marked, annotate(frames[pts], event.best, caption))
        saved.append(event.replace(snapshot=clean, snapshot_annotated=marked, best=None))
    return saved


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
    pipeline = Pipeline(s, _detector(s.detect.detector, threads, frozenset(s.objects.labels)))
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
        events = save_snapshots(events, path, s.data_dir, s)
    except MediaError as err:
        error = err.reason
    except OSError as err:
        error = f"cannot read: {err.strerror or err}"
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


def _worker_init() -> None:
    """Worker processes: leave Ctrl-C to the main process; quiet FFmpeg's own logging."""
    import signal

    import av.logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    av.logging.set_level(None)


def _stop(pool: ProcessPoolExecutor, now: bool) -> None:
    """Shut a pool down; with ``now``, kill busy workers too (Python 3.14's ``terminate_workers``)."""
    if not now:
        pool.shutdown(wait=True)
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


class _Runner:
    """Runs `analyse_file` in worker processes, or inline for a single job.

    A worker that dies (a decoder crash) breaks its pool. The files that were
    in that pool are retried one at a time, each in a pool of its own, so the
    one that kills its worker is reported as an error and the batch goes on.
    """

    def __init__(self, settings: Settings, jobs: int, threads: int) -> None:
        self.settings, self.jobs, self.threads = settings, jobs, threads

    def run(self, todo: list[tuple[Path, str]]) -> Iterator[FileResult]:
        if self.jobs == 1:
            _worker_init()
            for path, camera in todo:
                yield analyse_file(path, camera, self.settings, self.threads)
            return
        suspects: list[tuple[Path, str]] = []
        yield from self._pool(todo, self.jobs, suspects)
        for path, camera in suspects:
            crashed: list[tuple[Path, str]] = []
            yield from self._pool([(path, camera)], 1, crashed)
            if crashed:
                yield FileResult(path, camera, "error", "the decoder crashed on this file")

    def _pool(self, todo: list[tuple[Path, str]], jobs: int, lost: list[tuple[Path, str]]) -> Iterator[FileResult]:
        """Analyse ``todo``; files in flight when a worker dies are appended to ``lost``."""
        queue = deque(todo)
        while queue:
            pool = ProcessPoolExecutor(jobs, mp_context=get_context("forkserver"), initializer=_worker_init)
            running: dict[Future[FileResult], tuple[Path, str]] = {}
            try:
                while queue or running:
                    while queue and len(running) < 2 * jobs:
                        path, camera = queue[0]
                        running[pool.submit(analyse_file, path, camera, self.settings, self.threads)] = queue.popleft()
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    broken = [f for f in done if isinstance(f.exception(), BrokenProcessPool)]
                    for future in done:
                        item = running.pop(future)
                        if future in broken:
                            lost.append(item)
                        else:
                            yield future.result()
                    if broken:
                        lost.extend(running.values())
                        break
            finally:
                _stop(pool, now=bool(running))


def scan(
    paths: Iterable[Path | str],
    settings: Settings | None = None,
    *,
    jobs: int | None = None,
    force: bool = False,
    camera: str | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> ScanReport:
    """Analyse clips and images, save snapshots and record events.

    Args:
        paths: Files and folders (searched recursively) of footage.
        settings: Configuration; default: built-in defaults.
        jobs: Worker processes (each loads the model once); default: CPU count.
        force: Analyse files again even if unchanged since an earlier scan.
        camera: Camera name for every file (else from config, else the folder name).
        on_result: Called in the main process after each file is recorded.

    Returns:
        The report; `ScanReport.to_dict` is the JSON of ``camsift scan --format json``.

    Raises:
        SourceError: a path does not exist.
        StorageError: the data directory or database cannot be used.
        DetectorError: the detector cannot be loaded.

    Example:
        >>> from camsift import scan
        >>> report = scan(["~/footage"])  # doctest: +SKIP
        >>> [(f.path.name, len(f.events)) for f in report.files if f.events]  # doctest: +SKIP
    """
    settings = settings or Settings()
    started = time.perf_counter()
    files = collect(Path(p) for p in paths)
    cpus = os.cpu_count() or 1
    jobs = max(1, min(jobs or cpus, len(files) or 1))
    threads = settings.detect.threads or max(1, cpus // jobs)
    results: dict[Path, FileResult] = {}
    stats = PipelineStats()
    interrupted = False
    with Store(settings.data_dir, settings.database) as store:
        todo = []
        for path in files:
            name = camera_for(path, settings, camera)
            known = None if force else store.file(path)
            st = path.stat()
            if known is not None and known.size == st.st_size and known.mtime == st.st_mtime:
                results[path] = FileResult(
                    path, known.camera, "skipped", known.error, known.duration_s, store.events(source=path)
                )
                if on_result:
                    on_result(results[path])
            else:
                todo.append((path, name))
        todo.sort(key=lambda item: -item[0].stat().st_size)  # biggest first: no long tail on one worker
        try:
            for result in _Runner(settings, jobs, threads).run(todo):
                if result.record is not None:
                    store.save(result.record, result.events)
                if result.stats is not None:
                    stats.add(result.stats)
                results[result.path] = result
                if on_result:
                    on_result(result)
        except KeyboardInterrupt:
            interrupted = True
    ordered = [results[p] for p in files if p in results]
    return ScanReport(ordered, time.perf_counter() - started, stats, interrupted)
