"""The latest picture of a live camera: written by the stream's process, read by the web app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from camsift.config import Settings, StreamSourceConfig
from camsift.layout import DataDir
from camsift.live_picture import write_live_frame
from camsift.sources.stream import StreamSource
from camsift.store import Store
from camsift.store.intake import DatabaseIntake
from helpers.media import GREY, Walk, write_clip
from helpers.service import free_port, needs_ffmpeg, serve_stream, wait_for


def test_write_replaces_the_picture_and_names_stay_inside(tmp_path: Path) -> None:
    write_live_frame(tmp_path, "porch", np.zeros((20, 30, 3), np.uint8))
    write_live_frame(tmp_path, "porch", np.full((40, 60, 3), 255, np.uint8))

    with Image.open(DataDir(tmp_path).live_frame("porch")) as picture:
        assert picture.size == (60, 40)
    assert [p.name for p in (tmp_path / "live").iterdir()] == ["porch.jpg"]  # no temporary file left
    assert DataDir(tmp_path).live_frame("../../etc/passwd").parent == (tmp_path / "live").resolve()


@needs_ffmpeg
def test_a_stream_keeps_its_latest_picture(
    scripted_settings: Callable[..., Settings], data_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    clip = write_clip(tmp_path / "walker.mp4", [Walk(1.0, 4.0)], seconds=5.0, fps=10, size=(320, 180)).path
    path = DataDir(data_dir).live_frame("door")

    with Store(data_dir) as store, serve_stream(clip, port) as server:
        config = StreamSourceConfig(type="stream", url=f"tcp://127.0.0.1:{port}", camera="door", timeout_s=3)
        source = StreamSource("door-stream", config, scripted_settings(), DatabaseIntake(store))
        source.start()
        try:
            wait_for(path.is_file, 20, "the live picture")
            server.wait(timeout=10)
        finally:
            source.stop()

    with Image.open(path) as picture:
        assert picture.size == (320, 180)
        pixels = np.asarray(picture.convert("RGB"))
    assert pixels[2].mean() < 40  # the generated clip's black band at the top
    assert abs(float(np.median(pixels[90])) - GREY) < 20  # and its grey background
