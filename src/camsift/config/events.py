"""``events``: how tracked objects become events, and the frames kept of them."""

from __future__ import annotations

from pydantic import Field

from camsift.config.base import ConfigModel, Fraction, Seconds

__all__ = ["EventsConfig"]


class EventsConfig(ConfigModel):
    """How tracked objects become events."""

    min_hits: int = Field(2, ge=1, description="Detections at min_confidence a tracked object needs to become an event")
    lost_s: Seconds = Field(3.0, description="Seconds without a detection after which a tracked object has left")
    still_min_confidence: Fraction = Field(
        0.6,
        description="A single picture gives one sighting and no second to confirm it, so its objects "
        "need at least this confidence (when higher than the label's min_confidence)",
    )
    best_frames: int = Field(
        3,
        ge=1,
        le=10,
        description="Best frames kept per event, at least half a second apart (the first is the snapshot; "
        "face recognition looks at all of them)",
    )
