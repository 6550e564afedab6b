"""The status board's cameras' motion rows: kept beside the service's parts, never shown as one (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from camsift.store import Store
from camsift.store.status import ServiceBoard


@pytest.fixture
def board(data_dir: Path, database_url: str | None) -> Iterator[ServiceBoard]:
    with Store(data_dir, database_url) as store:
        yield ServiceBoard(store.engine)


def test_motion_is_kept_per_camera_and_left_out_of_the_components(board: ServiceBoard) -> None:
    board.report("service", "service", "running")
    board.report("source:door-stream", "stream", "recording", "tcp://127.0.0.1:8554 320x180")
    board.report_motion("door", "door-stream", True)
    board.report_motion("yard", "blink/live/yard", True)
    board.report_motion("door", "door-stream", False)

    assert [(m.camera, m.source, m.on) for m in board.motion()] == [
        ("door", "door-stream", False),
        ("yard", "blink/live/yard", True),
    ]
    assert [(c.name, c.state) for c in board.components()] == [
        ("service", "running"),
        ("source:door-stream", "recording"),
    ]

    board.forget()  # at service start
    assert (board.motion(), board.components()) == ([], [])


@pytest.mark.parametrize(
    ("state", "stale_s", "running"),
    [("running", 60.0, True), ("starting", 60.0, True), ("stopped", 60.0, False), ("running", -1.0, False)],
)
def test_the_service_runs_while_it_reports_so(board: ServiceBoard, state: str, stale_s: float, running: bool) -> None:
    assert not board.service_running(60.0)  # never reported

    board.report("service", "service", state)

    assert board.service_running(stale_s) is running


@pytest.mark.parametrize(
    ("last_word", "stale_s", "disk_full", "shown"),
    [
        ("running", 60.0, False, ("running", "running")),
        ("running", 0.0, False, ("crashed", "stopped")),  # killed: its heartbeat stopped without a goodbye
        ("running", 0.0, True, ("disk full", "stopped")),  # waiting for space: it cannot write its heartbeat
        ("stopped", 0.0, False, ("stopped", "stopped")),
    ],
)
def test_the_state_shown_for_a_service_whose_heartbeat_stopped(
    board: ServiceBoard, last_word: str, stale_s: float, disk_full: bool, shown: tuple[str, str]
) -> None:
    board.report("source:inbox", "folder", "running")
    board.report("service", "service", last_word)

    states = {p.name: state for p, state in board.shown_states(stale_s, disk_full)}

    assert (states["service"], states["source:inbox"]) == shown
