"""Per-camera settings changed in the web app: ``<data_dir>/camera-overrides.yaml``, merged at every load.

The web app's camera page writes the few settings owners change per camera
(motion threshold, alarm cooldown, pre-roll, post-roll, longest clip, labels,
minimum confidence) and the false positives marked on events into one YAML
file beside the database, shaped like the ``cameras`` section::

    porch:
      motion: {threshold: 35}
      objects:
        labels: [person, cat]
        false_positives: [{label: person, box: [0.1, 0.2, 0.3, 0.9], confidence: 0.62}]

`load_config` merges it key by key over ``camsift.yaml``'s ``cameras``
section (its keys win: they were set last), after the environment and
command-line overrides, so every command sees them. ``camsift run`` also
looks again before each file it hands to its workers (`refreshed`): labels,
confidence, motion threshold and false positives apply from the next
uploaded or downloaded file; what the service and live streams hold
(alarm cooldown, pre- and post-roll of live clips) from its next start.

The file holds no secret; it is replaced atomically, so a reader never sees
half of it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from camsift.errors import ConfigError

if TYPE_CHECKING:
    from camsift.config import FalsePositive, Settings

__all__ = [
    "OVERRIDES_FILE",
    "CameraSettings",
    "add_false_positive",
    "merge_camera_overrides",
    "overrides_path",
    "refreshed",
    "save_camera_settings",
]

OVERRIDES_FILE = "camera-overrides.yaml"

_LOCK = threading.Lock()
_SEEN: dict[Path, tuple[int, Settings, Settings]] = {}
"""Overrides file -> (its mtime in ns, the settings given, those settings with it merged), for `refreshed`."""


def overrides_path(data_dir: Path) -> Path:
    """``<data_dir>/camera-overrides.yaml``."""
    return data_dir / OVERRIDES_FILE


def _read(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The file as ``{camera: {section: {key: value}}}`` (empty when missing).

    Raises:
        ConfigError: unreadable, not YAML, or not shaped like that.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from err
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {getattr(err, 'problem', err)}") from err
    shaped = isinstance(doc, dict) and all(
        isinstance(sections, dict) and all(isinstance(keys, dict) for keys in sections.values())
        for sections in doc.values()
    )
    if not shaped:
        raise ConfigError(f"{path}: expected camera: section: key: value")
    return doc


def _write(path: Path, doc: dict[str, dict[str, dict[str, Any]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    header = "# Written by camsift's web app (camera settings); merged over camsift.yaml's 'cameras' section.\n"
    tmp.write_text(header + yaml.safe_dump(doc, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def merge_camera_overrides(doc: dict[str, Any]) -> None:
    """Merge ``<data_dir>/camera-overrides.yaml`` into a raw config document's ``cameras``, in place.

    Args:
        doc: The YAML document with environment and CLI overrides applied (``data_dir`` read from it).

    Raises:
        ConfigError: the file is unreadable or misshapen.
    """
    _merge(doc, _read(overrides_path(Path(str(doc.get("data_dir") or "camsift-data")))))


def _merge(doc: dict[str, Any], found: dict[str, dict[str, dict[str, Any]]]) -> None:
    if not found:
        return
    cameras = doc.get("cameras")
    if not isinstance(cameras, dict):
        cameras = doc["cameras"] = {}
    for camera, sections in found.items():
        target = cameras.get(camera)
        if not isinstance(target, dict):
            target = cameras[camera] = {}
        for section, keys in sections.items():
            given = target.get(section)
            target[section] = {**(given if isinstance(given, dict) else {}), **keys}


def _change(settings: Settings, camera: str, sections: dict[str, dict[str, Any]]) -> Settings:
    """Write ``sections`` of ``camera`` into the file (key by key) and return the settings with it merged.

    Raises:
        ConfigError: the change breaks a rule (nothing is written then).
    """
    path = overrides_path(settings.data_dir)
    with _LOCK:
        found = _read(path)
        for section, keys in sections.items():
            found.setdefault(camera, {}).setdefault(section, {}).update(keys)
        changed = _validated(settings, found, camera)
        _write(path, found)
    return changed


def refreshed(settings: Settings) -> Settings:
    """``settings`` with the overrides file merged again if it changed since the last call (cheap: one ``stat``).

    An unreadable or invalid file is logged and ignored (the settings in use stay).
    """
    from camsift.logs import get_logger

    path = overrides_path(settings.data_dir)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return settings
    seen = _SEEN.get(path)
    if seen is not None and seen[0] == mtime and seen[1] is settings:
        return seen[2]
    try:
        merged = _validated(settings, _read(path))
    except ConfigError as err:
        get_logger("camsift.overrides").warning("camera overrides ignored", reason=str(err))
        return settings
    _SEEN[path] = (mtime, settings, merged)
    return merged


def _validated(settings: Settings, found: dict[str, dict[str, dict[str, Any]]], camera: str | None = None) -> Settings:
    """``settings`` with ``found`` merged, validated (and ``camera``'s merged sections checked).

    Raises:
        ConfigError: a key or value breaks a rule.
    """
    from camsift.config import Settings

    doc = settings.model_dump(exclude_unset=True)
    _merge(doc, found)
    try:
        changed = Settings.model_validate(doc)
    except ValidationError as err:
        e = err.errors()[0]
        raise ConfigError(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}") from err
    if camera is not None:
        changed.for_camera(camera)
    return changed


class CameraSettings(BaseModel):
    """The settings of one camera that the web app's camera page edits.

    Attributes mirror config keys: ``motion.threshold``, ``alarm.cooldown_s``,
    ``record.pre_roll_s``, ``record.post_roll_s``, ``record.max_clip_s``,
    ``objects.labels`` and ``objects.default.min_confidence``.
    """

    model_config = ConfigDict(extra="forbid")

    motion_threshold: int = Field(ge=1, le=255, description="Motion sensitivity: grey-level difference (lower: more)")
    cooldown_s: float = Field(ge=0, description="Seconds between two alarms of the same label")
    pre_roll_s: float = Field(ge=0, le=60, description="Seconds of a live clip before the event")
    post_roll_s: float = Field(ge=0, le=300, description="Seconds of a live clip after the last object left")
    max_clip_s: float = Field(ge=5, le=3600, description="Longest clip (seconds)")
    labels: list[str] = Field(min_length=1, description="Labels to report")
    min_confidence: float = Field(ge=0, le=1, description="Confidence an object must reach once")

    @classmethod
    def of(cls, settings: Settings, camera: str) -> CameraSettings:
        """The camera's current values (global settings with its overrides)."""
        s = settings.for_camera(camera)
        return cls(
            motion_threshold=s.motion.threshold,
            cooldown_s=s.alarm.cooldown_s,
            pre_roll_s=s.record.pre_roll_s,
            post_roll_s=s.record.post_roll_s,
            max_clip_s=s.record.max_clip_s,
            labels=list(s.objects.labels),
            min_confidence=s.objects.default.min_confidence,
        )


def save_camera_settings(settings: Settings, camera: str, values: CameraSettings) -> Settings:
    """Store a camera's settings in the overrides file.

    Args:
        settings: The current settings.
        camera: The camera.
        values: Its new values.

    Returns:
        The settings with the change merged.

    Raises:
        ConfigError: the values break a rule (e.g. pre-roll longer than the buffer); nothing is stored.
    """
    default = settings.for_camera(camera).objects.default.model_dump(mode="json")
    sections: dict[str, dict[str, Any]] = {
        "motion": {"threshold": values.motion_threshold},
        "alarm": {"cooldown_s": values.cooldown_s},
        "record": {"pre_roll_s": values.pre_roll_s, "post_roll_s": values.post_roll_s, "max_clip_s": values.max_clip_s},
        "objects": {
            "labels": [label.strip().lower() for label in values.labels if label.strip()],
            "default": {**default, "min_confidence": values.min_confidence},
        },
    }
    return _change(settings, camera, sections)


def add_false_positive(settings: Settings, camera: str, false_positive: FalsePositive) -> Settings:
    """Add a false positive to a camera's list (`camsift.config.FalsePositive`); returns the merged settings."""
    known = [f.model_dump(mode="json") for f in settings.for_camera(camera).objects.false_positives]
    entry = false_positive.model_dump(mode="json")
    return _change(settings, camera, {"objects": {"false_positives": [*known, entry]}})
