"""``rekognition``: AWS Rekognition DetectLabels as camsift's detector (no local compute).

Each image the pipeline looks at is sent as a JPEG (optionally shrunk to
``image_resize_percent``) to ``DetectLabels`` with ``MinConfidence`` and
``MaxLabels``. Rekognition answers with labels, some with instances (boxes as
fractions of the picture) and each with its parent categories (``Sedan`` →
``Car`` → ``Vehicle`` → ``Transportation``). A label becomes a camsift label by
its own name or, failing that, by its nearest known parent (`LABELS`: ``Human``
→ person, ``Car``/``Vehicle`` → car, ``Pickup Truck`` → truck …), which is the
design of the ipcam-analysis project this backend follows. Only labels with
instances give detections (a box is needed to track and to draw); duplicate
boxes (``Car`` and ``Vehicle`` on one car) are merged by NMS.

Every request first takes one unit of the day's budget (``daily_budget``,
counted per UTC day in the event store by `camsift.store.usage.UsageBoard`, so
all worker processes and nodes share it); when it is used up the scan stops
with a `DetectorError`. ``camsift status`` shows requests and an estimated cost
(``price_per_1000``: AWS's first-tier price, 1.00 USD per 1000 images).

`check_aws` is ``camsift check aws``: credentials found, ``sts:GetCallerIdentity``,
and one small ``rekognition:DetectLabels``, each reported on one line; no key
or secret is ever printed (the caller's ARN and account id are not secrets).

Needs ``camsift[aws]`` (boto3).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from camsift.boxes import nms
from camsift.detections import Detections
from camsift.detectors import register
from camsift.detectors.deepstack import encode_jpeg
from camsift.errors import DetectorError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["LABELS", "SERVICE", "Check", "RekognitionDetector", "UsageCounter", "check_aws", "to_detections"]

SERVICE = "rekognition"
"""Name of this API in the usage table."""


class UsageCounter(Protocol):
    """What the detector needs of the usage table (`camsift.store.usage.UsageBoard`): one request counted."""

    def spend(self, service: str, limit: int) -> int | None:
        """Count one request of ``service`` if today's budget of ``limit`` (0: none) allows; else ``None``."""


LABELS: dict[str, str] = {
    "Person": "person",
    "Human": "person",
    "Man": "person",
    "Woman": "person",
    "Child": "person",
    "Boy": "person",
    "Girl": "person",
    "Bicycle": "bicycle",
    "Motorcycle": "motorcycle",
    "Car": "car",
    "Vehicle": "car",  # a vehicle Rekognition names no closer (a van, an SUV) is a car to camsift
    "Truck": "truck",
    "Pickup Truck": "truck",
    "Bus": "bus",
    "Train": "train",
    "Boat": "boat",
    "Airplane": "airplane",
    "Aircraft": "airplane",
    "Bird": "bird",
    "Cat": "cat",
    "Dog": "dog",
    "Horse": "horse",
    "Sheep": "sheep",
    "Cow": "cow",
    "Cattle": "cow",
    "Bear": "bear",
    "Elephant": "elephant",
    "Zebra": "zebra",
    "Giraffe": "giraffe",
}
"""Rekognition label (or parent) name → camsift label (COCO name)."""

NMS_IOU = 0.7
"""IoU above which two boxes of one camsift label are one object (``Car`` and ``Vehicle`` on the same car)."""


def to_detections(answer: dict[str, Any], width: int, height: int) -> Detections:
    """A DetectLabels answer to `Detections` in pixels of a ``width`` x ``height`` picture.

    Args:
        answer: The response (``Labels`` with ``Instances``, ``Parents``; confidences in percent).
        width: Picture width, pixels.
        height: Picture height, pixels.

    Returns:
        One detection per instance whose label (or nearest known parent) is in `LABELS`, confidence
        in ``[0, 1]``, boxes clipped to the picture; per-label NMS at `NMS_IOU`, best first.
    """
    rows: list[tuple[float, float, float, float]] = []
    confidence: list[float] = []
    labels: list[str] = []
    for label in answer.get("Labels", []):
        names = [label.get("Name", ""), *(p.get("Name", "") for p in label.get("Parents", []))]
        ours = next((LABELS[n] for n in names if n in LABELS), None)
        if ours is None:
            continue
        for instance in label.get("Instances", []):
            box = instance.get("BoundingBox") or {}
            left, top = box.get("Left", 0.0) * width, box.get("Top", 0.0) * height
            rows.append((left, top, left + box.get("Width", 0.0) * width, top + box.get("Height", 0.0) * height))
            confidence.append(instance.get("Confidence", label.get("Confidence", 0.0)) / 100)
            labels.append(ours)
    xyxy = np.clip(np.array(rows, np.float32).reshape(-1, 4), 0, [width, height, width, height])
    found = Detections(xyxy=xyxy, confidence=np.array(confidence, np.float32), label=np.array(labels, np.str_))
    return nms(found[(xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])], iou=NMS_IOU)


def _session(region: str | None, profile: str | None) -> Any:
    """A boto3 session (the SDK's credential chain, or ``profile``).

    Raises:
        DetectorError: boto3 is not installed or the profile does not exist.
    """
    try:
        import boto3
        from botocore.exceptions import BotoCoreError
    except ImportError as err:
        raise DetectorError("rekognition: boto3 is not installed; run: pip install 'camsift[aws]'") from err
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except BotoCoreError as err:
        raise DetectorError(f"rekognition: {err}") from err


def _reason(err: Exception) -> str:
    """One line about a botocore error: the AWS error code and message (they carry no secrets)."""
    response = getattr(err, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0] if lines else ''}"


@register("rekognition")
class RekognitionDetector:
    """Detections from AWS Rekognition DetectLabels (see the module docstring).

    Args:
        region: AWS region; default the SDK's.
        profile: AWS profile; default the SDK's credential chain.
        min_confidence: ``MinConfidence`` in ``[0, 1]`` (sent as percent).
        max_labels: ``MaxLabels``.
        image_resize_percent: Shrink each picture to this percent of its size before sending (5-100).
        daily_budget: Most requests per UTC day (0: no limit).
        price_per_1000: USD per 1000 pictures (only for the cost estimate).
        threads: Ignored (AWS does the work); accepted like every backend's.
        data_dir: The data directory of the event store that counts requests.
        database: Its ``database`` URL (default SQLite in ``data_dir``).
        usage: The daily request counter (`UsageCounter`, e.g. a `camsift.store.usage.UsageBoard`); default:
            the ``api_usage`` table of the event store at ``data_dir`` / ``database``, opened at the first
            request (`camsift.store.engine.open_database`; the detector never needs the whole Store).
        client: A boto3 Rekognition client to use (tests pass one with botocore's Stubber).

    Raises:
        DetectorError: boto3 is missing, the profile does not exist, or no region is configured.

    The database opened to count requests is closed by `close` (or leaving a ``with`` block),
    else when the detector is garbage-collected or the process exits; a given ``usage`` is left open.

    Example:
        >>> with RekognitionDetector(region="eu-west-1", data_dir=Path("data")) as detector:  # doctest: +SKIP
        ...     found = detector.detect(rgb_frame)
    """

    name = "rekognition"
    labels = frozenset(LABELS.values())
    input_size = (1280, 1280)  # Rekognition takes whole frames; it sees small objects in them itself

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        min_confidence: float = 0.55,
        max_labels: int = 20,
        image_resize_percent: int = 100,
        daily_budget: int = 1000,
        price_per_1000: float = 1.0,
        threads: int = 1,
        data_dir: Path | None = None,
        database: str | None = None,
        usage: UsageCounter | None = None,
        client: Any = None,
    ) -> None:
        if client is None:
            from botocore.exceptions import NoRegionError

            try:
                client = _session(region, profile).client("rekognition")
            except NoRegionError as err:
                raise DetectorError("rekognition: no AWS region; set detect.rekognition.region") from err
        self._client = client
        self.min_confidence, self.max_labels = min_confidence, max_labels
        self.resize = image_resize_percent / 100
        self.daily_budget, self.price_per_1000 = daily_budget, price_per_1000
        self._usage, self._store_at = usage, (data_dir, database)
        self._engine: Engine | None = None  # opened by `_spend` when no `usage` was given
        self._closer: weakref.finalize[[], RekognitionDetector] | None = None

    def _spend(self) -> None:
        """Take one request from today's budget.

        Raises:
            DetectorError: the budget is used up, or there is no store to count in.
            StorageError: the event store cannot be opened.
        """
        if self._usage is None:
            from camsift.store.engine import open_database
            from camsift.store.usage import UsageBoard

            data_dir, database = self._store_at
            if data_dir is None:
                raise DetectorError("rekognition: no event store to count requests in (data_dir)")
            self._engine = open_database(data_dir.resolve(), database)
            self._closer = weakref.finalize(self, self._engine.dispose)
            self._usage = UsageBoard(self._engine)
        if self._usage.spend(SERVICE, self.daily_budget) is None:
            raise DetectorError(
                f"rekognition: today's budget of {self.daily_budget} requests (UTC day) is used up; "
                "raise detect.rekognition.daily_budget or wait for tomorrow"
            )

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Find objects in one image (one paid request).

        Args:
            image: ``(H, W, 3)`` uint8 RGB, any size.

        Returns:
            Detections in pixels of ``image`` (see `to_detections`).

        Raises:
            DetectorError: the budget is used up, or AWS refused or could not be reached.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        height, width = image.shape[:2]
        sent: npt.NDArray[Any] = image
        if self.resize < 1:
            import cv2

            size = (max(1, round(width * self.resize)), max(1, round(height * self.resize)))
            sent = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        self._spend()
        try:
            answer = self._client.detect_labels(
                Image={"Bytes": encode_jpeg(sent)},
                MaxLabels=self.max_labels,
                MinConfidence=round(100 * self.min_confidence, 3),
            )
        except (ClientError, BotoCoreError) as err:
            raise DetectorError(f"rekognition: DetectLabels failed: {_reason(err)}") from err
        return to_detections(answer, width, height)

    def detect_batch(
        self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
    ) -> list[Detections]:
        """`detect` on each image in turn (one request each); ``thorough`` and ``earlier`` are ignored."""
        return [self.detect(image) for image in images]

    def close(self) -> None:
        """Close the database opened to count requests (a later request opens it again)."""
        if self._closer is not None:
            self._closer()  # disposes of the engine once, and no more at garbage collection
            self._closer = self._engine = self._usage = None

    def __enter__(self) -> RekognitionDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Check:
    """One step of `check_aws`.

    Attributes:
        name: What was checked (``credentials``, ``sts:GetCallerIdentity``, ``rekognition:DetectLabels``).
        ok: It worked.
        detail: One line: what was found, or why it failed. Never a key or secret.
    """

    name: str
    ok: bool
    detail: str


def check_aws(region: str | None = None, profile: str | None = None, *, session: Any = None) -> list[Check]:
    """Verify AWS credentials and permissions the way ipcam-analysis's ``--test-aws`` did.

    Steps, stopping at the first failure: credentials are found (and by which method: environment,
    shared file, instance role …); ``sts:GetCallerIdentity`` answers (account and ARN); one
    ``rekognition:DetectLabels`` on a small grey picture is allowed (this one request is not counted
    in the daily budget and costs a tenth of a cent).

    Args:
        region: AWS region; default the SDK's.
        profile: AWS profile; default the SDK's credential chain.
        session: A boto3 session to use (tests); default one from ``region`` and ``profile``.

    Returns:
        The steps done, in order; all ``ok`` means Rekognition can be used.

    Raises:
        DetectorError: boto3 is missing or the profile does not exist.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    session = session or _session(region, profile)
    credentials = session.get_credentials()
    if credentials is None:
        return [Check("credentials", False, "none found (environment, ~/.aws/credentials, ~/.aws/config, role)")]
    checks = [Check("credentials", True, f"found ({credentials.method})")]
    try:
        who = session.client("sts").get_caller_identity()
        checks.append(Check("sts:GetCallerIdentity", True, f"account {who['Account']}, {who['Arn']}"))
        rekognition = session.client("rekognition")
        rekognition.detect_labels(Image={"Bytes": encode_jpeg(np.full((96, 96, 3), 128, np.uint8))}, MaxLabels=1)
        checks.append(Check("rekognition:DetectLabels", True, f"allowed in {rekognition.meta.region_name}"))
    except (ClientError, BotoCoreError) as err:
        step = "sts:GetCallerIdentity" if len(checks) == 1 else "rekognition:DetectLabels"
        checks.append(Check(step, False, _reason(err)))
    return checks
