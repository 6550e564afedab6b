"""``/api/events``: Frigate's event list and items, their pictures and clips, and the marks a user or a client sets."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from camsift.camera_overrides import add_false_positive, false_positive_of
from camsift.errors import CamsiftError
from camsift.events import Event
from camsift.store import ReviewFilter
from camsift.web.api.common import (
    REVIEW_EVENTS_MAX,
    THUMBNAIL_PX,
    VIDEO_TYPES,
    Done,
    EventOut,
    Height,
    Quality,
    State,
    StoredInt,
    event_out,
    list_param,
    marked_event,
    media_file,
    picture_event,
    picture_response,
    render_picture,
    small_picture,
    stored_event,
    tell_mqtt,
    utc_of_unix,
)
from camsift.web.state import WebState

router = APIRouter()


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


def _check_filters(request: Request) -> None:
    for name, neutral in UNSUPPORTED_FILTERS.items():
        value = request.query_params.get(name)
        if value is not None and value not in ("", neutral):
            raise HTTPException(400, f"/api/events: {name}={value} is not supported by camsift")


def _thumbnail_b64(event: Event) -> str | None:
    import base64

    data = small_picture(event.snapshot, 175, "JPEG")
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
    ``sub_labels=None`` finds events without one. ``favorites=1`` are the pinned events. ``in_progress=1``
    lists the objects confirmed on live streams whose clip is not analysed yet (``end_time`` null; camera and
    label filters apply), ``in_progress=0`` the stored events. ``include_thumbnails=1`` adds a
    base64 JPEG (default off: the Home Assistant integration asks without). Frigate's filters camsift does
    not apply (`UNSUPPORTED_FILTERS`) are refused with 400, never ignored.
    """
    _check_filters(request)
    if in_progress:
        names, kinds = list_param(camera, cameras), list_param(label, labels)
        live = [
            e
            for e in (found.event() for found in state.store.live.in_progress())
            if (not names or e.camera in names) and (not kinds or e.label in kinds)
        ]
        return [event_out(e, None, state.settings, in_progress=True) for e in live[offset : offset + limit]]
    subs = tuple(None if s == "None" else s for s in list_param(sub_label, sub_labels))
    review = ReviewFilter(
        face=face,
        has_clip=has_clip,
        reviewed=reviewed,
        pinned=True if favorites else pinned,
        cameras=list_param(camera, cameras),
        labels=list_param(label, labels),
        sub_labels=subs,
        zones=list_param(zone, zones),
        has_snapshot=has_snapshot,
        min_score=min_score,
        max_score=max_score,
    )
    found = state.store.events(
        since=utc_of_unix(after), until=utc_of_unix(before), limit=limit, offset=offset, review=review
    )
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
    found = stored_event(state, event_id)
    return event_out(found, state.store.marks([event_id]).get(event_id), state.settings)


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
    found = picture_event(state, event_id)
    picture = found.snapshot_annotated if bbox else found.snapshot
    if not crop and h is None and quality == 70:
        return media_file(picture, "image/jpeg", "snapshot")
    data = render_picture(picture, height=h, crop=found.box_xyxy if crop else None, quality=quality)
    return picture_response(data, "JPEG", "snapshot")


@router.get("/events/{event_id}/thumbnail.jpg", response_class=Response)
def thumbnail(state: State, event_id: str) -> Response:
    """A small copy of the snapshot (320 pixels wide at most) for the review grid."""
    picture = picture_event(state, event_id).snapshot
    return picture_response(small_picture(picture, THUMBNAIL_PX, "JPEG"), "JPEG", "snapshot")


@router.get("/events/{event_id}/thumbnail.webp", response_class=Response)
def thumbnail_webp(state: State, event_id: str) -> Response:
    """The thumbnail as WebP (Frigate 0.14+ serves its thumbnails so)."""
    picture = picture_event(state, event_id).snapshot
    return picture_response(small_picture(picture, THUMBNAIL_PX, "WEBP"), "WEBP", "snapshot")


@router.get("/events/{event_id}/clip.mp4", response_class=FileResponse)
def clip(state: State, event_id: str) -> FileResponse:
    """The event's clip (range requests supported, so players can seek)."""
    video = stored_event(state, event_id).video
    media_type = VIDEO_TYPES.get(video.suffix.lower(), "application/octet-stream") if video else "video/mp4"
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
    was = marked_event(state, event_id) if pinned is not None else None
    if not state.store.mark([event_id], reviewed=reviewed, pinned=pinned):
        raise HTTPException(404, "no such event")
    if was is not None and was.retain != pinned:
        tell_mqtt(state, was)
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


@router.post("/events/{event_id}/false_positive")
def false_positive(state: State, event_id: str) -> Done:
    """Mark an event as a false positive: similar detections at that place on its camera are dropped from now on.

    The event itself is kept (delete it separately). ``camsift run`` applies it
    from the next file (live streams: from its next start).
    """
    was = marked_event(state, event_id)
    found = was.event
    try:
        state.settings = add_false_positive(state.settings, found.camera, false_positive_of(found))
    except CamsiftError as err:
        raise HTTPException(409, str(err)) from err
    if not was.false_positive:
        tell_mqtt(state, was)
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
    was = marked_event(state, event_id)
    if not state.store.set_sub_label(event_id, name, score):
        raise HTTPException(404, "no such event")
    if (was.event.sub_label, was.event.sub_label_score) != (name, score):
        tell_mqtt(state, was)
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
