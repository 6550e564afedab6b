"""The web app's pages: login, review grid, event, cameras, faces (server-rendered Jinja2, a little plain JS).

Forms post to the page routes here (with the session's CSRF token as a hidden
field) and redirect back; the same actions exist in the JSON API for scripts.
Every action calls the library (`Store`, `FaceStore`, `camsift.overrides`),
never SQL.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from camsift.config import CameraSettings
from camsift.errors import CamsiftError
from camsift.media import IMAGE_SUFFIXES
from camsift.overrides import save_camera_settings
from camsift.store import ReviewFilter
from camsift.web import api
from camsift.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    authorize,
    check_login_token,
    cookie_secure,
    new_login_token,
    set_cookie,
    verify_login,
)
from camsift.web.state import WebState

__all__ = ["MAX_PHOTO_BYTES", "MAX_SELECTED", "PAGE_SIZE", "GridAction", "login_router", "router", "templates"]

PAGE_SIZE = 60
"""Events per page of the review grid."""

MAX_PHOTO_BYTES = 20 << 20
"""Largest face photo accepted for enrolment (a 12 MP phone JPEG is 3-8 MB)."""

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
login_router = APIRouter(include_in_schema=False)
router = APIRouter(include_in_schema=False, dependencies=[Depends(authorize)])

State = Annotated[WebState, Depends(api.web_state)]
User = Annotated[Principal, Depends(authorize)]


def _local(when: datetime, state: WebState) -> str:
    return f"{when.astimezone(state.settings.tz()):%Y-%m-%d %H:%M:%S}"


def _page(request: Request, name: str, user: Principal | None, **context: Any) -> HTMLResponse:
    flash = request.query_params.get("msg")
    return templates.TemplateResponse(request, name, {"user": user, "flash": flash, **context})


def _back(url: str, message: str | None = None) -> RedirectResponse:
    if message:
        url += ("&" if "?" in url else "?") + urlencode({"msg": message[:300]})
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: ``/events/x``, never ``//evil.example`` or ``https://…``."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


# --- login ----------------------------------------------------------------------------------------------------


def _login_form(request: Request, state: WebState, target: str, error: str | None = None) -> HTMLResponse:
    """The login page with a fresh double-submit CSRF token (401 when ``error`` says why the last try failed)."""
    token = new_login_token()
    no_users = state.users.count() == 0
    response = _page(request, "login.html", None, token=token, next=_safe_next(target), no_users=no_users, error=error)
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
    done = RedirectResponse(_safe_next(next), status_code=303)
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


# --- review grid ----------------------------------------------------------------------------------------------


def _day(value: str | None, state: WebState, end: bool) -> datetime | None:
    """A ``YYYY-MM-DD`` local date as the start of that day (or of the next, for ``end``)."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(
            tzinfo=state.settings.tz() or datetime.now().astimezone().tzinfo
        )
    except ValueError as err:
        raise HTTPException(422, f"not a date (YYYY-MM-DD): {value[:20]!r}") from err
    return day + timedelta(days=1) if end else day


def _here(request: Request) -> str:
    """This page's path and query without its flash message (the grid's buttons come back here)."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "msg"])
    return request.url.path + (f"?{query}" if query else "")


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@router.get("/", response_class=HTMLResponse)
def review(
    request: Request,
    state: State,
    user: User,
    camera: Annotated[str | None, Query(max_length=200)] = None,
    label: Annotated[str | None, Query(max_length=64)] = None,
    face: Literal["known", "unknown", "none", ""] = "",
    clip: Literal["yes", "no", ""] = "",
    reviewed: Literal["yes", "no", ""] = "",
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    """The review grid: events newest first, filtered, a page at a time."""
    review_filter = ReviewFilter(face=face or None, has_clip=_flag(clip), reviewed=_flag(reviewed))
    found = state.store.events(
        camera=camera or None,
        label=label or None,
        since=_day(since, state, False),
        until=_day(until, state, True),
        review=review_filter,
        limit=PAGE_SIZE + 1,
        offset=page * PAGE_SIZE,
    )
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    marks = state.store.marks([e.id for e in found])
    items = [(e, api.event_out(e, marks.get(e.id)), _local(e.start_utc, state)) for e in found]
    filters = {
        "camera": camera or "",
        "label": label or "",
        "face": face,
        "clip": clip,
        "reviewed": reviewed,
        "since": since or "",
        "until": until or "",
    }
    kept = {k: v for k, v in filters.items() if v}
    return _page(
        request,
        "review.html",
        user,
        items=items,
        filters=filters,
        cameras=state.store.cameras(),
        labels=state.store.labels(),
        page=page,
        newer=urlencode({**kept, "page": page - 1}) if page else None,
        older=urlencode({**kept, "page": page + 1}) if more else None,
        here=_here(request),
    )


GridAction = Literal["reviewed", "pin", "unpin", "delete"]
"""What the review grid's buttons do to the selected events (``POST /review/{action}``)."""

MAX_SELECTED = 1000
"""Most events one grid button changes; ids beyond are ignored."""

_GRID_MARKS: dict[GridAction, dict[str, bool]] = {
    "reviewed": {"reviewed": True},
    "pin": {"pinned": True},
    "unpin": {"pinned": False},
}
"""The mark each grid action other than ``delete`` sets (`Store.mark`, one write for all the events)."""

_DONE_AS: dict[GridAction, str] = {
    "reviewed": "marked reviewed",
    "pin": "pinned",
    "unpin": "unpinned",
    "delete": "deleted",
}
"""Each grid action in the past tense, for the flash message."""


def _events(n: int) -> str:
    return f"{n} event{'' if n == 1 else 's'}"


@router.post("/review/{action}")
def review_action(
    state: State,
    action: GridAction,
    selected: Annotated[list[str] | None, Form(description="Ids of the checked cards")] = None,
    ids: Annotated[list[str] | None, Form(description="Ids of every card shown")] = None,
    scope: Annotated[Literal["selected", "shown"], Form()] = "selected",
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> RedirectResponse:
    """The review grid's buttons: mark reviewed, pin, unpin or delete the checked events, then go ``back``.

    ``reviewed`` takes every event shown when none is checked or ``scope`` is ``shown`` ("Mark shown as
    reviewed"). At most `MAX_SELECTED` events are changed, by the same `Store` calls as the event page's
    buttons (marks in one write); an id no longer stored (deleted meanwhile) is skipped and counted in the
    message. ``back`` is followed only when it is a path of this site (`_safe_next`).
    """
    chosen = selected or []
    if action == "reviewed" and (scope == "shown" or not chosen):
        chosen = ids or []
    here = _safe_next(back)
    if not chosen:
        return _back(here, "no events selected")
    unique = list(dict.fromkeys(chosen[:MAX_SELECTED]))
    if action == "delete":
        done = sum(state.store.delete_event(event_id) for event_id in unique)
    else:
        done = state.store.mark(unique, **_GRID_MARKS[action])
    skipped = len(unique) - done
    gone = f"; {skipped} skipped (no longer stored)" if skipped else ""
    return _back(here, f"{_events(done)} {_DONE_AS[action]}{gone}")


# --- event page -----------------------------------------------------------------------------------------------


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, state: State, user: User, event_id: str) -> HTMLResponse:
    """One event: snapshot, clip, details, faces, actions."""
    found = state.store.event(event_id)
    if found is None:
        raise HTTPException(404, "no such event")
    out = api.event_out(found, state.store.marks([event_id]).get(event_id))
    faces = state.faces.event_faces(event_id)
    known = found.sub_label not in (None, "unknown")
    video = found.video if found.video is not None and found.video.is_file() else None
    return _page(
        request,
        "event.html",
        user,
        event=found,
        out=out,
        when=_local(found.start_utc, state),
        faces=faces,
        known=known,
        people=[p.name for p in state.faces.people()],
        video=video is not None and video.suffix.lower() in api.PLAYABLE,
        download=video is not None and video.suffix.lower() not in api.PLAYABLE,
        bbox=request.query_params.get("bbox") == "1",
    )


@router.post("/events/{event_id}/action")
def event_action(
    state: State,
    event_id: str,
    action: Annotated[
        Literal["reviewed", "unreviewed", "pin", "unpin", "delete", "false_positive", "wrong_match"], Form()
    ],
) -> RedirectResponse:
    """The event page's buttons."""
    here = f"/events/{event_id}"
    match action:
        case "reviewed" | "unreviewed":
            api.reviewed(state, event_id) if action == "reviewed" else api.unreviewed(state, event_id)
            return _back(here)
        case "pin" | "unpin":
            api.retain(state, event_id) if action == "pin" else api.unretain(state, event_id)
            return _back(here, "pinned: retention keeps it forever" if action == "pin" else "unpinned")
        case "delete":
            api.delete(state, event_id)
            return _back("/", f"event {event_id} deleted")
        case "false_positive":
            return _back(here, api.false_positive(state, event_id).message)
        case _:
            return _back(here, api.wrong_match(state, event_id).message)


@router.post("/events/{event_id}/faces/{n}")
def name_event_face(
    state: State, event_id: str, n: api.StoredInt, name: Annotated[str, Form(min_length=1, max_length=64)]
) -> RedirectResponse:
    """Enrol from an event's face: say who it is."""
    message = api.name_face(state, event_id, n, api.FaceName(name=name)).message
    return _back(f"/events/{event_id}", message)


# --- cameras --------------------------------------------------------------------------------------------------


@router.get("/cameras", response_class=HTMLResponse)
def cameras_page(request: Request, state: State, user: User) -> HTMLResponse:
    """Each camera: its source's state, last event, live picture, record button and settings."""
    stats = api.stats(state)
    live = api.stream_cameras(state)
    rows = [
        {
            "name": name,
            "stats": cam,
            "last": _local(datetime.fromtimestamp(cam.last_event_time, UTC), state) if cam.last_event_time else None,
            "live": name in live,
            "settings": CameraSettings.of(state.settings, name),
        }
        for name, cam in stats.cameras.items()
    ]
    return _page(request, "cameras.html", user, cameras=rows, stats=stats)


@router.post("/cameras/{camera}/settings")
async def camera_settings(request: Request, state: State, camera: str) -> RedirectResponse:
    """Store a camera's settings (`camsift.overrides`)."""
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k in CameraSettings.model_fields}
    labels = [part.strip() for part in values.pop("labels", "").replace(",", " ").split() if part.strip()]
    try:
        settings = CameraSettings.model_validate({**values, "labels": labels})
        state.settings = save_camera_settings(state.settings, camera, settings)
    except ValidationError as err:
        e = err.errors()[0]
        return _back("/cameras", f"{camera}: {'.'.join(map(str, e['loc']))}: {e['msg']}")
    except CamsiftError as err:
        return _back("/cameras", str(err))
    return _back(
        "/cameras",
        f"{camera}: settings saved; 'camsift run' applies them from the next file (live streams: next start)",
    )


@router.post("/cameras/{camera}/record")
def camera_record(state: State, camera: str) -> RedirectResponse:
    """The "record now" button."""
    try:
        api.record(state, camera, 30.0)
    except HTTPException as err:
        return _back("/cameras", f"{camera}: {err.detail}")
    return _back("/cameras", f"{camera}: recording 30 s")


# --- faces ----------------------------------------------------------------------------------------------------


@router.get("/faces", response_class=HTMLResponse)
def faces_page(request: Request, state: State, user: User) -> HTMLResponse:
    """The known-faces library, enrolment from a photo, and groups of unknown faces to name."""
    from camsift.faces import engine_model

    cfg = state.settings.faces
    try:
        groups = state.faces.groups(engine_model(cfg.engine), cfg.match_distance)
    except CamsiftError:
        groups = []
    return _page(request, "faces.html", user, people=state.faces.people(), groups=groups)


@router.get("/faces/groups/{group}.jpg", response_class=Response)
def group_picture(state: State, group: api.StoredInt) -> Response:
    """The sharpest picture of a group of unknown faces."""
    return api.media_file(state.faces.group_picture(group), "image/jpeg", "picture")


@router.post("/faces/enrol")
def enrol_photo(
    state: State, name: Annotated[str, Form(min_length=1, max_length=64)], photo: UploadFile
) -> RedirectResponse:
    """Add a photo of a person to the library (one big, sharp face)."""
    from camsift.faces.enrol import enrol

    suffix = Path(photo.filename or "").suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        return _back("/faces", f"not a photo (expected {', '.join(sorted(IMAGE_SUFFIXES))})")
    if (photo.size or 0) > MAX_PHOTO_BYTES:
        return _back("/faces", f"photo too large (at most {MAX_PHOTO_BYTES >> 20} MB)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"photo{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(photo.file, out, 1 << 20)
        try:
            naming, checks = enrol(state.faces, state.face_engine(), name, [path], state.settings.faces)
        except CamsiftError as err:
            return _back("/faces", str(err))
    if naming is None:
        return _back("/faces", f"{name}: photo refused: {checks[0].reason}")
    past = f"; {len(naming.events)} past events now say {naming.name}" if naming.events else ""
    return _back("/faces", f"{naming.name}: photo added{past}")


@router.post("/faces/groups/{group}")
def name_group(
    state: State, group: api.StoredInt, name: Annotated[str, Form(min_length=1, max_length=64)]
) -> RedirectResponse:
    """Name a group of unknown faces."""
    from camsift.faces import engine_model
    from camsift.faces.enrol import check_name

    try:
        naming = state.faces.name_group(
            group, check_name(name), engine_model(state.settings.faces.engine), state.settings.faces
        )
    except CamsiftError as err:
        return _back("/faces", str(err))
    return _back("/faces", f"group {group} is {naming.name}: {len(naming.events)} events relabelled")


@router.post("/faces/people/{name}/remove")
def remove_person(state: State, name: str) -> RedirectResponse:
    """Forget a person."""
    try:
        events = state.faces.remove(name)
    except CamsiftError as err:
        return _back("/faces", str(err))
    return _back("/faces", f"{name} removed; {len(events)} events relabelled")
