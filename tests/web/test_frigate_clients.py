"""Frigate's own clients against a real ``camsift run`` on loopback, with Mosquitto: the requests and
subscriptions of the Home Assistant Frigate integration (``custom_components/frigate/api.py`` and its setup),
Double Take (``api/src/util/frigate.util.js`` and its MQTT handler) and frigate-notify (``util/frigate.go``,
``events/mqtt.go``), replayed as they make them, asserting on what each would read.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from helpers.cli import CAMSIFT, clean_environ
from helpers.media import Walk, write_clip
from helpers.service import free_port, wait_for
from helpers.web import PASSWORD, web_up
from test_mqtt import Subscriber, clear_retained, needs_broker, start_run, stop_run

pytestmark = [needs_broker, pytest.mark.slow]

CAMERA = "yard"


@dataclass
class Running:
    """A ``camsift run`` with the web app and MQTT, after one clip with a person was dropped in its inbox."""

    url: str
    open_url: str
    prefix: str
    sub: Subscriber

    def events(self, *types: str) -> list[dict[str, Any]]:
        """The ``<prefix>/events`` messages so far, of ``types`` only if given."""
        told = [json.loads(m.payload) for m in self.sub.got(f"{self.prefix}/events")]
        return [m for m in told if not types or m["type"] in types]

    def update(self, event_id: str, key: str, value: Any) -> dict[str, Any]:
        """Wait for the ``update`` of ``event_id`` whose ``after[key]`` is ``value``; it is returned."""
        wait_for(
            lambda: any(u["after"]["id"] == event_id and u["after"][key] == value for u in self.events("update")),
            10,
            f"an MQTT update with {key} {value}",
        )
        return next(u for u in self.events("update") if u["after"][key] == value)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("frigate-clients")
    prefix, ha = f"frigate-{uuid.uuid4().hex[:8]}", f"ha-{uuid.uuid4().hex[:8]}"
    inbox = tmp / "inbox"
    inbox.mkdir()
    port, open_port = free_port(), free_port()
    doc = {
        "data_dir": str(tmp / "data"),
        "timezone": "UTC",
        "detect": {"detector": "scripted"},
        "service": {"workers": 1},
        "sources": {"inbox": {"type": "folder", "path": str(inbox), "camera": CAMERA}},
        "mqtt": {
            "enabled": True,
            "topic_prefix": prefix,
            "discovery_prefix": ha,
            "off_delay_s": 5,
            "stats_interval_s": 2,
        },
        "web": {"enabled": True, "port": port, "unauthenticated_port": open_port},
    }
    config = tmp / "camsift.yaml"
    config.write_text(yaml.safe_dump(doc))
    env = {**clean_environ(), "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    add = [str(CAMSIFT), "users", "add", "ann", "--password-stdin", "-c", str(config)]
    subprocess.run(add, input=f"{PASSWORD}\n", text=True, env=env, cwd=tmp, check=True, capture_output=True)
    sub = Subscriber([f"{prefix}/#"])
    run = start_run(config, env)
    try:
        wait_for(lambda: sub.payloads(f"{prefix}/available")[-1:] == [b"online"], 60, "camsift run online")
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: web_up(url), 30, "the web app")
        write_clip(tmp / "walker.mp4", [Walk(0.5, 3.5)])
        shutil.move(tmp / "walker.mp4", inbox / "walker.mp4")
        wait_for(lambda: len(sub.got(f"{prefix}/reviews")) >= 2, 90, "the clip's events and review item")
        yield Running(url, f"http://127.0.0.1:{open_port}", prefix, sub)
    finally:
        stop_run(run)
        sub.close()
        clear_retained([prefix, ha])


def test_home_assistant_integration_setup(running: Running) -> None:
    """`FrigateApiClient`: login for the JWT, then every call with ``Authorization: Bearer`` and a JSON body of
    ``{}`` (aiohttp ``json=data``), ``raise_for_status``; the setup reads version, config and stats."""
    import jwt

    with httpx.Client(base_url=running.url) as session:
        login = session.post("/api/login", json={"user": "ann", "password": PASSWORD})
        login.raise_for_status()
        cookie = login.headers["set-cookie"]
        prop = next(p.strip() for p in cookie.split(";") if p.strip().startswith("frigate_token="))
        token = prop.split("=", 1)[1]
        assert jwt.decode(token, options={"verify_signature": False})["exp"] > 0
        headers = {"Authorization": f"Bearer {token}"}

        def call(method: str, path: str, **params: Any) -> httpx.Response:
            response = session.request(method, path, headers=headers, json={}, params=params)
            response.raise_for_status()
            return response

        version = call("GET", "/api/version").text
        config = call("GET", "/api/config").json()
        stats = call("GET", "/api/stats").json()

    from awesomeversion import AwesomeVersion  # the integration's own version check

    assert AwesomeVersion(version) > AwesomeVersion("0.13.1")
    cameras_objects = {(c, obj) for c, cam in config["cameras"].items() for obj in cam["objects"]["track"]}
    assert cameras_objects == {(CAMERA, "person")}
    assert config["cameras"][CAMERA]["zones"] == {}
    assert config["mqtt"]["topic_prefix"] == running.prefix
    assert config.get("birdseye", {}).get("restream", False) is False
    assert running.prefix not in config["go2rtc"]["streams"]
    for name, cam in stats["cameras"].items():  # sensor.py: fps sensors per camera, audio per the config
        assert [k for k in cam if k.endswith("_fps")]
        assert config["cameras"][name]["audio"]["enabled_in_config"] is False
    assert int(stats["service"]["uptime"]) > 0  # camsift run is running
    assert all("inference_speed" in d for d in stats["detectors"].values())

    with httpx.Client(base_url=running.url, headers=headers) as session:
        found = session.get(
            "/api/events",
            params={"cameras": CAMERA, "labels": "person", "limit": 50, "has_clip": 1, "include_thumbnails": 0},
        ).json()
        summary = session.get("/api/events/summary", params={"has_clip": 1, "timezone": "UTC"}).json()
        retained = session.post(f"/api/events/{found[0]['id']}/retain", json={}).json()
        picture = session.get(f"/api/{CAMERA}/latest.jpg", params={"h": 277})
    assert [(e["camera"], e["label"]) for e in found] == [(CAMERA, "person")]
    assert summary[0]["camera"] == CAMERA
    assert summary[0]["count"] == 1
    assert retained["success"] is True
    assert picture.content[:3] == b"\xff\xd8\xff"
    pinned = running.update(found[0]["id"], "retain_indefinitely", True)  # on MQTT too
    assert pinned["before"]["retain_indefinitely"] is False

    # MQTT entities: availability, object counts, snapshots, motion
    sub, prefix = running.sub, running.prefix
    assert sub.payloads(f"{prefix}/available")[-1] == b"online"
    assert b"1" in sub.payloads(f"{prefix}/{CAMERA}/person")
    assert sub.payloads(f"{prefix}/{CAMERA}/person/snapshot")[0][:3] == b"\xff\xd8\xff"
    assert b"ON" in sub.payloads(f"{prefix}/{CAMERA}/motion")
    states = {f: sub.payloads(f"{prefix}/{CAMERA}/{f}/state")[-1] for f in ("recordings", "motion", "detect")}
    assert states == {"recordings": b"OFF", "motion": b"ON", "detect": b"ON"}  # camera.py, switch.py
    published = json.loads(sub.payloads(f"{prefix}/stats")[-1])
    assert set(published["cameras"]) == set(stats["cameras"])
    assert published["service"]["version"] == version


def test_double_take(running: Running) -> None:
    """Double Take: ``frigate.status()`` (``GET /api/version``, no login: on the unauthenticated port), then per
    ``frigate/events`` message of a person: the event, its snapshot, the camera's latest picture, and the names it
    recognised written back with ``POST /api/events/<id>/sub_label``."""
    base = running.open_url
    assert httpx.get(f"{base}/api/version").text.startswith("0.16.")
    [new, end] = running.events("new", "end")
    assert (new["type"], end["type"]) == ("new", "end")
    after = new["after"]
    assert (after["label"], after["camera"]) == ("person", CAMERA)
    assert isinstance(after["current_zones"], list)
    event_id = after["id"]
    assert httpx.get(f"{base}/api/events/{event_id}").json()["has_snapshot"] is True
    crop = httpx.get(f"{base}/api/events/{event_id}/snapshot.jpg", params={"crop": 1, "h": 500, "quality": 95})
    assert crop.headers["content-type"] == "image/jpeg"
    assert httpx.get(f"{base}/api/{CAMERA}/latest.jpg", params={"h": 500}).content[:3] == b"\xff\xd8\xff"
    named = httpx.post(f"{base}/api/events/{event_id}/sub_label", json={"subLabel": "david"})
    assert named.json()["success"] is True
    assert httpx.get(f"{base}/api/events/{event_id}").json()["sub_label"] == "david"
    # Double Take's name reaches every MQTT client (Home Assistant's event sensors, Frigate's own UI) as an update
    named_on_mqtt = running.update(event_id, "sub_label", ["david", None])
    assert named_on_mqtt["before"]["sub_label"] is None
    assert named_on_mqtt["after"]["end_time"] == end["after"]["end_time"]


def test_frigate_notify(running: Running) -> None:
    """frigate-notify: ``checkFrigateAuth`` (``/api/profile``, then ``POST /api/login`` keeping the cookies in a
    jar), ``GetFrigateVersion`` (minor number of ``/api/version``), then ``frigate/reviews`` (app mode
    ``reviews``): new/update/end with ``after.id``, ``camera``, ``severity``, ``data.detections`` and
    ``data.zones``, each detection's snapshot fetched."""
    with httpx.Client(base_url=running.url) as jar:
        assert jar.get("/api/profile").status_code == 401
        assert jar.post("/api/login", json={"user": "ann", "password": PASSWORD}).status_code == 200
        assert jar.get("/api/profile").status_code == 200
        assert int(jar.get("/api/version").text.split(".")[1]) == 16
        reviews = [json.loads(m.payload) for m in running.sub.got(f"{running.prefix}/reviews")]
        assert [r["type"] for r in reviews] == ["new", "end"]
        review = reviews[0]["after"]
        assert (review["camera"], review["severity"]) == (CAMERA, "alert")
        assert review["data"]["zones"] == []
        [detection] = review["data"]["detections"]
        assert detection == running.events()[0]["after"]["id"]
        snapshot = jar.get(f"/api/events/{detection}/snapshot.jpg")
        assert snapshot.content[:3] == b"\xff\xd8\xff"
        assert jar.get("/api/review", params={"after": 0}).json()[0]["id"] == review["id"]
        # the web API mode's test query (QueryAPI): one review, one event
        assert [r["id"] for r in jar.get("/api/review?include_thumbnails=0&limit=1&after=0").json()] == [review["id"]]
        assert [e["id"] for e in jar.get("/api/events?include_thumbnails=0&limit=1").json()] == [detection]


def test_a_false_positive_marked_through_the_api_is_published_on_mqtt(running: Running) -> None:
    """Frigate's ``PUT /api/events/<id>/false_positive`` (the web app's button, clients) tells MQTT clients too."""
    [end] = running.events("end")
    event_id = end["after"]["id"]
    done = httpx.put(f"{running.open_url}/api/events/{event_id}/false_positive")
    assert done.json()["success"] is True
    update = running.update(event_id, "false_positive", True)
    assert (update["before"]["false_positive"], update["after"]["label"]) == (False, "person")
