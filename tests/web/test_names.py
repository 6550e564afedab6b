"""Names with ``#``, ``?``, ``/`` and spaces (camera ``Front door #2``, person ``Mum/Dad``) in every link and form."""

from __future__ import annotations

import html as html_lib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from camsift import scan
from helpers.web import Browser, make_client, web_settings

pytestmark = pytest.mark.slow  # scans a photo and enrols a face

CAMERA = "Front door #2"
PERSON = "Mum/Dad"
URL = re.compile(r'(href|src|action)="(/[^"]*)"')


@pytest.fixture
def hostile(shared_data: Path, tmp_path: Path) -> Iterator[Browser]:
    """Logged in over the events of a photo of two people from camera ``Front door #2``."""
    footage = tmp_path / "footage" / CAMERA
    footage.mkdir(parents=True)
    shutil.copy(shared_data / "faces" / "two_people.jpg", footage / "photo?1.jpg")
    settings = web_settings(tmp_path / "data")
    assert not scan([tmp_path / "footage"], settings, jobs=1).failed
    yield from make_client(settings)


def urls(page: str) -> list[tuple[str, str]]:
    found = [(kind, html_lib.unescape(url)) for kind, url in URL.findall(page)]
    for _, url in found:
        path = url.split("?", 1)[0]
        assert " " not in url, url
        assert "#" not in path, url
    return found


def test_every_link_of_every_page_works_with_such_names(hostile: Browser, faces_data: Path) -> None:
    c = hostile.client
    photo = (faces_data / "obama.jpg").read_bytes()
    enrolled = c.post(
        "/faces/enrol",
        data={"name": PERSON, "csrf_token": hostile.csrf},
        files={"photo": ("obama.jpg", photo, "image/jpeg")},
    )
    assert f"{PERSON}: photo added" in html_lib.unescape(enrolled.text)

    seen: set[str] = set()
    pages = ["/", f"/?camera={CAMERA.replace(' ', '+').replace('#', '%23')}", "/cameras", "/faces"]
    review = c.get("/").text
    items = [u for _, u in urls(review) if u.startswith("/items/")]
    assert items
    pages += items[:1]
    event_links = [u for _, u in urls(c.get(items[0]).text) if u.startswith("/events/")]
    pages += event_links[:1]
    for page in pages:
        response = c.get(page)
        assert response.status_code == 200, page
        for kind, url in urls(response.text):
            if kind == "action" or url in seen or url.startswith("/static/"):
                continue
            seen.add(url)
            assert c.get(url).status_code == 200, f"{url} on {page}"
    assert any(CAMERA.replace(" ", "%20").replace("#", "%23") in u for u in seen)

    saved = c.post(
        "/cameras/Front%20door%20%232/settings",
        data={
            "csrf_token": hostile.csrf,
            "motion_threshold": "33",
            "cooldown_s": "30",
            "pre_roll_s": "3",
            "post_roll_s": "8",
            "max_clip_s": "45",
            "labels": "person",
            "min_confidence": "0.6",
        },
    )
    assert f"{CAMERA}: settings saved" in html_lib.unescape(saved.text), re.findall(r"flash[^<]*", saved.text)
    faces = c.get("/faces").text
    remove = next(u for kind, u in urls(faces) if kind == "action" and "/remove" in u)
    assert remove == "/faces/people/Mum%2FDad/remove"
    removed = c.post(remove, data={"csrf_token": hostile.csrf})
    assert f"{PERSON} removed" in html_lib.unescape(removed.text)


@pytest.mark.parametrize("camera", ["nowhere", "Front%20door%20%233", "street%2F..%2Fx"])
def test_settings_for_a_camera_that_does_not_exist_are_refused(hostile: Browser, camera: str) -> None:
    form = {"csrf_token": hostile.csrf, "motion_threshold": "33", "cooldown_s": "30", "pre_roll_s": "3"}
    form |= {"post_roll_s": "8", "max_clip_s": "45", "labels": "person", "min_confidence": "0.6"}

    refused = hostile.client.post(f"/cameras/{camera}/settings", data=form, headers={"Accept": "text/html"})
    removed = hostile.client.post(f"/cameras/{camera}/false_positives/1/remove", data=form)

    assert refused.status_code == 404
    assert "no camera named" in refused.text
    assert removed.status_code == 404
    overrides = hostile.settings.data_dir / "camera-overrides.yaml"
    assert not overrides.exists()
    assert list(hostile.client.get("/api/stats").json()["cameras"]) == [CAMERA]
