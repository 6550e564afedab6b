"""The cameras page: each camera's source, last event, live picture, record button and settings."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from camsift.camera_overrides import save_camera_settings
from camsift.config import CameraSettings
from camsift.errors import CamsiftError
from camsift.live_picture import LIVE_EVERY_S
from camsift.web import api
from camsift.web.pages.common import State, User, go_back, local_time, show_page
from camsift.web.state import WebState

__all__ = ["camera_record", "camera_settings", "cameras_page", "known_camera", "router"]

router = APIRouter()


def known_camera(state: WebState, camera: str) -> str:
    """``camera`` when it is one: configured, fed by a source, or with stored events.

    Raises:
        HTTPException: 404 for any other name (no setting may create a camera).
    """
    if camera in state.settings.cameras or camera in api.camera_sources(state) or camera in state.store.cameras():
        return camera
    raise HTTPException(404, f"no camera named {camera!r}: settings are kept only for cameras camsift knows")


@router.get("/cameras", response_class=HTMLResponse)
def cameras_page(request: Request, state: State, user: User) -> HTMLResponse:
    """Each camera: its source's state, last event, live picture, record button and settings."""
    stats = api.stats(state)
    live = api.stream_cameras(state)
    rows = [
        {
            "name": name,
            "stats": cam,
            "last": local_time(datetime.fromtimestamp(cam.last_event_time, UTC), state)
            if cam.last_event_time
            else None,
            "live": name in live,
            "settings": CameraSettings.of(state.settings, name),
            "false_positives": state.settings.for_camera(name).objects.false_positives,
        }
        for name, cam in stats.cameras.items()
    ]
    return show_page(request, "cameras.html", user, cameras=rows, stats=stats, live_every_ms=round(LIVE_EVERY_S * 1000))


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
        return go_back(state, user, "/cameras", f"{camera}: {'.'.join(map(str, e['loc']))}: {e['msg']}")
    except CamsiftError as err:
        return go_back(state, user, "/cameras", str(err))
    return go_back(
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
        return go_back(state, user, "/cameras", f"{camera}: {err.detail}")
    return go_back(state, user, "/cameras", f"{camera}: recording 30 s")
