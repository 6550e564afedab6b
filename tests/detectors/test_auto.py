"""``auto``: when NanoDet is asked for its second opinion, and what its answers count for.

The two models are replaced by scripted ones (this is about the combination, not the
models: those are tested on real pictures in test_ssdlite.py and test_nanodet.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from camsift.detections import Detections
from camsift.detectors import auto
from camsift.detectors.auto import AutoDetector

Answer = Callable[[int], Detections]
Models = Callable[[Answer, Answer], "Scripted"]


def found(*rows: tuple[str, float, list[float]]) -> Detections:
    """Detections from ``(label, confidence, xyxy)`` rows."""
    return Detections(
        xyxy=np.array([r[2] for r in rows], np.float32).reshape(-1, 4),
        confidence=np.array([r[1] for r in rows], np.float32),
        label=np.array([r[0] for r in rows], np.str_),
    )


class Scripted:
    """A model that answers by the image's id (its first pixel) and remembers which ids it saw."""

    input_size = (300, 300)

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.seen: list[int] = []

    def detect_batch(self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True) -> list[Detections]:
        ids = [int(image[0, 0, 0]) for image in images]
        self.seen += ids
        return [self.answer(i) for i in ids]


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> Models:
    """Script both models; returns NanoDet's, whose looks the tests count."""
    made: dict[str, Scripted] = {}

    def script(ssdlite: Answer, nanodet: Answer) -> Scripted:
        made["ssdlite"], made["nanodet"] = Scripted(ssdlite), Scripted(nanodet)
        return made["nanodet"]

    monkeypatch.setattr(auto, "_shared", lambda name, *args: made[name])
    return script


def image(i: int) -> npt.NDArray[np.uint8]:
    return np.full((300, 300, 3), i, np.uint8)


PERSON = [100, 50, 160, 250]
NOTHING = found()


def test_a_thorough_look_skips_crops_where_ssdlite_is_sure_when_only_people_are_wanted(models: Models) -> None:
    nanodet = models(lambda i: found(("person", 0.9, PERSON)) if i == 1 else NOTHING, lambda i: NOTHING)

    results = AutoDetector(["person"]).detect_batch([image(1), image(2)], thorough=True)

    assert nanodet.seen == [2]  # crop 1 is explained already
    assert [r.label.tolist() for r in results] == [["person"], []]


def test_a_thorough_look_sees_every_crop_when_other_labels_are_wanted(models: Models) -> None:
    car = found(("car", 0.8, [0, 0, 90, 60]))
    nanodet = models(lambda i: found(("person", 0.9, PERSON)), lambda i: car)

    results = AutoDetector(["person", "car"]).detect_batch([image(1), image(2)], thorough=True)

    assert nanodet.seen == [1, 2]
    assert [sorted(r.label.tolist()) for r in results] == [["car", "person"], ["car", "person"]]


def test_a_fast_look_asks_nothing_when_ssdlite_is_sure_or_sees_nothing(models: Models) -> None:
    nanodet = models(lambda i: found(("person", 0.9, PERSON)) if i == 1 else NOTHING, lambda i: NOTHING)

    AutoDetector(["person"]).detect_batch([image(1), image(2)], thorough=False)

    assert nanodet.seen == []


def test_an_unsure_part_of_a_sure_person_asks_for_no_second_opinion(models: Models) -> None:
    head = [110, 50, 150, 100]  # inside the sure box
    nanodet = models(lambda i: found(("person", 0.9, PERSON), ("person", 0.3, head)), lambda i: NOTHING)

    AutoDetector(["person"]).detect_batch([image(1)], thorough=False)

    assert nanodet.seen == []


def test_an_unsure_person_of_its_own_is_confirmed_by_nanodet(models: Models) -> None:
    other = [200, 60, 250, 240]  # beside the sure one
    nanodet = models(
        lambda i: found(("person", 0.9, PERSON), ("person", 0.3, other)),
        lambda i: found(("person", 0.7, [198, 58, 252, 242])),
    )

    (result,) = AutoDetector(["person"]).detect_batch([image(1)], thorough=False)

    assert nanodet.seen == [1]
    confirmed = result[result.confidence > 0.45]
    assert sorted(confirmed.confidence.tolist()) == pytest.approx([0.5, 0.9])  # the agreed one: mean of 0.3 and 0.7


def test_nanodet_alone_counts_on_a_thorough_look_only_when_sure_and_no_animal(models: Models) -> None:
    answers = {
        1: found(("person", 0.7, PERSON)),  # sure enough alone
        2: found(("person", 0.6, PERSON)),  # not
        3: found(("person", 0.7, PERSON), ("cat", 0.5, [105, 60, 160, 250])),  # the "person" is the cat
    }
    models(lambda i: NOTHING, answers.__getitem__)

    results = AutoDetector(["person"]).detect_batch([image(1), image(2), image(3)], thorough=True)

    assert [len(r) for r in results] == [1, 0, 0]
    assert results[0].confidence.tolist() == pytest.approx([0.7])
