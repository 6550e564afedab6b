"""What every page of the web app shares: the templates and static files, the page frame (flash message,
unreviewed count), going back with a message, error pages, same-site targets."""

from __future__ import annotations

import functools
import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from camsift.review import review_items
from camsift.store import ReviewFilter
from camsift.web import api
from camsift.web.auth import Principal, authorize
from camsift.web.state import WebState

__all__ = [
    "BADGE_TTL_S",
    "STATIC",
    "STATIC_CACHE",
    "State",
    "User",
    "error_page",
    "go_back",
    "local_clock",
    "local_time",
    "safe_next",
    "same_site_referer",
    "show_page",
    "static_url",
    "templates",
    "unreviewed_count",
]

templates = Jinja2Templates(directory=Path(__file__).parents[1] / "templates")
templates.env.filters["seg"] = lambda value: quote(str(value), safe="")
"""``{{ name|seg }}``: a name as one URL path segment (``Front door #2`` -> ``Front%20door%20%232``, ``/`` too)."""
STATIC = Path(__file__).parents[1] / "static"
STATIC_CACHE = "public, max-age=31536000, immutable"
"""``/static`` files are named with their content's hash (`static_url`): browsers keep them a year."""


@functools.cache
def static_url(name: str) -> str:
    """``/static/<name>?v=<hash of its content>``: a new URL whenever the file changes."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


templates.env.globals["static_url"] = static_url

State = Annotated[WebState, Depends(api.web_state)]
"""A page's `WebState`."""
User = Annotated[Principal, Depends(authorize)]
"""The logged-in user of a page (`authorize`)."""


def local_time(when: datetime, state: WebState) -> str:
    """An aware time as local ``YYYY-MM-DD HH:MM:SS`` in the configured time zone."""
    return f"{when.astimezone(state.settings.tz()):%Y-%m-%d %H:%M:%S}"


def show_page(request: Request, name: str, user: Principal | None, **context: Any) -> HTMLResponse:
    """The template ``name`` in the page frame: ``user`` (``None``: logged out), the flash messages of their
    session (`Flashes`) and the unreviewed count beside "Review" (`unreviewed_count`)."""
    state: WebState = request.app.state.web
    messages = state.flashes.pop(user.session.csrf) if user is not None and user.session is not None else []
    flash = " · ".join(messages) or None
    count = unreviewed_count(state) if user is not None else 0
    return templates.TemplateResponse(
        request, name, {"user": user, "flash": flash, "unreviewed_total": count, **context}
    )


def go_back(state: WebState, user: Principal, url: str, message: str | None = None) -> RedirectResponse:
    """Go to ``url`` (303), showing ``message`` on the next page this browser session opens (`Flashes`)."""
    state.badge = None  # the action may have changed what is unreviewed
    if message and user.session is not None:
        state.flashes.push(user.session.csrf, message[:300])
    return RedirectResponse(url, status_code=303)


def error_page(
    request: Request,
    status: int,
    title: str,
    detail: str,
    action: tuple[str, str],
    headers: Any = None,
) -> HTMLResponse:
    """An error as a page for a browser: what happened, what to do, and one link (``action``: URL, text)."""
    return templates.TemplateResponse(
        request,
        "error.html",
        {"user": None, "flash": None, "status": status, "title": title, "detail": detail, "action": action},
        status_code=status,
        headers=dict(headers) if headers else None,
    )


def same_site_referer(request: Request) -> str:
    """The page a request came from, when it is a page of this site (path and query), else ``/``."""
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


def local_clock(seconds: float, settings: Any) -> str:
    """Unix ``seconds`` as local ``HH:MM`` in the configured time zone."""
    return f"{datetime.fromtimestamp(seconds, UTC).astimezone(settings.tz()):%H:%M}"


def safe_next(target: str | None) -> str:
    """Only same-site paths: ``/events/x``, never ``//evil.example`` or ``https://…``."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


BADGE_TTL_S = 15.0
"""Seconds the unreviewed count beside "Review" is reused (an action of this app renews it at once)."""


def unreviewed_count(state: WebState) -> int:
    """Review items of the last 24 hours with an event not yet reviewed (the count beside "Review")."""
    now = time.monotonic()
    if state.badge is not None and now - state.badge[0] < BADGE_TTL_S:
        return state.badge[1]
    since = datetime.now(UTC) - timedelta(hours=24)
    fresh = state.store.events(since=since, review=ReviewFilter(reviewed=False), limit=5000)
    state.badge = (now, len(review_items(fresh)))
    return state.badge[1]
