"""The detection API inside the web app (``camsift serve --ai-api``): DeepStack clients log in with one of the
web app's API tokens sent as the ``api_key`` form field; bodies over the limit get 413."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from camsift.store import Store
from camsift.store.users import UserStore
from helpers.web import PASSWORD, TestClient, web_settings

pytest.importorskip("camsift.detection_api", reason="the detection API needs camsift[ai-api]")

DETECT = "/v1/vision/detection"


def png(side: int = 32) -> bytes:
    """A small grey PNG (for requests refused before any detection)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (side, side), (128, 128, 128)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """A client of the web app with the detection API mounted (no one logged in), and ann's API token."""
    from camsift.web import create_app

    settings = web_settings(tmp_path_factory.mktemp("ai") / "data")
    with Store(settings.data_dir) as store:
        UserStore(store).add("ann", PASSWORD)
        token = UserStore(store).new_token("ann", "blue iris")
    with TestClient(create_app(settings, ai_api=True), base_url="https://testserver") as client:
        yield client, token


@pytest.mark.parametrize(
    "form",
    [
        {},  # no key
        {"api_key": ""},
        {"api_key": "wrong"},
        {"api_key": "cs_" + "x" * 43},  # shaped like a token, but none was made
    ],
    ids=["none", "empty", "wrong", "unknown-token"],
)
def test_without_a_valid_api_key_the_answer_is_deepstacks_401(
    served: tuple[TestClient, str], form: dict[str, str]
) -> None:
    client, _ = served

    response = client.post(DETECT, files={"image": ("a.png", png(), "image/png")}, data=form)

    assert response.status_code == 401
    assert response.json() == {"success": False, "error": "Incorrect API key"}


@pytest.mark.parametrize(
    ("form", "status"),
    [({}, 400), ({"api_key": "wrong"}, 401)],
    ids=["cookie-alone", "cookie-and-a-wrong-key"],
)
def test_a_browser_session_passes_unless_a_wrong_key_is_sent_too(
    tmp_path: Path, form: dict[str, str], status: int
) -> None:
    from helpers.web import make_client

    clients = make_client(web_settings(tmp_path / "data", **{"web.ai_api": True}))
    b = next(clients)

    response = b.client.post(
        DETECT, files={"image": ("x.jpg", b"not a picture")}, data=form, headers={"X-CSRF-Token": b.csrf}
    )
    clients.close()

    assert response.status_code == status  # 400: logged in, and the bytes are no picture
    assert response.json()["success"] is False


def test_an_api_token_as_api_key_logs_in(served: tuple[TestClient, str]) -> None:
    client, token = served

    response = client.post(DETECT, files={"image": ("x.jpg", b"not a picture")}, data={"api_key": token})

    assert response.status_code == 400  # past the login: the bytes are no picture
    assert response.json()["error"].startswith("invalid image: ")


def test_the_api_key_field_is_no_login_anywhere_else(served: tuple[TestClient, str]) -> None:
    client, token = served

    response = client.post("/api/events/nope/retain", data={"api_key": token})

    assert response.status_code == 401
    assert response.json() == {"detail": "login required"}


@pytest.mark.slow
def test_a_deepstack_client_with_an_api_token_as_api_key_gets_predictions(
    served: tuple[TestClient, str], shared_data: Path
) -> None:
    client, token = served
    path = shared_data / "faces" / "two_people.jpg"
    files = {"image": ("people.jpg", path.read_bytes(), "image/jpeg")}

    answer = client.post(DETECT, files=files, data={"api_key": token, "min_confidence": "0.5"})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] is True
    assert body["count"] == len(body["predictions"])
    labels = [p["label"] for p in body["predictions"]]
    assert labels.count("person") == 2  # two men side by side
    assert all(p["confidence"] >= 0.5 for p in body["predictions"])
    assert all(0 <= p["x_min"] < p["x_max"] <= 1126 for p in body["predictions"])  # the picture is 1126 x 661


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_gets_413(served: tuple[TestClient, str], chunked: bool) -> None:
    from camsift.detection_api import MAX_BODY_BYTES

    client, token = served
    boundary = "camsift"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n\r\n'.encode()
    body = head + b"\0" * MAX_BODY_BYTES + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"}

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    response = client.post(DETECT, content=pieces() if chunked else body, headers=headers)

    assert response.status_code == 413
    assert response.json() == {"success": False, "error": f"request body larger than {MAX_BODY_BYTES} bytes"}
