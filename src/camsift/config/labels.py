"""Labels checked against what the detector can report, so a typo cannot switch detection off.

Every place a label is named (``objects.labels``, the keys of ``objects.filters``,
zones' ``labels``, ``alarm.labels``, notification rules' ``labels``), globally and
per camera, must be a label of the detector that camera uses
(`camsift.detectors.vocabulary`): the 80 COCO names for the built-in detectors,
``person`` only for ``ssdlite``, ``detect.yolo.class_names`` for ``yolo``. A ``yolo``
model without ``class_names`` names its classes itself: its labels are checked when
it loads (`camsift.detectors.configured`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from camsift.config.base import ConfigKeyError
from camsift.detectors import unknown_label, vocabulary

if TYPE_CHECKING:
    from camsift.config.settings import Settings

__all__ = ["check_labels"]


def _named(s: Settings) -> Iterator[tuple[tuple[str, ...], str]]:
    """(key path from the section, label) of every label one camera's (or the global) settings name, rules aside."""
    for label in s.objects.labels:
        yield ("objects", "labels"), label
    for label in s.objects.filters:
        yield ("objects", "filters", label), label
    for zone, config in s.objects.zones.items():
        for label in config.labels:
            yield ("objects", "zones", zone, "labels"), label
    for label in s.alarm.labels:
        yield ("alarm", "labels"), label


def check_labels(settings: Settings) -> None:
    """Refuse the first label no detector in use can report.

    A camera's label is pointed at under ``cameras.<name>`` when the camera sets
    that key itself, else at the global key it inherits (the reason then names the camera).

    Raises:
        ConfigKeyError: an unknown label; the reason names the closest known one.
    """
    every: set[str] | None = set()
    for camera, s in settings.scopes():
        known = vocabulary(s.detect)
        if known is None:
            every = None
            continue
        if every is not None:
            every |= known
        for (section, *key), label in _named(s):
            if label not in known:
                loc = settings.key_of(camera, section, *key)
                reason = unknown_label(label, known, s.detect.detector)
                raise ConfigKeyError(
                    loc, reason if camera is None or loc[0] == "cameras" else f"{reason} (camera {camera!r})"
                )
    for name, rule in settings.notify.rules.items():
        for label in rule.labels:
            if every is not None and label not in every:
                raise ConfigKeyError(
                    ("notify", "rules", name, "labels"), unknown_label(label, every, settings.detect.detector)
                )
