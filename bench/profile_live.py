"""Where a live stream's CPU goes: the pipeline's stages timed in CPU seconds, against decode alone.

A live stream is served in real time, so its CPU share equals the CPU seconds one second of footage costs.
This runs a clip (looped to ``--seconds`` of footage) through what a stream's process does with it, in this
process and one thread of inference (as `camsift.sources.stream` runs it), and prints the CPU seconds per
footage second of each stage:

- decode: FFmpeg decoding (threads as FFmpeg chooses), measured alone in a first pass;
- recording: the reader's work, every packet into the `PacketRing` and remuxed into a clip (`ClipWriter`);
- grey scale, motion, RGB conversion, crop preparation (crop and `lift_dark`), model input (resize and
  normalisation), inference per model, model output decoding, tracking, events; "other" is the rest
  of the pipeline's own time (scheduling, NMS, merging).

Stage times are CPU time of the analysis thread (``time.thread_time``), exclusive of nested stages; the whole
run's process CPU time (all threads, decoder threads included) is printed too.

With ``--scan DIR`` it prints the same split for what a scan worker does with every file of a folder
(`camsift.analysis.file.analyse_file`, snapshots and faces included), in CPU seconds, against decoding the
files alone: the split behind ``bench/throughput.py``'s scan rate, whose own stage split is wall time and
inflated by whatever else the machine runs.

Usage: PYTHONPATH=src python bench/profile_live.py [--clip PATH] [--still] [--seconds 30] [--scan DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from camsift import media
from camsift.config import load_config
from camsift.media import Frame
from latency import still_720p  # bench/ is this script's folder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BUSY = DATA / "clips" / "ken2190_ecuador_street.mp4"


class Timers:
    """Exclusive CPU time (thread time) per stage; nested stages are subtracted from their callers."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[Any]] = []

    def wrap(self, owner: Any, attribute: str, stage: str) -> None:
        original = getattr(owner, attribute)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            self._stack.append([stage, 0.0])
            try:
                return original(*args, **kwargs)
            finally:
                _, nested = self._stack.pop()
                spent = time.thread_time() - start
                self.seconds[stage] += spent - nested
                self.calls[stage] += 1
                if self._stack:
                    self._stack[-1][1] += spent

        setattr(owner, attribute, timed)


def looped(clip: Path, seconds: float) -> Iterator[Frame]:
    """The frames of ``clip`` again and again, times shifted on, until ``seconds`` of footage."""
    offset, index = 0.0, 0
    while offset < seconds:
        last = 0.0
        for frame in media.frames(clip):
            if offset + frame.ts_s >= seconds:
                return
            yield dataclasses.replace(frame, index=index, ts_s=offset + frame.ts_s)
            index += 1
            last = frame.ts_s + frame.duration_s
        offset += last


def decode_only(clip: Path, seconds: float) -> float:
    """Process CPU seconds to decode ``seconds`` of the looped clip."""
    start = time.process_time()
    for _ in looped(clip, seconds):
        pass
    return time.process_time() - start


def recording(clip: Path, seconds: float, out: Path) -> float:
    """Process CPU seconds to demux the clip into a ring and remux every packet into a clip."""
    import av

    from camsift.recorder import ClipWriter, PacketRing

    start = time.process_time()
    ring, footage = PacketRing(30.0), 0.0
    while footage < seconds:
        with av.open(str(clip)) as container:
            video = container.streams.video[0]
            writer = ClipWriter(out, video, datetime.now(UTC))
            for packet in container.demux(video):
                if packet.dts is None or packet.time_base is None:
                    continue
                t = footage + float(packet.dts * packet.time_base)
                ring.add(t, packet)
                writer.write(packet)
            writer.close()
            footage += float(container.duration or 0) / 1e6
    return (time.process_time() - start) * seconds / footage


def stage_timers() -> Timers:
    """`Timers` wrapped around every stage of the pipeline (each name below is one row of the split)."""
    from camsift import events, motion, regions, tracking
    from camsift.detectors import gfl, nanodet_plus, picodet

    timers = Timers()
    timers.wrap(Frame, "rgb", "RGB conversion")
    timers.wrap(Frame, "gray", "grey scale")
    timers.wrap(motion.MotionGate, "check", "motion")
    timers.wrap(regions, "_crop", "crop preparation")
    timers.wrap(gfl.Normalisation, "tensor", "model input")
    timers.wrap(gfl, "stretch", "model input")
    timers.wrap(gfl, "letterbox", "model input")
    timers.wrap(picodet.PicoDetDetector, "_infer", "inference picodet")
    timers.wrap(nanodet_plus.NanoDetPlusDetector, "_infer", "inference nanodet-plus")
    timers.wrap(gfl.GFLDetector, "_decode", "model output")
    timers.wrap(tracking.Tracker, "update", "tracking")
    timers.wrap(events.EventBuilder, "feed", "events")
    timers.wrap(regions.RegionDetector, "detect", "other")
    timers.wrap(regions.Scheduler, "plan", "other")
    return timers


def profile(clip: Path, seconds: float, detector: str | None) -> dict[str, Any]:
    from camsift import pipeline
    from camsift.analysis.file import shared_detector
    from camsift.analysis.pool import prepare_worker

    prepare_worker()  # as a stream's process is set up
    with tempfile.TemporaryDirectory() as tmp:
        overrides: dict[str, Any] = {"data_dir": tmp}
        if detector:
            overrides["detect"] = {"detector": detector}
        settings = load_config(environ={}, overrides=overrides)
        det = shared_detector(settings, 1)
        decode_s = decode_only(clip, seconds)
        record_s = recording(clip, seconds, Path(tmp) / "r.mp4")
        timers = stage_timers()
        pipe = pipeline.Pipeline(settings, det)
        start, thread0 = time.process_time(), time.thread_time()
        found = list(pipe.events(looped(clip, seconds), camera="bench", start_utc=datetime.now(UTC), id_prefix="p"))
        total, thread = time.process_time() - start, time.thread_time() - thread0
    stages = dict(timers.seconds)
    stages["decode (pipeline run, rest of the process)"] = total - sum(stages.values())
    return {
        "decode_only_s": decode_s,
        "recording_s": record_s,
        "pipeline_total_s": total,
        "analysis_thread_s": thread,
        "stages_s": stages,
        "calls": dict(timers.calls),
        "detector_runs": pipe.stats.detector_runs,
        "regions": pipe.stats.regions,
        "sampled": pipe.stats.sampled,
        "events": len(found),
    }


def profile_scan(folder: Path) -> None:
    """Print the CPU split of what a scan worker does with every file of ``folder`` (`analyse_file`: the
    pipeline, faces and snapshots), in this process set up as a worker, one thread, against decoding the
    same files alone (every frame, one thread, as a worker decodes)."""
    from camsift.analysis import file
    from camsift.analysis.pool import prepare_worker
    from camsift.scanner import collect

    prepare_worker()
    paths = collect([folder])
    start = time.process_time()
    for path in paths:
        for _ in media.frames(path, 1):
            pass
    decode_s = time.process_time() - start
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_config(environ={}, overrides={"data_dir": tmp})
        start = time.process_time()
        file.shared_detector(settings, 1)
        load_s = time.process_time() - start
        timers = stage_timers()
        timers.wrap(file, "save_snapshots", "snapshots")
        timers.wrap(file, "find_faces", "faces")
        start = time.process_time()
        results = [file.analyse_file(path, "bench", settings, 1) for path in paths]
        total = time.process_time() - start
    stages = dict(timers.seconds)
    stages["decode, hashing and unwrapped Python"] = total - sum(stages.values())
    runs = sum(r.stats.detector_runs for r in results if r.stats)
    regions = sum(r.stats.regions for r in results if r.stats)
    print(f"{len(paths)} files of {folder}: {sum(r.duration_s for r in results):.1f} s of footage, "
          f"{runs} detector runs, {regions} regions, {sum(len(r.events) for r in results)} events")  # fmt: skip
    print(f"  {'decode alone':55} {decode_s:7.2f} s CPU")
    print(f"  {'models loaded':55} {load_s:7.2f} s")
    print(f"  {'analysis, whole process':55} {total:7.2f} s  ({decode_s / total:.3f} of the decode-only rate)")
    for stage, s in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"    {stage:53} {s:7.2f} s {100 * s / total:5.1f} %  {timers.calls.get(stage, '')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, default=BUSY)
    parser.add_argument("--still", action="store_true", help="the still 720p scene of bench/latency.py")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of footage")
    parser.add_argument("--detector", default=None)
    parser.add_argument("--scan", type=Path, default=None, help="instead: the CPU split of scanning this folder")
    args = parser.parse_args()
    if args.scan is not None:
        profile_scan(args.scan)
        return
    with tempfile.TemporaryDirectory() as tmp:
        clip = still_720p(Path(tmp) / "still.mp4") if args.still else args.clip
        r = profile(clip, args.seconds, args.detector)
    per = 100 / args.seconds  # CPU seconds per footage second, as % of a core
    print(f"{clip.name}: {args.seconds:.0f} s of footage, {r['sampled']} frames sampled, "
          f"{r['detector_runs']} detector runs, {r['regions']} regions, {r['events']} events")  # fmt: skip
    print(f"  {'decode alone':45} {r['decode_only_s'] * per:6.1f} % of a core")
    print(f"  {'recording (ring + remux of every packet)':45} {r['recording_s'] * per:6.1f} %")
    print(f"  {'pipeline run, whole process':45} {r['pipeline_total_s'] * per:6.1f} %  "
          f"({r['pipeline_total_s'] / r['decode_only_s']:.2f}x decode alone)")  # fmt: skip
    for stage, s in sorted(r["stages_s"].items(), key=lambda kv: -kv[1]):
        print(f"    {stage:43} {s * per:6.1f} %  {r['calls'].get(stage, '')}")


if __name__ == "__main__":
    main()
