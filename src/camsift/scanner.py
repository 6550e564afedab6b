"""`scan`: find the events in files and folders of footage, keep the evidence.

The main job: find the files (`collect`), attribute each to a camera
(`camera_for`), skip those recorded unchanged, have the rest analysed
(`camsift.analysis`: in worker processes that each load their models once, or
on a Dask cluster) and record each result. This module alone writes the
database during a scan, one transaction per file, so an interrupted scan keeps
every file already recorded and nothing half.
"""

from __future__ import annotations

import fnmatch
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camsift import media
from camsift.analysis import runner
from camsift.analysis.file import FileResult, Status
from camsift.config import Settings
from camsift.errors import SourceError
from camsift.pipeline import PipelineStats
from camsift.store import Store

__all__ = ["ScanReport", "camera_for", "collect", "scan"]


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
        "events": [e.to_dict() for e in f.events],
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
            (`camsift.analysis.cluster.ClusterRunner`; ``jobs`` is then ignored). This process still writes the
            database.

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
            for result in runner(settings, jobs, threads, cluster).run(todo):
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
