"""Writing the web app's per-camera settings (``<data_dir>/camera-overrides.yaml``) and noticing changes to it.

The file's shape, and how every load merges it, are `camsift.config.overrides`'.
The web app's camera page stores a camera's settings here (`save_camera_settings`)
and its "false positive" button adds to the camera's list (`add_false_positive`, once per object;
`remove_false_positive` takes one back).
``camsift run`` looks again before each file it hands to its workers (`refreshed`):
labels, confidence, motion threshold and false positives apply from the next
uploaded or downloaded file; what the service and live streams hold (alarm
cooldown, pre- and post-roll of live clips) from its next start.

The file (`camsift.layout.DataDir.overrides`) holds no secret; it is replaced
atomically (`camsift.layout.write_atomically`), so a reader never sees half of it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import yaml

from camsift.config import CameraSettings, FalsePositive, Settings
from camsift.config.overrides import Overrides, read_overrides, with_overrides
from camsift.errors import ConfigError
from camsift.events import Event
from camsift.layout import DataDir, write_atomically

__all__ = [
    "DUPLICATE_IOU",
    "add_false_positive",
    "false_positive_index",
    "false_positive_of",
    "refreshed",
    "remove_false_positive",
    "save_camera_settings",
]

DUPLICATE_IOU = 0.9
"""A false positive whose box overlaps one already listed (same label) by this IoU is that one again."""

_LOCK = threading.Lock()
_SEEN: dict[Path, tuple[int, Settings, Settings]] = {}
"""Overrides file -> (its mtime in ns, the settings given, those settings with it merged), for `refreshed`."""


def _write(path: Path, doc: Overrides) -> None:
    header = "# Written by camsift's web app (camera settings); merged over camsift.yaml's 'cameras' section.\n"
    write_atomically(path, header + yaml.safe_dump(doc, sort_keys=True))


def _change(settings: Settings, camera: str, sections: dict[str, dict[str, Any]]) -> Settings:
    """Write ``sections`` of ``camera`` into the file (key by key) and return the settings with it merged.

    Raises:
        ConfigError: the change breaks a rule (nothing is written then).
    """
    path = DataDir(settings.data_dir).overrides
    with _LOCK:
        found = read_overrides(path)
        for section, keys in sections.items():
            found.setdefault(camera, {}).setdefault(section, {}).update(keys)
        changed = with_overrides(settings, found, camera)
        _write(path, found)
    return changed


def refreshed(settings: Settings) -> Settings:
    """``settings`` with the overrides file merged again if it changed since the last call (cheap: one ``stat``).

    An unreadable or invalid file is logged and ignored (the settings in use stay).
    """
    from camsift.logs import get_logger

    path = DataDir(settings.data_dir).overrides
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return settings
    seen = _SEEN.get(path)
    if seen is not None and seen[0] == mtime and seen[1] is settings:
        return seen[2]
    try:
        merged = with_overrides(settings, read_overrides(path))
    except ConfigError as err:
        get_logger("camsift.camera_overrides").warning("camera overrides ignored", reason=str(err))
        return settings
    _SEEN[path] = (mtime, settings, merged)
    return merged


def save_camera_settings(settings: Settings, camera: str, values: CameraSettings) -> Settings:
    """Store a camera's settings in the overrides file.

    Args:
        settings: The current settings.
        camera: The camera.
        values: Its new values.

    Returns:
        The settings with the change merged.

    Raises:
        ConfigError: the values break a rule (pre-roll longer than the buffer, a label the
            camera's detector does not know …); nothing is stored.
    """
    return _change(settings, camera, values.sections(settings, camera))


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def false_positive_of(event: Event) -> FalsePositive:
    """The false positive an event's box makes: its label, its box relative to its snapshot (0..1), its confidence.

    Raises:
        ConfigError: the event has no readable snapshot to measure its box against.
    """
    from PIL import Image, UnidentifiedImageError

    if event.snapshot is None or not event.snapshot.is_file():
        raise ConfigError(f"event {event.id} has no snapshot to measure its box against")
    try:
        with Image.open(event.snapshot) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError) as err:
        raise ConfigError(f"{event.snapshot}: the event's snapshot is unreadable") from err
    x1, y1, x2, y2 = event.box_xyxy
    box = tuple(min(1.0, max(0.0, round(v, 4))) for v in (x1 / width, y1 / height, x2 / width, y2 / height))
    return FalsePositive(label=event.label, box=box, confidence=event.confidence, event=event.id)


def false_positive_index(settings: Settings, camera: str, false_positive: FalsePositive) -> int | None:
    """Where ``false_positive`` already is in ``camera``'s list: an entry of the same event, or of the same label
    whose box overlaps it by `DUPLICATE_IOU`; ``None`` when it is new."""
    for n, known in enumerate(settings.for_camera(camera).objects.false_positives):
        same_event = false_positive.event is not None and known.event == false_positive.event
        if same_event or (known.label == false_positive.label and _iou(known.box, false_positive.box) >= DUPLICATE_IOU):
            return n
    return None


def add_false_positive(settings: Settings, camera: str, false_positive: FalsePositive) -> Settings:
    """Add a false positive to a camera's list (`camsift.config.FalsePositive`); returns the merged settings.

    One already listed (`false_positive_index`) is not added again: ``settings`` are returned unchanged.
    """
    if false_positive_index(settings, camera, false_positive) is not None:
        return settings
    known = [f.model_dump(mode="json") for f in settings.for_camera(camera).objects.false_positives]
    entry = false_positive.model_dump(mode="json")
    return _change(settings, camera, {"objects": {"false_positives": [*known, entry]}})


def remove_false_positive(settings: Settings, camera: str, index: int) -> Settings:
    """Remove entry ``index`` (0-based) of a camera's false positives; returns the merged settings.

    Raises:
        ConfigError: there is no such entry.
    """
    known = [f.model_dump(mode="json") for f in settings.for_camera(camera).objects.false_positives]
    if not 0 <= index < len(known):
        raise ConfigError(f"camera {camera!r} has no false positive number {index + 1}")
    del known[index]
    return _change(settings, camera, {"objects": {"false_positives": known}})
