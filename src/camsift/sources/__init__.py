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
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from camsift.config import Settings, SourceConfig
from camsift.errors import ConfigError

__all__ = ["Intake", "Source", "available", "contained", "create", "files_within", "register"]

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

    def known(self, path: Path) -> bool:
        """Whether a file was ever handed in or stored under ``path`` (a new file there would replace its events)."""
        ...

    def stored_sha256(self, path: Path) -> str | None:
        """The SHA-256 (hex) of the file analysed and stored under ``path``, or ``None`` if none was."""
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


def contained(folder: Path, path: Path) -> bool:
    """Whether ``path`` is really inside ``folder``: no symbolic link on the way from ``folder`` to it.

    A source reads, moves and deletes only such files: a link in its folder
    (``settings.jpg -> ../outside/settings.conf``, ``loop -> .``) is never
    followed, so nothing outside the folder is ever read or touched, and a
    link pointing inside the folder loses nothing (its target is seen itself).

    Args:
        folder: The source's folder, absolute and resolved.
        path: An absolute path under ``folder``.
    """
    try:
        inner = path.relative_to(folder)
    except ValueError:
        return False
    step = folder
    for part in inner.parts:
        step = step / part
        if part in ("..", ".") or step.is_symlink():
            return False
    return True


def _regular(path: Path) -> bool:
    """A regular file itself (not a link, a pipe or a device)."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def files_within(folder: Path, top: Path | None = None) -> list[Path]:
    """Media files under ``top`` (default ``folder``), recursively, sorted, never through a symbolic link.

    Hidden files and folders (``.name``) and partial downloads are skipped, as by `camsift.scanner.collect`;
    links to files or folders (and loops) are skipped too (see `contained`).

    Args:
        folder: The source's folder, absolute and resolved.
        top: A folder under ``folder`` to look in (one that just appeared).
    """
    from camsift import media

    top = folder if top is None else top
    if not contained(folder, top) or not top.is_dir():
        return []
    found: list[Path] = []
    for where, dirs, files in os.walk(top):  # never descends into a link to a folder (followlinks=False)
        here = Path(where)
        dirs[:] = [d for d in dirs if not d.startswith(".") and not (here / d).is_symlink()]
        for name in files:
            path = here / name
            if not name.startswith(".") and path.suffix.lower() in media.MEDIA_SUFFIXES and _regular(path):
                found.append(path)
    return sorted(found)


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
