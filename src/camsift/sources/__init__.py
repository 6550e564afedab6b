"""Footage sources of ``camsift run``: one small Protocol, an explicit registry.

A source receives footage (a watched folder, an FTP server, a live stream)
and hands every complete file to the service through one narrow seam,
`Intake.submit`, which makes the file durable work (a row in the job queue,
`camsift.store.intake.DatabaseIntake`) before it returns; a source acknowledges a file (an FTP ``226``) only after
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

from camsift.config import Settings, SourceConfig
from camsift.errors import ConfigError

__all__ = ["Intake", "Source", "available", "create", "register"]

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
