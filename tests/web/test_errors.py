"""Errors a browser meets are pages saying why and what to do; scripts keep their JSON."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from helpers.web import Browser, csrf_of, log_in, make_client, web_settings

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def page(response: Any, status: int) -> tuple[str, str, str]:
    """(heading, detail, (link, its text)) of an error page."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    heading = re.search(r"<h1>(.*?)</h1>", response.text)
    detail = re.search(r'<p id="error-detail">(.*?)</p>', response.text, re.DOTALL)
    link = re.search(r'<a href="([^"]*)" id="error-action" class="button">(.*?)</a>', response.text)
    assert heading
    assert detail
    assert link
    return heading.group(1), detail.group(1), link.group(1) + " " + link.group(2)


def test_too_many_logins_says_until_when_and_links_back(tmp_path: Path) -> None:
    clients = make_client(web_settings(tmp_path / "data", **{"web.login_attempts": 2}))
    browser = next(clients)
    c = browser.client
    c.cookies.clear()
    for _ in range(2):
        assert log_in(c, password="wrong password!").status_code == 401
    token = csrf_of(c.get("/login").text)
    form = {"username": "ann", "password": "wrong", "csrf_token": token}

    blocked = c.post("/login", data=form, headers=HTML)
    script = c.post("/login", data=form)

    heading, detail, link = page(blocked, 429)
    assert heading == "Too many failed logins"
    assert re.search(r"try again in about 5 minutes \(at \d\d:\d\d\)", detail)
    assert link == "/login Back to the login page"
    assert blocked.headers["retry-after"]
    assert script.status_code == 429
    assert script.json()["detail"].startswith("too many failed logins")
    clients.close()


def test_a_form_sent_after_the_session_ended_says_so(browser: Browser) -> None:
    c = browser.client
    c.post("/logout", data={"csrf_token": browser.csrf})

    ended = c.post(
        "/review/pin",
        data={"csrf_token": browser.csrf, "selected": ["x"]},
        headers={**HTML, "Referer": "https://testserver/?camera=street"},
    )
    script = c.post("/review/pin", data={"csrf_token": browser.csrf})

    heading, detail, link = page(ended, 401)
    assert heading == "Your session has ended"
    assert "logged out" in detail
    assert link == "/login?next=%2F%3Fcamera%3Dstreet Log in again"
    assert script.status_code == 401
    assert script.json() == {"detail": "login required"}


@pytest.mark.parametrize(
    ("path", "field"), [("/?reviewed=maybe", "reviewed"), ("/?day=yesterday", "not a date"), ("/?face=x", "face")]
)
def test_a_bad_query_parameter_is_a_page(empty_browser: Browser, path: str, field: str) -> None:
    response = empty_browser.client.get(path, headers=HTML)
    script = empty_browser.client.get(path)

    _heading, detail, link = page(response, 422)
    assert field in detail
    assert link.startswith("/ ")
    assert script.status_code == 422


def test_the_api_keeps_json(empty_browser: Browser) -> None:
    response = empty_browser.client.get("/api/events?limit=0", headers=HTML)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_a_stale_form_is_a_page(browser: Browser) -> None:
    response = browser.client.post("/review/pin", data={"csrf_token": "old", "selected": ["x"]}, headers=HTML)
    heading, detail, _ = page(response, 403)
    assert heading == "This form has expired"
    assert "CSRF" in detail
