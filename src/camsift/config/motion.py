"""``motion``: the motion gate that spares the detector frames where nothing moves."""

from __future__ import annotations

from pydantic import Field

from camsift.config.base import ConfigModel, Polygon, Seconds

__all__ = ["MotionConfig"]


class MotionConfig(ConfigModel):
    """Motion gate: frame differencing on a small grey copy against a running background.

    Defaults follow Frigate's motion detector (threshold 30, contour_area 10 at a
    100-pixel-high frame, frame_alpha 0.01 at 5 fps) adjusted for motion clips
    that are seconds long rather than continuous streams.
    """

    threshold: int = Field(25, ge=1, le=255, description="Grey-level difference (0-255) that counts as motion")
    contour_area: int = Field(8, ge=1, description="Smallest moving blob, in pixels of the small grey frame")
    frame_height: int = Field(120, ge=32, le=1080, description="Height in pixels of the grey copy the gate works on")
    frame_alpha: float = Field(
        0.05, gt=0, le=1, description="Background learning rate per sampled frame (higher adapts faster)"
    )
    lightning_fraction: float = Field(
        0.6,
        gt=0,
        le=1,
        description="When more than this fraction of the frame moves (scene cut, IR switch, camera pan), "
        "the background is reset and the whole frame is checked once",
    )
    mask: list[Polygon] = Field(default_factory=list, description="Areas where motion is ignored (clocks, trees)")
    mqtt_off_delay_s: Seconds = Field(
        30.0,
        description="Live streams: MQTT '<camera>/motion' goes OFF after this many seconds of stream time in which "
        "the motion gate saw no motion (Frigate's motion.mqtt_off_delay, 30)",
    )
