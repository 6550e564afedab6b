"""The sources' intake in the event store: a received file becomes a durable job, a source's state a row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from camsift.store import Store

__all__ = ["DatabaseIntake"]


class DatabaseIntake:
    """`camsift.sources.Intake` writing to the event store's database (usable from any process).

    Args:
        store: The open store.
        wake: Called after each new job (the service's dispatcher wakes up at once).
    """

    def __init__(self, store: Store, wake: Callable[[], None] | None = None) -> None:
        self.store = store
        self.queue = store.jobs
        self.board = store.board
        self._wake = wake

    def submit(self, path: Path, camera: str, source: str, origin: str) -> bool:
        """See `camsift.sources.Intake.submit`."""
        new = self.queue.submit(path, camera, source, origin)
        if new and self._wake is not None:
            self._wake()
        return new

    def report(self, source: str, kind: str, state: str, detail: str = "", error: str | None = None) -> None:
        """See `camsift.sources.Intake.report`."""
        self.board.report(f"source:{source}", kind, state, detail, error=error)

    def known(self, path: Path) -> bool:
        """See `camsift.sources.Intake.known`."""
        return self.queue.known(path) or self.store.file(path) is not None
