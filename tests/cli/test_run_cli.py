"""``camsift run``, ``status``, ``record``, ``config`` and ``ftp passwd`` as a user runs them.

The crash test runs the real command, kills it with SIGKILL in the middle of its queue, starts it
again, and checks that every file was recorded exactly once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from camsift.config import load_config
from camsift.sources.ftp import verify_password
from camsift.store import Store
from camsift.store.queue import JobQueue
from camsift.store.status import ServiceBoard
from helpers.cli import CAMSIFT, CliResult, clean_environ
from helpers.media import Walk, write_clip
from helpers.service import wait_for

REPO = Path(__file__).resolve().parents[2]
Cli = Callable[..., subprocess.CompletedProcess[str]]


def write_config(path: Path, data_dir: Path, inbox: Path, **extra: object) -> Path:
    doc = {
        "data_dir": str(data_dir),
        "timezone": "UTC",
        "detect": {"detector": "scripted"},
        "service": {"workers": 1, "heartbeat_s": 0.3},
        "sources": {"inbox": {"type": "folder", "path": str(inbox), "settle_s": 0.3}},
        **extra,
    }
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """``service(config)``: ``camsift run -c config`` in a session of its own; everything left is killed after."""
    started: list[subprocess.Popen[str]] = []
    with contextlib.ExitStack() as logs:

        def start(config: Path) -> subprocess.Popen[str]:
            log = logs.enter_context((tmp_path / f"run{len(started)}.log").open("w"))
            process = subprocess.Popen(
                [str(CAMSIFT), "run", "-c", str(config)],
                cwd=tmp_path,
                env=clean_environ(),
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
                start_new_session=True,
            )
            started.append(process)
            return process

        yield start
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait()
            with contextlib.suppress(ProcessLookupError):  # the forkserver and resource tracker of a killed run
                os.killpg(process.pid, signal.SIGKILL)


def jobs(data_dir: Path) -> list[tuple[str, str, str | None]]:
    with Store(data_dir) as store:
        return [(job.path.name, state, outcome) for job, state, outcome in JobQueue(store.engine).jobs()]


def test_a_kill_mid_queue_then_a_restart_records_every_file_exactly_once(
    tmp_path: Path, data_dir: Path, service: Callable[[Path], subprocess.Popen[str]]
) -> None:
    inbox = tmp_path / "inbox"
    names = [f"clip{n:02d}.mp4" for n in range(10)]
    for name in names:
        write_clip(inbox / "porch" / name, [Walk(0.5, 5.0)], seconds=6.0)
    config = write_config(tmp_path / "camsift.yaml", data_dir, inbox)

    first = service(config)
    wait_for(
        lambda: (data_dir / "camsift.db").exists() and 2 <= sum(s == "done" for _, s, _ in jobs(data_dir)) < 8,
        60,
        "part of the queue done",
        step=0.05,
    )
    first.send_signal(signal.SIGKILL)
    first.wait()
    unfinished = sum(state != "done" for _, state, _ in jobs(data_dir))
    assert unfinished >= 2
    with Store(data_dir) as store:  # what 'camsift status' shows once the heartbeat is stale
        board = ServiceBoard(store.engine)
        assert {p.name: s for p, s in board.shown_states(stale_s=0)} == {
            "service": "crashed",
            "source:inbox": "stopped",
        }

    second = service(config)
    wait_for(lambda: sum(s == "done" for _, s, _ in jobs(data_dir)) == len(names), 90, "every job done")
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=15) == 0

    assert sorted(name for name, _, _ in jobs(data_dir)) == names  # one job per file
    assert {outcome for _, _, outcome in jobs(data_dir)} <= {"ok", "ok (already recorded)"}
    with Store(data_dir) as store:
        records = list(store.files())
        events = store.events()
    assert sorted(r.path.name for r in records) == names
    assert all(r.status == "ok" for r in records)
    assert sorted(e.source.name for e in events if e.source) == names  # one person per clip, none twice
    assert len({e.id for e in events}) == len(names)
    pictures = sorted((data_dir / "events").rglob("*.jpg"))
    assert len(pictures) == 2 * len(names)  # a clean and an annotated snapshot each, no leftovers


def test_sigterm_stops_within_seconds_and_status_tells_from_another_process(
    tmp_path: Path, data_dir: Path, service: Callable[[Path], subprocess.Popen[str]], camsift_cli: Cli
) -> None:
    inbox = tmp_path / "inbox"
    write_clip(inbox / "porch" / "a.mp4")
    config = write_config(tmp_path / "camsift.yaml", data_dir, inbox)
    process = service(config)
    wait_for(lambda: (data_dir / "camsift.db").exists() and jobs(data_dir) == [("a.mp4", "done", "ok")], 60, "a.mp4")

    running = camsift_cli("status", "-c", config, "--format", "json")
    again = camsift_cli("run", "-c", config)
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    code = process.wait(timeout=15)
    stopped = camsift_cli("status", "-c", config, "--format", "json")

    assert (code, time.monotonic() - started < 8) == (0, True)
    doc = json.loads(running.stdout)
    assert doc["running"] is True
    assert doc["queue"] == {"waiting": 0, "in_analysis": 0, "oldest_waiting_utc": None}
    assert {c["name"]: c["state"] for c in doc["components"]} == {"service": "running", "source:inbox": "running"}
    assert doc["last_events"]["porch"]["label"] == "person"
    assert again.returncode == 1
    assert "another 'camsift run' is using this data directory" in again.stderr
    assert json.loads(stopped.stdout)["running"] is False
    assert {c["name"]: c["state"] for c in json.loads(stopped.stdout)["components"]} == {
        "service": "stopped",
        "source:inbox": "stopped",
    }


def test_record_needs_a_stream_source_and_a_running_service(tmp_path: Path, data_dir: Path, camsift_cli: Cli) -> None:
    config = write_config(tmp_path / "camsift.yaml", data_dir, tmp_path)
    streaming = write_config(
        tmp_path / "stream.yaml", data_dir, tmp_path, sources={"door": {"type": "stream", "url": "tcp://127.0.0.1:9"}}
    )
    Store(data_dir).close()

    no_stream = camsift_cli("record", "door", "-c", config)
    not_running = camsift_cli("record", "door", "-c", streaming, "--seconds", "2")

    assert no_stream.returncode == 2
    assert "no stream source for camera 'door'" in no_stream.stderr
    assert not_running.returncode == 1
    assert "'camsift run' is not running" in not_running.stderr


# --- configuration -----------------------------------------------------------------------------------------------


def test_the_shipped_example_config_is_valid() -> None:
    settings = load_config(REPO / "camsift.example.yaml", environ={})

    assert sorted(settings.sources) == ["blink", "driveway", "uploads", "xiaomi"]
    assert settings.for_camera("porch").alarm.mode == "new_labels"
    assert settings.for_camera("driveway").record.post_roll_s == 15


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("sources:\n  up:\n    type: ftp\n    prot: 21\n", "camsift.yaml:4: sources.up.prot: unknown key"),
        ("sources:\n  up:\n    type: webcam\n", "camsift.yaml:2: sources.up: Input tag 'webcam'"),
        ("record:\n  buffer_s: 5\n  pre_roll_s: 8\n", "camsift.yaml:1: record: Value error, pre_roll_s (8.0) cannot"),
        ('cameras:\n  porch:\n    time_windows: ["7-9"]\n', "camsift.yaml:3: cameras.porch.time_windows: Value error"),
        ("sources:\n  up: {type: ftp, users: {porch: {password_hash: secret}}}\n", "camsift.yaml:2: sources.up.users"),
        ("sources:\n  up: {type: ftp, passive_ports: [6000, 5000]}\n", "sources.up.passive_ports: Value error"),
    ],
)
def test_config_check_points_at_the_bad_key_and_line(
    tmp_path: Path, camsift_main: Callable[..., CliResult], yaml_text: str, message: str
) -> None:
    path = tmp_path / "camsift.yaml"
    path.write_text(yaml_text)

    result = camsift_main("config", "check", str(path))

    assert result.code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "notify:\n  channels:\n    hook: {url: notaurl}\n",
            "camsift.yaml:3: notify.channels.hook.url: Value error, not a URL apprise can use (scheme 'none')",
        ),
        ("detect:\n  detector: foo\n", "camsift.yaml:2: detect.detector: Value error, unknown detector 'foo'"),
        ("cameras:\n  porch:\n    detect: {detector: foo}\n", "camsift.yaml:3: cameras.porch.detect.detector: unknown"),
        ("detect:\n  detector: yolo\n", "camsift.yaml:1: detect: Value error, detector 'yolo' needs yolo.model"),
        ("detect:\n  detector: yolo\n  yolo: {model: nope.onnx}\n", "camsift.yaml:3: detect.yolo.model: cannot read"),
        ("faces:\n  engine: foo\n", "camsift.yaml:2: faces.engine: Value error, unknown face engine 'foo'"),
        ("database: notaurl\n", "camsift.yaml:1: database: String should match pattern"),
        (
            "mqtt: {enabled: true, tls: true, ca_file: /nonexistent/ca.pem}\n",
            "camsift.yaml:1: mqtt.ca_file: cannot read",
        ),
        ("objects:\n  labels: [persn]\n", "camsift.yaml:2: objects.labels: unknown label 'persn'"),
    ],
)
def test_config_check_refuses_what_run_refuses_with_the_same_line(
    tmp_path: Path, camsift_main: Callable[..., CliResult], yaml_text: str, message: str
) -> None:
    path = tmp_path / "camsift.yaml"
    path.write_text(
        f"{yaml_text}data_dir: {tmp_path / 'data'}\nsources:\n  inbox: {{type: folder, path: {tmp_path}}}\n"
    )

    check = camsift_main("config", "check", str(path))
    run = camsift_main("run", "-c", str(path))

    assert (check.code, run.code) == (2, 2)
    assert message in check.stderr
    assert message in run.stderr
    assert not (tmp_path / "data").exists()  # refused before anything started


@pytest.mark.parametrize(
    ("command", "yaml_text", "hidden", "message"),
    [
        (
            "config check",
            "mqtt:\n  enabled: true\n",
            "paho.mqtt",
            "camsift.yaml:2: mqtt.enabled: needs paho.mqtt, which is not installed: pip install 'camsift[mqtt]'",
        ),
        ("config check", "detect: {detector: rekognition}\n", "boto3", "camsift.yaml:1: detect.detector: needs boto3"),
        (
            "config check",
            "notify:\n  channels:\n    hook: {url: 'json://localhost'}\n",
            "apprise",
            "camsift.yaml:3: "
            "notify.channels.hook.url: Value error, notifications need apprise: pip install 'camsift[notify]'",
        ),
        ("serve", "", "fastapi", "the web app needs the 'web' extra: pip install 'camsift[web]' (fastapi missing)"),
        ("serve", "", "uvicorn", "the web app needs the 'web' extra: pip install 'camsift[web]' (uvicorn missing)"),
        ("run", "mqtt: {enabled: true}\n", "paho.mqtt", "needs paho.mqtt, which is not installed: pip install "),
        ("run", "detect: {detector: rekognition}\n", "boto3", "needs boto3, which is not installed: pip install "),
        ("run", "web: {enabled: true}\n", "uvicorn", "needs uvicorn, which is not installed: pip install 'camsift[web"),
        ("ai-api", "detect: {detector: rekognition}\n", "boto3", "needs boto3, which is not installed: pip install "),
    ],
)
def test_a_missing_extra_is_one_line_naming_the_install_before_anything_starts(
    tmp_path: Path,
    camsift_main: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    yaml_text: str,
    hidden: str,
    message: str,
) -> None:
    monkeypatch.setitem(sys.modules, hidden, None)  # as if not installed
    path = tmp_path / "camsift.yaml"
    path.write_text(
        f"{yaml_text}data_dir: {tmp_path / 'data'}\nsources:\n  inbox: {{type: folder, path: {tmp_path}}}\n"
    )
    args = ("config", "check", path) if command == "config check" else (command, "-c", path)

    result = camsift_main(*args)

    assert result.code == 2 if command == "config check" else result.code != 0
    assert result.stdout == ""  # nothing announced ("web app on http://...")
    [line] = result.stderr.replace(str(path), "camsift.yaml").splitlines()
    assert message in line
    assert "pip install 'camsift[" in line
    assert not (tmp_path / "data").exists()  # nothing opened


def test_config_check_and_run_refuse_a_move_to_inside_the_watched_folder(
    tmp_path: Path, camsift_main: Callable[..., CliResult]
) -> None:
    path = tmp_path / "camsift.yaml"
    path.write_text(
        f"data_dir: {tmp_path / 'data'}\nsources:\n"
        f"  inbox: {{type: folder, path: {tmp_path}/in, move_to: {tmp_path}/in/done}}\n"
    )

    check = camsift_main("config", "check", str(path))
    run = camsift_main("run", "-c", str(path))

    assert (check.code, run.code) == (2, 2)
    message = f"camsift.yaml:3: sources.inbox: Value error, move_to {tmp_path}/in/done is inside the watched folder"
    assert message in check.stderr.replace(str(path), "camsift.yaml")
    assert message in run.stderr.replace(str(path), "camsift.yaml")
    assert not (tmp_path / "data").exists()


def test_config_check_warns_that_run_needs_a_source(tmp_path: Path, camsift_main: Callable[..., CliResult]) -> None:
    path = tmp_path / "camsift.yaml"
    path.write_text("detect: {fps: 2}\n")

    result = camsift_main("config", "check", str(path))

    assert result.code == 0
    assert "no 'sources:' section; 'camsift run' needs one" in result.stderr


def test_config_check_warns_about_a_readable_file_with_secrets(
    tmp_path: Path, camsift_main: Callable[..., CliResult]
) -> None:
    path = tmp_path / "camsift.yaml"
    path.write_text((REPO / "camsift.example.yaml").read_text())
    path.chmod(0o644)
    warned = camsift_main("config", "check", str(path))
    path.chmod(0o600)
    quiet = camsift_main("config", "check", str(path))

    assert (warned.code, quiet.code) == (0, 0)
    assert "chmod 600" in warned.stderr
    assert quiet.stderr == ""


def test_config_schema_documents_every_service_key(camsift_main: Callable[..., CliResult]) -> None:
    result = camsift_main("config", "schema")

    schema = json.loads(result.stdout)
    defs = schema["$defs"]
    for model in (
        "RecordConfig",
        "AlarmConfig",
        "ServiceConfig",
        "FolderSourceConfig",
        "FtpSourceConfig",
        "StreamSourceConfig",
        "BlinkSourceConfig",
    ):
        for key, prop in defs[model]["properties"].items():
            assert prop.get("description"), f"{model}.{key} has no description"
    assert set(schema["properties"]["sources"]["additionalProperties"]["discriminator"]["mapping"]) == {
        "blink",
        "folder",
        "ftp",
        "stream",
    }


def test_ftp_passwd_prints_a_hash_that_verifies(camsift_cli: Cli) -> None:
    result = subprocess.run(
        [str(CAMSIFT), "ftp", "passwd", "porch", "--stdin"],
        input="s3cret\n",
        capture_output=True,
        text=True,
        env=clean_environ(),
        check=False,
    )

    entry = yaml.safe_load(result.stdout)
    assert result.returncode == 0
    assert "s3cret" not in result.stdout
    assert verify_password(entry["porch"]["password_hash"], "s3cret")


def test_status_lists_given_up_files_and_retry_queues_them_again(
    tmp_path: Path, data_dir: Path, camsift_main: Callable[..., CliResult]
) -> None:
    inbox = tmp_path / "inbox"
    bad = write_clip(inbox / "porch" / "bad.mp4").path
    config = write_config(tmp_path / "camsift.yaml", data_dir, inbox)
    with Store(data_dir) as store:
        queue = JobQueue(store.engine)
        queue.submit(bad, "porch", "inbox", "folder")
        [job] = queue.claim(1, lease_s=600, max_attempts=1)
        assert queue.crashed(job, "the decoder crashed on this file", 1)

    shown = camsift_main("status", "-c", config, "--format", "json")
    table = camsift_main("status", "-c", config)
    unknown = camsift_main("retry", "-c", config, tmp_path / "other.mp4")
    retried = camsift_main("retry", "-c", config)
    again = camsift_main("retry", "-c", config)

    [entry] = json.loads(shown.stdout)["given_up"]
    assert (entry["path"], entry["camera"], entry["source"]) == (str(bad), "porch", "inbox")
    assert entry["reason"] == "given up: the decoder crashed on this file (1 time)"
    assert "1 files given up ('camsift retry' queues them again)" in table.stdout
    assert f"{bad} (camera porch" in table.stdout
    assert (unknown.code, unknown.stderr.count("\n")) == (2, 1)
    assert "other.mp4: not among the given-up files" in unknown.stderr
    assert (retried.code, retried.stdout) == (0, f"queued again: {bad}\n")
    assert again.stdout == "no given-up files\n"
    assert jobs(data_dir) == [("bad.mp4", "pending", None)]
