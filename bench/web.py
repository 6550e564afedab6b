"""Web app response times with 10,000 events in the database: the review grid and the event page.

Fills a scratch SQLite store with synthetic events over 5 cameras and 30 days
(no pictures: the pages are HTML; images are separate requests), logs in,
then times requests through the ASGI app in process (no network):

- the review grid, first page and a page deep in the list, unfiltered and
  filtered by camera and by label + face;
- the event page and the event JSON.

Target (issue 7): p95 < 100 ms on this machine. Prints the figures; asserts nothing.

    .venv/bin/python bench/web.py [--events 10000] [--requests 60]
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
                "review grid, page 50": "/?page=50",
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


if __name__ == "__main__":
    main()
