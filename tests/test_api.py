"""The public API: what ``camsift`` and its modules export exists, and the error tree."""

from __future__ import annotations

import importlib

import pytest

import camsift
from camsift import errors

MODULES = [
    "camsift",
    "camsift.background",
    "camsift.config",
    "camsift.config.base",
    "camsift.config.alarm",
    "camsift.config.cameras",
    "camsift.config.detect",
    "camsift.config.environment",
    "camsift.config.events",
    "camsift.config.faces",
    "camsift.config.labels",
    "camsift.config.loader",
    "camsift.config.motion",
    "camsift.config.mqtt",
    "camsift.config.notify",
    "camsift.config.objects",
    "camsift.config.overrides",
    "camsift.config.record",
    "camsift.config.retention",
    "camsift.retention",
    "camsift.retention.plan",
    "camsift.store.retention",
    "camsift.config.service",
    "camsift.config.settings",
    "camsift.config.sources",
    "camsift.config.startup",
    "camsift.config.web",
    "camsift.detections",
    "camsift.errors",
    "camsift.events",
    "camsift.frigate",
    "camsift.frigate.cameras",
    "camsift.frigate.objects",
    "camsift.layout",
    "camsift.media",
    "camsift.media.capture",
    "camsift.media.decode",
    "camsift.media.sniff",
    "camsift.pipeline",
    "camsift.redaction",
    "camsift.regions",
    "camsift.scanner",
    "camsift.analysis",
    "camsift.analysis.file",
    "camsift.analysis.pool",
    "camsift.store",
    "camsift.detectors",
    "camsift.faces",
    "camsift.faces.enrol",
    "camsift.faces.library",
    "camsift.faces.recognizer",
    "camsift.store.faces",
    "camsift.store.engine",
    "camsift.store.queries",
    "camsift.listeners",
    "camsift.recorder",
    "camsift.logs",
    "camsift.service",
    "camsift.sources",
    "camsift.sources.folder",
    "camsift.sources.ftp",
    "camsift.sources.ftp.passwords",
    "camsift.sources.ftp.server",
    "camsift.sources.stream",
    "camsift.store.queue",
    "camsift.store.status",
    # the web app
    "camsift.web",
    "camsift.web.api",
    "camsift.web.auth",
    "camsift.web.pages",
    "camsift.web.pages.cameras",
    "camsift.web.pages.common",
    "camsift.web.pages.events",
    "camsift.web.pages.faces",
    "camsift.web.pages.grid",
    "camsift.web.pages.items",
    "camsift.web.pages.login",
    "camsift.web.state",
    "camsift.store.users",
    "camsift.camera_overrides",
    "camsift.live_picture",
    # scale out, other detectors
    "camsift.analysis.cluster",
    "camsift.detection_api",
    "camsift.detectors.runtime",
    "camsift.detectors.yolo",
    "camsift.detectors.deepstack",
    "camsift.detectors.rekognition",
    "camsift.store.migrate",
    "camsift.store.usage",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)

    missing = [n for n in module.__all__ if not hasattr(module, n)]

    assert missing == []
    assert len(set(module.__all__)) == len(module.__all__)


def test_library_entry_points() -> None:
    assert {"scan", "Settings", "load_config", "Store", "Event", "Detections", "ScanReport", "FileResult"} <= set(
        camsift.__all__
    )
    assert callable(camsift.scan)


@pytest.mark.parametrize(
    "error",
    [
        errors.ConfigError,
        errors.MediaError,
        errors.DetectorError,
        errors.FaceError,
        errors.StorageError,
        errors.SourceError,
        errors.ClusterError,
    ],
)
def test_every_error_is_a_camsift_error(error: type[Exception]) -> None:
    assert issubclass(error, camsift.CamsiftError)


def test_media_error_names_the_file_on_one_line() -> None:
    err = errors.MediaError("/footage/porch/clip.mp4", "empty file (0 bytes)")

    assert str(err) == "/footage/porch/clip.mp4: empty file (0 bytes)"
    assert (str(err.path), err.reason) == ("/footage/porch/clip.mp4", "empty file (0 bytes)")
