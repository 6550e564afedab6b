"""Footage sources of ``camsift run``: one small Protocol, an explicit registry.

A source receives footage (a watched folder, an FTP server, a live stream)
and hands every complete file to the service through one narrow seam,
`Intake.submit`, which makes the file durable work (a row in the job queue)
before it returns; a source acknowledges a file (an FTP ``226``) only after
that. The service analyses the file in its workers, stores the events, then
calls the source's `Source.processed` (delete or move the file if configured).

Backends register with ``@register("kind")``; the list of backend modules
below is explicit, and each keeps its heavy imports (watchfiles, pyftpdlib,
PyAV) inside its methods so that importing camsift stays cheap.

Example:
    >>> source = create("porch", settings.sources["porch"], settings, intake)  # doctest: +SKIP
    >>> source.start()  # doctest: +SKIP
    >>> source.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa

from camsift.config import Settings, SourceConfig
from camsift.errors import ConfigError
from camsift.logs import get_logger
from camsift.store import Store
from camsift.store.queue import JobQueue
from camsift.store.status import ServiceBoard

log = get_logger("camsift.sources")

__all__ = ["DatabaseIntake", "Intake", "Source", "available", "create", "register"]

# kind -> module that registers it; imported only when that kind is configured.
_MODULES: dict[str, str] = {
    "folder": "camsift.sources.folder",
    "ftp": "camsift.sources.ftp",
    "stream": "camsift.sources.stream",
    "blink": "camsift.sources.blink",
}

_FACTORIES: dict[str, Callable[..., Source]] = {}


class Intake(Protocol):
    """The seam between sources and the service."""

    def submit(self, path: Path, camera: str, source: str, origin: str) -> bool:
        """Make ``path`` durable work for ``camera``; returns ``False`` if this exact file was already queued.

        Raises:
            StorageError: the job could not be recorded (the source must not acknowledge the file).
        """
        ...

    def report(self, source: str, kind: str, state: str, detail: str = "", error: str | None = None) -> None:
        """Publish a source's state for ``camsift status`` (``detail`` and ``error`` carry no secret)."""
        ...


class Source(Protocol):
    """What every source backend provides.

    Attributes:
        name: The source's key under ``sources:`` in the config.
        kind: Its ``type`` (``folder``, ``ftp``, ``stream`` …).
    """

    name: str
    kind: str

    def start(self) -> None:
        """Begin receiving in a thread or process of its own; returns at once.

        Raises:
            SourceError: the source cannot start (port taken, missing extra).
        """
        ...

    def stop(self) -> None:
        """Stop receiving within a few seconds; flush what is in progress (a recording is closed and queued)."""
        ...

    def processed(self, path: Path, events: int) -> None:
        """Called by the service after a file from this source is analysed and stored, with its event count."""
        ...


class DatabaseIntake:
    """`Intake` writing to the event store's database (usable from any process).

    Args:
        store: The open store.
        wake: Called after each new job (the service's dispatcher wakes up at once).
    """

    def __init__(self, store: Store, wake: Callable[[], None] | None = None) -> None:
        self.queue = JobQueue(store.engine)
        self.board = ServiceBoard(store.engine)
        self._wake = wake

    def submit(self, path: Path, camera: str, source: str, origin: str) -> bool:
        """See `Intake.submit`."""
        new = self.queue.submit(path, camera, source, origin)
        if new and self._wake is not None:
            self._wake()
        return new

    def report(self, source: str, kind: str, state: str, detail: str = "", error: str | None = None) -> None:
        """See `Intake.report`. A state that cannot be written (a full disk, a busy database) is logged, not
        raised: it is only a status line, and the source must go on."""
        try:
            self.board.report(f"source:{source}", kind, state, detail, error=error)
        except sa.exc.SQLAlchemyError as err:
            log.warning(
                "cannot write a source's state", source=source, state=state, reason=str(getattr(err, "orig", err))
            )


def register(kind: str) -> Callable[[Callable[..., Source]], Callable[..., Source]]:
    """Class decorator that records a source factory under ``kind``."""

    def deco(factory: Callable[..., Source]) -> Callable[..., Source]:
        _FACTORIES[kind] = factory
        return factory

    return deco


def available() -> list[str]:
    """Kinds that `create` accepts."""
    return sorted(_MODULES)


def create(name: str, config: SourceConfig, settings: Settings, intake: Intake) -> Source:
    """Build the source ``name`` from its config.

    Args:
        name: Its key under ``sources:``.
        config: Its config (the ``type`` picks the backend).
        settings: The whole configuration.
        intake: Where it hands files in.

    Raises:
        ConfigError: unknown kind.
    """
    if config.type not in _MODULES:
        raise ConfigError(f"sources.{name}: unknown type {config.type!r}; expected one of {', '.join(available())}")
    if config.type not in _FACTORIES:
        importlib.import_module(_MODULES[config.type])
    return _FACTORIES[config.type](name, config, settings, intake)
