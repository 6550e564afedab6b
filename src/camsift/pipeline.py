"""The pipeline: sample → motion gate → detect → filter → track → events.

Each stage is a small object with one verb; `Pipeline.events` is the loop that
ties them. The pipeline knows nothing of storage, notifiers or the web: it
reads frames and yields `Event` values.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain

import numpy as np
import numpy.typing as npt

from camsift.config import Settings
from camsift.detections import Detections
from camsift.detectors import Detector
from camsift.errors import MediaError
from camsift.events import Confirmed, Event, EventBuilder
from camsift.filters import ObjectFilter
from camsift.media import Frame
from camsift.motion import MotionGate
from camsift.regions import TIME_SLACK_S, RegionDetector, Scheduler
from camsift.tracking import Tracker

__all__ = ["Pipeline", "PipelineStats", "Sampler"]


class Sampler:
    """Picks frames at a fixed rate by their timestamps.

    Args:
        fps: Frames per second to keep. A frame is kept when its time reaches
            the next point of a ``1/fps`` grid (1 ms tolerance), so uneven
            frame times (GIFs, variable-rate clips) are handled.
    """

    def __init__(self, fps: float) -> None:
        self.step = 1.0 / fps

    def sample(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """Yield the frames to analyse, in order."""
        next_s = 0.0
        for frame in frames:
            if frame.ts_s >= next_s - TIME_SLACK_S:
                yield frame
                next_s = (np.floor((frame.ts_s + TIME_SLACK_S) / self.step) + 1) * self.step


@dataclass
class PipelineStats:
    """Counters and per-stage wall time (seconds) of one pipeline run."""

    frames: int = 0
    sampled: int = 0
    detector_runs: int = 0
    regions: int = 0
    footage_s: float = 0.0
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the wall time of the ``with`` block to ``seconds[stage]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - start

    def add(self, other: PipelineStats) -> None:
        """Accumulate another run's figures into this one."""
        self.frames += other.frames
        self.sampled += other.sampled
        self.detector_runs += other.detector_runs
        self.regions += other.regions
        self.footage_s += other.footage_s
        for stage, s in other.seconds.items():
            self.seconds[stage] += s


class Pipeline:
    """Finds events in the frames of one clip, image or stream.

    Args:
        settings: Settings already specialised for the camera (`Settings.for_camera`).
        detector: The detector to use (loaded once, reused across clips).
    """

    def __init__(self, settings: Settings, detector: Detector) -> None:
        self.settings = settings
        self.detector = detector
        self.stats = PipelineStats()
        self._failure: MediaError | None = None
        self._regions = RegionDetector(detector, settings.detect.nms_iou)
        self._builder: EventBuilder | None = None
        self._last_motion_s: float | None = None
        self._idle = False

    def _counted(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """Count and time decoding; a decoding failure ends the frames and is kept in ``_failure``."""
        it = iter(frames)
        while True:
            with self.stats.timed("decode"):
                try:
                    frame = next(it, None)
                except MediaError as err:
                    self._failure = err
                    return
            if frame is None:
                return
            self.stats.frames += 1
            self.stats.footage_s = frame.ts_s + frame.duration_s  # the end of the last picture, not its start
            yield frame

    def confirmed(self) -> list[Confirmed]:
        """The objects in view of the running `events` loop that already count as events: the events in progress
        (`EventBuilder.confirmed`).

        A live source calls it from its frame iterator, i.e. between two frames of the loop.
        """
        return [] if self._builder is None else self._builder.confirmed()

    @property
    def last_motion_s(self) -> float | None:
        """`Frame.ts_s` (seconds from the first frame) of the last sampled frame of the running `events` loop
        in which the motion gate found a moving region; ``None`` before the first such frame (always for a
        still).

        A frame in which most of the picture changed at once (``motion.lightning_fraction``: the gate resets
        and reports the whole frame) counts as motion, as it does for the detector. A live source reads it
        from its frame iterator, i.e. between two frames of the loop (as `confirmed`), to report motion ON/OFF
        (`camsift.sources.live_frames.MotionReporter`).
        """
        return self._last_motion_s

    @property
    def idle(self) -> bool:
        """Whether the running `events` loop is idle: in its last sampled frame the motion gate found nothing
        moving and nothing was tracked. ``False`` before the first frame and for a still.

        While it is, a decoder may skip the frames no other frame refers to (FFmpeg's ``skip_frame`` set to
        ``NONREF``): the gate then sees fewer of the frames in which nothing happens, and the first frame
        with motion ends the skipping (a live source reads it between two frames, as `last_motion_s`).
        """
        return self._idle

    def events(
        self, frames: Iterable[Frame], *, camera: str, start_utc: datetime, id_prefix: str, still: bool = False
    ) -> Iterator[Event]:
        """Yield events as their objects leave (and the rest at the end).

        Args:
            frames: Decoded frames of one clip or stream, in order.
            camera: Camera name for the events.
            start_utc: Wall-clock time of the first frame.
            id_prefix: Stable prefix for event ids.
            still: A single picture: no motion gate, no tracker, one sighting is
                enough but needs ``events.still_min_confidence``.

        Yields:
            Events with ``best`` set (the snapshot frame, not yet saved).

        Raises:
            MediaError: decoding failed part-way; raised after the events of
                the frames decoded so far have been yielded.
        """
        s, st = self.settings, self.stats
        self._failure = None
        self._last_motion_s = None
        self._idle = False
        sampled = Sampler(s.detect.fps).sample(self._counted(frames))
        first = next(sampled, None)
        if first is not None:
            w, h = first.width, first.height
            gate = _StillGate() if still else MotionGate(s.motion, w, h)
            track = _StillTracker() if still else Tracker(s.objects, s.events.lost_s)
            schedule = Scheduler(s.detect, w, h, self._regions.model_side)
            objects = s.objects.for_still(s.events.still_min_confidence) if still else s.objects
            filt = ObjectFilter(objects, w, h)
            events_cfg = s.events.model_copy(update={"min_hits": 1}) if still else s.events
            builder = self._builder = EventBuilder(camera, start_utc, events_cfg, objects, id_prefix, w, h)
            for frame in chain([first], sampled):
                st.sampled += 1
                with st.timed("motion"):
                    moving = gate.check(frame)
                if len(moving):
                    self._last_motion_s = frame.ts_s
                held = track.boxes()
                self._idle = not still and not len(moving) and not len(held)
                plan = schedule.plan(frame.ts_s, moving, held)
                if plan is None:
                    continue
                st.detector_runs += 1
                st.regions += len(plan.regions)
                with st.timed("detect"):
                    found = self._regions.detect(frame, plan, moving)
                with st.timed("track"):
                    wanted = filt.apply(found)
                    tracked = filt.after_tracking(track.update(wanted, frame.ts_s))
                    ended = builder.feed(frame, tracked, moving)
                schedule.seen(wanted, plan, tracked.xyxy[builder.settled(tracked)])
                yield from ended
            yield from builder.finish()
        self._idle = False
        if self._failure is not None:
            raise self._failure


class _StillGate:
    """Motion gate of a single picture: nothing to compare with."""

    def check(self, frame: Frame) -> npt.NDArray[np.float32]:
        return np.zeros((0, 4), np.float32)


class _StillTracker:
    """Tracker of a single picture: every detection is its own object."""

    def update(self, detections: Detections, ts_s: float) -> Detections:
        return detections.replace(tracker_id=np.arange(1, len(detections) + 1))

    def boxes(self) -> npt.NDArray[np.float32]:
        return np.zeros((0, 4), np.float32)
