"""Per-camera settings changed in the web app: `camsift.layout.DataDir.overrides`, merged at every load.

The web app's camera page writes the few settings owners change per camera
(motion threshold, alarm cooldown, pre-roll, post-roll, longest clip, labels,
minimum confidence) and the false positives marked on events into one YAML
file beside the database, shaped like the ``cameras`` section::

    porch:
      motion: {threshold: 35}
      objects:
        labels: [person, cat]
        false_positives: [{label: person, box: [0.1, 0.2, 0.3, 0.9], confidence: 0.62}]

`camsift.config.load_config` merges it key by key over ``camsift.yaml``'s
``cameras`` section (its keys win: they were set last), after the environment and
command-line overrides, so every command sees them. This module reads and merges
the file; `camsift.camera_overrides` writes it (atomically) and notices changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from camsift.config.base import Label
from camsift.config.settings import Settings
from camsift.errors import ConfigError

__all__ = [
    "CameraSettings",
    "Overrides",
    "merge_overrides",
    "read_overrides",
    "with_overrides",
]

Overrides = dict[str, dict[str, dict[str, Any]]]
"""The file's content: ``{camera: {section: {key: value}}}``."""


def read_overrides(path: Path) -> Overrides:
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


def merge_overrides(doc: dict[str, Any], found: Overrides) -> list[tuple[str, ...]]:
    """Merge ``found`` into a raw config document's ``cameras``, key by key, in place.

    Returns:
        The key paths set (``("cameras", camera, section, key)``).
    """
    if not found:
        return []
    cameras = doc.get("cameras")
    if not isinstance(cameras, dict):
        cameras = doc["cameras"] = {}
    paths: list[tuple[str, ...]] = []
    for camera, sections in found.items():
        target = cameras.get(camera)
        if not isinstance(target, dict):
            target = cameras[camera] = {}
        for section, keys in sections.items():
            given = target.get(section)
            target[section] = {**(given if isinstance(given, dict) else {}), **keys}
            paths += [("cameras", camera, section, key) for key in keys]
    return paths


def with_overrides(settings: Settings, found: Overrides, camera: str | None = None) -> Settings:
    """``settings`` with ``found`` merged, validated (and ``camera``'s merged sections checked).

    Raises:
        ConfigError: a key or value breaks a rule (an unknown label too); the message names the key.
    """
    doc = settings.model_dump(exclude_unset=True)
    merge_overrides(doc, found)
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
    labels: list[Label] = Field(min_length=1, description="Labels to report")
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

    def sections(self, settings: Settings, camera: str) -> dict[str, dict[str, Any]]:
        """These values as the overrides file's sections of ``camera`` (``{section: {key: value}}``)."""
        default = settings.for_camera(camera).objects.default.model_dump(mode="json")
        return {
            "motion": {"threshold": self.motion_threshold},
            "alarm": {"cooldown_s": self.cooldown_s},
            "record": {"pre_roll_s": self.pre_roll_s, "post_roll_s": self.post_roll_s, "max_clip_s": self.max_clip_s},
            "objects": {"labels": list(self.labels), "default": {**default, "min_confidence": self.min_confidence}},
        }
