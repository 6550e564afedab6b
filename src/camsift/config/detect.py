"""``detect``: the detector backend, its own options, and how often frames are looked at."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from camsift.config.base import ConfigModel, Fraction, Seconds, WebUrl
from camsift.detectors import available

__all__ = ["DeepStackConfig", "DetectConfig", "RekognitionConfig", "YoloConfig"]


class YoloConfig(ConfigModel):
    """Detector ``yolo``: your own ONNX model exported by Ultralytics (YOLOv8/11), YOLOX/YOLOv5 or YOLO-NAS."""

    model: Path | None = Field(None, description="The ONNX file (required when detect.detector is 'yolo')")
    class_names: list[str] | None = Field(
        None,
        description="Class names in the model's class order; default: the model's own 'names' metadata "
        "(Ultralytics exports have it), else the 80 COCO classes",
    )
    min_confidence: Fraction = Field(0.25, description="Boxes below this confidence are dropped")
    nms_iou: float = Field(
        0.7, gt=0, le=1, description="IoU above which overlapping boxes of one class are merged (Ultralytics' 0.7)"
    )
    layout: Literal["auto", "ultralytics", "yolov5", "yolox", "yolo-nas"] = Field(
        "auto",
        description="Output layout: 'auto' tells Ultralytics, YOLOv5 and YOLO-NAS apart by the outputs; "
        "'yolox' must be named (same outputs as YOLOv5, BGR 0-255 input)",
    )


class RekognitionConfig(ConfigModel):
    """Detector ``rekognition``: AWS Rekognition DetectLabels (no local compute; needs camsift[aws])."""

    region: str | None = Field(None, description="AWS region; default: the AWS SDK's (AWS_REGION, ~/.aws/config)")
    profile: str | None = Field(None, description="AWS profile in ~/.aws; default: the AWS SDK's credential chain")
    min_confidence: Fraction = Field(0.55, description="Rekognition's MinConfidence (0-1; sent as percent)")
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


class DeepStackConfig(ConfigModel):
    """Detector ``deepstack``: a DeepStack or CodeProject.AI server (``POST /v1/vision/detection``)."""

    url: WebUrl = Field("http://127.0.0.1:5000", description="Base URL of the server")
    api_key: SecretStr | None = Field(None, description="The server's API key, if it wants one (never logged)")
    min_confidence: Fraction = Field(0.4, description="Boxes below this confidence are not returned")
    timeout_s: Seconds = Field(10.0, description="Seconds to wait for one answer")


class DetectConfig(ConfigModel):
    """Detector and frame sampling."""

    detector: str = Field(
        "auto",
        description="Detector backend: 'auto' (PicoDet-S with NanoDet-Plus as the second opinion), 'picodet', "
        "'picodet-320', 'nanodet-plus', 'ssdlite', 'nanodet', "
        "'yolo' (your ONNX model), 'rekognition' (AWS), 'deepstack' (a DeepStack / CodeProject.AI server)",
    )
    fps: float = Field(5.0, gt=0, le=60, description="Frames per second of footage to analyse")
    recheck_s: Seconds = Field(
        5.0,
        description="Check the whole frame at least this often (seconds) even without motion, so a person "
        "who stopped moving is not lost (longer saves detector time and loses people: bench/NOTES.md)",
    )
    refresh_s: Seconds = Field(
        0.4, description="Look again at tracked objects this often (seconds) when nothing new moves"
    )
    thorough_s: Seconds = Field(
        1.0,
        description="Give the detector's slower second opinion (auto: NanoDet-Plus) this often (seconds), so "
        "a person only it sees is found within a second",
    )
    nms_iou: float = Field(0.5, gt=0, le=1, description="IoU above which duplicate boxes of one label are merged")
    threads: int | None = Field(None, ge=1, description="Inference threads per worker; default: CPUs / jobs")
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

    @field_validator("detector")
    @classmethod
    def _known_detector(cls, v: str) -> str:
        if v not in available():
            raise ValueError(f"unknown detector {v!r}; expected one of {', '.join(available())}")
        return v

    @model_validator(mode="after")
    def _yolo_has_a_model(self) -> DetectConfig:
        if self.detector == "yolo" and self.yolo.model is None:
            raise ValueError("detector 'yolo' needs yolo.model: your ONNX file")
        return self
