"""Worker processes on this machine: `Workers` (the pool) and `LocalRunner` (a batch in it).

Each worker loads its models once and stays up; it is set up for video and
inference (`prepare_worker`: glibc malloc tuned, OpenCV's thread pool off) and
bound to CPUs of its own (`pin_worker`). A worker that dies on a file breaks
its pool; `Workers` retries the files that were in it one by one. A worker
killed while idle breaks its pool too: the next file goes to a new one.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from camsift.analysis.file import FileResult, analyse_file, shared_detector
from camsift.config import Settings
from camsift.faces.recognizer import faces_settled
from camsift.logs import get_logger

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

__all__ = [
    "CRASHED",
    "MMAP_THRESHOLD",
    "TRIM_THRESHOLD",
    "LocalRunner",
    "Workers",
    "oom_kills",
    "pin_worker",
    "prepare_worker",
    "tune_malloc",
]

log = get_logger("camsift.analysis.pool")


CRASHED = "the decoder crashed on this file"
"""`FileResult.error` of a file whose worker died while analysing it alone (`FileResult.crashed`)."""


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


def oom_kills() -> int | None:
    """Processes the kernel's out-of-memory killer has killed since boot (``oom_kill`` in ``/proc/vmstat``,
    Linux 4.13+), or ``None`` where that is not known."""
    try:
        for line in Path("/proc/vmstat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        pass
    return None


def _exit_codes(pool: ProcessPoolExecutor) -> list[int | None]:
    """Stop a broken pool and return its workers' exit codes (``-N``: killed by signal N).

    A broken pool's own thread has already terminated its workers and is reaping them; waiting for it
    (``shutdown(wait=True)``) takes milliseconds and leaves each code read once, by that thread.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=True, cancel_futures=True)
    return [process.exitcode for process in processes]


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
    error (`CRASHED`, `FileResult.crashed` set) and the others complete. The
    service counts such a crash against the file and retries it. A worker
    killed from outside (``SIGKILL`` from a person or a supervisor, not from
    the out-of-memory killer: see `oom_kills`) is no fault of its file, which
    is analysed alone again and never reported as a crash; nor is a worker
    killed while idle, whose pool is replaced when the next file comes.

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
        self._oom_kills: int | None = None  # `oom_kills` when the one-worker pool took its file

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
        from camsift.camera_overrides import refreshed  # web-app camera settings apply from the next file

        settings = faces_settled(refreshed(self.settings))
        if alone:
            self._oom_kills = oom_kills()
        try:
            future = self._pool(alone).submit(analyse_file, path, camera, settings, self.threads)
        except BrokenProcessPool:  # a worker died since the last poll (killed while idle): a new pool
            self._broken(alone)
            future = self._pool(alone).submit(analyse_file, path, camera, settings, self.threads)
        self._running[future] = (path, camera, alone)

    def _broken(self, alone: bool) -> bool:
        """Drop the broken pool ``alone``: the files still in it become suspects (the main pool: any of them may
        have killed its worker; the one-worker pool has none running when this is called from `_start`).

        Returns:
            Whether its worker was killed from outside: by ``SIGKILL``, the out-of-memory killer not having
            killed anything since the one-worker pool took its file (``False`` for the main pool).
        """
        for future, (path, camera, in_alone) in list(self._running.items()):
            if in_alone == alone:
                del self._running[future]
                self._suspects.append((path, camera))
        pool = self._pools.pop(alone)
        if not alone:
            _stop(pool, now=True)
            return False
        codes, oom = _exit_codes(pool), oom_kills()
        return codes == [-signal.SIGKILL] and oom is not None and oom == self._oom_kills

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
        for future in done:
            if future not in self._running:  # dropped with its broken pool just now: a suspect already
                continue
            path, camera, alone = self._running[future]
            if not isinstance(future.exception(), BrokenProcessPool):
                del self._running[future]
                results.append(future.result())
                continue
            killed = self._broken(alone)  # every file still in the broken pool is lost with it: suspects now
            if alone:  # it was analysed alone: it killed its worker, or someone else did
                self._suspects.remove((path, camera))
                if killed:
                    log.warning("worker killed from outside; analysing its file again", path=str(path))
                    self._suspects.appendleft((path, camera))
                else:
                    results.append(FileResult(path, camera, "error", CRASHED, crashed=True))
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


class LocalRunner:
    """Runs `analyse_file` for a batch on this machine: in `Workers`, or in this process for a single job.

    Args:
        settings: Settings (each file's camera overrides are applied where it is analysed).
        jobs: Worker processes; 1 analyses in the calling process.
        threads: Inference and decoding threads per worker.
    """

    def __init__(self, settings: Settings, jobs: int, threads: int) -> None:
        self.settings, self.jobs, self.threads = settings, jobs, threads

    def run(self, todo: list[tuple[Path, str]]) -> Iterator[FileResult]:
        """Analyse ``(path, camera)`` pairs; yield each result as it is done (any order with several jobs).

        Raises:
            DetectorError: the detector cannot be loaded.
        """
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
