"""Annotated snapshots: boxes, labels, confidence and time drawn on a frame.

Drawing is supervision's (`BoxAnnotator`, `LabelAnnotator`, `draw_text`),
with line and text sizes scaled to the picture as supervision recommends.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from camsift.events import Snapshot

__all__ = ["annotate"]

EVENT_COLOR = "#FF3838"
OTHER_COLOR = "#A0A0A0"


def annotate(rgb: npt.NDArray[np.uint8], snapshot: Snapshot, caption: str) -> npt.NDArray[np.uint8]:
    """Draw a snapshot's detections and a caption on a copy of its frame.

    The event's own object is drawn in red, other objects in the same frame in
    grey, each labelled ``"<label>[ <sub_label>] <confidence>%"``; the caption
    (camera and time) goes in the corner it hides the least of the boxes and
    their labels in, top-left when free.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB full-resolution frame.
        snapshot: The frame's detections (same pixels) and the event's row.
        caption: One line of text, e.g. ``"porch 2026-11-22 14:30:05"``.

    Returns:
        A new ``(H, W, 3)`` uint8 RGB picture.
    """
    import supervision as sv

    d = snapshot.detections
    height, width = rgb.shape[:2]
    thickness = sv.calculate_optimal_line_thickness((width, height))
    text_scale = sv.calculate_optimal_text_scale((width, height))
    scene = np.ascontiguousarray(rgb[..., ::-1])  # supervision draws in BGR
    sub = d.data.get("sub_label")
    labels = [
        f"{d.label[i]}{' ' + str(sub[i]) if sub is not None and sub[i] else ''} {d.confidence[i]:.0%}"
        for i in range(len(d))
    ]
    is_event = np.arange(len(d)) == snapshot.index
    for mask, color in ((~is_event, OTHER_COLOR), (is_event, EVENT_COLOR)):
        if not mask.any():
            continue
        sv_d = sv.Detections(xyxy=d.xyxy[mask].astype(np.float64))
        chosen = [text for text, m in zip(labels, mask, strict=True) if m]
        paint = sv.Color.from_hex(color)
        scene = sv.BoxAnnotator(color=paint, thickness=thickness, color_lookup=sv.ColorLookup.INDEX).annotate(
            scene, sv_d
        )
        scene = sv.LabelAnnotator(
            color=paint,
            text_scale=text_scale,
            text_thickness=thickness,
            smart_position=True,
            color_lookup=sv.ColorLookup.INDEX,
        ).annotate(scene, sv_d, labels=chosen)
    pad = max(4, int(10 * text_scale))
    half_w, half_h = int(len(caption) * 9 * text_scale) + pad, int(12 * text_scale) + pad
    scene = sv.draw_text(
        scene,
        caption,
        sv.Point(*_free_corner(d.xyxy, width, height, half_w, half_h, label_h=4 * half_h)),
        text_color=sv.Color.WHITE,
        text_scale=text_scale,
        text_thickness=thickness,
        text_padding=pad // 2,
        background_color=sv.Color.BLACK,
    )
    return np.ascontiguousarray(scene[..., ::-1])


def _free_corner(
    xyxy: npt.NDArray[np.float32], width: int, height: int, half_w: int, half_h: int, label_h: int
) -> tuple[int, int]:
    """Centre of the caption box (``2*half_w`` x ``2*half_h`` pixels) in the corner that covers the least
    of the boxes, each grown upwards by ``label_h`` for its label; ties go to top-left, then bottom-left."""
    centres = [(half_w, half_h), (half_w, height - half_h), (width - half_w, half_h), (width - half_w, height - half_h)]
    grown = xyxy.astype(np.float64) - np.array([0, label_h, 0, 0])

    def hidden(cx: int, cy: int) -> float:
        w = np.clip(np.minimum(grown[:, 2], cx + half_w) - np.maximum(grown[:, 0], cx - half_w), 0, None)
        h = np.clip(np.minimum(grown[:, 3], cy + half_h) - np.maximum(grown[:, 1], cy - half_h), 0, None)
        return float(np.sum(w * h))

    return min(centres, key=lambda c: hidden(*c))
