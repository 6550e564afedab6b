"""Helpers for the Blink tests (fixtures are in ``helpers.blink_fixtures``, loaded with ``pytest_plugins``)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("blinkpy", reason="Blink tests need the blink extra: pip install 'camsift[blink]'")
pytest.importorskip("trustme", reason="the fake Blink server needs trustme (dev extra)")

from helpers.blink_fake import PASSWORD, FakeBlink
from helpers.service import FFMPEG

__all__ = ["EMAIL", "MP4", "PASSWORD", "FakeBlink", "minutes_ago", "ts_of"]

EMAIL = "owner@example.com"

MP4 = b"\x00\x00\x00\x18ftypmp42"
"""The start of an MP4 (what camsift checks a download by)."""


def ts_of(clip: Path, seconds: float = 4.0) -> bytes:
    """The first ``seconds`` of ``clip`` as MPEG-TS (H.264, a keyframe every 10 frames), as Blink's live view sends."""
    assert FFMPEG is not None
    command = [FFMPEG, "-hide_banner", "-loglevel", "error", "-t", str(seconds), "-i", str(clip), "-an"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-f", "mpegts", "-"]
    return subprocess.run(command, check=True, capture_output=True).stdout


def minutes_ago(minutes: float) -> datetime:
    """An aware UTC time ``minutes`` before now."""
    return datetime.now(UTC) - timedelta(minutes=minutes)
