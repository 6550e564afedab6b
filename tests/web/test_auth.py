"""Login, sessions, CSRF, rate limiting, API tokens and security headers (an empty store: no scan needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from camsift.store import Store
from camsift.store.users import UserStore
from helpers.web import PASSWORD, Browser, TestClient, csrf_of, log_in, web_settings


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    from camsift.web import create_app

    settings = web_settings(tmp_path / "data", **{"web.login_attempts": 3})
    with Store(settings.data_dir) as store:
        UserStore(store).add("ann", PASSWORD)
    return TestClient(create_app(settings), base_url="https://testserver")


@pytest.mark.parametrize(
    "path", ["/api/events", "/api/stats", "/api/config", "/api/events/x/clip.mp4", "/api/openapi.json"]
)
def test_api_without_login_is_401(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/", "/cameras", "/faces", "/events/x"])
def test_pages_without_login_redirect_to_the_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_health_needs_no_login(client: TestClient) -> None:
    assert client.get("/api/health").json()["status"] == "ok"


def test_login_sets_a_secure_httponly_cookie_and_opens_pages(client: TestClient) -> None:
    response = log_in(client)

    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("camsift_session="))
    assert {"HttpOnly", "Secure", "SameSite=lax"} <= {p.strip() for p in cookie.split(";")}
    assert client.get("/").status_code == 200
    assert client.get("/api/events").json() == []


def test_wrong_password_is_refused(client: TestClient) -> None:
    response = log_in(client, password="not the password")

    assert response.status_code == 401
    assert "Wrong user name or password" in response.text
    assert "camsift_session" not in client.cookies
    assert client.get("/api/events").status_code == 401


def test_login_form_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/login")

    response = client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": "forged"})

    assert response.status_code == 403


def test_failed_logins_are_rate_limited(client: TestClient) -> None:
    for _ in range(3):
        assert log_in(client, password="wrong password!").status_code == 401

    blocked = log_in(client)  # even the right password, for a while

    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


def test_state_change_without_csrf_is_403(empty_browser: Browser) -> None:
    c = empty_browser.client

    assert c.post("/api/events/x/retain").status_code == 403
    assert c.post("/api/events/x/retain", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert c.post("/api/events/x/retain", headers={"X-CSRF-Token": empty_browser.csrf}).status_code == 404
    assert c.post("/logout", data={"csrf_token": "wrong"}).status_code == 403


def test_logout_ends_the_session(empty_browser: Browser) -> None:
    c = empty_browser.client
    cookie = c.cookies["camsift_session"]

    assert c.post("/logout", data={"csrf_token": empty_browser.csrf}, follow_redirects=False).status_code == 303

    c.cookies.set("camsift_session", cookie)
    assert c.get("/api/events").status_code == 401


def test_api_token_opens_the_api_without_csrf(empty_browser: Browser) -> None:
    with Store(empty_browser.settings.data_dir) as store:
        token = UserStore(store).new_token("ann", "script")
    c = empty_browser.client
    c.cookies.clear()
    auth = {"Authorization": f"Bearer {token}"}

    assert c.get("/api/events", headers=auth).status_code == 200
    assert c.post("/api/events/x/retain", headers=auth).status_code == 404  # authorised, no such event
    assert c.get("/api/events", headers={"Authorization": "Bearer cs_forged"}).status_code == 401


def test_tokens_and_passwords_are_stored_hashed(empty_browser: Browser) -> None:
    import sqlalchemy as sa

    with Store(empty_browser.settings.data_dir) as store:
        token = UserStore(store).new_token("ann")
        with store.engine.connect() as conn:
            dump = "\n".join(
                str(row)
                for t in ("users", "sessions", "api_tokens")
                for row in conn.execute(sa.text(f"SELECT * FROM {t}"))
            )
    assert token not in dump
    assert PASSWORD not in dump
    assert empty_browser.client.cookies["camsift_session"] not in dump
    assert "$argon2id$" in dump


def test_login_redirects_only_within_the_site(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    form = {"username": "ann", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"}

    response = client.post("/login", data=form, follow_redirects=False)

    assert response.headers["location"] == "/"


def test_security_headers(client: TestClient) -> None:
    headers = client.get("/login").headers

    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_pages_have_no_inline_script(empty_browser: Browser) -> None:
    for path in ("/", "/cameras", "/faces", "/login"):
        html = empty_browser.client.get(path).text
        assert "<script>" not in html
        assert " onclick=" not in html
        assert "style=" not in html
