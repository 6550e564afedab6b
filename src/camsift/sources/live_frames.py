"""What a live stream's analysis thread does with its decoded frames beside the pipeline: which frames go on
to it (`Freshness`: fresh ones, not a backlog) and the camera's motion ON/OFF (`MotionReporter`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from camsift.media import Frame

if TYPE_CHECKING:
    from camsift.pipeline import Pipeline

__all__ = ["LATE_GAP_S", "LATE_S", "Freshness", "MotionReporter"]

LATE_S = 0.5
"""A decoded frame this many seconds older than the newest packet read is not analysed: a look that took
longer than the frames come (a crowd's thorough look, other streams sharing the CPU) is followed by the
freshest frames, not by a backlog, so an event in progress is told within about a second (the analysed rate
drops instead, as Frigate's detection fps does); measured in bench/NOTES.md."""

LATE_GAP_S = 1.0
"""... unless no frame of the last this many seconds of footage was analysed: on a machine too busy to decode
in real time every frame is late, and the stream is still looked at once a second (the analysis queue then
fills and skips to a keyframe, `camsift.sources.stream`)."""


class MotionReporter:
    """A live camera's motion ON/OFF, from the motion gate of the stream's `Pipeline`, as Frigate's ``motion`` topic.

    OFF when the frames begin; ON at the first frame after one in which the gate found motion
    (`Pipeline.last_motion_s`); OFF once ``off_delay_s`` seconds pass without motion, and when the frames end
    (the stream dropped or is stopping), so a session never leaves motion ON. Time is the frames' own
    (`Frame.ts_s`), as Frigate measures ``motion.mqtt_off_delay`` in frame time: a stream that stalls changes
    nothing until its frames resume or it drops. Each change is reported at once, and only changes.

    Args:
        report: Called with the new state on each change (the stream writes it to `ServiceBoard.report_motion`).
        off_delay_s: Seconds of stream time without motion before OFF (``motion.mqtt_off_delay_s``).

    Attributes:
        on: The state last reported (``None`` before the first report).

    Example:
        >>> motion = MotionReporter(board_writer, 30.0)  # doctest: +SKIP
        >>> events = list(pipeline.events(motion.follow(frames, pipeline), ...))  # doctest: +SKIP
    """

    def __init__(self, report: Callable[[bool], None], off_delay_s: float) -> None:
        self.report, self.off_delay_s = report, off_delay_s
        self.on: bool | None = None

    def follow(self, frames: Iterable[Frame], pipeline: Pipeline) -> Iterator[Frame]:
        """Yield ``frames`` unchanged to ``pipeline``'s `Pipeline.events` loop, reporting its motion between them.

        The gate has seen the frames yielded before, so a change is reported one frame late (at ``detect.fps``
        5: 0.2 s).
        """
        self._set(False)
        try:
            for frame in frames:
                last = pipeline.last_motion_s
                self._set(last is not None and frame.ts_s - last < self.off_delay_s)
                yield frame
        finally:
            self.end()

    def end(self) -> None:
        """Report OFF if ON (the frames ended); may be called more than once."""
        self._set(False)

    def _set(self, on: bool) -> None:
        if on != self.on:
            self.on = on
            self.report(on)


class Freshness:
    """Which decoded frames of a live stream go on to the analysis: not those decoded too late (`LATE_S`),
    but at least one every `LATE_GAP_S` of footage.

    Attributes:
        newest: Stream time of the newest packet read, seconds from the first (`heard`).
        late: Frames held back so far.
        behind: Whether the last frame was held back (the decoder may then skip what no frame refers to).
    """

    def __init__(self) -> None:
        self.newest = 0.0
        self.late = 0
        self.behind = False
        self._passed = -math.inf

    def heard(self, t_s: float) -> None:
        """The reader read a packet of stream time ``t_s`` (seconds from the first)."""
        self.newest = max(self.newest, t_s)

    def passes(self, ts_s: float) -> bool:
        """Whether the frame at stream time ``ts_s`` (seconds from the first packet) is analysed."""
        self.behind = self.newest - ts_s > LATE_S and ts_s - self._passed < LATE_GAP_S
        if self.behind:
            self.late += 1
            return False
        self._passed = ts_s
        return True
