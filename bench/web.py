"""Web app response times: 10,000 events in process, and a day of 2,000 events in Chromium.

Fills a scratch SQLite store with synthetic events over 5 cameras and 30 days
(no pictures: the pages are HTML; images are separate requests), logs in,
then times requests through the ASGI app in process (no network):

- the review grid, first page and a page deep in the list, unfiltered and
  filtered by camera and by label + face;
- the event page and the event JSON.

Target: p95 < 100 ms on this machine.

Then ``--day`` (default 2,000) events of one day, in files of 1 to 8 events
(review items), all with a real snapshot, served by uvicorn and loaded in
Debian's Chromium through Playwright: for the review page (the whole day),
an item page, an event page and the cameras page, the time to first byte
and to DOM ready (Navigation Timing: ``responseStart`` and
``domContentLoadedEventEnd`` from the start of the navigation), median of
``--loads``, and the thumbnails of the first screen. The pages are loaded in
turn, round after round, so a busy machine weighs on all of them alike; the
login page (a small page through the same server and session code) is the
baseline each page's DOM-ready time is divided by. Target: the review page
DOM-ready under 300 ms. Prints the figures and the machine; asserts nothing.

    .venv/bin/python bench/web.py [--events 10000] [--requests 60] [--day 2000] [--loads 7]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from camsift import load_config
from camsift.events import Event, FileRecord
from camsift.store import Store
from camsift.store.users import UserStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CAMERAS = ["porch", "drive", "garden", "street", "hall"]
LABELS = ["person", "person", "person", "car", "cat", "dog"]
FACES = [None, None, "unknown", "Ann", "Bob"]


def fill(store: Store, count: int) -> list[str]:
    """``count`` events in files of 5 events; returns their ids."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    ids = []
    for f in range(count // 5):
        camera = CAMERAS[f % len(CAMERAS)]
        start = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
        path = Path(f"/footage/{camera}/{f:06d}.mp4")
        record = FileRecord(path, 1000, 0.0, f"{f:064x}", camera, "ok", None, 20.0, start, "name", now)
        events = []
        for n in range(5):
            label = rng.choice(LABELS)
            event = Event(
                id=f"{f:06x}-{n:03d}",
                camera=camera,
                label=label,
                start_s=n * 3.0,
                end_s=n * 3.0 + 2,
                start_utc=start + timedelta(seconds=n * 3),
                end_utc=start + timedelta(seconds=n * 3 + 2),
                confidence=round(rng.uniform(0.5, 0.95), 3),
                box_xyxy=(10.0, 20.0, 110.0, 220.0),
                sub_label=rng.choice(FACES) if label == "person" else None,
                source=path,
            )
            events.append(event)
            ids.append(event.id)
        store.save(record, events)
    return ids


def timed(client: TestClient, url: str, n: int) -> list[float]:
    client.get(url)  # warm
    times = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--day", type=int, default=2000, help="events of the browser day (0: skip)")
    parser.add_argument("--loads", type=int, default=7, help="loads of each page in the browser")
    args = parser.parse_args()
    from camsift.web import create_app

    with tempfile.TemporaryDirectory() as scratch:
        settings = load_config(environ={}, overrides={"data_dir": scratch, "timezone": "UTC"})
        with Store(settings.data_dir) as store:
            t = time.perf_counter()
            ids = fill(store, args.events)
            print(f"{store.count_events()} events stored in {time.perf_counter() - t:.1f} s")
            UserStore(store).add("bench", "bench password 123")
        with TestClient(create_app(settings), base_url="https://testserver") as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
            assert token
            form = {"username": "bench", "password": "bench password 123", "csrf_token": token.group(1)}
            assert client.post("/login", data=form, follow_redirects=False).status_code == 303
            rng = random.Random(1)
            urls = {
                "review grid, page 1": "/",
                "review grid, camera": "/?camera=porch",
                "review grid, label + unknown face, not reviewed": "/?label=person&face=unknown&reviewed=no",
                "event page": None,
                "API /api/events?limit=100": "/api/events?limit=100",
                "API /api/events/{id}": None,
            }
            print(f"{'request':48} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
            worst = 0.0
            for name, url in urls.items():
                if url is None:
                    times = []
                    for _ in range(args.requests):
                        event_id = rng.choice(ids)
                        path = f"/events/{event_id}" if name == "event page" else f"/api/events/{event_id}"
                        times += timed(client, path, 1)
                else:
                    times = timed(client, url, args.requests)
                p95 = statistics.quantiles(times, n=20)[-1]
                worst = max(worst, p95)
                print(f"{name:48} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f}")
            print(f"worst p95: {worst:.1f} ms (target < 100 ms): {'met' if worst < 100 else 'NOT met'}")
    if args.day:
        browser_day(args.day, args.loads)


SIZES = [1, 2, 3, 5, 8, 1, 1, 2, 3, 1]
"""Events per file of the day: single walkers, pairs, a crowd now and then (about 2.7 per item)."""

SNAPSHOT = Path(__file__).resolve().parents[1] / "tests" / "data" / "images" / "skimage_rocket.jpg"
"""A real photo (scikit-image's rocket) every event of the day uses as its snapshot (thumbnails are real work)."""


def fill_day(store: Store, count: int, day: datetime) -> tuple[list[str], int]:
    """``count`` events over ``day`` (UTC) in files of `SIZES` events; returns their ids and the number of files."""
    rng = random.Random(11)
    picture = store.data_dir / "events" / "bench.jpg"
    picture.parent.mkdir(parents=True, exist_ok=True)
    picture.write_bytes(SNAPSHOT.read_bytes())
    ids: list[str] = []
    f = 0
    while len(ids) < count:
        camera = CAMERAS[f % len(CAMERAS)]
        start = day + timedelta(seconds=rng.uniform(0, 86_000))
        path = Path(f"/footage/{camera}/{f:06d}.mp4")
        record = FileRecord(path, 1000, 0.0, f"{f:064x}", camera, "ok", None, 20.0, start, "name", start)
        events = []
        for n in range(min(SIZES[f % len(SIZES)], count - len(ids))):
            x = rng.uniform(0, 600)
            events.append(
                Event(
                    id=f"d{f:06x}-{n:03d}",
                    camera=camera,
                    label=rng.choice(LABELS),
                    start_s=n * 2.0,
                    end_s=n * 2.0 + 5,
                    start_utc=start + timedelta(seconds=n * 2),
                    end_utc=start + timedelta(seconds=n * 2 + 5),
                    confidence=round(rng.uniform(0.5, 0.95), 3),
                    box_xyxy=(x / 2, 150.0, x / 2 + 90, 450.0),
                    source=path,
                    snapshot=picture,
                )
            )
        ids += [e.id for e in events]
        store.save(record, events)
        f += 1
    return ids, f


def machine() -> str:
    """This machine in one line: CPU model, cores, load average (the figures depend on it)."""
    import os
    import platform

    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        model = names[0] if names else model
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, load average {load}"


def browser_day(count: int, loads: int) -> None:
    """Page loads in Chromium over a day of ``count`` events (see the module docstring)."""
    import shutil
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers.web import PASSWORD, chromium, serve

    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        print("no Chromium: browser figures skipped")
        return
    day = (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as scratch:
        settings = load_config(environ={}, overrides={"data_dir": scratch, "timezone": "UTC"})
        with Store(settings.data_dir) as store:
            ids, files = fill_day(store, count, day)
        with serve(settings) as url, chromium(url, width=1366, height=800) as page:
            page.goto("/login")
            page.fill("input[name=username]", "ann")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/")
            pages = {
                "baseline: the login page": "/login",
                f"review, the day ({count} events, {files} items)": f"/?day={day:%Y-%m-%d}",
                "item page": f"/items/{ids[len(ids) // 2]}",
                "event page": f"/events/{ids[len(ids) // 3]}",
                "cameras": "/cameras",
            }
            print(f"\nChromium, a day of {count} events, median of {loads} loads; {machine()}")
            print(f"{'page':48} {'first byte ms':>14} {'DOM ready ms':>13} {'x login':>8} {'cards':>6} {'nodes':>6}")
            timing = (
                "() => { const n = performance.getEntriesByType('navigation')[0];"
                " return [n.responseStart - n.startTime, n.domContentLoadedEventEnd - n.startTime]; }"
            )
            first: dict[str, list[float]] = {name: [] for name in pages}
            ready: dict[str, list[float]] = {name: [] for name in pages}
            for _ in range(loads):
                for name, path in pages.items():
                    page.goto(path)
                    a, b = page.evaluate(timing)
                    first[name].append(a)
                    ready[name].append(b)
            baseline = statistics.median(ready["baseline: the login page"])
            for name, path in pages.items():
                page.goto(path)
                cards = page.locator(".card").count()
                nodes = page.evaluate("() => document.getElementsByTagName('*').length")
                median = statistics.median(ready[name])
                print(
                    f"{name:48} {statistics.median(first[name]):14.0f} {median:13.0f} {median / baseline:8.1f}"
                    f" {cards:6d} {nodes:6d}"
                )
            page.goto(pages[list(pages)[1]])
            started = time.perf_counter()
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.card img')).slice(0, 12)"
                ".every(i => i.complete && i.naturalWidth > 0)",
                timeout=60_000,
            )
            print(f"{'first 12 thumbnails of the review (cached)':48} {(time.perf_counter() - started) * 1000:14.0f}")


if __name__ == "__main__":
    main()
