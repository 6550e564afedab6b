"""Latency and live-stream cost of ``camsift run``, at default settings with the real detector.

Four measurements, printed as a table (``--json`` for a document):

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
   720p scene (nothing moves: the motion gate idles). 100% = one core. Over
   the same seconds a second process decodes a second copy of the same stream
   with PyAV and does nothing else (`decode_forever`): camsift's CPU is printed
   as a multiple of it (machines differ; the multiple travels), against the
   targets (busy <= 4x, still <= 1.3x). Packets the analysis skipped because it
   fell behind, and frames decoded too late to analyse (`sources.live_frames.LATE_S`),
   are printed too: a stream that skips did less than all the work,
   so its CPU figure is a floor, not the cost (``bench/profile_live.py`` gives
   the cost of analysing every frame, in process, stage by stage).
4. **four live streams**: one service with four 720p streams at once, one in
   which people appear (`appearing_clip`: ``--still-s`` seconds of the still
   scene, then the busy street, looped) and three still ones (``--still-streams``),
   with MQTT (the local broker) and a JSON webhook notification channel: each
   stream's CPU, its dropped connections, largest buffer and skipped packets,
   and the time from people appearing to the MQTT ``new`` event and to the
   notification (p50, p95): an object confirmed on a live stream is told at
   once (`camsift.live_events`), not after its clip is closed and analysed.

The service runs in this process with one worker; the first file of each kind
is a warm-up and not counted (the workers load the models at start).

Usage: python bench/latency.py [--data ../shared/data] [--runs 5] [--seconds 30] [--four-seconds 90]
       [--still-streams 3] [--still-s 20] [--height 720] [--only files|live|four] [--json]
"""

from __future__ import annotations

import argparse
import ftplib
import json
import logging
import math
import os
import re
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

from camsift.config import StreamSourceConfig, load_config
from camsift.listeners import EventChange
from camsift.logs import configure
from camsift.media import probe
from camsift.service import Service, configured_parts
from camsift.sources.ftp import hash_password
from camsift.sources.stream import StreamSource
from camsift.store import Store
from camsift.store.intake import DatabaseIntake
from camsift.store.status import ServiceBoard

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


def still_720p(path: Path, height: int = 720) -> Path:
    """A 20 s 16:9 clip (1280x720 by default) of a still picture (a keyframe every second, as cameras send)."""
    picture = DATA / "images" / "skimage_rocket.jpg"  # no person, nothing moves
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(picture), "-t", "20", "-r", "25", "-vf",
         f"scale={height * 16 // 9}:{height},format=yuv420p", "-c:v", "libx264", "-g", "25", str(path)],
        check=True,
    )  # fmt: skip
    return path


def serve(clip: Path) -> tuple[subprocess.Popen[bytes], str]:
    """FFmpeg serving ``clip`` in a loop, in real time, without re-encoding, to one TCP client; its URL."""
    port = free_port()
    server = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-re", "-stream_loop", "-1", "-i", str(clip), "-an", "-c", "copy",
         "-f", "mpegts", f"tcp://127.0.0.1:{port}?listen=1"],
    )  # fmt: skip
    return server, f"tcp://127.0.0.1:{port}"


def decode_forever(url: str) -> None:
    """Decode every frame of a stream with PyAV (threads as FFmpeg chooses) and nothing else: the floor."""
    import av

    for _ in range(50):  # the server may not listen yet
        try:
            container = av.open(url, timeout=(10, 10))
            break
        except (av.FFmpegError, OSError):
            time.sleep(0.1)
    else:
        return
    with container:
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        for _frame in container.decode(video):
            pass


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (Linux /proc)."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line.split()[1] for line in status if line.startswith("VmRSS"))) / 1024


SKIPPED = re.compile(r"buffer (\d+) s, (\d+) clips, (\d+) skipped, (\d+) frames too late")
"""The figures of a stream's heartbeat (`camsift.sources.stream`): seconds buffered, clips, packets skipped,
frames decoded too late to analyse."""


def stream_detail(board: ServiceBoard, source: str) -> tuple[str, int, int, int]:
    """A stream's state, buffered seconds, packets skipped and frames too late to analyse so far, from its
    last heartbeat."""
    for component in board.components():
        if component.name == f"source:{source}":
            found = SKIPPED.search(component.detail)
            figures = [int(found[i]) if found else 0 for i in (1, 3, 4)]
            return component.state, figures[0], figures[1], figures[2]
    return "unknown", 0, 0, 0


WARM_UP_S = 15.0
"""Seconds a stream runs before its CPU is measured: connecting, loading both models and the first frame's
whole-frame look with both (about 2 s of CPU) took longer than 5 s on a loaded 2-core machine."""


def measure_stream(clip: Path, seconds: float) -> dict[str, float]:
    """CPU share of one live stream's process while FFmpeg serves ``clip`` in a loop, in real time, against the
    CPU share of a process that only decodes the same stream, measured over the same seconds."""
    import multiprocessing

    server, url = serve(clip)
    floor_server, floor_url = serve(clip)
    decoder = multiprocessing.get_context("forkserver").Process(target=decode_forever, args=(floor_url,))
    with tempfile.TemporaryDirectory() as tmp:
        config = {"type": "stream", "url": url, "camera": "bench"}
        settings = load_config(environ={}, overrides={"data_dir": tmp, "sources": {"live": config}})
        store = Store(settings.data_dir)
        live = settings.sources["live"]
        assert isinstance(live, StreamSourceConfig)
        source = StreamSource("live", live, settings, DatabaseIntake(store))
        try:
            source.start()
            decoder.start()
            pid, floor_pid = source.pid, decoder.pid
            assert pid is not None
            assert floor_pid is not None
            time.sleep(WARM_UP_S)  # connected, detector loaded, first whole-frame look done
            _, _, skipped0, late0 = stream_detail(ServiceBoard(store.engine), "live")
            cpu0, floor0, wall0 = cpu_seconds(pid), cpu_seconds(floor_pid), time.monotonic()
            time.sleep(seconds)
            cpu, floor = cpu_seconds(pid) - cpu0, cpu_seconds(floor_pid) - floor0
            wall = time.monotonic() - wall0
            rss = rss_mb(pid)
            _, _, skipped, late = stream_detail(ServiceBoard(store.engine), "live")
        finally:
            source.stop()
            decoder.kill()
            decoder.join()
            for s in (server, floor_server):
                s.kill()
                s.wait()
            clips = len(list(Path(tmp).rglob("*.mp4")))
            store.close()
    return {
        "decode_only_percent": round(100 * floor / wall, 1),
        "cpu_percent": round(100 * cpu / wall, 1),
        "multiple": round(cpu / max(floor, 1e-9), 2),
        "rss_mb": round(rss, 1),
        "clips": clips,
        "skipped_packets": skipped - skipped0,
        "late_frames": late - late0,
    }


def appearing_clip(path: Path, still: Path, busy: Path, still_s: float = 20.0, height: int = 720) -> Path:
    """A clip in which people appear: ``still_s`` seconds of the still scene, then the busy street twice, both
    scaled to ``height`` pixels (16:9)."""
    even = f"scale={height * 16 // 9}:{height},{EVEN}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-t", str(still_s), "-i", str(still), "-stream_loop", "1", "-i", str(busy),
         "-filter_complex", f"[0:v]{even}[a];[1:v]{even}[b];[a][b]concat=n=2:v=1[v]",
         "-map", "[v]", "-c:v", "libx264", "-g", "30", "-an", str(path)],
        check=True,
    )  # fmt: skip
    return path


EVEN = "fps=30,format=yuv420p,setsar=1"

LAST_S = 5.0
"""An appearance in the last seconds of the run is not counted: its objects may be confirmed after the end."""
"""Both parts of `appearing_clip` alike, as FFmpeg's concat filter needs."""


def measure_four(clip: Path, still: Path, seconds: float, still_s: float, stills: int = 3) -> dict[str, Any]:
    """Live streams in one service (people appearing in one, ``stills`` still ones) with MQTT and a webhook.

    Returns the CPU share of each stream's process, the connections dropped (a stream's state leaving
    ``running``/``recording`` after it first ran), the largest buffer and the packets skipped, and the time
    from people appearing on the busy stream (``still_s`` after its first packet, then every cycle of the
    clip) to the MQTT ``new`` event and to the notification.
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers.notify import http_receiver

    prefix = f"bench{os.getpid()}"
    news: list[float] = []
    confirmed: list[float] = []  # per 'new': seconds from the frame that confirmed the object to the message

    def on_message(_client: Any, _userdata: Any, message: Any) -> None:
        event = json.loads(message.payload)
        if event.get("type") == "new":
            news.append(time.time())
            confirmed.append(round(news[-1] - event["after"]["frame_time"], 2))

    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = on_message
    client.connect("127.0.0.1", 1883)
    client.subscribe(f"{prefix}/events")
    client.loop_start()
    servers = {"busy": serve(clip)} | {f"still{n}": serve(still) for n in range(1, stills + 1)}
    states: dict[str, list[str]] = {name: [] for name in servers}
    biggest: dict[str, int] = dict.fromkeys(servers, 0)
    first_packet: float | None = None
    notified: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, http_receiver() as hook:
            sources = {name: {"type": "stream", "url": url, "camera": name} for name, (_, url) in servers.items()}
            settings = load_config(
                environ={},
                overrides={
                    "data_dir": tmp,
                    "sources": sources,
                    "mqtt": {"enabled": True, "topic_prefix": prefix},
                    "notify": {"channels": {"hook": {"url": f"json://127.0.0.1:{hook.port}/alerts"}}},
                    "notify.rules": {"all": {"cooldown_s": 0}},
                    "alarm.cooldown_s": 0,  # every appearance alarms (the default: one per camera and label a minute)
                },
            )
            listeners, companions = configured_parts(settings)
            stop = threading.Event()
            service = Service(settings, listeners=listeners, companions=companions)
            thread = threading.Thread(target=service.run, args=(stop,))
            thread.start()

            def watch_hook() -> None:
                while not stop.is_set():
                    notified.extend([time.time()] * (len(hook.requests) - len(notified)))
                    time.sleep(0.01)

            watcher = threading.Thread(target=watch_hook, daemon=True)
            watcher.start()
            try:
                with Store(settings.data_dir) as store:
                    while first_packet is None:  # the first heartbeat of a stream comes with its first packet
                        time.sleep(0.05)
                        for c in ServiceBoard(store.engine).components():
                            if c.name == "source:busy" and c.state == "running":
                                first_packet = c.updated_utc.timestamp()
                    time.sleep(3)
                    found = {name: getattr(service.sources.get(name), "pid", None) for name in servers}
                    pids: dict[str, int] = {name: pid for name, pid in found.items() if pid is not None}
                    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
                    start = time.monotonic()
                    while time.monotonic() - start < seconds:
                        time.sleep(1)
                        for name in servers:
                            state, buffered, _, _ = stream_detail(ServiceBoard(store.engine), name)
                            if not states[name] or states[name][-1] != state:
                                states[name].append(state)
                            biggest[name] = max(biggest[name], buffered)
                    wall = time.monotonic() - start
                    cpu = {name: round(100 * (cpu_seconds(pids[name]) - cpu0[name]) / wall, 1) for name in cpu0}
                    details = {name: stream_detail(ServiceBoard(store.engine), name) for name in servers}
                    skipped = {name: detail[2] for name, detail in details.items()}
                    late = {name: detail[3] for name, detail in details.items()}
                    clips = sorted(p.name for p in Path(tmp).rglob("*.mp4*"))
                    stored = len(store.events())
            finally:
                stop.set()
                thread.join()
    finally:
        client.loop_stop()
        for server, _ in servers.values():
            server.kill()
            server.wait()
    cycle = float(probe(clip).duration_s)
    end = first_packet + 3 + seconds
    appeared = [first_packet + still_s + k * cycle for k in range(int(seconds / cycle) + 2)]
    appeared = [t for t in appeared if t < end - LAST_S]

    def delays(arrivals: list[float]) -> list[float | None]:
        """Per appearance: seconds to the first arrival after it (``None``: none by the end)."""
        out: list[float | None] = []
        left = sorted(arrivals)
        for t in appeared:  # each appearance takes the first arrival after it not taken by an earlier one
            after = [a for a in left if a >= t]
            out.append(round(after[0] - t, 2) if after else None)
            left = [a for a in left if a > (after[0] if after else math.inf)]
        return out

    dropped = {n: sum(1 for s in seq[1:] if s not in ("running", "recording")) for n, seq in states.items()}
    return {
        "cpu_percent": cpu,
        "dropped_connections": dropped,
        "max_buffer_s": biggest,
        "skipped_packets": skipped,
        "late_frames": late,
        "people_appeared": len(appeared),
        "clips": clips,
        "events_stored": stored,
        "mqtt_new_s": delays(news),
        "confirmed_to_new_s": confirmed,
        "notification_s": delays(notified),
    }


def percentile(values: list[float | None], q: float) -> str:
    """The ``q`` quantile (0..1, nearest rank) of the delays, or how many never arrived."""
    got = sorted(v for v in values if v is not None)
    missing = len(values) - len(got)
    if not got:
        return f"none of {len(values)} arrived"
    text = f"{got[min(len(got) - 1, math.ceil(q * len(got)) - 1)]:.2f} s"
    return text + (f" ({missing} of {len(values)} never arrived)" if missing else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--runs", type=int, default=5, help="files of each kind per source (after one warm-up)")
    parser.add_argument("--seconds", type=float, default=30, help="seconds of each live stream measured")
    parser.add_argument("--four-seconds", type=float, default=90, help="seconds the four live streams are measured")
    parser.add_argument("--still-streams", type=int, default=3, help="still streams beside the one with people")
    parser.add_argument("--height", type=int, default=720, help="picture height of the streams of --only four")
    parser.add_argument("--still-s", type=float, default=20, help="seconds of still scene before people appear")
    parser.add_argument("--only", choices=("files", "live", "four"), help="one measurement only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"bench: no test data at {args.data}")
    if shutil.which("ffmpeg") is None:
        sys.exit("bench: ffmpeg is needed to serve the live streams (apt-get install ffmpeg)")
    configure(json=False, level=logging.WARNING)
    doc: dict[str, Any] = {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "latency": {}, "live_720p": {}}
    if args.only in (None, "files"):
        doc["latency"] = measure_files(args.data, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        still = still_720p(Path(tmp) / "s.mp4")
        if args.only in (None, "live"):
            scenes = {"busy street (30 fps)": args.data / FILES_720P, "still scene (25 fps)": still}
            for scene, clip in scenes.items():
                doc["live_720p"][scene] = measure_stream(clip, args.seconds)
        if args.only in (None, "four"):
            small = still if args.height == 720 else still_720p(Path(tmp) / "small.mp4", args.height)
            appearing = appearing_clip(Path(tmp) / "a.mp4", small, args.data / FILES_720P, args.still_s, args.height)
            doc["four_streams"] = measure_four(appearing, small, args.four_seconds, args.still_s, args.still_streams)
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"camsift run, default settings, {doc['cpus']} CPUs ({doc['cpu_model']})")
    if doc["latency"]:
        print(f"{'landing -> events stored':32} {'median':>8} {'max':>8}")
        for name, r in doc["latency"].items():
            print(f"  {name:30} {r['median_s']:>7.2f}s {r['max_s']:>7.2f}s")
    if doc["live_720p"]:
        print(f"{'one live 720p stream':32} {'decode':>8} {'camsift':>8} {'multiple':>9} {'target':>7} "
              f"{'RSS':>7} {'clips':>6} {'skipped':>8} {'late':>6}")  # fmt: skip
        for scene, r in doc["live_720p"].items():
            target = TARGETS["busy" if scene.startswith("busy") else "still"]
            behind = r["skipped_packets"] or r["late_frames"]
            verdict = "met" if r["multiple"] <= target and not behind else "NOT met"
            if behind:
                verdict += " (fell behind: the CPU figure is a floor)"
            print(f"  {scene:30} {r['decode_only_percent']:>7.1f}% {r['cpu_percent']:>7.1f}% {r['multiple']:>8.2f}x "
                  f"{'<=' + format(target, 'g') + 'x':>7} {r['rss_mb']:>5.0f}MB {r['clips']:>6} "
                  f"{r['skipped_packets']:>8} {r['late_frames']:>6}  {verdict}")  # fmt: skip
    four = doc.get("four_streams")
    if four:
        print(
            f"{len(four['cpu_percent'])} live {args.height}p streams at once (one with people appearing "
            f"{four['people_appeared']} times, {len(four['cpu_percent']) - 1} still)"
        )
        for name, cpu in four["cpu_percent"].items():
            print(
                f"  {name:10} CPU {cpu:5.1f}%  dropped connections {four['dropped_connections'][name]}  "
                f"largest buffer {four['max_buffer_s'][name]} s  skipped packets {four['skipped_packets'][name]}  "
                f"frames too late to analyse {four['late_frames'][name]}"
            )
        print(
            f"  total CPU {sum(four['cpu_percent'].values()):.1f}% of {doc['cpus']} cores; "
            f"clips {len(four['clips'])}, events stored {four['events_stored']}"
        )
        for what, key in (("MQTT new event", "mqtt_new_s"), ("notification  ", "notification_s")):
            print(
                f"  people appearing -> {what}: p50 {percentile(four[key], 0.5)}  p95 {percentile(four[key], 0.95)}"
                f"  target p95 <= 1 s  (each: {four[key]})"
            )
        told = four["confirmed_to_new_s"]
        print(
            f"  frame that confirmed an object -> MQTT new: p50 {percentile(told, 0.5)}  p95 {percentile(told, 0.95)}"
            f"  ({len(told)} objects; the rest of the delay is the analysis catching up with the stream)"
        )


TARGETS = {"busy": 4.0, "still": 1.3}
"""camsift's CPU as a multiple of decoding the same stream alone, at most."""


def cpu_model() -> str:
    """The CPU's model name (``lscpu``'s), or ``unknown``."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
