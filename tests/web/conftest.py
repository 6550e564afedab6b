"""Fixtures of the web-app tests: real events scanned from clips of the test data, an app, a logged-in client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from camsift import scan
from helpers.media import cut_clip
from helpers.web import CLIPS, Browser, make_client, web_settings


@pytest.fixture(scope="session")
def scanned_data(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the events of `CLIPS` (scanned once per session with the real detector)."""
    root = tmp_path_factory.mktemp("web")
    for camera, (clip, name, seconds) in CLIPS.items():
        if seconds is None:
            (root / "footage" / camera).mkdir(parents=True)
            shutil.copy(shared_data / clip, root / "footage" / camera / name)
        else:
            cut_clip(shared_data / clip, root / "footage" / camera / name, end_s=seconds)
    report = scan([root / "footage"], web_settings(root / "data"), jobs=1)
    assert not report.failed
    return root / "data"


@pytest.fixture
def data_dir(scanned_data: Path, tmp_path: Path) -> Path:
    """A private copy of the scanned data directory (tests change and delete events)."""
    copy = tmp_path / "data"
    shutil.copytree(scanned_data, copy)
    return copy


@pytest.fixture
def browser(data_dir: Path) -> Iterator[Browser]:
    """Logged in to an app over a copy of the real events."""
    yield from make_client(web_settings(data_dir))


@pytest.fixture
def empty_browser(tmp_path: Path) -> Iterator[Browser]:
    """Logged in to an app over an empty data directory (fast: no scan)."""
    yield from make_client(web_settings(tmp_path / "empty"))
