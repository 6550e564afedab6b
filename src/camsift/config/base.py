"""The base of every config model, the value types several sections share, and the located config error.

Every model forbids unknown keys and is frozen; every field carries a description,
so the JSON schema (``camsift config schema``) documents the YAML. The value types
below are ``Annotated`` types: a limit or a check written once and used by every
key of that kind (`Fraction`, `Port`, `Label`, `TimeWindows` …).
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo

from camsift.errors import ConfigError

__all__ = [
    "THOROUGH",
    "ClockTime",
    "ConfigKeyError",
    "ConfigModel",
    "DatabaseUrl",
    "Fraction",
    "Label",
    "Percent",
    "Point",
    "Polygon",
    "Port",
    "Seconds",
    "TimeWindows",
    "WebUrl",
    "in_time_windows",
    "thorough",
]


class ConfigModel(BaseModel):
    """Base of every config section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigKeyError(ConfigError):
    """A rule between keys is broken; ``loc`` is the key path to point at (the loader adds file:line).

    Raised (not returned as a pydantic error) by checks that look at several sections at once, so the
    loader can still say which key, and which line, is at fault.

    Args:
        loc: Key path, e.g. ``("cameras", "porch", "objects", "labels")``.
        reason: What is wrong, in one line.
    """

    def __init__(self, loc: tuple[str | int, ...], reason: str) -> None:
        self.loc, self.reason = loc, reason
        super().__init__(f"{'.'.join(map(str, loc))}: {reason}" if loc else reason)


THOROUGH = "thorough"
"""Validation context key: when true, also the checks that import optional libraries or read files (`thorough`)."""


def thorough(info: ValidationInfo) -> bool:
    """Whether this validation asked for the start-up checks (``camsift run``, ``camsift config check``).

    Those checks read files the config names or parse channel URLs with apprise; every other
    command skips them, so loading the config stays quick and never touches the disk.
    """
    return bool(isinstance(info.context, dict) and info.context.get(THOROUGH))


Point = Annotated[tuple[float, float], Field(description="[x, y] relative to the frame: 0..1, origin top-left")]
Polygon = Annotated[list[Point], Field(min_length=3, description="Polygon as [[x, y], ...] in relative coordinates")]

Fraction = Annotated[float, Field(ge=0, le=1)]
"""A share or a confidence: 0..1."""

Percent = Annotated[float, Field(gt=0, le=100)]
"""A percentage above 0, at most 100."""

Seconds = Annotated[float, Field(gt=0)]
"""A duration in seconds, above 0."""

Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP port."""

Label = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1)]
"""An object label (COCO name such as ``person``), compared lower-case; checked against the detector's labels
by `camsift.config.labels`."""

ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
"""Local time ``HH:MM`` on the 24-hour clock."""

WebUrl = Annotated[str, Field(pattern=r"^https?://[^\s]+$")]
"""An ``http://`` or ``https://`` address."""

DatabaseUrl = Annotated[str, Field(pattern=r"^[A-Za-z][\w+]*://")]
"""A SQLAlchemy database URL, ``dialect[+driver]://...`` (the shape SQLAlchemy's ``make_url`` parses)."""

_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def _windows(v: list[str]) -> list[str]:
    for window in v:
        if not _WINDOW.match(window):
            raise ValueError(f"expected 'HH:MM-HH:MM' (24-hour clock), got {window!r}")
    return v


TimeWindows = Annotated[list[str], AfterValidator(_windows)]
"""Daily windows ``HH:MM-HH:MM`` in local time; a window may cross midnight (see `in_time_windows`)."""


def in_time_windows(windows: list[str], when: time) -> bool:
    """Whether local time ``when`` falls in one of ``windows`` (``"HH:MM-HH:MM"``; may cross midnight).

    An empty list means always. A window's start is included, its end is not.
    """
    if not windows:
        return True
    for window in windows:
        start, end = (time.fromisoformat(t) for t in window.split("-"))
        if (start <= when < end) if start <= end else (when >= start or when < end):
            return True
    return False
