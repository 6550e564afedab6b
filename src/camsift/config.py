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
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from camsift.errors import ConfigError

__all__ = [
    "CameraConfig",
    "DetectConfig",
    "EventsConfig",
    "LabelFilter",
    "MotionConfig",
    "ObjectsConfig",
    "Settings",
    "ZoneConfig",
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


class CameraConfig(_Model):
    """One camera. Sections given here override only the keys they set."""

    paths: list[str] = Field(
        default_factory=list, description="Glob patterns of files from this camera (e.g. '/nas/porch/**')"
    )
    detect: dict[str, Any] = Field(default_factory=dict, description="Overrides of the global 'detect' keys")
    motion: dict[str, Any] = Field(default_factory=dict, description="Overrides of the global 'motion' keys")
    objects: dict[str, Any] = Field(default_factory=dict, description="Overrides of the global 'objects' keys")
    events: dict[str, Any] = Field(default_factory=dict, description="Overrides of the global 'events' keys")


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
                    for section in ("detect", "motion", "objects", "events")
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
