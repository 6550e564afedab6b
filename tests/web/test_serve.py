"""``camsift serve`` and ``camsift users``, the web app inside ``camsift run``, and the detection API mount."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from camsift.config import load_config
from camsift.service import configured_parts
from camsift.store import Store
from camsift.store.users import UserStore
from helpers.service import free_port, wait_for
from helpers.web import PASSWORD, web_settings, web_up


def test_users_commands(camsift_main: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))

    added = camsift_main("users", "add", "ann", "--password-stdin", "--data-dir", data)
    short = camsift_main("users", "add", "bob", "--password-stdin", "--data-dir", data)  # stdin is empty now
    token = camsift_main("users", "token", "ann", "--data-dir", data)
    listed = camsift_main("users", "list", "--format", "json", "--data-dir", data)

    assert added.code == 0, added.stderr
    assert short.code == 1
    assert "at least 10 characters" in short.stderr
    assert token.stdout.startswith("cs_")
    assert [(u["name"], u["tokens"]) for u in json.loads(listed.stdout)["users"]] == [("ann", 1)]
    with Store(data) as store:
        assert UserStore(store).verify("ann", PASSWORD).name == "ann"
        assert UserStore(store).token_user(token.stdout.strip()) is not None
    assert camsift_main("users", "remove", "ann", "--data-dir", data).code == 0
    assert camsift_main("users", "remove", "ann", "--data-dir", data).code == 1


def test_web_companion_serves_inside_the_service(tmp_path: Path) -> None:
    port = free_port()
    settings = web_settings(tmp_path / "data", **{"web.enabled": True, "web.port": port})
    _, companions = configured_parts(settings)
    [web] = [c for c in companions if c.name == "web"]

    with Store(settings.data_dir) as store:
        web.start(SimpleNamespace(store=store))
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(lambda: web_up(url), 20, "the web app")
            assert httpx.get(f"{url}/api/health").json()["status"] == "ok"
            assert httpx.get(f"{url}/api/events").status_code == 401
        finally:
            web.stop()
    assert not web_up(url)


def test_web_is_not_a_companion_unless_enabled(tmp_path: Path) -> None:
    _, companions = configured_parts(load_config(environ={}, overrides={"data_dir": str(tmp_path)}))

    assert "web" not in [c.name for c in companions]


def test_ai_api_is_mounted_on_request(tmp_path: Path) -> None:
    from camsift.web import create_app

    settings = web_settings(tmp_path / "data")
    plain = create_app(settings).openapi()["paths"]
    with_ai = create_app(settings, ai_api=True).openapi()["paths"]

    assert "/v1/vision/detection" not in plain
    assert "/v1/vision/detection" in with_ai


def test_cameras_show_their_source_state_and_blink_figures(tmp_path: Path) -> None:
    from camsift.store.status import ServiceBoard
    from helpers.web import make_client

    settings = web_settings(
        tmp_path / "data",
        **{"sources.home.type": "blink", "sources.home.cameras": ["Front_Door", "Back"], "sources.cam.type": "stream"},
        **{"sources.cam.url": "rtsp://10.0.0.9/live", "sources.cam.camera": "drive"},
    )
    with Store(settings.data_dir) as store:
        board = ServiceBoard(store.engine)
        board.report("service", "service", "running", "0 waiting")
        board.report(
            "source:home",
            "blink",
            "running",
            "account 1, 3 clips; Front_Door armed, battery ok, 21.5 °C, wifi 4; Back disarmed",
        )
        board.report("source:cam", "stream", "error", "", error="cannot open the stream: Connection refused")
    clients = make_client(settings)
    b = next(clients)

    stats = b.client.get("/api/stats").json()
    page = b.client.get("/cameras").text

    assert stats["running"] is True
    front = stats["cameras"]["Front_Door"]
    assert (front["source"], front["state"]) == ("home", "running")
    assert front["detail"] == "Front_Door armed, battery ok, 21.5 °C, wifi 4"
    assert stats["cameras"]["Back"]["detail"] == "Back disarmed"
    assert stats["cameras"]["drive"]["last_error"] == "cannot open the stream: Connection refused"
    assert "battery ok, 21.5 °C, wifi 4" in page
    assert "Connection refused" in page
    assert "Record now" in page  # drive is a live stream
    clients.close()


def test_web_companion_reports_a_taken_port(tmp_path: Path) -> None:
    import socket

    from camsift.listeners import Problem

    problems: list[Problem] = []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = web_settings(tmp_path / "data", **{"web.enabled": True, "web.port": port})
        [web] = [c for c in configured_parts(settings)[1] if c.name == "web"]
        with Store(settings.data_dir) as store:
            web.start(SimpleNamespace(store=store, problem=problems.append))
            web.stop()

    assert [p.key for p in problems] == ["web_down"]
    assert str(port) in problems[0].title


@pytest.mark.slow
def test_ai_api_in_the_web_app_needs_a_login_and_detects(tmp_path: Path, shared_data: Path) -> None:
    from camsift.web import create_app
    from helpers.web import TestClient

    settings = web_settings(tmp_path / "data")
    with Store(settings.data_dir) as store:
        UserStore(store).add("ann", PASSWORD)
        token = UserStore(store).new_token("ann")
    picture = (shared_data / "faces" / "two_people.jpg").read_bytes()
    files = {"image": ("people.jpg", picture, "image/jpeg")}

    with TestClient(create_app(settings, ai_api=True), base_url="https://testserver") as client:
        refused = client.post("/v1/vision/detection", files=files)
        answer = client.post("/v1/vision/detection", files=files, headers={"Authorization": f"Bearer {token}"})

    assert refused.status_code == 401
    assert answer.status_code == 200
    assert answer.json()["success"] is True
    assert [p["label"] for p in answer.json()["predictions"]].count("person") == 2
