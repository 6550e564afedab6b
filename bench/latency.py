"""Latency and live-stream cost of ``camsift run``, at default settings with the real detector.

Three measurements, printed as a table (``--json`` for a document):

1. **folder**: a real snapshot (``images/ultralytics_zidane.jpg``, two people)
   or a real clip (``clips/lrslibrary_i2r_shop_corridor.avi``) is moved into a
   watched folder; latency = from the rename to the moment its events are
   stored (the service's `EventListener` is called right after ``Store.save``).
   The folder source waits ``settle_s`` (default 2 s) for a file to stop
   changing, so that is the floor.
2. **ftp**: the same files uploaded with ``ftplib`` to the FTP source on
   loopback; latency = from the end of the upload (``226``) to events stored.
3. **live 720p**: CPU used by one stream's process (reader, decoder, motion
   gate, detector; ``utime + stime`` from ``/proc``) per wall second while
   FFmpeg serves a 1280x720 clip over TCP in real time without re-encoding
   (``-c copy``): ``clips/ken2190_ecuador_street.mp4`` (30 fps, people in
   every frame: the detector is busy and clips are recorded) and a still
   720p scene (nothing moves: the motion gate idles). 100% = one core.

The service runs in this process with one worker; the first file of each kind
is a warm-up and not counted (the workers load the models at start).

Usage: python bench/latency.py [--data ../shared/data] [--runs 5] [--seconds 30] [--json]
"""

from __future__ import annotations

import argparse
import ftplib
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from camsift.config import load_config
from camsift.listeners import EventChange
from camsift.logs import configure
from camsift.service import Service
from camsift.sources import DatabaseIntake
from camsift.sources.ftp import hash_password
from camsift.sources.stream import StreamSource
from camsift.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = {"snapshot": "images/ultralytics_zidane.jpg", "clip": "clips/lrslibrary_i2r_shop_corridor.avi"}
FILES_720P = "clips/ken2190_ecuador_street.mp4"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Arrivals:
    """`EventListener` noting when the first event of each file is stored."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.changed = threading.Condition()

    def on_event(self, change: EventChange) -> None:
        with self.changed:
            source = str(change.after.source)
            self.at.setdefault(source, time.monotonic())
            self.changed.notify_all()

    def wait(self, path: Path, timeout: float = 120) -> float:
        with self.changed:
            if not self.changed.wait_for(lambda: str(path) in self.at, timeout):
                raise TimeoutError(f"no event stored for {path} within {timeout:.0f} s")
            return self.at[str(path)]


def measure_files(data: Path, runs: int) -> dict[str, dict[str, float]]:
    """Latency from landing (folder: rename; FTP: 226) to events stored, in seconds."""
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        inbox, port = root / "inbox", free_port()
        inbox.mkdir()
        users = {"bench": {"password_hash": hash_password("bench")}}
        settings = load_config(
            environ={},
            overrides={
                "data_dir": str(root / "data"),
                "sources": {
                    "inbox": {"type": "folder", "path": str(inbox)},
                    "uploads": {"type": "ftp", "host": "127.0.0.1", "port": port, "users": users},
                },
            },
        )
        arrivals, stop = Arrivals(), threading.Event()
        service = threading.Thread(target=Service(settings, listeners=[arrivals], workers=1).run, args=(stop,))
        service.start()
        try:
            time.sleep(3)  # workers up, models loaded
            for kind, name in FILES.items():
                source = data / name
                folder, ftp = [], []
                for n in range(runs + 1):
                    staged = root / f"{kind}{n}{source.suffix}"
                    shutil.copy(source, staged)
                    landed = inbox / staged.name
                    start = time.monotonic()
                    os.replace(staged, landed)
                    folder.append(arrivals.wait(landed.resolve()) - start)
                    with ftplib.FTP() as client:
                        client.connect("127.0.0.1", port, timeout=10)
                        client.login("bench", "bench")
                        with source.open("rb") as f:
                            client.storbinary(f"STOR {kind}{n}{source.suffix}", f)
                        start = time.monotonic()
                    uploaded = (root / "data" / "ftp" / "bench" / f"{kind}{n}{source.suffix}").resolve()
                    ftp.append(arrivals.wait(uploaded) - start)
                for where, values in (("folder", folder[1:]), ("ftp", ftp[1:])):
                    results[f"{where} {kind}"] = {
                        "median_s": round(statistics.median(values), 2),
                        "max_s": round(max(values), 2),
                        "runs": len(values),
                    }
        finally:
            stop.set()
            service.join()
    return results


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def still_720p(path: Path) -> Path:
    """A 20 s 1280x720 clip of a still picture (a keyframe every second, as cameras send)."""
    picture = DATA / "images" / "skimage_rocket.jpg"  # no person, nothing moves
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(picture), "-t", "20", "-r", "25", "-vf",
         "scale=1280:720,format=yuv420p", "-c:v", "libx264", "-g", "25", str(path)],
        check=True,
    )  # fmt: skip
    return path


def measure_stream(clip: Path, seconds: float) -> dict[str, float]:
    """CPU share of one live stream's process while FFmpeg serves ``clip`` in a loop, in real time."""
    port = free_port()
    server = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-re", "-stream_loop", "-1", "-i", str(clip), "-an", "-c", "copy",
         "-f", "mpegts", f"tcp://127.0.0.1:{port}?listen=1"],
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        config = {"type": "stream", "url": f"tcp://127.0.0.1:{port}", "camera": "bench"}
        settings = load_config(environ={}, overrides={"data_dir": tmp, "sources": {"live": config}})
        store = Store(settings.data_dir)
        source = StreamSource("live", settings.sources["live"], settings, DatabaseIntake(store))  # type: ignore[arg-type]
        try:
            source.start()
            pid = source.pid
            assert pid is not None
            time.sleep(5)  # connected, detector loaded
            cpu0, wall0 = cpu_seconds(pid), time.monotonic()
            time.sleep(seconds)
            cpu, wall = cpu_seconds(pid) - cpu0, time.monotonic() - wall0
            rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                       if line.startswith("VmRSS"))  # fmt: skip
        finally:
            source.stop()
            server.kill()
            server.wait()
            clips = len(list(Path(tmp).rglob("*.mp4")))
            store.close()
    return {"cpu_percent": round(100 * cpu / wall, 1), "rss_mb": round(rss / 1024, 1), "clips": clips}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--runs", type=int, default=5, help="files of each kind per source (after one warm-up)")
    parser.add_argument("--seconds", type=float, default=30, help="seconds of each live stream measured")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"bench: no test data at {args.data}")
    if shutil.which("ffmpeg") is None:
        sys.exit("bench: ffmpeg is needed to serve the live streams (apt-get install ffmpeg)")
    configure(json=False, level=logging.WARNING)
    doc: dict[str, Any] = {"cpus": os.cpu_count(), "latency": measure_files(args.data, args.runs), "live_720p": {}}
    with tempfile.TemporaryDirectory() as tmp:
        scenes = {
            "busy street (30 fps)": args.data / FILES_720P,
            "still scene (25 fps)": still_720p(Path(tmp) / "s.mp4"),
        }
        for scene, clip in scenes.items():
            doc["live_720p"][scene] = measure_stream(clip, args.seconds)
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"camsift run, default settings, 1 worker, {doc['cpus']} CPUs")
    print(f"{'landing -> events stored':32} {'median':>8} {'max':>8}")
    for name, r in doc["latency"].items():
        print(f"  {name:30} {r['median_s']:>7.2f}s {r['max_s']:>7.2f}s")
    print(f"{'one live 720p stream':32} {'CPU':>8} {'RSS':>8} {'clips':>6}")
    for scene, r in doc["live_720p"].items():
        print(f"  {scene:30} {r['cpu_percent']:>7.1f}% {r['rss_mb']:>6.0f}MB {r['clips']:>6}")


if __name__ == "__main__":
    main()
