"""``objects``: which labels count, the filters they must pass, zones, masks and marked false positives."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from camsift.config.base import ConfigModel, Fraction, Label, Polygon

__all__ = ["FalsePositive", "LabelFilter", "ObjectsConfig", "ZoneConfig"]


def _not_empty(labels: list[str]) -> list[str]:
    if not labels:
        raise ValueError("at least one label is needed")
    return labels


class LabelFilter(ConfigModel):
    """Per-label limits on what counts as a real detection."""

    min_confidence: Fraction = Field(
        0.5, description="A detection counts as a sure sighting from this confidence (Frigate's min_score)"
    )
    threshold: Fraction = Field(
        0.5,
        description="The object's computed score (median of its last 10 confidences, padded with zeros to 3: "
        "Frigate's threshold) must reach this once for it to become an event",
    )
    min_area: Fraction = Field(0.0, description="Smallest box, as a fraction of the frame area")
    max_area: float = Field(1.0, gt=0, le=1, description="Largest box, as a fraction of the frame area")


class ZoneConfig(ConfigModel):
    """A named area; an object is in it when the bottom centre of its box is."""

    polygon: Polygon
    labels: list[Label] = Field(default_factory=list, description="Labels this zone applies to; empty = all")


class FalsePositive(ConfigModel):
    """Something the owner marked as not what the detector said (the web app's "false positive" button).

    A later detection of the same label on the same camera that overlaps this box
    (IoU at least `camsift.filters.FALSE_POSITIVE_IOU`) and is not clearly surer
    (`camsift.filters.FALSE_POSITIVE_MARGIN`) is dropped, so a coat on a hook or a
    statue stops making events without masking the area for real visitors.
    """

    label: str = Field(description="The label that was wrong")
    box: tuple[float, float, float, float] = Field(
        description="[x1, y1, x2, y2] of the wrong box, relative to the frame (0..1, origin top-left)"
    )
    confidence: Fraction = Field(description="Detector confidence of the wrong detection")
    event: str | None = Field(None, description="The event it was marked on (for reference)")


class ObjectsConfig(ConfigModel):
    """Which labels to look for and the filters they must pass."""

    labels: Annotated[list[Label], AfterValidator(_not_empty)] = Field(
        default_factory=lambda: ["person"],
        description="Labels to report (COCO names, or the names of your 'yolo' model's classes)",
    )
    filters: dict[Label, LabelFilter] = Field(default_factory=dict, description="Per-label filters; default for others")
    default: LabelFilter = Field(default_factory=LabelFilter, description="Filter for labels without their own")
    mask: list[Polygon] = Field(
        default_factory=list, description="Objects whose bottom centre is inside these polygons are ignored"
    )
    zones: dict[str, ZoneConfig] = Field(default_factory=dict, description="Named zones")
    required_zones: list[str] = Field(
        default_factory=list, description="If set, only objects inside one of these zones make events"
    )
    false_positives: list[FalsePositive] = Field(
        default_factory=list,
        description="Detections marked as false positives (set by the web app; see FalsePositive): similar "
        "detections at the same place are dropped",
    )

    def filter_for(self, label: str) -> LabelFilter:
        """The filter that applies to ``label``."""
        return self.filters.get(label, self.default)

    def for_still(self, min_confidence: float) -> ObjectsConfig:
        """A copy for a single picture: every label needs at least ``min_confidence`` in its one look, and
        no ``threshold`` (a score history needs more than one look)."""

        def raised(f: LabelFilter) -> LabelFilter:
            return f.model_copy(update={"min_confidence": max(f.min_confidence, min_confidence), "threshold": 0.0})

        return self.model_copy(
            update={"default": raised(self.default), "filters": {k: raised(v) for k, v in self.filters.items()}}
        )
