"""Polite downloads against the strict `FakeBlink`: pages, watermark, local storage, limits, broken and refused
downloads, and the ways Blink's real behaviour lost clips without a word."""

from __future__ import annotations

import asyncio
import json
import stat
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import camsift.blink.auth
import camsift.blink.clips
from camsift.blink import download, status
from camsift.blink.client import BlinkClient
from camsift.blink.downloader import Downloader, DownloadReport, clip_file
from camsift.blink.models import RemoteClip
from camsift.blink.tokens import load_token
from camsift.errors import RateLimitError, SourceError
from helpers.blink import MP4, FakeBlink, minutes_ago

pytest_plugins = ["helpers.blink_fixtures"]


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
    manifest = blink.manifest_id
    assert blink.count(f"POST {base}/{manifest}/clip/request/{clip.clip_id}") == 1  # upload to the cloud, then
    assert blink.count(f"GET {base}/{manifest}/clip/request/{clip.clip_id}") == 1  # download
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


# --- the ways Blink's real behaviour lost clips without a word ----------


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (403, '{"message": "Forbidden", "code": 403}', "403 Forbidden: Forbidden"),
        (404, '{"message": "Not Found", "code": 404}', "404 Not Found: Not Found"),
        (
            426,
            '{"message": "An app update is required", "code": 426}',
            "426 Upgrade Required: An app update is required",
        ),
    ],
)
def test_a_clip_list_answer_that_is_no_clip_list_keeps_the_watermark_and_says_why(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, status: int, body: str, said: str
) -> None:
    """Blink has answered 403, 404 and 426 ("app update required") to ``media/changed``: not "no more clips"."""
    clips = [blink.add_clip("Front Door", MP4 + bytes([i]), minutes_ago(50 - 5 * i)) for i in range(5)]
    blink.fail("/media/changed", status, body=body, content_type="application/json")
    data = tmp_path / "data"

    with pytest.raises(SourceError, match=rf"clip list \(page 1\) with {said}, not a list of clips"):
        fetch(logged_in, data)
    assert not mp4s(data)
    assert "watermark_utc" not in json.loads((data / "blink/1111/state.json").read_text())

    again = fetch(logged_in, data)
    assert sorted(d.clip.clip_id for d in again.downloaded) == sorted(str(c.clip_id) for c in clips)
    assert len(mp4s(data)) == 5


def test_a_clip_list_page_that_is_a_web_page_is_an_error_too(blink: FakeBlink, logged_in: Path, tmp_path: Path) -> None:
    blink.add_clip("Front Door", MP4, minutes_ago(30))
    blink.fail("/media/changed", 200, body="<html><h1>Service temporarily unavailable</h1></html>")

    with pytest.raises(SourceError, match=r"page 1\) with 200 OK: Service temporarily unavailable"):
        fetch(logged_in, tmp_path / "data")
    assert not mp4s(tmp_path / "data")


@pytest.mark.parametrize("page_size", [25, 500])
def test_pages_of_25_and_of_500_clips_are_read_to_the_end(blink: FakeBlink, logged_in: Path, page_size: int) -> None:
    blink.page_size = page_size
    for i in range(page_size + 3):
        blink.add_clip("Front Door", MP4, minutes_ago(600) + timedelta(seconds=i))

    async def go() -> list[RemoteClip]:
        async with BlinkClient(logged_in) as client:
            await client.connect()
            return await client.cloud_clips(minutes_ago(24 * 60))

    clips = asyncio.run(go())

    assert len(clips) == page_size + 3
    assert blink.count("media/changed") == 3  # a full page, the rest, the empty page that ends the list


def test_a_clip_whose_upload_ended_after_the_watermark_is_listed_by_when_it_changed(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    """Blink's "changed since" compares ``updated_at``: a clip recorded long ago but uploaded late still comes."""
    data = tmp_path / "data"
    fetch(logged_in, data)
    late = blink.add_clip("Front Door", MP4 + b"late", minutes_ago(40), updated_utc=datetime.now(UTC))

    report = fetch(logged_in, data)

    assert [d.clip.clip_id for d in report.downloaded] == [str(late.clip_id)]


def test_a_clip_that_takes_longer_than_ten_seconds_to_arrive_is_kept_whole(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, person_clip: bytes
) -> None:
    """blinkpy's requests end after 10 s in all, body included; camsift's downloads only after a silence."""
    blink.add_clip("Front Door", person_clip, minutes_ago(3))
    blink.body_s = 12.0

    report = fetch(logged_in, tmp_path / "data")

    assert report.failed == []
    assert [p.read_bytes() for p in mp4s(tmp_path / "data")] == [person_clip]


def test_a_download_that_goes_silent_is_given_up_and_fetched_next_run(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, person_clip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(camsift.blink.clips, "_INACTIVITY_S", 1.0)
    blink.add_clip("Front Door", person_clip, minutes_ago(3))
    blink.stall_s = 3.0
    data = tmp_path / "data"

    report = fetch(logged_in, data)

    assert len(report.failed) == 1
    assert "Blink sent nothing for 1 s" in report.failed[0]
    assert not mp4s(data)
    assert not list(data.rglob("*.part"))
    monkeypatch.setattr(camsift.blink.clips, "_INACTIVITY_S", 30.0)  # a loaded machine may pause for a second
    assert [d.path.read_bytes() for d in fetch(logged_in, data).downloaded] == [person_clip]


def test_a_usb_clip_is_asked_for_until_the_sync_module_has_uploaded_it(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, person_clip: bytes
) -> None:
    clip = blink.add_clip("Back Yard", person_clip, minutes_ago(5), local=True)
    blink.upload_delay_s = 1.2  # "Media not found" until then

    report = fetch(logged_in, tmp_path / "data")

    assert report.failed == []
    assert [d.path.read_bytes() for d in report.downloaded] == [person_clip]
    assert blink.count(f"GET /api/v1/.*/local_storage/manifest/\\d+/clip/request/{clip.clip_id}") >= 2


def test_a_usb_clip_never_uploaded_fails_this_run_and_is_asked_for_again(
    blink: FakeBlink, logged_in: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(camsift.blink.clips, "_UPLOAD_WAIT_S", 0.05)
    blink.add_clip("Back Yard", MP4, minutes_ago(5), local=True)
    blink.upload_delay_s = 3600.0

    report = fetch(logged_in, tmp_path / "data")

    assert len(report.failed) == 1
    assert "Blink has no copy yet (Media not found) after 5 tries" in report.failed[0]
    blink.upload_delay_s = 0.0
    assert len(fetch(logged_in, tmp_path / "data").downloaded) == 1


def test_usb_clips_are_fetched_under_the_sync_modules_newest_manifest(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    """The service keeps one client for days; each poll the Sync Module builds a manifest with a new id."""
    blink.add_clip("Back Yard", MP4 + b"usb", minutes_ago(5), local=True)

    async def go() -> tuple[DownloadReport, DownloadReport]:
        async with BlinkClient(logged_in) as client:
            await client.connect()
            downloader = Downloader(client, tmp_path / "data", UTC, request_delay_s=0)
            first = await downloader.run(limit=0)  # listed (manifest 1), left for the next poll
            return first, await downloader.run()  # manifest 2

    first, second = asyncio.run(go())

    assert (first.left, len(second.downloaded), second.failed) == (1, 1, [])
    assert second.downloaded[0].path.read_bytes() == MP4 + b"usb"


def test_two_usb_clips_that_began_in_the_same_second_are_both_fetched(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    """Two cameras seeing the same motion: two clips with one start time, told apart by their ids."""
    when = minutes_ago(5).replace(microsecond=0)
    blink.add_clip("Front Door", MP4 + b"front", when, local=True)
    blink.add_clip("Back Yard", MP4 + b"back", when, local=True)

    report = fetch(logged_in, tmp_path / "data")

    assert sorted(d.path.read_bytes() for d in report.downloaded) == [MP4 + b"back", MP4 + b"front"]


@pytest.mark.parametrize("blink", [{"expires_in": 61}], indirect=True)
def test_a_token_running_out_during_a_pass_is_renewed_and_saved(
    blink: FakeBlink, logged_in: Path, tmp_path: Path
) -> None:
    """Blink rotates refresh tokens: a renewal that is not saved leaves a dead one in the token file."""
    for m in (30, 20, 10):
        blink.add_clip("Front Door", MP4, minutes_ago(m))

    report = download(logged_in, tmp_path / "data", UTC, request_delay_s=0.8, min_interval_s=0)

    assert len(report.downloaded) == 3
    assert "legacy" not in blink.grants  # camsift renewed before blinkpy had to
    saved = load_token(logged_in)
    assert saved["refresh_token"] in blink.refresh
    assert saved["token"] in blink.access
    assert status(logged_in).account_id == "1111"


@pytest.mark.parametrize("blink", [{"expires_in": 61}], indirect=True)
def test_a_token_blinkpy_renews_by_itself_is_saved(
    blink: FakeBlink, logged_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """blinkpy renews a token with less than 60 s left inside any request it makes; its callback saves it."""
    monkeypatch.setattr(camsift.blink.auth, "_REFRESH_MARGIN_S", 0.0)  # leave the renewal to blinkpy

    async def go() -> None:
        async with BlinkClient(logged_in) as client:
            await client.connect()
            await asyncio.sleep(1.5)  # now less than 60 s left
            await client.refresh_status()

    asyncio.run(go())

    assert "legacy" in blink.grants
    assert load_token(logged_in)["refresh_token"] in blink.refresh
    assert stat.S_IMODE(logged_in.stat().st_mode) == 0o600
