"""``camsift scan``: the JSON contract, exit codes, messages, options, Ctrl-C.

Most tests call the entry point in this process (`camsift_main`); the contract, a missing path, worker
processes, a real clip and Ctrl-C run the installed command (`camsift_cli`).
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from helpers.cli import CAMSIFT, CliResult, clean_environ
from helpers.media import SyntheticClip, Walk

Cli = Callable[..., subprocess.CompletedProcess[str]]
Main = Callable[..., CliResult]

FILE_KEYS = {"path", "camera", "status", "error", "duration_s", "events"}
EVENT_KEYS = {
    "id",
    "label",
    "start_s",
    "end_s",
    "start_utc",
    "confidence",
    "box_xyxy",
    "snapshot",
    "snapshot_annotated",
}
SUMMARY_KEYS = {"files", "ok", "skipped", "errors", "footage_s", "events", "wall_s", "realtime_factor", "interrupted"}


def scripted(*args: str | Path) -> list[str | Path]:
    """``camsift scan`` arguments with the fake detector, one job and JSON output."""
    return ["scan", *args, "--detector", "scripted", "-j", "1", "--format", "json"]


def no_traceback(result: subprocess.CompletedProcess[str] | CliResult) -> None:
    assert "Traceback" not in result.stderr + result.stdout


def one_line_error(result: subprocess.CompletedProcess[str] | CliResult) -> str:
    no_traceback(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("camsift: error: ")
    return lines[0]


@pytest.fixture
def porch(make_clip: Callable[..., SyntheticClip], footage: Path) -> Path:
    """footage/porch with one clip of one walker and one of two walks."""
    make_clip("porch/a.mp4", [Walk(0.5, 3.5)], seconds=4.0)
    make_clip("porch/b.mp4", [Walk(0.5, 2.0), Walk(6.0, 7.5, 1.0, 0.0)], seconds=8.0)
    return footage / "porch"


def check_event(event: dict[str, Any]) -> None:
    assert set(event) >= EVENT_KEYS
    assert isinstance(event["start_s"], float)
    assert isinstance(event["end_s"], float)
    assert 0 <= event["start_s"] <= event["end_s"]
    assert datetime.fromisoformat(event["start_utc"]).utcoffset() == timedelta(0)
    assert 0 < event["confidence"] <= 1
    box = event["box_xyxy"]
    assert len(box) == 4
    assert all(isinstance(v, int | float) for v in box)
    assert box[0] < box[2]
    assert box[1] < box[3]
    for key in ("snapshot", "snapshot_annotated"):
        assert Path(event[key]).is_absolute()
        assert Path(event[key]).is_file()
    assert event["snapshot_annotated"] == event["snapshot"].removesuffix(".jpg") + "-annotated.jpg"


def test_json_contract(camsift_cli: Cli, porch: Path, data_dir: Path) -> None:
    result = camsift_cli(*scripted(porch, "--data-dir", data_dir))

    assert result.returncode == 0, result.stderr
    no_traceback(result)
    doc = json.loads(result.stdout)  # stdout is the JSON document and nothing else
    assert set(doc) == {"files", "summary"}
    assert [Path(f["path"]).name for f in doc["files"]] == ["a.mp4", "b.mp4"]
    for f in doc["files"]:
        assert set(f) == FILE_KEYS
        assert (f["camera"], f["status"], f["error"]) == ("porch", "ok", None)
        assert Path(f["path"]).is_absolute()
        assert isinstance(f["duration_s"], float)
        for event in f["events"]:
            check_event(event)
            assert event["label"] == "person"
    assert [len(f["events"]) for f in doc["files"]] == [1, 2]
    assert [f["duration_s"] for f in doc["files"]] == pytest.approx([4.0, 8.0])
    summary = doc["summary"]
    assert set(summary) == SUMMARY_KEYS
    assert {k: summary[k] for k in ("files", "ok", "skipped", "errors", "events", "interrupted")} == {
        "files": 2,
        "ok": 2,
        "skipped": 0,
        "errors": 0,
        "events": {"person": 3},
        "interrupted": False,
    }
    assert summary["footage_s"] == pytest.approx(12.0)


def test_failed_file_exit_3_and_the_batch_goes_on(camsift_main: Main, porch: Path, data_dir: Path) -> None:
    (porch / "empty.mp4").write_bytes(b"")
    (porch / "junk.mkv").write_bytes(b"\x00\x01junk" * 100)

    result = camsift_main(*scripted(porch, "--data-dir", data_dir))

    assert result.code == 3
    no_traceback(result)
    doc = json.loads(result.stdout)
    status = {Path(f["path"]).name: (f["status"], f["error"]) for f in doc["files"]}
    assert status["a.mp4"] == status["b.mp4"] == ("ok", None)
    assert status["empty.mp4"] == ("error", "empty file (0 bytes)")
    assert status["junk.mkv"][0] == "error"
    assert status["junk.mkv"][1].startswith("cannot open video")
    assert (doc["summary"]["ok"], doc["summary"]["errors"]) == (2, 2)


def test_table_output_names_the_clips_worth_watching_and_the_failures(
    camsift_main: Main, porch: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (porch / "empty.mp4").write_bytes(b"")
    monkeypatch.setenv("COLUMNS", "400")

    result = camsift_main("scan", porch, "--detector", "scripted", "-j", "1", "--data-dir", data_dir)

    assert result.code == 3
    no_traceback(result)
    out = " ".join(result.stdout.split())
    assert "Clips worth watching" in out
    assert "1 person" in out
    assert "2 person" in out
    assert "Could not analyse:" in out
    assert "empty.mp4: empty file (0 bytes)" in out
    assert "3 (2 analysed, 0 unchanged, 1 failed)" in out


def test_missing_path_is_exit_2_with_one_line(camsift_cli: Cli, porch: Path, tmp_path: Path, data_dir: Path) -> None:
    result = camsift_cli(*scripted(porch, tmp_path / "nope", "--data-dir", data_dir))

    assert result.returncode == 2
    assert one_line_error(result) == f"camsift: error: {tmp_path / 'nope'}: no such file or directory"
    assert result.stdout == ""
    assert not data_dir.exists()


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("detect:\n  fps: 2\n  fsp: 3\n", ":3: detect.fsp: unknown key"),
        ("data_dir: x\nevents:\n  lost_s: -1\n", ":3: events.lost_s: Input should be greater than 0"),
    ],
)
def test_bad_config_is_exit_2_naming_the_line(
    camsift_main: Main, porch: Path, tmp_path: Path, yaml_text: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "camsift.yaml"
    config.write_text(yaml_text)

    by_option = camsift_main(*scripted(porch, "-c", config))
    monkeypatch.setenv("CAMSIFT_CONFIG", str(config))
    by_environment = camsift_main(*scripted(porch))

    for result in (by_option, by_environment):
        assert result.code == 2
        assert one_line_error(result) == f"camsift: error: {config}{message}"


def test_config_file_and_environment_are_read(
    camsift_main: Main, porch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "camsift.yaml"
    config.write_text(f"data_dir: {tmp_path / 'from-config'}\ndetect:\n  detector: scripted\n")
    monkeypatch.setenv("CAMSIFT_EVENTS__MIN_HITS", "50")

    result = camsift_main("scan", porch, "-c", config, "-j", "1", "--format", "json")

    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["events"] == {}  # min_hits from the environment
    assert (tmp_path / "from-config" / "camsift.db").is_file()


def test_options_override_the_config(camsift_main: Main, porch: Path, tmp_path: Path, data_dir: Path) -> None:
    config = tmp_path / "camsift.yaml"
    config.write_text("objects:\n  labels: [car]\n")

    cars = camsift_main(*scripted(porch, "-c", config, "--data-dir", data_dir))
    people = camsift_main(*scripted(porch, "-c", config, "--data-dir", data_dir, "--labels", "person", "--force"))

    assert json.loads(cars.stdout)["summary"]["events"] == {}
    assert json.loads(people.stdout)["summary"]["events"] == {"person": 3}


def test_camera_option(camsift_main: Main, porch: Path, data_dir: Path) -> None:
    result = camsift_main(*scripted(porch, "--data-dir", data_dir, "--camera", "front door"))

    doc = json.loads(result.stdout)
    assert {f["camera"] for f in doc["files"]} == {"front door"}
    shots = [Path(e["snapshot"]) for f in doc["files"] for e in f["events"]]
    assert {p.parent.name for p in shots} == {"front_door"}


def test_rescan_skips_and_force_redoes(camsift_main: Main, porch: Path, data_dir: Path) -> None:
    first = json.loads(camsift_main(*scripted(porch, "--data-dir", data_dir)).stdout)
    again = json.loads(camsift_main(*scripted(porch, "--data-dir", data_dir)).stdout)
    forced = json.loads(camsift_main(*scripted(porch, "--data-dir", data_dir, "--force")).stdout)

    def ids(doc: dict[str, Any]) -> list[list[str]]:
        return [sorted(e["id"] for e in f["events"]) for f in doc["files"]]

    assert [f["status"] for f in again["files"]] == ["skipped", "skipped"]
    assert [f["status"] for f in forced["files"]] == ["ok", "ok"]
    assert ids(first) == ids(again) == ids(forced)
    assert again["summary"]["skipped"] == 2
    with sqlite3.connect(data_dir / "camsift.db") as db:
        assert db.execute("select count(*) from events").fetchone() == (3,)


def test_rescan_still_reports_a_broken_file(camsift_main: Main, porch: Path, data_dir: Path) -> None:
    (porch / "empty.mp4").write_bytes(b"")
    camsift_main(*scripted(porch, "--data-dir", data_dir))

    again = camsift_main(*scripted(porch, "--data-dir", data_dir))

    assert again.code == 3
    assert json.loads(again.stdout)["summary"]["errors"] == 1


def test_jobs_in_worker_processes(camsift_cli: Cli, porch: Path, data_dir: Path) -> None:
    result = camsift_cli(
        "scan", porch, "--detector", "scripted", "--jobs", "2", "--data-dir", data_dir, "--format", "json"
    )

    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [(f["status"], len(f["events"])) for f in doc["files"]] == [("ok", 1), ("ok", 2)]


@pytest.mark.slow
def test_real_clip_with_the_default_detector(
    camsift_cli: Cli, shared_data: Path, tmp_path: Path, data_dir: Path
) -> None:
    clip = tmp_path / "hall" / "short_hamilton_clip.mp4"  # people on a stage
    clip.parent.mkdir()
    shutil.copy(shared_data / "faces" / clip.name, clip)

    result = camsift_cli("scan", clip, "-j", "1", "--data-dir", data_dir, "--format", "json")

    assert result.returncode == 0, result.stderr
    (f,) = json.loads(result.stdout)["files"]
    assert (f["camera"], f["status"]) == ("hall", "ok")
    assert f["duration_s"] == pytest.approx(110000 / 11988, abs=0.01)  # 275 frames 400/11988 s apart: the last ends
    assert len(f["events"]) >= 2
    for event in f["events"]:
        check_event(event)
        assert event["label"] == "person"
        with Image.open(event["snapshot"]) as shot:
            assert shot.size == (640, 360)


# --- Ctrl-C ------------------------------------------------------------------------------------------------------


def recorded(db: Path) -> int:
    """Files recorded so far by a running scan (0 while the database is not there yet)."""
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("select count(*) from files").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def ctrl_c_as_at_a_terminal() -> None:
    """In the child before exec: SIGINT's default disposition, as a scan started at a terminal has it. A test run
    started in the background (``cmd &`` in a script) inherits SIGINT ignored, and the scan would then ignore the
    Ctrl-C these tests send (it finished with exit code 0)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_after_first_file(folder: Path, data_dir: Path, *options: str) -> tuple[subprocess.Popen[str], str, str]:
    """Start ``camsift scan`` over ``folder``, send SIGINT once a file is recorded, wait for the end."""
    args = [str(CAMSIFT), "scan", str(folder), *options, "--data-dir", str(data_dir), "--format", "json"]
    scan = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_environ(),
        preexec_fn=ctrl_c_as_at_a_terminal,  # only a signal disposition: safe beside threads
    )
    try:
        deadline = time.monotonic() + 120
        while recorded(data_dir / "camsift.db") < 1 and scan.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scan.poll() is None, "the scan ended before it could be interrupted"
        scan.send_signal(signal.SIGINT)
        out, err = scan.communicate(timeout=120)
    finally:
        if scan.poll() is None:
            scan.kill()
            scan.communicate()
    return scan, out, err


@pytest.fixture
def copies(shared_data: Path, tmp_path: Path) -> Path:
    """Twelve copies of a real 10-second clip with people on a stage in it (enough that a scan is still busy
    when the test, on a loaded machine, has seen the first one recorded)."""
    folder = tmp_path / "copies" / "hall"
    folder.mkdir(parents=True)
    for i in range(12):
        shutil.copy(shared_data / "faces" / "short_hamilton_clip.mp4", folder / f"clip{i}.mp4")
    return folder.parent


@pytest.mark.slow
def test_ctrl_c_keeps_the_files_already_recorded(copies: Path, data_dir: Path) -> None:
    scan, out, err = interrupt_after_first_file(copies, data_dir, "--jobs", "2")

    assert scan.returncode == 130
    assert "Traceback" not in err
    assert "interrupted" in err
    doc = json.loads(out)
    assert doc["summary"]["interrupted"] is True
    reported = {f["path"]: len(f["events"]) for f in doc["files"]}
    assert all(f["status"] == "ok" for f in doc["files"])
    with sqlite3.connect(data_dir / "camsift.db") as db:
        files = dict(db.execute("select path, status from files").fetchall())
        events = dict(db.execute("select source, count(*) from events group by source").fetchall())
    assert 1 <= len(files) < 12
    assert set(files) == set(reported)
    assert set(files.values()) == {"ok"}
    assert {path: events.get(path, 0) for path in files} == reported  # each recorded file has all its events
    assert len(set(reported.values())) == 1
    assert next(iter(reported.values())) >= 2


@pytest.mark.slow
def test_ctrl_c_stops_a_single_job_scan(copies: Path, data_dir: Path) -> None:
    scan, _, _ = interrupt_after_first_file(copies, data_dir, "--jobs", "1", "--detector", "scripted")

    assert scan.returncode == 130
