"""The web app's pages: login, review grid, items, events, cameras, faces (server-rendered Jinja2, a little
plain JS), a module each, sharing `camsift.web.pages.common`.

Forms post to the page routes (with the session's CSRF token as a hidden
field) and redirect back; the same actions exist in the JSON API for scripts.
Every action calls the library (`Store`, `FaceStore`, `camsift.camera_overrides`),
never SQL.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from camsift.web.auth import authorize
from camsift.web.pages import cameras, events, faces, grid, items, login
from camsift.web.pages.common import STATIC_CACHE, error_page, local_clock, same_site_referer, static_url

__all__ = ["STATIC_CACHE", "error_page", "local_clock", "login_router", "router", "same_site_referer", "static_url"]

login_router = login.login_router
"""The routes open without a session: the login form and its post."""

router = APIRouter(include_in_schema=False, dependencies=[Depends(authorize)])
"""Every other page, for a logged-in user."""
for part in (login, grid, items, events, cameras, faces):  # in the order the routes were always matched
    router.include_router(part.router)
