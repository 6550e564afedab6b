"""Configuration: one pydantic model tree, loaded from YAML with environment and command-line overrides.

Every field has a description, so ``camsift config schema`` documents the YAML.
Unknown keys are errors (``extra="forbid"``), reported with the key's YAML line.
Validation is pure: no validator touches the disk or the network, except the
start-up checks that ``camsift run`` and ``camsift config check`` ask for
(``load_config(..., thorough=True)``).

Layout, one module per section as Frigate splits its config:

- `camsift.config.base`: the base model, the shared value types (``Annotated``:
  `Fraction`, `Port`, `Label`, `TimeWindows` …), the located error `ConfigKeyError`;
- one module per section: ``detect``, ``motion``, ``objects``, ``events``, ``faces``,
  ``record``, ``alarm``, ``service``, ``sources``, ``retention``, ``notify``, ``mqtt``,
  ``web``, and ``cameras`` (a camera's sections override only the keys they set);
- `camsift.config.settings`: the root `Settings` and its per-camera view;
- `camsift.config.labels` and `camsift.config.startup`: checks across sections
  (labels the detector knows; files the service reads);
- `camsift.config.loader`: YAML with line numbers, then `camsift.config.environment`
  (``CAMSIFT_*`` variables through pydantic-settings), command-line overrides and
  `camsift.config.overrides` (the web app's per-camera settings).

Example:
    >>> from camsift.config import load_config
    >>> load_config(environ={"CAMSIFT_DETECT__FPS": "2"}).detect.fps
    2.0
"""

from __future__ import annotations

from camsift.config.alarm import AlarmConfig
from camsift.config.base import in_time_windows
from camsift.config.cameras import CameraConfig
from camsift.config.detect import DeepStackConfig, DetectConfig, RekognitionConfig, YoloConfig
from camsift.config.events import EventsConfig
from camsift.config.faces import FacesConfig
from camsift.config.loader import load_config
from camsift.config.motion import MotionConfig
from camsift.config.mqtt import MqttConfig
from camsift.config.notify import DigestConfig, FaceRule, NotifyChannel, NotifyConfig, NotifyRule, ProblemsConfig
from camsift.config.objects import FalsePositive, LabelFilter, ObjectsConfig, ZoneConfig
from camsift.config.overrides import CameraSettings
from camsift.config.record import RecordConfig
from camsift.config.retention import RetentionCategory, RetentionConfig
from camsift.config.service import ServiceConfig
from camsift.config.settings import Settings
from camsift.config.sources import (
    BlinkSourceConfig,
    FolderSourceConfig,
    FtpSourceConfig,
    FtpUser,
    SourceConfig,
    StreamSourceConfig,
)
from camsift.config.web import WebConfig

__all__ = [
    "AlarmConfig",
    "BlinkSourceConfig",
    "CameraConfig",
    "CameraSettings",
    "DeepStackConfig",
    "DetectConfig",
    "DigestConfig",
    "EventsConfig",
    "FaceRule",
    "FacesConfig",
    "FalsePositive",
    "FolderSourceConfig",
    "FtpSourceConfig",
    "FtpUser",
    "LabelFilter",
    "MotionConfig",
    "MqttConfig",
    "NotifyChannel",
    "NotifyConfig",
    "NotifyRule",
    "ObjectsConfig",
    "ProblemsConfig",
    "RecordConfig",
    "RekognitionConfig",
    "RetentionCategory",
    "RetentionConfig",
    "ServiceConfig",
    "Settings",
    "SourceConfig",
    "StreamSourceConfig",
    "WebConfig",
    "YoloConfig",
    "ZoneConfig",
    "in_time_windows",
    "load_config",
]
