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
import re
from collections.abc import Mapping
from datetime import time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from camsift.errors import ConfigError
from camsift.faces import UNKNOWN

__all__ = [
    "AlarmConfig",
    "BlinkSourceConfig",
    "CameraConfig",
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
    "RetentionCategory",
    "RetentionConfig",
    "ServiceConfig",
    "Settings",
    "SourceConfig",
    "StreamSourceConfig",
    "WebConfig",
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
    mqtt_off_delay_s: float = Field(
        30.0,
        gt=0,
        description="Live streams: MQTT '<camera>/motion' goes OFF after this many seconds of stream time in which "
        "the motion gate saw no motion (Frigate's motion.mqtt_off_delay, 30)",
    )


# --- detector backends beyond the shipped models: yolo, rekognition, deepstack (issue 9) -----------------------


class YoloConfig(_Model):
    """Detector ``yolo``: your own ONNX model exported by Ultralytics (YOLOv8/11), YOLOX/YOLOv5 or YOLO-NAS."""

    model: Path | None = Field(None, description="The ONNX file (required when detect.detector is 'yolo')")
    class_names: list[str] | None = Field(
        None,
        description="Class names in the model's class order; default: the model's own 'names' metadata "
        "(Ultralytics exports have it), else the 80 COCO classes",
    )
    min_confidence: float = Field(0.25, ge=0, le=1, description="Boxes below this confidence are dropped")
    nms_iou: float = Field(
        0.7, gt=0, le=1, description="IoU above which overlapping boxes of one class are merged (Ultralytics' 0.7)"
    )
    layout: Literal["auto", "ultralytics", "yolov5", "yolox", "yolo-nas"] = Field(
        "auto",
        description="Output layout: 'auto' tells Ultralytics, YOLOv5 and YOLO-NAS apart by the outputs; "
        "'yolox' must be named (same outputs as YOLOv5, BGR 0-255 input)",
    )


class RekognitionConfig(_Model):
    """Detector ``rekognition``: AWS Rekognition DetectLabels (no local compute; needs camsift[aws])."""

    region: str | None = Field(None, description="AWS region; default: the AWS SDK's (AWS_REGION, ~/.aws/config)")
    profile: str | None = Field(None, description="AWS profile in ~/.aws; default: the AWS SDK's credential chain")
    min_confidence: float = Field(0.55, ge=0, le=1, description="Rekognition's MinConfidence (0-1; sent as percent)")
    max_labels: int = Field(20, ge=1, le=1000, description="Rekognition's MaxLabels: most labels per picture")
    image_resize_percent: int = Field(
        100, ge=5, le=100, description="Shrink each picture to this percent of its size before sending it"
    )
    daily_budget: int = Field(
        1000, ge=0, description="Most DetectLabels requests per UTC day; more fail with an error (0: no limit)"
    )
    price_per_1000: float = Field(
        1.0, ge=0, description="USD per 1000 pictures, for the cost estimate in 'camsift status' (AWS tier 1)"
    )


class DeepStackConfig(_Model):
    """Detector ``deepstack``: a DeepStack or CodeProject.AI server (``POST /v1/vision/detection``)."""

    url: str = Field("http://127.0.0.1:5000", description="Base URL of the server")
    api_key: SecretStr | None = Field(None, description="The server's API key, if it wants one (never logged)")
    min_confidence: float = Field(0.4, ge=0, le=1, description="Boxes below this confidence are not returned")
    timeout_s: float = Field(10.0, gt=0, description="Seconds to wait for one answer")


# --- end of issue 9 detector backends ---------------------------------------------------------------------------


class DetectConfig(_Model):
    """Detector and frame sampling."""

    detector: str = Field(
        "auto",
        description="Detector backend: 'auto' (SSDLite for people, NanoDet for other labels), 'ssdlite', 'nanodet', "
        "'picodet', 'picodet-320', 'nanodet-plus', "
        "'yolo' (your ONNX model), 'rekognition' (AWS), 'deepstack' (a DeepStack / CodeProject.AI server)",
    )
    fps: float = Field(5.0, gt=0, le=60, description="Frames per second of footage to analyse")
    recheck_s: float = Field(
        5.0,
        gt=0,
        description="Check the whole frame at least this often (seconds) even without motion, so a person "
        "who stopped moving is not lost (10 s: 12 % less detector time, but person-second recall on the "
        "shared clips fell from 0.885 to 0.864)",
    )
    refresh_s: float = Field(
        0.4, gt=0, description="Look again at tracked objects this often (seconds) when nothing new moves"
    )
    thorough_s: float = Field(
        1.0,
        gt=0,
        description="Give the detector's slower second opinion (auto: NanoDet) this often (seconds). 1 s since "
        "NanoDet runs in int8 (26 ms a crop, was 41): a person only NanoDet sees is found within a second; "
        "at 2 s the shared clips' person-second recall was 0.898-0.901, at 1 s 0.903",
    )
    nms_iou: float = Field(0.5, gt=0, le=1, description="IoU above which duplicate boxes of one label are merged")
    threads: int | None = Field(None, ge=1, description="Inference threads per worker; default: CPUs / jobs")
    # issue 9: GPUs and other backends
    providers: list[str] = Field(
        default_factory=lambda: ["CPUExecutionProvider"],
        description="ONNX Runtime execution providers, best first, e.g. [CUDAExecutionProvider, "
        "OpenVINOExecutionProvider, CPUExecutionProvider]; those not installed are skipped (logged), "
        "CPU is the last resort",
    )
    yolo: YoloConfig = Field(default_factory=YoloConfig, description="Settings of detector 'yolo'")
    rekognition: RekognitionConfig = Field(
        default_factory=RekognitionConfig, description="Settings of detector 'rekognition'"
    )
    deepstack: DeepStackConfig = Field(default_factory=DeepStackConfig, description="Settings of detector 'deepstack'")


class LabelFilter(_Model):
    """Per-label limits on what counts as a real detection."""

    min_confidence: float = Field(0.5, ge=0, le=1, description="An object must reach this confidence once")
    min_area: float = Field(0.0, ge=0, le=1, description="Smallest box, as a fraction of the frame area")
    max_area: float = Field(1.0, gt=0, le=1, description="Largest box, as a fraction of the frame area")


class ZoneConfig(_Model):
    """A named area; an object is in it when the bottom centre of its box is."""

    polygon: Polygon
    labels: list[str] = Field(default_factory=list, description="Labels this zone applies to; empty = all")


class FalsePositive(_Model):
    """Something the owner marked as not what the detector said (the web app's "false positive" button).

    A later detection of the same label on the same camera that overlaps this box
    (IoU at least `camsift.filters.FALSE_POSITIVE_IOU`) and is not clearly surer
    (`camsift.filters.FALSE_POSITIVE_MARGIN`) is dropped, so a coat on a hook or a
    statue stops making events without masking the area for real visitors.
    """

    label: str = Field(description="The label that was wrong")
    box: tuple[float, float, float, float] = Field(
        description="[x1, y1, x2, y2] of the wrong box, relative to the frame (0..1, origin top-left)"
    )
    confidence: float = Field(ge=0, le=1, description="Detector confidence of the wrong detection")
    event: str | None = Field(None, description="The event it was marked on (for reference)")


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
    false_positives: list[FalsePositive] = Field(
        default_factory=list,
        description="Detections marked as false positives (set by the web app; see FalsePositive): similar "
        "detections at the same place are dropped",
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
    best_frames: int = Field(
        3,
        ge=1,
        le=10,
        description="Best frames kept per event, at least half a second apart (the first is the snapshot; "
        "face recognition looks at all of them)",
    )


# --- faces ----------------------------------------------------------------------------------------------------------


class FacesConfig(_Model):
    """Face recognition on person events: a known-faces library, names on events, unknown faces grouped.

    Distances are Euclidean between dlib's 128-d face embeddings; unknown is the
    safe answer. Figures of ``bench/faces.py`` on ``../shared/data``: photos of
    the same adult are 0.23-0.52 apart, Lin-Manuel Miranda's faces in the Hamilton
    clip 0.31-0.65 from his photo (median 0.50); a stranger on a bus comes 0.58
    from Alex Lacamoire's second photo, so dlib's usual 0.6 names him. At 0.5:
    7 of 8 shared faces of enrolled people named (Alex's two photos are 0.52
    apart: enrol both), 0 of 26 unenrolled faces named; 0.55 names 8 of 8 and
    still 0 of 26, with a margin of 0.03 only. Children's faces lie close together
    in dlib's space (two different babies: 0.41): no threshold makes them safe.
    Sizes are face-box widths in pixels of the full-resolution frame; sharpness is
    the variance of the Laplacian of the 150x150 aligned face.
    """

    enabled: bool | Literal["auto"] = Field(
        "auto",
        description="'auto': look for faces when the library knows at least one person; true: always "
        "(unknown faces are collected for naming later); false: never",
    )
    engine: str = Field("dlib", description="Face detection and embedding engine ('dlib', needs camsift[faces])")
    match_distance: float = Field(
        0.5,
        gt=0,
        le=2,
        description="A face is a known person when its embedding is closer than this to one of the person's "
        "examples (dlib's usual 0.6 named a stranger: see bench/faces.py). Also the largest distance between "
        "two faces of one unknown-face group",
    )
    min_face_px: int = Field(
        40,
        ge=8,
        description="Smallest face looked at on events; at 20 px, strangers came as close to each other "
        "(0.51) as the same person does",
    )
    min_sharpness: float = Field(10.0, ge=0, description="Blurrier faces on events are ignored")
    enrol_min_face_px: int = Field(
        80,
        ge=20,
        description="Smallest face accepted as an example of a person (a photo, or a named unknown face): "
        "tiny, blurry examples make every blurry face match (Frigate #23450)",
    )
    enrol_min_sharpness: float = Field(
        30.0, ge=0, description="Blurriest face accepted as an example (a Gaussian blur of 2-3 px falls below)"
    )


class FaceRule(_Model):
    """Face conditions of a notification rule; the rule matches when any condition that is set holds.

    Uses the event's ``sub_label``: a person's name, ``"unknown"`` (a face was seen and not
    recognised) or none (no usable face was seen).
    """

    unknown: bool = Field(False, description="A face was seen and is not in the library")
    anyone_but: list[str] = Field(
        default_factory=list,
        description="Anyone who is not one of these people: unknown faces, other names and persons whose face "
        "was not seen",
    )
    arrived: list[str] = Field(default_factory=list, description="One of these people was recognised")

    def matches(self, sub_label: str | None) -> bool:
        """Whether an event with this ``sub_label`` (``Event.sub_label``) meets one of the conditions.

        Names compare without regard to case, as the known-faces library finds them (``Alice`` = ``alice``).
        """
        name = None if sub_label is None else sub_label.casefold()
        return (
            (self.unknown and sub_label == UNKNOWN)
            or (bool(self.anyone_but) and name not in {n.casefold() for n in self.anyone_but})
            or name in {n.casefold() for n in self.arrived}
        )


# --- the service (`camsift run`): recording, alarms, sources ------------------------------------------------------


class RecordConfig(_Model):
    """Clips of live streams: an in-memory buffer of encoded packets, pre-roll, post-roll.

    Defaults follow blinkvault, the design Blink live views come from (30 s kept in memory, so ``pre_roll_s`` can
    reach 30 s; nothing on disk while idle), and Frigate's event recordings (a few seconds before, 10 s after).
    """

    buffer_s: float = Field(
        30.0,
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
        3,
        ge=1,
        description="A job whose analysis crashed this many times (it kills its worker, or the service died "
        "with it) is given up; a clean stop of the service does not count",
    )
    queue_warn: int = Field(20, ge=1, description="Waiting jobs above which a growing queue is reported")
    heartbeat_s: float = Field(2.0, gt=0, description="Seconds between status updates that 'camsift status' reads")
    keep_jobs_days: float = Field(7.0, gt=0, description="Days finished jobs are kept (they make re-uploads no-ops)")

    @property
    def stale_s(self) -> float:
        """Seconds after which a part's last status update counts as stale (it stopped or was killed): three
        heartbeats and 5 s of slack."""
        return 3 * self.heartbeat_s + 5


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

    @field_validator("passive_ports")
    @classmethod
    def _port_range(cls, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if v is not None and not 1024 <= v[0] <= v[1] <= 65535:
            raise ValueError(f"expected [first, last] with 1024 <= first <= last <= 65535, got {list(v)}")
        return v


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


class BlinkSourceConfig(_Model):
    """Blink cameras through Blink's cloud (blinkpy): new motion clips downloaded and analysed, status, live view.

    Limits follow what Home Assistant's Blink integration and blinkpy use (a
    30 s refresh at the fastest, a pause between downloads): Blink suspends
    accounts that poll or bulk-download harder than its app does.
    """

    type: Literal["blink"] = Field(description="Source kind")
    token_file: Path | None = Field(
        None,
        description="Login token written by 'camsift blink login' (mode 0600); default: <data_dir>/blink/token.json. "
        "Re-read at every poll, so a new login takes effect without a restart",
    )
    poll_s: float = Field(60.0, ge=30, description="Seconds between polls of Blink's cloud (never below 30)")
    cameras: list[str] = Field(
        default_factory=list, description="Blink camera names whose clips are downloaded; empty = every camera"
    )
    local_storage: bool = Field(
        True, description="Also fetch clips from the Sync Module's USB stick (local storage), through its manifest"
    )
    request_delay_s: float = Field(
        2.0, ge=0.5, description="Pause in seconds between two clip downloads (Blink suspends bulk downloaders)"
    )
    max_clips_per_poll: int = Field(
        10, ge=1, description="Most clips downloaded in one poll; the rest wait for the next"
    )
    backfill_h: float = Field(
        24.0, ge=0, description="At the very first poll, clips of this many past hours are fetched (then only new ones)"
    )
    delete_empty: bool = Field(
        False, description="Delete a downloaded clip once its analysis found no event (default: keep every clip)"
    )
    live: list[str] = Field(
        default_factory=list,
        description="Blink camera names to keep a live view of (recorded around events like a 'stream' source). "
        "Each session lasts about 5 minutes and is reopened at once; this drains battery cameras",
    )
    live_reconnect_max_s: float = Field(
        300.0,
        ge=1,
        description="Longest wait before asking Blink for a live view again after a refusal or failure (backoff "
        "doubles from 1 s; a longer Retry-After is honoured); a session Blink ends is followed by the next at once",
    )


SourceConfig = Annotated[
    FolderSourceConfig | FtpSourceConfig | StreamSourceConfig | BlinkSourceConfig,
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


def _partial(model: type[_Model]) -> type[_Model]:
    """``model`` with every key optional and no cross-key checks: a camera's overrides of one section.

    Keys keep their types and limits, and unknown keys are still errors, so a
    typo under ``cameras.<name>`` is reported at load with its YAML line. Checks
    that involve several keys run on the merged section (`Settings.for_camera`).
    """

    def optional(info: Any) -> Any:
        kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        return kind | None

    fields: dict[str, Any] = {
        name: (optional(info), Field(None, description=info.description)) for name, info in model.model_fields.items()
    }
    doc = f"Overrides of the global '{model.__name__}' keys for one camera; keys left out keep the global value."
    return create_model(f"{model.__name__}Override", __base__=_Model, __doc__=doc, **fields)


if TYPE_CHECKING:  # the override models are made at import; to mypy they are just models
    DetectOverride: TypeAlias = _Model
    MotionOverride: TypeAlias = _Model
    ObjectsOverride: TypeAlias = _Model
    EventsOverride: TypeAlias = _Model
    RecordOverride: TypeAlias = _Model
    AlarmOverride: TypeAlias = _Model
else:
    DetectOverride, MotionOverride, ObjectsOverride, EventsOverride, RecordOverride, AlarmOverride = map(
        _partial, (DetectConfig, MotionConfig, ObjectsConfig, EventsConfig, RecordConfig, AlarmConfig)
    )


# --- retention (camsift/retention.py) -----------------------------------------------------------------------------

RetentionCategory = Literal["known_face", "unknown_face", "person", "other", "motion"]
"""What kind of evidence an item is, for retention: an event with a recognised face, with a face that was not
recognised, with a person, with another label (vehicle, animal); or footage in which nothing was found."""


_DISK_ORDER: tuple[RetentionCategory, ...] = ("motion", "other", "person", "unknown_face", "known_face")


class RetentionConfig(_Model):
    """What camsift keeps and for how long (``camsift retention``; on a schedule inside ``camsift run``).

    Days follow Frigate's retention by object label: an event's snapshots, face
    pictures and clip live as long as its category says; pinned events are never
    deleted. Days count from an event's start (UTC), or from a file's first frame
    for footage with no event. Per camera (``cameras.<name>.retention``) only the
    ``*_days`` keys and ``delete_footage`` are read; the rest is global.
    """

    enabled: bool = Field(True, description="Apply retention on a schedule inside 'camsift run'")
    interval_s: float = Field(900.0, ge=10, description="Seconds between two retention passes of 'camsift run'")
    known_face_days: float | None = Field(
        90.0, ge=0, description="Days events with a recognised face are kept (null: forever)"
    )
    unknown_face_days: float | None = Field(
        90.0, ge=0, description="Days events with a face that was not recognised are kept (null: forever)"
    )
    person_days: float | None = Field(90.0, ge=0, description="Days other person events are kept (null: forever)")
    other_days: float | None = Field(
        30.0, ge=0, description="Days events of other labels (vehicles, animals) are kept (null: forever)"
    )
    motion_days: float | None = Field(
        30.0,
        ge=0,
        description="Days footage in which nothing was found is kept (a clip recorded on motion, an upload "
        "outside the time windows); null: forever",
    )
    delete_footage: bool = Field(
        True,
        description="Delete footage camsift owns (files under data_dir: live-stream clips, FTP uploads) with its "
        "last event, or after motion_days when nothing was found in it. Footage elsewhere (a folder given to "
        "'camsift scan', a watched share) is never deleted",
    )
    max_disk_percent: float | None = Field(
        80.0,
        gt=0,
        le=100,
        description="Keep the disk of data_dir below this percentage used: above it, delete by disk_order, oldest "
        "first, until it is below, and tell the owner (null: no limit)",
    )
    disk_order: list[RetentionCategory] = Field(
        default_factory=lambda: list(_DISK_ORDER),
        description="Order in which categories are given up when the disk is above max_disk_percent (oldest "
        "first within one); categories left out are never deleted for space",
    )
    orphan_age_s: float = Field(
        3600.0,
        ge=0,
        description="A picture under events/ or faces/ that no event refers to is deleted once it is this old "
        "(a younger one may belong to an analysis in progress)",
    )

    def days(self, category: RetentionCategory) -> float | None:
        """Days items of ``category`` are kept (``None``: forever)."""
        days: float | None = getattr(self, f"{category}_days")
        return days


if TYPE_CHECKING:
    RetentionOverride: TypeAlias = _Model
else:
    RetentionOverride = _partial(RetentionConfig)


class CameraConfig(_Model):
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
    time_windows: list[str] = Field(
        default_factory=list,
        description="Daily windows 'HH:MM-HH:MM' (local time, may cross midnight) when footage that arrives is "
        "analysed; outside them it is kept but not analysed. Empty = always",
    )

    @field_validator("time_windows")
    @classmethod
    def _windows(cls, v: list[str]) -> list[str]:
        for window in v:
            if not re.match(_WINDOW, window):
                raise ValueError(f"expected 'HH:MM-HH:MM' (24-hour clock), got {window!r}")
        return v


# --- notifications and MQTT (camsift/notify/, camsift/mqtt.py) ----------------------------------------------------

_CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"


class NotifyChannel(_Model):
    """One place the owner is told: any service apprise knows, by its URL."""

    url: SecretStr = Field(
        description="Apprise URL: mailto://, json://, slack://, tgram://, ntfy://, discord://, pover://, pbul:// … "
        "(https://github.com/caronc/apprise/wiki). It holds tokens or passwords: it is never logged; prefer "
        "setting it with CAMSIFT_NOTIFY__CHANNELS__<NAME>__URL"
    )
    attach: bool = Field(True, description="Attach the annotated snapshot where the channel supports attachments")


class NotifyRule(_Model):
    """Which events notify which channels. Every condition that is set must hold."""

    channels: list[str] = Field(default_factory=list, description="Channels to tell; empty = every channel")
    cameras: list[str] = Field(default_factory=list, description="Only these cameras; empty = every camera")
    labels: list[str] = Field(default_factory=list, description="Only these labels; empty = every label")
    zones: list[str] = Field(
        default_factory=list, description="Only objects that entered one of these zones; empty = anywhere"
    )
    min_confidence: float = Field(0.0, ge=0, le=1, description="Only events at least this sure")
    faces: FaceRule | None = Field(None, description="Only person events whose face meets one of these conditions")
    alarms_only: bool = Field(
        True,
        description="Only events that raise an alarm (see 'alarm': 'labels' mode, or 'new_labels' for labels not "
        "normally in the picture). false: any event that passes this rule (e.g. a known face arriving)",
    )
    cooldown_s: float = Field(
        60.0,
        ge=0,
        description="After a message, events of the same camera and label (footage time) stay quiet this many "
        "seconds; kept in the database, so a restart remembers it",
    )
    quiet_hours: list[str] = Field(
        default_factory=list,
        description="Daily windows 'HH:MM-HH:MM' (local time, may cross midnight) with no messages from this rule "
        "(the daily digest still counts the events)",
    )

    @field_validator("labels")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [label.strip().lower() for label in v]

    @field_validator("quiet_hours")
    @classmethod
    def _windows(cls, v: list[str]) -> list[str]:
        for window in v:
            if not re.match(_WINDOW, window):
                raise ValueError(f"expected 'HH:MM-HH:MM' (24-hour clock), got {window!r}")
        return v


class DigestConfig(_Model):
    """A daily summary of what was seen: counts per camera and label, and the best picture."""

    channels: list[str] = Field(default_factory=list, description="Channels that get the digest; empty = no digest")
    at: str = Field("08:00", pattern=_CLOCK, description="Local time 'HH:MM' it is sent, covering the day before")


class ProblemsConfig(_Model):
    """Telling the owner what the service cannot fix alone, once per problem and rate-limited."""

    enabled: bool = Field(True, description="Tell the owner of problems (source down, disk full, failures)")
    channels: list[str] = Field(default_factory=list, description="Channels to tell; empty = every channel")
    repeat_s: float = Field(
        21600.0, ge=60, description="A problem that goes on is told again at most this often (seconds)"
    )
    source_down_s: float = Field(
        600.0,
        gt=0,
        description="A source in error or reconnecting (or the MQTT broker away) for this many seconds is reported",
    )
    failures: int = Field(5, ge=1, description="This many files in a row that fail analysis are reported")
    disk_used_pct: float = Field(
        90.0, gt=0, le=100, description="The data directory's disk this full (percent) is reported"
    )
    check_s: float = Field(30.0, gt=0, description="Seconds between checks of sources and disk")


class NotifyConfig(_Model):
    """Notifications: channels (apprise URLs), rules, a daily digest and problem alerts, through a durable outbox."""

    channels: dict[str, NotifyChannel] = Field(
        default_factory=dict, description="Channels by name; nothing is sent without at least one"
    )
    rules: dict[str, NotifyRule] = Field(
        default_factory=dict, description="Rules by name; empty = every alarm to every channel"
    )
    digest: DigestConfig = Field(default_factory=DigestConfig, description="A daily summary")
    problems: ProblemsConfig = Field(default_factory=ProblemsConfig, description="Problem alerts")
    public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s]+$",
        description="Address of camsift's web app as the owner's phone reaches it (e.g. https://cam.example.org); "
        "messages link to <public_url>/events/<id> and the clip; default: the file's path",
    )
    retry_first_s: float = Field(5.0, gt=0, description="First wait before sending again to a channel that failed")
    retry_max_s: float = Field(600.0, gt=0, description="Longest wait between tries (the wait doubles each time)")
    give_up_s: float = Field(
        172800.0, gt=0, description="A message not delivered after this many seconds is given up (and logged)"
    )
    scan_wait_s: float = Field(
        60.0,
        ge=0,
        description="'camsift scan --notify': how long to keep trying a channel that is down; what is left is "
        "sent by the next scan or 'camsift run'",
    )

    @model_validator(mode="after")
    def _known_channels(self) -> NotifyConfig:
        named = [(f"rules.{n}", r.channels) for n, r in self.rules.items()]
        named += [("digest", self.digest.channels), ("problems", self.problems.channels)]
        for where, channels in named:
            unknown = sorted(set(channels) - set(self.channels))
            if unknown:
                raise ValueError(f"{where}: unknown channel {', '.join(map(repr, unknown))}")
        return self


class MqttConfig(_Model):
    """MQTT for Home Assistant and friends, in Frigate's topic layout, with Home Assistant discovery."""

    enabled: bool = Field(False, description="Publish events, counts, snapshots and motion to an MQTT broker")
    host: str = Field("127.0.0.1", description="Broker address")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 usually for TLS)")
    username: str | None = Field(None, description="User name at the broker")
    password: SecretStr | None = Field(
        None, description="Password at the broker; never logged (prefer CAMSIFT_MQTT__PASSWORD)"
    )
    tls: bool = Field(False, description="Connect with TLS")
    ca_file: Path | None = Field(None, description="CA certificate (PEM) of the broker; default: the system's")
    cert_file: Path | None = Field(None, description="Client certificate (PEM), for brokers that ask for one")
    key_file: Path | None = Field(None, description="Key of the client certificate (PEM)")
    tls_insecure: bool = Field(False, description="Do not check the broker's host name (self-signed test brokers)")
    client_id: str = Field("camsift", description="MQTT client id (unique per broker)")
    topic_prefix: str = Field(
        "camsift", pattern=r"^[^#+\s]+[^#+\s/]$", description="First level of every topic ('camsift/events' …)"
    )
    discovery: bool = Field(True, description="Publish Home Assistant discovery configs (retained)")
    discovery_prefix: str = Field("homeassistant", description="Home Assistant's discovery prefix")
    off_delay_s: float = Field(
        30.0,
        gt=0,
        description="Counts fall back this many seconds after the last event; so does motion of cameras without "
        "a live stream (a live stream's motion follows its motion gate: motion.mqtt_off_delay_s)",
    )
    keepalive_s: int = Field(30, ge=5, description="MQTT keep-alive; the broker declares camsift offline after 1.5x")

    @model_validator(mode="after")
    def _key_with_cert(self) -> MqttConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


# --- the web app (camsift/web/) ----------------------------------------------------------------------------------


class WebConfig(_Model):
    """The web app (``camsift serve``, or inside ``camsift run`` when enabled): review, clips, faces, cameras, API.

    Everything but ``/api/health`` needs a login (``camsift users add``). It listens on
    127.0.0.1 by default: to reach it from elsewhere, put a TLS reverse proxy in front
    (README, "Web app behind a reverse proxy") rather than listening on the LAN in clear.
    """

    enabled: bool = Field(False, description="Serve the web app inside 'camsift run'")
    host: str = Field("127.0.0.1", description="Address to listen on (127.0.0.1: this machine only)")
    port: int = Field(5000, ge=1, le=65535, description="Port to listen on")
    session_hours: float = Field(168.0, gt=0, description="Hours a login lasts")
    cookie_secure: bool | Literal["auto"] = Field(
        "auto",
        description="Mark the session cookie Secure (sent over HTTPS only). 'auto': when the request came over "
        "HTTPS (through a proxy: see forwarded_allow_ips) or to this machine (127.0.0.1, localhost)",
    )
    forwarded_allow_ips: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are trusted "
        "(e.g. ['127.0.0.1']); empty: no proxy headers are trusted",
    )
    login_attempts: int = Field(
        5, ge=1, description="Failed logins allowed per client address and per user name in login_window_s"
    )
    login_window_s: float = Field(300.0, gt=0, description="Seconds over which failed logins are counted")
    ai_api: bool = Field(
        False, description="Also serve the DeepStack-compatible detection API (POST /v1/vision/detection)"
    )


class Settings(_Model):
    """The whole configuration (``camsift.yaml``)."""

    data_dir: Path = Field(Path("camsift-data"), description="Where pictures, clips and the database live")
    database: str | None = Field(None, description="SQLAlchemy URL of the event store; default: <data_dir>/camsift.db")
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
            ConfigError: the merged settings break a rule between keys (e.g. ``pre_roll_s > buffer_s``).
        """
        camera = self.cameras.get(name)
        if camera is None:
            return self
        update = {}
        for section in CameraConfig.model_fields:
            changes = getattr(camera, section)
            if isinstance(changes, BaseModel) and (given := changes.model_dump(exclude_unset=True)):
                base = getattr(self, section)
                update[section] = _revalidate(base, given, f"cameras.{name}.{section}")
        return self.model_copy(update=update)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        # Fail at load, not on every file later. (Reads the system's tz database: deterministic, no network.)
        try:
            return None if v is None else ZoneInfo(v).key
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {v!r}") from err

    @model_validator(mode="after")
    def _cameras_usable(self) -> Settings:
        """Fail at load, not file by file later: every camera's merged settings are valid."""
        for name in self.cameras:
            self.for_camera(name)
        return self


def _revalidate(base: M, changes: Mapping[str, Any], where: str) -> M:
    try:
        return type(base).model_validate({**base.model_dump(exclude_unset=True), **changes})
    except ValidationError as err:
        raise ConfigError(f"{where}: {_first_error(err)}") from err


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    msg = e["msg"].removeprefix("Value error, ")
    return f"{'.'.join(str(p) for p in e['loc'])}: {msg}" if e["loc"] else msg


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


def _without_tags(doc: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop the union tags pydantic puts in error locations (``sources.up.ftp.port`` -> ``sources.up.port``)."""
    kept: list[int | str] = []
    node = doc
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("type") == part:
            continue
        kept.append(part)
        node = (
            node.get(part)
            if isinstance(node, dict)
            else node[part]
            if isinstance(node, list) and isinstance(part, int) and part < len(node)
            else None
        )
    return tuple(kept)


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


_NOT_KEYS = frozenset({"CAMSIFT_CONFIG", "CAMSIFT_DEBUG", "CAMSIFT_AI_API_KEY"})  # the last: camsift ai-api


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
    from camsift.overrides import merge_camera_overrides  # the web app's per-camera settings

    merge_camera_overrides(doc)
    try:
        return Settings.model_validate(doc)
    except ConfigError as err:  # a rule between keys, from `Settings.for_camera`
        raise ConfigError(f"{where}: {err}") from err
    except ValidationError as err:
        lines = []
        for e in err.errors():
            loc = _without_tags(doc, tuple(e["loc"]))
            key = ".".join(str(p) for p in loc)
            at = _line_of(doc, loc)
            origin = f"{where}:{at}" if at else ("environment" if any(key.startswith(k) for k in env_keys) else where)
            msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
            lines.append(f"{origin}: {key}: {msg}")
        raise ConfigError("; ".join(lines)) from err
