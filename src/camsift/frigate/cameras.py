"""Frigate's shapes of camsift's cameras and service: ``/api/config`` (`frigate_config`), the cameras' MQTT
states, which cameras exist and which source feeds each, and ``/api/stats`` (`frigate_stats`) (`camsift.frigate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from camsift.frigate.objects import FRIGATE_VERSION, version

if TYPE_CHECKING:
    from camsift.config import Settings
    from camsift.store.status import Component

__all__ = [
    "STREAMING",
    "camera_config",
    "camera_feeds",
    "camera_names",
    "camera_states",
    "frigate_config",
    "frigate_stats",
    "live_cameras",
    "storage",
]


def _on(enabled: bool) -> dict[str, bool]:
    return {"enabled": enabled, "enabled_in_config": enabled}


def camera_config(settings: Settings, camera: str, live: bool) -> dict[str, Any]:
    """One camera of Frigate's ``/api/config`` ``cameras``: the keys Frigate's clients read.

    Args:
        settings: The configuration (camera overrides merged by `Settings.for_camera`).
        camera: The camera's name.
        live: The camera has a live stream (a ``stream`` source, a Blink live view).

    Returns:
        ``name``, ``enabled``, ``objects.track`` (the camera's labels) and ``objects.filters``, ``zones``
        (``coordinates`` as Frigate's comma-separated relative points, ``objects``), ``detect``,
        ``motion``, ``record``, ``snapshots``, ``audio``, ``review``, ``onvif``, ``live``, ``birdseye``,
        ``notifications``, ``face_recognition``, ``lpr``, ``ffmpeg``, ``mqtt``, ``ui``; features camsift does
        not have are present and off.
    """
    own = settings.for_camera(camera)
    objects = own.objects
    zones = {
        name: {
            "coordinates": ",".join(f"{x:g},{y:g}" for x, y in zone.polygon),
            "objects": list(zone.labels),
            "inertia": 3,
            "loitering_time": 0,
            "filters": {},
        }
        for name, zone in objects.zones.items()
    }
    labels = list(objects.labels)
    return {
        "name": camera,
        **_on(True),
        "objects": {
            "track": labels,
            "filters": {label: objects.filter_for(label).model_dump(mode="json") for label in labels},
            "mask": "",
        },
        "zones": zones,
        "detect": {**_on(True), "fps": own.detect.fps, "width": None, "height": None},
        "motion": {
            **_on(True),
            "threshold": own.motion.threshold,
            "contour_area": own.motion.contour_area,
            "improve_contrast": False,
            "mask": "",
        },
        "record": {
            **_on(live),
            "events": {"pre_capture": own.record.pre_roll_s, "post_capture": own.record.post_roll_s},
        },
        "snapshots": {**_on(True), "bounding_box": True, "crop": False, "timestamp": True},
        "audio": {**_on(False), "listen": []},
        "review": {
            "alerts": {**_on(True), "labels": labels, "required_zones": list(objects.required_zones)},
            "detections": {**_on(True), "labels": None, "required_zones": []},
        },
        "onvif": {"host": "", "autotracking": {**_on(False)}},
        "ptz": {"enabled": False},
        "live": {"stream_name": camera, "height": 720, "quality": 8},
        "birdseye": {"enabled": False, "mode": "objects", "order": 0},
        "notifications": _on(False),
        "face_recognition": {"enabled": settings.faces.enabled, "min_area": 0},
        "lpr": {"enabled": False},
        "ffmpeg": {"inputs": []},
        "best_image_timeout": 60,
        "webui_url": None,
        "ui": {"order": 0, "dashboard": True},
    }


def frigate_config(settings: Settings, cameras: Mapping[str, bool]) -> dict[str, Any]:
    """Frigate's ``/api/config`` keys for ``cameras`` (name -> has a live stream); not redacted.

    Returns:
        ``version`` (Frigate's config version), ``cameras`` (`camera_config`), ``mqtt`` (``enabled``,
        ``host``, ``port``, ``user``, ``topic_prefix``, ``client_id``), ``model`` (the detector's labels as
        ``labelmap``), ``detectors``, ``go2rtc`` (no restreams), ``birdseye``, ``face_recognition``, ``lpr``,
        ``audio``, ``ui``, ``auth``.
    """
    from camsift.detectors.coco import COCO80

    m = settings.mqtt
    return {
        "version": f"{FRIGATE_VERSION.rsplit('.', 1)[0]}-0",
        "safe_mode": False,
        "cameras": {name: camera_config(settings, name, live) for name, live in sorted(cameras.items())},
        "mqtt": {
            "enabled": m.enabled,
            "host": m.host,
            "port": m.port,
            "user": m.username,
            "topic_prefix": m.topic_prefix,
            "client_id": m.client_id,
            "stats_interval": m.stats_interval_s,
            "tls_insecure": m.tls_insecure,
        },
        "model": {
            "path": settings.detect.detector,
            "width": 320,
            "height": 320,
            "labelmap": dict(enumerate(COCO80)),
            "model_type": settings.detect.detector,
            "input_pixel_format": "rgb",
        },
        "detectors": {settings.detect.detector: {"type": settings.detect.detector}},
        "go2rtc": {"streams": {}},
        "birdseye": {"enabled": False, "restream": False},
        "face_recognition": {"enabled": settings.faces.enabled},
        "lpr": {"enabled": False},
        "audio": {"enabled": False},
        "ui": {"timezone": settings.timezone},
        "auth": {"enabled": True},
        "proxy": {},
        "telemetry": {"version_check": False},
    }


STREAMING = frozenset({"running", "recording"})
"""States of a live source's status row while its frames are read."""


def live_cameras(settings: Settings) -> set[str]:
    """Cameras of live sources (``stream`` sources and Blink live views)."""
    found = set()
    for name, source in settings.sources.items():
        if source.type == "stream":
            found.add(source.camera or name)
        found.update(getattr(source, "live", []) or [])
    return found


def camera_feeds(settings: Settings) -> dict[str, str]:
    """Source name feeding each camera, where the config says (stream, FTP users, Blink, folders with a camera)."""
    found: dict[str, str] = {}
    for name, source in settings.sources.items():
        cameras: list[str] = []
        if source.type == "stream":
            cameras = [source.camera or name]
        elif source.type == "folder" and source.camera:
            cameras = [source.camera]
        elif source.type == "ftp":
            cameras = list(source.users)
        else:
            cameras = [*(getattr(source, "cameras", None) or []), *(getattr(source, "live", None) or [])]
        found.update(dict.fromkeys(cameras, name))
    return found


def camera_names(settings: Settings, stored: Iterable[str] = ()) -> list[str]:
    """Every camera: configured, fed by a source, or with stored events (``stored``), sorted.

    ``/api/stats``, ``/api/config`` and ``<prefix>/stats`` list the same cameras: Frigate's clients look each
    camera of the one up in the other.
    """
    return sorted({*settings.cameras, *stored, *camera_feeds(settings)})


def storage(settings: Settings) -> dict[str, dict[str, float | str]]:
    """Frigate's ``service.storage``: the data directory's disk as ``/media/frigate/clips`` (total, used, free
    in MB); empty when it cannot be read."""
    import shutil

    try:
        usage = shutil.disk_usage(settings.data_dir)
    except OSError:
        return {}
    mb = 1024 * 1024
    return {
        "/media/frigate/clips": {
            "total": round(usage.total / mb, 1),
            "used": round(usage.used / mb, 1),
            "free": round(usage.free / mb, 1),
            "mount_type": "",
        }
    }


def frigate_stats(
    settings: Settings, components: Iterable[Component], running: bool, cameras: Iterable[str]
) -> dict[str, Any]:
    """Frigate's ``/api/stats`` and ``<prefix>/stats`` keys from the status board.

    Args:
        settings: The configuration.
        components: `camsift.store.status.ServiceBoard.components`.
        running: ``camsift run`` reported itself lately (`ServiceBoard.service_running`).
        cameras: The cameras to list (`camera_names`).

    Returns:
        ``service`` (``uptime`` in seconds, 0 when not running; ``version``, ``latest_version``, ``storage``,
        ``temperatures``, ``last_updated``), ``detectors`` (``inference_speed`` 0: not measured),
        ``detection_fps`` (0), ``cpu_usages``, ``gpu_usages``, ``processes`` (empty), and ``cameras`` with
        ``camera_fps``/``process_fps`` (``detect.fps`` while a live stream is read, else 0),
        ``skipped_fps``/``detection_fps`` (0), ``detection_enabled``, ``pid``/``capture_pid`` (the feeding
        source's process), ``ffmpeg_pid``, ``audio_rms``, ``audio_dBFS``; plus ``source_part``, the status row
        name of its source (for camsift's own keys).
    """
    from datetime import UTC, datetime

    parts = {p.name: p for p in components}
    feeds, live = camera_feeds(settings), live_cameras(settings)
    out_cameras = {}
    for name in cameras:
        key = f"source:{name}" if f"source:{name}" in parts else f"source:{feeds.get(name)}"
        part = parts.get(key)  # a live view reports under its camera's name
        reading = running and part is not None and part.state in STREAMING and name in live
        fps = settings.for_camera(name).detect.fps if reading else 0.0
        pid = part.pid if part else None
        out_cameras[name] = {
            "camera_fps": fps,
            "process_fps": fps,
            "skipped_fps": 0.0,
            "detection_fps": 0.0,
            "detection_enabled": 1,
            "pid": pid,
            "capture_pid": pid,
            "ffmpeg_pid": None,
            "audio_rms": 0.0,
            "audio_dBFS": 0.0,
            "source_part": key if part else None,
        }
    service = parts.get("service")
    now = datetime.now(UTC)
    up = running and service is not None and service.started_utc is not None
    uptime = int((now - service.started_utc).total_seconds()) if up and service and service.started_utc else 0
    return {
        "service": {
            "uptime": max(0, uptime),
            "version": version(),
            "latest_version": version(),
            "storage": storage(settings),
            "temperatures": {},
            "last_updated": int(now.timestamp()),
        },
        "detectors": {
            settings.detect.detector: {
                "inference_speed": 0.0,
                "detection_start": 0.0,
                "pid": service.pid if service else None,
            }
        },
        "detection_fps": 0.0,
        "cpu_usages": {},
        "gpu_usages": {},
        "processes": {},
        "cameras": out_cameras,
    }


def camera_states(settings: Settings, camera: str, live: bool) -> dict[str, str]:
    """Frigate's retained ``<prefix>/<camera>/<feature>/state`` values for one camera (what the Home Assistant
    integration's camera entity and switches show), from `camera_config`: ``ON``/``OFF``, or a number.

    camsift has no remote switches: the matching ``…/set`` topics are not listened to.
    """
    c = camera_config(settings, camera, live)

    def on(enabled: bool) -> str:
        return "ON" if enabled else "OFF"

    return {
        "enabled": on(c["enabled"]),
        "detect": on(c["detect"]["enabled"]),
        "recordings": on(c["record"]["enabled"]),
        "snapshots": on(c["snapshots"]["enabled"]),
        "motion": on(c["motion"]["enabled"]),
        "improve_contrast": on(c["motion"]["improve_contrast"]),
        "motion_threshold": str(c["motion"]["threshold"]),
        "motion_contour_area": str(c["motion"]["contour_area"]),
        "review_alerts": on(c["review"]["alerts"]["enabled"]),
        "review_detections": on(c["review"]["detections"]["enabled"]),
        "audio": on(c["audio"]["enabled"]),
        "birdseye": on(c["birdseye"]["enabled"]),
        "notifications": on(c["notifications"]["enabled"]),
        "ptz_autotracker": on(c["onvif"]["autotracking"]["enabled"]),
    }
