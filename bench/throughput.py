"""Speed benchmark: seconds of footage processed per wall second, on the shared clips.

Three measurements in one run, on the same clips (``../shared/data/clips``),
each printed as a realtime factor (footage seconds / wall seconds; footage
seconds = time of each clip's last decoded frame, as in
``ScanReport.summary()["footage_s"]``):

1. **camsift** (the headline): ``camsift.scan`` with default settings (or
   ``--config``), ``force=True``, a temporary data dir, default jobs (one worker
   per CPU, each bound to its own: ``camsift.analysis.pool.pin_worker``) unless
   ``--jobs``. Target: >= 10x realtime on a 2-core machine. On a shared VM the
   figure moves by several percent from run to run: run it twice.
2. **decode alone** (the practical ceiling): every frame decoded by
   ``camsift.media.frames`` (PyAV, threads chosen by FFmpeg), and the frames
   the sampler keeps (``detect.fps``, 5 per second by default) converted to
   full-resolution RGB by ``Frame.rgb`` as the detector stage does; also raw
   decode with no conversion at all.
3. **baseline**, the approach of the original Blink script: ``cv2.VideoCapture``
   reads every frame, one frame in 15 is turned grey and searched with OpenCV's
   Haar full-body cascade (``haarcascade_fullbody.xml``, ``detectMultiScale``
   with OpenCV's defaults, scaleFactor 1.1 and minNeighbors 3). Needs
   opencv-python < 5: the 5.x wheels no longer ship the cascades.

Also printed: the scan's per-stage time split (``PipelineStats.seconds`` summed
over files; "other" = wall x jobs - stage sum: worker start-up, model loading,
hashing, snapshots, the database and idle workers), per-file work and finishing
time (a big clip started last leaves the other workers idle: the "tail" is the
time from when no file was left waiting to the end), frame counts, and the
peak RSS of each worker (target: <= 400 MB).

Peak RSS: with jobs > 1 the workers are forked by multiprocessing's forkserver,
which outlives the scan, so ``getrusage(RUSAGE_CHILDREN)`` here never sees them;
instead each worker's ``VmHWM`` is read from ``/proc`` every 0.1 s during the
scan (Linux). With jobs = 1 the scan runs in this process and the figure is
``getrusage(RUSAGE_SELF)`` right after it (the scan runs first so the other
measurements cannot inflate it).

The scan's CPU time (the "scan rate ... in CPU time" line) is the workers'
(``utime + stime`` from the same ``/proc`` samples) plus this process's, less
the sampler thread's own (reading ``/proc`` costs about 3 ms a sample).

With ``--cluster ADDRESS`` (``camsift[cluster]``) the same scan also runs on a
Dask cluster (``scan(cluster=ADDRESS)``) into its own data dir, and local and
cluster throughput are printed side by side, with whether both found the same
events. ``--cluster local`` starts a ``distributed.LocalCluster`` on loopback:
one single-thread worker process per job (``--jobs``, default CPU count), so on
one machine it measures what the cluster path costs over local worker processes.

Usage: python bench/throughput.py [--data ../shared/data] [--jobs N] [--config FILE] [--cluster ADDRESS|local] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from camsift import FileResult, Settings, load_config, media, scan
from camsift.pipeline import Sampler
from camsift.scanner import collect

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BASELINE_EVERY = 15
TARGET_REALTIME = 10.0
TARGET_RSS_MB = 400.0
TARGET_VS_DECODE = 0.15
STAGES = ("decode", "motion", "detect", "track")


class WorkerRSS:
    """Peak RSS (``VmHWM``, MB) of this process's grandchildren, i.e. the forkserver's pool workers, sampled."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s = interval_s
        self.peak_mb: dict[int, float] = {}
        self.cpu_s: dict[int, float] = {}  # utime + stime of each worker when last seen
        self.own_cpu_s = 0.0  # this sampler thread's own CPU time, not the scan's
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WorkerRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        start = time.thread_time()
        while True:
            self._sample()
            self.own_cpu_s = time.thread_time() - start
            if self._stop.wait(self.interval_s):
                return

    def _sample(self) -> None:
        parent: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    stat = Path(entry.path, "stat").read_text()
                except OSError:
                    continue
                parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        me = os.getpid()
        for pid, ppid in parent.items():
            if parent.get(ppid) != me:
                continue
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            self.cpu_s[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_mb[pid] = max(self.peak_mb.get(pid, 0.0), int(line.split()[1]) / 1024)


def run_camsift(clips: Path, settings: Settings, jobs: int | None) -> dict[str, Any]:
    """The scan with its figures, per-file finishing times and per-worker peak RSS."""
    done_at: dict[str, float] = {}
    start = time.perf_counter()

    def finished(result: FileResult) -> None:
        done_at[result.path.name] = time.perf_counter() - start

    cpu0 = time.process_time()
    with WorkerRSS() as workers:
        report = scan([clips], settings, jobs=jobs, force=True, on_result=finished)
    # The sampler reads /proc (3 ms a sample): its CPU time is the benchmark's, not the scan's.
    cpu_s = time.process_time() - cpu0 - workers.own_cpu_s + sum(workers.cpu_s.values())
    n_jobs = max(1, min(jobs or os.cpu_count() or 1, len(report.files)))
    if n_jobs == 1:
        rss = {"source": "getrusage(RUSAGE_SELF) after an in-process scan", "mb": [_self_rss_mb()]}
    else:
        rss = {"source": "VmHWM of each pool worker from /proc", "mb": sorted(workers.peak_mb.values())}
    st = report.stats
    stages = {k: st.seconds.get(k, 0.0) for k in STAGES}
    stages["other"] = report.wall_s * n_jobs - sum(stages.values())
    files = [
        {
            "name": f.path.name,
            "status": f.status,
            "mb": f.path.stat().st_size / 2**20,
            "footage_s": f.duration_s,
            "frames": f.stats.frames if f.stats else 0,
            "work_s": sum(f.stats.seconds.values()) if f.stats else 0.0,
            "done_at_s": done_at[f.path.name],
        }
        for f in report.files
    ]
    files.sort(key=lambda f: f["done_at_s"])
    return {
        "wall_s": report.wall_s,
        "cpu_s": cpu_s,
        "jobs": n_jobs,
        "footage_s": st.footage_s,
        "frames": st.frames,
        "sampled": st.sampled,
        "detector_runs": st.detector_runs,
        "regions": st.regions,
        "stages_s": stages,
        "events": report.summary()["events"],
        "errors": [f"{f.path.name}: {f.error}" for f in report.failed],
        "files": files,
        "rss": rss,
    }


def run_cluster(clips: Path, settings: Settings, address: str, jobs: int | None) -> dict[str, Any]:
    """The same scan on a Dask cluster (``local``: a LocalCluster of ``jobs`` one-thread worker processes)."""
    from distributed import LocalCluster

    local = None
    if address == "local":
        workers = jobs or os.cpu_count() or 1
        local = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        address = local.scheduler_address
    try:
        with tempfile.TemporaryDirectory() as tmp:
            report = scan([clips], settings.model_copy(update={"data_dir": Path(tmp)}), force=True, cluster=address)
    finally:
        if local is not None:
            local.close()
    return {
        "address": "LocalCluster on loopback" if local is not None else address,
        "workers": len(local.workers) if local is not None else None,
        "wall_s": report.wall_s,
        "footage_s": report.stats.footage_s,
        "events": report.summary()["events"],
        "errors": [f"{f.path.name}: {f.error}" for f in report.failed],
    }


def _self_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def run_decode(paths: list[Path], fps: float) -> dict[str, Any]:
    """Raw decode of every frame, then decode + RGB of the sampled frames, each over all clips."""
    start, cpu0 = time.perf_counter(), time.process_time()
    frames, footage = 0, {}
    for path in paths:
        for frame in media.frames(path):
            frames += 1
            footage[path.name] = frame.ts_s
    raw_s, raw_cpu_s = time.perf_counter() - start, time.process_time() - cpu0
    start = time.perf_counter()
    converted = 0
    for path in paths:
        for frame in Sampler(fps).sample(media.frames(path)):
            frame.rgb()
            converted += 1
    rgb_s = time.perf_counter() - start
    return {
        "frames": frames,
        "footage_s": footage,
        "raw_wall_s": raw_s,
        "raw_cpu_s": raw_cpu_s,
        "rgb_wall_s": rgb_s,
        "converted": converted,
    }


def run_baseline(paths: list[Path]) -> dict[str, Any] | str:
    """The Blink-script approach; a reason string when this OpenCV has no Haar cascades."""
    import cv2

    data = getattr(cv2, "data", None)
    xml = Path(data.haarcascades) / "haarcascade_fullbody.xml" if data else None
    if xml is None or not xml.exists():
        return f"skipped: opencv-python {cv2.__version__} ships no Haar cascades; the baseline needs opencv-python<5"
    cascade = cv2.CascadeClassifier(str(xml))
    frames = searched = hits = 0
    start = time.perf_counter()
    for path in paths:
        capture = cv2.VideoCapture(str(path))
        index = 0
        try:
            while True:
                ok, bgr = capture.read()
                if not ok:
                    break
                if index % BASELINE_EVERY == 0:
                    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
                    bodies = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=3)
                    searched += 1
                    hits += len(bodies) > 0
                index += 1
        finally:
            capture.release()
        frames += index
    return {"wall_s": time.perf_counter() - start, "frames": frames, "searched": searched, "with_detection": hits}


def measure(data: Path, settings: Settings, jobs: int | None, cluster: str | None = None) -> dict[str, Any]:
    clips = data / "clips"
    paths = collect([clips])
    for path in paths:  # warm the page cache so no measurement pays for the first read
        path.read_bytes()
    print(f"camsift scan of {len(paths)} clips ...", file=sys.stderr)
    cs = run_camsift(clips, settings, jobs)
    if cluster:
        print(f"camsift scan on the Dask cluster {cluster} ...", file=sys.stderr)
        dask = run_cluster(clips, settings, cluster, jobs)
    print("decode alone ...", file=sys.stderr)
    dec = run_decode(paths, settings.detect.fps)
    print("baseline (Haar full-body, 1 frame in 15) ...", file=sys.stderr)
    base = run_baseline(paths)
    footage = sum(dec["footage_s"].values())
    out: dict[str, Any] = {"clips": len(paths), "footage_s": footage, "camsift": cs}
    out["camsift"]["realtime_x"] = footage / cs["wall_s"]
    if cluster:
        out["cluster"] = dask | {
            "realtime_x": footage / dask["wall_s"],
            "vs_local": cs["wall_s"] / dask["wall_s"],
            "same_events": dask["events"] == cs["events"],
        }
    out["decode"] = {
        "frames": dec["frames"],
        "wall_s": dec["raw_wall_s"],
        "realtime_x": footage / dec["raw_wall_s"],
        "rgb_converted": dec["converted"],
        "rgb_wall_s": dec["rgb_wall_s"],
        "rgb_realtime_x": footage / dec["rgb_wall_s"],
        "cpu_s": dec["raw_cpu_s"],
    }
    if isinstance(base, str):
        out["baseline"] = {"skipped": base}
    else:
        out["baseline"] = base | {"realtime_x": footage / base["wall_s"]}
    out["ratios"] = {
        # footage per CPU second of the scan (workers and this process) over that of decoding alone
        "camsift_vs_decode_cpu": dec["raw_cpu_s"] / cs["cpu_s"],
        "camsift_vs_decode_rgb": out["camsift"]["realtime_x"] / out["decode"]["rgb_realtime_x"],
        "camsift_vs_baseline": (
            out["camsift"]["realtime_x"] / out["baseline"]["realtime_x"] if "realtime_x" in out["baseline"] else None
        ),
    }
    # At the (n - jobs + 1)-th completion no file is left waiting: from then on a worker is idle.
    done = [f["done_at_s"] for f in cs["files"]]
    free_at = done[max(0, len(done) - cs["jobs"])]
    out["balance"] = {
        "stage_work_per_worker_s": sum(f["work_s"] for f in cs["files"]) / cs["jobs"],
        "queue_empty_at_s": free_at,
        "tail_s": done[-1] - free_at,
    }
    out["targets"] = {"realtime_x": TARGET_REALTIME, "rss_mb": TARGET_RSS_MB}
    return out


def render(r: dict[str, Any]) -> str:
    cs, dec, base = r["camsift"], r["decode"], r["baseline"]
    ok = "meets" if cs["realtime_x"] >= TARGET_REALTIME else "MISSES"
    scan_label = f"camsift scan, {cs['jobs']} jobs"
    rgb_label = f"decode alone + RGB of {dec['rgb_converted']} sampled frames"
    lines = [
        f"footage: {r['footage_s']:.1f} s in {r['clips']} clips, {dec['frames']} frames "
        f"(camsift counted {cs['footage_s']:.1f} s, {cs['frames']} frames)",
        "",
        f"{'run':<44}{'wall s':>9}{'x realtime':>12}",
        f"{scan_label:<44}{cs['wall_s']:>9.2f}{cs['realtime_x']:>12.1f}   {ok} target {TARGET_REALTIME:g}x",
        f"{'decode alone, every frame, no conversion':<44}{dec['wall_s']:>9.2f}{dec['realtime_x']:>12.1f}",
        f"{rgb_label:<44}{dec['rgb_wall_s']:>9.2f}{dec['rgb_realtime_x']:>12.1f}",
    ]
    if "skipped" in base:
        lines.append(f"baseline (Haar full-body): {base['skipped']}")
    else:
        lines.append(
            f"{'baseline: cv2 read + Haar full-body 1 in 15':<44}{base['wall_s']:>9.2f}{base['realtime_x']:>12.1f}"
        )
    if "cluster" in r:
        dk = r["cluster"]
        workers = f", {dk['workers']} workers" if dk["workers"] else ""
        label = f"same scan on Dask ({dk['address']}{workers})"
        lines.append(
            f"{label[:44]:<44}{dk['wall_s']:>9.2f}{dk['realtime_x']:>12.1f}   {dk['vs_local']:.2f}x local; "
            f"same events: {'yes' if dk['same_events'] else 'NO ' + str(dk['events'])}"
        )
        lines += [f"cluster errors: {e}" for e in dk["errors"]]
    ratios = r["ratios"]
    vs_base = f"{ratios['camsift_vs_baseline']:.2f}x the baseline" if ratios["camsift_vs_baseline"] else "no baseline"
    lines += [
        "",
        f"camsift speed = {vs_base}, {ratios['camsift_vs_decode_rgb']:.2f} of decode + RGB (the ceiling)",
        f"camsift scan rate = {ratios['camsift_vs_decode_cpu']:.3f} of the decode-only rate, in CPU time "
        f"(scan {cs['cpu_s']:.1f} s, decode alone {dec['cpu_s']:.1f} s): "
        f"{'meets' if ratios['camsift_vs_decode_cpu'] >= TARGET_VS_DECODE else 'MISSES'} target {TARGET_VS_DECODE:g}",
    ]
    if "searched" in base:
        lines.append(
            f"baseline searched {base['searched']} of {base['frames']} frames, "
            f"{base['with_detection']} with a full-body detection"
        )
    budget = cs["wall_s"] * cs["jobs"]
    lines += ["", f"stage split of {budget:.1f} worker-seconds (wall x {cs['jobs']} jobs):"]
    lines += [f"  {k:<8}{s:>8.2f} s {100 * s / budget:>5.1f} %" for k, s in cs["stages_s"].items()]
    lines += [
        "",
        f"frames decoded {cs['frames']}, sampled {cs['sampled']}, detector runs {cs['detector_runs']}, "
        f"regions {cs['regions']}; events {cs['events']}",
        "",
        f"{'file (by finishing time)':<42}{'MB':>6}{'footage s':>10}{'frames':>8}{'work s':>8}{'done at s':>10}",
    ]
    lines += [
        f"{f['name'][:41]:<42}{f['mb']:>6.2f}{f['footage_s']:>10.1f}{f['frames']:>8}{f['work_s']:>8.2f}"
        f"{f['done_at_s']:>10.2f}" + ("" if f["status"] == "ok" else f"  {f['status']}")
        for f in cs["files"]
    ]
    bal = r["balance"]
    lines.append(
        f"no file waiting after {bal['queue_empty_at_s']:.2f} s; tail (a worker idle) {bal['tail_s']:.2f} s "
        f"= {100 * bal['tail_s'] / cs['wall_s']:.0f} % of wall; stage work per worker "
        f"{bal['stage_work_per_worker_s']:.2f} s of {cs['wall_s']:.2f} s wall"
    )
    mb = cs["rss"]["mb"]
    worst = max(mb, default=0.0)
    lines += [
        "",
        f"peak RSS per worker: {', '.join(f'{m:.0f}' for m in mb) or 'not measured'} MB "
        f"({cs['rss']['source']}); {'meets' if worst <= TARGET_RSS_MB else 'MISSES'} target {TARGET_RSS_MB:g} MB",
    ]
    lines += [f"errors: {e}" for e in cs["errors"]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="shared data folder (its clips/ are used)")
    parser.add_argument("--jobs", type=int, default=None, help="scan worker processes (default: CPU count)")
    parser.add_argument("--config", type=Path, default=None, help="camsift YAML config (default: built-in)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument(
        "--cluster", default=None, help="also scan on this Dask scheduler (tcp://HOST:8786), or 'local' (LocalCluster)"
    )
    args = parser.parse_args()
    if not (args.data / "clips").is_dir():
        print(f"no clips at {args.data / 'clips'}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.data, load_config(args.config, overrides={"data_dir": tmp}), args.jobs, args.cluster)
    print(json.dumps(result, indent=1) if args.json else render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
