"""Annotated snapshots: boxes, labels and a caption that hides none of them."""

from __future__ import annotations

import numpy as np
import pytest

from camsift import Detections
from camsift.annotate import annotate
from camsift.events import Snapshot

GREY = 128


def black_rows(picture: np.ndarray, rows: slice, cols: slice) -> int:
    """How many pixels in the area are the caption's pure-black background."""
    return int(np.all(picture[rows, cols] == 0, axis=-1).sum())


@pytest.mark.parametrize(
    ("box", "corner"),
    [
        ((400, 150, 500, 350), "top-left"),  # nothing in the way: the usual place
        ((0, 0, 250, 200), "bottom-left"),  # a person in the top-left corner keeps its label visible
        ((0, 0, 250, 360), "top-right"),  # left side taken top to bottom
    ],
)
def test_caption_goes_where_it_hides_no_box(box: tuple[int, int, int, int], corner: str) -> None:
    frame = np.full((360, 640, 3), GREY, np.uint8)
    found = Detections(xyxy=np.array([box], np.float32), confidence=np.array([0.9]), label=np.array(["person"]))

    picture = annotate(frame, Snapshot(0.0, None, found, 0), "porch 2026-11-22 14:30:05")

    areas = {
        "top-left": (slice(0, 40), slice(0, 320)),
        "bottom-left": (slice(320, 360), slice(0, 320)),
        "top-right": (slice(0, 40), slice(320, 640)),
    }
    blackest = max(areas, key=lambda name: black_rows(picture, *areas[name]))
    assert blackest == corner
    assert picture.shape == frame.shape
    assert np.array_equal(frame, np.full_like(frame, GREY))  # drawn on a copy
