"""Live pictures of twelve stream cameras on the cameras page, in Chromium: refreshed without holding connections."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from camsift.layout import DataDir
from helpers.service import wait_for
from helpers.web import CHROMIUM, PASSWORD, chromium, serve, web_settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)"),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
CAMERAS = ["Front door #2", *(f"cam {n:02d}" for n in range(2, 13))]


def picture(path: Path, width: int, shade: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((width * 9 // 16, width, 3), shade, np.uint8)).save(path, format="JPEG")


def widths(page: Any) -> list[int]:
    return [int(w) for w in page.locator("img[data-live]").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")]


def test_twelve_live_cameras_refresh_and_the_app_stays_usable(tmp_path: Path) -> None:
    sources = {
        f"s{n}": {"type": "stream", "url": "rtsp://127.0.0.1:9/none", "camera": c} for n, c in enumerate(CAMERAS)
    }
    settings = web_settings(tmp_path / "data", sources=sources)
    data = DataDir(settings.data_dir)
    for n, camera in enumerate(CAMERAS):
        picture(data.live_frame(camera), 320, 20 * n)
    with serve(settings) as url, chromium(url, height=2400) as page:
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        page.goto("/login?next=/cameras")
        page.fill("input[name=username]", "ann")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/cameras")

        assert page.locator("img[data-live]").count() == 12
        wait_for(lambda: widths(page) == [320] * 12, 20, "twelve live pictures")
        wait_for(lambda: page.locator("img[data-live][data-updated]").count() == 12, 20, "a refresh of every camera")
        picture(data.live_frame(CAMERAS[0]), 480, 200)  # the stream writes a new picture
        wait_for(lambda: widths(page)[0] == 480, 10, "the new picture of Front door #2")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "10-live-12-cameras.png"))

        started = time.monotonic()
        page.click("header nav a[href='/faces']")  # with MJPEG, the seventh connection never came
        page.wait_for_url("**/faces", timeout=5000)
        assert time.monotonic() - started < 5
        assert not [u for u in asked if "mjpeg" in u]
        assert any("/api/Front%20door%20%232/latest.jpg" in u for u in asked)
