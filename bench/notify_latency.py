"""Notification latency: from an event stored to the message received, on loopback (target < 1 s).

As in ``camsift run``: the event's file is recorded (`Store.save`), then the
notifier hears of it (`Notifier.on_event`: rules, cooldown, outbox commit) and
its sender thread delivers through apprise. Receivers are the tests' real
peers: a JSON webhook (``json://``) and an SMTP server (``mailto://``, aiosmtpd).
Each message carries a real snapshot (``snapshots/porch_night/raccoon``, or the
drawn sample picture without ``../shared/data``) as its attachment.

Latency = from the moment ``Store.save`` returned to the moment the receiver
holds the whole message (polled every millisecond). Events are ``--gap``
seconds apart (default 6 s): apprise spaces the messages of one channel by
5.5 s for most services (e-mail included; not JSON webhooks) to stay under
providers' rate limits, so a burst of alerts on one channel is spread out
(each channel has its own sender thread, so the others are not delayed);
``--gap 0`` shows that.

Usage: python bench/notify_latency.py [--runs 5] [--gap 6] [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sized
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from camsift.config import load_config
from camsift.events import Event, FileRecord
from camsift.listeners import EventChange
from camsift.notify import Notifier, sample_picture
from camsift.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.notify import http_receiver, smtp_receiver

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def wait_until(arrived: Callable[[], Sized], n: int, timeout_s: float = 30.0) -> float:
    """Poll until ``arrived()`` holds ``n`` items; returns the ``perf_counter`` time it did."""
    deadline = time.perf_counter() + timeout_s
    while len(arrived()) < n:
        if time.perf_counter() > deadline:
            raise SystemExit(f"no message within {timeout_s:.0f} s")
        time.sleep(0.001)
    return time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gap", type=float, default=6.0, help="seconds between events")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, http_receiver() as hook, smtp_receiver() as smtp:
        folder = Path(tmp)
        shots = sorted((args.data / "snapshots" / "porch_night" / "raccoon").glob("*.jpg"))
        picture = shots[0] if shots else sample_picture(folder / "sample.jpg")
        channels = {
            "hook": {"url": f"json://127.0.0.1:{hook.port}/alerts"},
            "mail": {"url": f"mailto://127.0.0.1:{smtp.port}?from=camsift@example.org&to=owner@example.org"},
        }
        overrides = {"data_dir": str(folder / "data"), "notify": {"channels": channels}}
        settings = load_config(environ={}, overrides={**overrides, "notify.rules": {"all": {"cooldown_s": 0}}})
        arrivals: dict[str, Callable[[], Sized]] = {"hook": hook.received, "mail": lambda: smtp.mails}
        latency: dict[str, list[float]] = {"hook": [], "mail": []}
        with Store(settings.data_dir) as store:
            notifier = Notifier(settings)
            notifier.start(SimpleNamespace(store=store, problem=notifier.on_problem))
            try:
                for n in range(args.runs + 1):  # the first run is a warm-up (apprise loads its plugins)
                    time.sleep(args.gap if n else 0.0)
                    start = datetime.now(UTC)
                    path = folder / f"clip{n}.mp4"
                    snapshot = settings.data_dir / f"porch-{n}-annotated.jpg"
                    shutil.copyfile(picture, snapshot)
                    event = Event(
                        f"porch-{n}", "porch", "raccoon", 0.0, 2.0, start, start + timedelta(seconds=2), 0.8,
                        (10, 10, 200, 150), source=path, snapshot_annotated=snapshot,
                    )  # fmt: skip
                    record = FileRecord(path, 1, 0.0, "x", "porch", "ok", None, 2.0, start, "name", start)
                    store.save(record, [event])
                    stored = time.perf_counter()
                    notifier.on_event(EventChange("new", None, event, True, "folder"))
                    for channel, arrived in arrivals.items():
                        took = wait_until(arrived, n + 1) - stored
                        if n:
                            latency[channel].append(took)
            finally:
                notifier.stop()
    figures = {
        channel: {
            "runs": len(values),
            "median_s": round(statistics.median(values), 4),
            "p95_s": round(sorted(values)[int(0.95 * (len(values) - 1))], 4),
            "max_s": round(max(values), 4),
        }
        for channel, values in latency.items()
    }
    doc = {"target_s": 1.0, "gap_s": args.gap, "attachment_bytes": picture.stat().st_size, "channels": figures}
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    print(
        f"event stored -> notification received on loopback ({doc['attachment_bytes']} byte snapshot attached, "
        f"events {args.gap:g} s apart)"
    )
    print(f"{'channel':<8} {'runs':>5} {'median s':>9} {'p95 s':>9} {'max s':>9}")
    for channel, f in figures.items():
        print(f"{channel:<8} {f['runs']:>5} {f['median_s']:>9.4f} {f['p95_s']:>9.4f} {f['max_s']:>9.4f}")
    worst = max(f["max_s"] for f in figures.values())
    print(f"target < 1 s: {'met' if worst < 1.0 else 'NOT met'} (worst {worst:.3f} s)")


if __name__ == "__main__":
    main()
