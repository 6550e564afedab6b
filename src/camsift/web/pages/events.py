"""The event page: one event with its snapshot, clip, details and faces; its video and footage; false
positives (confirm, undo)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from camsift.camera_overrides import false_positive_index, false_positive_of, remove_false_positive
from camsift.config import FalsePositive
from camsift.errors import CamsiftError
from camsift.events import Event
from camsift.layout import DataDir
from camsift.web import api
from camsift.web.pages.cameras import known_camera
from camsift.web.pages.common import State, User, go_back, local_time, safe_next, show_page
from camsift.web.playable import PLAYABLE, playable_copy
from camsift.web.state import WebState

__all__ = [
    "SUPPRESSED_SHOWN",
    "VIDEO_CACHE",
    "event_action",
    "event_footage",
    "event_page",
    "event_video",
    "false_positive_page",
    "name_event_face",
    "remove_false_positive_entry",
    "router",
]

router = APIRouter()


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
    return show_page(
        request,
        "event.html",
        user,
        event=found,
        out=out,
        when=local_time(found.start_utc, state),
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
            return go_back(state, user, here)
        case "pin" | "unpin":
            api.retain(state, event_id) if action == "pin" else api.unretain(state, event_id)
            return go_back(state, user, here, "pinned: retention keeps it forever" if action == "pin" else "unpinned")
        case "delete":
            api.delete(state, event_id)
            return go_back(state, user, "/", f"event {event_id} deleted")
        case "false_positive":
            if confirm != "yes":
                return go_back(state, user, f"{here}/false_positive")
            return go_back(state, user, here, api.false_positive(state, event_id).message)
        case _:
            return go_back(state, user, here, api.wrong_match(state, event_id).message)


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
    return show_page(
        request,
        "false_positive.html",
        user,
        event=found,
        when=local_time(found.start_utc, state),
        known=false_positive_index(state.settings, found.camera, entry) is not None,
        hidden=[(e, local_time(e.start_utc, state)) for e in hidden[:SUPPRESSED_SHOWN]],
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
        return go_back(state, user, safe_next(back or "/cameras"), str(err))
    return go_back(
        state,
        user,
        safe_next(back or "/cameras"),
        f"{camera}: false positive {n} removed; that place is watched again",
    )


@router.post("/events/{event_id}/faces/{n}")
def name_event_face(
    state: State, user: User, event_id: str, n: api.StoredInt, name: Annotated[str, Form(min_length=1, max_length=64)]
) -> RedirectResponse:
    """Enrol from an event's face: say who it is."""
    message = api.name_face(state, event_id, n, api.FaceName(name=name)).message
    return go_back(state, user, f"/events/{quote(event_id, safe='')}", message)
