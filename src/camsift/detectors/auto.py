"""``auto``: both local models, each doing what it is best at.

People come first from SSDLite-MobileNetV2, a person-only model that is fast
and rarely fooled by animals. Two things widen that:

* Where SSDLite is unsure (0.15 <= confidence < 0.5), NanoDet-m looks at the
  same crop, and its person box counts if it is sure (>= 0.5) and overlaps
  SSDLite's (the models agree), with the mean of the two confidences.
* On a thorough pass (the pipeline asks for one every ``detect.thorough_s``), NanoDet looks
  at every crop, and a person it alone sees counts only at >= 0.65 and when no
  animal box of its own lies over it.

NanoDet costs nearly two SSDLite runs (int8: 26 against 15 ms a crop), so it is not asked
what it cannot change. When ``person`` is the only label wanted, it skips the
crops of a thorough pass in which SSDLite is already sure of a person, and an
unsure SSDLite box lying mostly inside a sure one (a part of that person)
asks for no second opinion. On the shared clips this took NanoDet from 694 to
about 560 crops with the same person-second recall; what it gives up is a
second person, in the same crop as a sure one, whom only NanoDet sees (one of
47 events on the shared clips, in a crowd of twenty).

NanoDet calls a cat a person (0.59 in ``shared/notes/models.md``; 0.33 with
camsift's preprocessing), so it never decides "person" near that level alone:
on the 113 shared pictures without people (porch cats and raccoons at night,
camera-trap animals, traffic), NanoDet's best person was 0.57. The thorough
pass finds people SSDLite does not: a woman in a grey sweater seen from
behind for 27 s scores SSDLite 0.00-0.40 and NanoDet 0.75-0.82.

Every label other than person comes from NanoDet (on thorough passes, and
wherever it looks anyway). Loaded models are shared per process, so building
one `AutoDetector` per camera costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np
import numpy.typing as npt

from camsift.boxes import box_ios
from camsift.detections import Detections
from camsift.detectors import Detector, create, register
from camsift.detectors.runtime import CPU

__all__ = ["PERSON_MAYBE", "PERSON_SURE", "AutoDetector"]

PERSON_SURE = 0.5
"""SSDLite person confidence from which it decides alone."""

PERSON_MAYBE = 0.15
"""SSDLite person confidence from which NanoDet is asked for a second look."""

CONFIRM_IOS = 0.5
"""Overlap between the two models' person boxes that counts as agreement, as
intersection over the smaller box: SSDLite's unsure box is often a part of the person."""

ALONE = 0.65
"""NanoDet person confidence from which it counts without SSDLite (thorough passes only)."""

ANIMALS = frozenset(
    {"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "teddy bear"}
)
"""COCO labels whose box over a NanoDet-only person vetoes it."""


@cache
def _shared(name: str, threads: int, floor: float, providers: tuple[str, ...]) -> Detector:
    return create(name, threads=threads, min_confidence=floor, providers=providers)


@register("auto")
class AutoDetector:
    """SSDLite for ``person``, with NanoDet's second opinion; NanoDet for other labels.

    Args:
        labels: Labels wanted.
        threads: ONNX Runtime threads per model.
        providers: ONNX Runtime execution providers, best first (`runtime.choose_providers`).

    Raises:
        DetectorError: a model file is missing or onnxruntime is not installed.
    """

    name = "auto"

    def __init__(
        self, labels: Iterable[str] = ("person",), threads: int = 2, providers: Sequence[str] = (CPU,)
    ) -> None:
        wanted, chosen = set(labels), tuple(providers)
        self._person = _shared("ssdlite", threads, 0.1, chosen) if "person" in wanted else None
        self._coco = _shared("nanodet", threads, 0.25, chosen)
        self._other_labels = np.asarray(sorted(wanted - {"person"}), np.str_)
        self.labels = frozenset(wanted)
        parts = [d for d in (self._person, self._coco) if d is not None]
        self.input_size = min((d.input_size for d in parts), key=min)

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """See `Detector.detect` (a thorough pass)."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True) -> list[Detections]:
        """See `Detector.detect_batch`; ``thorough`` runs NanoDet on every image SSDLite leaves in doubt
        (`_worth_a_second_look`)."""
        empty = Detections.empty()
        people = self._person.detect_batch(images) if self._person else [empty] * len(images)
        others = len(self._other_labels) > 0 or self._person is None
        look = [i for i, first in enumerate(people) if _worth_a_second_look(first, thorough, others)]
        coco = dict(zip(look, self._coco.detect_batch([images[i] for i in look]), strict=True))
        results = []
        for i, first in enumerate(people):
            second = coco.get(i, empty)
            parts = [first[first.confidence >= PERSON_MAYBE], second[np.isin(second.label, self._other_labels)]]
            if self._person is not None and i in coco:
                parts.append(_second_opinion(first, second, alone=thorough))
            results.append(Detections.merge(parts))
        return results


def _worth_a_second_look(first: Detections, thorough: bool, others: bool) -> bool:
    """Whether NanoDet should look at an image in which SSDLite found ``first``.

    On a thorough pass: always when labels other than person are wanted (``others``),
    else when SSDLite is sure of no person there. On any pass: when an unsure person
    box of SSDLite's lies mostly outside every sure one (`CONFIRM_IOS`), so that it may
    be a person of its own.
    """
    sure = first[first.confidence >= PERSON_SURE]
    if thorough and (others or not len(sure)):
        return True
    unsure = first[(first.confidence >= PERSON_MAYBE) & (first.confidence < PERSON_SURE)]
    return bool(np.any(box_ios(unsure.xyxy, sure.xyxy).max(axis=1, initial=0) < CONFIRM_IOS))


def _second_opinion(first: Detections, second: Detections, alone: bool) -> Detections:
    """NanoDet's person boxes that count: sure and overlapping SSDLite's unsure ones, or
    (``alone``) at least `ALONE` with no NanoDet animal box over them."""
    people = second[(second.label == "person") & (second.confidence >= PERSON_SURE)]
    if not len(people):
        return people
    unsure = first[(first.confidence >= PERSON_MAYBE) & (first.confidence < PERSON_SURE)]
    overlap = box_ios(people.xyxy, unsure.xyxy)
    agreed = overlap.max(axis=1, initial=0) >= CONFIRM_IOS
    confidence = people.confidence.copy()
    if len(unsure):
        partner = unsure.confidence[overlap.argmax(axis=1)]
        confidence = np.where(agreed, (people.confidence + partner) / 2, confidence)
    if alone:
        animals = second[np.isin(second.label, list(ANIMALS))]
        free = box_ios(people.xyxy, animals.xyxy).max(axis=1, initial=0) < CONFIRM_IOS
        lone = (people.confidence >= ALONE) & free
        confidence = np.where(lone, np.maximum(confidence, people.confidence), confidence)
        agreed |= lone
    return people.replace(confidence=confidence)[agreed]
