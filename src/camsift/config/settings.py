"""The root of the configuration tree (``camsift.yaml``) and its per-camera view."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator, model_validator

from camsift.config.alarm import AlarmConfig
from camsift.config.base import ConfigKeyError, ConfigModel, DatabaseUrl, thorough
from camsift.config.cameras import CameraConfig
from camsift.config.detect import DetectConfig
from camsift.config.events import EventsConfig
from camsift.config.faces import FacesConfig
from camsift.config.labels import check_labels
from camsift.config.motion import MotionConfig
from camsift.config.mqtt import MqttConfig
from camsift.config.notify import NotifyConfig
from camsift.config.objects import ObjectsConfig
from camsift.config.record import RecordConfig
from camsift.config.retention import RetentionConfig
from camsift.config.service import ServiceConfig
from camsift.config.sources import SourceConfig
from camsift.config.startup import check_files, check_libraries
from camsift.config.web import WebConfig
from camsift.errors import ConfigError

__all__ = ["Settings"]

M = TypeVar("M", bound=BaseModel)


class Settings(ConfigModel):
    """The whole configuration (``camsift.yaml``)."""

    data_dir: Path = Field(Path("camsift-data"), description="Where pictures, clips and the database live")
    database: DatabaseUrl | None = Field(
        None, description="SQLAlchemy URL of the event store; default: <data_dir>/camsift.db"
    )
    timezone: str | None = Field(
        None, description="IANA time zone of times in file names and of dated folders; default: this machine's"
    )
    detect: DetectConfig = Field(default_factory=DetectConfig, description="Detector and frame sampling")
    motion: MotionConfig = Field(
        default_factory=MotionConfig, description="The motion gate: frames without motion skip the detector"
    )
    objects: ObjectsConfig = Field(
        default_factory=ObjectsConfig, description="What counts: labels, confidence, box area, zones and masks"
    )
    events: EventsConfig = Field(
        default_factory=EventsConfig, description="How tracked objects become events, and their snapshots"
    )
    cameras: dict[str, CameraConfig] = Field(default_factory=dict, description="Cameras by name")
    record: RecordConfig = Field(default_factory=RecordConfig, description="Clips of live streams")
    alarm: AlarmConfig = Field(default_factory=AlarmConfig, description="Which events raise an alarm")
    service: ServiceConfig = Field(default_factory=ServiceConfig, description="The always-on service ('camsift run')")
    faces: FacesConfig = Field(default_factory=FacesConfig, description="Face recognition on person events")
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig, description="What is kept and for how long; the disk-usage limit"
    )
    sources: dict[str, SourceConfig] = Field(
        default_factory=dict,
        description="Where footage comes from for 'camsift run', by source name; 'type' picks the kind "
        "(folder, ftp, stream, blink). A mapping, not a list, so environment variables can reach every key: "
        "CAMSIFT_SOURCES__<NAME>__PORT",
    )
    notify: NotifyConfig = Field(
        default_factory=NotifyConfig, description="Notifications: channels, rules, daily digest, problem alerts"
    )
    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="MQTT and Home Assistant discovery")
    web: WebConfig = Field(default_factory=WebConfig, description="The web app ('camsift serve')")

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
            ConfigKeyError: the merged settings break a rule between keys (e.g. ``pre_roll_s > buffer_s``);
                the key path is ``cameras.<name>.<section>``.
        """
        camera = self.cameras.get(name)
        if camera is None:
            return self
        update = {}
        for section in CameraConfig.model_fields:
            changes = getattr(camera, section)
            if isinstance(changes, BaseModel) and (given := changes.model_dump(exclude_unset=True)):
                base = getattr(self, section)
                update[section] = _revalidate(base, given, ("cameras", name, section))
        return self.model_copy(update=update)

    def scopes(self) -> Iterator[tuple[str | None, Settings]]:
        """The global settings (camera ``None``), then each camera's with its overrides applied."""
        yield None, self
        for name in self.cameras:
            yield name, self.for_camera(name)

    def key_of(self, camera: str | None, section: str, *key: str | int) -> tuple[str | int, ...]:
        """Where ``<section>.<key>`` is set for ``camera``: under ``cameras.<camera>`` if it sets it, else globally."""
        own = camera is not None and str(key[0]) in self.cameras[camera].overridden(section)
        return ("cameras", str(camera), section, *key) if own else (section, *key)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        # Fail at load, not on every file later. (Reads the system's tz database: deterministic, no network.)
        try:
            return None if v is None else ZoneInfo(v).key
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {v!r}") from err

    @model_validator(mode="after")
    def _usable(self, info: ValidationInfo) -> Settings:
        """Fail at load, not file by file later: every camera's merged settings are valid, every label is
        one its detector knows, and (at start-up) the files and libraries the service loads are there."""
        for name in self.cameras:
            self.for_camera(name)
        check_labels(self)
        if thorough(info):
            check_files(self)
            check_libraries(self)
        return self


def _revalidate(base: M, changes: Mapping[str, Any], loc: tuple[str, ...]) -> M:
    try:
        return type(base).model_validate({**base.model_dump(exclude_unset=True), **changes})
    except ValidationError as err:
        e = err.errors()[0]
        raise ConfigKeyError((*loc, *e["loc"]), e["msg"].removeprefix("Value error, ")) from err
