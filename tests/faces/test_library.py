"""Matching against the library, one answer per event, grouping unknown faces, notification conditions.

Embeddings here are made up (2-d points), so distances are known exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from camsift.config import FaceRule
from camsift.faces import UNKNOWN
from camsift.faces.library import Library, Match, cluster, decide


def vec(*values: float) -> np.ndarray:
    return np.array(values, np.float32)


ANN, BOB = vec(0, 0), vec(1, 0)
LIBRARY = Library.of([("ann", ANN, False), ("ann", vec(0, 0.2), False), ("bob", BOB, False)])


@pytest.mark.parametrize(
    ("face", "expected"),
    [
        (vec(0, 0.3), Match("ann", 0.1)),  # nearest example of ann, not her first one
        (vec(0.9, 0), Match("bob", 0.1)),
        (vec(0.5, 0.9), Match(None, float(np.hypot(0.5, 0.7)))),  # nearest is ann's second at 0.86: too far
        (vec(0, -0.5), Match(None, 0.5)),  # exactly at the threshold is not a match
    ],
)
def test_match_is_the_nearest_example_below_the_threshold(face: np.ndarray, expected: Match) -> None:
    match = LIBRARY.match(face, max_distance=0.5)

    assert match.name == expected.name
    assert match.distance == pytest.approx(expected.distance, abs=1e-6)


def test_empty_library_knows_nobody() -> None:
    assert Library.of([]).match(ANN, 0.5) == Match(None, None)
    assert Library.of([("ann", ANN, True)]).people == frozenset()


def test_a_negative_example_vetoes_the_match_it_is_closer_to() -> None:
    rows = zip(LIBRARY.names, LIBRARY.embeddings, LIBRARY.negative, strict=True)
    corrected = Library.of([*rows, ("bob", vec(0.7, 0), True)])

    assert corrected.match(vec(0.75, 0), 0.5).name is None  # the wrongly matched face again: unknown
    assert corrected.match(vec(1.1, 0), 0.5).name == "bob"  # bob himself still matches
    assert corrected.match(vec(0.1, 0), 0.5).name == "ann"  # other people are not affected


@pytest.mark.parametrize(
    ("faces", "expected"),
    [
        ([], (None, None)),  # no usable face: no sub_label
        ([(None, 0.7)], (UNKNOWN, None)),
        ([(None, None)], (UNKNOWN, None)),  # empty library
        ([(None, 0.6), (None, 0.7), (None, 0.55)], (UNKNOWN, None)),
        # one face: named only well inside the threshold (0.9 x 0.5 = 0.45)
        ([("ann", 0.3)], ("ann", 0.7)),
        ([("ann", 0.449)], ("ann", 0.551)),
        ([("ann", 0.45)], (UNKNOWN, None)),
        ([("ann", 0.49)], (UNKNOWN, None)),
        # several faces: a strict majority names, and near the threshold is then enough
        ([("ann", 0.49), ("ann", 0.48)], ("ann", 0.52)),
        ([("ann", 0.4), (None, 0.6), ("ann", 0.3)], ("ann", 0.7)),
        ([(None, 0.6), ("ann", 0.49), ("ann", 0.45), ("ann", 0.47)], ("ann", 0.55)),
        ([("ann", 0.1), (None, 0.6)], (UNKNOWN, None)),  # half is no majority, however close
        ([("ann", 0.1), (None, 0.6), (None, 0.55)], (UNKNOWN, None)),
        ([(None, 0.6), ("ann", 0.2), (None, 0.51), ("ann", 0.2)], (UNKNOWN, None)),
        # faces naming different people: say nothing, whatever the majority
        ([("ann", 0.3), ("bob", 0.2)], (UNKNOWN, None)),  # two people in one box
        ([("ann", 0.3), ("ann", 0.2), ("bob", 0.4)], (UNKNOWN, None)),
        ([("ann", 0.0), ("bob", 0.4)], (UNKNOWN, None)),
        # a face named by hand (distance 0: `faces name`, "who is this?") is not a guess
        ([("ann", 0.0), (None, 0.6), (None, None)], ("ann", 1.0)),
    ],
)
def test_decide_names_an_event_only_when_its_faces_agree(
    faces: list[tuple[str | None, float | None]], expected: tuple[str | None, float | None]
) -> None:
    assert decide(faces, max_distance=0.5) == expected


@pytest.mark.parametrize(("max_distance", "expected"), [(0.5, UNKNOWN), (0.6, "ann")])
def test_the_lone_face_margin_follows_the_match_distance(max_distance: float, expected: str) -> None:
    assert decide([("ann", 0.5)], max_distance)[0] == expected


def test_cluster_groups_close_faces_and_keeps_old_ids() -> None:
    old = np.array([[0, 0], [0.1, 0]], np.float32)

    ids = cluster(old, np.array([7, 7]), np.array([[0.2, 0], [5, 5], [5.1, 5], [0.05, 0]], np.float32), 0.5, 8)

    assert ids == [7, 8, 8, 7]


def test_cluster_does_not_chain_faces_farther_apart_than_the_threshold() -> None:
    """Single linkage would put 0, 0.4 and 0.8 in one group; any two faces of a group must be close."""
    line = np.array([[0, 0], [0.4, 0], [0.8, 0], [1.2, 0]], np.float32)

    ids = cluster(np.zeros((0, 2), np.float32), np.zeros(0, np.int64), line, 0.5, 1)

    assert ids == [1, 1, 2, 2]


@pytest.mark.parametrize(
    ("rule", "sub_label", "expected"),
    [
        (FaceRule(unknown=True), UNKNOWN, True),
        (FaceRule(unknown=True), "ann", False),
        (FaceRule(unknown=True), None, False),
        (FaceRule(anyone_but=["ann"]), "ann", False),
        (FaceRule(anyone_but=["ann"]), "bob", True),
        (FaceRule(anyone_but=["ann"]), UNKNOWN, True),
        (FaceRule(anyone_but=["ann"]), None, True),  # a face not seen may be anyone
        (FaceRule(arrived=["ann"]), "ann", True),
        (FaceRule(arrived=["ann"]), UNKNOWN, False),
        (FaceRule(), "ann", False),
    ],
)
def test_face_rule_conditions(rule: FaceRule, sub_label: str | None, expected: bool) -> None:
    assert rule.matches(sub_label) is expected
