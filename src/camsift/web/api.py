"""The REST API under ``/api``, shaped like Frigate's so its tools and habits fit.

Times are Unix seconds (``after``/``before``, ``start_time``/``end_time``), as
in Frigate. Every media file is found through the event's database row, never
through a path in the URL. Everything but ``/api/health`` needs a login or an
API token; state changes made with a session cookie need the CSRF token.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from camsift import __version__
from camsift.config import FalsePositive
from camsift.errors import CamsiftError
from camsift.events import Event
from camsift.layout import DataDir
from camsift.liveview import LIVE_EVERY_S
from camsift.overrides import add_false_positive
from camsift.store import EventMarks, ReviewFilter
from camsift.web.auth import Principal, authorize
from camsift.web.state import WebState

__all__ = ["EventOut", "StoredInt", "event_out", "media_file", "public_router", "router", "web_state"]

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
PLAYABLE = frozenset({".mp4", ".m4v", ".mov"})
"""Containers browsers play inline (H.264 in MP4, as cameras and camsift's live clips write); others download."""


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


class EventOut(BaseModel):
    """An event as the API shows it (Frigate's field names where they exist)."""

    id: str
    camera: str
    label: str
    sub_label: str | None = Field(description="A known person's name, 'unknown' (a face not in the library), or null")
    sub_label_score: float | None
    start_time: float = Field(description="Unix seconds of the first sighting")
    end_time: float = Field(description="Unix seconds of the last sighting")
    top_score: float = Field(description="Highest detector confidence, 0..1")
    box: tuple[float, float, float, float] = Field(description="[x1, y1, x2, y2] in pixels of the snapshot")
    zones: list[str]
    has_snapshot: bool
    has_clip: bool
    retain_indefinitely: bool = Field(description="Pinned: retention never deletes it")
    reviewed: bool


def event_out(event: Event, marks: EventMarks | None) -> EventOut:
    """The API view of a stored event: its `Event.to_dict` and what the owner said about it."""
    return EventOut.model_validate(
        {
            **event.to_dict(),
            "retain_indefinitely": bool(marks and marks.pinned),
            "reviewed": bool(marks and marks.reviewed),
        }
    )


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


# --- events ---------------------------------------------------------------------------------------------------


@router.get("/events")
def events(
    state: State,
    camera: str | None = None,
    label: str | None = None,
    after: Annotated[float | None, Query(description="Unix seconds: events that started at or after")] = None,
    before: Annotated[float | None, Query(description="Unix seconds: events that started before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    face: Literal["known", "unknown", "none"] | None = None,
    has_clip: bool | None = None,
    reviewed: bool | None = None,
    pinned: bool | None = None,
) -> list[EventOut]:
    """Stored events, newest first (Frigate's ``/api/events``)."""
    review = ReviewFilter(face=face, has_clip=has_clip, reviewed=reviewed, pinned=pinned)
    found = state.store.events(
        camera=camera,
        label=label,
        since=_when(after),
        until=_when(before),
        limit=limit,
        offset=offset,
        review=review,
    )
    marks = state.store.marks([e.id for e in found])
    return [event_out(e, marks.get(e.id)) for e in found]


@router.get("/events/{event_id}")
def event(state: State, event_id: str) -> EventOut:
    """One event."""
    found = _event(state, event_id)
    return event_out(found, state.store.marks([event_id]).get(event_id))


@router.get("/events/{event_id}/snapshot.jpg", response_class=FileResponse)
def snapshot(state: State, event_id: str, bbox: Annotated[int, Query(ge=0, le=1)] = 0) -> FileResponse:
    """The event's snapshot; ``bbox=1``: with boxes, labels and time drawn."""
    found = _event(state, event_id)
    return media_file(found.snapshot_annotated if bbox else found.snapshot, "image/jpeg", "snapshot")


@router.get("/events/{event_id}/thumbnail.jpg", response_class=Response)
def thumbnail(state: State, event_id: str) -> Response:
    """A small copy of the snapshot (320 pixels wide at most) for the review grid."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    found = _event(state, event_id)
    if found.snapshot is None or not found.snapshot.is_file():
        raise HTTPException(404, "no snapshot")
    try:
        with Image.open(found.snapshot) as image:
            image.draft("RGB", (320, 320))
            image.thumbnail((320, 320))
            out = BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=75)
    except (OSError, UnidentifiedImageError) as err:
        raise HTTPException(404, "snapshot unreadable") from err
    return Response(out.getvalue(), media_type="image/jpeg", headers={"Cache-Control": MEDIA_CACHE})


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
    """The marks of an event after a change."""

    id: str
    reviewed: bool
    retain_indefinitely: bool


def _mark(state: WebState, event_id: str, *, reviewed: bool | None = None, pinned: bool | None = None) -> Marked:
    if not state.store.mark([event_id], reviewed=reviewed, pinned=pinned):
        raise HTTPException(404, "no such event")
    marks = state.store.marks([event_id])[event_id]
    return Marked(id=event_id, reviewed=marks.reviewed, retain_indefinitely=marks.pinned)


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
    """A one-line answer."""

    message: str


@router.post("/events/{event_id}/false_positive")
def false_positive(state: State, event_id: str) -> Done:
    """Mark an event as a false positive: similar detections at that place on its camera are dropped from now on.

    The event itself is kept (delete it separately). ``camsift run`` applies it
    from the next file (live streams: from its next start).
    """
    from PIL import Image, UnidentifiedImageError

    found = _event(state, event_id)
    if found.snapshot is None or not found.snapshot.is_file():
        raise HTTPException(409, "the event has no snapshot to measure its box against")
    try:
        with Image.open(found.snapshot) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError) as err:
        raise HTTPException(409, "the event's snapshot is unreadable") from err
    x1, y1, x2, y2 = found.box_xyxy
    box = (x1 / width, y1 / height, x2 / width, y2 / height)
    box = tuple(min(1.0, max(0.0, round(v, 4))) for v in box)  # type: ignore[assignment]
    entry = FalsePositive(label=found.label, box=box, confidence=found.confidence, event=found.id)
    try:
        state.settings = add_false_positive(state.settings, found.camera, entry)
    except CamsiftError as err:
        raise HTTPException(409, str(err)) from err
    return Done(message=f"{found.label} at that place on {found.camera} will be ignored from now on")


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


# --- cameras, stats, config -------------------------------------------------------------------------------------


def _latest_picture(state: WebState, camera: str) -> Path | None:
    live = DataDir(state.settings.data_dir).live_frame(camera)
    if live.is_file():
        return live
    latest = state.store.events(camera=camera, limit=1)
    return latest[0].snapshot if latest else None


@router.get("/{camera}/latest.jpg", response_class=FileResponse)
def latest(state: State, camera: str) -> FileResponse:
    """The newest picture of a camera: its live frame for a live stream, else its latest event's snapshot."""
    response = media_file(_latest_picture(state, camera), "image/jpeg", f"picture of camera {camera!r}")
    response.headers["Cache-Control"] = "no-store"
    return response


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
    """Cameras of live sources (``stream`` sources and Blink live views)."""
    found = set()
    for name, source in state.settings.sources.items():
        if source.type == "stream":
            found.add(source.camera or name)
        found.update(getattr(source, "live", []) or [])
    return found


def camera_sources(state: WebState) -> dict[str, str]:
    """Source name feeding each camera, where the config says (stream, FTP users, Blink, folders with a camera)."""
    found: dict[str, str] = {}
    for name, source in state.settings.sources.items():
        cameras: list[str] = []
        if source.type == "stream":
            cameras = [source.camera or name]
        elif source.type == "folder" and source.camera:
            cameras = [source.camera]
        elif source.type == "ftp":
            cameras = list(source.users)
        else:
            cameras = [*(getattr(source, "cameras", None) or []), *(getattr(source, "live", None) or [])]
        found.update(dict.fromkeys(cameras, name))
    return found


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
    """One camera in ``/api/stats``."""

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


class Stats(BaseModel):
    """Service, queue, sources and per-camera figures (Frigate's ``/api/stats``, camsift's fields)."""

    running: bool = Field(description="'camsift run' reported itself within three heartbeats")
    queue: dict[str, int | float | None]
    sources: list[SourceStats]
    cameras: dict[str, CameraStats]
    events: int
    given_up: list[GivenUpFile] = Field(description="Files the service gave up on, oldest first")


def _time(when: datetime | None) -> float | None:
    return None if when is None else when.timestamp()


@router.get("/stats")
def stats(state: State) -> Stats:
    """The service, its queue, its sources and per-camera figures (what ``camsift status`` shows)."""
    from camsift.store.queue import JobQueue

    queue = JobQueue(state.store.engine)
    depth = queue.depth()
    running = state.board.service_running(state.settings.service.stale_s)
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
        for p, shown in state.board.shown_states(
            state.settings.service.stale_s, DataDir(state.settings.data_dir).full()
        )
    ]
    parts = {p.name: p for p in sources}
    latest = state.store.latest_per_camera()
    feeds = camera_sources(state)
    names = sorted({*state.settings.cameras, *latest, *feeds})
    cameras = {}
    for name in names:
        part = parts.get(f"source:{feeds[name]}") if name in feeds else None
        part = parts.get(f"source:{name}", part)  # a live view reports under its camera's name
        cameras[name] = CameraStats(
            source=feeds.get(name),
            state=part.state if part else None,
            detail=camera_detail(part.detail, name) if part else "",
            last_error=part.last_error if part else None,
            last_event_time=_time(latest[name].start_utc) if name in latest else None,
            events=state.store.count_events(camera=name),
        )
    return Stats(
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


REDACTED = "**********"
_SECRET_KEY = re.compile(r"pass|secret|token|hash|key_file", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def redact(value: Any, key: str = "") -> Any:
    """A JSON config with secrets replaced: keys naming a password, token, secret or hash, user:password@ in URLs.

    ``SecretStr`` fields (apprise URLs, stream and MQTT passwords) are already
    ``**********`` in pydantic's JSON dump.
    """
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        if _SECRET_KEY.search(key) and value:
            return REDACTED
        return _URL_USERINFO.sub(rf"\g<scheme>{REDACTED}@", value)
    return value


@router.get("/config")
def config(state: State) -> dict[str, Any]:
    """The configuration in effect (camera overrides merged), secrets redacted."""
    doc: dict[str, Any] = redact(state.settings.model_dump(mode="json"))
    return doc
