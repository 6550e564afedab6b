"""The web app: review events, watch clips, manage faces and cameras, with a real login.

`create_app` builds a FastAPI app over an event store: server-rendered pages
(`camsift.web.pages`), the REST API under ``/api`` (`camsift.web.api`), the
login and its protections (`camsift.web.auth`). ``camsift serve`` runs it with
uvicorn; `WebCompanion` runs the same app inside ``camsift run``. Needs the
``web`` extra (``pip install 'camsift[web]'``).

Example:
    >>> app = create_app(load_config(Path("camsift.yaml")))  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=5000)  # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camsift.config import Settings
from camsift.errors import DetectorError
from camsift.logs import get_logger

if TYPE_CHECKING:
    from fastapi import FastAPI

    from camsift.listeners import ServiceContext
    from camsift.store import Store

__all__ = ["WebCompanion", "create_app", "run_server", "serve"]

log = get_logger("camsift.web")

START_TIMEOUT_S = 10.0
"""Seconds `WebCompanion.start` waits for the web app to listen."""

STATIC = Path(__file__).parent / "static"


def need_extra() -> None:
    """Check that the ``web`` extra is installed, before anything starts.

    Raises:
        DetectorError: one of its libraries is missing; the message names the ``pip install`` to run.
    """
    try:
        import fastapi  # noqa: F401
        import jinja2  # noqa: F401
        import python_multipart  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        raise DetectorError(
            f"the web app needs the 'web' extra: pip install 'camsift[web]' ({err.name} missing)"
        ) from err


def create_app(settings: Settings, store: Store | None = None, *, ai_api: bool | None = None) -> FastAPI:
    """The web app over ``settings``' event store.

    Args:
        settings: The configuration (``web`` section, data directory, cameras).
        store: An open store to use (inside ``camsift run``); default: open one (closed at shutdown).
        ai_api: Also mount the DeepStack-compatible detection API (`camsift.detection_api`);
            default ``web.ai_api``.

    Returns:
        The ASGI app.

    Raises:
        DetectorError: the ``web`` extra is not installed.
        StorageError: the store cannot be opened.
    """
    need_extra()
    from contextlib import asynccontextmanager

    from fastapi import Depends, FastAPI, Request
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import HTTPException, RequestValidationError
    from fastapi.responses import JSONResponse, RedirectResponse, Response
    from fastapi.staticfiles import StaticFiles

    from camsift import __version__
    from camsift.store import Store as _Store
    from camsift.web import api, pages
    from camsift.web.auth import NotLoggedInError, SecurityHeaders, authorize
    from camsift.web.state import WebState

    own = store is None
    opened = store or _Store(settings.data_dir, settings.database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        yield
        if own:
            opened.close()

    app = FastAPI(
        title="camsift",
        version=__version__,
        description="Events, snapshots, clips and cameras of camsift. Log in (session cookie) or send "
        "'Authorization: Bearer <token>' (camsift users token).",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads its scripts from a CDN: not in this app
        redoc_url=None,
        openapi_url=None,  # served below, behind the login like everything else
    )
    app.state.web = WebState(settings, opened)
    app.add_middleware(SecurityHeaders)

    def _browser(request: Request) -> bool:
        """A person's browser asking for a page (not a script, not the API): they get HTML pages."""
        if request.url.path.startswith(("/api/", "/v1/")):
            return False
        return "text/html" in request.headers.get("accept", "")

    @app.exception_handler(NotLoggedInError)
    async def _not_logged_in(request: Request, _err: NotLoggedInError) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import urlencode

        if request.method == "GET" and not request.url.path.startswith(("/api/", "/v1/")):
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        if _browser(request):  # a form sent after the session ended (logged out in another tab, expired)
            back = pages.same_site_referer(request)
            return pages.error_page(
                request,
                401,
                "Your session has ended",
                "You were logged out (in another tab, or the login expired), so this was not done. "
                "Log in again, then repeat it.",
                ("/login?" + urlencode({"next": back}), "Log in again"),
            )
        return JSONResponse(
            {"detail": "login required"}, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="camsift"'}
        )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, err: HTTPException) -> Response:
        if err.status_code == 429 and _browser(request):
            wait = float((err.headers or {}).get("Retry-After", "60"))
            until = pages.local_clock(time.time() + wait, settings)
            minutes = max(1, round(wait / 60))
            return pages.error_page(
                request,
                429,
                "Too many failed logins",
                f"Logging in is paused for this address or user name: try again in about {minutes} minute"
                f"{'' if minutes == 1 else 's'} (at {until}).",
                ("/login", "Back to the login page"),
                err.headers,
            )
        if err.status_code == 403 and _browser(request):
            return pages.error_page(
                request,
                403,
                "This form has expired",
                f"{err.detail}: the page was open from an earlier login. Reload the page and try again.",
                (pages.same_site_referer(request), "Back to the page"),
            )
        body = {"detail": err.detail, "success": False, "message": str(err.detail)}  # camsift's and Frigate's
        if request.url.path.startswith("/api/") or (
            not _browser(request) and (request.method != "GET" or err.status_code in (401, 429))
        ):
            return JSONResponse(body, status_code=err.status_code, headers=err.headers)
        return pages.error_page(
            request, err.status_code, str(err.status_code), str(err.detail), ("/", "Back to the review")
        )

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, err: RequestValidationError) -> Response:
        if not _browser(request):
            return JSONResponse({"detail": jsonable_encoder(err.errors())}, status_code=422)
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "path", "body"))
        return pages.error_page(
            request,
            422,
            "A value in the address is not valid",
            f"{where or 'value'}: {first.get('msg', 'invalid')}. The link may be old or edited by hand.",
            (request.url.path if request.method == "GET" else "/", "Open the page without it"),
        )

    class CachedStatic(StaticFiles):
        """Static files with a long cache: pages link them by content hash (`pages.static_url`)."""

        def file_response(self, *args: Any, **kwargs: Any) -> Response:
            response = super().file_response(*args, **kwargs)
            response.headers["Cache-Control"] = pages.STATIC_CACHE
            return response

    app.mount("/static", CachedStatic(directory=STATIC), name="static")
    app.include_router(api.public_router)
    if settings.web.ai_api if ai_api is None else ai_api:
        from camsift.detection_api import create_router  # type: ignore[import-not-found,unused-ignore]

        app.include_router(create_router(settings), dependencies=[Depends(authorize)])  # login or API token
    app.include_router(api.router)

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[Depends(authorize)])
    def openapi() -> dict[str, Any]:
        """The OpenAPI schema of this API."""
        return app.openapi()

    app.include_router(pages.login_router)
    app.include_router(pages.router)
    return app


def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    ai_api: bool | None = None,
    store: Store | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run the web app with uvicorn until interrupted (or until ``stop`` is set).

    Args:
        settings: The configuration.
        host: Address to listen on; default ``web.host`` (127.0.0.1).
        port: Port; default ``web.port``.
        ai_api: Mount the detection API; default ``web.ai_api``.
        store: An open store to share (inside ``camsift run``).
        stop: Set it to stop the server (from another thread).
    """
    server = _server(settings, host, port, ai_api, store)
    if stop is None:
        run_server(server, settings)
        return

    def watch() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=watch, daemon=True).start()
    run_server(server, settings)


def _server(settings: Settings, host: str | None, port: int | None, ai_api: bool | None, store: Store | None) -> Any:
    import uvicorn

    web = settings.web
    app = create_app(settings, store, ai_api=ai_api)
    config = uvicorn.Config(
        app,
        host=host or web.host,
        port=port or web.port,
        proxy_headers=bool(web.forwarded_allow_ips),
        forwarded_allow_ips=web.forwarded_allow_ips or None,
        log_level="warning",
        server_header=False,
    )
    return uvicorn.Server(config)


def run_server(server: Any, settings: Settings) -> None:
    """Run a uvicorn server of `_server` until it exits, also on ``web.unauthenticated_port`` when set.

    Raises:
        SystemExit: a port cannot be listened on (logged; uvicorn does the same for its own port).
    """
    import socket

    web = settings.web
    if web.unauthenticated_port is None:
        server.run()
        return
    main = server.config.bind_socket()
    try:
        extra = socket.create_server((web.unauthenticated_host, web.unauthenticated_port), reuse_port=False)
    except OSError as err:
        main.close()
        log.error(
            "cannot listen on web.unauthenticated_port",
            host=web.unauthenticated_host,
            port=web.unauthenticated_port,
            reason=err.strerror or str(err),
        )
        raise SystemExit(1) from err
    log.warning(
        "web app also listening WITHOUT login (web.unauthenticated_port)",
        host=web.unauthenticated_host,
        port=web.unauthenticated_port,
    )
    server.run(sockets=[main, extra])


class WebCompanion:
    """The web app inside ``camsift run``: uvicorn on a thread of the service, sharing its store.

    Args:
        settings: The configuration (``web.host``, ``web.port`` …).
    """

    name = "web"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, service: ServiceContext) -> None:
        """Serve on a thread; wait up to `START_TIMEOUT_S` for the port; report a `Problem` when it fails."""
        from camsift.listeners import Problem

        web = self.settings.web
        self._server = _server(self.settings, None, None, None, service.store)
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._server.started:
            log.info("web app started", host=web.host, port=web.port)
            return
        log.error("web app did not start", host=web.host, port=web.port)
        service.problem(
            Problem(
                "web_down",
                f"Web app not listening on {web.host}:{web.port}",
                "The port may be taken by another program (see the log). The service goes on without the web "
                "app; change web.port or free the port, then restart 'camsift run'.",
            )
        )

    def _run(self) -> None:
        try:
            run_server(self._server, self.settings)
        except SystemExit:  # uvicorn exits when it cannot listen; it has logged why, start() reports it
            return

    def stop(self) -> None:
        """Stop serving within a few seconds."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
