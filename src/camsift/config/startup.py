"""The checks ``camsift run`` needs at start beyond the document: files it reads, optional libraries it loads.

They run only when validation asks for them (`camsift.config.base.thorough`: ``camsift run``
and ``camsift config check``), so other commands never touch the disk to load the config.
(Channel URLs are checked the same way, by `camsift.config.notify.NotifyChannel`.)
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from camsift.config.base import ConfigKeyError

if TYPE_CHECKING:
    from camsift.config.settings import Settings

__all__ = ["check_files", "check_libraries", "detector_missing"]

Loc = tuple[str | int, ...]


def _files(settings: Settings) -> Iterator[tuple[Loc, Path]]:
    """(key path, file) of every file the service reads at start."""
    for camera, s in settings.scopes():
        model = s.detect.yolo.model
        if s.detect.detector == "yolo" and model is not None:
            yield settings.key_of(camera, "detect", "yolo", "model"), model
    for key, path in settings.mqtt.tls_files().items():
        yield ("mqtt", key), path


def check_files(settings: Settings) -> None:
    """Refuse the first file the service would fail to read at start.

    Raises:
        ConfigKeyError: a file is missing or unreadable; the key that names it is pointed at.
    """
    for loc, path in _files(settings):
        try:
            with path.expanduser().open("rb"):
                pass
        except OSError as err:
            raise ConfigKeyError(loc, f"cannot read {path}: {err.strerror or err}") from err


_DETECTOR_LIBRARIES = {"rekognition": ("boto3", "aws"), "deepstack": ("httpx", "remote")}
"""Detectors whose backend needs an extra: detector -> (module, extra), as in pyproject.toml."""


def _libraries(settings: Settings) -> Iterator[tuple[Loc, str, str]]:
    """(key that asks for it, module, extra) of every optional library the service loads at start."""
    if settings.mqtt.enabled:
        yield ("mqtt", "enabled"), "paho.mqtt", "mqtt"
    if settings.web.enabled:
        for module in ("fastapi", "uvicorn", "jinja2", "python_multipart"):
            yield ("web", "enabled"), module, "web"
    if settings.faces.enabled is True:
        yield ("faces", "enabled"), "dlib", "faces"
    for name, source in settings.sources.items():
        if source.type == "blink":
            yield ("sources", name, "type"), "blinkpy", "blink"
    for camera, s in settings.scopes():
        if s.detect.detector in _DETECTOR_LIBRARIES:
            module, extra = _DETECTOR_LIBRARIES[s.detect.detector]
            yield settings.key_of(camera, "detect", "detector"), module, extra


def detector_missing(detector: str) -> str | None:
    """Why ``detector`` cannot run here (its extra is not installed, with the ``pip install``), or ``None``."""
    if detector in _DETECTOR_LIBRARIES:
        module, extra = _DETECTOR_LIBRARIES[detector]
        if not _installed(module):
            return f"detector {detector!r} needs {module}, which is not installed: pip install 'camsift[{extra}]'"
    return None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that is missing or stubbed out
        return False


def check_libraries(settings: Settings) -> None:
    """Refuse the first feature the config turns on whose optional library is not installed.

    Raises:
        ConfigKeyError: the key that turns it on, and the ``pip install`` that adds it.
    """
    for loc, module, extra in _libraries(settings):
        if not _installed(module):
            raise ConfigKeyError(loc, f"needs {module}, which is not installed: pip install 'camsift[{extra}]'")
