"""The status board's cameras' motion rows: kept beside the service's parts, never shown as one (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from camsift.store import Store
from camsift.store.status import ServiceBoard
from helpers.clock import FakeClock


@pytest.fixture
def board(data_dir: Path, database_url: str | None, clock: FakeClock) -> Iterator[ServiceBoard]:
    with Store(data_dir, database_url, clock=clock) as store:
        yield store.board


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
    ("state", "silent_s", "running"),
    [("running", 60.0, True), ("starting", 0.0, True), ("stopped", 0.0, False), ("running", 61.0, False)],
)
def test_the_service_runs_while_it_reports_so(
    board: ServiceBoard, clock: FakeClock, state: str, silent_s: float, running: bool
) -> None:
    assert not board.service_running(60.0)  # never reported

    board.report("service", "service", state)
    clock.advance(silent_s)

    assert board.service_running(60.0) is running


@pytest.mark.parametrize(
    ("last_word", "silent_s", "disk_full", "shown"),
    [
        ("running", 60.0, False, ("running", "running")),
        ("running", 61.0, False, ("crashed", "stopped")),  # killed: its heartbeat stopped without a goodbye
        ("running", 61.0, True, ("disk full", "stopped")),  # waiting for space: it cannot write its heartbeat
        ("stopped", 61.0, False, ("stopped", "stopped")),
    ],
)
def test_the_state_shown_for_a_service_whose_heartbeat_stopped(
    board: ServiceBoard, clock: FakeClock, last_word: str, silent_s: float, disk_full: bool, shown: tuple[str, str]
) -> None:
    board.report("source:inbox", "folder", "running")
    board.report("service", "service", last_word)
    clock.advance(silent_s)

    states = {p.name: state for p, state in board.shown_states(60.0, disk_full)}

    assert (states["service"], states["source:inbox"]) == shown
