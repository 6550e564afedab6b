"""``cameras``: one entry per camera, whose sections override only the global keys they set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from pydantic import Field, create_model

from camsift.config.alarm import AlarmConfig
from camsift.config.base import ConfigModel, TimeWindows
from camsift.config.detect import DetectConfig
from camsift.config.events import EventsConfig
from camsift.config.motion import MotionConfig
from camsift.config.objects import ObjectsConfig
from camsift.config.record import RecordConfig
from camsift.config.retention import RetentionConfig

__all__ = ["CameraConfig", "partial"]


def partial(model: type[ConfigModel]) -> type[ConfigModel]:
    """``model`` with every key optional and no cross-key checks: a camera's overrides of one section.

    Keys keep their types and limits (the ``Annotated`` checks too), and unknown keys are
    still errors, so a typo under ``cameras.<name>`` is reported at load with its YAML line.
    Checks that involve several keys run on the merged section (`Settings.for_camera`).
    """

    def optional(info: Any) -> Any:
        kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        return kind | None

    fields: dict[str, Any] = {
        name: (optional(info), Field(None, description=info.description)) for name, info in model.model_fields.items()
    }
    doc = f"Overrides of the global '{model.__name__}' keys for one camera; keys left out keep the global value."
    return create_model(f"{model.__name__}Override", __base__=ConfigModel, __doc__=doc, **fields)


if TYPE_CHECKING:  # the override models are made at import; to mypy they are just models
    DetectOverride: TypeAlias = ConfigModel
    MotionOverride: TypeAlias = ConfigModel
    ObjectsOverride: TypeAlias = ConfigModel
    EventsOverride: TypeAlias = ConfigModel
    RecordOverride: TypeAlias = ConfigModel
    AlarmOverride: TypeAlias = ConfigModel
    RetentionOverride: TypeAlias = ConfigModel
else:
    DetectOverride, MotionOverride, ObjectsOverride, EventsOverride, RecordOverride, AlarmOverride = map(
        partial, (DetectConfig, MotionConfig, ObjectsConfig, EventsConfig, RecordConfig, AlarmConfig)
    )
    RetentionOverride = partial(RetentionConfig)


class CameraConfig(ConfigModel):
    """One camera. Sections given here override only the keys they set."""

    paths: list[str] = Field(
        default_factory=list, description="Glob patterns of files from this camera (e.g. '/nas/porch/**')"
    )
    detect: DetectOverride | None = Field(None, description="Overrides of the global 'detect' keys")
    motion: MotionOverride | None = Field(None, description="Overrides of the global 'motion' keys")
    objects: ObjectsOverride | None = Field(None, description="Overrides of the global 'objects' keys")
    events: EventsOverride | None = Field(None, description="Overrides of the global 'events' keys")
    record: RecordOverride | None = Field(None, description="Overrides of the global 'record' keys")
    alarm: AlarmOverride | None = Field(None, description="Overrides of the global 'alarm' keys")
    retention: RetentionOverride | None = Field(
        None, description="Overrides of the global 'retention' keys (the *_days keys and delete_footage)"
    )
    time_windows: TimeWindows = Field(
        default_factory=list,
        description="Daily windows 'HH:MM-HH:MM' (local time, may cross midnight) when footage that arrives is "
        "analysed; outside them it is kept but not analysed. Empty = always",
    )

    def overridden(self, section: str) -> set[str]:
        """The keys of ``section`` (``"objects"`` …) this camera sets itself."""
        changes = getattr(self, section, None)
        return set(changes.model_fields_set) if isinstance(changes, ConfigModel) else set()
