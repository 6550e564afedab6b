"""Writing the web app's per-camera settings (``<data_dir>/camera-overrides.yaml``) and noticing changes to it.

The file's shape, and how every load merges it, are `camsift.config.overrides`'.
The web app's camera page stores a camera's settings here (`save_camera_settings`)
and its "false positive" button adds to the camera's list (`add_false_positive`).
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
from camsift.layout import DataDir, write_atomically

__all__ = ["add_false_positive", "refreshed", "save_camera_settings"]

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


def add_false_positive(settings: Settings, camera: str, false_positive: FalsePositive) -> Settings:
    """Add a false positive to a camera's list (`camsift.config.FalsePositive`); returns the merged settings."""
    known = [f.model_dump(mode="json") for f in settings.for_camera(camera).objects.false_positives]
    entry = false_positive.model_dump(mode="json")
    return _change(settings, camera, {"objects": {"false_positives": [*known, entry]}})
