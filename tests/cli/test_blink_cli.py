"""``camsift blink login|verify|status|download|live|arm|disarm|snapshot`` against `FakeBlink`, in this process."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from camsift.blink.tokens import pending_file
from helpers.blink import EMAIL, PASSWORD, FakeBlink, minutes_ago, ts_of
from helpers.cli import CliResult
from helpers.media import Walk, write_clip
from helpers.service import needs_ffmpeg

Cli = Callable[..., CliResult]

pytest_plugins = ["helpers.blink_fixtures"]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def signed_in(blink: FakeBlink, camsift_main: Cli, data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``camsift blink login`` done; returns the token file."""
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    result = camsift_main("blink", "login", "--email", EMAIL, "--password-stdin", "--data-dir", data)
    assert result.code == 0, result.stderr
    return data / "blink" / "token.json"


def test_login_writes_a_private_token_and_says_so(signed_in: Path) -> None:
    assert stat.S_IMODE(signed_in.stat().st_mode) == 0o600
    assert PASSWORD not in signed_in.read_text()


def test_login_without_a_terminal_waits_for_the_code_and_verify_finishes_it(
    blink: FakeBlink, camsift_main: Cli, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blink sends a new code at each sign-in, so a script signs in first and gives the code it then receives."""
    blink.two_factor = True
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))

    first = camsift_main("blink", "login", "--email", EMAIL, "--password-stdin", "--data-dir", data)

    assert first.code == 0, first.stderr
    assert "finish with: camsift blink verify CODE" in first.stdout
    pending = pending_file(data / "blink" / "token.json")
    assert stat.S_IMODE(pending.stat().st_mode) == 0o600
    assert PASSWORD not in pending.read_text()

    wrong = camsift_main("blink", "verify", "000000", "--data-dir", data)
    assert wrong.code == 1
    assert "Blink did not accept the two-factor code: Blink answered 400 Bad Request" in wrong.stderr

    done = camsift_main("blink", "verify", blink.sent_codes[-1], "--data-dir", data)
    assert done.code == 0, done.stderr
    assert "logged in: account 1111, 1 networks, 2 cameras" in done.stdout
    assert not pending.exists()


def test_status_as_table_and_json(signed_in: Path, camsift_main: Cli, data: Path) -> None:
    table = camsift_main("blink", "status", "--data-dir", data)
    assert table.code == 0, table.stderr
    assert "Front Door" in table.stdout
    assert "Back Yard" in table.stdout
    assert "21.1" in table.stdout
    assert "bars" in table.stdout

    doc = json.loads(camsift_main("blink", "status", "--data-dir", data, "--format", "json").stdout)
    assert [c["camera"] for c in doc["cameras"]] == ["Front_Door", "Back_Yard"]
    assert [(c["wifi"], c["wifi_unit"], c["temperature_c"]) for c in doc["cameras"]] == [(4, "bars", 21.1)] * 2
    assert doc["networks"][0]["local_storage"] is True


def test_status_shows_the_last_motion_of_each_camera(
    blink: FakeBlink, signed_in: Path, camsift_main: Cli, data: Path
) -> None:
    when = minutes_ago(7)
    blink.add_clip("Back Yard", b"\x00\x00\x00\x18ftypmp42", when)

    doc = json.loads(camsift_main("blink", "status", "--data-dir", data, "--format", "json").stdout)
    assert [c["last_motion_utc"] for c in doc["cameras"]] == [None, when.isoformat()]

    table = camsift_main("blink", "status", "--data-dir", data)
    assert table.code == 0, table.stderr
    local = when.astimezone()
    assert f"{local:%Y-%m-%d}" in table.stdout  # the column may wrap between date and time
    assert f"{local:%H:%M}" in table.stdout


def test_status_before_login_says_to_log_in(blink: FakeBlink, camsift_main: Cli, data: Path) -> None:
    result = camsift_main("blink", "status", "--data-dir", data)
    assert result.code == 1
    assert "no Blink login yet; run 'camsift blink login'" in result.stderr


def test_download_fetches_analyses_and_respects_the_minimum_interval(
    blink: FakeBlink, signed_in: Path, camsift_main: Cli, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMSIFT_DETECT__DETECTOR", "scripted")
    monkeypatch.setenv("CAMSIFT_TIMEZONE", "UTC")
    walker = write_clip(tmp_path / "walk.mp4", [Walk(0.5, 3.5)]).path.read_bytes()
    blink.add_clip("Front Door", walker, minutes_ago(3))
    blink.add_clip("Back Yard", walker, minutes_ago(2))

    first = camsift_main("blink", "download", "--data-dir", data, "--delay", "0.5", "--limit", "1")
    assert first.code == 0, first.stderr
    [path] = first.stdout.split()
    assert "/blink/1111/Home/Front_Door/" in path
    assert Path(path).read_bytes() == walker
    assert "analysed 1 clips: 1 events" in first.stderr
    assert "1 left for later" in first.stderr

    again = camsift_main("blink", "download", "--data-dir", data)
    assert again.code == 0
    assert again.stdout == ""
    assert "Blink was asked less than 90 s ago" in again.stderr

    events = json.loads(camsift_main("events", "--data-dir", data, "--format", "json").stdout)["events"]
    assert [(e["camera"], e["label"]) for e in events] == [("Front_Door", "person")]


def test_arm_disarm_and_snapshot(blink: FakeBlink, signed_in: Path, camsift_main: Cli, data: Path) -> None:
    assert camsift_main("blink", "disarm", "Home", "--data-dir", data).stdout.strip() == "Home: disarmed"
    assert blink.armed is False
    assert camsift_main("blink", "arm", "Home", "--data-dir", data).code == 0
    assert blink.armed is True

    shot = camsift_main("blink", "snapshot", "Front Door", "--data-dir", data)
    assert shot.code == 0, shot.stderr
    assert Path(shot.stdout.strip()).read_bytes() == blink.device("Front Door").picture

    unknown = camsift_main("blink", "arm", "Cabin", "--data-dir", data)
    assert unknown.code == 2
    assert "no Blink network 'Cabin' (networks: Home)" in unknown.stderr


@needs_ffmpeg
def test_live_records_mpeg_ts_to_a_file(
    blink: FakeBlink, signed_in: Path, camsift_main: Cli, data: Path, shared_data: Path, tmp_path: Path
) -> None:
    blink.live_ts = ts_of(shared_data / "clips" / "intel_one-by-one-person-detection.mp4", 1.0)
    blink.live_duration_s = 0.5
    out = tmp_path / "live.ts"

    result = camsift_main("blink", "live", "Front Door", "--output", out, "--data-dir", data)

    assert result.code == 0, result.stderr
    assert out.read_bytes()[:1] == b"\x47"
    assert len(out.read_bytes()) > 10_000
    assert not out.with_name("live.ts.part").exists()


@needs_ffmpeg
def test_live_pipes_mpeg_ts_to_standard_output(
    blink: FakeBlink,
    logged_in: Path,  # <data>/blink/token.json, made without the CLI (which captures text, not bytes)
    data: Path,
    shared_data: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    from camsift.cli import main

    blink.live_ts = ts_of(shared_data / "clips" / "intel_one-by-one-person-detection.mp4", 1.0)
    blink.live_duration_s = 0.5
    capsysbinary.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["blink", "live", "Front Door", "--output", "-", "--data-dir", str(data)])
    out, err = capsysbinary.readouterr()
    assert done.value.code in (0, None)
    assert out[:1] == b"\x47"
    assert len(out) > 10_000
    assert b"bytes of MPEG-TS sent" in err


def test_live_to_a_file_leaves_no_part_behind_when_blink_refuses(
    blink: FakeBlink, signed_in: Path, camsift_main: Cli, data: Path, tmp_path: Path
) -> None:
    blink.fail("/liveview", 404)
    out = tmp_path / "live.ts"

    result = camsift_main("blink", "live", "Front Door", "--output", out, "--data-dir", data)

    assert result.code == 2
    assert "Blink gave no live view camsift can open (Blink answered 404 Not Found" in result.stderr
    assert not out.exists()
    assert list(tmp_path.glob("live.ts*")) == []
