"""``camsift notify test`` as a user runs it, against a JSON webhook on loopback."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import yaml

from helpers.cli import CliResult
from helpers.notify import HttpReceiver, http_receiver
from helpers.service import free_port

Main = Callable[..., CliResult]


def write_config(path: Path, channels: dict[str, str]) -> Path:
    path.write_text(yaml.safe_dump({"notify": {"channels": {name: {"url": url} for name, url in channels.items()}}}))
    return path


def test_a_test_message_with_a_real_snapshot_reaches_the_channel(
    camsift_main: Main, tmp_path: Path, shared_data: Path
) -> None:
    picture = shared_data / "images" / "skimage_rocket.jpg"
    with http_receiver() as hook:
        config = write_config(tmp_path / "c.yaml", {"phone": f"json://127.0.0.1:{hook.port}/p", "mail": "json://x/y"})
        result = camsift_main("notify", "test", "-c", config, "--channel", "phone", "--picture", picture)

    assert (result.code, result.stdout.split()) == (0, ["sent", "phone"])
    [request] = hook.received()
    assert request.json()["title"] == "camsift test (phone)"
    assert [base64.b64decode(a["base64"]) for a in request.json()["attachments"]] == [picture.read_bytes()]


def test_without_a_picture_a_sample_is_drawn(camsift_main: Main, tmp_path: Path) -> None:
    with http_receiver() as hook:
        config = write_config(tmp_path / "c.yaml", {"phone": f"json://127.0.0.1:{hook.port}/p"})
        result = camsift_main("notify", "test", "-c", config)

    assert result.code == 0
    [attachment] = hook.received()[0].json()["attachments"]
    assert attachment["filename"] == "camsift-test.jpg"
    assert base64.b64decode(attachment["base64"])[:3] == b"\xff\xd8\xff"  # a JPEG


def test_a_failing_channel_exits_1_naming_it_but_not_its_secrets(camsift_main: Main, tmp_path: Path) -> None:
    with http_receiver() as hook:
        channels = {"ok": f"json://127.0.0.1:{hook.port}/p", "down": f"json://me:hunter22@127.0.0.1:{free_port()}/k3y"}
        result = camsift_main("notify", "test", "-c", write_config(tmp_path / "c.yaml", channels))

    assert result.code == 1
    assert "sent   ok" in result.stdout
    assert "failed down: channel down: " in result.stdout
    assert "1 of 2 channels failed: down" in result.stderr
    assert "hunter22" not in result.stdout + result.stderr
    assert "k3y" not in result.stdout + result.stderr


def test_an_unknown_channel_or_none_configured_is_a_usage_error(camsift_main: Main, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.yaml", {"phone": "json://127.0.0.1:9/p"})
    unknown = camsift_main("notify", "test", "-c", config, "--channel", "pager")
    none = camsift_main("notify", "test", "-c", write_config(tmp_path / "empty.yaml", {}))

    assert (unknown.code, none.code) == (2, 2)
    assert "no channel named 'pager' (channels: phone)" in unknown.stderr
    assert "notify.channels: no channel configured" in none.stderr


def test_scan_notify_tells_each_alarm_once_and_sends_what_was_pending(
    camsift_main: Main, tmp_path: Path, footage: Path
) -> None:
    from helpers.media import Walk, write_clip

    write_clip(footage / "porch" / "walker.mp4", [Walk(0.5, 3.5)])
    hook = HttpReceiver()  # down at first: its port refuses connections
    doc = {
        "detect": {"detector": "scripted"},
        "timezone": "UTC",
        "notify": {"channels": {"hook": {"url": f"json://127.0.0.1:{hook.port}/h"}}, "scan_wait_s": 1},
    }
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(doc))

    down = camsift_main("scan", footage, "-c", config, "--notify")
    hook.up()
    try:
        again = camsift_main("scan", footage, "-c", config, "--notify")  # file unchanged: only the pending message
        third = camsift_main("scan", footage, "-c", config, "--notify", "--force")  # analysed again: same event
    finally:
        hook.down()

    assert down.code == 1
    assert "1 notifications not delivered yet (a channel is down)" in down.stderr
    assert (again.code, third.code) == (0, 0)
    assert [r.json()["title"] for r in hook.received()] == ["Person on porch"]


def test_scan_notify_needs_a_channel(camsift_main: Main, footage: Path) -> None:
    result = camsift_main("scan", footage, "--notify")
    assert result.code == 2
    assert "--notify: no channel in 'notify.channels' and MQTT not enabled" in result.stderr


def test_status_shows_what_waits_for_a_channel(camsift_main: Main, data_dir: Path) -> None:
    import json

    from camsift.store import Store
    from camsift.store.outbox import Message, Outbox

    with Store(data_dir) as store:
        outbox = Outbox(store.engine)
        outbox.put("phone", Message("event:a", "event", "Person on porch", "…"))
        outbox.retry(outbox.due("phone")[0].id, "channel phone: A Connection error occurred")

    table = camsift_main("status", "--data-dir", data_dir)
    doc = json.loads(camsift_main("status", "--data-dir", data_dir, "--format", "json").stdout)

    assert "notifications to phone: 1 waiting since " in table.stdout
    assert "(last error: channel phone: A Connection error occurred)" in table.stdout
    [phone] = doc["notifications"]
    assert (phone["channel"], phone["pending"], phone["failed"]) == ("phone", 1, 0)
