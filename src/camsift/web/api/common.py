"""Shared pieces of the REST API: the app state, event items in Frigate's shape, pictures, and the cameras it knows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from camsift import frigate
from camsift.config import Settings
from camsift.events import Event
from camsift.logs import get_logger
from camsift.mqtt import MarkedEvent, queue_update
from camsift.store import EventMarks
from camsift.web.auth import Principal, authorize
from camsift.web.state import WebState

log = get_logger("camsift.web.api")


MEDIA_CACHE = "private, max-age=300"


VIDEO_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".ts": "video/mp2t",
    ".gif": "image/gif",
}
"""Media types of the footage files the API serves, by suffix."""


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
    end_time: float | None = Field(description="Unix seconds of the last sighting; null while in progress")
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
    event: Event,
    marks: EventMarks | None,
    settings: Settings | None = None,
    thumbnail: str | None = None,
    *,
    in_progress: bool = False,
) -> EventOut:
    """The API view of a stored event: Frigate's item (`camsift.frigate.api_event`) and what the owner said
    about it (``false_positive`` needs ``settings``); ``end_time`` null for an event ``in_progress`` (an object
    confirmed on a live stream whose clip is not analysed yet, `camsift.store.live`)."""
    doc = frigate.api_event(
        event,
        retain=bool(marks and marks.pinned),
        false_positive=settings is not None and marked_false(settings, event),
        thumbnail=thumbnail,
        extra={"reviewed": bool(marks and marks.reviewed)} | ({"end_time": None} if in_progress else {}),
    )
    return EventOut.model_validate(doc)


def utc_of_unix(seconds: float | None) -> datetime | None:
    """Unix ``seconds`` as an aware UTC time (``None`` stays ``None``).

    Raises:
        HTTPException: 422 for a number no time has.
    """
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise HTTPException(422, f"not a Unix time: {seconds}") from err


def stored_event(state: WebState, event_id: str) -> Event:
    """The stored event ``event_id``.

    Raises:
        HTTPException: 404 when there is no such event.
    """
    event = state.store.event(event_id)
    if event is None:
        raise HTTPException(404, "no such event")
    return event


def picture_event(state: WebState, event_id: str) -> Event:
    """A stored event, else an object in progress on a live stream (its snapshot is the frame it was confirmed
    in, `camsift.store.live`): Frigate serves in-progress events' pictures, and clients fetch them on ``new``."""
    live = None if state.store.event(event_id) else state.store.live.get(event_id)
    if live is not None and live.state == "open":  # no boxes drawn yet: the clean frame serves both
        return live.event().replace(snapshot_annotated=live.snapshot)
    return stored_event(state, event_id)


def marked_event(state: WebState, event_id: str) -> MarkedEvent:
    """An event with its false-positive and pinned marks (404 when there is no such event)."""
    event = stored_event(state, event_id)
    marks = state.store.marks([event_id]).get(event_id)
    return MarkedEvent(event, marked_false(state.settings, event), bool(marks and marks.pinned))


def tell_mqtt(state: WebState, before: MarkedEvent) -> None:
    """Queue an MQTT ``update`` of a changed event (`camsift.mqtt.queue_update`; nothing with MQTT off). A
    failure to queue it is logged: the change itself is stored."""
    if not state.settings.mqtt.enabled:
        return
    try:
        queue_update(state.store, state.settings, before, marked_event(state, before.event.id), origin="api")
    except SQLAlchemyError as err:
        log.warning("cannot queue the MQTT update of an event", event_id=before.event.id, reason=type(err).__name__)


def media_file(path: Path | None, media_type: str, what: str) -> FileResponse:
    """A media file that the database named (HTTP range requests are served by Starlette)."""
    if path is None or not path.is_file():
        raise HTTPException(404, f"no {what}")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": MEDIA_CACHE})


_FORMATS = {"JPEG": "image/jpeg", "WEBP": "image/webp"}


CROP_MARGIN = 0.25
"""``crop=1`` keeps this share of the box's size around it on each side (and at least a square)."""


def render_picture(
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


def small_picture(path: Path | None, fit: int, fmt: str) -> bytes | None:
    """The picture at ``path`` fitted in a ``fit`` pixels square, as ``fmt`` (``None``: no readable picture)."""
    return render_picture(path, fit=fit, fmt=fmt)


def picture_response(data: bytes | None, fmt: str, what: str) -> Response:
    """A picture made by `render_picture` as a response (kept `MEDIA_CACHE`).

    Raises:
        HTTPException: 404 naming ``what`` when there is no picture.
    """
    if data is None:
        raise HTTPException(404, f"no {what}")
    return Response(data, media_type=_FORMATS[fmt], headers={"Cache-Control": MEDIA_CACHE})


Height = Annotated[int | None, Query(ge=16, le=4320, description="Scale to this height in pixels")]


Quality = Annotated[int, Query(ge=1, le=100, description="JPEG quality")]


THUMBNAIL_PX = 320
"""Thumbnails fit in a square of this many pixels."""


class Done(BaseModel):
    """A one-line answer (with Frigate's ``success``)."""

    success: bool = True
    message: str


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


def unix_of(when: datetime | None) -> float | None:
    """An aware time as Unix seconds (``None`` stays ``None``)."""
    return None if when is None else when.timestamp()


def camera_names(state: WebState) -> list[str]:
    """Every camera the API knows (`camsift.frigate.camera_names`): configured, fed by a source, or with stored
    events."""
    return frigate.camera_names(state.settings, state.store.cameras())


REVIEW_EVENTS_MAX = 20_000
"""Events read at most to build the review items of one request (review items, the events summary)."""


def list_param(*values: str | None) -> tuple[str, ...]:
    """Frigate's list parameters: comma-separated, ``all`` meaning any."""
    found = [v.strip() for value in values if value for v in value.split(",") if v.strip()]
    return () if "all" in found else tuple(dict.fromkeys(found))
