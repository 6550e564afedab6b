"""When footage was taken: container metadata, EXIF, a date-time or epoch in its name, else its mtime."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from camsift.media.decode import MediaInfo

__all__ = ["capture_time"]


# Timestamps cameras put in file names, most specific first. Named groups feed datetime().
_NAME_PATTERNS = [
    re.compile(
        r"(?<!\d)(?P<Y>20\d\d)[-_.]?(?P<m>[01]\d)[-_.]?(?P<d>[0-3]\d)[T_\-. ]?"
        r"(?P<H>[0-2]\d)[-_:.hH]?(?P<M>[0-5]\d)[-_:.mM]?(?P<S>[0-5]\d)(?!\d)"
    ),
]
_EPOCH = re.compile(r"(?<!\d)(1[5-9]\d{8})(?:\d{3})?(?!\d)")  # 2017..2033 in seconds (or ms)


def _to_utc(naive: datetime, local: tzinfo | None) -> datetime:
    """A wall-clock time in ``local`` (``None``: this machine's zone) as UTC."""
    return naive.replace(tzinfo=local).astimezone(UTC) if local else naive.astimezone(UTC)


def capture_time(path: Path, info: MediaInfo, mtime: float, local: tzinfo | None = None) -> tuple[datetime, str]:
    """When the footage was taken, as UTC, and where that came from.

    Order: container metadata (UTC) or EXIF (wall-clock, read in ``local``); a date-time in the file or folder name
    (``20261122_143005``, ``2026-11-22T14-30-05``, read from the full path);
    a Unix epoch in the name (Xiaomi's ``05M30S_1700000000.mp4``); else the file's mtime
    minus the clip duration (cameras close the file when recording stops).

    Args:
        path: The media file.
        info: Its `probe` result.
        mtime: The file's modification time, Unix seconds.
        local: Time zone of EXIF times and of times written in names; ``None`` = this machine's.

    Returns:
        ``(start_utc, origin)`` with origin one of ``"metadata"``, ``"name"``,
        ``"epoch"``, ``"mtime"``.
    """
    if info.created_utc is not None:
        return info.created_utc, "metadata"
    if info.taken_local is not None:
        return _to_utc(info.taken_local, local), "metadata"
    text = path.as_posix()
    for pattern in _NAME_PATTERNS:
        for match in reversed(list(pattern.finditer(text))):
            g = {k: int(v) for k, v in match.groupdict().items()}
            try:
                naive = datetime(g["Y"], g["m"], g["d"], g["H"], g["M"], g["S"])
            except ValueError:
                continue
            return _to_utc(naive, local), "name"
    epoch = _EPOCH.search(path.name)
    if epoch:
        return datetime.fromtimestamp(int(epoch.group(1)), UTC), "epoch"
    return datetime.fromtimestamp(mtime, UTC) - timedelta(seconds=info.duration_s), "mtime"
