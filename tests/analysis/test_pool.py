"""`camsift.analysis.pool`: worker processes, each on CPUs of its own, without the database layer."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from typing import cast

import pytest

from camsift import Settings
from camsift.analysis.file import FileResult
from camsift.analysis.pool import CRASHED, Workers, oom_kills
from helpers.media import Walk, write_clip
from helpers.service import wait_for

CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def affinity_soon() -> list[int]:
    """A worker's CPUs, a moment after it started its task (so that two tasks go to two workers)."""
    time.sleep(0.5)
    return sorted(os.sched_getaffinity(0))


def pinned_in_a_new_process(slot: int, threads: int) -> list[int]:
    code = (
        "import os; from camsift.analysis.pool import pin_worker; "
        f"pin_worker({slot}, {threads}); print(sorted(os.sched_getaffinity(0)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [int(c) for c in re.findall(r"\d+", done.stdout)]


@pytest.mark.skipif(len(CPUS) < 2, reason="needs Linux and at least 2 CPUs")
@pytest.mark.parametrize(("slot", "threads"), [(0, 1), (1, 1), (0, 2), (1, 2), (2, 1)])
def test_pin_worker_gives_each_slot_cpus_of_its_own(slot: int, threads: int) -> None:
    mine = CPUS[slot * threads : (slot + 1) * threads]

    got = pinned_in_a_new_process(slot, threads)

    assert got == (mine if len(mine) == threads else CPUS)  # more slots than CPUs: left to the system


@pytest.mark.skipif(len(CPUS) < 2, reason="needs Linux and at least 2 CPUs")
def test_workers_each_take_a_cpu_of_their_own() -> None:
    workers = Workers(Settings(), jobs=2, threads=1)
    try:
        pool = workers._pool(alone=False)
        got = sorted(tuple(f.result()) for f in [pool.submit(affinity_soon) for _ in range(2)])
    finally:
        workers.close()

    assert got == [(CPUS[0],), (CPUS[1],)]


def test_a_worker_analyses_a_clip_without_loading_the_database_layer(tmp_path: Path) -> None:
    """Workers write pictures, never the database: SQLAlchemy would cost each of them 22 MB. With no known
    face, ``faces.enabled: auto`` is settled before the file reaches the worker (`faces_settled`)."""
    clip = write_clip(tmp_path / "porch" / "a.mp4", [Walk(0.5, 2.5)], seconds=3.0).path
    workers = Workers(Settings(data_dir=tmp_path / "data"), jobs=1, threads=1)
    try:
        workers.submit(clip, "porch")
        results = workers.poll(None)
        loaded = workers._pool(alone=False).submit(eval, "sorted({'sqlalchemy', 'alembic'} & set(sys.modules))")
        assert [r.status for r in results] == ["ok"]
        assert loaded.result() == []
    finally:
        workers.close()


def analysing_alone(workers: Workers, path: Path) -> int:
    """Make the one-worker pool busy with ``path`` (a task that sleeps, standing in for its analysis, so that a
    kill always finds it running); returns the pid of that pool's worker."""
    workers._oom_kills = oom_kills()
    pool = workers._pool(alone=True)
    stand_in = cast("Future[FileResult]", pool.submit(time.sleep, 60))
    workers._running[stand_in] = (path, "porch", True)
    return next(iter(pool._processes))


def results_of(workers: Workers) -> list[FileResult]:
    results: list[FileResult] = []
    while workers.busy:
        results += workers.poll(None)
    return results


def test_a_worker_killed_while_idle_is_replaced_and_the_next_file_analysed(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "porch" / "a.mp4", [Walk(0.5, 2.5)], seconds=3.0).path
    workers = Workers(Settings(data_dir=tmp_path / "data"), jobs=1, threads=1)
    try:
        workers.submit(clip, "porch")
        assert [r.status for r in results_of(workers)] == ["ok"]
        pool = workers._pool(alone=False)
        [pid] = pool._processes
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: pool._broken, 30, "the pool to notice its worker is gone")

        workers.submit(clip, "porch")
        assert [(r.status, r.crashed) for r in results_of(workers)] == [("ok", False)]
    finally:
        workers.close()


@pytest.mark.parametrize(
    ("how", "outcome"),
    [
        (signal.SIGKILL, [("ok", None, False)]),  # killed from outside (not by the out-of-memory killer): again
        (signal.SIGSEGV, [("error", CRASHED, True)]),  # a decoder crash: the file's fault
    ],
)
def test_a_worker_dying_on_a_file_alone_is_a_crash_unless_killed_from_outside(
    tmp_path: Path, how: signal.Signals, outcome: list[tuple[str, str | None, bool]]
) -> None:
    clip = write_clip(tmp_path / "porch" / "a.mp4", [Walk(0.5, 2.5)], seconds=3.0).path
    workers = Workers(Settings(data_dir=tmp_path / "data"), jobs=1, threads=1)
    try:
        os.kill(analysing_alone(workers, clip), how)

        assert [(r.status, r.error, r.crashed) for r in results_of(workers)] == outcome
    finally:
        workers.close()
