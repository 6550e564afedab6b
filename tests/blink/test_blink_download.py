"""Polite downloads against `FakeBlink`: pages, watermark, local storage, limits, broken and refused downloads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from blink_helpers import FakeBlink, minutes_ago
from camsift.blink import download
from camsift.blink.client import BlinkClient
from camsift.blink.downloader import Downloader, DownloadReport, clip_file
from camsift.blink.models import RemoteClip
from camsift.errors import RateLimitError

pytest_plugins = ["blink_fixtures"]


def fetch(token: Path, data_dir: Path, **options: object) -> DownloadReport:
    """One pass with no pauses, folder dates in UTC."""
    return download(token, data_dir, UTC, request_delay_s=0, min_interval_s=0, **options)  # type: ignore[arg-type]


def mp4s(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "blink").rglob("*.mp4"))


def test_every_clip_of_every_page_lands_complete_in_dated_folders(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, person_clip: bytes
) -> None:
    blink.page_size = 2
    times = [datetime(2026, 11, 21, 23, 59, 58, tzinfo=UTC), *(minutes_ago(m) for m in (50, 40, 30, 20))]
    for i, when in enumerate(times):
        blink.add_clip(("Front Door", "Back Yard")[i % 2], person_clip, when)
    data = tmp_path / "data"

    report = fetch(logged_in, data)

    assert len(report.downloaded) == 5
    assert report.failed == []
    assert report.left == 0
    assert blink.count(r"GET /api/v1/accounts/1111/media/changed") == 4  # 3 pages and the empty one that ends it
    first = data.resolve() / "blink/1111/Home/Front_Door/2026-11-21/23-59-58-Front_Door.mp4"
    assert report.downloaded[0].path == first
    assert all(p.read_bytes() == person_clip for p in mp4s(data))
    assert len(mp4s(data)) == 5
    assert not list(data.rglob("*.part"))


def test_the_next_run_asks_only_for_what_is_new(blink: FakeBlink, logged_in: Path, tmp_path: Path) -> None:
    body = b"\x00\x00\x00\x18ftypmp42" + bytes(100)
    blink.add_clip("Front Door", body, minutes_ago(30))
    data = tmp_path / "data"
    first = fetch(logged_in, data)
    assert len(first.downloaded) == 1
    assert first.watermark_utc is not None

    second = fetch(logged_in, data)
    assert second.downloaded == []
    assert blink.count(r"GET /api/v2/accounts/1111/media/clip/") == 1

    blink.add_clip("Back Yard", body, datetime.now(UTC))
    third = fetch(logged_in, data)
    assert [d.clip.camera for d in third.downloaded] == ["Back_Yard"]
    assert blink.count(r"GET /api/v2/accounts/1111/media/clip/") == 2


def test_clips_on_the_sync_modules_usb_stick_come_through_the_manifest(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, person_clip: bytes
) -> None:
    clip = blink.add_clip("Back Yard", person_clip, minutes_ago(5), local=True)
    data = tmp_path / "data"

    report = fetch(logged_in, data)

    assert [(d.clip.where, d.clip.camera_name, d.clip.size_bytes) for d in report.downloaded] == [
        ("local", "Back Yard", len(person_clip))
    ]
    assert report.downloaded[0].path.read_bytes() == person_clip
    base = "/api/v1/accounts/1111/networks/2222/sync_modules/4444/local_storage/manifest"
    assert blink.count(f"POST {base}/request$") == 1  # the Sync Module builds a manifest …
    assert blink.count(f"GET {base}/request/\\d+$") == 1  # … which is read once the command is done
    assert blink.count(f"POST {base}/6666/clip/request/{clip.clip_id}") == 1  # upload to the cloud, then
    assert blink.count(f"GET {base}/6666/clip/request/{clip.clip_id}") == 1  # download
    assert blink.count("GET /network/2222/command/") >= 2

    again = fetch(logged_in, data, local_storage=False)
    assert again.downloaded == []
    assert blink.count(f"POST {base}/request$") == 1


def test_a_limit_leaves_the_rest_for_the_next_run(blink: FakeBlink, logged_in: Path, tmp_path: Path) -> None:
    body = b"\x00\x00\x00\x18ftypmp42" + bytes(10)
    for m in (30, 20, 10):
        blink.add_clip("Front Door", body, minutes_ago(m))
    data = tmp_path / "data"

    report = fetch(logged_in, data, limit=2)
    assert len(report.downloaded) == 2
    assert report.left == 1
    assert report.watermark_utc is not None
    assert report.watermark_utc <= minutes_ago(10)

    rest = fetch(logged_in, data)
    assert len(rest.downloaded) == 1
    assert len(mp4s(data)) == 3


def test_a_download_cut_off_halfway_leaves_nothing_and_is_fetched_next_run(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, person_clip: bytes
) -> None:
    blink.add_clip("Front Door", person_clip, minutes_ago(3))
    blink.cut_downloads = 1
    data = tmp_path / "data"

    report = fetch(logged_in, data)

    assert report.downloaded == []
    assert len(report.failed) == 1
    assert "broke off" in report.failed[0] or "stopped at" in report.failed[0]
    assert not mp4s(data)
    assert not list(data.rglob("*.part"))

    again = fetch(logged_in, data)
    assert len(again.downloaded) == 1
    assert again.downloaded[0].path.read_bytes() == person_clip


def test_blink_saying_slow_down_stops_the_run_and_keeps_what_was_fetched(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    body = b"\x00\x00\x00\x18ftypmp42" + bytes(10)
    first = blink.add_clip("Front Door", body, minutes_ago(30))
    second = blink.add_clip("Front Door", body, minutes_ago(20))
    blink.fail(f"/media/clip/{second.clip_id}.mp4", 429, retry_after="60")
    data = tmp_path / "data"

    with pytest.raises(RateLimitError) as raised:
        fetch(logged_in, data)
    assert raised.value.retry_after_s == 60
    assert [p.name for p in mp4s(data)] == [clip_file(data, "1111", _clip(first), UTC).name]

    assert len(fetch(logged_in, data).downloaded) == 1
    assert len(mp4s(data)) == 2


def _clip(fake: object) -> RemoteClip:
    return RemoteClip(str(fake.clip_id), fake.camera, "Home", fake.created_utc, "")  # type: ignore[attr-defined]


def test_deleted_clips_other_cameras_and_non_mp4_answers_are_not_kept(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    good = b"\x00\x00\x00\x18ftypmp42" + bytes(10)
    blink.add_clip("Front Door", good, minutes_ago(9)).deleted = True
    blink.add_clip("Back Yard", good, minutes_ago(8))
    blink.add_clip("Front Door", b"<html>maintenance</html>", minutes_ago(7))
    data = tmp_path / "data"

    report = fetch(logged_in, data, cameras=["Front Door"])

    assert report.downloaded == []
    assert len(report.failed) == 1
    assert "not an MP4" in report.failed[0]
    assert not mp4s(data)
    assert not list(data.rglob("*.part"))


def test_runs_keep_the_minimum_interval_even_across_processes(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    download(logged_in, data, UTC, min_interval_s=90)
    listings = blink.count("media/changed")

    report = download(logged_in, data, UTC, min_interval_s=90)

    assert report.runs == 0
    assert report.note is not None
    assert "next run in" in report.note
    assert blink.count("media/changed") == listings


def test_a_bounded_run_polls_until_its_time_is_up(blink: FakeBlink, logged_in: Path, tmp_path: Path) -> None:
    async def go() -> DownloadReport:
        async with BlinkClient(logged_in) as client:
            await client.connect()
            downloader = Downloader(client, tmp_path / "data", UTC, request_delay_s=0)
            asyncio.get_running_loop().call_later(0.3, blink.add_clip, "Front Door", b"\x00\x00\x00\x18ftyp" + bytes(8))
            return await downloader.run_for(seconds=1.5, limit=5, min_interval_s=0.5)

    report = asyncio.run(go())
    assert report.runs >= 2
    assert len(report.downloaded) == 1
