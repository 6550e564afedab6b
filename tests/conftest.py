"""Shared fixtures: the real test data, generated footage, settings, databases and the command line.

The helpers they build on are in the `helpers` package (``tests/helpers``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from camsift import Settings, load_config
from camsift.detectors import Detector, create
from camsift.faces import FaceEngine, create_engine
from helpers.cli import CAMSIFT, CliResult, clean_environ
from helpers.clock import FakeClock
from helpers.media import DATA, ONE_WALK, BadFiles, SyntheticClip, Walk, cut_in_half, write_clip

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


# --- real data ---------------------------------------------------------------------------------------------------


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
    """The default detector (``auto``: PicoDet-S + NanoDet-Plus), loaded once for the session."""
    return create("auto", threads=2, labels=frozenset({"person"}))


# --- generated footage -------------------------------------------------------------------------------------------


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

    def make(name: str = "cam1/clip.mp4", walks: tuple[Walk, ...] | list[Walk] = ONE_WALK, **kw: Any) -> SyntheticClip:
        return write_clip(footage / name, walks, **kw)

    return make


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
def clock() -> FakeClock:
    """A clock for ``Store(..., clock=clock)`` that stands still until the test calls ``clock.advance(seconds)``."""
    return FakeClock()


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
