"""``/api`` about camsift itself: health, login (Frigate's ``frigate_token``), stats, config, version, profile."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from camsift import __version__, frigate
from camsift.layout import DataDir
from camsift.redaction import redact
from camsift.web.api.common import State, User, camera_detail, camera_names, camera_sources, stream_cameras, unix_of

router = APIRouter()
public_router = APIRouter(prefix="/api", tags=["health"])


class Health(BaseModel):
    """The app is up."""

    status: Literal["ok"]
    version: str


@public_router.get("/health")
def health() -> Health:
    """Liveness check; needs no login and says nothing about the footage."""
    return Health(status="ok", version=__version__)


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
            last_error_time=unix_of(p.last_error_utc),
        )
        for p, shown in state.board.shown_states(
            state.settings.service.stale_s, DataDir(state.settings.data_dir).full()
        )
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
            last_event_time=unix_of(latest[name].start_utc) if name in latest else None,
            events=state.store.count_events(camera=name),
        )
    return Stats(
        **shaped,
        running=running,
        queue={"waiting": depth.pending, "in_analysis": depth.leased, "oldest_waiting": unix_of(depth.oldest_utc)},
        sources=sources,
        cameras=cameras,
        events=state.store.count_events(),
        given_up=[
            GivenUpFile(path=str(g.path), camera=g.camera, source=g.source, reason=g.reason, time=unix_of(g.when_utc))
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
