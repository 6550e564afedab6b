"""The REST API under ``/api``: a superset of Frigate 0.14-0.16's, so that its clients (the Home Assistant
integration, Double Take, frigate-notify) work unchanged; camsift's extras are extra keys and routes.

Frigate's shapes come from `camsift.frigate` (shared with MQTT). Times are Unix
seconds (``after``/``before``, ``start_time``/``end_time``), as in Frigate.
Every media file is found through the event's database row, never through a
path in the URL. Everything but ``/api/health``, ``/api/version``,
``/api/login`` and ``/api/logout`` needs a login, an API token or Frigate's
``frigate_token`` (`camsift.web.auth`); state changes made with a session
cookie need the CSRF token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from camsift import __version__, frigate
from camsift.camera_overrides import add_false_positive, false_positive_of
from camsift.config import Settings
from camsift.errors import CamsiftError
from camsift.events import Event
from camsift.layout import DataDir
from camsift.live_picture import LIVE_EVERY_S
from camsift.logs import get_logger
from camsift.mqtt import MarkedEvent, queue_update
from camsift.redaction import REDACTED, redact
from camsift.store import EventMarks, ReviewFilter
from camsift.web.auth import Principal, authorize
from camsift.web.playable import PLAYABLE as PLAYABLE  # browsers play these inline; others download
from camsift.web.state import WebState

log = get_logger("camsift.web.api")

__all__ = [
    "REDACTED",
    "EventOut",
    "StoredInt",
    "camera_names",
    "event_out",
    "media_file",
    "public_router",
    "redact",
    "router",
    "web_state",
]

public_router = APIRouter(prefix="/api", tags=["health"])
router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(authorize)])

MEDIA_CACHE = "private, max-age=300"
_VIDEO_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".ts": "video/mp2t",
    ".gif": "image/gif",
}


def web_state(request: Request) -> WebState:
    """FastAPI dependency: the app's `WebState`."""
    state: WebState = request.app.state.web
    return state


State = Annotated[WebState, Depends(web_state)]
User = Annotated[Principal, Depends(authorize)]
StoredInt = Annotated[int, PathParam(ge=-(2**63), le=2**63 - 1)]
"""A number in a URL that is looked up in the database (a face of an event, a group of faces).

Bounded to SQLite's 64-bit INTEGER, so that a larger one is a 422 and not an overflow (500) in the driver.
"""


class EventData(BaseModel):
    """Frigate's ``data`` of an event: boxes relative to the frame, ``[x, y, width, height]`` in 0..1."""

    box: list[float] | None = Field(description="The object's box; null when the snapshot is missing")
    region: list[float] | None = Field(description="The detection region (camsift: the box)")
    score: float = Field(description="Highest detector confidence, 0..1")
    top_score: float = Field(description="Highest computed score (median of the last detections), 0..1")
    attributes: list[Any]
    type: Literal["object"]
    sub_label_score: float | None


class EventOut(BaseModel):
    """An event as the API shows it: Frigate's ``/api/events`` item, with camsift's keys."""

    id: str
    camera: str
    label: str
    sub_label: str | None = Field(description="A known person's name, 'unknown' (a face not in the library), or null")
    sub_label_score: float | None
    start_time: float = Field(description="Unix seconds of the first sighting")
    end_time: float = Field(description="Unix seconds of the last sighting")
    top_score: float = Field(description="Highest computed score, 0..1 (Frigate moved it to data.top_score)")
    box: tuple[float, float, float, float] = Field(description="[x1, y1, x2, y2] in pixels of the snapshot")
    zones: list[str]
    has_snapshot: bool
    has_clip: bool
    retain_indefinitely: bool = Field(description="Pinned: retention never deletes it")
    false_positive: bool = Field(description="Marked as a false positive on its camera")
    plus_id: None = None
    model_hash: None = None
    model_type: None = None
    detector_type: None = None
    data: EventData
    thumbnail: str | None = Field(None, description="Base64 JPEG, with include_thumbnails=1")
    reviewed: bool


def marked_false(settings: Settings, event: Event) -> bool:
    """Whether an event was marked as a false positive on its camera."""
    return any(fp.event == event.id for fp in settings.for_camera(event.camera).objects.false_positives)


def event_out(
    event: Event, marks: EventMarks | None, settings: Settings | None = None, thumbnail: str | None = None
) -> EventOut:
    """The API view of a stored event: Frigate's item (`camsift.frigate.api_event`) and what the owner said
    about it (``false_positive`` needs ``settings``)."""
    doc = frigate.api_event(
        event,
        retain=bool(marks and marks.pinned),
        false_positive=settings is not None and marked_false(settings, event),
        thumbnail=thumbnail,
        extra={"reviewed": bool(marks and marks.reviewed)},
    )
    return EventOut.model_validate(doc)


def _when(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise HTTPException(422, f"not a Unix time: {seconds}") from err


def _event(state: WebState, event_id: str) -> Event:
    event = state.store.event(event_id)
    if event is None:
        raise HTTPException(404, "no such event")
    return event


def _marked(state: WebState, event_id: str) -> MarkedEvent:
    """An event with its false-positive and pinned marks (404 when there is no such event)."""
    event = _event(state, event_id)
    marks = state.store.marks([event_id]).get(event_id)
    return MarkedEvent(event, marked_false(state.settings, event), bool(marks and marks.pinned))


def _tell_mqtt(state: WebState, before: MarkedEvent) -> None:
    """Queue an MQTT ``update`` of a changed event (`camsift.mqtt.queue_update`; nothing with MQTT off). A
    failure to queue it is logged: the change itself is stored."""
    if not state.settings.mqtt.enabled:
        return
    try:
        queue_update(state.store, state.settings, before, _marked(state, before.event.id), origin="api")
    except SQLAlchemyError as err:
        log.warning("cannot queue the MQTT update of an event", event_id=before.event.id, reason=type(err).__name__)


def media_file(path: Path | None, media_type: str, what: str) -> FileResponse:
    """A media file that the database named (HTTP range requests are served by Starlette)."""
    if path is None or not path.is_file():
        raise HTTPException(404, f"no {what}")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": MEDIA_CACHE})


# --- health ---------------------------------------------------------------------------------------------------


class Health(BaseModel):
    """The app is up."""

    status: Literal["ok"]
    version: str


@public_router.get("/health")
def health() -> Health:
    """Liveness check; needs no login and says nothing about the footage."""
    return Health(status="ok", version=__version__)


# --- Frigate's login ---------------------------------------------------------------------------------------------


class FrigateLogin(BaseModel):
    """Frigate's body of ``POST /api/login``."""

    user: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


@public_router.post("/login")
def frigate_login(request: Request, state: State, body: FrigateLogin) -> Response:
    """Log in as Frigate's clients do: a JSON ``{user, password}``, answered with the ``frigate_token`` cookie
    (a JWT standing for a new camsift session, `camsift.web.auth.frigate_token`); rate-limited as the login
    page. 401 on a wrong name or password, 429 after too many."""
    from fastapi.responses import JSONResponse

    from camsift.web.auth import FRIGATE_COOKIE, frigate_token, set_cookie, verify_login

    user = verify_login(request, state, body.user, body.password)
    if user is None:
        return JSONResponse({"success": False, "message": "Login failed"}, status_code=401)
    lifetime = state.settings.web.session_hours * 3600
    token, session = state.users.start_session(user, lifetime)
    done = JSONResponse({"success": True, "message": f"logged in as {user.name}"})
    # Secure only over HTTPS: Frigate's clients on plain HTTP (Go's cookie jar) would never send it back.
    set_cookie(done, FRIGATE_COOKIE, frigate_token(token, session), int(lifetime), request.url.scheme == "https")
    return done


@public_router.get("/logout")
def frigate_logout(request: Request, state: State) -> Response:
    """End the session a ``frigate_token`` cookie stands for and clear the cookie (Frigate's ``/api/logout``)."""
    from fastapi.responses import JSONResponse

    from camsift.web.auth import FRIGATE_COOKIE, frigate_session_key

    cookie = request.cookies.get(FRIGATE_COOKIE)
    key = frigate_session_key(cookie) if cookie else None
    if key is not None:
        state.users.end_session(key)
    done = JSONResponse({"success": True, "message": "logged out"})
    done.delete_cookie(FRIGATE_COOKIE, path="/")
    return done


# --- events ---------------------------------------------------------------------------------------------------


UNSUPPORTED_FILTERS = {
    "min_length": None,
    "max_length": None,
    "is_submitted": None,
    "min_speed": None,
    "max_speed": None,
    "recognized_license_plate": None,
    "search_type": None,
    "time_range": "00:00,24:00",
    "sort": "date_desc",
}
"""Frigate's ``/api/events`` filters camsift does not apply, with the one value that filters nothing: any other
value is refused (400) rather than silently ignored."""


def _names(*values: str | None) -> tuple[str, ...]:
    """Frigate's list parameters: comma-separated, ``all`` meaning any."""
    found = [v.strip() for value in values if value for v in value.split(",") if v.strip()]
    return () if "all" in found else tuple(dict.fromkeys(found))


def _check_filters(request: Request) -> None:
    for name, neutral in UNSUPPORTED_FILTERS.items():
        value = request.query_params.get(name)
        if value is not None and value not in ("", neutral):
            raise HTTPException(400, f"/api/events: {name}={value} is not supported by camsift")


def _thumbnail_b64(event: Event) -> str | None:
    import base64

    data = _small_picture(event.snapshot, 175, "JPEG")
    return None if data is None else base64.b64encode(data).decode()


@router.get("/events")
def events(
    request: Request,
    state: State,
    camera: str | None = None,
    cameras: str | None = None,
    label: str | None = None,
    labels: str | None = None,
    sub_label: str | None = None,
    sub_labels: str | None = None,
    zone: str | None = None,
    zones: str | None = None,
    after: Annotated[float | None, Query(description="Unix seconds: events that started at or after")] = None,
    before: Annotated[float | None, Query(description="Unix seconds: events that started before")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    face: Literal["known", "unknown", "none"] | None = None,
    has_clip: bool | None = None,
    has_snapshot: bool | None = None,
    in_progress: bool | None = None,
    favorites: bool | None = None,
    include_thumbnails: bool = False,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    reviewed: bool | None = None,
    pinned: bool | None = None,
) -> list[EventOut]:
    """Stored events, newest first: Frigate's ``/api/events`` with its filters, camsift's keys as extras.

    ``cameras``, ``labels``, ``sub_labels`` and ``zones`` take comma-separated names, ``all`` for any;
    ``sub_labels=None`` finds events without one. ``favorites=1`` are the pinned events. camsift stores an
    event once its footage is complete, so ``in_progress=1`` finds none. ``include_thumbnails=1`` adds a
    base64 JPEG (default off: the Home Assistant integration asks without). Frigate's filters camsift does
    not apply (`UNSUPPORTED_FILTERS`) are refused with 400, never ignored.
    """
    _check_filters(request)
    if in_progress:
        return []
    subs = tuple(None if s == "None" else s for s in _names(sub_label, sub_labels))
    review = ReviewFilter(
        face=face,
        has_clip=has_clip,
        reviewed=reviewed,
        pinned=True if favorites else pinned,
        cameras=_names(camera, cameras),
        labels=_names(label, labels),
        sub_labels=subs,
        zones=_names(zone, zones),
        has_snapshot=has_snapshot,
        min_score=min_score,
        max_score=max_score,
    )
    found = state.store.events(since=_when(after), until=_when(before), limit=limit, offset=offset, review=review)
    marks = state.store.marks([e.id for e in found])
    return [
        event_out(e, marks.get(e.id), state.settings, _thumbnail_b64(e) if include_thumbnails else None) for e in found
    ]


@router.get("/events/summary")
def events_summary(
    state: State,
    has_clip: bool | None = None,
    has_snapshot: bool | None = None,
    timezone: Annotated[str | None, Query(description="IANA zone of the days; default the config's")] = None,
) -> list[dict[str, Any]]:
    """Event counts grouped as Frigate's ``/api/events/summary`` (the Home Assistant media browser reads it):
    one row per camera, day (``YYYY-MM-DD`` in ``timezone``), label, sub-label and zones, with ``count``
    and ``timestamp`` (Unix seconds of the newest)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(timezone) if timezone else state.settings.tz() or UTC
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise HTTPException(422, f"unknown time zone {timezone!r}") from err
    review = ReviewFilter(has_clip=has_clip, has_snapshot=has_snapshot)
    rows: dict[tuple[str, str, str, str | None, tuple[str, ...]], dict[str, Any]] = {}
    for e in state.store.events(limit=REVIEW_EVENTS_MAX, review=review):
        day = e.start_utc.astimezone(zone).date().isoformat()
        key = (e.camera, day, e.label, e.sub_label, tuple(e.zones))
        row = rows.setdefault(
            key,
            {"camera": e.camera, "day": day, "label": e.label, "sub_label": e.sub_label, "zones": list(e.zones)},
        )
        row["count"] = row.get("count", 0) + 1
        row["timestamp"] = max(row.get("timestamp", 0.0), e.start_utc.timestamp())
    return list(rows.values())


@router.get("/events/{event_id}")
def event(state: State, event_id: str) -> EventOut:
    """One event."""
    found = _event(state, event_id)
    return event_out(found, state.store.marks([event_id]).get(event_id), state.settings)


_FORMATS = {"JPEG": "image/jpeg", "WEBP": "image/webp"}
CROP_MARGIN = 0.25
"""``crop=1`` keeps this share of the box's size around it on each side (and at least a square)."""


def _render(
    path: Path | None,
    *,
    fit: int | None = None,
    height: int | None = None,
    crop: tuple[float, float, float, float] | None = None,
    quality: int = 75,
    fmt: str = "JPEG",
) -> bytes | None:
    """A picture made from ``path``: cropped to ``crop`` (pixels, with `CROP_MARGIN`), fitted in a ``fit``
    square or scaled to ``height`` pixels, encoded as ``fmt``; ``None`` when there is no readable picture."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    if path is None or not path.is_file():
        return None
    try:
        with Image.open(path) as opened:
            if fit is not None and crop is None:
                opened.draft("RGB", (fit, fit))
            image = opened.convert("RGB")
    except (OSError, UnidentifiedImageError):
        return None
    if crop is not None:
        x1, y1, x2, y2 = crop
        side = max(x2 - x1, y2 - y1) * (1 + 2 * CROP_MARGIN)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        left, top = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
        right, bottom = min(image.width, round(cx + side / 2)), min(image.height, round(cy + side / 2))
        if right > left and bottom > top:
            image = image.crop((left, top, right, bottom))
    if fit is not None:
        image.thumbnail((fit, fit))
    if height is not None and height != image.height:
        width = max(1, round(image.width * height / image.height))
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    out = BytesIO()
    image.save(out, format=fmt, quality=quality)
    return out.getvalue()


def _small_picture(path: Path | None, fit: int, fmt: str) -> bytes | None:
    return _render(path, fit=fit, fmt=fmt)


def _picture_response(data: bytes | None, fmt: str, what: str) -> Response:
    if data is None:
        raise HTTPException(404, f"no {what}")
    return Response(data, media_type=_FORMATS[fmt], headers={"Cache-Control": MEDIA_CACHE})


Height = Annotated[int | None, Query(ge=16, le=4320, description="Scale to this height in pixels")]
Quality = Annotated[int, Query(ge=1, le=100, description="JPEG quality")]


@router.get("/events/{event_id}/snapshot.jpg", response_class=Response)
def snapshot(
    state: State,
    event_id: str,
    bbox: Annotated[int, Query(ge=0, le=1, description="1: with boxes, labels and time drawn")] = 0,
    crop: Annotated[int, Query(ge=0, le=1, description="1: cropped around the object")] = 0,
    h: Height = None,
    quality: Quality = 70,
    timestamp: Annotated[int, Query(ge=0, le=1, description="Accepted (camsift draws the time with bbox)")] = 0,
    download: Annotated[bool, Query(description="Accepted for Frigate's clients")] = False,
) -> Response:
    """The event's snapshot (Frigate's parameters): clean or with boxes (``bbox=1``), cropped around the
    object (``crop=1``), scaled to ``h`` pixels high, at JPEG ``quality``; the stored file as it is when
    none of them is asked for."""
    found = _event(state, event_id)
    picture = found.snapshot_annotated if bbox else found.snapshot
    if not crop and h is None and quality == 70:
        return media_file(picture, "image/jpeg", "snapshot")
    data = _render(picture, height=h, crop=found.box_xyxy if crop else None, quality=quality)
    return _picture_response(data, "JPEG", "snapshot")


THUMBNAIL_PX = 320
"""Thumbnails fit in a square of this many pixels."""


@router.get("/events/{event_id}/thumbnail.jpg", response_class=Response)
def thumbnail(state: State, event_id: str) -> Response:
    """A small copy of the snapshot (320 pixels wide at most) for the review grid."""
    return _picture_response(_small_picture(_event(state, event_id).snapshot, THUMBNAIL_PX, "JPEG"), "JPEG", "snapshot")


@router.get("/events/{event_id}/thumbnail.webp", response_class=Response)
def thumbnail_webp(state: State, event_id: str) -> Response:
    """The thumbnail as WebP (Frigate 0.14+ serves its thumbnails so)."""
    return _picture_response(_small_picture(_event(state, event_id).snapshot, THUMBNAIL_PX, "WEBP"), "WEBP", "snapshot")


@router.get("/events/{event_id}/clip.mp4", response_class=FileResponse)
def clip(state: State, event_id: str) -> FileResponse:
    """The event's clip (range requests supported, so players can seek)."""
    video = _event(state, event_id).video
    media_type = _VIDEO_TYPES.get(video.suffix.lower(), "application/octet-stream") if video else "video/mp4"
    return media_file(video, media_type, "clip")


@router.get("/events/{event_id}/faces/{n}.jpg", response_class=FileResponse)
def face_picture(state: State, event_id: str, n: StoredInt) -> FileResponse:
    """The picture of face ``n`` of an event."""
    face = next((f for f in state.faces.event_faces(event_id) if f.n == n), None)
    return media_file(face.crop if face else None, "image/jpeg", "face picture")


class Marked(BaseModel):
    """The marks of an event after a change, with Frigate's ``success`` and ``message``."""

    success: bool = True
    message: str
    id: str
    reviewed: bool
    retain_indefinitely: bool


def _mark(state: WebState, event_id: str, *, reviewed: bool | None = None, pinned: bool | None = None) -> Marked:
    was = _marked(state, event_id) if pinned is not None else None
    if not state.store.mark([event_id], reviewed=reviewed, pinned=pinned):
        raise HTTPException(404, "no such event")
    if was is not None and was.retain != pinned:
        _tell_mqtt(state, was)
    marks = state.store.marks([event_id])[event_id]
    said = {
        (None, True): "retained",
        (None, False): "un-retained",
        (True, None): "marked as reviewed",
        (False, None): "marked as not reviewed",
    }
    message = f"Event {event_id} {said.get((reviewed, pinned), 'changed')}"
    return Marked(message=message, id=event_id, reviewed=marks.reviewed, retain_indefinitely=marks.pinned)


@router.post("/events/{event_id}/retain")
def retain(state: State, event_id: str) -> Marked:
    """Pin an event: retention never deletes it."""
    return _mark(state, event_id, pinned=True)


@router.delete("/events/{event_id}/retain")
def unretain(state: State, event_id: str) -> Marked:
    """Unpin an event."""
    return _mark(state, event_id, pinned=False)


@router.post("/events/{event_id}/reviewed")
def reviewed(state: State, event_id: str) -> Marked:
    """Mark an event as reviewed."""
    return _mark(state, event_id, reviewed=True)


@router.delete("/events/{event_id}/reviewed")
def unreviewed(state: State, event_id: str) -> Marked:
    """Mark an event as not reviewed."""
    return _mark(state, event_id, reviewed=False)


class Deleted(BaseModel):
    """What a deletion did."""

    id: str
    deleted: bool


@router.delete("/events/{event_id}")
def delete(state: State, event_id: str) -> Deleted:
    """Delete an event with its pictures (and its clip when no other event uses it)."""
    if not state.store.delete_event(event_id):
        raise HTTPException(404, "no such event")
    return Deleted(id=event_id, deleted=True)


class Done(BaseModel):
    """A one-line answer (with Frigate's ``success``)."""

    success: bool = True
    message: str


@router.post("/events/{event_id}/false_positive")
def false_positive(state: State, event_id: str) -> Done:
    """Mark an event as a false positive: similar detections at that place on its camera are dropped from now on.

    The event itself is kept (delete it separately). ``camsift run`` applies it
    from the next file (live streams: from its next start).
    """
    was = _marked(state, event_id)
    found = was.event
    try:
        state.settings = add_false_positive(state.settings, found.camera, false_positive_of(found))
    except CamsiftError as err:
        raise HTTPException(409, str(err)) from err
    if not was.false_positive:
        _tell_mqtt(state, was)
    return Done(message=f"{found.label} at that place on {found.camera} will be ignored from now on")


@router.put("/events/{event_id}/false_positive")
def false_positive_put(state: State, event_id: str) -> Done:
    """Frigate's way to say an event is a false positive: as ``POST`` (`false_positive`)."""
    return false_positive(state, event_id)


class SubLabel(BaseModel):
    """Frigate's body of ``POST /api/events/<id>/sub_label`` (Double Take sends the names it recognised)."""

    subLabel: str = Field(max_length=100, description="The name(s); empty clears it")  # noqa: N815 (Frigate's name)
    subLabelScore: float | None = Field(None, ge=0, le=1, description="Its score, 0..1")  # noqa: N815
    camera: str | None = Field(None, description="Accepted (Frigate's tracked objects need it)")


@router.post("/events/{event_id}/sub_label")
def sub_label(state: State, event_id: str, body: SubLabel) -> Done:
    """Set an event's sub-label (a name) and its score; an empty one clears it. Naming a face of the event
    later (or a wrong match) sets it from the faces again."""
    name = body.subLabel.strip() or None
    score = body.subLabelScore if name else None
    was = _marked(state, event_id)
    if not state.store.set_sub_label(event_id, name, score):
        raise HTTPException(404, "no such event")
    if (was.event.sub_label, was.event.sub_label_score) != (name, score):
        _tell_mqtt(state, was)
    return Done(message=f"Event {event_id} sub label set to {name if name else 'none'}")


@router.post("/events/{event_id}/wrong_match")
def wrong_match(state: State, event_id: str) -> Done:
    """The name on an event is wrong: it becomes "unknown" and that face never matches that person again."""
    try:
        name = state.faces.wrong(event_id)
    except CamsiftError as err:
        raise HTTPException(409, str(err)) from err
    return Done(message=f"event {event_id} is not {name}")


class FaceName(BaseModel):
    """Who a face is."""

    name: str = Field(min_length=1, max_length=64)


@router.post("/events/{event_id}/faces/{n}/name")
def name_face(state: State, event_id: str, n: StoredInt, body: FaceName) -> Done:
    """Say who face ``n`` of an event is: it becomes an example of that person when big and sharp enough."""
    from camsift.faces.enrol import check_name

    try:
        naming = state.faces.name_face(event_id, n, check_name(body.name), state.settings.faces)
    except CamsiftError as err:
        raise HTTPException(409, str(err)) from err
    return Done(message=f"{naming.name}: {naming.examples} example(s) added, {len(naming.events)} event(s) relabelled")


# --- review items (Frigate 0.14+) ------------------------------------------------------------------------------

REVIEW_EVENTS_MAX = 20_000
"""Events read at most to build the review items of one request."""


def _alert_labels(state: WebState) -> tuple[str, ...]:
    return frigate.alert_labels(state.settings)


def _items(state: WebState, since: datetime | None, until: datetime | None, cameras: tuple[str, ...] = ()) -> list[Any]:
    from camsift.review import review_items

    found = state.store.events(since=since, until=until, limit=REVIEW_EVENTS_MAX, review=ReviewFilter(cameras=cameras))
    reviewed = [i for i, m in state.store.marks([e.id for e in found]).items() if m.reviewed]
    return review_items(found, alert_labels=_alert_labels(state), reviewed=reviewed)


@router.get("/review")
def review(
    state: State,
    cameras: str | None = None,
    labels: str | None = None,
    zones: str | None = None,
    reviewed: Annotated[int, Query(ge=0, le=1, description="1: also the items already reviewed")] = 0,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    severity: Literal["alert", "detection"] | None = None,
    before: Annotated[float | None, Query(description="Unix seconds; default now")] = None,
    after: Annotated[float | None, Query(description="Unix seconds; default 24 hours before 'before'")] = None,
) -> list[dict[str, Any]]:
    """Review items (one camera activity with all its objects, `camsift.review`), newest first, as Frigate's
    ``/api/review``: by default the unreviewed ones of the last 24 hours; ``thumb_path`` is an API address."""
    end = before if before is not None else datetime.now(UTC).timestamp()
    start = after if after is not None else end - 86_400
    wanted_labels, wanted_zones = set(_names(labels)), set(_names(zones))
    out = []
    for item in _items(state, _when(start), _when(end), _names(cameras)):
        if not reviewed and item.reviewed:
            continue
        if severity is not None and item.severity != severity:
            continue
        if wanted_labels and not wanted_labels & set(item.data.objects):
            continue
        if wanted_zones and not wanted_zones & set(item.data.zones):
            continue
        out.append(frigate.review_payload(item))
        if limit is not None and len(out) >= limit:
            break
    return out


@router.get("/review/summary")
def review_summary(
    state: State,
    cameras: str | None = None,
    timezone: Annotated[str | None, Query(description="IANA zone of the days; default the config's")] = None,
    days: Annotated[int, Query(ge=1, le=366, description="Days back to count")] = 30,
) -> dict[str, Any]:
    """Counts of review items as Frigate's ``/api/review/summary``: ``last24Hours`` and one entry per day
    (``YYYY-MM-DD`` in ``timezone``) with ``total_alert``, ``total_detection``, ``reviewed_alert``,
    ``reviewed_detection``."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(timezone) if timezone else state.settings.tz() or UTC
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise HTTPException(422, f"unknown time zone {timezone!r}") from err
    now = datetime.now(UTC)

    def empty() -> dict[str, int]:
        return {"reviewed_alert": 0, "reviewed_detection": 0, "total_alert": 0, "total_detection": 0}

    out: dict[str, Any] = {"last24Hours": empty()}
    for item in _items(state, now - timedelta(days=days), None, _names(cameras)):
        start = datetime.fromtimestamp(item.start_time, UTC)
        day = start.astimezone(zone).date().isoformat()
        counts = out.setdefault(day, {"day": day, **empty()})
        buckets = [counts, out["last24Hours"]] if now - start <= timedelta(hours=24) else [counts]
        for bucket in buckets:
            bucket[f"total_{item.severity}"] += 1
            if item.reviewed:
                bucket[f"reviewed_{item.severity}"] += 1
    return out


@router.get("/review/{review_id}")
def review_item(state: State, review_id: str) -> dict[str, Any]:
    """One review item by id (the id of its first event)."""
    found = frigate.item_of(state.store, _event(state, review_id), _alert_labels(state))
    if found is None or found.id != review_id:
        raise HTTPException(404, "no such review item")
    return frigate.review_payload(found)


class ReviewIds(BaseModel):
    """Frigate's body of ``/api/reviews/viewed``."""

    ids: list[str] = Field(min_length=1, max_length=1000)


def _mark_items(state: WebState, ids: list[str], reviewed: bool) -> Done:
    events: list[str] = []
    for review_id in ids:
        found = state.store.event(review_id)
        item = frigate.item_of(state.store, found, _alert_labels(state)) if found else None
        events += item.detections if item is not None else []
    if not events:
        raise HTTPException(404, "no such review item")
    state.store.mark(events, reviewed=reviewed)
    return Done(message=f"{len(ids)} review item(s) marked {'reviewed' if reviewed else 'not reviewed'}")


@router.post("/reviews/viewed")
def reviews_viewed(state: State, body: ReviewIds) -> Done:
    """Mark review items as reviewed (all their events)."""
    return _mark_items(state, body.ids, True)


@router.delete("/reviews/viewed")
def reviews_unviewed(state: State, body: ReviewIds) -> Done:
    """Mark review items as not reviewed."""
    return _mark_items(state, body.ids, False)


# --- cameras, stats, config -------------------------------------------------------------------------------------


def _latest_picture(state: WebState, camera: str) -> Path | None:
    live = DataDir(state.settings.data_dir).live_frame(camera)
    if live.is_file():
        return live
    latest = state.store.events(camera=camera, limit=1)
    return latest[0].snapshot if latest else None


@router.get("/{camera}/latest.jpg", response_class=Response)
def latest(state: State, camera: str, h: Height = None, quality: Quality = 70) -> Response:
    """The newest picture of a camera: its live frame for a live stream, else its latest event's snapshot;
    scaled to ``h`` pixels high (Frigate's parameters)."""
    picture = _latest_picture(state, camera)
    if h is None and quality == 70:
        response: Response = media_file(picture, "image/jpeg", f"picture of camera {camera!r}")
    else:
        response = _picture_response(_render(picture, height=h, quality=quality), "JPEG", f"picture of {camera!r}")
    response.headers["Cache-Control"] = "no-store"
    return response


def _latest_of(state: WebState, camera: str, label: str) -> Event:
    found = state.store.events(camera=camera, label=label, limit=1)
    if not found:
        raise HTTPException(404, f"no {label} event on camera {camera!r}")
    return found[0]


@router.get("/{camera}/{label}/snapshot.jpg", response_class=Response)
def label_snapshot(
    state: State,
    camera: str,
    label: str,
    bbox: Annotated[int, Query(ge=0, le=1)] = 0,
    crop: Annotated[int, Query(ge=0, le=1)] = 0,
    h: Height = None,
    quality: Quality = 70,
) -> Response:
    """The snapshot of the newest ``label`` event of a camera (Frigate's ``/api/<camera>/<label>/snapshot.jpg``),
    with the parameters of the event snapshot."""
    return snapshot(state, _latest_of(state, camera, label).id, bbox=bbox, crop=crop, h=h, quality=quality)


@router.get("/{camera}/{label}/best.jpg", response_class=Response)
def label_best(state: State, camera: str, label: str, h: Height = None, quality: Quality = 70) -> Response:
    """Frigate's best picture of the newest ``label`` object: camsift's snapshot, cropped around it."""
    return snapshot(state, _latest_of(state, camera, label).id, crop=1, h=h, quality=quality)


@router.get("/{camera}/{label}/thumbnail.jpg", response_class=Response)
def label_thumbnail(state: State, camera: str, label: str) -> Response:
    """The thumbnail of the newest ``label`` event of a camera."""
    return thumbnail(state, _latest_of(state, camera, label).id)


@router.get("/{camera}/{label}/clip.mp4", response_class=FileResponse)
def label_clip(state: State, camera: str, label: str) -> FileResponse:
    """The clip of the newest ``label`` event of a camera."""
    return clip(state, _latest_of(state, camera, label).id)


@router.get("/{camera}/mjpeg", response_class=StreamingResponse)
async def mjpeg(
    state: State,
    camera: str,
    frames: Annotated[int | None, Query(ge=1, le=100_000, description="Stop after this many pictures")] = None,
) -> StreamingResponse:
    """The live picture of a stream camera as MJPEG (``multipart/x-mixed-replace``), about once a second."""
    path = DataDir(state.settings.data_dir).live_frame(camera)
    if not path.is_file():
        raise HTTPException(404, f"no live picture of camera {camera!r}")

    async def parts() -> AsyncIterator[bytes]:
        sent = 0
        while frames is None or sent < frames:
            try:
                data = path.read_bytes()
            except OSError:
                return
            yield b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n"
            yield data + b"\r\n"
            sent += 1
            if frames is None or sent < frames:
                await asyncio.sleep(LIVE_EVERY_S)

    return StreamingResponse(parts(), media_type="multipart/x-mixed-replace; boundary=frame")


class ClipRequested(BaseModel):
    """A clip requested from a live stream (``camsift record``)."""

    camera: str
    request_id: int
    seconds: float


@router.post("/{camera}/record")
def record(state: State, camera: str, seconds: Annotated[float, Query(ge=1, le=3600)] = 30.0) -> ClipRequested:
    """Ask the running service to save a clip of a live stream now (pre-roll included)."""

    if camera not in stream_cameras(state):
        raise HTTPException(404, f"no live stream for camera {camera!r}")
    if not state.board.service_running(state.settings.service.stale_s):
        raise HTTPException(409, "'camsift run' is not running")
    return ClipRequested(camera=camera, request_id=state.board.request_clip(camera, seconds), seconds=seconds)


def stream_cameras(state: WebState) -> set[str]:
    """Cameras of live sources (``stream`` sources and Blink live views; `camsift.frigate.live_cameras`)."""
    return frigate.live_cameras(state.settings)


def camera_sources(state: WebState) -> dict[str, str]:
    """Source name feeding each camera, where the config says (`camsift.frigate.camera_feeds`)."""
    return frigate.camera_feeds(state.settings)


def camera_detail(detail: str, camera: str) -> str:
    """The part of a source's status line about one camera.

    A source serving several cameras (Blink) lists them as ``…; <camera> armed, battery ok, 21.5 °C, wifi 4 bars; …``;
    a source with one camera says it all.
    """
    return next((part for part in detail.split("; ") if part.startswith(f"{camera} ")), detail)


class SourceStats(BaseModel):
    """A part of the running service as ``camsift status`` shows it."""

    name: str
    kind: str
    state: str
    detail: str = Field(description="One line for people (queue, address, Blink battery/temperature/Wi-Fi …)")
    updated: float = Field(description="Unix seconds of its last report")
    last_error: str | None
    last_error_time: float | None


class CameraStats(BaseModel):
    """One camera in ``/api/stats``: Frigate's figures (frames per second, process ids) and camsift's.

    camsift does not measure frame rates per camera: ``camera_fps`` and ``process_fps`` are
    ``detect.fps`` while a live stream is reading and 0 otherwise; ``detection_fps`` and ``skipped_fps`` are 0.
    """

    camera_fps: float = 0.0
    process_fps: float = 0.0
    skipped_fps: float = 0.0
    detection_fps: float = 0.0
    detection_enabled: int = 1
    pid: int | None = None
    capture_pid: int | None = None
    ffmpeg_pid: int | None = None
    audio_rms: float = 0.0
    audio_dBFS: float = 0.0  # noqa: N815 (Frigate's name)

    source: str | None = Field(description="The source that feeds it, where the config says")
    state: str | None = Field(
        description="Its source's last reported state (running, error …; stopped with the service)"
    )
    detail: str = Field(description="Its source's status line (about this camera, for sources of several)")
    last_error: str | None
    last_event_time: float | None
    events: int


class GivenUpFile(BaseModel):
    """A file the service gave up on (``camsift retry`` queues it again)."""

    path: str
    camera: str
    source: str
    reason: str
    time: float | None = Field(description="When it was given up (Unix seconds)")


class ServiceStats(BaseModel):
    """Frigate's ``service`` block of ``/api/stats``."""

    uptime: int = Field(description="Seconds since 'camsift run' started (0 when it is not running)")
    version: str = Field(description="What /api/version answers")
    latest_version: str
    storage: dict[str, dict[str, float | str]] = Field(description="Per path: total, used, free in MB, mount_type")
    temperatures: dict[str, float]
    last_updated: int = Field(description="Unix seconds of these figures")


class DetectorStats(BaseModel):
    """One detector in Frigate's ``detectors`` block."""

    inference_speed: float = Field(description="Milliseconds per inference (not measured: 0)")
    detection_start: float
    pid: int | None


class Stats(BaseModel):
    """Service, queue, sources and per-camera figures: Frigate's ``/api/stats`` keys and camsift's."""

    service: ServiceStats
    detectors: dict[str, DetectorStats]
    detection_fps: float
    cpu_usages: dict[str, dict[str, str]]
    gpu_usages: dict[str, dict[str, str]]
    processes: dict[str, dict[str, int | None]]
    running: bool = Field(description="'camsift run' reported itself within three heartbeats")
    queue: dict[str, int | float | None]
    sources: list[SourceStats]
    cameras: dict[str, CameraStats]
    events: int
    given_up: list[GivenUpFile] = Field(description="Files the service gave up on, oldest first")


def _time(when: datetime | None) -> float | None:
    return None if when is None else when.timestamp()


def camera_names(state: WebState) -> list[str]:
    """Every camera the API knows (`camsift.frigate.camera_names`): configured, fed by a source, or with stored
    events."""
    return frigate.camera_names(state.settings, state.store.cameras())


@router.get("/stats")
def stats(state: State) -> Stats:
    """The service, its queue, its sources and per-camera figures (what ``camsift status`` shows), with
    Frigate's ``service``, ``detectors``, ``detection_fps`` and per-camera ``*_fps`` keys."""

    queue = state.store.jobs
    depth = queue.depth()
    running = state.board.service_running(state.settings.service.stale_s)
    components = state.board.components()
    sources = [
        SourceStats(
            name=p.name,
            kind=p.kind,
            state=shown,
            detail=p.detail,
            updated=p.updated_utc.timestamp(),
            last_error=p.last_error,
            last_error_time=_time(p.last_error_utc),
        )
        for p, shown in state.board.shown_states(state.settings.service.stale_s)
    ]
    parts = {p.name: p for p in sources}
    latest = state.store.latest_per_camera()
    feeds = camera_sources(state)
    shaped = frigate.frigate_stats(state.settings, components, running, camera_names(state))
    cameras = {}
    for name, figures in shaped.pop("cameras").items():
        part = parts.get(figures.pop("source_part") or "")
        cameras[name] = CameraStats(
            **figures,
            source=feeds.get(name),
            state=part.state if part else None,
            detail=camera_detail(part.detail, name) if part else "",
            last_error=part.last_error if part else None,
            last_event_time=_time(latest[name].start_utc) if name in latest else None,
            events=state.store.count_events(camera=name),
        )
    return Stats(
        **shaped,
        running=running,
        queue={"waiting": depth.pending, "in_analysis": depth.leased, "oldest_waiting": _time(depth.oldest_utc)},
        sources=sources,
        cameras=cameras,
        events=state.store.count_events(),
        given_up=[
            GivenUpFile(path=str(g.path), camera=g.camera, source=g.source, reason=g.reason, time=_time(g.when_utc))
            for g in queue.given_up()
        ],
    )


@router.get("/config")
def config(state: State) -> dict[str, Any]:
    """The configuration in effect (camera overrides merged), secrets redacted (`camsift.redaction`).

    camsift's keys, with Frigate's over them where Frigate's clients read them: ``cameras`` (each camera's
    camsift overrides plus Frigate's keys, `camsift.frigate.camera_config`), ``mqtt`` (camsift's keys plus
    ``user``), ``model``, ``detectors``, ``go2rtc``, ``version`` …
    """
    doc: dict[str, Any] = state.settings.model_dump(mode="json")
    live = stream_cameras(state)
    names = camera_names(state)
    shaped = frigate.frigate_config(state.settings, {name: name in live for name in names})
    own_cameras = doc.pop("cameras")
    own_mqtt = doc.pop("mqtt")
    doc.update(shaped)
    doc["cameras"] = {name: {**(own_cameras.get(name) or {}), **shaped["cameras"][name]} for name in names}
    doc["mqtt"] = {**own_mqtt, **shaped["mqtt"]}
    redacted: dict[str, Any] = redact(doc)
    return redacted


@public_router.get("/version", response_class=PlainTextResponse)
def version() -> PlainTextResponse:
    """Frigate's version string with camsift's as a tag (`camsift.frigate.version`), as plain text; needs no
    login (as ``/api/health``, it says nothing about the footage)."""
    return PlainTextResponse(frigate.version())


class Profile(BaseModel):
    """Who is logged in (Frigate's ``/api/profile``)."""

    username: str
    role: Literal["admin", "viewer"]


@router.get("/profile")
def profile(user: User) -> Profile:
    """The logged-in user; every camsift user is an admin."""
    return Profile(username=user.user.name, role="admin")
