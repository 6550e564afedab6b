"""Blink live view: the gap at each session handover, and the memory of a 30 s pre-roll buffer per camera.

**Handover gap.** The fake Blink server of the tests (``tests/helpers/blink_fake.py``:
TLS on loopback, the real blinkpy and aiohttp code, blinkpy's fixture answer
with ``polling_interval`` 15 s) plays ``--session-s`` seconds of a real clip
(``../shared/data``) as IMMI packets, then hangs up, as Blink does after
``continue_interval`` (300 s). `camsift.blink.immi.LiveProxy` serves the
sessions on a loopback port; a PyAV reader behaves as the ``stream`` source's
reader does for a Blink live view (a drop is an end of stream or 10 s of
silence; reconnect after 1 s, doubling up to ``LIVE_READER_RECONNECT_MAX_S``).
The gap is the wall time from the last byte of one session to the first
byte of the next on the reader's socket: video of the camera no one
receives. (FFmpeg's probe of the new session then delays the first frame
further, by its analysis time, but loses nothing.) The baseline, measured in
the same run, ends each session the way blinkpy's own ``feed()`` does: when
its command poll next looks (up to ``polling_interval`` later).

**Memory.** A `camsift.recorder.PacketRing` of ``record.buffer_s`` (30 s) is fed
60 s of a real clip's encoded packets (looped); the figure is the bytes of
the packets it holds and the growth of the process's resident memory, per
camera, for the clip's bit rate (Blink does not publish its live bit rate:
the 1080p clip is the nearest).

Usage: python bench/blink_live.py [--data ../shared/data] [--handovers 4] [--session-s 8] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import av
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the fake Blink server lives with the tests

import camsift.blink.client
from camsift.blink import login
from camsift.blink.client import BlinkClient
from camsift.blink.immi import LiveProxy
from camsift.recorder import PacketRing
from camsift.sources.blink import LIVE_READER_RECONNECT_MAX_S
from helpers.blink import ts_of
from helpers.blink_fake import PASSWORD, FakeBlink

LIVE_CLIP = "intel_one-by-one-person-detection.mp4"
RING_CLIPS = ["ken2190_night_lowlight.mp4", "ken2190_ecuador_street.mp4"]


class _BlinkpyFeed(LiveProxy):
    """The baseline: a session served by blinkpy's own ``feed()``, which ends once its command poll notices."""

    async def session(self, stopping: Any) -> float:
        view = await self.client.open_live(self.camera)
        stream = view.stream
        await stream.start(host="127.0.0.1", port=self.port)
        self.port = stream.socket.getsockname()[1]
        self.serving.set()
        started = time.monotonic()
        feed = asyncio.create_task(stream.feed())
        while not feed.done() and not stopping():
            await asyncio.wait({feed}, timeout=0.1)
        self.serving.clear()
        stream.stop()
        with contextlib.suppress(BaseException):
            await feed
        return time.monotonic() - started


def _read(port: int, sessions: int, arrivals: list[list[float]], stop: threading.Event) -> None:
    """The stream source's reader as the network sees it: connect, read until the drop (EOF, or 10 s of silence:
    its ``timeout_s``), reconnect 1 s later, doubling up to `LIVE_READER_RECONNECT_MAX_S` while refused."""
    backoff = 1.0
    while len(arrivals) < sessions and not stop.is_set():
        got: list[float] = []
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=10.0) as conn:
            while conn.recv(1 << 16):
                got.append(time.monotonic())
        if got:
            arrivals.append(got)
        backoff = 1.0 if got else min(backoff * 2, LIVE_READER_RECONNECT_MAX_S)
        time.sleep(backoff)


async def _serve(token: Path, proxy_type: type[LiveProxy], port: int, stop: threading.Event) -> None:
    async with BlinkClient(token) as client:
        await client.connect()
        proxy = proxy_type(client, "Front Door", port, min_session_s=0.0)
        await proxy.run(stop.is_set)


def handover_gaps(token: Path, proxy_type: type[LiveProxy], handovers: int) -> list[float]:
    """Seconds between the last byte of a session and the first of the next, over ``handovers`` handovers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    arrivals: list[list[float]] = []
    stop = threading.Event()
    reader = threading.Thread(target=_read, args=(port, handovers + 1, arrivals, stop), daemon=True)
    reader.start()
    server = threading.Thread(target=lambda: asyncio.run(_serve(token, proxy_type, port, stop)), daemon=True)
    server.start()
    reader.join(timeout=60 * (handovers + 1))
    stop.set()
    server.join(timeout=30)
    return [b[0] - a[-1] for a, b in itertools.pairwise(arrivals)]


def ring_memory(clip: Path, buffer_s: float = 30.0, stream_s: float = 60.0) -> dict[str, Any]:
    """Bytes a `PacketRing` of ``buffer_s`` holds after ``stream_s`` of ``clip`` looped, and the RSS growth."""
    with av.open(str(clip)) as probe:
        video = probe.streams.video[0]
        duration = float(probe.duration or 0) / 1e6
        rate = float(video.bit_rate or 0) / 1e6
        size = f"{video.width}x{video.height}"
    process = psutil.Process()
    before = process.memory_info().rss
    ring = PacketRing(buffer_s)
    offset = 0.0
    while offset < stream_s:
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                if packet.pts is None or packet.time_base is None:
                    continue
                ring.add(offset + float(packet.pts * packet.time_base), packet)
        offset += duration
    held = sum(packet.size for _, packet in ring.since(-1.0))
    return {
        "clip": clip.name,
        "size": size,
        "mbit_s": round(rate, 2),
        "held_s": round(ring.span_s, 1),
        "packet_mb": round(held / 1e6, 2),
        "rss_growth_mb": round((process.memory_info().rss - before) / 1e6, 1),
    }


def _in_a_fresh_process(clip: Path) -> dict[str, Any]:
    """`ring_memory` in a process of its own, so one clip's freed memory does not hide the next one's."""
    done = subprocess.run([sys.executable, __file__, "--ring", str(clip)], check=True, capture_output=True, text=True)
    row: dict[str, Any] = json.loads(done.stdout)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--ring", type=Path, help=argparse.SUPPRESS)  # one memory figure, in a fresh process
    parser.add_argument("--handovers", type=int, default=4)
    parser.add_argument("--session-s", type=float, default=8.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.ring:
        print(json.dumps(ring_memory(args.ring)))
        return
    clips = args.data / "clips"
    if not clips.is_dir():
        sys.exit(f"no clips at {clips} (../shared/data)")
    logging.disable(logging.WARNING)
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, FakeBlink() as fake:
        camsift.blink.client.default_connector = fake.connector
        fake.live_ts = ts_of(clips / LIVE_CLIP, args.session_s)
        fake.live_duration_s = args.session_s
        token = Path(tmp) / "token.json"
        login(token, "owner@example.com", PASSWORD)
        for name, proxy_type in (("camsift", LiveProxy), ("blinkpy_feed", _BlinkpyFeed)):
            fake.live_sessions = 0
            gaps = handover_gaps(token, proxy_type, args.handovers)
            report[name] = {"gaps_s": [round(g, 2) for g in gaps], "median_s": round(statistics.median(gaps), 2)}
    report["ratio_to_baseline"] = round(report["camsift"]["median_s"] / report["blinkpy_feed"]["median_s"], 2)
    report["memory"] = [_in_a_fresh_process(clips / name) for name in RING_CLIPS]
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for name in ("camsift", "blinkpy_feed"):
        shown = ", ".join(f"{g:.2f}" for g in report[name]["gaps_s"])
        print(f"handover gap, {name:<13} median {report[name]['median_s']:.2f} s  ({shown})")
    print(f"ratio to the baseline: {report['ratio_to_baseline']}")
    for row in report["memory"]:
        print(
            f"30 s buffer, {row['clip']} ({row['size']}, {row['mbit_s']} Mbit/s): {row['held_s']} s held, "
            f"{row['packet_mb']} MB of packets, resident memory +{row['rss_growth_mb']} MB per camera"
        )


if __name__ == "__main__":
    main()
