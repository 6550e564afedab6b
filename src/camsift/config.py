"""Configuration: one pydantic model tree, loaded from YAML with environment overrides.

Every field has a description, so ``camsift config schema`` documents the YAML.
Unknown keys are errors (``extra="forbid"``), reported with the key's YAML line.
Validation is pure: no validator touches the disk or the network.

Environment variables override any key: ``CAMSIFT_`` + the key path joined by
``__``, e.g. ``CAMSIFT_DETECT__FPS=2`` or ``CAMSIFT_CAMERAS__PORCH__OBJECTS__LABELS='[person, cat]'``.
Values are parsed as YAML scalars/flow collections. (Hand-written rather than
pydantic-settings because the YAML line map needs the raw document.)

Per-camera sections (``cameras.<name>.motion`` …) override only the keys they
set; everything else comes from the global section (`Settings.for_camera`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import time, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from camsift.errors import ConfigError

__all__ = [
    "AlarmConfig",
    "CameraConfig",
    "DetectConfig",
    "EventsConfig",
    "FolderSourceConfig",
    "FtpSourceConfig",
    "FtpUser",
    "LabelFilter",
    "MotionConfig",
    "ObjectsConfig",
    "RecordConfig",
    "ServiceConfig",
    "Settings",
    "SourceConfig",
    "StreamSourceConfig",
    "ZoneConfig",
    "in_time_windows",
    "load_config",
]

Point = Annotated[tuple[float, float], Field(description="[x, y] relative to the frame: 0..1, origin top-left")]
Polygon = Annotated[list[Point], Field(min_length=3, description="Polygon as [[x, y], ...] in relative coordinates")]

M = TypeVar("M", bound=BaseModel)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MotionConfig(_Model):
    """Motion gate: frame differencing on a small grey copy against a running background.

    Defaults follow Frigate's motion detector (threshold 30, contour_area 10 at a
    100-pixel-high frame, frame_alpha 0.01 at 5 fps) adjusted for motion clips
    that are seconds long rather than continuous streams.
    """

    threshold: int = Field(25, ge=1, le=255, description="Grey-level difference (0-255) that counts as motion")
    contour_area: int = Field(8, ge=1, description="Smallest moving blob, in pixels of the small grey frame")
    frame_height: int = Field(120, ge=32, le=1080, description="Height in pixels of the grey copy the gate works on")
    frame_alpha: float = Field(
        0.05, gt=0, le=1, description="Background learning rate per sampled frame (higher adapts faster)"
    )
    lightning_fraction: float = Field(
        0.6,
        gt=0,
        le=1,
        description="When more than this fraction of the frame moves (scene cut, IR switch, camera pan), "
        "the background is reset and the whole frame is checked once",
    )
    mask: list[Polygon] = Field(default_factory=list, description="Areas where motion is ignored (clocks, trees)")


class DetectConfig(_Model):
    """Detector and frame sampling."""

    detector: str = Field(
        "auto",
        description="Detector backend: 'auto' (SSDLite for people, NanoDet for other labels), 'ssdlite', 'nanodet'",
    )
    fps: float = Field(5.0, gt=0, le=60, description="Frames per second of footage to analyse")
    recheck_s: float = Field(
        5.0, gt=0, description="Check the whole frame at least this often (seconds) even without motion"
    )
    refresh_s: float = Field(
        0.4, gt=0, description="Look again at tracked objects this often (seconds) when nothing new moves"
    )
    thorough_s: float = Field(
        2.0,
        gt=0,
        description="Give the detector's slower second opinion (auto: NanoDet) this often (seconds)",
    )
    nms_iou: float = Field(0.5, gt=0, le=1, description="IoU above which duplicate boxes of one label are merged")
    threads: int | None = Field(None, ge=1, description="Inference threads per worker; default: CPUs / jobs")


class LabelFilter(_Model):
    """Per-label limits on what counts as a real detection."""

    min_confidence: float = Field(0.5, ge=0, le=1, description="An object must reach this confidence once")
    min_area: float = Field(0.0, ge=0, le=1, description="Smallest box, as a fraction of the frame area")
    max_area: float = Field(1.0, gt=0, le=1, description="Largest box, as a fraction of the frame area")


class ZoneConfig(_Model):
    """A named area; an object is in it when the bottom centre of its box is."""

    polygon: Polygon
    labels: list[str] = Field(default_factory=list, description="Labels this zone applies to; empty = all")


class ObjectsConfig(_Model):
    """Which labels to look for and the filters they must pass."""

    labels: list[str] = Field(default_factory=lambda: ["person"], description="Labels to report (COCO names)")
    filters: dict[str, LabelFilter] = Field(default_factory=dict, description="Per-label filters; default for others")
    default: LabelFilter = Field(default_factory=LabelFilter, description="Filter for labels without their own")
    mask: list[Polygon] = Field(
        default_factory=list, description="Objects whose bottom centre is inside these polygons are ignored"
    )
    zones: dict[str, ZoneConfig] = Field(default_factory=dict, description="Named zones")
    required_zones: list[str] = Field(
        default_factory=list, description="If set, only objects inside one of these zones make events"
    )

    @field_validator("labels")
    @classmethod
    def _labels_not_empty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one label is needed")
        return [label.strip().lower() for label in v]

    def filter_for(self, label: str) -> LabelFilter:
        """The filter that applies to ``label``."""
        return self.filters.get(label, self.default)

    def at_least(self, min_confidence: float) -> ObjectsConfig:
        """A copy where every label needs at least ``min_confidence``."""

        def raised(f: LabelFilter) -> LabelFilter:
            return f.model_copy(update={"min_confidence": max(f.min_confidence, min_confidence)})

        return self.model_copy(
            update={"default": raised(self.default), "filters": {k: raised(v) for k, v in self.filters.items()}}
        )


class EventsConfig(_Model):
    """How tracked objects become events."""

    min_hits: int = Field(2, ge=1, description="Detections at min_confidence a tracked object needs to become an event")
    lost_s: float = Field(3.0, gt=0, description="Seconds without a detection after which a tracked object has left")
    still_min_confidence: float = Field(
        0.6,
        ge=0,
        le=1,
        description="A single picture gives one sighting and no second to confirm it, so its objects "
        "need at least this confidence (when higher than the label's min_confidence)",
    )


# --- the service (`camsift run`): recording, alarms, sources ------------------------------------------------------


class RecordConfig(_Model):
    """Clips of live streams: an in-memory buffer of encoded packets, pre-roll, post-roll.

    Defaults follow blinkvault (a 10 s buffer, nothing on disk while idle) and
    Frigate's event recordings (a few seconds before, 10 s after).
    """

    buffer_s: float = Field(
        10.0,
        ge=1,
        le=60,
        description="Seconds of encoded packets a live stream keeps in memory (the pre-roll comes from it); "
        "nothing is written to disk while nothing happens",
    )
    pre_roll_s: float = Field(
        5.0, ge=0, le=60, description="Seconds before an event starts that its clip begins (at most buffer_s)"
    )
    post_roll_s: float = Field(10.0, ge=0, le=300, description="Seconds after the last object left that a clip ends")
    max_clip_s: float = Field(
        60.0,
        ge=5,
        le=3600,
        description="A clip is closed (and analysed) after this many seconds and the recording goes on in a new "
        "one, so a long event is reported while it lasts",
    )
    keep_empty: bool = Field(
        False, description="Keep a recorded clip in which the full analysis finds no event (default: delete it)"
    )

    @model_validator(mode="after")
    def _pre_roll_in_buffer(self) -> RecordConfig:
        if self.pre_roll_s > self.buffer_s:
            raise ValueError(f"pre_roll_s ({self.pre_roll_s}) cannot exceed buffer_s ({self.buffer_s})")
        return self


class AlarmConfig(_Model):
    """Which events raise an alarm (what notifiers act on). Every event is stored either way.

    The two modes are those of the ipcam-analysis FTP design: ``labels`` alarms
    on the listed labels; ``new_labels`` alarms on anything that is not normally
    in the picture.
    """

    mode: Literal["labels", "new_labels"] = Field(
        "labels",
        description="'labels': alarm when one of 'labels' is found; 'new_labels': alarm on labels that are not "
        "normally in the picture ('labels' plus what was learnt)",
    )
    labels: list[str] = Field(
        default_factory=list,
        description="labels mode: the labels that alarm (empty = every label looked for); "
        "new_labels mode: labels that are normal here and never alarm",
    )
    learn_files: int = Field(
        20,
        ge=0,
        description="new_labels mode: a label found in at least learn_fraction of this camera's last learn_files "
        "analysed files is normal here (0 = learn nothing)",
    )
    learn_fraction: float = Field(0.5, gt=0, le=1, description="new_labels mode: see learn_files")
    cooldown_s: float = Field(
        60.0,
        ge=0,
        description="After an alarm, further events of the same label on the same camera are stored but raise "
        "no alarm for this many seconds",
    )

    @field_validator("labels")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [label.strip().lower() for label in v]


class ServiceConfig(_Model):
    """The always-on service (``camsift run``): workers and its durable queue."""

    workers: int | None = Field(
        None, ge=1, description="Worker processes analysing files (each loads the models once); default: CPUs // 2"
    )
    lease_s: float = Field(
        600.0, gt=0, description="Seconds a claimed job may take before it is handed out again (crash recovery)"
    )
    max_attempts: int = Field(
        3, ge=1, description="A job claimed this many times without finishing (it kills its worker) is given up"
    )
    queue_warn: int = Field(20, ge=1, description="Waiting jobs above which a growing queue is reported")
    heartbeat_s: float = Field(2.0, gt=0, description="Seconds between status updates that 'camsift status' reads")
    keep_jobs_days: float = Field(7.0, gt=0, description="Days finished jobs are kept (they make re-uploads no-ops)")


class FolderSourceConfig(_Model):
    """A watched folder: a NAS/SMB share or USB drive a camera writes clips or pictures into."""

    type: Literal["folder"] = Field(description="Source kind")
    path: Path = Field(description="The folder to watch (its sub-folders too)")
    camera: str | None = Field(
        None, description="Camera of every file here; default: the camera whose 'paths' match, else the folder name"
    )
    settle_s: float = Field(
        2.0,
        gt=0,
        description="A file is taken once its size and mtime have not changed for this many seconds "
        "(so half-written uploads are never analysed)",
    )
    poll: bool = Field(
        False, description="Poll instead of inotify: needed for network mounts (SMB/NFS) where inotify sees nothing"
    )
    delete_after: bool = Field(False, description="Delete each file once it has been analysed and recorded")
    move_to: Path | None = Field(None, description="Move each file here once analysed (keeps sub-folders)")

    @model_validator(mode="after")
    def _one_action(self) -> FolderSourceConfig:
        if self.delete_after and self.move_to is not None:
            raise ValueError("choose delete_after or move_to, not both")
        return self


class FtpUser(_Model):
    """One FTP account; its name is the camera name."""

    password_hash: str = Field(
        pattern=r"^\$argon2(id|i|d)\$",
        description="Argon2 hash of the password, made by 'camsift ftp passwd USER' (never the password itself)",
    )


class FtpSourceConfig(_Model):
    """An FTP server that cameras upload motion snapshots and clips to (one user per camera)."""

    type: Literal["ftp"] = Field(description="Source kind")
    host: str = Field("0.0.0.0", description="Address to listen on")  # noqa: S104 - cameras are on the LAN
    port: int = Field(2121, ge=1, le=65535, description="Control port (21 needs root; cameras accept any)")
    root: Path | None = Field(None, description="Uploads land in <root>/<user>/; default: <data_dir>/ftp")
    users: dict[str, FtpUser] = Field(
        default_factory=dict, description="Accounts by user name; the user name is the camera name"
    )
    passive_ports: tuple[int, int] | None = Field(
        None, description="[first, last] port range for passive data connections (open them in a firewall)"
    )
    masquerade_address: str | None = Field(
        None, description="Address announced for passive connections when behind NAT"
    )
    max_size_mb: float = Field(200.0, gt=0, description="Largest upload in MB; a bigger one is aborted and deleted")
    max_connections: int = Field(32, ge=1, description="Simultaneous connections")
    remove_files: bool = Field(False, description="Delete each upload once it has been analysed and recorded")


class StreamSourceConfig(_Model):
    """A live stream (RTSP, HTTP, MPEG-TS over TCP: anything FFmpeg opens) recorded around events."""

    type: Literal["stream"] = Field(description="Source kind")
    url: str = Field(description="Stream address, e.g. rtsp://192.168.1.20:554/stream1 (better without a password)")
    camera: str | None = Field(None, description="Camera name; default: the source's name")
    username: str | None = Field(None, description="User name, put into the URL when connecting")
    password: SecretStr | None = Field(
        None, description="Password, put into the URL when connecting; never logged (prefer an environment variable)"
    )
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport (tcp survives packet loss)")
    timeout_s: float = Field(10.0, gt=0, description="Seconds without data after which the stream counts as dropped")
    reconnect_max_s: float = Field(
        30.0, ge=1, description="Longest wait between reconnection attempts (backoff doubles from 1 s)"
    )


SourceConfig = Annotated[
    FolderSourceConfig | FtpSourceConfig | StreamSourceConfig,
    Field(discriminator="type"),
]
"""One footage source; the ``type`` key picks the kind. New kinds (``blink``) join this union."""

_WINDOW = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"


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


class CameraConfig(_Model):
    """One camera. Sections given here override only the keys they set."""

    paths: list[str] = Field(
        default_factory=list, description="Glob patterns of files from this camera (e.g. '/nas/porch/**')"
    )
    detect: dict[str, Any] = Field(default_factory=dict, description="Overrides of the global 'detect' keys")
    motion: dict[str, Any] = Field(default_factory=dict, description="Overrides of the global 'motion' keys")
    objects: dict[str, Any] = Field(default_factory=dict, description="Overrides of the global 'objects' keys")
    events: dict[str, Any] = Field(default_factory=dict, description="Overrides of the global 'events' keys")
    record: dict[str, Any] = Field(default_factory=dict, description="Overrides of the global 'record' keys")
    alarm: dict[str, Any] = Field(default_factory=dict, description="Overrides of the global 'alarm' keys")
    time_windows: list[Annotated[str, Field(pattern=_WINDOW)]] = Field(
        default_factory=list,
        description="Daily windows 'HH:MM-HH:MM' (local time, may cross midnight) when footage that arrives is "
        "analysed; outside them it is kept but not analysed. Empty = always",
    )


class Settings(_Model):
    """The whole configuration (``camsift.yaml``)."""

    data_dir: Path = Field(Path("camsift-data"), description="Where pictures, clips and the database live")
    database: str | None = Field(None, description="SQLAlchemy URL of the event store; default: <data_dir>/camsift.db")
    timezone: str | None = Field(
        None, description="IANA time zone of times in file names and of dated folders; default: this machine's"
    )
    detect: DetectConfig = Field(default_factory=DetectConfig)
    motion: MotionConfig = Field(default_factory=MotionConfig)
    objects: ObjectsConfig = Field(default_factory=ObjectsConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    cameras: dict[str, CameraConfig] = Field(default_factory=dict, description="Cameras by name")
    record: RecordConfig = Field(default_factory=RecordConfig, description="Clips of live streams")
    alarm: AlarmConfig = Field(default_factory=AlarmConfig, description="Which events raise an alarm")
    service: ServiceConfig = Field(default_factory=ServiceConfig, description="The always-on service ('camsift run')")
    sources: dict[str, SourceConfig] = Field(
        default_factory=dict,
        description="Where footage comes from for 'camsift run', by source name; 'type' picks the kind "
        "(folder, ftp, stream). A mapping, not a list, so environment variables can reach every key: "
        "CAMSIFT_SOURCES__<NAME>__PORT",
    )

    def tz(self) -> tzinfo | None:
        """The configured time zone, or ``None`` for this machine's.

        Raises:
            ConfigError: unknown zone name.
        """
        if self.timezone is None:
            return None
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ConfigError(f"timezone: unknown time zone {self.timezone!r}") from err

    def for_camera(self, name: str) -> Settings:
        """These settings with camera ``name``'s overrides applied (unknown camera: unchanged).

        Raises:
            ConfigError: an override key or value is invalid.
        """
        camera = self.cameras.get(name)
        if camera is None:
            return self
        try:
            return self.model_copy(
                update={
                    section: _override(getattr(self, section), getattr(camera, section))
                    for section in ("detect", "motion", "objects", "events", "record", "alarm")
                }
            )
        except ValidationError as err:
            raise ConfigError(f"cameras.{name}: {_first_error(err)}") from err


def _override(base: M, changes: Mapping[str, Any]) -> M:
    if not changes:
        return base
    return type(base).model_validate({**base.model_dump(exclude_unset=True), **changes})


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key."""


def _mapping_with_lines(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        result[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    return _Lined(result, lines)


class _Lined(dict[Any, Any]):
    """A dict that also knows the YAML line of each key."""

    def __init__(self, data: dict[Any, Any], lines: dict[Any, int]) -> None:
        super().__init__(data)
        self.lines = lines


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_lines)


def _line_of(doc: Any, loc: tuple[int | str, ...]) -> int | None:
    line = None
    node = doc
    for part in loc:
        if isinstance(node, _Lined) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            break
    return line


def _set(doc: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``doc[path[0]][path[1]]... = value``, creating mappings on the way."""
    node = doc
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


_NOT_KEYS = frozenset({"CAMSIFT_CONFIG", "CAMSIFT_DEBUG"})


def _apply_env(doc: dict[str, Any], environ: Mapping[str, str]) -> list[str]:
    """Overlay ``CAMSIFT_A__B=value`` variables onto ``doc``; returns the key paths set."""
    applied = []
    for name, raw in sorted(environ.items()):
        if not name.startswith("CAMSIFT_") or name in _NOT_KEYS:
            continue
        path = name[len("CAMSIFT_") :].lower().split("__")
        try:
            _set(doc, path, yaml.safe_load(raw))
        except yaml.YAMLError as err:
            raise ConfigError(f"environment variable {name}: not valid YAML: {getattr(err, 'problem', err)}") from err
        applied.append(".".join(path))
    return applied


def load_config(
    path: Path | None = None, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read ``camsift.yaml`` (if given), apply environment and explicit overrides, validate.

    Args:
        path: YAML file; ``None`` = defaults only.
        environ: Environment to read ``CAMSIFT_*`` overrides from; default ``os.environ``.
        overrides: Dotted key paths to set last (CLI options), e.g. ``{"detect.fps": 2}``;
            ``None`` values are ignored.

    Returns:
        The validated settings.

    Raises:
        ConfigError: unreadable file, bad YAML, unknown key or bad value; the
            message names the file, the line and the key path.
    """
    doc: dict[str, Any] = {}
    where = str(path) if path else "config"
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from err
        try:
            loaded = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
        except ConfigError as err:
            raise ConfigError(f"{path}: {err}") from err
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = f" line {mark.line + 1}:" if mark else ""
            raise ConfigError(f"{path}:{line} not valid YAML: {getattr(err, 'problem', err)}") from err
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of keys at the top, found {type(loaded).__name__}")
        doc = loaded or {}
    env_keys = _apply_env(doc, os.environ if environ is None else environ)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set(doc, dotted.split("."), value)
    try:
        return Settings.model_validate(doc)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            loc = tuple(e["loc"])
            key = ".".join(str(p) for p in loc)
            at = _line_of(doc, loc)
            origin = f"{where}:{at}" if at else ("environment" if any(key.startswith(k) for k in env_keys) else where)
            msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
            lines.append(f"{origin}: {key}: {msg}")
        raise ConfigError("; ".join(lines)) from err
