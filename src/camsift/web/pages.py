"""The web app's pages: login, review grid, event, cameras, faces (server-rendered Jinja2, a little plain JS).

Forms post to the page routes here (with the session's CSRF token as a hidden
field) and redirect back; the same actions exist in the JSON API for scripts.
Every action calls the library (`Store`, `FaceStore`, `camsift.camera_overrides`),
never SQL.
"""

from __future__ import annotations

import functools
import hashlib
import math
import mimetypes
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import numpy as np
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from camsift.camera_overrides import (
    false_positive_index,
    false_positive_of,
    remove_false_positive,
    save_camera_settings,
)
from camsift.config import CameraSettings, FalsePositive
from camsift.errors import CamsiftError
from camsift.events import Event
from camsift.layout import DataDir
from camsift.live_picture import LIVE_EVERY_S
from camsift.media import IMAGE_SUFFIXES
from camsift.review import ReviewItem, is_live, review_items
from camsift.store import EventMarks, ReviewFilter
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
from camsift.web.playable import PLAYABLE, playable_copy
from camsift.web.state import WebState
from camsift.web.thumbs import THUMB_CACHE_CONTROL, thumbnail

__all__ = [
    "MAX_PHOTO_BYTES",
    "MAX_SELECTED",
    "PAGE_ITEMS",
    "Card",
    "Day",
    "GridAction",
    "Mark",
    "error_page",
    "item_of",
    "known_camera",
    "local_clock",
    "login_router",
    "preview_url",
    "router",
    "same_site_referer",
    "static_url",
    "templates",
    "unreviewed_count",
]

PAGE_ITEMS = 60
"""The review page shows whole days until it shows at least this many review items."""

CHUNK = 500
"""Events first read while filling the review page; each further read takes four times as many (a busy day
of 2,000 events in two queries, a quiet one in one)."""

MAX_PHOTO_BYTES = 20 << 20
"""Largest face photo accepted for enrolment (a 12 MP phone JPEG is 3-8 MB)."""

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["seg"] = lambda value: quote(str(value), safe="")
STATIC = Path(__file__).parent / "static"
STATIC_CACHE = "public, max-age=31536000, immutable"
"""``/static`` files are named with their content's hash (`static_url`): browsers keep them a year."""


@functools.cache
def static_url(name: str) -> str:
    """``/static/<name>?v=<hash of its content>``: a new URL whenever the file changes."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


templates.env.globals["static_url"] = static_url
"""``{{ name|seg }}``: a name as one URL path segment (``Front door #2`` -> ``Front%20door%20%232``, ``/`` too)."""
login_router = APIRouter(include_in_schema=False)
router = APIRouter(include_in_schema=False, dependencies=[Depends(authorize)])

State = Annotated[WebState, Depends(api.web_state)]
User = Annotated[Principal, Depends(authorize)]


def _local(when: datetime, state: WebState) -> str:
    return f"{when.astimezone(state.settings.tz()):%Y-%m-%d %H:%M:%S}"


def _page(request: Request, name: str, user: Principal | None, **context: Any) -> HTMLResponse:
    state: WebState = request.app.state.web
    messages = state.flashes.pop(user.session.csrf) if user is not None and user.session is not None else []
    flash = " · ".join(messages) or None
    count = unreviewed_count(state) if user is not None else 0
    return templates.TemplateResponse(
        request, name, {"user": user, "flash": flash, "unreviewed_total": count, **context}
    )


def _back(state: WebState, user: Principal, url: str, message: str | None = None) -> RedirectResponse:
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
    return _safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


def local_clock(seconds: float, settings: Any) -> str:
    """Unix ``seconds`` as local ``HH:MM`` in the configured time zone."""
    return f"{datetime.fromtimestamp(seconds, UTC).astimezone(settings.tz()):%H:%M}"


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


@dataclass(frozen=True)
class Mark:
    """A review item as its day's timeline shows it.

    Attributes:
        item: The item.
        objects: Its labels with their counts, most frequent first (``"person ×3, bicycle"``).
        start: Local time it started (aware, the configured time zone).
        when: Local start time (``HH:MM:SS``).
        minute: Local minute of the day it started (0..1439), for the timeline.
        minutes: Its length in minutes (at least 1), for the timeline.
    """

    item: ReviewItem
    objects: str
    start: datetime
    when: str
    minute: int
    minutes: int


@dataclass(frozen=True)
class Card(Mark):
    """A review item as the grid shows it: its `Mark` and what its card needs beyond.

    Attributes:
        ids: Its event ids, space-separated (the card's checkbox value).
        pinned: One of its events is pinned.
        preview: URL of a clip browsers can play, for the hover and tap preview.
    """

    ids: str = ""
    pinned: bool = False
    preview: str | None = None


@dataclass(frozen=True)
class Day:
    """One local day of the review page: its heading, the cards of this page, the cameras of its timeline,
    and the timeline (every item of the day, shown on this page or not)."""

    date: date
    cards: list[Card]
    cameras: list[str]
    timeline: list[Mark]

    @property
    def unreviewed(self) -> int:
        """Items of the day not yet reviewed (all of them, shown on this page or not)."""
        return sum(not m.item.reviewed for m in self.timeline)

    @property
    def lanes(self) -> list[tuple[str, list[Mark]]]:
        """The timeline's rows: each camera of the day (by name) and all its items."""
        rows: dict[str, list[Mark]] = {}
        for mark in self.timeline:
            rows.setdefault(mark.item.camera, []).append(mark)
        return sorted(rows.items())


Marked = list[tuple[Event, EventMarks]]
"""Stored events with their marks (`Store.marked_events`)."""


def _items(state: WebState, marked: Marked) -> tuple[list[ReviewItem], dict[str, EventMarks]]:
    """Review items of events with their marks, and the marks by event id."""
    marks = {e.id: m for e, m in marked}
    done = [i for i, m in marks.items() if m.reviewed]
    found = review_items((e for e, _ in marked), alert_labels=state.settings.web.alert_labels, reviewed=done)
    return found, marks


def _counted(labels: list[str]) -> str:
    counts = Counter(labels)
    return ", ".join(f"{label} ×{n}" if n > 1 else label for label, n in counts.most_common())


def preview_url(event: Event) -> str | None:
    """Where the browser can play ``event``'s video (``None``: no video, or not a format browsers play)."""
    video = event.video
    if video is None or video.suffix.lower() not in PLAYABLE:
        return None
    return f"/events/{quote(event.id, safe='')}/video.mp4"


def _mark(state: WebState, item: ReviewItem) -> Mark:
    start = datetime.fromtimestamp(item.start_time, _zone(state))
    return Mark(
        item=item,
        objects=_counted([e.label for e in item.events]),
        start=start,
        when=f"{start:%H:%M:%S}",
        minute=start.hour * 60 + start.minute,
        minutes=max(1, math.ceil((item.end_time - item.start_time) / 60)),
    )


def _card(mark: Mark, marks: dict[str, EventMarks]) -> Card:
    item = mark.item
    video = next((e for e in item.events if e.video is not None), None)
    return Card(
        **{f.name: getattr(mark, f.name) for f in fields(Mark)},
        ids=" ".join(item.data.detections),
        pinned=any(marks[i].pinned for i in item.data.detections if i in marks),
        preview=preview_url(video) if video else None,
    )


def _zone(state: WebState) -> tzinfo:
    """The configured time zone, else this machine's (read once per settings)."""
    cached = _ZONES.get(id(state.settings))
    if cached is None or cached[0] is not state.settings:
        zone = state.settings.tz() or datetime.now().astimezone().tzinfo or UTC
        _ZONES[id(state.settings)] = cached = (state.settings, zone)
    return cached[1]


_ZONES: dict[int, tuple[Any, tzinfo]] = {}


def _review_days(
    state: WebState, query: dict[str, Any], until: datetime | None
) -> tuple[list[Day], date | None, dict[str, EventMarks]]:
    """Whole local days of review items, newest first, from ``until`` back until `PAGE_ITEMS` items are shown.

    Events are read `CHUNK`, then four times more at a time (newest first); the oldest day read may be
    incomplete and is only shown once the events run out. Returns the days (their timelines; no cards yet:
    `_page_of`), the next older day with events (``None``: none), and the marks of their events.
    """
    zone = _zone(state)
    marked: Marked = []
    dates: list[date] = []
    size = CHUNK
    while True:
        chunk = state.store.marked_events(**query, until=until, limit=size, offset=len(marked))
        marked += chunk
        dates += [e.start_utc.astimezone(zone).date() for e, _ in chunk]
        exhausted = len(chunk) < size
        size *= 4
        days = list(dict.fromkeys(dates))
        complete = days if exhausted else days[:-1]
        if exhausted or len(complete) >= 1:
            wanted = set(complete)
            items, marks = _items(state, [m for m, d in zip(marked, dates, strict=True) if d in wanted])
            if exhausted or len(items) >= PAGE_ITEMS:
                break
    by_day: dict[date, list[Mark]] = {}
    for item in items:
        mark = _mark(state, item)
        by_day.setdefault(mark.start.date(), []).append(mark)
    shown: list[Day] = []
    total = 0
    for day in complete:
        timeline = by_day.get(day, [])
        if not timeline:
            continue
        if shown and total >= PAGE_ITEMS:
            break
        shown.append(Day(day, [], sorted({m.item.camera for m in timeline}), timeline))
        total += len(timeline)
    older = next((d for d in days if shown and d < shown[-1].date), None)
    return shown, older, marks


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


def _page_of(days: list[Day], page: int, marks: dict[str, EventMarks]) -> tuple[list[Day], bool]:
    """The days with the cards of page ``page`` (`PAGE_ITEMS` a page) only; whether more cards follow."""
    start, end = page * PAGE_ITEMS, (page + 1) * PAGE_ITEMS
    kept, seen = [], 0
    for day in days:
        shown = day.timeline[max(0, start - seen) : max(0, end - seen)]
        seen += len(day.timeline)
        if shown:
            kept.append(Day(day.date, [_card(m, marks) for m in shown], day.cameras, day.timeline))
    return kept, seen > end


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
    day: Annotated[str | None, Query(max_length=10)] = None,
    page: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> HTMLResponse:
    """The review page: review items by local day, newest first, `PAGE_ITEMS` a page, each day with a timeline
    per camera of all its items."""
    review_filter = ReviewFilter(face=face or None, has_clip=_flag(clip), reviewed=_flag(reviewed))
    query = {"camera": camera or None, "label": label or None, "review": review_filter}
    whole, older, marks = _review_days(state, query, _day(day, state, True))
    days, more = _page_of(whole, page, marks)
    filters = {"camera": camera or "", "label": label or "", "face": face, "clip": clip, "reviewed": reviewed}
    kept = {k: v for k, v in filters.items() if v}
    return _page(
        request,
        "review.html",
        user,
        days=days,
        shown=sum(len(d.cards) for d in days),
        unreviewed=sum(d.unreviewed for d in whole),
        filters={**filters, "day": day or ""},
        cameras=state.store.cameras(),
        labels=state.store.labels(),
        newest=urlencode(kept) if day or page else None,
        more=urlencode({**kept, **({"day": day} if day else {}), "page": page + 1}) if more else None,
        older=urlencode({**kept, "day": older.isoformat()}) if older and not more else None,
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
    user: User,
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
    chosen = [i for value in selected or [] for i in value.split()]  # a card holds all its item's events
    if action == "reviewed" and (scope == "shown" or not chosen):
        chosen = [i for value in ids or [] for i in value.split()]
    here = _safe_next(back)
    if not chosen:
        return _back(state, user, here, "no events selected")
    unique = list(dict.fromkeys(chosen[:MAX_SELECTED]))
    if action == "delete":
        done = sum(state.store.delete_event(event_id) for event_id in unique)
    else:
        done = state.store.mark(unique, **_GRID_MARKS[action])
    skipped = len(unique) - done
    gone = f"; {skipped} skipped (no longer stored)" if skipped else ""
    return _back(state, user, here, f"{_events(done)} {_DONE_AS[action]}{gone}")


# --- review items -----------------------------------------------------------------------------------------------

LIVE_WINDOW = timedelta(hours=2)
"""Events around a live event read to find its review item (a live activity longer than this is cut)."""


def item_of(state: WebState, event_id: str) -> tuple[ReviewItem, dict[str, EventMarks]] | None:
    """The review item holding an event, with its events' marks (``None``: no such event)."""
    found = state.store.event(event_id)
    if found is None:
        return None
    if is_live(found):
        around = state.store.marked_events(
            camera=found.camera, since=found.start_utc - LIVE_WINDOW, until=found.start_utc + LIVE_WINDOW
        )
        marked = [(e, m) for e, m in around if is_live(e)]
    else:
        marked = state.store.marked_events(source=found.source)
    items, marks = _items(state, marked)
    return next(i for i in items if event_id in i.data.detections), marks


def _neighbours(state: WebState, item: ReviewItem) -> tuple[str | None, str | None]:
    """Event ids of the newer and the older item next to ``item`` (any camera; ``None`` at either end)."""
    start = datetime.fromtimestamp(item.start_time, UTC)
    ids = set(item.data.detections)
    after = state.store.count_events(since=start)
    newest_first = state.store.events(since=start, limit=200, offset=max(0, after - 200))
    newer = [e for e in newest_first[::-1] if e.id not in ids][:1]
    older = [e for e in state.store.events(until=start + timedelta(microseconds=1), limit=200) if e.id not in ids][:1]
    return (newer[0].id if newer else None, older[0].id if older else None)


@router.get("/items/{event_id}", response_class=HTMLResponse, response_model=None)
def item_page(request: Request, state: State, user: User, event_id: str) -> HTMLResponse | RedirectResponse:
    """A review item (by the id of any of its events): its best picture, its clip, every object, the actions,
    and the newer and older items (keys ``k``/``j``)."""
    found = item_of(state, event_id)
    if found is None:
        raise HTTPException(404, "no such review item")
    item, marks = found
    if item.id != event_id:
        return RedirectResponse(f"/items/{quote(item.id, safe='')}", status_code=303)
    newer, older = _neighbours(state, item)
    card = _card(_mark(state, item), marks)
    video = next((e for e in item.events if e.video is not None), None)
    return _page(
        request,
        "item.html",
        user,
        card=card,
        item=item,
        cover=item.cover,
        events=[(e, _local(e.start_utc, state)) for e in item.events],
        when=_local(datetime.fromtimestamp(item.start_time, UTC), state),
        duration=item.end_time - item.start_time,
        video=video,
        playable=preview_url(video) if video else None,
        newer=newer,
        older=older,
    )


@router.post("/items/{event_id}/action")
def item_action(
    state: State,
    user: User,
    event_id: str,
    action: Annotated[Literal["reviewed", "unreviewed", "pin", "unpin", "delete"], Form()],
    next_item: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    """The item page's buttons: mark every event of the item (or delete them all); "reviewed" goes on to
    ``next_item`` when given."""
    found = item_of(state, event_id)
    if found is None:
        raise HTTPException(404, "no such review item")
    item = found[0]
    here = f"/items/{quote(item.id, safe='')}"
    if action == "delete":
        done = sum(state.store.delete_event(i) for i in item.detections)
        return _back(state, user, "/", f"{_events(done)} deleted")
    marks = {
        "reviewed": {"reviewed": True},
        "unreviewed": {"reviewed": False},
        "pin": {"pinned": True},
        "unpin": {"pinned": False},
    }[action]
    state.store.mark(item.detections, **marks)
    if action == "reviewed" and next_item:
        return _back(state, user, f"/items/{quote(next_item, safe='')}")
    return _back(state, user, here)


@router.get("/thumbs/{event_id}.jpg", response_class=Response)
def item_thumbnail(state: State, event_id: str) -> Response:
    """An event's snapshot cropped around its object (in a still picture: around every object in it), boxes
    drawn (`camsift.web.thumbs`)."""
    found = state.store.event(event_id)
    if found is None or found.snapshot is None:
        raise HTTPException(404, "no snapshot")
    boxes = [found.box_xyxy]
    if found.source is not None and found.source.suffix.lower() in IMAGE_SUFFIXES:
        boxes = [e.box_xyxy for e in state.store.events(source=found.source)]
    try:
        data = thumbnail(found.snapshot, boxes)
    except CamsiftError as err:
        raise HTTPException(404, "snapshot missing or unreadable") from err
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": THUMB_CACHE_CONTROL})


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
    playable = video is not None and (video.suffix.lower() in PLAYABLE or request.query_params.get("play") == "1")
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
        video=playable,
        convert=video is not None and not playable,
        footage=video.name if video is not None else None,
        bbox=request.query_params.get("bbox") == "1",
        false_positive=_marked_false_positive(state, found),
        picture=found.snapshot is not None and found.snapshot.is_file(),
    )


def _marked_false_positive(state: WebState, event: Event) -> int | None:
    """1-based number of the false positive ``event`` is in its camera's list (``None``: not marked)."""
    listed = state.settings.for_camera(event.camera).objects.false_positives
    return next((n for n, f in enumerate(listed, 1) if f.event == event.id), None)


VIDEO_CACHE = "private, max-age=3600"
"""Browsers keep an event's video an hour (the footage does not change; a playable copy is made once)."""


def _video_of(state: WebState, event_id: str) -> Path:
    found = state.store.event(event_id)
    if found is None:
        raise HTTPException(404, "no such event")
    if found.video is None or not found.video.is_file():
        raise HTTPException(404, "no video for this event")
    return found.video


@router.get("/events/{event_id}/video.mp4", response_class=FileResponse)
def event_video(state: State, event_id: str) -> FileResponse:
    """The event's video as browsers play it: the footage itself when it is MP4, else an H.264 MP4 copy made on
    first request and cached (`camsift.web.playable`); named after the footage (``corridor.mp4``)."""
    video = _video_of(state, event_id)
    path = video
    if video.suffix.lower() not in PLAYABLE:
        try:
            path = playable_copy(video, DataDir(state.settings.data_dir).cache)
        except CamsiftError as err:
            raise HTTPException(409, str(err)) from err
    return FileResponse(
        path,
        media_type="video/mp4",
        filename=f"{video.stem}.mp4",
        content_disposition_type="inline",
        headers={"Cache-Control": VIDEO_CACHE},
    )


@router.get("/events/{event_id}/footage", response_class=FileResponse)
def event_footage(state: State, event_id: str) -> FileResponse:
    """The event's footage as it was recorded, to download, under its own name and type (``corridor.avi``,
    ``video/x-msvideo``)."""
    video = _video_of(state, event_id)
    media_type = mimetypes.guess_type(video.name)[0] or "application/octet-stream"
    return FileResponse(video, media_type=media_type, filename=video.name, headers={"Cache-Control": VIDEO_CACHE})


@router.post("/events/{event_id}/action")
def event_action(
    state: State,
    user: User,
    event_id: str,
    action: Annotated[
        Literal["reviewed", "unreviewed", "pin", "unpin", "delete", "false_positive", "wrong_match"], Form()
    ],
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> RedirectResponse:
    """The event page's buttons."""
    here = f"/events/{quote(event_id, safe='')}"
    match action:
        case "reviewed" | "unreviewed":
            api.reviewed(state, event_id) if action == "reviewed" else api.unreviewed(state, event_id)
            return _back(state, user, here)
        case "pin" | "unpin":
            api.retain(state, event_id) if action == "pin" else api.unretain(state, event_id)
            return _back(state, user, here, "pinned: retention keeps it forever" if action == "pin" else "unpinned")
        case "delete":
            api.delete(state, event_id)
            return _back(state, user, "/", f"event {event_id} deleted")
        case "false_positive":
            if confirm != "yes":
                return _back(state, user, f"{here}/false_positive")
            return _back(state, user, here, api.false_positive(state, event_id).message)
        case _:
            return _back(state, user, here, api.wrong_match(state, event_id).message)


SUPPRESSED_SHOWN = 12
"""Stored events a false-positive confirmation shows of those it would have hidden."""


def _suppressed(state: WebState, event: Event, entry: FalsePositive) -> list[Event]:
    """``event``'s camera's stored events of its label that ``entry`` matches where they were best seen."""
    from camsift.config import ObjectsConfig
    from camsift.detections import Detections
    from camsift.filters import ObjectFilter

    others = [e for e in state.store.events(camera=event.camera, label=event.label) if e.id != event.id]
    if not others:
        return []
    width, height = _snapshot_size(event)
    filt = ObjectFilter(ObjectsConfig(labels=[event.label], false_positives=[entry]), width, height)
    boxes = Detections(
        xyxy=np.array([e.box_xyxy for e in others], np.float32),
        confidence=np.array([e.confidence for e in others], np.float32),
        label=np.array([e.label for e in others], np.str_),
    )
    return [e for e, hit in zip(others, filt.matches_false_positive(boxes), strict=True) if hit]


def _snapshot_size(event: Event) -> tuple[int, int]:
    from PIL import Image

    assert event.snapshot is not None
    with Image.open(event.snapshot) as image:
        return image.size


@router.get("/events/{event_id}/false_positive", response_class=HTMLResponse)
def false_positive_page(request: Request, state: State, user: User, event_id: str) -> HTMLResponse:
    """Confirm a false positive: what it is, whether it looks real, and which stored events it would have hidden."""
    found = state.store.event(event_id)
    if found is None:
        raise HTTPException(404, "no such event")
    try:
        entry = false_positive_of(found)
    except CamsiftError as err:
        raise HTTPException(409, str(err)) from err
    hidden = _suppressed(state, found, entry)
    return _page(
        request,
        "false_positive.html",
        user,
        event=found,
        when=_local(found.start_utc, state),
        known=false_positive_index(state.settings, found.camera, entry) is not None,
        hidden=[(e, _local(e.start_utc, state)) for e in hidden[:SUPPRESSED_SHOWN]],
        hidden_total=len(hidden),
    )


@router.post("/cameras/{camera:path}/false_positives/{n}/remove")
def remove_false_positive_entry(
    state: State,
    user: User,
    camera: str,
    n: Annotated[int, PathParam(ge=1, le=100_000)],
    back: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """Take back false positive ``n`` (1-based) of a camera (the undo of the "false positive" button)."""
    known_camera(state, camera)
    try:
        state.settings = remove_false_positive(state.settings, camera, n - 1)
    except CamsiftError as err:
        return _back(state, user, _safe_next(back or "/cameras"), str(err))
    return _back(
        state,
        user,
        _safe_next(back or "/cameras"),
        f"{camera}: false positive {n} removed; that place is watched again",
    )


@router.post("/events/{event_id}/faces/{n}")
def name_event_face(
    state: State, user: User, event_id: str, n: api.StoredInt, name: Annotated[str, Form(min_length=1, max_length=64)]
) -> RedirectResponse:
    """Enrol from an event's face: say who it is."""
    message = api.name_face(state, event_id, n, api.FaceName(name=name)).message
    return _back(state, user, f"/events/{quote(event_id, safe='')}", message)


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
            "false_positives": state.settings.for_camera(name).objects.false_positives,
        }
        for name, cam in stats.cameras.items()
    ]
    return _page(request, "cameras.html", user, cameras=rows, stats=stats, live_every_ms=round(LIVE_EVERY_S * 1000))


def known_camera(state: WebState, camera: str) -> str:
    """``camera`` when it is one: configured, fed by a source, or with stored events.

    Raises:
        HTTPException: 404 for any other name (no setting may create a camera).
    """
    if camera in state.settings.cameras or camera in api.camera_sources(state) or camera in state.store.cameras():
        return camera
    raise HTTPException(404, f"no camera named {camera!r}: settings are kept only for cameras camsift knows")


@router.post("/cameras/{camera:path}/settings")
async def camera_settings(request: Request, state: State, user: User, camera: str) -> RedirectResponse:
    """Store a camera's settings (`camsift.camera_overrides`); 404 for a camera camsift does not know."""
    known_camera(state, camera)
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k in CameraSettings.model_fields}
    labels = [part.strip() for part in values.pop("labels", "").replace(",", " ").split() if part.strip()]
    try:
        settings = CameraSettings.model_validate({**values, "labels": labels})
        state.settings = save_camera_settings(state.settings, camera, settings)
    except ValidationError as err:
        e = err.errors()[0]
        return _back(state, user, "/cameras", f"{camera}: {'.'.join(map(str, e['loc']))}: {e['msg']}")
    except CamsiftError as err:
        return _back(state, user, "/cameras", str(err))
    return _back(
        state,
        user,
        "/cameras",
        f"{camera}: settings saved; 'camsift run' applies them from the next file (live streams: next start)",
    )


@router.post("/cameras/{camera:path}/record")
def camera_record(state: State, user: User, camera: str) -> RedirectResponse:
    """The "record now" button."""
    try:
        api.record(state, camera, 30.0)
    except HTTPException as err:
        return _back(state, user, "/cameras", f"{camera}: {err.detail}")
    return _back(state, user, "/cameras", f"{camera}: recording 30 s")


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
    state: State, user: User, name: Annotated[str, Form(min_length=1, max_length=64)], photo: UploadFile
) -> RedirectResponse:
    """Add a photo of a person to the library (one big, sharp face)."""
    from camsift.faces.enrol import enrol

    suffix = Path(photo.filename or "").suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        return _back(state, user, "/faces", f"not a photo (expected {', '.join(sorted(IMAGE_SUFFIXES))})")
    if (photo.size or 0) > MAX_PHOTO_BYTES:
        return _back(state, user, "/faces", f"photo too large (at most {MAX_PHOTO_BYTES >> 20} MB)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"photo{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(photo.file, out, 1 << 20)
        try:
            naming, checks = enrol(state.faces, state.face_engine(), name, [path], state.settings.faces)
        except CamsiftError as err:
            return _back(state, user, "/faces", str(err))
    if naming is None:
        return _back(state, user, "/faces", f"{name}: photo refused: {checks[0].reason}")
    past = f"; {len(naming.events)} past events now say {naming.name}" if naming.events else ""
    return _back(state, user, "/faces", f"{naming.name}: photo added{past}")


@router.post("/faces/groups/{group}")
def name_group(
    state: State, user: User, group: api.StoredInt, name: Annotated[str, Form(min_length=1, max_length=64)]
) -> RedirectResponse:
    """Name a group of unknown faces."""
    from camsift.faces import engine_model
    from camsift.faces.enrol import check_name

    try:
        naming = state.faces.name_group(
            group, check_name(name), engine_model(state.settings.faces.engine), state.settings.faces
        )
    except CamsiftError as err:
        return _back(state, user, "/faces", str(err))
    return _back(state, user, "/faces", f"group {group} is {naming.name}: {len(naming.events)} events relabelled")


@router.post("/faces/people/{name:path}/remove")
def remove_person(state: State, user: User, name: str) -> RedirectResponse:
    """Forget a person."""
    try:
        events = state.faces.remove(name)
    except CamsiftError as err:
        return _back(state, user, "/faces", str(err))
    return _back(state, user, "/faces", f"{name} removed; {len(events)} events relabelled")
