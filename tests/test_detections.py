"""`Detections`: parallel arrays validated on construction, indexing, merging, area."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from camsift import Detections


def three() -> Detections:
    return Detections(
        xyxy=np.array([[0, 0, 10, 20], [5, 5, 15, 10], [100, 50, 140, 150]]),
        confidence=[0.9, 0.3, 0.6],
        label=["person", "car", "person"],
        data={"sub_label": np.array(["alice", "", "bob"])},
    )


def test_construction_normalises_types_and_shapes() -> None:
    d = three()

    assert len(d) == 3
    assert (d.xyxy.dtype, d.xyxy.shape) == (np.dtype(np.float32), (3, 4))
    assert (d.confidence.dtype, d.tracker_id.dtype) == (np.dtype(np.float32), np.dtype(np.int64))
    assert d.label.tolist() == ["person", "car", "person"]
    assert d.tracker_id.tolist() == [-1, -1, -1]  # not tracked yet


@pytest.mark.parametrize(
    ("kw", "column"),
    [
        ({"confidence": [0.9]}, "confidence"),
        ({"label": ["person"]}, "label"),
        ({"tracker_id": [1, 2, 3]}, "tracker_id"),
        ({"data": {"zones": np.array(["a", "b", "c"])}}, "zones"),
    ],
)
def test_mismatched_columns_are_rejected(kw: dict[str, Any], column: str) -> None:
    columns: dict[str, Any] = {"xyxy": [[0, 0, 1, 1], [1, 1, 2, 2]], "confidence": [0.5, 0.6], "label": ["a", "b"]}

    with pytest.raises(ValueError, match=rf"Detections\.{column} has \d rows, xyxy has 2"):
        Detections(**{**columns, **kw})


def test_boolean_mask_keeps_every_column_in_step() -> None:
    d = three()

    sure = d[d.confidence > 0.5]

    assert isinstance(sure, Detections)
    assert sure.label.tolist() == ["person", "person"]
    assert sure.xyxy.tolist() == [[0, 0, 10, 20], [100, 50, 140, 150]]
    assert sure.data["sub_label"].tolist() == ["alice", "bob"]
    assert sure.confidence.tolist() == pytest.approx([0.9, 0.6])


@pytest.mark.parametrize(
    ("index", "labels"), [(np.array([2, 0]), ["person", "person"]), (slice(1, 2), ["car"]), ([1], ["car"])]
)
def test_index_arrays_and_slices(index: Any, labels: list[str]) -> None:
    picked = three()[index]

    assert picked.label.tolist() == labels
    assert len(picked.data["sub_label"]) == len(labels)


def test_empty() -> None:
    e = Detections.empty()

    assert len(e) == 0
    assert e.xyxy.shape == (0, 4)
    assert e.area.shape == (0,)
    assert len(e[e.confidence > 0.5]) == 0


def test_merge_fills_missing_data_columns() -> None:
    a = three()
    b = Detections(
        xyxy=[[1, 2, 3, 4]], confidence=[0.8], label=["dog"], tracker_id=[7], data={"zones": np.array(["yard"])}
    )

    merged = Detections.merge([a, Detections.empty(), b])

    assert len(merged) == 4
    assert merged.label.tolist() == ["person", "car", "person", "dog"]
    assert merged.tracker_id.tolist() == [-1, -1, -1, 7]
    assert merged.data["sub_label"].tolist() == ["alice", "", "bob", ""]
    assert merged.data["zones"].tolist() == ["", "", "", "yard"]
    assert merged.xyxy[3].tolist() == [1, 2, 3, 4]


def test_merge_fills_missing_score_columns_with_nan() -> None:
    scored = Detections(xyxy=[[1, 2, 3, 4]], confidence=[0.8], label=["person"], data={"animal_score": [0.25]})

    merged = Detections.merge([three(), scored])

    assert merged.data["animal_score"].dtype == np.float64
    np.testing.assert_array_equal(merged.data["animal_score"], [np.nan, np.nan, np.nan, 0.25])
    assert merged.data["sub_label"].tolist() == ["alice", "", "bob", ""]


def test_merge_of_nothing_is_empty() -> None:
    assert len(Detections.merge([])) == 0
    assert len(Detections.merge([Detections.empty(), Detections.empty()])) == 0


def test_area_in_square_pixels() -> None:
    d = Detections(xyxy=[[0, 0, 10, 20], [5, 5, 5, 50], [10, 10, 0, 0]], confidence=[1, 1, 1], label=["a", "a", "a"])

    assert d.area.tolist() == [200.0, 0.0, 0.0]  # a flipped box has no area, not a positive one


def test_replace_and_with_data_return_copies() -> None:
    d = three()

    tracked = d.replace(tracker_id=np.array([4, 5, 6]))
    zoned = d.with_data(zones=["door", "", ""])

    assert tracked.tracker_id.tolist() == [4, 5, 6]
    assert d.tracker_id.tolist() == [-1, -1, -1]
    assert zoned.data["zones"].tolist() == ["door", "", ""]
    assert zoned.data["sub_label"].tolist() == ["alice", "", "bob"]
    assert "zones" not in d.data
    with pytest.raises(ValueError, match="tracker_id"):
        d.replace(tracker_id=np.array([1]))
