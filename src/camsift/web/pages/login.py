"""The login and logout pages (a double-submit CSRF token on the login form)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from camsift.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    check_login_token,
    cookie_secure,
    new_login_token,
    set_cookie,
    verify_login,
)
from camsift.web.pages.common import State, safe_next, show_page
from camsift.web.state import WebState

__all__ = ["login", "login_page", "login_router", "logout", "router"]

login_router = APIRouter(include_in_schema=False)
"""Routes open without a session."""
router = APIRouter()


def _login_form(request: Request, state: WebState, target: str, error: str | None = None) -> HTMLResponse:
    """The login page with a fresh double-submit CSRF token (401 when ``error`` says why the last try failed)."""
    token = new_login_token()
    no_users = state.users.count() == 0
    response = show_page(
        request, "login.html", None, token=token, next=safe_next(target), no_users=no_users, error=error
    )
    response.status_code = 401 if error else 200
    set_cookie(response, LOGIN_CSRF_COOKIE, token, 3600, cookie_secure(request, state.settings.web.cookie_secure))
    return response


@login_router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, state: State, next: str = "/") -> HTMLResponse:
    """The login form."""
    return _login_form(request, state, next)


@login_router.post("/login", response_model=None)
def login(
    request: Request,
    state: State,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check a name and password; start a session or say no (rate-limited)."""
    check_login_token(request, csrf_token)
    user = verify_login(request, state, username, password)
    if user is None:
        return _login_form(request, state, next, "Wrong user name or password.")
    lifetime = state.settings.web.session_hours * 3600
    cookie, _ = state.users.start_session(user, lifetime)
    done = RedirectResponse(safe_next(next), status_code=303)
    secure = cookie_secure(request, state.settings.web.cookie_secure)
    set_cookie(done, SESSION_COOKIE, cookie, int(lifetime), secure)
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return done


@router.post("/logout")
def logout(request: Request, state: State) -> RedirectResponse:
    """End the session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        state.users.end_session(cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
