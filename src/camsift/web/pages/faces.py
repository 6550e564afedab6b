"""The faces page: the known-faces library, enrolment from a photo, groups of unknown faces to name."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from camsift.errors import CamsiftError
from camsift.media import IMAGE_SUFFIXES
from camsift.web import api
from camsift.web.pages.common import State, User, go_back, show_page

__all__ = ["MAX_PHOTO_BYTES", "enrol_photo", "faces_page", "group_picture", "name_group", "remove_person", "router"]

router = APIRouter()

MAX_PHOTO_BYTES = 20 << 20
"""Largest face photo accepted for enrolment (a 12 MP phone JPEG is 3-8 MB)."""


@router.get("/faces", response_class=HTMLResponse)
def faces_page(request: Request, state: State, user: User) -> HTMLResponse:
    """The known-faces library, enrolment from a photo, and groups of unknown faces to name."""
    from camsift.faces import engine_model

    cfg = state.settings.faces
    try:
        groups = state.faces.groups(engine_model(cfg.engine), cfg.match_distance)
    except CamsiftError:
        groups = []
    return show_page(request, "faces.html", user, people=state.faces.people(), groups=groups)


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
        return go_back(state, user, "/faces", f"not a photo (expected {', '.join(sorted(IMAGE_SUFFIXES))})")
    if (photo.size or 0) > MAX_PHOTO_BYTES:
        return go_back(state, user, "/faces", f"photo too large (at most {MAX_PHOTO_BYTES >> 20} MB)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"photo{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(photo.file, out, 1 << 20)
        try:
            naming, checks = enrol(state.faces, state.face_engine(), name, [path], state.settings.faces)
        except CamsiftError as err:
            return go_back(state, user, "/faces", str(err))
    if naming is None:
        return go_back(state, user, "/faces", f"{name}: photo refused: {checks[0].reason}")
    past = f"; {len(naming.events)} past events now say {naming.name}" if naming.events else ""
    return go_back(state, user, "/faces", f"{naming.name}: photo added{past}")


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
        return go_back(state, user, "/faces", str(err))
    return go_back(state, user, "/faces", f"group {group} is {naming.name}: {len(naming.events)} events relabelled")


@router.post("/faces/people/{name:path}/remove")
def remove_person(state: State, user: User, name: str) -> RedirectResponse:
    """Forget a person."""
    try:
        events = state.faces.remove(name)
    except CamsiftError as err:
        return go_back(state, user, "/faces", str(err))
    return go_back(state, user, "/faces", f"{name} removed; {len(events)} events relabelled")
