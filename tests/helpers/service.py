"""Helpers for the tests of the always-on service: a fake intake, a live stream served by FFmpeg, waiting."""

from __future__ import annotations

import errno
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import av
import numpy as np
import pytest

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None, reason="ffmpeg not on PATH: the live-stream tests serve a stream with it (apt-get install ffmpeg)"
)


@dataclass
class FakeIntake:
    """An `Intake` that remembers what it was given, in memory."""

    submitted: list[tuple[Path, str, str, str]] = field(default_factory=list)
    reports: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)

    def submit(self, path: Path, camera: str, source: str, origin: str) -> bool:
        self.submitted.append((path, camera, source, origin))
        return True

    def report(self, source: str, kind: str, state: str, detail: str = "", error: str | None = None) -> None:
        self.reports.append((source, kind, state, detail, error))

    def known(self, path: Path) -> bool:
        return path in self.paths

    def stored_sha256(self, path: Path) -> str | None:
        return None  # nothing is analysed here

    @property
    def paths(self) -> list[Path]:
        return [p for p, *_ in self.submitted]


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    """Whether a server accepts connections on 127.0.0.1:``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float, what: str, step: float = 0.1) -> T:
    """Poll ``check`` until it returns something true, and return that; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@contextmanager
def serve_stream(clip: Path, port: int, gop: int = 10) -> Iterator[subprocess.Popen[bytes]]:
    """FFmpeg plays ``clip`` in real time as MPEG-TS to the first client of ``tcp://127.0.0.1:<port>``.

    It re-encodes with a keyframe every ``gop`` frames (a camera's stream has one every second or two)
    and starts playing only when the client connects.
    """
    assert FFMPEG is not None
    command = [FFMPEG, "-hide_banner", "-loglevel", "error", "-re", "-i", str(clip), "-an", "-c:v", "libx264"]
    command += ["-preset", "ultrafast", "-g", str(gop), "-f", "mpegts", f"tcp://127.0.0.1:{port}?listen=1"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield server
    finally:
        server.kill()
        server.wait()


def red_times(clip: Path) -> tuple[list[float], float]:
    """Times (seconds from the clip's first frame) of the frames showing the red rectangle, and the last frame's."""
    times, last = [], 0.0
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        first = None
        for frame in container.decode(stream):
            assert frame.time is not None
            first = frame.time if first is None else first
            last = frame.time - first
            rgb = frame.to_ndarray(format="rgb24")
            if np.any((rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)):
                times.append(last)
    return times, last


def fill_up(folder: Path) -> Path:
    """Write a file in ``folder`` until its disk is full (``ENOSPC``); returns it."""
    filler = folder / "filler.bin"
    with pytest.raises(OSError, match="No space left") as full, filler.open("wb") as f:  # noqa: PT012 - writing until the disk is full
        while True:
            f.write(bytes(64 * 1024))
            f.flush()
    assert full.value.errno == errno.ENOSPC
    assert shutil.disk_usage(folder).free < 64 * 1024
    return filler
