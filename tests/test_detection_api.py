"""camsift's detector behind the DeepStack API, end to end on loopback: uvicorn serves `create_app`, the
``deepstack`` detector asks it about real pictures."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from pydantic import SecretStr

from camsift import load_config
from camsift.detectors.deepstack import DeepStackDetector
from camsift.errors import DetectorError

uvicorn = pytest.importorskip("uvicorn", reason="the detection API needs camsift[ai-api]")
httpx = pytest.importorskip("httpx", reason="the deepstack detector needs camsift[remote]")

KEY = "not-a-real-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def ai_api() -> Iterator[str]:
    """Base URL of `create_app` (default detector, API key `KEY`) served by uvicorn in a thread."""
    from camsift.detection_api import create_app

    settings = load_config(environ={}, overrides={"detect.threads": 1})
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, api_key=SecretStr(KEY)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def picture(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.mark.parametrize(
    ("name", "people"),
    [("images/skimage_astronaut.png", 1), ("faces/two_people.jpg", 2), ("images/skimage_coffee.png", 0)],
)
def test_the_deepstack_detector_finds_people_through_camsifts_api(
    ai_api: str, shared_data: Path, name: str, people: int
) -> None:
    image = picture(shared_data / name)
    with closing(DeepStackDetector(url=ai_api, api_key=KEY, min_confidence=0.5, timeout_s=60)) as detector:
        found = detector.detect(image)

    person = found[found.label == "person"]
    assert len(person) == people
    h, w = image.shape[:2]
    assert np.all((person.xyxy >= 0) & (person.xyxy <= [w, h, w, h]))
    if name == "images/skimage_astronaut.png":  # she fills the left two thirds of the 512 x 512 picture
        x1, _, x2, y2 = person.xyxy[0]
        assert x1 < 100
        assert x2 > 300
        assert y2 > 400


def test_the_answer_has_deepstacks_shape(ai_api: str, shared_data: Path) -> None:
    data = (shared_data / "images" / "skimage_astronaut.png").read_bytes()

    answer = httpx.post(
        f"{ai_api}/v1/vision/detection",
        files={"image": ("a.png", data, "image/png")},
        data={"api_key": KEY, "min_confidence": "0.3"},
        timeout=60,
    ).json()

    assert answer["success"] is True
    assert answer["count"] == len(answer["predictions"]) >= 1
    assert set(answer["predictions"][0]) == {"label", "confidence", "x_min", "y_min", "x_max", "y_max"}
    assert all(p["confidence"] >= 0.3 for p in answer["predictions"])
    assert all(isinstance(p["x_min"], int) for p in answer["predictions"])


def test_a_wrong_api_key_is_refused(ai_api: str) -> None:
    detector = DeepStackDetector(url=ai_api, api_key="wrong", timeout_s=10)

    with closing(detector), pytest.raises(DetectorError, match="401"):
        detector.detect(np.zeros((32, 32, 3), np.uint8))


def test_a_file_that_is_not_a_picture_gets_success_false(ai_api: str) -> None:
    response = httpx.post(
        f"{ai_api}/v1/vision/detection", files={"image": ("x.jpg", b"not a jpeg")}, data={"api_key": KEY}, timeout=10
    )

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["error"].startswith("invalid image: ")


def test_health(ai_api: str) -> None:
    assert httpx.get(f"{ai_api}/health", timeout=10).json() == {"status": "ok"}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_gets_413_before_the_key_is_read(chunked: bool) -> None:
    import warnings

    from camsift.detection_api import MAX_BODY_BYTES, create_app

    with warnings.catch_warnings():  # Starlette's TestClient asks for httpx2 but still works with httpx
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    body = b"\0" * (MAX_BODY_BYTES + 1)
    app = create_app(load_config(environ={}), api_key=SecretStr(KEY))
    headers = {"Content-Type": "multipart/form-data; boundary=camsift"}
    with TestClient(app) as client:
        response = client.post("/v1/vision/detection", content=iter([body]) if chunked else body, headers=headers)
        small = client.post("/v1/vision/detection", files={"image": ("x.jpg", b"not a jpeg")}, data={"api_key": KEY})

    assert response.status_code == 413
    assert response.json() == {"success": False, "error": f"request body larger than {MAX_BODY_BYTES} bytes"}
    assert small.status_code == 400  # under the limit: read, key checked, then found to be no picture
