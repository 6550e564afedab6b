"""``auto``: two COCO-80 models, the cheap one everywhere, the strong one where it can change the answer.

PP-PicoDet-S (``picodet``: about SSDLite's cost, person AP50 0.68 on COCO128) looks at every crop the
pipeline plans. NanoDet-Plus-m-1.5x (``nanodet-plus``: about 2.4 PicoDet runs, person AP50 0.71) is the
second opinion:

* Where PicoDet is unsure of a person (`PERSON_MAYBE` <= confidence < `PERSON_SURE`), NanoDet-Plus looks at
  the same crop; where it sees the same person (the models agree, `AGREE_IOU`), the surer box counts.
* On a thorough look (the pipeline asks for one every ``detect.thorough_s``, and again where the last one
  found something new), NanoDet-Plus looks at every crop in which PicoDet is sure of no person, or of
  anything when labels other than person are wanted; a person only it sees counts from `ALONE`.
* Each person box carries what NanoDet-Plus said of it (`SECOND_OPINION`). Given back as ``earlier``, a fast
  look does not ask again where every unsure person is one NanoDet-Plus already found no person in
  (`_recalled`): a roadside post PicoDet calls a person at 0.3 in every look is asked about once per thorough
  look, not in every look.

A COCO-80 model scores animals too, and both models give a raccoon, a cat or a deer in the dark some person
score: a person box is dropped when it is better explained as an animal (`_not_animals`): the animal score of
the cell it came from beats its person score, or an animal box of either model lies over it and is surer.

Every label other than person comes from PicoDet (and NanoDet-Plus where it looks anyway). Loaded models
are shared per process, so building one `AutoDetector` per camera costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np
import numpy.typing as npt

from camsift.boxes import box_iou, nms
from camsift.detections import Detections
from camsift.detectors import SECOND_OPINION, Detector, create, register
from camsift.detectors.coco import ANIMALS
from camsift.detectors.gfl import ANIMAL_SCORE, PERSON_SCORE
from camsift.detectors.runtime import CPU

__all__ = ["ALONE", "PERSON_MAYBE", "PERSON_SURE", "AutoDetector"]

FIRST, SECOND = "picodet", "nanodet-plus"
"""The cheap model that looks everywhere, and the strong one asked where it can change the answer."""

PERSON_SURE = 0.5
"""PicoDet person confidence from which it decides alone."""

PERSON_MAYBE = 0.25
"""PicoDet person confidence from which NanoDet-Plus is asked for a second look (PicoDet's floor)."""

AGREE_IOU = 0.5
"""IoU of the two models' person boxes from which they see the same person (PASCAL VOC's match criterion)."""

ALONE = 0.5
"""NanoDet-Plus person confidence from which a person only it sees counts (thorough looks only)."""

CROWD_SURE = 2
"""On a fast look, a crop in which PicoDet is sure of this many people (a crowd) gets no second opinion on the
unsure ones: in a crowd nearly every crop holds an unsure person, and NanoDet-Plus (2.4 PicoDet runs) looked at
73 % of a busy street's crops; the thorough look every ``detect.thorough_s`` still asks it. One sure person is
not a crowd: the second opinion beside it also brings the animal evidence that vetoes a look-alike."""

ANIMAL_OVER_IOS = 0.5
"""An animal box covering this much of a person box (intersection over the person box) explains it."""

FLOOR = 0.1
"""Confidence below which neither model reports a box (their own NMS candidates start here)."""


@cache
def _shared(name: str, threads: int, providers: tuple[str, ...]) -> Detector:
    return create(name, threads=threads, min_confidence=FLOOR, providers=providers)


@register("auto")
class AutoDetector:
    """PicoDet everywhere, NanoDet-Plus where PicoDet is unsure or a thorough look is due; no animal is a person.

    Args:
        labels: Labels wanted (NanoDet-Plus looks at crops PicoDet is sure of only when labels other than
            ``person`` are wanted).
        threads: ONNX Runtime threads per model.
        providers: ONNX Runtime execution providers, best first (`runtime.choose_providers`).

    Raises:
        DetectorError: a model file is missing or onnxruntime is not installed.
    """

    name = "auto"

    def __init__(
        self, labels: Iterable[str] = ("person",), threads: int = 2, providers: Sequence[str] = (CPU,)
    ) -> None:
        chosen = tuple(providers)
        self._first = _shared(FIRST, threads, chosen)
        self._second = _shared(SECOND, threads, chosen)
        self._others = bool(set(labels) - {"person"})
        self.labels = self._first.labels
        self.input_size = self._first.input_size

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """See `Detector.detect` (a thorough look)."""
        return self.detect_batch([image])[0]

    def detect_batch(
        self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
    ) -> list[Detections]:
        """See `Detector.detect_batch`: PicoDet on every image, NanoDet-Plus on those `_worth_a_second_look`
        unless, on a fast look, ``earlier`` already holds its answer (`_recalled`).

        Returns:
            One `Detections` per image (COCO labels, image pixels), person boxes vetted (`_not_animals`) and
            carrying `SECOND_OPINION` where NanoDet-Plus looked at this image.
        """
        firsts = self._first.detect_batch(images)
        worth = [_worth_a_second_look(first, thorough, self._others) for first in firsts]
        recalled = [
            _recalled(first, earlier[i]) if worth[i] and earlier and not thorough else None
            for i, first in enumerate(firsts)
        ]
        look = [i for i in range(len(images)) if worth[i] and recalled[i] is None]
        seconds = dict(zip(look, self._second.detect_batch([images[i] for i in look]), strict=True))
        return [
            _combine(first, seconds.get(i), thorough) if (known := recalled[i]) is None else known
            for i, first in enumerate(firsts)
        ]


def _persons(d: Detections) -> npt.NDArray[np.bool_]:
    return np.asarray(d.label == "person")


def _worth_a_second_look(first: Detections, thorough: bool, others: bool) -> bool:
    """Whether NanoDet-Plus should look at an image in which PicoDet found ``first``: on a thorough look when
    other labels are wanted or PicoDet is sure of no person; on a fast look when PicoDet is unsure of a person
    and sure of none (`CROWD_SURE`)."""
    people = first.confidence[_persons(first)]
    sure = int(np.count_nonzero(people >= PERSON_SURE))
    if thorough and (others or not sure):
        return True
    return sure < CROWD_SURE and bool(np.any((people >= PERSON_MAYBE) & (people < PERSON_SURE)))


def _recalled(first: Detections, earlier: Detections) -> Detections | None:
    """The detections of an image in which PicoDet found ``first``, with NanoDet-Plus's earlier answers, when
    every person PicoDet is unsure of lies where NanoDet-Plus found no person before: IoU >= `AGREE_IOU` with a
    box of ``earlier`` (this image's pixels) whose `SECOND_OPINION` is below `PERSON_MAYBE`, PicoDet's own floor.

    A fast look asks NanoDet-Plus only about the unsure people, so where it already turned each of them down,
    asking again about the same pixels gives the same answer; the thorough look every ``detect.thorough_s``
    still asks. Anything unsure elsewhere is asked about.

    Returns:
        ``first`` with each unsure person's confidence fused with that earlier answer as `_combine` does (the
        mean where NanoDet-Plus gave the person any confidence), `SECOND_OPINION` NaN (it did not look now),
        people vetted (`_not_animals`); or ``None``: NanoDet-Plus should look.
    """
    said = earlier.data.get(SECOND_OPINION)
    unsure = _persons(first) & (first.confidence >= PERSON_MAYBE) & (first.confidence < PERSON_SURE)
    if said is None or not unsure.any():
        return None
    doubted = earlier[(earlier.label == "person") & (np.nan_to_num(said, nan=1.0) < PERSON_MAYBE)]
    iou = box_iou(first.xyxy[unsure], doubted.xyxy)
    if not len(doubted) or not np.all(iou.max(axis=1) >= AGREE_IOU):
        return None
    answer = doubted.data[SECOND_OPINION][iou.argmax(axis=1)]
    conf = first.confidence.copy()
    conf[unsure] = np.where(answer > 0, (conf[unsure] + answer) / 2, conf[unsure])
    fused = first.replace(confidence=conf).with_data(**{SECOND_OPINION: np.full(len(first), np.nan, np.float32)})
    return _not_animals(fused, first)


def _combine(first: Detections, second: Detections | None, thorough: bool) -> Detections:
    """One image's detections from PicoDet's ``first`` and NanoDet-Plus's ``second`` (``None``: it did not look).

    Person boxes of the two models that agree (IoU >= `AGREE_IOU`) are one person, kept as the surer box; a
    person only NanoDet-Plus sees counts on a thorough look from `ALONE`. Other labels: PicoDet's, plus
    NanoDet-Plus's labels PicoDet did not report. Where ``second`` is given, each person box carries
    `SECOND_OPINION`: NanoDet-Plus's confidence in it (0 where it saw no such person).
    """
    if second is None:
        return _not_animals(first, first)
    first_people, second_people = first[_persons(first)], second[_persons(second)]
    iou = box_iou(first_people.xyxy, second_people.xyxy)
    partner = iou.argmax(axis=1) if len(second_people) else np.zeros(len(first_people), int)
    matched = iou.max(axis=1, initial=0.0) >= AGREE_IOU
    conf, said = first_people.confidence, np.zeros(len(first_people), np.float32)
    if len(second_people):  # seen by both: the mean of the two (score averaging, as in weighted box fusion)
        said = np.where(matched, second_people.confidence[partner], said)
        conf = np.where(matched, (conf + said) / 2, conf)
    fused = first_people.replace(confidence=conf.astype(np.float32)).with_data(**{SECOND_OPINION: said})
    agree = iou.max(axis=0, initial=0.0) >= AGREE_IOU if len(first_people) else np.zeros(len(second_people), bool)
    alone = second_people[~agree & thorough & (second_people.confidence >= ALONE)]
    alone = alone.with_data(**{SECOND_OPINION: alone.confidence})
    people = nms(Detections.merge([fused, alone]), AGREE_IOU)
    others = [first[~_persons(first)], second[~_persons(second) & ~np.isin(second.label, first.label)]]
    return _not_animals(Detections.merge([people, *others]), Detections.merge([first, second]))


def _not_animals(d: Detections, evidence: Detections) -> Detections:
    """``d`` without the person boxes better explained as an animal: the cell's ``animal_score`` reaches its
    ``person_score``, or an animal box of ``evidence`` covers it (`ANIMAL_OVER_IOS`) and is at least as sure."""
    people = _persons(d)
    if not people.any():
        return d
    cell_animal = d.data.get(ANIMAL_SCORE)
    cell_person = d.data.get(PERSON_SCORE)
    animal_cell = (
        np.zeros(len(d), bool)
        if cell_animal is None or cell_person is None
        else np.nan_to_num(cell_animal) >= np.nan_to_num(cell_person, nan=1.0)
    )
    beasts = evidence[np.isin(evidence.label, list(ANIMALS))]
    cover = _inside(d.xyxy, beasts.xyxy) >= ANIMAL_OVER_IOS
    surer = beasts.confidence[None, :] >= d.confidence[:, None]
    animal_box = np.any(cover & surer, axis=1) if len(beasts) else np.zeros(len(d), bool)
    return d[~(people & (animal_cell | animal_box))]


def _inside(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """``(n, m)``: the share of each box of ``a`` ``(n, 4)`` that each box of ``b`` ``(m, 4)`` covers (xyxy)."""
    wh = np.clip(np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2]), 0, None)
    area = np.prod(a[:, 2:] - a[:, :2], axis=1)[:, None]
    return np.asarray(wh[..., 0] * wh[..., 1] / np.maximum(area, 1e-9), np.float64)
