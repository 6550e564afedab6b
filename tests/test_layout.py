"""Where pictures and clips live: dated folders in local time, names that cannot escape the data directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from camsift.events import Event
from camsift.layout import clip_path, face_path, picture_path

T0 = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)


def event(camera: str = "porch", label: str = "person") -> Event:
    return Event("abc-001", camera, label, 1.5, 4.0, T0, T0 + timedelta(seconds=2.5), 0.9, (10.0, 20.0, 110.0, 220.0))


@pytest.mark.parametrize(
    ("camera", "label", "zone", "folder", "name"),
    [
        ("porch", "person", "UTC", "2026-11-22/porch", "143005-person-abc-001"),
        ("porch", "person", "Asia/Tokyo", "2026-11-22/porch", "233005-person-abc-001"),
        ("porch", "person", "America/Los_Angeles", "2026-11-22/porch", "063005-person-abc-001"),
        ("front door", "teddy bear", "UTC", "2026-11-22/front_door", "143005-teddy_bear-abc-001"),
        ("../../etc", "person", "UTC", "2026-11-22/etc", "143005-person-abc-001"),
        ("..", "person", "UTC", "2026-11-22/camera", "143005-person-abc-001"),
    ],
)
def test_picture_path(tmp_path: Path, camera: str, label: str, zone: str, folder: str, name: str) -> None:
    e = event(camera, label)

    clean = picture_path(tmp_path / "data", e, tz=ZoneInfo(zone))
    marked = picture_path(tmp_path / "data", e, annotated=True, tz=ZoneInfo(zone))

    assert clean == tmp_path / "data" / "events" / folder / f"{name}.jpg"
    assert marked == tmp_path / "data" / "events" / folder / f"{name}-annotated.jpg"
    assert clean.resolve().is_relative_to((tmp_path / "data" / "events").resolve())


def test_face_pictures_sit_beside_their_snapshot_under_faces(tmp_path: Path) -> None:
    path = face_path(tmp_path, event("../front door"), 2, ZoneInfo("Asia/Tokyo"))

    assert path == tmp_path / "faces" / "2026-11-22" / "front_door" / "233005-person-abc-001-face2.jpg"


def test_a_second_clip_in_the_same_second_gets_a_new_name(tmp_path: Path) -> None:
    first = clip_path(tmp_path, "porch", T0, UTC)
    first.parent.mkdir(parents=True)
    first.touch()
    second = clip_path(tmp_path, "porch", T0, UTC)
    second.with_name(second.name + ".part").touch()  # a clip still being written counts as taken

    assert first == tmp_path / "clips" / "2026-11-22" / "porch" / "143005-porch.mp4"
    assert second.name == "143005-porch-1.mp4"
    assert clip_path(tmp_path, "porch", T0, UTC).name == "143005-porch-2.mp4"
