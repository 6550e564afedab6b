"""``/api/<camera>/...``: the latest picture, the latest event's pictures per label, MJPEG and clip requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel

from camsift.events import Event
from camsift.layout import DataDir
from camsift.live_picture import LIVE_EVERY_S
from camsift.web.api.common import Height, Quality, State, media_file, picture_response, render_picture, stream_cameras
from camsift.web.api.events import clip, snapshot, thumbnail
from camsift.web.state import WebState

router = APIRouter()


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
        response = picture_response(
            render_picture(picture, height=h, quality=quality), "JPEG", f"picture of {camera!r}"
        )
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
