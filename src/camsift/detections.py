"""`Detections`: the one value type that flows through the pipeline.

Modelled on ``supervision.Detections`` (Roboflow): a dataclass of parallel
numpy arrays, validated on construction, indexable by boolean masks and index
arrays. camsift keeps its own small copy so that labels are plain strings
(one vocabulary across local models, cloud services and face names) and so
the core does not depend on supervision's release cadence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Detections"]

_NO_TRACK = -1


@dataclass(frozen=True, eq=False, init=False)
class Detections:
    """Zero or more detections in one image, as parallel arrays.

    Attributes:
        xyxy: ``(n, 4)`` float32 bounding boxes ``[x1, y1, x2, y2]`` in pixels
            of the image they were found in (origin top-left, x right, y down).
        confidence: ``(n,)`` float32 detector confidence in ``[0, 1]``.
        label: ``(n,)`` str labels such as ``"person"``, ``"car"`` (COCO names).
        tracker_id: ``(n,)`` int64 track ids; ``-1`` where not tracked yet
            (an empty array, the default, means none is tracked).
        data: extra per-detection columns, each an array of length ``n``
            (e.g. ``"sub_label"`` for a known face).

    The constructor takes anything `numpy.asarray` takes (lists too) and stores arrays of the dtypes above.

    Raises:
        ValueError: if the arrays do not have matching, valid shapes.

    Example:
        >>> d = Detections(np.array([[0, 0, 10, 20]]), np.array([0.9]), np.array(["person"]))
        >>> len(d[d.confidence > 0.5])
        1
    """

    xyxy: npt.NDArray[np.float32]
    confidence: npt.NDArray[np.float32]
    label: npt.NDArray[np.str_]
    tracker_id: npt.NDArray[np.int64]
    data: Mapping[str, npt.NDArray[Any]]

    def __init__(
        self,
        xyxy: npt.ArrayLike,
        confidence: npt.ArrayLike,
        label: npt.ArrayLike,
        tracker_id: npt.ArrayLike = (),
        data: Mapping[str, npt.ArrayLike] | None = None,
    ) -> None:
        boxes = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(boxes)
        scores = np.asarray(confidence, dtype=np.float32).reshape(-1)
        labels = np.asarray(label, dtype=np.str_).reshape(-1)
        tracks = np.asarray(tracker_id, dtype=np.int64).reshape(-1)
        if len(tracks) == 0 and n:
            tracks = np.full(n, _NO_TRACK, dtype=np.int64)
        columns = {k: np.asarray(v) for k, v in (data or {}).items()}
        for name, arr in [("confidence", scores), ("label", labels), ("tracker_id", tracks), *columns.items()]:
            if len(arr) != n:
                raise ValueError(f"Detections.{name} has {len(arr)} rows, xyxy has {n}")
        object.__setattr__(self, "xyxy", boxes)
        object.__setattr__(self, "confidence", scores)
        object.__setattr__(self, "label", labels)
        object.__setattr__(self, "tracker_id", tracks)
        object.__setattr__(self, "data", columns)

    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls(xyxy=np.zeros((0, 4), np.float32), confidence=np.zeros(0, np.float32), label=np.zeros(0, np.str_))

    @classmethod
    def merge(cls, parts: Iterable[Detections]) -> Detections:
        """Concatenate detections; ``data`` keys missing from a part are filled with ``""``, or NaN in a column of
        numbers (a detector's score columns)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        kinds = {k: v.dtype for p in parts for k, v in p.data.items()}
        data = {
            k: np.concatenate([p.data[k] if k in p.data else _missing(kind, len(p)) for p in parts])
            for k, kind in sorted(kinds.items())
        }
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            label=np.concatenate([p.label for p in parts]),
            tracker_id=np.concatenate([p.tracker_id for p in parts]),
            data=data,
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(
        self, index: npt.NDArray[np.bool_] | npt.NDArray[np.integer[Any]] | slice | list[int]
    ) -> Detections:
        """Select rows by boolean mask, index array or slice; always returns `Detections`."""
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            label=self.label[index],
            tracker_id=self.tracker_id[index],
            data={k: v[index] for k, v in self.data.items()},
        )

    @property
    def area(self) -> npt.NDArray[np.float32]:
        """``(n,)`` box areas in square pixels."""
        wh = np.clip(self.xyxy[:, 2:] - self.xyxy[:, :2], 0, None)
        area: npt.NDArray[np.float32] = (wh[:, 0] * wh[:, 1]).astype(np.float32)
        return area

    def replace(self, **changes: Any) -> Detections:
        """A copy with some fields replaced (``dataclasses.replace``)."""
        return replace(self, **changes)

    def with_data(self, **columns: npt.ArrayLike) -> Detections:
        """A copy with extra ``data`` columns added or replaced."""
        return replace(self, data={**self.data, **{k: np.asarray(v) for k, v in columns.items()}})


def _missing(kind: np.dtype[Any], n: int) -> npt.NDArray[Any]:
    """``n`` fill values for a ``data`` column of dtype ``kind`` that a part lacks."""
    if np.issubdtype(kind, np.floating):
        return np.full(n, np.nan, kind)
    return np.full(n, "", np.str_)
