"""Real test data (`DATA`) and tiny generated footage.

Generated clips show a pure-red rectangle moving over a grey background. The
registered fake detector ``scripted`` reports every red blob as a person, so a
test that runs the pipeline with ``detect.detector: scripted`` knows exactly
where and when the "person" is, with no model involved.

The background has a black band at the top and a white band at the bottom, so
the motion gate's contrast stretch (min..max of each frame) maps every frame
the same way whether or not the rectangle is in it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest
from av.video.stream import VideoStream

from camsift import Settings
from camsift.detectors import Detector, create
from camsift.events import Event
from camsift.media import Frame, frames
from camsift.pipeline import Pipeline

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
"""The full real test data: ``../shared/data`` next to the repository (the benchmarks read it there too)."""
VENDORED_DATA = Path(__file__).resolve().parents[1] / "data"
"""The repository's own copy of the real files whose licence allows it (``tests/data``, see its ATTRIBUTION.md):
the same paths as in `SHARED_DATA`, fewer files."""
DATA = Path(os.environ.get("CAMSIFT_TEST_DATA") or (SHARED_DATA if SHARED_DATA.is_dir() else VENDORED_DATA))
"""Where the tests read real footage: `SHARED_DATA` when it is there, else `VENDORED_DATA`, so a clone alone runs
every behaviour test on real footage (``CAMSIFT_TEST_DATA=tests/data`` tries that with ../shared present)."""

GREY = 128
RED = (255, 0, 0)


def band_px(height: int) -> int:
    """Height of the black (top) and white (bottom) bands of a generated frame: thick enough to
    survive the motion gate's downscale and blur (it works on a frame about 120 pixels high)."""
    return max(4, _even(height / 16))


def data_file(relative: str) -> Path:
    """``DATA / relative``; skips the test when the file is not there: one of the few, and the quality claims on
    them, that only ``../shared/data`` has (their licence keeps them out of ``tests/data``)."""
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"{relative} is not in {DATA}: only ../shared/data has it (not licensed for the repository)")
    return path


@dataclass(frozen=True)
class Walk:
    """The red rectangle's appearance: visible from ``start_s`` to ``end_s`` (inclusive), moving
    in a straight line from ``x_from`` to ``x_to`` (0 = touching the left edge, 1 = the right edge)
    at height ``y`` (0 = just under the top band, 1 = just above the bottom band)."""

    start_s: float
    end_s: float
    x_from: float = 0.0
    x_to: float = 1.0
    y: float = 0.5


ONE_WALK = (Walk(0.5, 3.5),)
"""The default appearance: the rectangle crosses the frame from 0.5 s to 3.5 s."""


@dataclass(frozen=True)
class SyntheticClip:
    """A generated clip and where its rectangles are.

    Attributes:
        path: The file.
        fps: Frame rate; frame ``i`` is at ``i / fps`` seconds.
        n_frames: Frames written.
        width: Pixels.
        height: Pixels.
        walks: The rectangles' appearances.
        box: ``(width, height)`` of the rectangle in pixels.
    """

    path: Path
    fps: float
    n_frames: int
    width: int
    height: int
    walks: tuple[Walk, ...]
    box: tuple[int, int] = (16, 24)

    @property
    def last_s(self) -> float:
        """Time of the last frame."""
        return (self.n_frames - 1) / self.fps

    def box_of(self, walk: Walk, t: float) -> tuple[int, int, int, int] | None:
        """Pixel box ``(x1, y1, x2, y2)`` (exclusive ends) of ``walk``'s rectangle at ``t`` seconds, if visible."""
        if not walk.start_s - 1e-9 <= t <= walk.end_s + 1e-9:
            return None
        bw, bh = self.box
        band = band_px(self.height)
        frac = (t - walk.start_s) / (walk.end_s - walk.start_s) if walk.end_s > walk.start_s else 0.0
        x = _even((walk.x_from + (walk.x_to - walk.x_from) * frac) * (self.width - bw))
        y = _even(band + walk.y * (self.height - 2 * band - bh))
        return (x, y, x + bw, y + bh)

    def boxes_at(self, t: float) -> list[tuple[int, int, int, int]]:
        """Pixel boxes of every rectangle visible at ``t`` seconds."""
        return [box for w in self.walks if (box := self.box_of(w, t)) is not None]

    def visible_times(self) -> list[float]:
        """Times of the frames in which some rectangle is visible."""
        return [t for t in (i / self.fps for i in range(self.n_frames)) if self.boxes_at(t)]

    def image(self, t: float) -> npt.NDArray[np.uint8]:
        """The RGB frame at ``t`` seconds."""
        return background(self.width, self.height, self.boxes_at(t))


def _even(v: float) -> int:
    """Round to an even pixel, so 4:2:0 chroma subsampling keeps the rectangle's edges pure red."""
    return round(v / 2) * 2


def background(width: int, height: int, boxes: Sequence[tuple[int, int, int, int]] = ()) -> npt.NDArray[np.uint8]:
    """A grey ``(height, width, 3)`` frame with the black/white bands and red ``boxes``."""
    img = np.full((height, width, 3), GREY, np.uint8)
    img[: band_px(height)] = 0
    img[-band_px(height) :] = 255
    for x1, y1, x2, y2 in boxes:
        img[y1:y2, x1:x2] = RED
    return img


_CODECS = {".avi": "mpeg4", ".gif": "gif"}
"""Codec per container; everything else gets H.264."""


def write_clip(
    path: Path,
    walks: tuple[Walk, ...] | list[Walk] = ONE_WALK,
    *,
    seconds: float = 4.0,
    fps: int = 10,
    size: tuple[int, int] = (160, 96),
    box: tuple[int, int] = (16, 24),
    creation_time: str | None = None,
    faststart: bool = False,
    gop: int | None = None,
) -> SyntheticClip:
    """Encode a clip of the red rectangle with PyAV; the container follows ``path``'s suffix.

    ``faststart`` puts an mp4's index before the frames (as cameras that upload do), so the first
    half of a cut-off copy still decodes. ``gop`` sets the frames between keyframes (as a camera's
    stream has one every second or two; default: the encoder's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clip = SyntheticClip(path, float(fps), round(seconds * fps), size[0], size[1], tuple(walks), box)
    codec = _CODECS.get(path.suffix.lower(), "libx264")
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else None) as out:
        if creation_time:
            out.metadata["creation_time"] = creation_time
        stream = _video_stream(out, codec, fps)
        stream.width, stream.height = size
        if gop is not None:
            stream.gop_size = gop
        if codec == "libx264":
            stream.pix_fmt, stream.options = "yuv420p", {"qp": "0", "preset": "ultrafast"}
        elif codec == "mpeg4":
            stream.pix_fmt, stream.options = "yuv420p", {"qscale": "2"}
        else:
            stream.pix_fmt = "rgb8"
        for i in range(clip.n_frames):
            image = av.VideoFrame.from_ndarray(clip.image(i / fps), format="rgb24")
            out.mux(stream.encode(image))
        out.mux(stream.encode(None))
    return clip


def _video_stream(out: av.container.OutputContainer, codec: str, rate: Fraction | int | None) -> VideoStream:
    """A new video stream of ``codec`` in ``out`` (PyAV types a stream added by a codec's name as any kind)."""
    stream = out.add_stream(codec, rate=rate)
    assert isinstance(stream, VideoStream), f"{codec} is not a video codec"
    return stream


def cut_clip(source: Path, target: Path, start_s: float = 0.0, end_s: float = float("inf")) -> Path:
    """Re-encode the frames of the real clip ``source`` from ``start_s`` to ``end_s`` seconds (decode times) into
    ``target``, at the source's frame rate and size, the codec following ``target``'s suffix as in `write_clip`:
    a shorter real clip, or one in another container (an AVI browsers cannot play)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    codec = _CODECS.get(target.suffix.lower(), "libx264")
    with av.open(str(source)) as clip, av.open(str(target), "w") as out:
        video = clip.streams.video[0]
        stream = _video_stream(out, codec, video.average_rate)
        stream.width, stream.height, stream.pix_fmt = video.codec_context.width, video.codec_context.height, "yuv420p"
        stream.options = {"qscale": "2"} if codec == "mpeg4" else {"preset": "ultrafast"}
        for frame in clip.decode(video):
            if frame.time is None or frame.time < start_s:
                continue
            if frame.time >= end_s:
                break
            image = av.VideoFrame.from_ndarray(frame.to_ndarray(format="yuv420p"), format="yuv420p")  # no pts: anew
            out.mux(stream.encode(image))
        out.mux(stream.encode(None))
    return target


def write_image(path: Path, rgb: npt.NDArray[np.uint8], **save: Any) -> Path:
    """Save ``rgb`` with Pillow (format from the suffix); ``save`` goes to `PIL.Image.Image.save`."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, **save)
    return path


def cut_in_half(source: Path, target: Path) -> Path:
    """Write the first half of ``source``'s bytes to ``target`` (an interrupted copy or upload)."""
    data = source.read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data[: len(data) // 2])
    return target


@dataclass(frozen=True)
class BadFiles:
    """Files that are not footage, made by `bad_files`."""

    zero: Path
    random: Path
    truncated: Path
    text: Path


EPOCH = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)
"""Wall-clock start used when a test runs the pipeline directly."""


def run_pipeline(
    source: Path,
    settings: Settings,
    detector: Detector | None = None,
    *,
    still: bool = False,
    until_s: float | None = None,
) -> list[Event]:
    """Every event of one clip or image (of its first ``until_s`` seconds), by the `Pipeline` alone (no storage).

    The detector defaults to a new instance of ``settings.detect.detector``; frames are decoded with one thread.
    """
    decoded: Iterator[Frame] = frames(source, threads=1)
    if until_s is not None:
        decoded = itertools.takewhile(lambda f: f.ts_s < until_s, decoded)
    pipeline = Pipeline(settings, detector or create(settings.detect.detector))
    return list(pipeline.events(decoded, camera="cam", start_utc=EPOCH, id_prefix="test", still=still))
