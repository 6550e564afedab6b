"""``deepstack``: a DeepStack or CodeProject.AI server as camsift's detector.

Both servers answer ``POST /v1/vision/detection`` with a multipart form
(``image``: the picture file; ``min_confidence``: a float; ``api_key`` when the
server was started with one) and reply
``{"success": true, "predictions": [{"label", "confidence", "x_min", "y_min",
"x_max", "y_max"}]}`` with boxes in pixels of the picture sent (DeepStack's
object detection API, https://docs.deepstack.cc/object-detection/; CodeProject.AI
keeps it). Their labels are COCO names, camsift's own vocabulary. camsift
itself can be such a server: `camsift.detection_api`.

Each call sends one JPEG (quality 90); a server that cannot be reached or
answers with an error stops the scan with a `DetectorError` (every file would
fail the same way), never with the API key in the message.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import SecretStr

from camsift.detections import Detections
from camsift.detectors import register
from camsift.detectors.coco import COCO80
from camsift.errors import DetectorError

__all__ = ["BOX_KEYS", "PATH", "DeepStackDetector", "encode_jpeg"]

PATH = "/v1/vision/detection"
"""The object detection endpoint of DeepStack and CodeProject.AI."""

BOX_KEYS = ("x_min", "y_min", "x_max", "y_max")
"""A prediction's box keys, in xyxy order (pixels)."""


def encode_jpeg(image: npt.NDArray[np.uint8], quality: int = 90) -> bytes:
    """``(H, W, 3)`` uint8 RGB to JPEG bytes (Pillow)."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(image).save(out, format="JPEG", quality=quality)
    return out.getvalue()


@register("deepstack")
class DeepStackDetector:
    """Sends each image to a DeepStack / CodeProject.AI server (see the module docstring).

    Args:
        url: Base URL of the server, e.g. ``http://192.168.1.9:32168``.
        api_key: The server's API key, if it wants one.
        min_confidence: Sent as the server's ``min_confidence``; its boxes below it are not returned.
        timeout_s: Seconds to wait for one answer.
        threads: Ignored (the server does the work); accepted like every backend's.
        transport: httpx transport (tests pass an ``httpx.MockTransport``).

    Raises:
        DetectorError: httpx is not installed (``pip install 'camsift[remote]'``).

    Example:
        >>> detector = DeepStackDetector(url="http://127.0.0.1:5000")  # doctest: +SKIP
        >>> detector.detect(rgb_frame).label  # doctest: +SKIP
        array(['person'], dtype='<U6')
    """

    name = "deepstack"
    labels = frozenset(COCO80)
    input_size = (640, 640)  # DeepStack's and CodeProject.AI's YOLO models work at 640 px

    def __init__(
        self,
        *,
        url: str = "http://127.0.0.1:5000",
        api_key: SecretStr | str | None = None,
        min_confidence: float = 0.4,
        timeout_s: float = 10.0,
        threads: int = 1,
        transport: Any = None,
    ) -> None:
        try:
            import httpx
        except ImportError as err:
            raise DetectorError("deepstack: httpx is not installed; run: pip install 'camsift[remote]'") from err
        self.url = url.rstrip("/") + PATH
        self.min_confidence = float(min_confidence)
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        self._form = {"min_confidence": str(self.min_confidence), **({"api_key": key} if key else {})}
        self._client = httpx.Client(timeout=timeout_s, transport=transport)
        self._errors: tuple[type[Exception], ...] = (httpx.HTTPError, ValueError)

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Find objects in one image (one request).

        Args:
            image: ``(H, W, 3)`` uint8 RGB, any size (sent whole, as JPEG).

        Returns:
            The server's boxes in pixels of ``image``, clipped to it, highest confidence first.

        Raises:
            DetectorError: the server cannot be reached, answers with an HTTP error, or says
                ``success: false``.
        """
        try:
            response = self._client.post(
                self.url, files={"image": ("image.jpg", encode_jpeg(image), "image/jpeg")}, data=self._form
            )
            response.raise_for_status()
            answer = response.json()
        except self._errors as err:
            raise DetectorError(f"deepstack: {self.url}: {type(err).__name__}: {_first_line(err)}") from err
        if not answer.get("success", False):
            raise DetectorError(f"deepstack: {self.url} answered: {answer.get('error', 'success: false')}")
        return _to_detections(answer.get("predictions") or [], image.shape[1], image.shape[0])

    def detect_batch(
        self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
    ) -> list[Detections]:
        """`detect` on each image in turn (one request each); ``thorough`` and ``earlier`` are ignored."""
        return [self.detect(image) for image in images]

    def close(self) -> None:
        """Close the HTTP connections (a detector lives as long as its process otherwise)."""
        self._client.close()


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else ""


def _to_detections(predictions: list[dict[str, Any]], width: int, height: int) -> Detections:
    """DeepStack predictions to `Detections` (boxes clipped to the image, best first).

    Raises:
        DetectorError: a prediction lacks a field or has a non-number in it.
    """
    try:
        xyxy = np.array([[p[k] for k in BOX_KEYS] for p in predictions], np.float32).reshape(-1, 4)
        confidence = np.array([p["confidence"] for p in predictions], np.float32)
        label = np.array([str(p["label"]) for p in predictions], np.str_)
    except (KeyError, TypeError, ValueError) as err:
        raise DetectorError(f"deepstack: unexpected prediction in the answer: {err!r}") from err
    np.clip(xyxy, 0, [width, height, width, height], out=xyxy)
    found = Detections(xyxy=xyxy, confidence=confidence, label=label)
    return found[np.argsort(-found.confidence, kind="stable")]
