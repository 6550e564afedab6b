"""The watched-folder source: complete files only, catch-up at start, clearing away after analysis."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from camsift.config import FolderSourceConfig, Settings
from camsift.sources.folder import FolderSource
from helpers.media import write_clip
from helpers.service import FakeIntake, wait_for

MakeSettings = Callable[..., Settings]


@pytest.fixture
def start(footage: Path, scripted_settings: MakeSettings) -> Iterator[Callable[..., tuple[FolderSource, FakeIntake]]]:
    """``start(**config)``: a running folder source on ``footage`` with a fake intake."""
    running: list[FolderSource] = []

    def make(**config: object) -> tuple[FolderSource, FakeIntake]:
        cfg = FolderSourceConfig.model_validate({"type": "folder", "path": footage, "settle_s": 0.5, **config})
        intake = FakeIntake()
        source = FolderSource("inbox", cfg, scripted_settings(), intake)
        source.start()
        running.append(source)
        wait_for(lambda: any(r[2] == "running" for r in intake.reports), 5, "the watcher to start")
        return source, intake

    yield make
    for source in running:
        source.stop()


@pytest.mark.parametrize("poll", [False, True])
def test_a_clip_written_slowly_in_chunks_is_handed_in_once_complete(
    start: Callable[..., tuple[FolderSource, FakeIntake]], footage: Path, tmp_path: Path, poll: bool
) -> None:
    data = write_clip(tmp_path / "source.mp4", seconds=6.0).path.read_bytes()
    _, intake = start(poll=poll)
    target = footage / "porch" / "20261122_143005.mp4"
    target.parent.mkdir()

    with target.open("wb") as f:  # a camera uploading over a slow link: 8 chunks, 0.3 s apart
        for i in range(8):
            f.write(data[i * len(data) // 8 : (i + 1) * len(data) // 8])
            f.flush()
            time.sleep(0.3)
            assert intake.submitted == [], f"handed in after chunk {i + 1} of 8"

    wait_for(lambda: intake.submitted, 5, "the complete clip")
    time.sleep(1.0)
    assert intake.submitted == [(target, "porch", "inbox", "folder")]
    assert target.stat().st_size == len(data)


def test_files_already_there_are_caught_up_and_others_ignored(
    start: Callable[..., tuple[FolderSource, FakeIntake]], footage: Path
) -> None:
    clip = write_clip(footage / "garden" / "a.mp4").path
    for name in (".hidden.mp4", "b.mp4.part", "notes.txt"):
        (footage / "garden" / name).write_bytes(b"x")

    _, intake = start(camera="garden-cam")

    wait_for(lambda: intake.submitted, 5, "the clip already there")
    (footage / "garden" / "late.txt").write_bytes(b"not footage")
    time.sleep(1.2)
    assert intake.submitted == [(clip, "garden-cam", "inbox", "folder")]


@pytest.mark.parametrize("action", ["delete_after", "move_to", "keep"])
def test_an_analysed_file_is_deleted_moved_or_kept(
    footage: Path, tmp_path: Path, scripted_settings: MakeSettings, action: str
) -> None:
    clip = write_clip(footage / "cam" / "a.mp4").path
    by_action: dict[str, dict[str, object]] = {
        "delete_after": {"delete_after": True},
        "move_to": {"move_to": tmp_path / "done"},
    }
    options = by_action.get(action, {})
    cfg = FolderSourceConfig.model_validate({"type": "folder", "path": footage, **options})
    source = FolderSource("inbox", cfg, scripted_settings(), FakeIntake())

    source.processed(clip, 1)

    assert clip.exists() == (action == "keep")
    assert (tmp_path / "done" / "cam" / "a.mp4").exists() == (action == "move_to")


def test_a_missing_folder_is_reported_not_fatal(tmp_path: Path, scripted_settings: MakeSettings) -> None:
    cfg = FolderSourceConfig(type="folder", path=tmp_path / "not-yet")
    intake = FakeIntake()
    source = FolderSource("usb", cfg, scripted_settings(), intake)
    source.start()
    try:
        wait_for(lambda: intake.reports, 5, "a report")
    finally:
        source.stop()
    assert intake.reports[0][2:] == (
        "error",
        f"{tmp_path / 'not-yet'} (0 settling)",
        f"{tmp_path / 'not-yet'}: no such folder; waiting for it",
    )


def _links_out(footage: Path, outside: Path) -> dict[Path, bytes]:
    """Links to files, to folders and loops in ``footage``; returns the files outside (path -> bytes)."""
    outside.mkdir()
    (outside / "settings.conf").write_bytes(b"secret=1\n")
    write_clip(outside / "other.mp4")
    (footage / "cam").mkdir(exist_ok=True)
    (footage / "cam" / "settings.jpg").symlink_to(outside / "settings.conf")  # a file out
    (footage / "cam" / "clip.mp4").symlink_to(outside / "other.mp4")
    (footage / "cam" / "passwd.jpg").symlink_to("/etc/passwd")
    (footage / "out").symlink_to(outside, target_is_directory=True)  # a folder out
    (footage / "loop").symlink_to(".", target_is_directory=True)  # loops
    (footage / "cam" / "up").symlink_to("..", target_is_directory=True)
    return {p: p.read_bytes() for p in outside.iterdir()}


@pytest.mark.parametrize(("action", "poll"), [("delete_after", False), ("move_to", False), ("delete_after", True)])
def test_links_out_of_the_folder_or_in_loops_are_never_followed_read_or_cleared_away(
    start: Callable[..., tuple[FolderSource, FakeIntake]], footage: Path, tmp_path: Path, action: str, poll: bool
) -> None:
    before = _links_out(footage, tmp_path / "outside")
    clip = write_clip(footage / "cam" / "a.mp4").path
    (footage / "cam" / "inside.mp4").symlink_to(clip)  # a link inside: its target is seen itself
    option = {"delete_after": True} if action == "delete_after" else {"move_to": tmp_path / "done"}
    source, intake = start(poll=poll, **option)

    wait_for(lambda: intake.submitted, 5, "the real clip")
    late = write_clip(tmp_path / "late.mp4").path  # links made while watching, and a file in a linked folder
    (footage / "cam" / "late.mp4").symlink_to(late)
    (footage / "loop2").symlink_to(footage, target_is_directory=True)
    write_clip(tmp_path / "outside" / "new.mp4")
    time.sleep(2.0)

    assert intake.paths == [clip]
    for link in (footage / "cam" / "settings.jpg", footage / "cam" / "clip.mp4", footage / "loop" / "cam" / "a.mp4"):
        source.processed(link, 1)  # as if a job named it
    source.processed(clip, 1)
    assert {p: p.read_bytes() for p in before} == before
    assert late.exists()
    assert (tmp_path / "outside" / "new.mp4").exists()
    assert (footage / "cam" / "settings.jpg").is_symlink()
    assert (footage / "cam" / "clip.mp4").is_symlink()
    assert not clip.exists()
    if action == "move_to":
        assert sorted(p.name for p in (tmp_path / "done").rglob("*")) == ["a.mp4", "cam"]


def test_an_unreadable_file_is_reported_once_and_handed_in_once_readable(
    start: Callable[..., tuple[FolderSource, FakeIntake]],
    footage: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import os

    import camsift.sources.folder as folder

    locked = write_clip(footage / "porch" / "locked.mp4").path
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads a chmod-000 file: make this process see it as any other user would
        real = folder.unreadable
        monkeypatch.setattr(
            folder, "unreadable", lambda p: "Permission denied" if p.stat().st_mode & 0o444 == 0 else real(p)
        )
    _, intake = start()
    time.sleep(2.0)  # several settle periods: reported once, not handed in

    errors = [r[4] for r in intake.reports if r[4]]
    assert errors == [f"{locked}: cannot read: Permission denied"]
    assert intake.submitted == []
    logged = capsys.readouterr()  # the log goes to stdout or stderr as the process's logging was set up
    assert (logged.out + logged.err).count("file cannot be read") == 1

    locked.chmod(0o644)
    wait_for(lambda: intake.submitted, 5, "the file once readable")
    assert intake.paths == [locked]
