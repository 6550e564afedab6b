"""Quality benchmark: camsift's person events against hand labels on real footage.

Runs the scan with default settings on ``../shared/data/clips`` and scores it
against ``labels.json`` on a 0.5 s grid: a grid point is a true person-second
when a labelled person interval covers it, a predicted one when a person event
covers it. Points inside the uncertain spans and within 1 s of every labelled
interval boundary are ignored. Targets: recall >= 0.90, precision >= 0.95, no
person event on the waving-trees clip before 15 s, none on the empty stretches
of the one-by-one clip.

Also reports person recall and false alarms on ``images/`` and ``snapshots/``
(a picture with a person event counts as an alarm) and person AP50 on
``coco128/`` (VOC-style all-point interpolated AP at IoU 0.5).

Usage: python bench/eval_clips.py [--data ../shared/data] [--jobs N] [--only clips|images|coco]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from camsift import Settings, scan
from camsift.config import load_config

GRID_S = 0.5
BOUNDARY_S = 1.0
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _covered(t: float, intervals: list[list[float]], pad: float = 0.0) -> bool:
    return any(a - pad <= t <= b + pad for a, b in intervals)


def score_clip(label: dict, events: list[dict]) -> dict:
    """Grid points of one clip: true positives, false positives, false negatives, and where the false ones are."""
    truth = label["person_intervals_s"]
    boundaries = [[x, x] for interval in truth for x in interval]
    ignore = label["uncertain_intervals_s"]
    predicted = [[e["start_s"], e["end_s"]] for e in events if e["label"] == "person"]
    tp = fp = fn = 0
    false_at: list[float] = []
    missed_at: list[float] = []
    for t in np.arange(0, label["last_frame_time_s"] + 1e-9, GRID_S):
        if _covered(t, ignore) or _covered(t, boundaries, BOUNDARY_S):
            continue
        real, said = _covered(t, truth), _covered(t, predicted)
        tp += real and said
        fp += said and not real
        fn += real and not said
        if said and not real:
            false_at.append(round(float(t), 1))
        if real and not said:
            missed_at.append(round(float(t), 1))
    return {"tp": tp, "fp": fp, "fn": fn, "false_at": false_at, "missed_at": missed_at}


def eval_clips(data: Path, settings: Settings, jobs: int | None) -> dict:
    labels = json.loads((data / "clips" / "labels.json").read_text())
    report = scan([data / "clips"], settings, jobs=jobs, force=True).to_dict()
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    per_clip = {}
    total = {"tp": 0, "fp": 0, "fn": 0}
    for name, label in sorted(labels.items()):
        result = score_clip(label, by_name[name]["events"])
        per_clip[name] = result
        for k in total:
            total[k] += result[k]
    recall = total["tp"] / max(1, total["tp"] + total["fn"])
    precision = total["tp"] / max(1, total["tp"] + total["fp"])
    trees = [e for e in by_name["wavingtrees_15fps.mp4"]["events"] if e["label"] == "person" and e["start_s"] < 15]
    one_by_one = per_clip["intel_one-by-one-person-detection.mp4"]["false_at"]
    return {
        "recall": round(recall, 3),
        "precision": round(precision, 3),
        "waving_trees_events_before_15s": len(trees),
        "one_by_one_false_seconds": one_by_one,
        "per_clip": per_clip,
        "summary": report["summary"],
    }


def eval_pictures(data: Path, settings: Settings, jobs: int | None) -> dict:
    """Person recall on pictures with people, false alarms on pictures without."""
    with_people = ["skimage_astronaut.png", "skimage_camera.png", "ultralytics_bus.jpg", "ultralytics_zidane.jpg"]
    report = scan([data / "images", data / "snapshots"], settings, jobs=jobs, force=True)
    found, alarms, negatives = 0, [], 0
    for f in report.files:
        has_person = any(e.label == "person" for e in f.events)
        if f.path.name in with_people:
            found += has_person
        else:
            negatives += 1
            if has_person:
                alarms.append(str(f.path.relative_to(data)))
    return {
        "person_recall": f"{found}/{len(with_people)}",
        "false_alarms": f"{len(alarms)}/{negatives}",
        "false_alarm_files": alarms,
    }


def _ap(scores: np.ndarray, hits: np.ndarray, positives: int) -> float:
    order = np.argsort(-scores)
    tp = hits[order].astype(float)
    recall = np.cumsum(tp) / max(1, positives)
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    recall = np.concatenate([[0.0], recall])
    return float(np.sum((recall[1:] - recall[:-1]) * precision))


def eval_coco(data: Path, settings: Settings, jobs: int | None) -> dict:
    """Person AP50 on coco128 through the still-picture pipeline (all detections >= the floor)."""
    from PIL import Image

    low = load_config(
        None,
        overrides={
            "data_dir": str(settings.data_dir),
            "objects.default.min_confidence": 0.05,
            "events.still_min_confidence": 0.05,
        },
    )
    report = scan([data / "coco128" / "images"], low, jobs=jobs, force=True)
    scores, hits, positives = [], [], 0
    for f in report.files:
        w, h = Image.open(f.path).size
        label_file = f.path.parents[2] / "labels" / f.path.parent.name / f"{f.path.stem}.txt"
        rows = [line.split() for line in label_file.read_text().splitlines()] if label_file.exists() else []
        truth = [
            [
                (float(x) - float(bw) / 2) * w,
                (float(y) - float(bh) / 2) * h,
                (float(x) + float(bw) / 2) * w,
                (float(y) + float(bh) / 2) * h,
            ]
            for c, x, y, bw, bh in rows
            if c == "0"
        ]
        positives += len(truth)
        used = set()
        for e in sorted((e for e in f.events if e.label == "person"), key=lambda e: -e.confidence):
            best, best_iou = None, 0.5
            for i, t in enumerate(truth):
                if i in used:
                    continue
                iou = _iou(e.box_xyxy, t)
                if iou >= best_iou:
                    best, best_iou = i, iou
            scores.append(e.confidence)
            hits.append(best is not None)
            if best is not None:
                used.add(best)
    return {"person_ap50": round(_ap(np.array(scores), np.array(hits), positives), 3), "persons": positives}


def _iou(a: tuple[float, ...] | list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--only", choices=["clips", "images", "coco"], action="append")
    args = parser.parse_args()
    if not (args.data / "clips" / "labels.json").exists():
        print(f"no labelled data at {args.data}", file=sys.stderr)
        return 2
    parts = args.only or ["clips", "images", "coco"]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_config(args.config, overrides={"data_dir": tmp})
        out = {}
        if "clips" in parts:
            out["clips"] = eval_clips(args.data, settings, args.jobs)
        if "images" in parts:
            out["pictures"] = eval_pictures(args.data, settings, args.jobs)
        if "coco" in parts:
            out["coco128"] = eval_coco(args.data, settings, args.jobs)
    print(json.dumps(out, indent=1))
    if "clips" in out:
        c = out["clips"]
        print(
            f"clips: recall {c['recall']:.3f} (target 0.90), precision {c['precision']:.3f} (target 0.95), "
            f"waving-trees events before 15 s: {c['waving_trees_events_before_15s']}, "
            f"one-by-one false seconds: {len(c['one_by_one_false_seconds'])}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
