"""The REST API under ``/api``: a superset of Frigate 0.14-0.16's, so that its clients (the Home Assistant
integration, Double Take, frigate-notify) work unchanged; camsift's extras are extra keys and routes.

One module per resource: `events` (``/api/events``: items, pictures, clips, marks), `review`
(``/api/review``), `cameras` (``/api/<camera>/...``) and `service` (health, login, stats, config,
version); `common` holds what they share. Frigate's shapes come from `camsift.frigate` (shared with
MQTT). Times are Unix seconds (``after``/``before``, ``start_time``/``end_time``), as in Frigate.
Every media file is found through the event's database row, never through a path in the URL.
Everything but ``/api/health``, ``/api/version``, ``/api/login`` and ``/api/logout`` needs a login,
an API token or Frigate's ``frigate_token`` (`camsift.web.auth`); state changes made with a session
cookie need the CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from camsift.web.api import cameras, events, review, service
from camsift.web.api.cameras import record
from camsift.web.api.common import (
    EventOut,
    StoredInt,
    camera_names,
    camera_sources,
    event_out,
    media_file,
    stream_cameras,
    web_state,
)
from camsift.web.api.events import (
    FaceName,
    delete,
    false_positive,
    name_face,
    retain,
    reviewed,
    unretain,
    unreviewed,
    wrong_match,
)
from camsift.web.api.service import stats
from camsift.web.auth import authorize

__all__ = [
    "EventOut",
    "FaceName",
    "StoredInt",
    "camera_names",
    "camera_sources",
    "delete",
    "event_out",
    "false_positive",
    "media_file",
    "name_face",
    "public_router",
    "record",
    "retain",
    "reviewed",
    "router",
    "stats",
    "stream_cameras",
    "unretain",
    "unreviewed",
    "web_state",
    "wrong_match",
]

public_router = service.public_router
"""The routes open without a login: ``/api/health``, ``/api/version``, ``/api/login``, ``/api/logout``."""

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(authorize)])
for part in (events, review, cameras, service):  # in this order: /events/... before /{camera}/{label}/...
    router.include_router(part.router)
