"""Frigate's API shapes over real events: what the Home Assistant integration, Double Take and frigate-notify
read from ``/api/version``, ``/api/stats``, ``/api/config`` and ``/api/events``."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from helpers.web import Browser, make_client, web_settings, web_up

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
    clients: Generator[Browser, None, None] = make_client(settings)
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


def test_events_take_frigates_filters_and_have_its_shape(browser: Browser) -> None:
    every = get(browser, "/api/events")
    item = every[0]

    assert {"id", "camera", "label", "sub_label", "zones", "start_time", "end_time", "has_clip", "has_snapshot"} <= set(
        item
    )
    assert item["retain_indefinitely"] is False
    assert item["false_positive"] is False
    assert item["data"]["type"] == "object"
    x, y, w, h = item["data"]["box"]
    assert all(0 <= v < 1 for v in (x, y))
    assert all(0 < v <= 1 for v in (w, h))
    assert item["data"]["top_score"] >= 0.5
    assert "source" not in item  # no file system paths
    two = get(browser, "/api/events", cameras="street,hall")
    assert {e["camera"] for e in two} == {"street", "hall"}
    assert len(get(browser, "/api/events", cameras="all", labels="all")) == len(every)
    assert get(browser, "/api/events", labels="car,dog") == []
    assert {e["camera"] for e in get(browser, "/api/events", sub_labels="unknown")} == {"hall"}
    assert all(e["sub_label"] is None for e in get(browser, "/api/events", sub_label="None"))
    assert get(browser, "/api/events", zones="gate") == []
    assert len(get(browser, "/api/events", has_snapshot=1)) == len(every)
    assert get(browser, "/api/events", has_snapshot=0) == []
    assert get(browser, "/api/events", in_progress=1) == []
    assert len(get(browser, "/api/events", in_progress=0, include_thumbnails=0)) == len(every)
    assert get(browser, "/api/events", min_score=1.0) == []
    with_thumbs = get(browser, "/api/events", limit=1, include_thumbnails=1)
    import base64

    assert base64.b64decode(with_thumbs[0]["thumbnail"])[:3] == b"\xff\xd8\xff"
    refused = browser.client.get("/api/events", params={"min_length": 5})
    assert refused.status_code == 400
    assert "min_length" in refused.json()["message"]
    neutral = {"sort": "date_desc", "time_range": "00:00,24:00"}
    assert browser.client.get("/api/events", params=neutral).status_code == 200


def test_favorites_retain_sub_label_and_false_positive(browser: Browser) -> None:
    c, headers = browser.client, {"X-CSRF-Token": browser.csrf}
    event = get(browser, "/api/events", cameras="corridor")[0]
    url = f"/api/events/{event['id']}"

    kept = c.post(f"{url}/retain", headers=headers).json()
    assert kept["success"] is True
    assert kept["message"] == f"Event {event['id']} retained"
    assert [e["id"] for e in get(browser, "/api/events", favorites=1)] == [event["id"]]
    named = c.post(f"{url}/sub_label", headers=headers, json={"subLabel": "Ann, Bob", "subLabelScore": 0.87})
    assert named.json() == {"success": True, "message": f"Event {event['id']} sub label set to Ann, Bob"}
    got = get(browser, url)
    assert (got["sub_label"], got["sub_label_score"]) == ("Ann, Bob", 0.87)
    assert [e["id"] for e in get(browser, "/api/events", sub_labels="Bob")] == [event["id"]]
    assert [e["id"] for e in get(browser, "/api/events", sub_label="Ann")] == [event["id"]]
    assert get(browser, "/api/events", sub_labels="An") == []
    assert c.post(f"{url}/sub_label", headers=headers, json={"subLabel": ""}).json()["success"] is True
    assert get(browser, url)["sub_label"] is None
    assert c.put(f"{url}/false_positive", headers=headers).json()["success"] is True
    assert get(browser, url)["false_positive"] is True
    assert c.delete(f"{url}/retain", headers=headers).json()["retain_indefinitely"] is False
    missing = c.post("/api/events/nope/sub_label", headers=headers, json={"subLabel": "Ann"})
    assert missing.status_code == 404
    assert missing.json()["success"] is False


def test_pictures_with_frigates_parameters(browser: Browser) -> None:
    from io import BytesIO

    from PIL import Image

    c = browser.client
    event = get(browser, "/api/events", cameras="street")[0]
    url = f"/api/events/{event['id']}"

    def size(response: Any) -> tuple[int, int]:
        assert response.status_code == 200, response.text
        with Image.open(BytesIO(response.content)) as image:
            return image.size

    full = size(c.get(f"{url}/snapshot.jpg"))
    small = size(c.get(f"{url}/snapshot.jpg", params={"h": 120, "quality": 60}))
    assert small[1] == 120
    assert abs(small[0] / small[1] - full[0] / full[1]) < 0.05
    cropped = size(c.get(f"{url}/snapshot.jpg", params={"crop": 1, "bbox": 1}))
    assert cropped[0] < full[0]
    webp = c.get(f"{url}/thumbnail.webp")
    assert webp.headers["content-type"] == "image/webp"
    assert webp.content[8:12] == b"WEBP"
    assert size(c.get("/api/street/latest.jpg", params={"h": 100}))[1] == 100
    assert c.get("/api/street/person/snapshot.jpg").content[:3] == b"\xff\xd8\xff"
    assert size(c.get("/api/street/person/snapshot.jpg", params={"h": 90}))[1] == 90
    assert c.get("/api/street/car/snapshot.jpg").status_code == 404
    assert c.get("/api/street/person/thumbnail.jpg").content[:3] == b"\xff\xd8\xff"
    assert c.get("/api/street/person/clip.mp4").headers["content-type"] == "video/mp4"


def test_frigate_login_gives_a_jwt_cookie_that_opens_the_api(empty_browser: Browser) -> None:
    import jwt
    from fastapi.testclient import TestClient

    from helpers.web import PASSWORD

    app = empty_browser.client.app
    with TestClient(app, base_url="http://camsift.lan:5000") as fresh:  # a client on the LAN, plain HTTP
        assert fresh.get("/api/stats").status_code == 401
        assert fresh.post("/api/login", json={"user": "ann", "password": "wrong"}).status_code == 401
        response = fresh.post("/api/login", json={"user": "ann", "password": PASSWORD})
        assert response.status_code == 200
        header = response.headers["set-cookie"]  # the HA integration parses this header
        assert header.startswith("frigate_token=")
        assert "secure" not in header.lower()  # plain HTTP: Go's cookie jar (frigate-notify) would drop it
        token = header.split(";")[0].split("=", 1)[1]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["sub"] == "ann"
        assert claims["exp"] > 0
        assert fresh.get("/api/profile").json() == {"username": "ann", "role": "admin"}  # the cookie
    with TestClient(app, base_url="http://camsift.lan:5000") as bearer:
        headers = {"Authorization": f"Bearer {token}"}
        assert bearer.get("/api/stats", headers=headers).status_code == 200
        forged = jwt.encode({**claims, "sub": "root"}, "not-the-key-" * 4, algorithm="HS256")
        assert bearer.get("/api/stats", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        bearer.cookies.set("frigate_token", token)
        assert bearer.post("/api/events/x/retain").status_code in (401, 403)  # a cookie alone changes nothing
        assert bearer.get("/api/logout").status_code == 200
        assert bearer.get("/api/stats", headers=headers).status_code == 401  # logged out: the JWT is dead


def test_unauthenticated_port_is_off_by_default_and_refuses_web_pages(tmp_path: Path) -> None:
    from types import SimpleNamespace

    import httpx

    from camsift.service import configured_parts
    from camsift.store import Store
    from helpers.service import free_port, wait_for

    port, open_port = free_port(), free_port()
    settings = web_settings(
        tmp_path / "data", **{"web.enabled": True, "web.port": port, "web.unauthenticated_port": open_port}
    )
    assert web_settings(tmp_path / "x").web.unauthenticated_port is None
    _, companions = configured_parts(settings)
    [web] = [c for c in companions if c.name == "web"]
    with Store(settings.data_dir) as store:
        web.start(SimpleNamespace(store=store))
        try:
            wait_for(lambda: web_up(f"http://127.0.0.1:{open_port}"), 20, "the unauthenticated port")
            assert httpx.get(f"http://127.0.0.1:{port}/api/stats").status_code == 401
            assert httpx.get(f"http://127.0.0.1:{open_port}/api/stats").status_code == 200
            page = httpx.post(f"http://127.0.0.1:{open_port}/api/events/x/retain", headers={"Origin": "http://evil"})
            assert page.status_code == 403
            assert httpx.post(f"http://127.0.0.1:{open_port}/api/events/x/retain").status_code == 404  # let in
        finally:
            web.stop()


def test_review_items_summary_and_viewed(browser: Browser) -> None:
    c, headers = browser.client, {"X-CSRF-Token": browser.csrf}
    window = {"after": 0, "before": 4_000_000_000}

    items = get(browser, "/api/review", **window)
    assert {i["camera"] for i in items} == {"street", "corridor", "hall"}
    assert len(items) == 3  # one per clip, however many people each shows
    street = next(i for i in items if i["camera"] == "street")
    assert street["severity"] == "alert"
    assert street["data"]["objects"] == ["person"]
    assert len(street["data"]["detections"]) == len(get(browser, "/api/events", cameras="street"))
    assert street["thumb_path"].startswith("/api/events/")
    assert c.get(street["thumb_path"]).headers["content-type"] == "image/webp"
    assert get(browser, f"/api/review/{street['id']}")["data"] == street["data"]
    assert get(browser, "/api/review", cameras="hall", **window)[0]["camera"] == "hall"
    assert get(browser, "/api/review", severity="detection", **window) == []
    assert get(browser, "/api/review", labels="car", **window) == []

    viewed = c.post("/api/reviews/viewed", headers=headers, json={"ids": [street["id"]]})
    assert viewed.json()["success"] is True
    assert street["id"] not in [i["id"] for i in get(browser, "/api/review", **window)]  # unreviewed only
    assert get(browser, "/api/review", reviewed=1, cameras="street", **window)[0]["has_been_reviewed"] is True
    assert all(e["reviewed"] for e in get(browser, "/api/events", cameras="street"))
    import time

    summary = get(browser, "/api/review/summary", days=366)
    days = {k: v for k, v in summary.items() if k != "last24Hours"}
    recent = [i for i in items if i["start_time"] >= time.time() - 366 * 86_400]
    assert sum(d["total_alert"] for d in days.values()) == len(recent)
    assert sum(d["reviewed_alert"] for d in days.values()) == len([i for i in recent if i["id"] == street["id"]])
    assert set(summary["last24Hours"]) == {"reviewed_alert", "reviewed_detection", "total_alert", "total_detection"}


def test_in_progress_lists_objects_confirmed_on_live_streams_until_their_clip_is_analysed(
    empty_browser: Browser,
) -> None:
    import shutil
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from camsift.store import Store
    from camsift.store.live import LiveEvent, live_id
    from helpers.media import DATA

    start = datetime(2026, 11, 22, 14, 30, tzinfo=UTC)
    rows = [
        LiveEvent(live_id(camera, "s/1", start), camera, "s/1", label, start, start + timedelta(seconds=0.5), 0.8,
                  (10.0, 10.0, 50.0, 90.0))
        for camera, label in (("door", "person"), ("gate", "car"))
    ]  # fmt: skip
    picture = empty_browser.settings.data_dir.resolve() / "events" / "door-live.jpg"
    picture.parent.mkdir(parents=True)
    shutil.copy(DATA / "images" / "skimage_rocket.jpg", picture)
    rows[0] = replace(rows[0], snapshot=picture)
    with Store(empty_browser.settings.data_dir) as store:
        for row in rows:
            store.live.open(row)
        store.live.dropped(rows[1].id)

    [door] = get(empty_browser, "/api/events", in_progress=1)
    assert (door["id"], door["camera"], door["label"], door["end_time"]) == (rows[0].id, "door", "person", None)
    assert door["start_time"] == start.timestamp()
    assert door["has_snapshot"] is True
    for path in ("snapshot.jpg", "thumbnail.jpg"):  # Frigate's clients fetch them on 'new'
        answer = empty_browser.client.get(
            f"/api/events/{door['id']}/{path}", params={"bbox": 1} if "snap" in path else {}
        )
        assert (answer.status_code, answer.content[:3]) == (200, b"\xff\xd8\xff")
    assert empty_browser.client.get(f"/api/events/{rows[1].id}/snapshot.jpg").status_code == 404  # dropped
    assert get(empty_browser, "/api/events", in_progress=1, cameras="gate") == []
    assert get(empty_browser, "/api/events", in_progress=0) == []  # not stored until its clip is analysed

    # its review item is found by the id MQTT told at 'new', before the clip is analysed (and not once dropped)
    assert empty_browser.client.get(f"/api/review/{rows[0].id}").status_code == 404  # not told yet
    with Store(empty_browser.settings.data_dir) as store:
        store.live.announced(rows[0].id, True)
    item = get(empty_browser, f"/api/review/{rows[0].id}")
    assert (item["id"], item["camera"], item["data"]["objects"]) == (rows[0].id, "door", ["person"])
    assert item["data"]["detections"] == [rows[0].id]
    assert empty_browser.client.get(f"/api/review/{rows[1].id}").status_code == 404  # dropped
