"""Raw detector benchmark: each bundled model alone, no camsift pipeline, filters or ensemble.

Per model (``ssdlite``, ``nanodet``, ``picodet``, ``picodet-320``, ``nanodet-plus`` by default):

* **accuracy** on ``../shared/data/coco128`` (whole pictures, floor ``--floor``): person AP50 and mAP50 over
  the classes present in its labels (71), VOC all-point interpolated AP at IoU 0.5 with greedy matching by
  confidence, as ``bench/eval_clips.py`` computes it. COCO128 comes from COCO train2017, which every COCO
  model here was trained on, so the figures are optimistic; they rank the models.
* **speed**: milliseconds per ``detect`` call (resize, model, decode, NMS; default floor) on 416x416 crops
  of COCO128 pictures, with 1 and 2 ONNX Runtime threads, and the ratio to SSDLite measured in the same run:
  the models take turns, round after round, and each figure is the median over rounds. Wall time, and the
  process's CPU time (all threads), which other processes' load disturbs less.
* **false-person risk** on pictures without people (``snapshots/porch_night/cat``, ``.../raccoon``,
  ``snapshots/serengeti_gallery``): the highest person confidence per folder, how many pictures have a
  person >= 0.5, and, for COCO models, the animal scores on the box holding that person (its cell's
  ``Detections.data["animal_score"]``, and the best animal box over it) and how many pictures keep a
  person >= 0.5 once a person beaten by an animal score is dropped (`false_people`).

Figures move by 10-30 % on a shared 2-core machine: compare ratios measured in the same run.

Usage: python bench/models.py [--data ../shared/data] [--models ssdlite,picodet,...] [--rounds 5] [--floor 0.05]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from camsift.boxes import box_ios
from camsift.detections import Detections
from camsift.detectors import Detector, create
from camsift.detectors.coco import ANIMALS, COCO80
from camsift.detectors.gfl import ANIMAL_SCORE

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MODELS = ("ssdlite", "nanodet", "picodet", "picodet-320", "nanodet-plus")
BASELINE = "ssdlite"
NO_PEOPLE = ("snapshots/porch_night/cat", "snapshots/porch_night/raccoon", "snapshots/serengeti_gallery")
CROP = 416
CROPS = 16
SURE = 0.5

Truth = tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]


class Cost(NamedTuple):
    """Milliseconds per call: wall clock, and CPU time of the process (all its threads)."""

    wall: float
    cpu: float


def rgb(path: Path) -> npt.NDArray[np.uint8]:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"{path}: not a readable image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.uint8, copy=False)


def coco128(data: Path) -> list[tuple[npt.NDArray[np.uint8], Truth]]:
    """COCO128 pictures (RGB) with their ground truth: ``xyxy`` pixel boxes and COCO labels."""
    samples = []
    for path in sorted((data / "coco128" / "images" / "train2017").glob("*.jpg")):
        image = rgb(path)
        h, w = image.shape[:2]
        labels = data / "coco128" / "labels" / "train2017" / f"{path.stem}.txt"
        rows = np.loadtxt(labels, ndmin=2).reshape(-1, 5) if labels.exists() else np.zeros((0, 5))
        centre, size = rows[:, 1:3] * [w, h], rows[:, 3:5] * [w, h]
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        samples.append((image, (boxes, np.asarray(COCO80, np.str_)[rows[:, 0].astype(int)])))
    return samples


def ap50(found: list[Detections], truth: list[Truth], label: str) -> float:
    """VOC all-point AP at IoU 0.5 for ``label``: each detection, best first, takes the unmatched true box it
    overlaps most if IoU >= 0.5; AP sums, over hits, 1 / positives x the best precision at that recall or beyond."""
    import supervision as sv

    confidence: list[float] = []
    hit: list[bool] = []
    positives = 0
    for d, (boxes, labels) in zip(found, truth, strict=True):
        gt, mine = boxes[labels == label], d[d.label == label]
        positives += len(gt)
        overlap = sv.box_iou_batch(mine.xyxy.astype(np.float64), gt) if len(gt) and len(mine) else None
        free = np.ones(len(gt), bool)
        for i in np.argsort(-mine.confidence, kind="stable"):
            j = int(np.argmax(np.where(free, overlap[i], -1.0))) if overlap is not None else -1
            matched = j >= 0 and free[j] and overlap is not None and overlap[i, j] >= 0.5
            if matched:
                free[j] = False
            confidence.append(float(mine.confidence[i]))
            hit.append(matched)
    if not positives or not hit:
        return 0.0
    order = np.argsort(-np.asarray(confidence), kind="stable")
    hits = np.asarray(hit)[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    best_beyond = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(best_beyond[hits]) / positives)


def accuracy(detector: Detector, samples: list[tuple[npt.NDArray[np.uint8], Truth]]) -> tuple[float, float | None]:
    """Person AP50 and, for a COCO model, mAP50 over the classes present in ``samples``."""
    found = [detector.detect(image) for image, _ in samples]
    truth = [t for _, t in samples]
    person = ap50(found, truth, "person")
    if detector.labels == {"person"}:
        return person, None
    present = sorted({str(label) for _, labels in truth for label in labels})
    return person, float(np.mean([ap50(found, truth, label) for label in present]))


def crops(samples: list[tuple[npt.NDArray[np.uint8], Truth]]) -> list[npt.NDArray[np.uint8]]:
    """`CROPS` centre crops of `CROP` x `CROP` pixels (smaller where a picture is), like the pipeline's crops."""
    result = []
    for image, _ in samples[:CROPS]:
        h, w = image.shape[:2]
        top, left = max(0, (h - CROP) // 2), max(0, (w - CROP) // 2)
        result.append(np.ascontiguousarray(image[top : top + CROP, left : left + CROP]))
    return result


def speed(names: list[str], images: list[npt.NDArray[np.uint8]], threads: int, rounds: int) -> dict[str, Cost]:
    """Median wall and CPU ms per `detect` over ``rounds``; the models take turns so that load hits them alike."""
    detectors = {name: create(name, threads=threads) for name in names}
    for detector in detectors.values():
        detector.detect(images[0])  # warm-up: the first run allocates
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name, detector in detectors.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            for image in images:
                detector.detect(image)
            wall[name].append(1000 * (time.perf_counter() - start) / len(images))
            cpu[name].append(1000 * (time.process_time() - start_cpu) / len(images))
    return {name: Cost(statistics.median(wall[name]), statistics.median(cpu[name])) for name in names}


def false_people(detector: Detector, folder: Path) -> str:
    """Highest person confidence in ``folder`` (pictures without people) and what the animal scores say of it.

    Two vetoes are counted: a person whose cell scores an animal at least as high (``animal_score``), and,
    besides, a person lying inside (intersection over its own area >= 0.5) an animal box found with at least
    its confidence.
    """
    worst, cell, near = 0.0, float("nan"), float("nan")
    sure = kept_cell = kept_both = 0
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
        found = detector.detect(rgb(path))
        people, animals = found[found.label == "person"], found[np.isin(found.label, sorted(ANIMALS))]
        if not len(people):
            continue
        in_cell = people.data.get(ANIMAL_SCORE, np.full(len(people), np.nan))
        inside = box_ios(people.xyxy, animals.xyxy) >= 0.5
        overlapping = np.where(inside, animals.confidence[None, :], 0).max(axis=1, initial=0)
        if people.confidence[0] > worst:
            worst, cell, near = float(people.confidence[0]), float(in_cell[0]), float(overlapping[0])
        strong = people.confidence >= SURE
        sure += bool(strong.any())
        by_cell = strong & ~(in_cell >= people.confidence)
        kept_cell += bool(by_cell.any())
        kept_both += bool((by_cell & (overlapping < people.confidence)).any())
    line = f"max person {worst:.2f}, pictures with person >= {SURE}: {sure}"
    if not np.isnan(cell):
        line += f"; on that box animal {cell:.2f} (cell), {near:.2f} (animal box over it)"
        line += f"; pictures left after the veto: {kept_cell} (cell), {kept_both} (cell or animal box)"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated registry names")
    parser.add_argument("--rounds", type=int, default=5, help="speed rounds per thread count")
    parser.add_argument("--floor", type=float, default=0.05, help="min_confidence for accuracy and false people")
    args = parser.parse_args()
    names = args.models.split(",")
    if not (args.data / "coco128").is_dir():
        print(f"no COCO128 at {args.data / 'coco128'}", file=sys.stderr)
        return 2
    samples = coco128(args.data)
    timed = [BASELINE, *[n for n in names if n != BASELINE]]
    ms = {threads: speed(timed, crops(samples), threads, args.rounds) for threads in (1, 2)}
    for name in names:
        detector = create(name, threads=2, min_confidence=args.floor)
        person, mean = accuracy(detector, samples)
        ratios = ", ".join(
            f"{t} thread{'s' * (t > 1)} {ms[t][name].wall:.1f} ms ({ms[t][name].wall / ms[t][BASELINE].wall:.2f}x "
            f"{BASELINE}; CPU {ms[t][name].cpu:.1f} ms, {ms[t][name].cpu / ms[t][BASELINE].cpu:.2f}x)"
            for t in (1, 2)
        )
        print(f"{name}: coco128 person AP50 {person:.3f}, mAP50 {'-' if mean is None else f'{mean:.3f}'}; {ratios}")
        for folder in NO_PEOPLE:
            print(f"  {folder}: {false_people(detector, args.data / folder)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
