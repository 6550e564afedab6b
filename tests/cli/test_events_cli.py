"""``camsift events``: stored events, filtered by camera, label and time, as a table or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from camsift import load_config, scan
from helpers.cli import CliResult
from helpers.media import Walk, write_clip

Cli = Callable[..., CliResult]

NOW = datetime.now(UTC).replace(microsecond=0)
RECENT = NOW - timedelta(hours=1)
OLD = NOW - timedelta(days=3)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """A data dir, and its event ids by camera: porch (one walker, an hour ago), garden (two walks,
    three days ago); file names give the times."""
    root = tmp_path_factory.mktemp("events")
    write_clip(root / "footage" / "porch" / f"{RECENT:%Y%m%d_%H%M%S}.mp4", [Walk(0.5, 3.5)], seconds=4.0)
    write_clip(
        root / "footage" / "garden" / f"{OLD:%Y%m%d_%H%M%S}.mp4",
        [Walk(0.5, 2.0), Walk(6.0, 7.5, 1.0, 0.0)],
        seconds=8.0,
    )
    overrides = {"detect.detector": "scripted", "data_dir": str(root / "data"), "timezone": "UTC"}
    report = scan([root / "footage"], load_config(environ={}, overrides=overrides), jobs=1)
    return root / "data", {f.camera: [e.id for e in f.events] for f in report.files}


def listed(camsift_main: Cli, data_dir: Path, *options: str) -> list[dict[str, Any]]:
    result = camsift_main("events", "--data-dir", data_dir, "--format", "json", *options)
    assert result.code == 0, result.stderr
    events: list[dict[str, Any]] = json.loads(result.stdout)["events"]
    return events


def test_every_event_newest_first(camsift_main: Cli, scanned: tuple[Path, dict[str, list[str]]]) -> None:
    data_dir, ids = scanned

    events = listed(camsift_main, data_dir)

    assert [e["camera"] for e in events] == ["porch", "garden", "garden"]
    assert sorted(e["id"] for e in events) == sorted(ids["porch"] + ids["garden"])
    starts = [datetime.fromisoformat(e["start_utc"]) for e in events]
    assert starts == sorted(starts, reverse=True)
    assert starts[0] == RECENT + timedelta(seconds=events[0]["start_s"])
    assert all(Path(e["snapshot"]).is_file() and Path(e["snapshot_annotated"]).is_file() for e in events)


@pytest.mark.parametrize(
    ("options", "cameras"),
    [
        (["--camera", "porch"], ["porch"]),
        (["--camera", "garden"], ["garden", "garden"]),
        (["--camera", "attic"], []),
        (["--label", "person"], ["porch", "garden", "garden"]),
        (["--label", "car"], []),
        (["--camera", "garden", "--label", "person", "--limit", "1"], ["garden"]),
        (["--since", "2d"], ["porch"]),
        (["--since", "90m"], ["porch"]),
        (["--since", "1w"], ["porch", "garden", "garden"]),
        (["--until", "2d"], ["garden", "garden"]),
        (["--since", f"{NOW - timedelta(days=2):%Y-%m-%dT%H:%M}+00:00"], ["porch"]),
        (["--since", f"{OLD - timedelta(hours=1):%Y-%m-%dT%H:%M:%S}+00:00", "--until", "1d"], ["garden", "garden"]),
    ],
)
def test_filters(
    camsift_main: Cli, scanned: tuple[Path, dict[str, list[str]]], options: list[str], cameras: list[str]
) -> None:
    data_dir, _ = scanned

    assert [e["camera"] for e in listed(camsift_main, data_dir, *options)] == cameras


def test_table(camsift_main: Cli, scanned: tuple[Path, dict[str, list[str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")

    result = camsift_main("events", "--data-dir", scanned[0], "--camera", "porch")

    assert result.code == 0
    assert "1 events" in result.stdout
    assert "porch" in result.stdout
    assert "person" in result.stdout
    assert "90%" in result.stdout
    assert "-annotated.jpg" in result.stdout


def test_bad_since_is_exit_2(camsift_main: Cli, scanned: tuple[Path, dict[str, list[str]]]) -> None:
    result = camsift_main("events", "--data-dir", scanned[0], "--since", "yesterday")

    assert result.code == 2
    assert result.stderr.strip() == (
        "camsift: error: --since/--until: expected a date, a date-time or a duration like 2h, got 'yesterday'"
    )


def test_no_database_is_exit_2(camsift_main: Cli, tmp_path: Path) -> None:
    result = camsift_main("events", "--data-dir", tmp_path / "empty")

    assert result.code == 2
    assert (
        result.stderr.strip()
        == f"camsift: error: {tmp_path / 'empty'}: no camsift database here; run 'camsift scan' first"
    )
