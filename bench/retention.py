"""Retention benchmark: time (wall and CPU) and memory to plan and apply retention over a big
synthetic data directory.

Builds a data directory with ``--files`` owned footage files (live clips under
``clips/``), ``--events`` events spread over them (a mix of person, unknown
face, known face and car events over ``--days`` days), each with a clean and
an annotated snapshot of ``--picture-kb`` KB; then times, at a clock
``--age`` days later, one `Retention.plan` and one `Retention.apply` (rows,
journal, unlinks), and reports peak Python memory (tracemalloc) and the
process's peak RSS. Synthetic rows and files: this measures the bookkeeping,
not the detector.

Usage: python bench/retention.py [--events 10000] [--files 1000] [--days 120] [--age 60]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from camsift import load_config
from camsift.events import Event, FileRecord
from camsift.layout import DataDir
from camsift.retention import Retention
from camsift.store import Store

KINDS = [("person", None), ("person", "unknown"), ("person", "Alice"), ("car", None)]


def fill(data: Path, events: int, files: int, days: float, picture: bytes, start: datetime) -> None:
    per_file = max(1, events // files)
    step = timedelta(days=days) / files
    layout = DataDir(data)
    with Store(data) as store:
        n = 0
        for f in range(files):
            camera = f"cam{f % 4}"
            when = start + f * step
            clip = layout.clip(camera, when, UTC)
            clip.parent.mkdir(parents=True, exist_ok=True)
            clip.write_bytes(picture * 4)
            record = FileRecord(clip, len(picture) * 4, 0.0, "0" * 64, camera, "ok", None, 10.0, when, "mtime", when)
            found = []
            for k in range(per_file if f < files - 1 else events - n):
                label, sub = KINDS[(n + k) % len(KINDS)]
                e = Event(f"{f:06d}-{k:03d}", camera, label, k, k + 1.0, when, when, 0.9, (0, 0, 1, 1), sub_label=sub)
                shots = (layout.picture(e, False, UTC), layout.picture(e, True, UTC))
                for shot in shots:
                    shot.parent.mkdir(parents=True, exist_ok=True)
                    shot.write_bytes(picture)
                found.append(e.replace(snapshot=shots[0], snapshot_annotated=shots[1], clip=clip, source=clip))
            n += len(found)
            store.save(record, found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--days", type=float, default=120.0)
    parser.add_argument("--age", type=float, default=60.0, help="days after the newest file the pass runs")
    parser.add_argument("--picture-kb", type=int, default=4)
    args = parser.parse_args()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        t0 = time.perf_counter()
        fill(data, args.events, args.files, args.days, b"\xff" * (args.picture_kb * 1024), start)
        print(
            f"filled: {args.events} events, {args.files} clips, {2 * args.events} pictures "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        settings = load_config(environ={}, overrides={"data_dir": str(data)})
        settings = settings.model_copy(
            update={"retention": settings.retention.model_copy(update={"max_disk_percent": None})}
        )
        now = start + timedelta(days=args.days + args.age)
        with Store(data) as store:
            retention = Retention(settings, store, now=lambda: now)
            tracemalloc.start()
            t0, c0 = time.perf_counter(), time.process_time()
            plan = retention.plan()
            plan_s, plan_cpu = time.perf_counter() - t0, time.process_time() - c0
            _, plan_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            t0, c0 = time.perf_counter(), time.process_time()
            outcome = retention.apply(plan)
            apply_s, apply_cpu = time.perf_counter() - t0, time.process_time() - c0
            _, apply_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            t0 = time.perf_counter()
            report = retention.repair()
            repair_s = time.perf_counter() - t0
        files = sum(len(i.paths) for i in outcome.deleted)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = f"{len(plan.items)} items ({plan.size / 1e6:.1f} MB)"
        print(f"plan:   {plan_s:6.2f} s ({plan_cpu:.2f} s CPU)  {size}, peak {plan_peak / 1e6:.1f} MB")
        print(
            f"apply:  {apply_s:6.2f} s ({apply_cpu:.2f} s CPU)  {len(outcome.deleted)} items, {files} files unlinked, "
            f"peak {apply_peak / 1e6:.1f} MB, {len(outcome.deleted) / apply_s:,.0f} items/s"
        )
        print(f"repair: {repair_s:6.2f} s  (dangling {report.dangling}, journals {report.journals})")
        print(f"process peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
