"""Scans on a Dask distributed cluster: ``camsift scan --cluster tcp://HOST:8786``.

Importing this module needs ``camsift[cluster]`` (dask.distributed); `camsift.analysis.runner`
imports it only when asked for a cluster.

The machine that runs the scan (the client) finds the files, skips those
already recorded, and hands each remaining file to the cluster as one task:
`camsift.analysis.file.analyse_file`, the same function a local scan runs in its
worker processes. Each Dask worker process loads the detector once (a worker
plugin loads it as the worker joins, and `camsift.analysis.file.shared_detector`
keeps it for every later file), saves the snapshots itself, and sends back the
`FileResult`; the client alone writes the database, one transaction per file,
exactly as a local scan does. The same files therefore give the same events.

Every worker needs: camsift installed (same version, with ``camsift[cluster]``),
the footage at the same absolute paths as the client, and the data directory
at the same absolute path (a shared mount: NFS, SMB), because snapshots are
written by the worker that analysed the file. See the README for starting a
scheduler and workers on several machines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from distributed import Client, WorkerPlugin, as_completed
from distributed.client import FutureCancelledError
from distributed.scheduler import KilledWorker

from camsift.analysis.file import FileResult, analyse_file, shared_detector
from camsift.analysis.pool import prepare_worker
from camsift.config import Settings
from camsift.errors import ClusterError
from camsift.faces.recognizer import faces_settled

__all__ = ["ClusterRunner", "connect"]

PLUGIN = "camsift-detector"
"""Name of the worker plugin that loads the detector (registering again replaces it)."""


def connect(address: str, timeout_s: float = 10.0) -> Any:
    """A Dask client connected to the scheduler at ``address``.

    Args:
        address: ``tcp://HOST:8786`` (or any address ``distributed.Client`` takes).
        timeout_s: Seconds to wait for the scheduler.

    Returns:
        A ``distributed.Client`` (typed ``Any``: dask is an optional extra).

    Raises:
        ClusterError: the scheduler cannot be reached.
    """
    try:
        return Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {str(err).splitlines()[0]}") from err


def _load_detector(settings: Settings, threads: int) -> None:
    """On a worker: set it up as a local worker is (`camsift.analysis.pool.prepare_worker`), and load
    the detector now, not at the first file.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (its config
    ``distributed.nanny.pre-spawn-environ``) so that they hand freed memory back to
    the system. That also pins glibc's mmap threshold at 128 kB, so every frame,
    crop and input tensor was mmap-ed, zero-filled and unmapped again: detection on
    the shop-corridor clip took 6.2 s in a worker against 2.5 s in a local worker
    process (while ONNX Runtime's own arena was off); `camsift.analysis.pool.tune_malloc`
    overrides it (2.4-2.7 s).
    """
    prepare_worker()
    shared_detector(settings, threads)


class _LoadDetector(WorkerPlugin):
    """Dask worker plugin: `_load_detector` as each worker joins (existing and later ones)."""

    name = PLUGIN

    def __init__(self, settings: Settings, threads: int) -> None:
        self.settings, self.threads = settings, threads

    def setup(self, worker: Any) -> None:
        _load_detector(self.settings, self.threads)


class ClusterRunner:
    """Runs `analyse_file` for a batch of files on a Dask cluster (see the module docstring).

    Args:
        address: The scheduler, ``tcp://HOST:8786``.
        settings: Settings; ``data_dir`` is made absolute so every worker writes to the same place.
        threads: Inference and decoding threads per task (run workers with ``--nthreads 1`` and one
            worker process per core, or raise ``detect.threads`` with fewer, bigger workers).
        timeout_s: Seconds to wait for the scheduler.

    Example:
        >>> runner = ClusterRunner("tcp://10.0.0.5:8786", Settings(data_dir=Path("/mnt/camsift")), 1)  # doctest: +SKIP
        >>> for result in runner.run([(Path("/mnt/footage/a.mp4"), "porch")]):  # doctest: +SKIP
        ...     print(result.path, result.status, len(result.events))
    """

    def __init__(self, address: str, settings: Settings, threads: int, *, timeout_s: float = 10.0) -> None:
        self.address, self.threads, self.timeout_s = address, threads, timeout_s
        self.settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})

    def run(self, todo: list[tuple[Path, str]]) -> Iterator[FileResult]:
        """Analyse the files on the cluster; yield each result as it arrives (any order).

        A file whose worker died on it (the scheduler gave up after retrying on other workers) is an
        ``error`` result; the others complete.

        Raises:
            ClusterError: the scheduler cannot be reached, has no camsift, or the connection was lost.
            DetectorError: a worker could not load the detector.
        """
        if not todo:
            return
        client = connect(self.address, self.timeout_s)
        futures: dict[Any, tuple[Path, str]] = {}
        try:
            client.register_plugin(_LoadDetector(self.settings, self.threads), name=PLUGIN)
            settings = faces_settled(self.settings)  # once for the batch, as the files are all submitted now
            for path, camera in todo:
                future = client.submit(analyse_file, path, camera, settings, self.threads, pure=False)
                futures[future] = (path, camera)
            for future in as_completed(futures, loop=client.loop):
                path, camera = futures[future]
                try:
                    yield future.result()
                except KilledWorker:
                    yield FileResult(path, camera, "error", "a cluster worker died on this file")
                except (FutureCancelledError, OSError) as err:
                    raise ClusterError(f"lost the Dask cluster at {self.address}: {err}") from err
                except ModuleNotFoundError as err:
                    raise ClusterError(f"a worker of {self.address} lacks {err.name}: install camsift there") from err
        finally:
            client.cancel(list(futures))
            client.close()
