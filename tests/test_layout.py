"""The data directory: where every file lives, names that cannot escape it, whole-or-nothing writes."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from camsift.config import (
    BlinkSourceConfig,
    FolderSourceConfig,
    FtpSourceConfig,
    SourceConfig,
    StreamSourceConfig,
)
from camsift.events import Event
from camsift.layout import DataDir, atomic_writer, recording_path, safe_name, write_atomically

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
def test_picture(tmp_path: Path, camera: str, label: str, zone: str, folder: str, name: str) -> None:
    e = event(camera, label)
    data = DataDir(tmp_path / "data")

    clean = data.picture(e, tz=ZoneInfo(zone))
    marked = data.picture(e, annotated=True, tz=ZoneInfo(zone))

    assert clean == tmp_path / "data" / "events" / folder / f"{name}.jpg"
    assert marked == tmp_path / "data" / "events" / folder / f"{name}-annotated.jpg"
    assert clean.resolve().is_relative_to((tmp_path / "data" / "events").resolve())


def test_face_pictures_sit_beside_their_snapshot_under_faces(tmp_path: Path) -> None:
    path = DataDir(tmp_path).face(event("../front door"), 2, ZoneInfo("Asia/Tokyo"))

    assert path == tmp_path / "faces" / "2026-11-22" / "front_door" / "233005-person-abc-001-face2.jpg"


def test_a_second_clip_in_the_same_second_gets_a_new_name(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    first = data.clip("porch", T0, UTC)
    first.parent.mkdir(parents=True)
    first.touch()
    second = data.clip("porch", T0, UTC)
    recording_path(second).touch()  # a clip still being written counts as taken

    assert first == tmp_path / "clips" / "2026-11-22" / "porch" / "143005-porch.mp4"
    assert second.name == "143005-porch-1.mp4"
    assert recording_path(second).name == "143005-porch-1.mp4.part"
    assert data.clip("porch", T0, UTC).name == "143005-porch-2.mp4"


def test_every_file_has_one_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = DataDir(Path("camsift-data"))

    places = {
        "database": data.database,
        "events": data.events,
        "faces": data.faces,
        "clips": data.clips,
        "live": data.live,
        "ftp": data.ftp,
        "blink": data.blink,
        "journal": data.journal,
        "overrides": data.overrides,
        "run_lock": data.run_lock,
        "live_frame": data.live_frame("../Front Door"),
    }

    root = tmp_path / "camsift-data"
    assert data.root == root
    assert {k: p.relative_to(root).as_posix() for k, p in places.items()} == {
        "database": "camsift.db",
        "events": "events",
        "faces": "faces",
        "clips": "clips",
        "live": "live",
        "ftp": "ftp",
        "blink": "blink",
        "journal": "retention-journal",
        "overrides": "camera-overrides.yaml",
        "run_lock": "camsift-run.lock",
        "live_frame": "live/Front_Door.jpg",
    }
    assert data.picture_dirs == (data.events, data.faces)
    assert DataDir(root) == data


def test_a_store_is_there_when_a_server_is_named_or_the_sqlite_file_exists(tmp_path: Path) -> None:
    data = DataDir(tmp_path)

    assert not data.has_store(None)
    assert data.has_store("postgresql://camsift@db/camsift")
    data.database.touch()
    assert data.has_store(None)


def test_camsift_owns_the_footage_folders_inside_the_data_directory(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data")
    sources: list[SourceConfig] = [
        FtpSourceConfig(type="ftp"),
        FtpSourceConfig(type="ftp", root=tmp_path / "data" / "uploads"),
        FtpSourceConfig(type="ftp", root=tmp_path / "elsewhere"),
        FolderSourceConfig(type="folder", path=tmp_path / "data" / "inbox"),
        FolderSourceConfig(type="folder", path=tmp_path / "nas"),
        FolderSourceConfig(type="folder", path=tmp_path / "data"),
        BlinkSourceConfig(type="blink"),
        StreamSourceConfig(type="stream", url="rtsp://cam/1"),
    ]

    assert [data.footage_root(s) for s in sources] == [
        data.ftp,
        data.root / "uploads",
        tmp_path / "elsewhere",
        data.root / "inbox",
        tmp_path / "nas",
        data.root,
        data.blink,
        data.clips,
    ]
    assert data.owned_roots(sources) == [data.clips, data.ftp, data.root / "uploads", data.root / "inbox", data.blink]


@pytest.mark.parametrize(
    ("name", "safe"),
    [("Front Door", "Front_Door"), ("../../etc", "etc"), ("..", "camera"), ("", "camera"), ("a/b\\c:d", "a_b_c_d")],
)
def test_safe_name(name: str, safe: str) -> None:
    assert safe_name(name) == safe


# --- the atomic writer ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "expected"), [(0o600, 0o600), (0o666, 0o666 & ~0o022)])
def test_atomic_write_replaces_the_file_with_its_mode(tmp_path: Path, mode: int, expected: int) -> None:
    path = tmp_path / "deep" / "er" / "token.json"
    old = os.umask(0o022)
    try:
        write_atomically(path, "first")
        write_atomically(path, b"second", mode=mode)
    finally:
        os.umask(old)

    assert path.read_bytes() == b"second"
    assert stat.S_IMODE(path.stat().st_mode) == expected
    assert os.listdir(path.parent) == ["token.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text("old")

    def write_half() -> None:
        with atomic_writer(path) as f:
            f.write(b"half of the new")
            raise RuntimeError("broke")

    with pytest.raises(RuntimeError, match="broke"):
        write_half()

    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["overrides.yaml"]


def test_the_temporary_file_is_hidden_beside_its_target(tmp_path: Path) -> None:
    path = tmp_path / "events" / "a.jpg"

    with atomic_writer(path, sync=False) as f:
        f.write(b"jpeg")
        (tmp,) = list(path.parent.iterdir())
        assert not path.exists()

    assert tmp.name.startswith(".a.jpg.")
    assert tmp.suffix == ".tmp"
    assert path.read_bytes() == b"jpeg"
