"""Screenshots of the web app for the README (``docs/screenshots/``), over real footage scanned now.

Scans a crowded street clip, a photo of two people (camera ``Front door #2``) and a bicycle clip from
``../shared/data``, serves the app with uvicorn and photographs the main pages in Debian's Chromium at
desktop (1366x800) and phone (390x844) sizes.

    PYTHONPATH=src .venv/bin/python tools/web_screenshots.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
FOOTAGE = {
    "street": "clips/anubhav666_example_01_street.mp4",
    "Front door #2": "faces/two_people.jpg",
    "corridor": "clips/lrslibrary_i2r_shop_corridor.avi",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from camsift import scan
    from helpers.web import PASSWORD, chromium, serve, web_settings

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for camera, name in FOOTAGE.items():
            (root / "footage" / camera).mkdir(parents=True)
            shutil.copy(args.data / name, root / "footage" / camera)
        settings = web_settings(root / "data")
        scan([root / "footage"], settings, jobs=1)
        with serve(settings) as url:
            for size, dims in {"desktop": (1366, 800), "phone": (390, 844)}.items():
                mobile = size == "phone"
                with chromium(url, width=dims[0], height=dims[1], is_mobile=mobile, has_touch=mobile) as page:
                    page.goto("/login")
                    page.fill("input[name=username]", "ann")
                    page.fill("input[name=password]", PASSWORD)
                    page.screenshot(path=str(OUT / f"login-{size}.png"))
                    page.click("button[type=submit]")
                    page.wait_for_url("**/")
                    page.wait_for_timeout(800)
                    page.screenshot(path=str(OUT / f"review-{size}.png"), full_page=not mobile)
                    page.goto(str(page.locator(".card a.open").first.get_attribute("href")))
                    page.wait_for_timeout(500)
                    page.screenshot(path=str(OUT / f"item-{size}.png"))
                    event = page.locator(".objects a.open").first.get_attribute("href")
                    page.goto(str(event))
                    page.wait_for_timeout(500)
                    page.screenshot(path=str(OUT / f"event-{size}.png"))
                    page.goto(f"{event}/false_positive")
                    page.screenshot(path=str(OUT / f"false-positive-{size}.png"))
                    page.goto("/cameras")
                    page.screenshot(path=str(OUT / f"cameras-{size}.png"))
    print("\n".join(sorted(p.name for p in OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
