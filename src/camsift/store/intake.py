"""The sources' intake in the event store: a received file becomes a durable job, a source's state a row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from camsift.logs import get_logger

if TYPE_CHECKING:
    from camsift.store import Store

__all__ = ["DatabaseIntake"]

log = get_logger("camsift.sources")


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
        """See `camsift.sources.Intake.report`. A state that cannot be written (a full disk, a busy database) is
        logged, not raised: it is only a status line, and the source must go on."""
        try:
            self.board.report(f"source:{source}", kind, state, detail, error=error)
        except sa.exc.SQLAlchemyError as err:
            log.warning(
                "cannot write a source's state", source=source, state=state, reason=str(getattr(err, "orig", err))
            )

    def known(self, path: Path) -> bool:
        """See `camsift.sources.Intake.known`."""
        return self.queue.known(path) or self.store.file(path) is not None

    def stored_sha256(self, path: Path) -> str | None:
        """See `camsift.sources.Intake.stored_sha256`."""
        record = self.store.file(path)
        return None if record is None else record.sha256
