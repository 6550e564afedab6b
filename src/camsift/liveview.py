"""The latest picture of each live camera, on disk for the web app: ``<data_dir>/live/<camera>.jpg``.

A live stream's analysis (its own process) writes the newest decoded frame
about once a second (`LIVE_EVERY_S`); the web app serves it as
``/api/<camera>/latest.jpg`` and as an MJPEG stream. The file is replaced
atomically, so a reader never sees half a picture.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["LIVE_EVERY_S", "live_frame_path", "write_live_frame"]

LIVE_EVERY_S = 1.0
"""Seconds of stream time between two pictures written."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def live_frame_path(data_dir: Path, camera: str) -> Path:
    """Where camera ``camera``'s latest picture lives (its name reduced to ``[A-Za-z0-9._-]``)."""
    name = _UNSAFE.sub("_", camera).strip("._") or "camera"
    return data_dir.resolve() / "live" / f"{name}.jpg"


def write_live_frame(data_dir: Path, camera: str, rgb: npt.NDArray[np.uint8]) -> None:
    """Replace camera ``camera``'s latest picture with ``rgb`` (``(H, W, 3)`` uint8), as a JPEG."""
    from PIL import Image

    path = live_frame_path(data_dir, camera)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(rgb).save(tmp, format="JPEG", quality=80)
    os.replace(tmp, path)
