"""Fixtures of the Blink tests: the fake Blink account on loopback, wired into camsift's Blink client.

Test modules load them with ``pytest_plugins = ["helpers.blink_fixtures"]`` (and never import this module).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from blinkpy import api
from blinkpy.helpers.util import Throttle

import camsift.blink.client
import camsift.blink.clips
import camsift.blink.controls
from camsift.blink import tokens
from helpers.blink import EMAIL, PASSWORD, FakeBlink
from helpers.media import cut_clip


@pytest.fixture
def blink(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[FakeBlink]:
    """A fake Blink account that every `BlinkClient` of the test reaches: cameras ``Front Door`` and ``Back Yard``,
    or what ``parametrize("blink", [{...FakeBlink arguments}], indirect=True)`` asks for. blinkpy's pauses between
    calls are off, and camsift's waits are short."""
    for fn in vars(api).values():
        for cell in getattr(fn, "__closure__", None) or ():
            if isinstance(cell.cell_contents, Throttle):
                monkeypatch.setattr(cell.cell_contents, "throttle_time", 0)
    monkeypatch.setattr(camsift.blink.clips, "_PAGE_PAUSE_S", 0.0)
    monkeypatch.setattr(camsift.blink.clips, "_UPLOAD_WAIT_S", 0.5)
    monkeypatch.setattr(camsift.blink.controls, "_SNAPSHOT_WAIT_S", 0.2)
    arguments = {"cameras": ("Front Door", "Back Yard"), **getattr(request, "param", {})}
    with FakeBlink(**arguments) as fake:
        monkeypatch.setattr(camsift.blink.client, "default_connector", fake.connector)
        yield fake


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    """Where the test's token goes (not created)."""
    return tmp_path / "data" / "blink" / "token.json"


@pytest.fixture
def logged_in(blink: FakeBlink, token_file: Path) -> Path:
    """A token file as ``camsift blink login`` leaves it; returns its path."""
    from camsift.blink import login

    login(token_file, EMAIL, PASSWORD)
    assert tokens.load_token(token_file)["refresh_token"] in blink.refresh
    return token_file


@pytest.fixture(scope="session")
def person_clip(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A Blink-length (14 s) real MP4 in which a woman walks in at 2 s and stays (the test data's intel
    one-by-one clip from 4 s), as Blink would serve it."""
    out = tmp_path_factory.mktemp("blink") / "person.mp4"
    return cut_clip(shared_data / "clips" / "intel_one-by-one-person-detection.mp4", out, 4.0, 18.0).read_bytes()
