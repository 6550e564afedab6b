"""The deletion journal: one batch's files, on disk before its rows are deleted (see `camsift.retention`)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from camsift.errors import StorageError
from camsift.layout import DataDir, atomic_writer

__all__ = ["Journal", "settling"]


class Journal:
    """One batch's files, written to ``<data_dir>/retention-journal/<id>.json`` (`DataDir.journal`).

    Written by `atomic_writer` (fsync'd and renamed, folder fsync'd), so a journal is whole or
    absent; its writer locks it before the rename and holds the lock until the batch is done,
    so `camsift.retention.Retention.repair` in another process leaves a live batch alone. Use as ``with``:
    leaving without an error removes it; on an error it stays, and repair settles it.

    Args:
        data: The data directory.
        names: The batch's files, relative to the data directory.

    Raises:
        StorageError: on entering, the journal cannot be written (a full disk: `camsift.errors.disk_full`).
    """

    def __init__(self, data: DataDir, names: list[str]) -> None:
        self.path = data.journal / f"{uuid.uuid4().hex}.json"
        self.names = names
        self._lock: int | None = None

    def __enter__(self) -> Journal:
        try:
            with atomic_writer(self.path) as out:
                out.write(json.dumps({"paths": self.names}).encode())
                fcntl.flock(out.fileno(), fcntl.LOCK_EX)
                self._lock = os.dup(out.fileno())  # the lock lives as long as a descriptor of the file
        except OSError as err:
            if self._lock is not None:  # a journal renamed into place stays, and repair settles it
                os.close(self._lock)
            raise StorageError(f"{self.path}: cannot write the retention journal: {err.strerror or err}") from err
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:  # on an error the journal stays, and repair settles it
            self.path.unlink(missing_ok=True)
        if self._lock is not None:
            os.close(self._lock)


@contextlib.contextmanager
def settling(journal: Path) -> Iterator[list[str] | None]:
    """The names in a journal left by an interrupted batch, its lock held until the ``with`` body is done;
    ``None`` when its writer is alive and working on it, or it is gone (settled by its writer meanwhile).
    A corrupt journal lists nothing."""
    try:
        handle = journal.open("r")
    except FileNotFoundError:  # settled by its writer meanwhile
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # its writer is alive and working on it
            yield None
            return
        try:
            names = [str(n) for n in json.load(handle)["paths"]]
        except (ValueError, KeyError, TypeError):
            names = []  # a journal cut by a crash before its rename cannot exist; a corrupt one lists nothing
        yield names
