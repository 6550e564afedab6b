"""Every error camsift raises on purpose.

The tree::

    CamsiftError                 base of all; catch this to catch camsift's own errors
    ├── ConfigError              a config file, option or environment override is invalid
    ├── MediaError               a clip or image cannot be opened or decoded (names the file)
    ├── DetectorError            a detector model is missing, broken, or needs an extra
    ├── StorageError             the event store or data directory cannot be used
    ├── SourceError              a footage source (folder, FTP, stream, Blink) failed
    ├── AuthError                a login or token was refused (never carries the secret)
    └── NotifyError              a notification channel failed

Messages are one line, say what was expected and what was found, and name the
file when there is one. Library errors are wrapped with ``raise ... from err``
so the original stays reachable for debugging without reaching the user.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AuthError",
    "CamsiftError",
    "ConfigError",
    "DetectorError",
    "MediaError",
    "NotifyError",
    "SourceError",
    "StorageError",
]


class CamsiftError(Exception):
    """Base class of every error camsift raises on purpose."""


class ConfigError(CamsiftError):
    """A config file, CLI option or environment override is invalid."""


class MediaError(CamsiftError):
    """A clip or image cannot be opened or decoded.

    Args:
        path: The file that failed.
        reason: One line saying what is wrong with it.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class DetectorError(CamsiftError):
    """A detector model is missing, broken, or needs an optional extra."""


class StorageError(CamsiftError):
    """The event store or the data directory cannot be used."""


class SourceError(CamsiftError):
    """A footage source (watched folder, FTP, live stream, Blink) failed."""


class AuthError(CamsiftError):
    """A login or token was refused. The message never contains the secret."""


class NotifyError(CamsiftError):
    """A notification channel could not deliver a message."""
