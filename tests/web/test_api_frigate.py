"""Frigate's API shapes over real events: what the Home Assistant integration, Double Take and frigate-notify
read from ``/api/version``, ``/api/stats``, ``/api/config`` and ``/api/events``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from web.helpers import Browser, make_client, web_settings

pytestmark = pytest.mark.slow  # the first test scans three real clips (about 10 s)


def get(b: Browser, path: str, **params: object) -> Any:
    response = b.client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_version_is_frigates_with_camsifts_tag(empty_browser: Browser) -> None:
    from camsift import __version__

    response = empty_browser.client.get("/api/version")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == f"0.16.0-camsift.{__version__}"
    assert int(response.text.split(".")[1]) == 16  # frigate-notify reads the minor number


def test_stats_and_config_in_frigates_shape(browser: Browser) -> None:
    stats = get(browser, "/api/stats")
    config = get(browser, "/api/config")

    assert set(stats["cameras"]) == set(config["cameras"]) == {"street", "corridor", "hall"}
    assert stats["service"]["version"].startswith("0.16.0-camsift.")
    assert stats["service"]["uptime"] == 0  # 'camsift run' is not running
    assert isinstance(stats["detection_fps"], float)
    for camera in stats["cameras"].values():
        assert {"camera_fps", "process_fps", "skipped_fps", "detection_fps"} <= set(camera)
        assert camera["events"] > 0  # camsift's keys stay
    assert all("inference_speed" in d for d in stats["detectors"].values())
    street = config["cameras"]["street"]
    assert street["objects"]["track"] == ["person"]
    assert street["zones"] == {}
    assert street["audio"]["enabled_in_config"] is False
    assert street["record"]["enabled"] is False  # footage from files: camsift records no stream
    assert config["mqtt"]["topic_prefix"] == "camsift"
    assert config["model"]["labelmap"]["0"] == "person"
    assert config["go2rtc"]["streams"] == {}
    assert config["web"]["host"] == "127.0.0.1"  # camsift's keys stay


def test_config_zones_per_camera_and_secrets_redacted(tmp_path: Path) -> None:
    settings = web_settings(
        tmp_path / "data",
        **{
            "cameras.drive.paths": [str(tmp_path)],
            "objects.labels": ["person", "car"],
            "objects.zones.gate.polygon": [[0, 0], [0.5, 0], [0.5, 1]],
            "objects.zones.gate.labels": ["car"],
            "sources.door.type": "stream",
            "sources.door.url": "http://10.0.0.5/cgi-bin/api.cgi?cmd=Snap&user=admin&password=hunter2hunter2",
            "sources.door.camera": "front",
            "mqtt.topic_prefix": "frigate",
        },
    )
    clients: Iterator[Browser] = make_client(settings)
    b = next(clients)

    text = b.client.get("/api/config").text
    config = get(b, "/api/config")

    assert "hunter2hunter2" not in text
    assert set(config["cameras"]) == {"drive", "front"}
    assert config["cameras"]["drive"]["zones"] == {
        "gate": {"coordinates": "0,0,0.5,0,0.5,1", "objects": ["car"], "inertia": 3, "loitering_time": 0, "filters": {}}
    }
    assert config["cameras"]["front"]["objects"]["track"] == ["person", "car"]
    assert config["cameras"]["front"]["record"]["enabled_in_config"] is True  # a live stream
    assert config["cameras"]["drive"]["paths"] == [str(tmp_path)]  # camsift's camera keys stay
    assert config["mqtt"]["topic_prefix"] == "frigate"
    assert set(get(b, "/api/stats")["cameras"]) == {"drive", "front"}
    clients.close()
