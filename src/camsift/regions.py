"""Region detection: run the detector where things move, at native resolution.

A detector with a 300x300 input sees a 1080p frame shrunk 3.6 times (and
squashed to a square): a person 60 pixels tall at the far end of a yard
becomes 17 pixels and is missed. So, like Frigate's regions, camsift looks at
square crops of the full-resolution frame around each moving area or tracked
object, and covers the whole frame with a few squares when a periodic
re-check is due. Boxes from all crops are mapped back to frame pixels and
duplicates merged by NMS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from camsift.boxes import absorb_parts, box_ios, box_iou, nms
from camsift.config import DetectConfig
from camsift.detections import Detections
from camsift.detectors import SECOND_OPINION, Detector
from camsift.media import Frame
from camsift.region_plans import cover_squares, plan_regions, whole_frame

__all__ = [
    "TIME_SLACK_S",
    "Plan",
    "RegionDetector",
    "Scheduler",
    "cover_squares",
    "lift_dark",
    "plan_regions",
    "whole_frame",
]

LOOKED_IOS = 0.8
"""A motion box this much inside (intersection over its own area) a crop looked at within
``refresh_s`` is not looked at again yet."""

TIME_SLACK_S = 1e-3
"""A frame this many seconds before a due time counts as due (`camsift.pipeline.Sampler` allows the same)."""

EDGE_PX = 4.0
"""A box within this many pixels of a crop's inner edge counts as cut by the crop."""

CUT_INSIDE = 0.5
"""A box cut by a crop's edge that lies at least this much (intersection over its own area) inside a
whole box of its label is a part of that object, seen through the crop (`_drop_cut`): a man's raised
arm in a tile of a group photo lay 0.6 inside the box of the whole man and came out as a second person
at the 0.6 used before, once NanoDet, whose box of him was taller, no longer looked at every crop where
SSDLite was sure. At 0.5 the shared clips, pictures and COCO128 gave the same figures."""


def _crop(rgb: npt.NDArray[np.uint8], box: npt.NDArray[np.int_]) -> npt.NDArray[np.uint8]:
    """The ``box`` (xyxy, integer pixels, from `plan_regions`) of a frame as the detector should see it:
    dark pixels lifted (`lift_dark`), and the part past the frame's right or bottom edge black."""
    x1, y1, x2, y2 = (int(v) for v in box)
    inside = lift_dark(rgb[y1:y2, x1:x2])
    if inside.shape[:2] == (y2 - y1, x2 - x1):
        return inside
    padded = np.zeros((y2 - y1, x2 - x1, 3), np.uint8)
    padded[: inside.shape[0], : inside.shape[1]] = inside
    return padded


def _drop_cut(d: Detections) -> Detections:
    """Drop boxes cut by a crop edge that lie mostly (IoS >= `CUT_INSIDE`) inside a whole box of the same label."""
    cut = d.data.get("cut")
    if cut is None or not cut.any() or cut.all():
        return d
    whole = d[~cut]
    same = d.label[:, None] == whole.label[None, :]
    inside = np.any((box_ios(d.xyxy, whole.xyxy) >= CUT_INSIDE) & same, axis=1)
    return d[~(cut & inside)]


@dataclass(frozen=True)
class Plan:
    """Where the detector looks in one frame, and how hard.

    Attributes:
        regions: ``(r, 4)`` float32 square regions, xyxy frame pixels.
        thorough: Use every model of the detector (slower, finds more) on every region.
        confirm: ``(c, 4)`` float32 boxes, frame pixels, that only the last thorough look found:
            the regions holding one are looked at thoroughly too (`slow`).
    """

    regions: npt.NDArray[np.float32]
    thorough: bool
    confirm: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 4), np.float32))

    def slow(self) -> npt.NDArray[np.bool_]:
        """``(r,)`` whether each region gets the thorough look: all when ``thorough``, else for each ``confirm``
        box the smallest region holding most of it (intersection over the box's area >= 0.5), where the
        box is seen largest: in a crowd's look the whole frame and a coarse square hold it too, and the
        second model on those saw what the crop around it shows, at two to three times its cost."""
        slow = np.full(len(self.regions), self.thorough)
        if self.thorough or not len(self.regions):
            return slow
        holds = box_ios(self.regions, self.confirm) >= 0.5
        area = np.prod(self.regions[:, 2:] - self.regions[:, :2], axis=1)
        for j in np.flatnonzero(holds.any(axis=0)):
            slow[np.flatnonzero(holds[:, j])[np.argmin(area[holds[:, j]])]] = True
        return slow


class Scheduler:
    """Decides, frame by frame, whether the detector runs, where, and how hard.

    The detector runs on a frame when something moves outside the objects
    already tracked, when tracked objects are due a fresh look (``refresh_s``),
    or when a whole-frame check is due (``recheck_s``; also the first frame),
    so a person standing still is neither lost nor re-detected 5 times a second.
    A due whole-frame check waits while the scene is idle: nothing moved since
    the last one and nothing is tracked (the same pixels would give the same
    answer), as Frigate runs no detector without
    motion; a still 720p scene then costs decoding and the motion gate alone.
    Every ``thorough_s`` the detector is asked for its slower second opinion,
    and once more on the next look, in the regions that hold what it found new
    (the pipeline tells the scheduler what each look found: `seen`).

    Motion inside crops the detector looked at less than ``refresh_s`` ago, and
    away from tracked objects, is not news either: waving trees, passing cars
    and rain move on every frame, and looking at them again 0.2 s later finds
    what it found before. They are looked at again every ``refresh_s``, as a
    tracked object is (on the shared
    clips this cut detector runs by a third at the same recall; a person who
    walks into such an area is first seen at most ``refresh_s`` later).

    Args:
        config: The ``detect`` settings.
        width: Frame width in pixels.
        height: Frame height in pixels.
        model_side: The detector's input side in pixels.
    """

    def __init__(self, config: DetectConfig, width: int, height: int, model_side: int) -> None:
        self.config = config
        self.width, self.height, self.model_side = width, height, model_side
        self._next_whole = self._next_refresh = self._next_thorough = 0.0
        self._looked = np.zeros((0, 4), np.float32)
        self._looked_until = 0.0
        self._found = np.zeros((0, 4), np.float32)
        self._confirm = np.zeros((0, 4), np.float32)
        self._stirred = True  # something moved since the last whole-frame check (or none was made yet)

    def plan(self, ts_s: float, moving: npt.NDArray[np.float32], tracked: npt.NDArray[np.float32]) -> Plan | None:
        """The plan for the frame at ``ts_s``, or ``None`` to skip it.

        Args:
            ts_s: Frame time in seconds (increasing).
            moving: ``(k, 4)`` motion boxes, frame pixels.
            tracked: ``(t, 4)`` boxes of tracked objects, frame pixels.
        """
        due = ts_s + TIME_SLACK_S  # frame times and due times both accumulate float error
        self._stirred = self._stirred or len(moving) > 0
        whole = due >= self._next_whole and (self._stirred or len(tracked) > 0)
        new = moving if not len(tracked) else moving[box_ios(moving, _grow(tracked, 0.25)).max(axis=1, initial=0) < 0.5]
        if len(new) and due < self._looked_until:
            # Motion next to a tracked object is that object on the move, or someone new beside it: it is never
            # held back (holding it back in a crowd until the objects' refresh halved a busy street's looks but
            # lost a person walking among tracked bicycles and cars: bench/NOTES.md).
            near = box_ios(new, _grow(tracked, 1.0)).max(axis=1, initial=0) > 0
            new = new[near | (box_ios(new, self._looked).max(axis=1, initial=0) < LOOKED_IOS)]
        refresh = len(tracked) > 0 and due >= self._next_refresh
        if not (whole or len(new) or refresh):
            return None
        due_thorough = due >= self._next_thorough
        # A crowd's looks between two thorough ones skip the fine tiles: a small person seen only in them is
        # looked at there every thorough_s, well within events.lost_s, so the track holds. Small motion gets
        # its zoomed look then too; a small tracked object on every look (what keeps it: bench/NOTES.md).
        boxes = np.concatenate([moving, tracked])
        zoom = boxes if due_thorough else tracked
        regions = plan_regions(boxes, self.width, self.height, self.model_side, whole, fine=due_thorough, zoom=zoom)
        if not len(regions):
            return None
        confirm, self._confirm = self._confirm, np.zeros((0, 4), np.float32)
        self._next_refresh = ts_s + self.config.refresh_s
        if whole:
            self._next_whole = ts_s + self.config.recheck_s
            self._stirred = False
        # A whole-frame check's coarse squares see less than a crop: they do not count as a look. Nor does
        # the one square of a frame no larger than the model's input: all its motion would then wait up to
        # refresh_s, and a person coming back into view was first seen late and tracked as someone new.
        elif max(self.width, self.height) > self.model_side:
            self._looked, self._looked_until = regions, ts_s + self.config.refresh_s
        if due_thorough:
            self._next_thorough = ts_s + self.config.thorough_s
        return Plan(regions, due_thorough, confirm)

    def seen(self, found: Detections, plan: Plan, settled: npt.NDArray[np.float32] | None = None) -> None:
        """Hear what the detector found with ``plan``: what only a thorough look found is looked at thoroughly again.

        An object the fast model cannot see (``auto``: a person SSDLite misses and
        NanoDet finds) would otherwise be seen once every ``thorough_s`` and never
        twice in a row, so it would not become an event until the fast model saw it
        too: on the shared clips, a woman seen from behind became an event 2 s late.
        So on the look after a thorough one that found something the last look did
        not, the regions holding it are looked at thoroughly too (one extra thorough
        look where it is needed, not a thorough mode: in a crowd, where NanoDet always
        finds someone new, confirming in every region made every other look thorough).

        What is already an event needs no confirming: in a crowd the thorough look's fine tiles find again the
        small people the fast looks miss, and confirming them made a thorough look of every other look.

        Args:
            found: What the detector found in the planned frame, frame pixels.
            plan: The plan it ran with.
            settled: ``(s, 4)`` float32 boxes, frame pixels, of the objects tracked in this frame that already
                count as events (`camsift.events.EventBuilder.settled`).
        """
        slow = plan.regions[plan.slow()]
        if len(slow):
            looked_hard = box_ios(found.xyxy, slow).max(axis=1, initial=0) >= 0.5
            known = box_ios(found.xyxy, _grow(self._found, 0.25)).max(axis=1, initial=0) >= 0.5
            if settled is not None:
                known |= box_ios(found.xyxy, settled).max(axis=1, initial=0) >= 0.5
            self._confirm = found.xyxy[looked_hard & ~known]
        self._found = found.xyxy


def _grow(boxes: npt.NDArray[np.float32], by: float) -> npt.NDArray[np.float32]:
    """``(k, 4)`` xyxy boxes grown on every side by ``by`` times their own width and height."""
    return boxes + np.array([-1, -1, 1, 1], np.float32) * by * np.tile(boxes[:, 2:] - boxes[:, :2], 2)


DARK_MEAN = 40.0
"""A crop whose mean pixel value (0-255) is below this is night footage and is contrast-stretched before detection."""

DARK_SPREAD = 8.0
"""A dark crop whose 1st-99.5th percentile spread is below this (a black picture) is left alone."""


def lift_dark(crop: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``crop`` as the detector should see it: a dark one linearly stretched so its 1st-99.5th percentiles
    span 0-255 (the display "auto levels"), any other unchanged.

    The bundled models were trained on daylight photos (COCO) and lose a man
    walking across a dark yard although he stays plainly visible once
    brightened; the motion gate stretches its grey copy the same way
    (measurements: bench/NOTES.md).

    Args:
        crop: ``(h, w, 3)`` uint8 RGB pixels.

    Returns:
        ``(h, w, 3)`` uint8 RGB: ``crop`` itself, or a stretched copy.
    """
    sample = crop[::4, ::4]  # percentiles of every 16th pixel: the same figures, 16x cheaper
    if not sample.size or sample.mean() >= DARK_MEAN:
        return crop
    lo, hi = np.percentile(sample, [1, 99.5])
    if hi - lo < DARK_SPREAD:
        return crop
    import cv2

    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255 / (hi - lo)), 0, 255).astype(np.uint8)
    return np.asarray(cv2.LUT(crop, lut), np.uint8)  # as lut[crop], 4x faster


class RegionDetector:
    """Runs a detector on the planned regions of a frame.

    It remembers, in frame pixels, what an ensemble detector's second model said of each box
    (`SECOND_OPINION`) since the last thorough look, and gives it back with the crops of a fast look
    (``earlier``): ``auto`` then does not ask again about a still thing that its second model already turned
    down (a roadside post PicoDet calls a person in every look). Only while its pixels stay the same: an
    opinion is forgotten as soon as motion touches its box (a slow cyclist's box moves a pixel or two a look,
    no more than a still box's jitter, but the motion gate sees him). Each thorough look starts the memory
    afresh, and one `RegionDetector` serves one scene (a `camsift.pipeline.Pipeline`: one clip or stream).

    Args:
        detector: Any `Detector`.
        nms_iou: IoU above which duplicate boxes of one label (from overlapping
            regions) are merged; also the IoU from which a newer second opinion replaces an older one.
    """

    def __init__(self, detector: Detector, nms_iou: float = 0.5) -> None:
        self.detector = detector
        self.nms_iou = nms_iou
        self.model_side = min(detector.input_size)
        self._opinions = Detections.empty()  # boxes with their SECOND_OPINION, frame pixels

    def detect(self, frame: Frame, plan: Plan, moving: npt.NDArray[np.float32] | None = None) -> Detections:
        """Detect objects in the planned regions of ``frame``.

        Args:
            frame: The frame; its full-resolution pixels are read here (dark crops lifted: `lift_dark`).
            plan: Regions (xyxy frame pixels) and effort, from `Scheduler.plan`.
            moving: ``(k, 4)`` float32 motion boxes of this frame, frame pixels (the second opinions they
                touch are forgotten); ``None``: the frame is not known to be still anywhere.

        Returns:
            Detections in full-resolution frame pixels (clipped to the frame), duplicates
            merged (`nms`) and parts of an object absorbed into it (`absorb_parts`).
        """
        if not len(plan.regions):
            return Detections.empty()
        rgb = frame.rgb()
        boxes = np.round(plan.regions).astype(int)
        crops = [_crop(rgb, box) for box in boxes]
        slow = plan.slow()
        if plan.thorough or moving is None:
            self._opinions = Detections.empty()
        elif len(self._opinions) and len(moving):
            self._opinions = self._opinions[box_ios(self._opinions.xyxy, moving).max(axis=1) == 0]
        found: list[Detections] = [Detections.empty()] * len(crops)
        for hard in (True, False):  # one call per effort
            which = np.flatnonzero(slow == hard)
            if len(which):
                earlier = [self._in_crop(boxes[i]) for i in which] if len(self._opinions) else []
                batch = self.detector.detect_batch([crops[i] for i in which], thorough=hard, earlier=earlier)
                for i, d in zip(which, batch, strict=True):
                    found[i] = d
        size = np.array([frame.width, frame.height])
        shifted = []
        for d, (x1, y1, x2, y2) in zip(found, boxes, strict=True):
            xyxy = np.minimum(d.xyxy + np.array([x1, y1, x1, y1], np.float32), np.tile(size, 2).astype(np.float32))
            # Touching an edge of the crop that is not an edge of the frame: probably cut in two.
            inner = np.array([x1 > 0, y1 > 0, x2 < size[0], y2 < size[1]])
            edge = np.abs(xyxy - np.array([x1, y1, x2, y2], np.float32)) <= EDGE_PX
            in_frame = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])  # not wholly in a padded margin
            shifted.append(d.replace(xyxy=xyxy).with_data(cut=np.any(edge & inner, axis=1))[in_frame])
        merged = Detections.merge(shifted)
        self._remember(merged)
        return absorb_parts(nms(_drop_cut(merged), self.nms_iou))

    def _in_crop(self, box: npt.NDArray[np.int_]) -> Detections:
        """The remembered second opinions that overlap the crop ``box`` (xyxy frame pixels), in its pixels."""
        x1, y1, x2, y2 = (float(v) for v in box)
        xyxy = self._opinions.xyxy
        inside = (xyxy[:, 0] < x2) & (xyxy[:, 2] > x1) & (xyxy[:, 1] < y2) & (xyxy[:, 3] > y1)
        mine = self._opinions[inside]
        return mine.replace(xyxy=mine.xyxy - np.array([x1, y1, x1, y1], np.float32))

    def _remember(self, found: Detections) -> None:
        """Keep the second opinions in ``found`` (frame pixels); each replaces those it overlaps (IoU >=
        ``nms_iou``)."""
        said = found.data.get(SECOND_OPINION)
        if said is None:
            return
        new = found[np.isfinite(said)]
        if not len(new):
            return
        old = self._opinions
        if len(old):
            old = old[box_iou(old.xyxy, new.xyxy).max(axis=1) < self.nms_iou]
        self._opinions = Detections.merge([old, new])
