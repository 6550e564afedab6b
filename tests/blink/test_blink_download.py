"""Polite downloads against `FakeBlink`: pages, watermark, local storage, limits, broken and refused downloads."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from blink_helpers import FakeBlink, minutes_ago
from camsift.blink import download
from camsift.blink.client import BlinkClient
from camsift.blink.downloader import Downloader, DownloadReport, clip_file
from camsift.blink.models import RemoteClip
from camsift.errors import RateLimitError

pytest_plugins = ["blink_fixtures"]


MP4 = b"\x00\x00\x00\x18ftypmp42"
"""The start of an MP4 (what camsift checks a download by)."""


def fetch(token: Path, data_dir: Path, tz: tzinfo = UTC, **options: object) -> DownloadReport:
    """One pass with no pauses, folder dates in ``tz`` (UTC)."""
    return download(token, data_dir, tz, request_delay_s=0, min_interval_s=0, **options)  # type: ignore[arg-type]


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


def test_a_clip_list_longer_than_the_page_limit_is_read_to_its_end_over_several_runs(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    """Blink lists newest first: the oldest clips are on the pages after the limit (20), and must come next run."""
    blink.page_size = 1
    clips = [blink.add_clip("Front Door", MP4 + bytes([i]), minutes_ago(600 - i)) for i in range(23)]
    data = tmp_path / "data"

    first = fetch(logged_in, data)

    assert blink.count("media/changed") == 20
    assert len(first.downloaded) == 20
    assert first.watermark_utc == datetime.fromtimestamp(0, UTC)  # the 3 oldest clips are not listed yet
    state = json.loads((data / "blink/1111/state.json").read_text())
    assert state["resume_page"] == "20"

    second = fetch(logged_in, data)

    assert blink.count("media/changed") == 20 + 5  # pages 20 to 23 again, then the empty page 24
    assert sorted(d.clip.clip_id for d in second.downloaded) == [str(c.clip_id) for c in clips[:3]]
    assert second.on_disk == 1  # page 20, read twice
    assert second.watermark_utc is not None
    assert second.watermark_utc > minutes_ago(5)  # the time of the first run: all before it is on disk
    assert "resume_page" not in json.loads((data / "blink/1111/state.json").read_text())
    assert sorted(p.read_bytes()[-1] for p in mp4s(data)) == list(range(23))

    new = blink.add_clip("Back Yard", MP4, datetime.now(UTC))
    third = fetch(logged_in, data)
    assert [d.clip.clip_id for d in third.downloaded] == [str(new.clip_id)]


def test_a_clip_that_always_fails_is_given_up_after_three_runs_and_frees_the_watermark(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    bad = blink.add_clip("Front Door", b"<html>Service Unavailable</html>", minutes_ago(5))
    blink.add_clip("Back Yard", MP4, minutes_ago(4))
    data = tmp_path / "data"
    asked = f"GET /api/v2/accounts/1111/media/clip/{bad.clip_id}.mp4"

    runs = [fetch(logged_in, data) for _ in range(3)]

    assert [len(r.failed) for r in runs] == [1, 1, 0]
    assert [len(r.given_up) for r in runs] == [0, 0, 1]
    assert "not an MP4" in runs[2].given_up[0]
    assert "given up after 3 attempts" in runs[2].given_up[0]
    assert all(r.watermark_utc is not None and r.watermark_utc <= bad.created_utc for r in runs[:2])
    assert runs[2].watermark_utc is not None
    assert runs[2].watermark_utc > minutes_ago(1)
    assert blink.count(asked) == 3
    failures = json.loads((data / "blink/1111/failures.json").read_text())
    assert failures[f"cloud:{bad.clip_id}"]["attempts"] == 3

    fourth = fetch(logged_in, data)  # still listed (10 minutes of overlap), no longer asked for
    assert (fourth.failed, fourth.given_up, fourth.downloaded) == ([], [], [])
    assert blink.count(asked) == 3
    assert len(mp4s(data)) == 1


def test_a_clip_fetched_at_its_second_attempt_is_forgotten_by_the_failure_count(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, person_clip: bytes
) -> None:
    clip = blink.add_clip("Front Door", person_clip, minutes_ago(3))
    blink.cut_downloads = 1
    data = tmp_path / "data"

    assert len(fetch(logged_in, data).failed) == 1
    assert json.loads((data / "blink/1111/failures.json").read_text())[f"cloud:{clip.clip_id}"]["attempts"] == 1
    assert len(fetch(logged_in, data).downloaded) == 1
    assert json.loads((data / "blink/1111/failures.json").read_text()) == {}


NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("utc", "tz", "name"),
    [
        (datetime(2026, 11, 1, 4, 30, tzinfo=UTC), NEW_YORK, "00-30-00-Front_Door.mp4"),  # EDT, not repeated
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), NEW_YORK, "01-30-00-0400-Front_Door.mp4"),  # 01:30 EDT …
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), NEW_YORK, "01-30-00-0500-Front_Door.mp4"),  # … and EST
        (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), NEW_YORK, "02-30-00-Front_Door.mp4"),
        (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), NEW_YORK, "03-30-00-Front_Door.mp4"),  # spring forward: no repeat
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), ZoneInfo("Europe/Berlin"), "02-30-00+0200-Front_Door.mp4"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), ZoneInfo("Europe/Berlin"), "02-30-00+0100-Front_Door.mp4"),
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), UTC, "05-30-00-Front_Door.mp4"),
    ],
)
def test_file_names_carry_the_utc_offset_only_in_the_hour_a_fall_back_repeats(
    tmp_path: Path, utc: datetime, tz: tzinfo, name: str
) -> None:
    assert clip_file(tmp_path, "1111", RemoteClip("7", "Front Door", "Home", utc, ""), tz).name == name


def test_two_clips_in_the_same_local_second_of_a_fall_back_hour_are_both_kept(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    edt = blink.add_clip("Front Door", MP4 + b"EDT", datetime(2026, 11, 1, 5, 30, 0, tzinfo=UTC))
    est = blink.add_clip("Front Door", MP4 + b"EST", datetime(2026, 11, 1, 6, 30, 0, tzinfo=UTC))
    data = tmp_path / "data"

    report = fetch(logged_in, data, NEW_YORK)

    assert report.on_disk == 0
    folder = data.resolve() / "blink/1111/Home/Front_Door/2026-11-01"
    assert [(d.clip.clip_id, d.path) for d in report.downloaded] == [
        (str(edt.clip_id), folder / "01-30-00-0400-Front_Door.mp4"),
        (str(est.clip_id), folder / "01-30-00-0500-Front_Door.mp4"),
    ]
    assert [p.read_bytes()[-3:] for p in mp4s(data)] == [b"EDT", b"EST"]


def test_two_clips_of_a_camera_in_the_same_second_get_names_of_their_own_and_keep_them(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    second = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    first = blink.add_clip("Front Door", MP4 + b"one", second + timedelta(microseconds=200_000))
    other = blink.add_clip("Front Door", MP4 + b"two", second + timedelta(microseconds=700_000))
    data = tmp_path / "data"

    report = fetch(logged_in, data)

    assert report.on_disk == 0
    assert [d.path.name for d in report.downloaded] == [
        f"{second:%H-%M-%S}-Front_Door.mp4",
        f"{second:%H-%M-%S}-Front_Door-{other.clip_id}.mp4",
    ]
    assert [d.path.read_bytes()[-3:] for d in report.downloaded] == [b"one", b"two"]
    assert first.clip_id != other.clip_id

    again = fetch(logged_in, data)  # both listed again (overlap): the same names, both on disk
    assert (again.downloaded, again.on_disk) == ([], 2)
