"""``record``: clips of live streams, cut from an in-memory buffer."""

from __future__ import annotations

from pydantic import Field, model_validator

from camsift.config.base import ConfigModel

__all__ = ["RecordConfig"]


class RecordConfig(ConfigModel):
    """Clips of live streams: an in-memory buffer of encoded packets, pre-roll, post-roll.

    Defaults follow blinkvault, the design Blink live views come from (30 s kept in memory, so ``pre_roll_s`` can
    reach 30 s; nothing on disk while idle), and Frigate's event recordings (a few seconds before, 10 s after).
    """

    buffer_s: float = Field(
        30.0,
        ge=1,
        le=60,
        description="Seconds of encoded packets a live stream keeps in memory (the pre-roll comes from it); "
        "nothing is written to disk while nothing happens",
    )
    pre_roll_s: float = Field(
        5.0, ge=0, le=60, description="Seconds before an event starts that its clip begins (at most buffer_s)"
    )
    post_roll_s: float = Field(10.0, ge=0, le=300, description="Seconds after the last object left that a clip ends")
    max_clip_s: float = Field(
        60.0,
        ge=5,
        le=3600,
        description="A clip is closed (and analysed) after this many seconds and the recording goes on in a new "
        "one, so a long event is reported while it lasts",
    )
    keep_empty: bool = Field(
        False, description="Keep a recorded clip in which the full analysis finds no event (default: delete it)"
    )

    @model_validator(mode="after")
    def _pre_roll_in_buffer(self) -> RecordConfig:
        if self.pre_roll_s > self.buffer_s:
            raise ValueError(f"pre_roll_s ({self.pre_roll_s}) cannot exceed buffer_s ({self.buffer_s})")
        return self
