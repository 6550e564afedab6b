"""Shared fixtures: the real test data (`DATA`) and tiny generated footage.

Generated clips show a pure-red rectangle moving over a grey background. The
registered fake detector ``scripted`` reports every red blob as a person, so a
test that runs the pipeline with ``detect.detector: scripted`` knows exactly
where and when the "person" is, with no model involved.

The background has a black band at the top and a white band at the bottom, so
the motion gate's contrast stretch (min..max of each frame) maps every frame
the same way whether or not the rectangle is in it.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest

from camsift import Settings, load_config
from camsift.detectors import Detector, create
from camsift.events import Event
from camsift.faces import FaceEngine, create_engine
from camsift.media import Frame, frames
from camsift.pipeline import Pipeline

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""The full real test data: ``../shared/data`` next to the repository (the benchmarks read it there too)."""
VENDORED_DATA = Path(__file__).resolve().parent / "data"
"""The repository's own copy of the real files whose licence allows it (``tests/data``, see its ATTRIBUTION.md):
the same paths as in `SHARED_DATA`, fewer files."""
DATA = Path(os.environ.get("CAMSIFT_TEST_DATA") or (SHARED_DATA if SHARED_DATA.is_dir() else VENDORED_DATA))
"""Where the tests read real footage: `SHARED_DATA` when it is there, else `VENDORED_DATA`, so a clone alone runs
every behaviour test on real footage (``CAMSIFT_TEST_DATA=tests/data`` tries that with ../shared present)."""
CAMSIFT = Path(sys.executable).with_name("camsift")

STRICT = os.environ.get("CAMSIFT_TEST_STRICT") == "1"
"""Set by ``.ci/run``: CI installs every service and tool the tests use, so there a test that
would skip (no PostgreSQL, no broker, no ffmpeg, no ``../shared/data``) fails instead."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under `STRICT`, report a skipped test as failed, with its reason."""
    outcome: Any = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CAMSIFT_TEST_STRICT=1 (CI provides everything): {reason}"


GREY = 128
RED = (255, 0, 0)


def band_px(height: int) -> int:
    """Height of the black (top) and white (bottom) bands of a generated frame: thick enough to
    survive the motion gate's downscale and blur (it works on a frame about 120 pixels high)."""
    return max(4, _even(height / 16))


# --- real data ---------------------------------------------------------------------------------------------------


def data_file(relative: str) -> Path:
    """``DATA / relative``; skips the test when the file is not there: one of the few, and the quality claims on
    them, that only ``../shared/data`` has (their licence keeps them out of ``tests/data``)."""
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"{relative} is not in {DATA}: only ../shared/data has it (not licensed for the repository)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`DATA`: the real clips and pictures (``../shared/data``, else the repository's ``tests/data``)."""
    return DATA


@pytest.fixture(scope="session")
def clip_labels(shared_data: Path) -> dict[str, dict[str, Any]]:
    """Ground truth of ``clips/`` (``clips/labels.json``), by file name."""
    labels: dict[str, dict[str, Any]] = json.loads((shared_data / "clips" / "labels.json").read_text())
    return labels


@pytest.fixture(scope="session")
def faces_data(shared_data: Path) -> Path:
    """``faces/``: photos of public figures (the name is in the file name) and the Hamilton clip."""
    folder = shared_data / "faces"
    if not folder.is_dir():
        pytest.skip(f"real face photos not found at {folder}")
    return folder


@pytest.fixture(scope="session")
def face_engine() -> FaceEngine:
    """The dlib face engine, loaded once for the session; skips without the ``faces`` extra."""
    if importlib.util.find_spec("dlib") is None:
        pytest.skip("dlib is not installed: pip install 'camsift[faces]'")
    return create_engine("dlib")


@pytest.fixture(scope="session")
def auto_detector() -> Detector:
    """The default detector (``auto``: SSDLite + NanoDet), loaded once for the session."""
    return create("auto", threads=2, labels=frozenset({"person"}))


# --- generated footage -------------------------------------------------------------------------------------------


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
    walks: tuple[Walk, ...] | list[Walk] = (Walk(0.5, 3.5),),
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
        stream = out.add_stream(codec, rate=fps)
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


def cut_clip(source: Path, target: Path, start_s: float = 0.0, end_s: float = float("inf")) -> Path:
    """Re-encode the frames of the real clip ``source`` from ``start_s`` to ``end_s`` seconds (decode times) into
    ``target``, at the source's frame rate and size, the codec following ``target``'s suffix as in `write_clip`:
    a shorter real clip, or one in another container (an AVI browsers cannot play)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    codec = _CODECS.get(target.suffix.lower(), "libx264")
    with av.open(str(source)) as clip, av.open(str(target), "w") as out:
        video = clip.streams.video[0]
        stream = out.add_stream(codec, rate=video.average_rate)
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


@pytest.fixture
def footage(tmp_path: Path) -> Path:
    """An empty folder for generated footage (its sub-folders name cameras)."""
    folder = tmp_path / "footage"
    folder.mkdir()
    return folder


@pytest.fixture
def make_clip(footage: Path) -> Callable[..., SyntheticClip]:
    """``make_clip("porch/clip.mp4", walks=[Walk(0.5, 3.5)], seconds=4, fps=10, size=(160, 96))``:
    a generated clip under the `footage` folder (see `write_clip`)."""

    def make(
        name: str = "cam1/clip.mp4", walks: tuple[Walk, ...] | list[Walk] = (Walk(0.5, 3.5),), **kw: Any
    ) -> SyntheticClip:
        return write_clip(footage / name, walks, **kw)

    return make


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


@pytest.fixture
def bad_files(tmp_path: Path, footage: Path) -> BadFiles:
    """A zero-byte ``.mp4``, random bytes named ``.mp4``, an mp4 cut in half and a ``.txt``, in ``footage/bad``."""
    bad = footage / "bad"
    bad.mkdir()
    files = BadFiles(bad / "zero.mp4", bad / "random.mp4", bad / "truncated.mp4", bad / "notes.txt")
    files.zero.write_bytes(b"")
    files.random.write_bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    cut_in_half(write_clip(tmp_path / "whole.mp4").path, files.truncated)
    files.text.write_text("not a clip\n")
    return files


# --- settings and running the pipeline ---------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Where a test's scans keep their database and pictures."""
    return tmp_path / "data"


@pytest.fixture
def scripted_settings(data_dir: Path) -> Callable[..., Settings]:
    """``scripted_settings(**{"events.lost_s": 1})``: settings with the ``scripted`` detector, the
    test's `data_dir` and UTC folder dates, plus dotted-key overrides; no environment is read."""

    def make(**overrides: Any) -> Settings:
        base = {"detect.detector": "scripted", "data_dir": str(data_dir), "timezone": "UTC"}
        return load_config(environ={}, overrides={**base, **overrides})

    return make


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


# --- databases: the store suite runs on SQLite and on PostgreSQL -------------------------------------------------

POSTGRES_SERVER = os.environ.get("CAMSIFT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
"""A PostgreSQL database the tests may use to create and drop their own (local server, trust auth)."""


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a new, empty database ``camsift_test_<random>`` on `POSTGRES_SERVER`, dropped after the
    session; skips with the reason when psycopg is missing or the server cannot be reached."""
    import secrets

    import sqlalchemy as sa

    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg is not installed: pip install 'camsift[postgres]'")
    server = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    name = f"camsift_test_{secrets.token_hex(4)}"
    try:
        with server.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as err:
        server.dispose()
        pytest.skip(f"PostgreSQL not reachable at {server.url!r}: {str(err.orig).strip().splitlines()[0]}")
    try:
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """The event store's ``database`` for a test: ``None`` (SQLite in the test's data dir), then
    `postgres_url` emptied for this test (so store tests run once per backend)."""
    if request.param == "sqlite":
        return None
    import sqlalchemy as sa

    url: str = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


# --- the command line --------------------------------------------------------------------------------------------


@pytest.fixture
def camsift_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``camsift_cli("scan", path, "--format", "json")``: run the installed ``camsift`` command in
    ``tmp_path`` with no ``CAMSIFT_*`` variables from the caller's environment."""

    def run(
        *args: str | Path, env: dict[str, str] | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CAMSIFT), *map(str, args)],
            cwd=tmp_path,
            env={**clean_environ(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@dataclass(frozen=True)
class CliResult:
    """What a ``camsift`` command did: exit code and output."""

    code: int
    stdout: str
    stderr: str


@pytest.fixture
def camsift_main(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """``camsift_main("events", "--format", "json")``: the ``camsift`` entry point (`camsift.cli.main`)
    in this process, exit code and output captured; much faster than `camsift_cli`."""
    from camsift.cli import main

    def run(*args: str | Path) -> CliResult:
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        return CliResult(int(done.value.code or 0), out, err)

    return run


def clean_environ() -> dict[str, str]:
    """This process's environment without camsift's own variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CAMSIFT_")}


# --- isolation ---------------------------------------------------------------------------------------------------


_CTRL_C = signal.getsignal(signal.SIGINT)
"""pytest's own Ctrl-C handler: an in-process scan with one job replaces it (see test_scanner)."""


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test runs in its own working directory (the default data dir is relative), without
    the caller's ``CAMSIFT_*`` variables, and gives pytest its Ctrl-C handler back afterwards."""
    for name in list(os.environ):
        if name.startswith("CAMSIFT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield
    signal.signal(signal.SIGINT, _CTRL_C)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 16 MiB tmpfs mounted for the test (root only; skipped elsewhere, saying why)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
