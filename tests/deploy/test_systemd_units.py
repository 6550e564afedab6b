"""The systemd units in ``deploy/systemd``: their sandbox scores (``systemd-analyze security --offline``, no
running systemd needed) stay within the stated bounds, systemd reads every line of them, and the sandbox keeps
what each service needs to do its job."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze not on PATH: it scores the units' sandbox (apt-get install systemd)"
)

MAX_EXPOSURE = {
    "camsift.service": 3.5,  # the always-on service: network, its data dir; 1.4 with systemd 252
    "camsift-drive.service": 2.0,  # root (configfs) without capabilities; 0.7 with systemd 252
    "camsift-drive-sync.service": 1.5,  # the camsift user, no network; 0.4 with systemd 252
    "camsift-drive-clean.service": 1.5,  # the same; 0.4 with systemd 252
}
"""Highest ``systemd-analyze security`` exposure (0 = safe .. 10 = unsafe) of each unit; newer systemd versions
score a few more settings, hence the headroom."""


def settings(unit: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit file, by key, in order (systemd keys may repeat)."""
    found: dict[str, list[str]] = {}
    for line in (UNITS / unit).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_every_service_has_a_bound() -> None:
    assert sorted(p.name for p in UNITS.glob("*.service")) == sorted(MAX_EXPOSURE)


@needs_analyze
@pytest.mark.parametrize("unit", sorted(MAX_EXPOSURE))
def test_sandbox_score(unit: str) -> None:
    assert ANALYZE is not None
    done = subprocess.run(
        [ANALYZE, "security", "--offline=true", "--no-pager", str(UNITS / unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no unknown key or bad value: systemd would ignore that line
    found = re.search(rf"Overall exposure level for {re.escape(unit)}: (\d+\.\d)", done.stdout)
    assert found, done.stdout
    assert float(found[1]) <= MAX_EXPOSURE[unit], done.stdout


def test_the_service_keeps_what_its_job_needs() -> None:
    unit = settings("camsift.service")
    assert unit["CapabilityBoundingSet"] == [""]  # no capabilities, so every port it listens on is >= 1024:
    example = yaml.safe_load((ROOT / "camsift.example.yaml").read_text())
    ftp = [s for s in example["sources"].values() if s["type"] == "ftp"]
    assert ftp
    assert all(s["port"] >= 1024 and min(s["passive_ports"]) >= 1024 for s in ftp)
    assert example["web"]["port"] >= 1024
    assert set(unit["RestrictAddressFamilies"][0].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}  # MQTT, streams…
    assert "PrivateNetwork" not in unit
    assert "IPAddressDeny" not in unit
    assert unit["SystemCallFilter"][-1] == "sched_setaffinity"  # each worker is pinned to its CPUs
    assert (unit["StateDirectory"], unit["WorkingDirectory"]) == (["camsift"], ["/var/lib/camsift"])  # its data


def test_only_the_gadget_unit_is_root_and_it_has_no_capability() -> None:
    gadget = settings("camsift-drive.service")
    assert "User" not in gadget
    assert gadget["CapabilityBoundingSet"] == [""]
    assert gadget["ReadWritePaths"] == ["/sys/kernel/config /var/lib/camsift-drive"]  # the gadget tree, the image
    assert gadget["SupplementaryGroups"] == ["camsift"]  # the image belongs to camsift, mode 660
    for name in ("camsift-drive-sync.service", "camsift-drive-clean.service"):
        unit = settings(name)
        assert (unit["User"], unit["StateDirectory"]) == (["camsift"], ["camsift-drive"])
        assert unit["PrivateNetwork"] == ["yes"]
    clean = settings("camsift-drive-clean.service")
    # The clean-up stops the gadget unit (its ExecStop detaches) and starts it again, whatever happened.
    assert clean["Conflicts"] == clean["OnSuccess"] == clean["OnFailure"] == ["camsift-drive.service"]
    assert clean["After"] == ["camsift-drive.service"]
