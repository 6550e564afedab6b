"""Every error camsift raises on purpose.

The tree::

    CamsiftError                 base of all; catch this to catch camsift's own errors
    ├── ConfigError              a config file, option or environment override is invalid
    ├── MediaError               a clip or image cannot be opened or decoded (names the file)
    ├── DetectorError            a detector model is missing, broken, or needs an extra
    ├── FaceError                a known-faces request cannot be done (bad name, no such person, group or event)
    ├── StorageError             the event store or data directory cannot be used
    ├── SourceError              a footage source (folder, FTP, stream, Blink) failed
    │   └── RateLimitError       a cloud service asked camsift to slow down (HTTP 429/5xx)
    ├── AuthError                a login or token was refused (never carries the secret)
    ├── ClusterError             a Dask cluster (scan --cluster) cannot be reached or used
    ├── DriveError               the USB-drive mode (camsift drive) cannot use an image or the USB gadget
    └── NotifyError              a notification channel failed

Messages are one line, say what was expected and what was found, and name the
file when there is one. Library errors are wrapped with ``raise ... from err``
so the original stays reachable for debugging without reaching the user.
"""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = [
    "AuthError",
    "CamsiftError",
    "ClusterError",
    "ConfigError",
    "DetectorError",
    "DriveError",
    "FaceError",
    "MediaError",
    "NotifyError",
    "RateLimitError",
    "SourceError",
    "StorageError",
    "disk_full",
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


class FaceError(CamsiftError):
    """A known-faces request cannot be done: a bad name, or no such person, group or event."""


class ClusterError(CamsiftError):
    """A Dask cluster (``camsift scan --cluster``) cannot be reached, or lacks camsift on its workers."""


class StorageError(CamsiftError):
    """The event store or the data directory cannot be used."""


class SourceError(CamsiftError):
    """A footage source (watched folder, FTP, live stream, Blink) failed."""


class RateLimitError(SourceError):
    """A cloud service (Blink) answered 429 or 5xx: wait before asking again.

    Args:
        message: One line naming the service and the answer.
        retry_after_s: Seconds the service asked for (``Retry-After``), else ``None``.
    """

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message)


class DriveError(CamsiftError):
    """The USB-drive mode (``camsift drive``) cannot use a disk image or the Linux USB gadget."""


class AuthError(CamsiftError):
    """A login or token was refused. The message never contains the secret."""


class NotifyError(CamsiftError):
    """A notification channel could not deliver a message."""


_FULL_MESSAGES = ("database or disk is full", "no space left on device", "could not extend file", "disk quota exceeded")
"""How a full disk reads in SQLite's, the C library's and PostgreSQL's messages (lower case)."""


def disk_full(err: BaseException | str | None) -> bool:
    """Whether an error (or one of its causes), or an error message, says the disk is full.

    A full disk is a state to wait out, not a fault of the file or the service: ``ENOSPC``/``EDQUOT``,
    SQLite's ``SQLITE_FULL`` ("database or disk is full"), PostgreSQL's ``53100 disk_full``.
    """
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, str):
            return any(m in err.lower() for m in _FULL_MESSAGES)
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(err, "pgcode", None) == "53100" or any(m in str(err).lower() for m in _FULL_MESSAGES):
            return True
        err = err.__cause__ or err.__context__ or getattr(err, "orig", None)
        seen += 1
    return False
