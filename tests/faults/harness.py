"""Fault injection for ``camsift run``: files over FTP and into a watched folder while the main process and its
workers are killed (``SIGKILL``) at random moments and the MQTT broker goes away during one kill.

`replay` runs it and returns `Counts`; ``tests/faults`` asserts on them and ``bench/faults.py`` prints them.
Every file shows a red rectangle that the ``scripted`` detector reports as one person, so each file must end
as exactly one stored event, one notification (a webhook) and one MQTT ``new`` message.
"""

from __future__ import annotations

import contextlib
import ftplib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from camsift.sources.ftp import hash_password
from camsift.store import Store
from helpers.cli import CAMSIFT, clean_environ
from helpers.media import Walk, write_clip, write_image
from helpers.service import free_port, listening, wait_for

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
_EVENT_LINK = re.compile(r"/events/([\w-]+)")


@dataclass
class Counts:
    """What a replay found (all "missing" and "lost" figures must be 0)."""

    files: int = 0
    acknowledged: int = 0
    lost: int = 0
    duplicated: int = 0
    given_up: int = 0
    events: int = 0
    notifications_missing: int = 0
    notifications_twice: int = 0
    mqtt_missing: int = 0
    kills_main: int = 0
    kills_worker: int = 0
    seconds: float = 0.0
    given_up_files: list[str] = field(default_factory=list)
    lost_files: list[str] = field(default_factory=list)
    duplicated_files: list[str] = field(default_factory=list)
    notifications_missing_files: list[str] = field(default_factory=list)
    mqtt_missing_files: list[str] = field(default_factory=list)
    outstanding: list[str] = field(default_factory=list)
    """What was still not done when the service stopped making progress (empty once everything settled)."""

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-able values."""
        return asdict(self)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with contextlib.suppress(ValueError):
            self.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: Any) -> None:
        """Quiet."""


@contextlib.contextmanager
def _webhook() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


class _Broker:
    """A Mosquitto of our own (persistent, so a subscriber's session outlives a restart)."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        self.conf = root / "mosquitto.conf"
        self.conf.write_text(
            f"user root\nlistener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {root}/\nlog_dest none\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def up(self) -> None:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL)
        wait_for(lambda: listening(self.port), 10, "the broker")

    def down(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class _Subscriber:
    """Keeps the ids of the events published as ``new`` (QoS 1, a persistent session)."""

    def __init__(self, port: int, prefix: str) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.ids: list[str] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="faults-subscriber", clean_session=False)
        self.client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/events", qos=1)
        self.client.on_message = self._message
        self.client.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]  # typed int; paho sleeps float seconds
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _message(self, _client: Any, _userdata: Any, message: Any) -> None:
        doc = json.loads(message.payload)
        if doc.get("type") == "new":
            self.ids.append(doc["after"]["id"])

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _make_file(folder: Path, n: int) -> Path:
    """File ``n``: a JPEG (three in four) or a short clip, each with a red rectangle somewhere of its own."""
    if n % 4 == 3:
        return write_clip(folder / f"clip{n:03d}.mp4", [Walk(0.2, 1.6, y=(n % 10) / 10)], seconds=2.0).path
    rgb = np.full((96, 160, 3), 90, np.uint8)
    x, y = 8 + (n * 7) % 120, 8 + (n * 5) % 60
    rgb[y : y + 24, x : x + 16] = (255, 0, 0)
    return write_image(folder / f"snap{n:03d}.jpg", rgb, quality=95)


def _grandchildren(pid: int) -> list[int]:
    """Processes of the group ``pid`` leads whose parent is not ``pid``: the workers (children of the forkserver,
    whose command line they share; the forkserver and the resource tracker are children of ``pid``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == pid:
            continue
        try:
            if os.getpgid(int(entry.name)) != pid:
                continue
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent != pid:
            found.append(int(entry.name))
    return found


class _Run:
    """``camsift run`` as a process group of its own, killed and restarted."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as err:
            self.process = subprocess.Popen(
                [str(CAMSIFT), "run", "-c", str(self.config)],
                env=clean_environ(),
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )

    def kill_main(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def workers(self) -> list[int]:
        assert self.process is not None
        return _grandchildren(self.process.pid)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _outstanding(data: Path, acknowledged: list[str]) -> list[str]:
    """One line for each thing still to do in ``data``: an acknowledged file not stored (with its jobs' states),
    a job pending or leased, an outbox message (webhook or MQTT) pending."""
    with Store(data) as store:
        names = {r.path.name for r in store.files()}
        jobs = store.jobs.jobs()
        waiting = store.outbox.messages(state="pending")
    lines = []
    for name in acknowledged:
        if name not in names:
            mine = [
                f"{state} ({outcome}, {job.attempts} tries)" for job, state, outcome in jobs if job.path.name == name
            ]
            lines.append(f"{name}: not stored; its jobs: {', '.join(mine) or 'none'}")
    lines += [f"job {job.path.name}: {state}" for job, state, _ in jobs if state in _BUSY]
    lines += [f"outbox {m.channel} {m.message.key}: pending, last error {m.last_error}" for m in waiting]
    return lines


_BUSY = ("pending", "leased")
"""Job states of work not done yet."""

_STALL_S = 60.0
"""Seconds without any progress after which a wait gives up: on a loaded 2-core machine the service settles a file
every few seconds; a file or message that is stuck settles never."""

_CEILING_S = 900.0
"""Seconds a wait gives up after even while progress is being made."""


def _while_progressing(outstanding: Callable[[], list[str]]) -> list[str]:
    """Wait until ``outstanding`` returns nothing, as long as what it returns keeps changing (progress) at least
    every `_STALL_S` seconds, for at most `_CEILING_S`; returns what is still outstanding (empty: all done)."""
    started = changed = time.monotonic()
    before: list[str] | None = None
    while now := outstanding():
        if now != before:
            before, changed = now, time.monotonic()
        if time.monotonic() - changed > _STALL_S or time.monotonic() - started > _CEILING_S:
            return now
        time.sleep(0.5)
    return []


def _notified(received: list[dict[str, Any]]) -> list[str]:
    """Ids of the events the webhook heard of, in arrival order (an event twice: listed twice)."""
    return [m.group(1) for r in list(received) for m in [_EVENT_LINK.search(str(r.get("message", "")))] if m]


def _upload(port: int, path: Path, deadline: float) -> bool:
    """Upload until the server answers 226 (a refusal or a dead server: try again); ``False`` at the deadline."""
    while time.monotonic() < deadline:
        try:
            with ftplib.FTP() as client, path.open("rb") as f:
                client.connect("127.0.0.1", port, timeout=5)
                client.login("porch", "pw")
                if client.storbinary(f"STOR {path.name}", f).startswith("226"):
                    return True
        except (OSError, EOFError, ftplib.Error):
            pass
        time.sleep(0.3)
    return False


def replay(
    root: Path, *, files: int = 60, kills: int = 20, gap_s: tuple[float, float] = (2.0, 6.0), seed: int = 1
) -> Counts:
    """Run the fault replay in ``root`` (a scratch folder) and count what was lost, doubled, given up or missed.

    Args:
        root: Empty folder for the data directory, the watched folder, the config and the logs.
        files: Files to hand in, alternately over FTP and into the folder.
        kills: ``SIGKILL``s, of the main process or of a worker at random; the broker is away during one.
        gap_s: Seconds between kills (uniform in this range).
        seed: For the random choices.
    """
    rng = random.Random(seed)
    started = time.monotonic()
    counts = Counts(files=files)
    made, inbox, data = root / "made", root / "inbox", root / "data"
    inbox.mkdir(parents=True)
    sources = [_make_file(made, n) for n in range(files)]
    ftp_port, prefix = free_port(), f"faults{seed}"
    broker = _Broker(root / "broker")
    broker.up()
    subscriber = _Subscriber(broker.port, prefix)
    with _webhook() as (hook_port, received):
        config = root / "camsift.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "data_dir": str(data),
                    "timezone": "UTC",
                    "detect": {"detector": "scripted"},
                    "alarm": {"cooldown_s": 0},
                    "service": {"workers": 2, "heartbeat_s": 0.5},
                    "sources": {
                        "uploads": {
                            "type": "ftp",
                            "host": "127.0.0.1",
                            "port": ftp_port,
                            "users": {"porch": {"password_hash": hash_password("pw")}},
                            "remove_files": True,
                        },
                        "inbox": {"type": "folder", "path": str(inbox), "camera": "yard", "settle_s": 0.3},
                    },
                    "notify": {
                        "channels": {"hook": {"url": f"json://127.0.0.1:{hook_port}/"}},
                        "public_url": "http://camsift.test",
                        "rules": {"all": {"cooldown_s": 0}},
                        "retry_first_s": 0.5,
                        "retry_max_s": 2,
                    },
                    "mqtt": {"enabled": True, "port": broker.port, "topic_prefix": prefix, "keepalive_s": 5},
                }
            )
        )
        run = _Run(config, root / "run.log")
        run.start()
        acknowledged: list[str] = []
        span = kills * sum(gap_s) / 2

        def produce() -> None:
            for n, path in enumerate(sources):
                time.sleep(span / files)
                if n % 2 == 0 and _upload(ftp_port, path, time.monotonic() + 60):
                    acknowledged.append(path.name)
                elif n % 2 == 1:
                    hidden = inbox / f".{path.name}"
                    shutil.copyfile(path, hidden)
                    hidden.rename(inbox / path.name)
                    acknowledged.append(path.name)

        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        try:
            for k in range(kills):
                time.sleep(rng.uniform(*gap_s))
                if k == kills // 2:  # the broker goes away, the service is killed, comes back, then the broker
                    broker.down()
                    time.sleep(3.0)  # files analysed meanwhile: their MQTT events wait for the broker
                    run.kill_main()
                    counts.kills_main += 1
                    run.start()
                    time.sleep(3.0)
                    broker.up()
                elif rng.random() < 0.5:  # a worker (once the restarted service has them up again)
                    deadline = time.monotonic() + 10
                    while not (workers := run.workers()) and time.monotonic() < deadline:
                        time.sleep(0.1)
                    with contextlib.suppress(ProcessLookupError, IndexError):
                        os.kill(rng.choice(workers), signal.SIGKILL)
                        counts.kills_worker += 1
                else:
                    run.kill_main()
                    counts.kills_main += 1
                    run.start()
            producer.join()
            counts.acknowledged = len(acknowledged)

            counts.outstanding = _while_progressing(lambda: _outstanding(data, acknowledged))
            with Store(data) as store:
                ids = {e.id for e in store.events()}
            _while_progressing(lambda: sorted(ids - (set(_notified(received)) & set(subscriber.ids))))  # in flight
        finally:
            run.stop()
            subscriber.close()
            broker.down()
        with Store(data) as store:
            records = {r.path.name: r for r in store.files()}
            events = store.events()
            dropped = store.jobs.given_up()
        per_file: dict[str, int] = {}
        for e in events:
            assert e.source is not None
            per_file[e.source.name] = per_file.get(e.source.name, 0) + 1
        counts.lost_files = [name for name in acknowledged if name not in records or per_file.get(name, 0) == 0]
        counts.lost = len(counts.lost_files)
        counts.duplicated_files = sorted(name for name, n in per_file.items() if n > 1)
        counts.duplicated = len(counts.duplicated_files)
        counts.given_up = len(dropped)
        counts.given_up_files = [f"{g.path.name}: {g.reason}" for g in dropped]
        counts.events = len(events)
        notified = _notified(received)
        counts.notifications_missing_files = sorted(e.source.name for e in events if e.source and e.id not in notified)
        counts.notifications_missing = len(counts.notifications_missing_files)
        counts.notifications_twice = len(notified) - len(set(notified))
        counts.mqtt_missing_files = sorted(e.source.name for e in events if e.source and e.id not in subscriber.ids)
        counts.mqtt_missing = len(counts.mqtt_missing_files)
    counts.seconds = round(time.monotonic() - started, 1)
    return counts
