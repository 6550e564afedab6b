"""`scan`: find the events in files and folders of footage, keep the evidence.

The main job. Files are analysed in worker processes (each loads its models
once); the main process alone writes the database, one transaction per file,
so an interrupted scan keeps every file already recorded and nothing half.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from camsift import media
from camsift.config import Settings
from camsift.detectors import Detector, configured
from camsift.errors import ClusterError, DetectorError, MediaError, SourceError
from camsift.events import Event, FileRecord
from camsift.faces.recognizer import FrameReader, face_recognizer, faces_settled
from camsift.layout import face_path, picture_path
from camsift.pipeline import Pipeline, PipelineStats

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

    from camsift.cluster import ClusterRunner

__all__ = [
    "FileResult",
    "ScanReport",
    "Workers",
    "analyse_file",
    "camera_for",
    "collect",
    "find_faces",
    "frame_reader",
    "pin_worker",
    "prepare_worker",
    "scan",
    "shared_detector",
    "tune_malloc",
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
    """Write atomically: a crash never leaves a half picture under the final name."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(rgb).save(tmp, format="JPEG", quality=90)
    os.replace(tmp, path)


@contextmanager
def frame_reader(path: Path, keep: int = 8) -> Iterator[FrameReader]:
    """Re-reads frames of ``path`` at full resolution (a `media.Rereader`, closed at the end of the block),
    keeping the last ``keep`` (events that share a frame, and the face step then the snapshots, read it once)."""
    with media.Rereader(path) as again:
        yield lru_cache(maxsize=keep)(again.read)


def save_snapshots(events: list[Event], data_dir: Path, settings: Settings, read: FrameReader) -> list[Event]:
    """Re-read each event's best frame at full resolution and save it clean and annotated.

    Args:
        events: Events with ``best`` set.
        data_dir: Where pictures go.
        settings: For the time zone of folder names.
        read: Reads the frames of the clip or image they were found in (`frame_reader`); asked in time order.

    Returns:
        The events, in their order, with ``snapshot`` and ``snapshot_annotated`` set and ``best`` and
        ``shots`` dropped.

    Raises:
        MediaError: the frame cannot be read again.
    """
    from camsift.annotate import annotate

    tz = settings.tz()
    shot_s = [e.best.ts_s if e.best is not None else 0.0 for e in events]
    saved: list[Event | None] = [None] * len(events)
    for i in sorted(range(len(events)), key=shot_s.__getitem__):  # in time order: the reader decodes on
        event = events[i]
        assert event.best is not None
        frame = read(event.best.pts)
        clean, marked = picture_path(data_dir, event, False, tz), picture_path(data_dir, event, True, tz)
        shot = (event.start_utc + timedelta(seconds=event.best.ts_s - event.start_s)).astimezone(tz)
        caption = f"{event.camera} {shot:%Y-%m-%d %H:%M:%S}"
        _write_jpeg(clean, frame)
        _write_jpeg(marked, annotate(frame, event.best, caption))
        saved[i] = event.replace(snapshot=clean, snapshot_annotated=marked, best=None, shots=())
    return [e for e in saved if e is not None]


def find_faces(events: list[Event], read: FrameReader, settings: Settings) -> list[Event]:
    """Name the person events' faces when face recognition is on (`face_recognizer`); save a picture of each face.

    Returns:
        The events, person events with ``faces`` (pictures saved, `face_path`) and ``sub_label`` set.

    Raises:
        MediaError: a frame cannot be read again.
        DetectorError: the face engine cannot be loaded.
    """
    recognizer = face_recognizer(settings)
    if recognizer is None:
        return events

    tz = settings.tz()
    named = []
    for event in events:
        event, crops = recognizer.recognise(event, read)
        paths = [face_path(settings.data_dir, event, f.n, tz) for f in event.faces]
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
            events = save_snapshots(events, s.data_dir, s, read)
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


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block until it ends, then raise `KeyboardInterrupt`.

    A file's database transaction then either commits or never starts: an
    interrupt inside SQLAlchemy's connection reset would otherwise leave it to
    log a traceback. Outside the main thread (no signal handlers there) the
    block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def prepare_worker() -> None:
    """Set up a process that analyses files (a local worker, a Dask worker): FFmpeg's own logging off,
    malloc tuned (`tune_malloc`), and no OpenCV thread pool. The motion gate works on a 120-pixel-high
    grey copy, where OpenCV's threads cost more than they save and compete with the other workers: with
    two workers on two cores the gate took 1.0-1.1 s per 139 s of footage with them, 0.7-0.8 s without."""
    import av.logging
    import cv2

    av.logging.set_level(None)
    tune_malloc()
    cv2.setNumThreads(1)


def _worker_init(
    slots: Synchronized[int] | None, threads: int, settings: Settings | None = None, parent: int | None = None
) -> None:
    """Worker processes: leave Ctrl-C to the main process; `prepare_worker`; with ``slots``, take the next
    CPUs (`pin_worker`); with ``settings``, load the global detector now so the first file does not wait
    for it; with ``parent``, exit when that process is gone (a killed service leaves no one to stop its workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepare_worker()
    if slots is not None:
        with slots.get_lock():
            slot, slots.value = slots.value, slots.value + 1
        pin_worker(slot, threads)
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), name="exit-with-parent", daemon=True).start()
    if settings is not None:
        shared_detector(settings, threads)


def pin_worker(slot: int, threads: int) -> None:
    """Bind the worker in ``slot`` (0, 1, ...) to CPUs of its own: the ``threads`` CPUs from
    ``slot * threads`` among those this process may use (``sched_setaffinity(2)``); nothing when
    there are not that many (more workers than CPUs: the system shares them out) or off Linux.

    A worker that stays on one core keeps its models and frames in that core's caches: two workers
    scanning the one-by-one clip side by side took 15.1 s each pinned, 16.1-16.4 s each when the
    system moved them (2-core machine).
    """
    if not hasattr(os, "sched_setaffinity"):
        return
    cpus = sorted(os.sched_getaffinity(0))
    mine = cpus[slot * threads : (slot + 1) * threads]
    if len(mine) == threads:
        os.sched_setaffinity(0, mine)


_M_ARENA_MAX, _M_MMAP_THRESHOLD, _M_TRIM_THRESHOLD = -8, -3, -1
"""``mallopt`` parameter numbers from glibc's ``malloc.h``."""

MMAP_THRESHOLD = 32 * 2**20
"""Bytes from which glibc maps an allocation by itself: its largest on 64-bit Linux (``DEFAULT_MMAP_THRESHOLD_MAX``)."""

TRIM_THRESHOLD = 64 * 2**20
"""Free bytes at the top of the heap that glibc keeps rather than returning them to the system."""


def tune_malloc() -> None:
    """Set a worker's glibc malloc for video and inference: one arena, and buffers kept for reuse (``mallopt(3)``).

    ``M_ARENA_MAX`` 1: glibc gives each thread that allocates an arena of its
    own, kept at the peak of what it held, so decoder and inference threads
    would each hold one (a worker that scanned the shared clips peaked at
    392 MB with one arena, 433 MB with glibc's defaults).

    ``M_MMAP_THRESHOLD`` `MMAP_THRESHOLD` and ``M_TRIM_THRESHOLD``
    `TRIM_THRESHOLD`: frames, crops and model inputs of a few MB are reused
    from the heap instead of being mapped, zero-filled and unmapped again for
    every frame. glibc adapts its own threshold upwards, but an environment
    that sets ``MALLOC_TRIM_THRESHOLD_`` pins it at 128 kB, as Dask's nanny does
    (``distributed.nanny.pre-spawn-environ``): the shared clips then took 58.5 s
    in one process, 53.8 s with these settings, at the same peak memory. Set
    after start-up, they override any ``MALLOC_*_`` environment variable.
    Elsewhere than glibc this does nothing.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(_M_ARENA_MAX, 1)
    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def _exit_with(pid: int) -> None:
    """Exit this process as soon as process ``pid`` no longer exists (checked every second)."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)


def _stop(pool: ProcessPoolExecutor, now: bool) -> None:
    """Shut a pool down; with ``now``, kill busy workers too (Python 3.14's ``terminate_workers``)."""
    if not now:
        pool.shutdown(wait=True)
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


class Workers:
    """Runs `analyse_file` in worker processes that load their models once and stay up.

    Used by `scan` (a batch) and by the service (work arriving over time):
    `submit` files, `poll` for results. A worker that dies (a decoder crash)
    breaks its pool: every file that was in it is retried alone in a
    one-worker pool, so the file that kills its worker is reported as an
    error (``"the decoder crashed on this file"``) and the others complete.

    Args:
        settings: Settings (each file's camera overrides are applied in the worker).
        jobs: Worker processes.
        threads: Inference and decoding threads per worker.
        warm: Load the global detector in each worker as it starts (the service does;
            a batch does not need to).

    Example:
        >>> workers = Workers(Settings(), jobs=2, threads=1)  # doctest: +SKIP
        >>> workers.submit(Path("/footage/a.mp4"), "porch")  # doctest: +SKIP
        >>> while workers.busy:  # doctest: +SKIP
        ...     for result in workers.poll(1.0):
        ...         print(result.path, result.status)
        >>> workers.close()  # doctest: +SKIP
    """

    def __init__(self, settings: Settings, jobs: int, threads: int, *, warm: bool = False) -> None:
        self.settings, self.jobs, self.threads = settings, jobs, threads
        self._warm = (settings, os.getpid()) if warm else ()
        self._pools: dict[bool, ProcessPoolExecutor] = {}  # False: the main pool, True: the one-worker pool
        self._running: dict[Future[FileResult], tuple[Path, str, bool]] = {}
        self._suspects: deque[tuple[Path, str]] = deque()

    @property
    def busy(self) -> int:
        """Files submitted and not yet returned by `poll`."""
        return len(self._running) + len(self._suspects)

    def _pool(self, alone: bool) -> ProcessPoolExecutor:
        if alone not in self._pools:
            context = get_context("forkserver")
            # The main pool's workers each take CPUs of their own; the one-worker pool that retries
            # suspects may run beside it, and is left to the system.
            slots = None if alone else context.Value("i", 0)
            self._pools[alone] = ProcessPoolExecutor(
                1 if alone else self.jobs,
                mp_context=context,
                initializer=_worker_init,
                initargs=(slots, self.threads, *self._warm),
            )
            if self._warm:  # start the workers (and load their models) now rather than at the first file
                for _ in range(1 if alone else self.jobs):
                    self._pools[alone].submit(int)
        return self._pools[alone]

    def _start(self, path: Path, camera: str, alone: bool) -> None:
        from camsift.overrides import refreshed  # camera settings changed in the web app apply from the next file

        settings = faces_settled(refreshed(self.settings))
        future = self._pool(alone).submit(analyse_file, path, camera, settings, self.threads)
        self._running[future] = (path, camera, alone)

    def submit(self, path: Path, camera: str) -> None:
        """Start analysing one file (returns at once)."""
        self._start(path, camera, False)

    def poll(self, timeout: float | None) -> list[FileResult]:
        """Wait up to ``timeout`` seconds (``None``: until one is done) and return finished results.

        Raises:
            DetectorError: a worker could not load the detector.
        """
        self._retry_next()
        if not self._running:
            return []
        done, _ = wait(self._running, timeout, return_when=FIRST_COMPLETED)
        results: list[FileResult] = []
        broken = set()
        for future in done:
            path, camera, alone = self._running.pop(future)
            if not isinstance(future.exception(), BrokenProcessPool):
                results.append(future.result())
            elif alone:
                results.append(FileResult(path, camera, "error", "the decoder crashed on this file"))
                broken.add(True)
            else:
                self._suspects.append((path, camera))
                broken.add(False)
        if False in broken:  # every file still in the broken pool is lost with it
            for future, (path, camera, alone) in list(self._running.items()):
                if not alone:
                    del self._running[future]
                    self._suspects.append((path, camera))
        for alone in broken:
            _stop(self._pools.pop(alone), now=True)
        self._retry_next()
        return results

    def _retry_next(self) -> None:
        """Feed the one-worker pool the next suspect when it is idle."""
        if self._suspects and not any(alone for _, _, alone in self._running.values()):
            path, camera = self._suspects.popleft()
            self._start(path, camera, True)

    def close(self, now: bool = False) -> None:
        """Stop the workers; with ``now``, kill busy ones (their files are not finished)."""
        for pool in self._pools.values():
            _stop(pool, now)
        self._pools.clear()
        self._running.clear()
        self._suspects.clear()


class _Runner:
    """Runs `analyse_file` for a batch: in `Workers`, or inline for a single job."""

    def __init__(self, settings: Settings, jobs: int, threads: int) -> None:
        self.settings, self.jobs, self.threads = settings, jobs, threads

    def run(self, todo: list[tuple[Path, str]]) -> Iterator[FileResult]:
        if self.jobs == 1:  # in this process: Ctrl-C stays the caller's
            import av.logging

            av.logging.set_level(None)
            for path, camera in todo:
                yield analyse_file(path, camera, self.settings, self.threads)
            return
        queue = deque(todo)
        workers = Workers(self.settings, self.jobs, self.threads)
        try:
            while queue or workers.busy:
                while queue and workers.busy < 2 * self.jobs:
                    workers.submit(*queue.popleft())
                yield from workers.poll(None)
        finally:
            workers.close(now=workers.busy > 0)


def _cluster_runner(address: str, settings: Settings) -> ClusterRunner:
    """`camsift.cluster.ClusterRunner` (one thread per task unless ``detect.threads`` says more).

    Raises:
        ClusterError: dask.distributed is not installed.
    """
    try:
        from camsift.cluster import ClusterRunner
    except ImportError as err:
        raise ClusterError("--cluster needs dask.distributed; run: pip install 'camsift[cluster]'") from err
    return ClusterRunner(address, settings, settings.detect.threads or 1)


def scan(
    paths: Iterable[Path | str],
    settings: Settings | None = None,
    *,
    jobs: int | None = None,
    force: bool = False,
    camera: str | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    cluster: str | None = None,
) -> ScanReport:
    """Analyse clips and images, save snapshots and record events.

    Args:
        paths: Files and folders (searched recursively) of footage.
        settings: Configuration; default: built-in defaults.
        jobs: Worker processes (each loads the model once); default: CPU count.
        force: Analyse files again even if unchanged since an earlier scan.
        camera: Camera name for every file (else from config, else the folder name).
        on_result: Called in the main process after each file is recorded.
        cluster: Analyse on this Dask scheduler (``tcp://HOST:8786``) instead of local worker processes
            (`camsift.cluster.ClusterRunner`; ``jobs`` is then ignored). This process still writes the database.

    Returns:
        The report; `ScanReport.to_dict` is the JSON of ``camsift scan --format json``.

    Raises:
        SourceError: a path does not exist.
        StorageError: the data directory or database cannot be used.
        DetectorError: the detector cannot be loaded.
        ClusterError: ``cluster`` cannot be reached or used.

    Example:
        >>> from camsift import scan
        >>> report = scan(["~/footage"])  # doctest: +SKIP
        >>> [(f.path.name, len(f.events)) for f in report.files if f.events]  # doctest: +SKIP
    """
    from camsift.store import Store  # here, not at the top: worker processes import this module, never the database

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
                # A file that failed stays an error on every scan until it changes: a scheduled scan
                # must not report a broken file once and then never again.
                status: Status = "error" if known.status == "error" else "skipped"
                results[path] = FileResult(
                    path, known.camera, status, known.error, known.duration_s, store.events(source=path)
                )
                if on_result:
                    on_result(results[path])
            else:
                todo.append((path, name))
        todo.sort(key=lambda item: -item[0].stat().st_size)  # biggest first: no long tail on one worker
        try:
            runner: _Runner | ClusterRunner = (
                _cluster_runner(cluster, settings) if cluster else _Runner(settings, jobs, threads)
            )
            for result in runner.run(todo):
                # Saved and reported as one step: a Ctrl-C in between would leave a file in the
                # database that the report does not list.
                with _sigint_deferred():
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
