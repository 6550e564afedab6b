"""What a live stream's analysis does with its decoded frames: motion ON/OFF from the pipeline's gate, and
which frames go on to the analysis when it falls behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from camsift.config import Settings
from camsift.detectors import create
from camsift.media import Frame, frames
from camsift.pipeline import Pipeline
from camsift.sources.live_frames import LATE_GAP_S, LATE_S, Freshness, MotionReporter
from helpers.media import EPOCH, SyntheticClip, Walk, write_clip

MakeSettings = Callable[..., Settings]


@pytest.mark.parametrize(
    ("walks", "seconds", "changes"),
    [
        ([], 3.0, [(False, None)]),  # OFF when the frames begin, nothing after
        # ON one frame after the first moving one (1.0 s); OFF off_delay_s after the last (2.0 s)
        ([Walk(1.0, 2.0)], 5.0, [(False, None), (True, 1.1), (False, 3.0)]),
        ([Walk(1.0, 2.0), Walk(2.6, 3.0)], 5.0, [(False, None), (True, 1.1), (False, 4.0)]),  # 0.6 s still: ON
        ([Walk(1.0, 4.0)], 4.0, [(False, None), (True, 1.1), (False, 3.9)]),  # moving when the frames end: OFF
    ],
)
def test_motion_goes_on_with_the_gate_and_off_after_the_quiet_delay(
    scripted_settings: MakeSettings,
    tmp_path: Path,
    walks: list[Walk],
    seconds: float,
    changes: list[tuple[bool, float | None]],
) -> None:
    clip = write_clip(tmp_path / "clip.mp4", walks, seconds=seconds, fps=10)
    pipeline = Pipeline(scripted_settings(), create("scripted"))
    given: list[float] = []  # times of the frames handed to the pipeline so far
    reported: list[tuple[bool, float | None]] = []
    motion = MotionReporter(lambda on: reported.append((on, given[-1] if given else None)), off_delay_s=1.0)

    list(pipeline.events(motion.follow(handed(clip, given), pipeline), camera="c", start_utc=EPOCH, id_prefix="t"))

    assert [on for on, _ in reported] == [on for on, _ in changes]
    assert [t for _, t in reported] == [None if t is None else pytest.approx(t, abs=0.15) for _, t in changes]
    motion.end()
    assert len(reported) == len(changes)  # OFF already: nothing more


def handed(clip: SyntheticClip, given: list[float]) -> Iterator[Frame]:
    """The clip's frames, noting the time of each in ``given`` as it is taken."""
    for frame in frames(clip.path):
        given.append(frame.ts_s)
        yield frame


def test_after_a_slow_look_the_analysis_goes_on_with_fresh_frames_not_a_backlog() -> None:
    fresh = Freshness()
    passed = []
    for i in range(60):  # 30 fps; the reader is 2 s ahead once the frame of 1.0 s was analysed (a slow look)
        ts = i / 30
        fresh.heard(ts + (2.0 if ts > 1.0 else 0.0))
        passed.append(fresh.passes(ts))

    assert all(passed[:31])  # 0 .. 1.0 s, nothing late
    assert not any(passed[31:])  # behind by 2 s, within a second of the last analysed frame: held back
    assert fresh.late == len(passed) - 31
    assert fresh.behind
    assert fresh.newest == pytest.approx(59 / 30 + 2.0)
    assert fresh.passes(fresh.newest - 0.4)  # caught up: within LATE_S of the newest packet
    assert not fresh.behind


def test_a_stream_too_slow_to_decode_in_time_is_still_analysed_once_every_late_gap_s() -> None:
    fresh = Freshness()
    times = [i / 10 for i in range(50)]
    passed = []
    for ts in times:
        fresh.heard(ts + 5.0)  # always 5 s behind
        if fresh.passes(ts):
            passed.append(ts)

    assert passed == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])
    assert LATE_GAP_S == 1.0
    assert LATE_S < LATE_GAP_S
