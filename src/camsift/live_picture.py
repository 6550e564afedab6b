"""The latest picture of each live camera, on disk for the web app: ``<data_dir>/live/<camera>.jpg``.

A live stream's analysis (its own process) writes the newest decoded frame
about once a second (`LIVE_EVERY_S`); the web app serves it as
``/api/<camera>/latest.jpg`` and as an MJPEG stream. The file is replaced
atomically (`camsift.layout.atomic_writer`), so a reader never sees half a
picture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from camsift.layout import DataDir, atomic_writer

__all__ = ["LIVE_EVERY_S", "write_jpeg", "write_live_frame"]

LIVE_EVERY_S = 1.0
"""Seconds of stream time between two pictures written."""


def write_live_frame(data_dir: Path, camera: str, rgb: npt.NDArray[np.uint8]) -> None:
    """Replace camera ``camera``'s latest picture (`DataDir.live_frame`) with ``rgb`` (``(H, W, 3)`` uint8), as a
    JPEG. Not fsync'd: the next one comes a second later, and a power cut loses nothing worth keeping."""
    write_jpeg(DataDir(data_dir).live_frame(camera), rgb, sync=False)


def write_jpeg(path: Path, rgb: npt.NDArray[np.uint8], *, sync: bool = True) -> None:
    """Write ``rgb`` (``(H, W, 3)`` uint8) to ``path`` as a JPEG (quality 80), atomically (fsync'd if ``sync``).

    Raises:
        OSError: the file cannot be written.
    """
    from PIL import Image

    with atomic_writer(path, sync=sync) as f:
        Image.fromarray(rgb).save(f, format="JPEG", quality=80)
