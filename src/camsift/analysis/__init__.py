"""Analysis of footage files, away from the database: one file, and the runners that spread a batch.

- `camsift.analysis.file`: `analyse_file`, what every worker runs on one file
  (pipeline, faces, snapshots), returning a `FileResult`;
- `camsift.analysis.pool`: worker processes on this machine (`Workers`,
  `LocalRunner`) and their set-up (malloc tuning, CPU pinning);
- `camsift.analysis.cluster`: the same on a Dask cluster (`ClusterRunner`,
  needs ``camsift[cluster]``).

Only the caller (`camsift.scanner.scan`, the service) writes the database.
This package's own module imports only `camsift.errors`, so a worker that
imports `camsift.analysis.file` loads no more than that module needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from camsift.errors import ClusterError

if TYPE_CHECKING:
    from camsift.analysis.file import FileResult
    from camsift.config import Settings

__all__ = ["Runner", "runner"]


class Runner(Protocol):
    """Analyses a batch of files somewhere and hands back each result as it is done."""

    def run(self, todo: list[tuple[Path, str]]) -> Iterator[FileResult]:
        """Analyse ``(path, camera)`` pairs; yield one `FileResult` per pair, in any order."""
        ...


def runner(settings: Settings, jobs: int, threads: int, cluster: str | None = None) -> Runner:
    """The runner for a batch: `camsift.analysis.cluster.ClusterRunner` on the Dask scheduler ``cluster``
    (one thread per task unless ``detect.threads`` says more), else `camsift.analysis.pool.LocalRunner`.

    Raises:
        ClusterError: ``cluster`` is given and dask.distributed is not installed.
    """
    if cluster is None:
        from camsift.analysis.pool import LocalRunner

        return LocalRunner(settings, jobs, threads)
    try:
        from camsift.analysis.cluster import ClusterRunner
    except ImportError as err:
        raise ClusterError("--cluster needs dask.distributed; run: pip install 'camsift[cluster]'") from err
    return ClusterRunner(cluster, settings, settings.detect.threads or 1)
