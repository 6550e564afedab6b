"""The ``deepstack`` remote detector against a fake server (httpx.MockTransport): request and answer shapes."""

from __future__ import annotations

import json
from contextlib import closing

import httpx
import numpy as np
import pytest
from pydantic import SecretStr

from camsift.config import DetectConfig
from camsift.detectors import configured
from camsift.detectors.deepstack import DeepStackDetector
from camsift.errors import DetectorError

IMAGE = np.full((100, 200, 3), 90, np.uint8)


def server(answer: object, status: int = 200, seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=json.dumps(answer).encode(), headers={"content-type": "application/json"})

    return httpx.MockTransport(handle)


def test_posts_the_picture_and_reads_the_predictions() -> None:
    seen: list[httpx.Request] = []
    answer = {
        "success": True,
        "predictions": [
            {"label": "car", "confidence": 0.61, "x_min": 150, "y_min": 10, "x_max": 260, "y_max": 90},
            {"label": "person", "confidence": 0.93, "x_min": 10, "y_min": 5, "x_max": 50, "y_max": 95},
        ],
    }
    detector = DeepStackDetector(
        url="http://ai.lan:32168/", api_key=SecretStr("s3cret"), min_confidence=0.5, transport=server(answer, seen=seen)
    )

    found = detector.detect(IMAGE)

    assert found.label.tolist() == ["person", "car"]
    assert found.confidence.tolist() == pytest.approx([0.93, 0.61])
    assert found.xyxy.tolist() == [[10, 5, 50, 95], [150, 10, 200, 90]]  # clipped to the 200 px width
    (request,) = seen
    assert str(request.url) == "http://ai.lan:32168/v1/vision/detection"
    body = request.read()
    assert b'name="image"; filename="image.jpg"' in body
    assert b"\xff\xd8" in body  # a JPEG
    assert b'name="min_confidence"\r\n\r\n0.5' in body
    assert b'name="api_key"\r\n\r\ns3cret' in body


def test_no_predictions_is_empty() -> None:
    detector = DeepStackDetector(transport=server({"success": True, "predictions": []}))

    assert len(detector.detect(IMAGE)) == 0


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        ({"success": False, "error": "Incorrect API key"}, 200, "answered: Incorrect API key"),
        ({"error": "boom"}, 500, "HTTPStatusError"),
        ({"success": True, "predictions": [{"label": "person"}]}, 200, "unexpected prediction"),
    ],
)
def test_server_errors_are_one_line_detector_errors(answer: object, status: int, message: str) -> None:
    detector = DeepStackDetector(api_key="s3cret", transport=server(answer, status))

    with closing(detector), pytest.raises(DetectorError, match=message) as caught:
        detector.detect(IMAGE)

    assert "s3cret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unreachable_server_is_a_detector_error() -> None:
    detector = DeepStackDetector(url="http://127.0.0.1:9", timeout_s=2)

    with closing(detector), pytest.raises(DetectorError, match=r"deepstack: http://127\.0\.0\.1:9/v1/vision/detection"):
        detector.detect(IMAGE)


def test_configured_from_the_detect_section() -> None:
    detect = DetectConfig.model_validate(
        {"detector": "deepstack", "deepstack": {"url": "http://ai.lan:5000", "min_confidence": 0.6, "api_key": "k"}}
    )

    detector = configured(detect, threads=1, labels=frozenset({"person"}))

    assert isinstance(detector, DeepStackDetector)
    assert (detector.url, detector.min_confidence) == ("http://ai.lan:5000/v1/vision/detection", 0.6)
