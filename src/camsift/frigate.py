"""Frigate's shapes of camsift's facts: what Frigate's own clients read, over HTTP and MQTT.

One module for the Frigate 0.14-0.16 names and layouts that both the REST API
(`camsift.web.api`) and MQTT (`camsift.mqtt`) speak, so the two never drift:
the version string, an event as ``/api/events`` lists it, and a tracked object
as ``<prefix>/events`` carries it in ``before``/``after``. camsift's own keys
(`camsift.events.Event.to_dict`) stay in every payload; Frigate's are added.

Boxes: Frigate's API gives ``data.box`` and ``data.region`` relative to the
frame as ``[x, y, width, height]`` (0..1); its MQTT gives ``box`` and
``region`` in pixels as ``[x1, y1, x2, y2]``, with ``area`` in square pixels
and ``ratio`` width/height. camsift has one box per event (in the snapshot's
pixels) and no detection region, so ``region`` is the box.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camsift import __version__

if TYPE_CHECKING:
    from camsift.config import Settings
    from camsift.events import Event
    from camsift.review import ReviewItem
    from camsift.store import Store
    from camsift.store.status import Component

__all__ = [
    "FRIGATE_VERSION",
    "STREAMING",
    "alert_labels",
    "api_event",
    "camera_config",
    "camera_feeds",
    "camera_names",
    "camera_states",
    "frame_size",
    "frigate_config",
    "frigate_stats",
    "item_of",
    "live_cameras",
    "relative_box",
    "review_payload",
    "storage",
    "sub_label_pair",
    "tracked_object",
    "version",
]

FRIGATE_VERSION = "0.16.0"
"""The Frigate release whose API and MQTT camsift is a superset of (0.14 and 0.15 clients work too)."""


def version() -> str:
    """What ``GET /api/version`` answers: Frigate's version with camsift's as a pre-release tag.

    ``0.16.0-camsift.<camsift version>``: Frigate's clients compare the part before ``-`` (the Home
    Assistant integration refuses 0.13 and older; frigate-notify reads the minor number).
    """
    return f"{FRIGATE_VERSION}-camsift.{__version__}"


@lru_cache(maxsize=4096)
def _size(path: str, mtime_ns: int) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        return None


def frame_size(path: Path | None) -> tuple[int, int] | None:
    """Width and height in pixels of a snapshot (read from the file's header, cached); ``None`` when there is
    no readable picture."""
    if path is None:
        return None
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    return _size(str(path), mtime)


def relative_box(box_xyxy: tuple[float, float, float, float], size: tuple[int, int] | None) -> list[float] | None:
    """A pixel box ``(x1, y1, x2, y2)`` as Frigate's API gives it: ``[x, y, width, height]`` relative to a frame
    of ``size`` (width, height), each 0..1 and rounded to 4 places; ``None`` without a size."""
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    width, height = size
    x1, y1, x2, y2 = box_xyxy
    values = (x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height)
    return [round(min(1.0, max(0.0, v)), 4) for v in values]


def sub_label_pair(e: Event) -> list[Any] | None:
    """Frigate's MQTT ``sub_label``: ``[name, score]`` (score 0..1, ``None`` when unknown), or ``None``."""
    if e.sub_label is None:
        return None
    return [e.sub_label, None if e.sub_label_score is None else round(e.sub_label_score, 4)]


def _score(e: Event) -> float:
    return round(e.confidence if e.top_score is None else e.top_score, 4)


def api_event(
    e: Event,
    *,
    retain: bool = False,
    false_positive: bool = False,
    thumbnail: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An event as Frigate's ``GET /api/events`` lists it, with camsift's keys (`Event.to_dict`) as extras.

    Args:
        e: The stored event.
        retain: Pinned (Frigate's ``retain_indefinitely``).
        false_positive: Marked as a false positive.
        thumbnail: Base64 JPEG for ``include_thumbnails=1`` (Frigate's key is left out otherwise).
        extra: More keys to add (camsift's marks).

    Returns:
        Frigate's keys ``id``, ``camera``, ``label``, ``sub_label`` (a string, as Frigate's API has it),
        ``start_time``/``end_time`` (Unix seconds), ``zones``, ``has_clip``, ``has_snapshot``,
        ``retain_indefinitely``, ``false_positive``, ``plus_id``, ``model_hash``, ``model_type``,
        ``detector_type``, ``data`` (``box`` and ``region`` relative ``[x, y, w, h]``, ``score``,
        ``top_score``, ``attributes``, ``type``), and camsift's keys.
    """
    size = frame_size(e.snapshot)
    box = relative_box(e.box_xyxy, size)
    out = {
        **e.to_dict(),
        "zones": list(e.zones),
        "retain_indefinitely": retain,
        "false_positive": false_positive,
        "plus_id": None,
        "model_hash": None,
        "model_type": None,
        "detector_type": None,
        "data": {
            "box": box,
            "region": box,
            "score": round(e.confidence, 4),
            "top_score": _score(e),
            "attributes": [],
            "type": "object",
            "sub_label_score": e.sub_label_score,
        },
        **(extra or {}),
    }
    if thumbnail is not None:
        out["thumbnail"] = thumbnail
    return out


def tracked_object(
    e: Event,
    *,
    ended: bool,
    active: bool = True,
    false_positive: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A tracked object as Frigate's ``<prefix>/events`` ``before``/``after`` carry it, plus camsift's keys.

    Args:
        e: The event.
        ended: The object is gone: ``end_time`` set, ``current_zones`` empty.
        active: Frigate's ``active`` (moving, not stationary).
        false_positive: Frigate's ``false_positive``.
        extra: More keys (camsift's ``alarm``, ``origin``).

    Returns:
        Frigate's keys (``frame_time``, ``snapshot{}``, ``box``/``region`` in pixels ``[x1, y1, x2, y2]``,
        ``area`` in square pixels, ``ratio``, ``score``, ``top_score``, ``active``, ``stationary``,
        ``motionless_count``, ``position_changes``, ``current_zones``, ``entered_zones``, ``attributes``,
        ``current_attributes``, ``has_snapshot``, ``has_clip``, ``sub_label`` as ``[name, score]``), and
        camsift's (`Event.to_dict`, ``end_utc`` null until ended).
    """
    x1, y1, x2, y2 = e.box_xyxy
    width, height = max(0.0, x2 - x1), max(0.0, y2 - y1)
    box = [round(v) for v in e.box_xyxy]
    area = round(width * height)
    ratio = round(width / height, 4) if height else 0.0
    end = e.end_utc.timestamp()
    base = e.to_dict()
    return {
        **base,
        "end_utc": base["end_utc"] if ended else None,
        "end_time": end if ended else None,
        "frame_time": end,
        "sub_label": sub_label_pair(e),
        "camsift_sub_label": e.sub_label,
        "score": round(e.confidence, 4),
        "top_score": _score(e),
        "false_positive": false_positive,
        "box": box,
        "region": box,
        "area": area,
        "ratio": ratio,
        "active": active and not e.stationary,
        "stationary": e.stationary,
        "motionless_count": 0,
        "position_changes": 0 if e.stationary else 1,
        "current_zones": [] if ended else list(e.zones),
        "entered_zones": list(e.zones),
        "attributes": {},
        "current_attributes": [],
        "thumbnail": None,
        "snapshot": {
            "frame_time": e.start_utc.timestamp(),
            "box": box,
            "area": area,
            "region": box,
            "score": round(e.confidence, 4),
            "attributes": [],
        }
        if e.snapshot is not None
        else None,
        **(extra or {}),
    }


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


REVIEW_WINDOW_S = 3600.0
"""Seconds around a live-stream event searched for the rest of its review item (`item_of`)."""


def alert_labels(settings: Settings) -> tuple[str, ...]:
    """Labels that make a review item an alert: ``web.alert_labels`` where the config has it, else
    `camsift.review.DEFAULT_ALERT_LABELS` (Frigate's person and car)."""
    from camsift.review import DEFAULT_ALERT_LABELS

    labels = getattr(settings.web, "alert_labels", None)
    return tuple(labels) if labels else DEFAULT_ALERT_LABELS


def review_payload(item: ReviewItem) -> dict[str, Any]:
    """A review item as Frigate's ``/api/review`` and ``<prefix>/reviews`` carry it (`ReviewItem.to_dict`),
    with ``thumb_path`` the API address of its cover event's thumbnail rather than a file path."""
    doc = item.to_dict()
    doc["thumb_path"] = f"/api/events/{item.cover.id}/thumbnail.webp" if item.cover.snapshot else None
    return doc


def item_of(store: Store, event: Event, alert_labels: Collection[str]) -> ReviewItem | None:
    """The review item (`camsift.review.review_items`) an event belongs to, from the stored events: those of
    its file, or for a live stream those of its camera within `REVIEW_WINDOW_S`; ``None`` when the event is
    not stored."""
    from datetime import timedelta

    from camsift.review import review_items

    window = timedelta(seconds=REVIEW_WINDOW_S)
    if event.source is not None and event.clip != event.source:
        near = store.events(camera=event.camera, source=event.source)
    else:
        near = store.events(camera=event.camera, since=event.start_utc - window, until=event.end_utc + window)
    reviewed = [i for i, m in store.marks([e.id for e in near]).items() if m.reviewed]
    return next(
        (i for i in review_items(near, alert_labels=alert_labels, reviewed=reviewed) if event.id in i.detections),
        None,
    )


# --- stats ------------------------------------------------------------------------------------------------------

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
