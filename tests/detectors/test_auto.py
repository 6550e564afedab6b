"""``auto``: when NanoDet-Plus is asked for its second opinion, what its answers count for, and no animal is a person.

The two models are replaced by scripted ones for the combination rules (the models themselves are tested on
real pictures in test_picodet.py and test_nanodet_plus.py); the last tests run the real models on real pictures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from camsift.detections import Detections
from camsift.detectors import SECOND_OPINION, auto, create
from camsift.detectors.auto import ALONE, AutoDetector
from camsift.media import frames

Answer = Callable[[int], Detections]


def found(*rows: tuple[str, float, Sequence[float]], animal: float = 0.0) -> Detections:
    """Detections from ``(label, confidence, xyxy)`` rows; each cell's person score is its person box's
    confidence and its animal score ``animal``, as the GFL backends report them."""
    confidence = np.array([r[1] for r in rows], np.float32)
    label = np.array([r[0] for r in rows], np.str_)
    return Detections(
        xyxy=np.array([r[2] for r in rows], np.float32).reshape(-1, 4),
        confidence=confidence,
        label=label,
        data={
            "person_score": np.where(label == "person", confidence, 0.0).astype(np.float32),
            "animal_score": np.full(len(rows), animal, np.float32),
        },
    )


class Scripted:
    """A model that answers by the image's id (its first pixel) and remembers which ids it saw."""

    input_size = (416, 416)
    labels = frozenset({"person", "cat", "dog", "car"})

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.seen: list[int] = []

    def detect_batch(self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True) -> list[Detections]:
        ids = [int(image[0, 0, 0]) for image in images]
        self.seen += ids
        return [self.answer(i) for i in ids]


Models = Callable[[Answer, Answer], Scripted]


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> Models:
    """Script both models; returns NanoDet-Plus's, whose looks the tests count."""
    made: dict[str, Scripted] = {}

    def script(picodet: Answer, nanodet_plus: Answer) -> Scripted:
        made[auto.FIRST], made[auto.SECOND] = Scripted(picodet), Scripted(nanodet_plus)
        return made[auto.SECOND]

    monkeypatch.setattr(auto, "_shared", lambda name, *args: made[name])
    return script


def image(i: int) -> npt.NDArray[np.uint8]:
    return np.full((416, 416, 3), i, np.uint8)


PERSON = [100, 50, 160, 250]
NOTHING = found()


def people(d: Detections) -> list[tuple[float, list[float]]]:
    person = d[d.label == "person"]
    return [(round(float(c), 3), [float(v) for v in b]) for c, b in zip(person.confidence, person.xyxy, strict=True)]


def test_a_fast_look_asks_nothing_when_picodet_is_sure_or_sees_nothing(models: Models) -> None:
    second = models(lambda i: found(("person", 0.9, PERSON)) if i == 1 else NOTHING, lambda i: NOTHING)

    results = AutoDetector(["person"]).detect_batch([image(1), image(2)], thorough=False)

    assert second.seen == []
    assert people(results[0]) == [(0.9, PERSON)]
    assert people(results[1]) == []


def test_an_unsure_person_is_looked_at_again_and_counts_with_the_mean_of_both(models: Models) -> None:
    second = models(lambda i: found(("person", 0.4, PERSON)), lambda i: found(("person", 0.8, [102, 52, 162, 248])))

    (result,) = AutoDetector(["person"]).detect_batch([image(3)], thorough=False)

    assert second.seen == [3]
    assert people(result) == [(0.6, PERSON)]


def test_a_fast_look_asks_nothing_about_an_unsure_person_in_a_crowd(models: Models) -> None:
    other = [300, 50, 360, 250]
    crowd = found(("person", 0.9, PERSON), ("person", 0.8, other), ("person", 0.4, [200, 50, 260, 250]))
    second = models(lambda i: crowd, lambda i: found(("person", 0.8, [202, 52, 262, 248])))

    (fast,) = AutoDetector(["person"]).detect_batch([image(3)], thorough=False)
    (thorough,) = AutoDetector(["person"]).detect_batch([image(4)], thorough=True)

    assert second.seen == []  # sure of two people in each: a thorough look asks only where it is sure of none
    assert people(fast) == [(0.9, PERSON), (0.8, [300.0, 50.0, 360.0, 250.0]), (0.4, [200.0, 50.0, 260.0, 250.0])]
    assert people(thorough) == people(fast)


def test_an_unsure_person_beside_one_sure_person_is_looked_at_again(models: Models) -> None:
    pair = found(("person", 0.9, PERSON), ("person", 0.4, [200, 50, 260, 250]))
    second = models(lambda i: pair, lambda i: found(("person", 0.8, [202, 52, 262, 248])))

    (fast,) = AutoDetector(["person"]).detect_batch([image(3)], thorough=False)

    assert second.seen == [3]
    assert people(fast) == [(0.9, PERSON), (0.6, [200.0, 50.0, 260.0, 250.0])]


def test_a_thorough_look_skips_crops_where_picodet_is_sure_when_only_people_are_wanted(models: Models) -> None:
    second = models(lambda i: found(("person", 0.9, PERSON)) if i == 1 else NOTHING, lambda i: NOTHING)

    AutoDetector(["person"]).detect_batch([image(1), image(2)], thorough=True)

    assert second.seen == [2]


def test_a_thorough_look_sees_every_crop_when_other_labels_are_wanted(models: Models) -> None:
    second = models(lambda i: found(("person", 0.9, PERSON)), lambda i: found(("car", 0.7, [200, 200, 400, 300])))

    results = AutoDetector(["person", "car"]).detect_batch([image(1), image(2)], thorough=True)

    assert second.seen == [1, 2]
    assert [sorted(r.label.tolist()) for r in results] == [["car", "person"], ["car", "person"]]


def opinions(*rows: tuple[float, Sequence[float]]) -> Detections:
    """Person boxes with what NanoDet-Plus said of each (`SECOND_OPINION`), as `RegionDetector` gives them back."""
    said = np.array([r[0] for r in rows], np.float32)
    boxes = np.array([r[1] for r in rows], np.float32).reshape(-1, 4)
    return Detections(boxes, np.full(len(rows), 0.3), np.full(len(rows), "person"), data={SECOND_OPINION: said})


def test_an_unsure_person_carries_what_nanodet_plus_said_of_it(models: Models) -> None:
    models(
        lambda i: found(("person", 0.3, PERSON), ("person", 0.4, [300, 50, 360, 250])),
        lambda i: found(("person", 0.8, [302, 52, 362, 248])),
    )

    (asked,) = AutoDetector(["person"]).detect_batch([image(3)], thorough=False)

    assert sorted(asked.data[SECOND_OPINION].tolist()) == [0.0, pytest.approx(0.8)]  # none at PERSON; 0.8 at the other


def test_a_fast_look_does_not_ask_again_where_nanodet_plus_turned_the_unsure_person_down(models: Models) -> None:
    second = models(lambda i: found(("person", 0.3, PERSON)), lambda i: NOTHING)
    detector = AutoDetector(["person"])

    fast, thorough = (
        detector.detect_batch([image(3)], thorough=t, earlier=[opinions((0.12, [101, 50, 160, 251]))])[0]
        for t in (False, True)
    )

    assert second.seen == [3]  # only the thorough look asked
    assert people(fast) == [(0.21, PERSON)]  # fused with the 0.12 it said before, as if it had said it again
    assert np.isnan(fast.data[SECOND_OPINION]).all()  # it did not look now
    assert people(thorough) == [(0.3, PERSON)]


@pytest.mark.parametrize(
    "earlier",
    [
        opinions((0.6, PERSON)),  # it saw a person there
        opinions((0.0, [300, 50, 360, 250])),  # it turned down something elsewhere
        opinions((0.0, PERSON)).with_data(**{SECOND_OPINION: np.array([np.nan], np.float32)}),  # it did not look
    ],
)
def test_a_fast_look_asks_again_unless_each_unsure_person_was_turned_down_there(
    models: Models, earlier: Detections
) -> None:
    second = models(lambda i: found(("person", 0.3, PERSON)), lambda i: NOTHING)

    AutoDetector(["person"]).detect_batch([image(3)], thorough=False, earlier=[earlier])

    assert second.seen == [3]


def test_one_unsure_person_not_turned_down_before_is_enough_to_ask(models: Models) -> None:
    pair = found(("person", 0.3, PERSON), ("person", 0.3, [300, 50, 360, 250]))
    second = models(lambda i: pair, lambda i: NOTHING)

    AutoDetector(["person"]).detect_batch([image(3)], thorough=False, earlier=[opinions((0.0, PERSON))])

    assert second.seen == [3]


@pytest.mark.parametrize(("thorough", "confidence", "counted"), [(True, ALONE, True), (True, ALONE - 0.01, False)])
def test_a_person_only_nanodet_plus_sees_counts_on_a_thorough_look_when_sure(
    models: Models, thorough: bool, confidence: float, counted: bool
) -> None:
    models(lambda i: NOTHING, lambda i: found(("person", confidence, PERSON)))

    (result,) = AutoDetector(["person"]).detect_batch([image(4)], thorough=thorough)

    assert people(result) == ([(round(confidence, 3), PERSON)] if counted else [])


def test_nanodet_plus_alone_never_counts_on_a_fast_look(models: Models) -> None:
    second = models(lambda i: found(("person", 0.3, [300, 300, 340, 400])), lambda i: found(("person", 0.95, PERSON)))

    (result,) = AutoDetector(["person"]).detect_batch([image(5)], thorough=False)

    assert second.seen == [5]
    assert people(result) == [(0.3, [300.0, 300.0, 340.0, 400.0])]


def test_a_person_box_whose_cell_scores_an_animal_higher_is_no_person(models: Models) -> None:
    models(lambda i: found(("person", 0.7, PERSON), animal=0.75), lambda i: NOTHING)

    (result,) = AutoDetector(["person"]).detect_batch([image(6)], thorough=False)

    assert people(result) == []


def test_an_animal_box_over_a_person_box_explains_it_only_when_surer(models: Models) -> None:
    models(
        lambda i: found(("person", 0.6, PERSON), ("cat", 0.7 if i == 7 else 0.5, [95, 45, 165, 255])),
        lambda i: NOTHING,
    )

    covered, unsure_cat = AutoDetector(["person"]).detect_batch([image(7), image(8)], thorough=False)

    assert people(covered) == []
    assert people(unsure_cat) == [(0.6, PERSON)]


def test_a_dog_beside_a_person_leaves_the_person_alone(models: Models) -> None:
    models(lambda i: found(("person", 0.6, PERSON), ("dog", 0.9, [130, 200, 170, 250])), lambda i: NOTHING)

    (result,) = AutoDetector(["person"]).detect_batch([image(9)], thorough=False)

    assert people(result) == [(0.6, PERSON)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("picture", "person"),
    [
        ("images/skimage_astronaut.png", True),
        ("images/skimage_camera.png", True),
        ("images/ultralytics_zidane.jpg", True),
        ("images/skimage_chelsea_cat.png", False),
        ("images/skimage_coffee.png", False),
    ],
)
def test_real_pictures(shared_data: Path, picture: str, person: bool) -> None:
    rgb = next(frames(shared_data / picture)).rgb()

    found_here = create("auto", threads=1).detect(rgb)

    assert (found_here[found_here.label == "person"].confidence >= 0.6).any() == person


@pytest.mark.slow
def test_no_porch_animal_at_night_is_a_sure_person(shared_data: Path) -> None:
    detector = create("auto", threads=1)
    pictures = sorted((shared_data / "snapshots" / "porch_night").glob("[cr]a*/*.jpg"))
    assert len(pictures) >= 10

    best = [
        float(d.confidence[d.label == "person"].max(initial=0.0))
        for d in (detector.detect(next(frames(p)).rgb()) for p in pictures)
    ]

    assert max(best) < 0.6
