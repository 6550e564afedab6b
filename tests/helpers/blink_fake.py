"""`FakeBlink`: Blink's HTTP API and IMMI live-view server, played strictly on loopback, for tests and benchmarks.

The real blinkpy and aiohttp code runs against it unchanged: the client's
connector (`FakeBlink.connector`, through ``camsift.blink.client.default_connector``)
resolves every Blink host name to this server and trusts its test CA (made
by ``trustme``). Answers follow blinkpy 0.25.9's code and test fixtures, and
the Blink behaviour its users and Home Assistant's have reported; where the
real service is stricter than a loose fake would be, this one is strict too:

- **sign-in** (OAuth v2 with PKCE): a session cookie set by the first
  ``authorize`` request is needed at every later step; a ``hardware_id``
  that is not a UUID gets 406 from Blink's edge; the code exchange checks
  the PKCE verifier and the hardware id; each sign-in attempt sends a new
  random 2FA code (`FakeBlink.sent_codes`), so a code from an earlier attempt
  never works;
- **tokens** expire (401 afterwards) and refresh tokens rotate (the old one
  dies at each renewal); the v2 renewal needs the ``hardware_id`` field, the
  legacy one blinkpy falls back on needs the ``hardware_id`` header
  (`FakeBlink.grants` records which grant was used);
- **clip list** (``media/changed``): "changed since" compares ``updated_at``,
  not ``created_at``; pages of `page_size` entries (Blink: 25, or 500);
- **local storage**: every manifest request makes a new manifest id, and a
  clip asked for under another id, or before the Sync Module has uploaded it
  (`upload_delay_s` after the upload command), is "Media not found" (404);
- **bodies** can arrive slowly (`body_s`) or stall (`stall_s`);
- **cameras** of three kinds: Blink Outdoor ("catalina", Wi-Fi in bars),
  Minis ("owl", on the Sync Module's network, Wi-Fi in dBm, no thermometer)
  and doorbells ("lotus", a network of their own, values under ``signals``);
  temperatures in °F; a snapshot command makes a new thumbnail (a new
  ``ts`` in its address) and the old address keeps serving the old picture;
- **live view**: the answer of blinkpy's fixtures (``polling_interval`` 15 s,
  ``continue_interval`` 300 s); the IMMI server checks the camera serial and
  connection id of blinkpy's 122-byte header, plays `live_ts` once and hangs
  up (Blink "ends the session").

Faults a test can script: any answer for a path (`FakeBlink.fail`: 401, 403,
404, 426, 429 with ``Retry-After``, 5xx, or a body that is not what Blink
should send), downloads cut off halfway (`cut_downloads`), a revoked login
(`revoke`).

Example:
    >>> with FakeBlink() as fake:  # doctest: +SKIP
    ...     fake.add_clip("Front Door", Path("walk.mp4").read_bytes())
    ...     camsift.blink.client.default_connector = fake.connector
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import itertools
import json
import re
import secrets
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import TCPConnector, web
from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = ["ACCOUNT", "NETWORK", "PASSWORD", "FakeBlink", "FakeCamera", "FakeClip", "Fault"]

ACCOUNT = 1111
NETWORK = 2222
SYNC = 4444
TIER = "u011"
PASSWORD = "correct horse"  # the fake account's password
IMMI_CLIENT_ID = 123
SESSION_COOKIE = "__Host-oauth-session"
JPEG = b"\xff\xd8\xff\xe0"
Kind = Literal["catalina", "owl", "lotus"]


@dataclass
class FakeCamera:
    """A camera of the fake account.

    Attributes:
        name: Its name in the Blink app.
        camera_id: Blink's id.
        kind: ``catalina`` (Blink Outdoor), ``owl`` (Mini) or ``lotus`` (doorbell).
        network_id: Its network (a doorbell has one of its own).
        serial: What the IMMI header must carry.
        pictures: Thumbnails by their ``ts``; the newest is the current one.
        next_picture: What the next snapshot command takes (``None``: a generated JPEG).
    """

    name: str
    camera_id: int
    kind: Kind
    network_id: int
    serial: str
    pictures: dict[int, bytes] = field(default_factory=dict)
    next_picture: bytes | None = None

    @property
    def thumbnail_ts(self) -> int:
        return max(self.pictures)

    @property
    def picture(self) -> bytes:
        """The current thumbnail."""
        return self.pictures[self.thumbnail_ts]


@dataclass
class FakeClip:
    """A clip the fake account holds (``updated_utc``: when Blink last changed its entry, upload included)."""

    clip_id: int
    camera: str
    created_utc: datetime
    body: bytes
    local: bool = False
    deleted: bool = False
    updated_utc: datetime | None = None
    upload_ready_at: float | None = None  # loop time the Sync Module has uploaded it (local clips)


@dataclass
class Fault:
    """Answer ``status`` (``times`` times) to requests whose path contains ``path``: with ``body`` as
    ``content_type`` if given, else Blink's JSON error shape."""

    path: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    content_type: str = "text/html"


@dataclass
class _Flow:
    """One OAuth sign-in in progress, found by its session cookie."""

    hardware_id: str
    challenge: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    code_2fa: str | None = None
    signed_in: bool = False
    auth_code: str | None = None


@dataclass
class _Command:
    """A command of the Sync Module or a camera; ``running`` until done (a live view: until its session ends).
    ``on_done`` runs when a status poll first finds it done (a snapshot's picture appears then)."""

    network_id: int
    running: bool = False
    on_done: Callable[[], None] | None = None
    polled_at: list[float] = field(default_factory=list)


class _Loopback(AbstractResolver):
    """Every host name is this machine, at the fake's port."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host="127.0.0.1", port=self.port, family=socket.AF_INET, proto=0, flags=0)]

    async def close(self) -> None:
        return None


def _s256(verifier: str) -> str:
    """PKCE's S256 code challenge of ``verifier`` (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class FakeBlink:
    """One fake Blink account served over TLS on loopback: network ``Home`` with a Sync Module 2, its cameras and
    Minis, and doorbells on networks of their own.

    Args:
        cameras: Blink Outdoor cameras on ``Home``.
        minis: Blink Minis on ``Home``.
        doorbells: Doorbells (each its own network, no Sync Module).
        two_factor: Sign-in asks for a 2FA code (a new one each attempt: `sent_codes`).
        local_storage: The Sync Module has an active USB stick.
        page_size: Clips per ``media/changed`` page (Blink: 25, or 500).
        expires_in: Lifetime in seconds of access tokens it issues.

    Attributes:
        requests: ``(method, path)`` of every HTTP request, in order.
        grants: ``v2``, ``legacy`` or ``code`` for each token issued after the first login, in order.
        sent_codes: The 2FA code of each sign-in attempt, in order.
        upload_delay_s: Seconds the Sync Module takes to upload a local clip after the upload command.
        body_s: Seconds a clip body takes to arrive (sent in pieces); 0: at once.
        stall_s: Seconds the next clip body stops halfway (once), then goes on.
        live_ts: MPEG-TS bytes a live session plays once (then Blink "ends the session").
        live_duration_s: Seconds that playing takes (the pace of the IMMI packets).
        live_continue_s: ``continue_interval`` of the live-view answer (the session still plays all of `live_ts`).
        live_sessions: IMMI sessions played so far.
    """

    def __init__(
        self,
        cameras: tuple[str, ...] = ("Front Door",),
        *,
        minis: tuple[str, ...] = (),
        doorbells: tuple[str, ...] = (),
        two_factor: bool = False,
        local_storage: bool = True,
        page_size: int = 25,
        expires_in: int = 3600,
    ) -> None:
        self.two_factor, self.local_storage, self.page_size, self.expires_in = (
            two_factor,
            local_storage,
            page_size,
            expires_in,
        )
        self._next_id = 100
        self.devices: list[FakeCamera] = []
        for kind, names in (("catalina", cameras), ("owl", minis), ("lotus", doorbells)):
            for name in names:
                self._add_device(name, kind)  # type: ignore[arg-type]
        self.clips: list[FakeClip] = []
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.grants: list[str] = []
        self.sent_codes: list[str] = []
        self.cut_downloads = 0
        self.body_s = 0.0
        self.stall_s = 0.0
        self.upload_delay_s = 0.0
        self.armed = True
        self.live_ts = b""
        self.live_duration_s = 1.0
        self.live_continue_s = 300.0
        self.live_sessions = 0
        self.access: dict[str, float] = {}  # access token -> expiry (time.time())
        self.refresh: dict[str, str] = {}  # refresh token -> hardware id it is bound to
        self.manifest_id: int | None = None
        self._flows: dict[str, _Flow] = {}
        self._commands: dict[int, _Command] = {}
        self._manifests: dict[int, int] = {}  # manifest request (command) id -> manifest id
        self._live: dict[str, tuple[int, FakeCamera]] = {}  # IMMI connection id -> (command id, camera)
        self._sessions: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.port = 0
        self.immi_port = 0
        import trustme

        self._ca = trustme.CA()
        cert = self._ca.issue_cert(
            "*.immedia-semi.com", "rest-prod.immedia-semi.com", "api.oauth.blink.com", "127.0.0.1"
        )
        self._server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self._server_ssl)
        self._client_ssl = ssl.create_default_context()
        self._ca.configure_trust(self._client_ssl)

    # --- control from the test's thread ---------------------------------------------------

    def __enter__(self) -> FakeBlink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve on two loopback ports (HTTPS API, IMMI) from a thread of its own."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="fake-blink", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake Blink server did not start")

    def stop(self) -> None:
        """Stop serving (again: nothing)."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def connector(self) -> TCPConnector:
        """An aiohttp connector reaching this fake for every Blink host (call inside the client's event loop)."""
        return TCPConnector(resolver=_Loopback(self.port), ssl=self._client_ssl)

    @property
    def cameras(self) -> list[str]:
        """Names of the Blink Outdoor cameras."""
        return [d.name for d in self.devices if d.kind == "catalina"]

    def device(self, name: str) -> FakeCamera:
        """The camera, Mini or doorbell called ``name``."""
        return next(d for d in self.devices if d.name == name)

    def add_clip(
        self,
        camera: str,
        body: bytes,
        created_utc: datetime | None = None,
        *,
        local: bool = False,
        updated_utc: datetime | None = None,
    ) -> FakeClip:
        """Give the account a motion clip (in the cloud, or on the Sync Module's USB stick with ``local``).

        ``updated_utc`` (default: 20 s after it was created, when its upload ended) is what "changed since"
        compares."""
        created = created_utc or datetime.now(UTC) - timedelta(minutes=1)
        clip = FakeClip(self._new_id(), camera, created, body, local, updated_utc=updated_utc)
        if clip.updated_utc is None:
            clip.updated_utc = created + timedelta(seconds=20)
        self.clips.append(clip)
        return clip

    def fail(
        self,
        path: str,
        status: int,
        times: int = 1,
        retry_after: str | None = None,
        *,
        body: str | None = None,
        content_type: str = "text/html",
    ) -> None:
        """Answer ``status`` (with ``Retry-After``, if given) to the next ``times`` requests whose path has ``path``;
        with ``body`` (as ``content_type``) instead of Blink's JSON error, e.g. a proxy's maintenance page."""
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        self.faults.append(Fault(path, status, times, headers, body, content_type))

    def revoke(self) -> None:
        """Forget every token issued (Blink logged the account out)."""
        self.access.clear()
        self.refresh.clear()

    def count(self, pattern: str) -> int:
        """Requests whose ``"METHOD path"`` matches the regex ``pattern``."""
        return sum(bool(re.search(pattern, f"{m} {p}")) for m, p in self.requests)

    def live_polls(self) -> list[float]:
        """Seconds between two status polls of the same live-view command, over every live command."""
        gaps: list[float] = []
        for command in self._commands.values():
            gaps += [b - a for a, b in itertools.pairwise(command.polled_at)]
        return gaps

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _add_device(self, name: str, kind: Kind) -> None:
        index = len(self.devices)
        network = NETWORK if kind != "lotus" else 6000 + index
        camera = FakeCamera(name, 3333 + index, kind, network, f"G8T{kind[:2].upper()}{index:08d}")
        camera.pictures[self._new_id()] = JPEG + f"{name} first picture".encode() + b"\xff\xd9"
        self.devices.append(camera)

    # --- serving ----------

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self._server_ssl)
        await site.start()
        self.port = runner.addresses[0][1]
        immi = await asyncio.start_server(self._immi, "127.0.0.1", 0, ssl=self._server_ssl)
        self.immi_port = immi.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        immi.close()
        for task in list(self._sessions):
            task.cancel()
        await asyncio.gather(*self._sessions, return_exceptions=True)
        await runner.cleanup()

    def _issue(self, hardware_id: str, grant: str | None) -> dict[str, Any]:
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self.access[access] = time.time() + self.expires_in
        self.refresh[refresh] = hardware_id
        if grant is not None:
            self.grants.append(grant)
        return {"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in, "token_type": "Bearer"}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append((request.method, path))
        for fault in self.faults:
            if fault.path in path and fault.times > 0:
                fault.times -= 1
                if fault.body is not None:
                    return web.Response(
                        text=fault.body, status=fault.status, content_type=fault.content_type, headers=fault.headers
                    )
                return web.json_response(
                    {"message": f"fault {fault.status}", "code": fault.status},
                    status=fault.status,
                    headers=fault.headers,
                )
        if request.host.startswith("api.oauth."):
            return await self._oauth(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.access.get(token, 0.0) < time.time():
            return web.json_response({"message": "Unauthorized Access", "code": 101}, status=401)
        return await self._api(request)

    # --- OAuth v2 (blinkpy.api.oauth_*) ----------

    async def _oauth(self, request: web.Request) -> web.StreamResponse:
        path, form = request.path, await request.post()
        if path == "/oauth/token":
            return self._token(request, form)
        if path == "/oauth/v2/authorize" and "client_id" in request.query:
            hardware_id = request.query.get("hardware_id")
            if not _is_uuid(hardware_id):  # blinkpy: "Blink rejects non-UUID hardware_ids with a 406"
                return web.Response(
                    text="<html><h1>406 Not Acceptable</h1></html>", status=406, content_type="text/html"
                )
            session = secrets.token_hex(16)
            self._flows[session] = _Flow(str(hardware_id), request.query.get("code_challenge", ""))
            response = web.Response(text="<html>authorize</html>", content_type="text/html")
            response.set_cookie(SESSION_COOKIE, session, secure=True, httponly=True, path="/")
            return response
        flow = self._flows.get(request.cookies.get(SESSION_COOKIE, ""))
        if flow is None:
            return web.json_response({"message": "Session expired, please sign in again"}, status=400)
        if path == "/oauth/v2/authorize":
            if not flow.signed_in:
                return web.json_response({"message": "Not signed in"}, status=400)
            flow.auth_code = secrets.token_hex(8)
            raise web.HTTPFound(f"immedia-blink://applinks.blink.com/signin/callback?code={flow.auth_code}&state=s")
        if path == "/oauth/v2/signin" and request.method == "GET":
            args = json.dumps({"csrf-token": flow.csrf})
            return web.Response(
                text=f'<script id="oauth-args" type="application/json">{args}</script>', content_type="text/html"
            )
        if form.get("csrf-token") != flow.csrf:
            return web.json_response({"message": "Invalid CSRF token"}, status=403)
        if path == "/oauth/v2/signin":
            if form.get("password") != PASSWORD:
                return web.json_response({"message": "Invalid credentials"}, status=401)
            if self.two_factor:
                flow.code_2fa = f"{secrets.randbelow(10**6):06d}"
                self.sent_codes.append(flow.code_2fa)
                return web.json_response({"tsv_state": "required", "next_time_in_secs": 60}, status=202)
            flow.signed_in = True
            raise web.HTTPFound("/oauth/v2/authorize")
        if path == "/oauth/v2/2fa/verify":
            if flow.code_2fa is not None and form.get("2fa_code") == flow.code_2fa:
                flow.signed_in, flow.code_2fa = True, None
                return web.json_response({"status": "auth-completed"}, status=201)
            return web.json_response({"status": "invalid-code", "message": "Invalid verification code"}, status=400)
        return web.Response(status=404)

    def _token(self, request: web.Request, form: Any) -> web.Response:
        grant, refresh = form.get("grant_type"), str(form.get("refresh_token"))
        if grant == "authorization_code":
            flow = next((f for f in self._flows.values() if f.auth_code and f.auth_code == form.get("code")), None)
            verifier = str(form.get("code_verifier", ""))
            if flow is not None and form.get("hardware_id") == flow.hardware_id and _s256(verifier) == flow.challenge:
                flow.auth_code = None
                return web.json_response(self._issue(flow.hardware_id, None))
        elif grant == "refresh_token" and form.get("client_id") == "ios":  # OAuth v2: the id in the form
            if refresh in self.refresh and self.refresh[refresh] == form.get("hardware_id"):
                return web.json_response(self._issue(self.refresh.pop(refresh), "v2"))
        elif grant == "refresh_token" and self.refresh.get(refresh, "") == request.headers.get("hardware_id"):
            return web.json_response(self._issue(self.refresh.pop(refresh), "legacy"))  # blinkpy's own fallback grant
        return web.json_response({"error": "invalid_grant", "error_description": "Invalid refresh token"}, status=401)

    # --- the REST API ----------

    def _device_json(self, camera: FakeCamera) -> dict[str, Any]:
        product = {"catalina": "catalina", "owl": "owl", "lotus": "lotus"}[camera.kind]
        common: dict[str, Any] = {
            "id": camera.camera_id,
            "name": camera.name,
            "network_id": camera.network_id,
            "serial": camera.serial,
            "fw_version": "10.61",
            "enabled": self.armed,
            "status": "online",
            "type": product,
            "updated_at": datetime.now(UTC).isoformat(),
            "thumbnail": f"/api/v3/media/accounts/{ACCOUNT}/networks/{camera.network_id}/{product}/"
            f"{camera.camera_id}/thumbnail/thumbnail.jpg?ts={camera.thumbnail_ts}&ext=",
        }
        if camera.kind == "catalina":
            return {**common, "battery_voltage": 163, "battery_state": "ok", "wifi_strength": 4, "temperature": 70}
        if camera.kind == "owl":  # wired, no thermometer; Wi-Fi as an RSSI in dBm
            return {**common, "onboarded": True, "wifi_strength": -58}
        return {
            **common,
            "onboarded": True,
            "battery": "ok",
            "signals": {"lfr": 5, "wifi": 3, "temp": 68, "battery": 3},
        }

    def _home(self) -> dict[str, Any]:
        sync = {
            "id": SYNC,
            "network_id": NETWORK,
            "name": "Home",
            "local_storage_enabled": self.local_storage,
            "local_storage_compatible": True,
            "local_storage_status": "active" if self.local_storage else "unavailable",
        }
        return {
            "account": {"id": ACCOUNT},
            "networks": [{"id": NETWORK, "name": "Home", "armed": self.armed}],
            "sync_modules": [sync],
            "cameras": [self._device_json(d) for d in self.devices if d.kind == "catalina"],
            "owls": [self._device_json(d) for d in self.devices if d.kind == "owl"],
            "doorbells": [self._device_json(d) for d in self.devices if d.kind == "lotus"],
            "app_updates": {"message": "OK", "code": 103, "update_available": False, "update_required": False},
        }

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method, path = request.method, request.path
        manifests = f"/api/v1/accounts/{ACCOUNT}/networks/{NETWORK}/sync_modules/{SYNC}/local_storage/manifest"
        if path == "/api/v1/users/tier_info":
            return web.json_response({"tier": TIER, "account_id": ACCOUNT})
        if path == f"/api/v3/accounts/{ACCOUNT}/homescreen":
            return web.json_response(self._home(), headers={"Client-Id": "77", "User-Id": "88"})
        if path == "/networks":  # doorbells' networks have no Sync Module: blinkpy finds them in the home screen
            return web.json_response({"summary": {str(NETWORK): {"name": "Home", "onboarded": True}}})
        if path == "/api/v1/camera/usage":
            cams = [{"id": d.camera_id, "name": d.name} for d in self.devices if d.kind == "catalina"]
            return web.json_response({"networks": [{"network_id": NETWORK, "name": "Home", "cameras": cams}]})
        if path == f"/network/{NETWORK}/syncmodules":
            module = {"id": SYNC, "network_id": NETWORK, "serial": "A0000001", "status": "online", "fw_version": "4.4"}
            return web.json_response({"syncmodule": module})
        if path == f"/network/{NETWORK}/update":
            return web.json_response(
                {"network": {"id": NETWORK, "name": "Home", "armed": self.armed, "sync_module_error": False}}
            )
        if m := re.fullmatch(rf"/network/{NETWORK}/camera/(\d+)/(config|signals)", path):
            camera = self._by_id(int(m[1]), "catalina")
            if camera is None:
                return self._not_found()
            if m[2] == "config":
                return web.json_response({"camera": [self._device_json(camera)]})
            return web.json_response({"lfr": 5, "wifi": 4, "temp": 71, "battery": 3})
        if m := re.fullmatch(
            rf"(?:/network/{NETWORK}/camera|/api/v1/accounts/{ACCOUNT}/networks/\d+/(?:owls|doorbells))/(\d+)/thumbnail",
            path,
        ):
            camera = self._by_id(int(m[1]), None)
            if camera is None or method != "POST":
                return self._not_found()
            return self._command(camera.network_id, on_done=functools.partial(self._take_picture, camera))
        if m := re.fullmatch(
            rf"/api/v3/media/accounts/{ACCOUNT}/networks/\d+/\w+/(\d+)/thumbnail/thumbnail\.jpg", path
        ):
            camera = self._by_id(int(m[1]), None)
            ts = int(request.query.get("ts", "0") or 0)
            if camera is None or ts not in camera.pictures:
                return self._not_found()
            return web.Response(body=camera.pictures[ts], content_type="image/jpeg")
        if m := re.fullmatch(r"/network/(\d+)/command/(\d+)(/done/)?", path):
            return self._command_state(int(m[2]), bool(m[3]))
        if m := re.fullmatch(rf"/api/v1/accounts/{ACCOUNT}/networks/{NETWORK}/state/(arm|disarm)", path):
            self.armed = m[1] == "arm"
            return self._command(NETWORK)
        if path == f"/api/v1/accounts/{ACCOUNT}/media/changed":
            return self._media_page(request)
        if m := re.fullmatch(rf"/api/v2/accounts/{ACCOUNT}/media/clip/(\d+)\.mp4", path):
            clip = next((c for c in self.clips if c.clip_id == int(m[1]) and not c.local), None)
            return await self._body(request, clip)
        if path == f"{manifests}/request" and method == "POST":
            answer = self._command(NETWORK)
            self._manifests[max(self._commands)] = self._new_id()  # each request: a manifest with a new id
            return answer
        if m := re.fullmatch(rf"{manifests}/request/(\d+)", path):
            if int(m[1]) not in self._manifests:
                return self._not_found()
            self.manifest_id = self._manifests[int(m[1])]
            return web.json_response(
                {"version": "1.0", "manifest_id": str(self.manifest_id), "clips": self._manifest()}
            )
        if m := re.fullmatch(rf"{manifests}/(\d+)/clip/request/(\d+)", path):
            return await self._local_clip(request, int(m[1]), int(m[2]))
        if m := re.fullmatch(
            rf"/api/(?:v6/accounts/{ACCOUNT}/networks/\d+/cameras|v2/accounts/{ACCOUNT}/networks/\d+/(?:owls|doorbells))"
            r"/(\d+)/liveview",
            path,
        ):
            camera = self._by_id(int(m[1]), None)
            return self._not_found() if camera is None or method != "POST" else self._liveview(camera)
        return self._not_found()

    def _by_id(self, camera_id: int, kind: Kind | None) -> FakeCamera | None:
        return next((d for d in self.devices if d.camera_id == camera_id and kind in (None, d.kind)), None)

    @staticmethod
    def _not_found() -> web.Response:
        return web.json_response({"message": "Not Found", "code": 404}, status=404)

    def _command(self, network_id: int, *, on_done: Callable[[], None] | None = None) -> web.Response:
        """A command, done at its first status poll (running ``on_done`` then): Blink's answer to start it."""
        command_id = self._new_id()
        self._commands[command_id] = _Command(network_id, on_done=on_done)
        return web.json_response({"id": command_id, "network_id": network_id})

    def _command_state(self, command_id: int, done: bool) -> web.Response:
        command = self._commands.get(command_id)
        if command is None:
            return self._not_found()
        if done:
            command.running = False
            return web.json_response({"message": "Command done", "code": 902})
        command.polled_at.append(time.monotonic())
        if not command.running and command.on_done is not None:
            on_done, command.on_done = command.on_done, None
            on_done()
        state = "running" if command.running else "done"
        commands = [{"id": command_id, "state_condition": state, "state_stage": "vs" if command.running else "dev"}]
        return web.json_response({"status_code": 908, "complete": not command.running, "commands": commands})

    def _take_picture(self, camera: FakeCamera) -> None:
        picture = camera.next_picture or JPEG + f"{camera.name} picture {self._next_id}".encode() + b"\xff\xd9"
        camera.pictures[self._new_id()] = picture
        camera.next_picture = None

    def _manifest(self) -> list[dict[str, Any]]:
        return [
            {
                "id": str(c.clip_id),
                "size": str(len(c.body)),
                "camera_name": re.sub(r"\W+", "", c.camera),
                "created_at": c.created_utc.isoformat(),
            }
            for c in self.clips
            if c.local
        ]

    async def _local_clip(self, request: web.Request, manifest_id: int, clip_id: int) -> web.StreamResponse:
        clip = next((c for c in self.clips if c.clip_id == clip_id and c.local), None)
        if clip is None or manifest_id != self.manifest_id:
            return web.json_response({"message": "Media not found", "code": 404}, status=404)
        if request.method == "POST":  # the Sync Module uploads it to the cloud, which takes a while
            clip.upload_ready_at = asyncio.get_running_loop().time() + self.upload_delay_s
            return self._command(NETWORK)
        if clip.upload_ready_at is None or asyncio.get_running_loop().time() < clip.upload_ready_at:
            return web.json_response({"message": "Media not found", "code": 404}, status=404)
        return await self._body(request, clip)

    def _media_page(self, request: web.Request) -> web.Response:
        since = datetime.fromisoformat(request.query.get("since", "1970-01-01T00:00:00+0000").replace(" ", "+"))
        page = int(request.query.get("page", "1"))
        listed = sorted(
            (c for c in self.clips if not c.local and c.updated_utc is not None and c.updated_utc > since),
            key=lambda c: c.created_utc,
            reverse=True,
        )
        media = []
        for c in listed[(page - 1) * self.page_size : page * self.page_size]:
            device = next((d for d in self.devices if d.name == c.camera), None)
            kind = device.kind if device is not None else "catalina"
            media.append(
                {
                    "id": c.clip_id,
                    "created_at": c.created_utc.isoformat(),
                    "updated_at": (c.updated_utc or c.created_utc).isoformat(),
                    "deleted": c.deleted,
                    "device": {"catalina": "camera", "owl": "owl", "lotus": "doorbell"}[kind],
                    "device_id": device.camera_id if device is not None else 0,
                    "device_name": c.camera,
                    "network_id": device.network_id if device is not None else NETWORK,
                    "network_name": "Home" if device is None or device.kind != "lotus" else device.name,
                    "type": "video",
                    "source": "pir",
                    "watched": False,
                    "partial": False,
                    "media": f"/api/v2/accounts/{ACCOUNT}/media/clip/{c.clip_id}.mp4",
                    "thumbnail": f"/api/v2/accounts/{ACCOUNT}/media/thumb/{c.clip_id}",
                }
            )
        return web.json_response({"limit": self.page_size, "purge_id": 1, "refresh_count": 0, "media": media})

    async def _body(self, request: web.Request, clip: FakeClip | None) -> web.StreamResponse:
        if clip is None:
            return web.json_response({"message": "Media not found", "code": 404}, status=404)
        body = clip.body
        response = web.StreamResponse(headers={"Content-Length": str(len(body)), "Content-Type": "video/mp4"})
        await response.prepare(request)
        if self.cut_downloads > 0:
            self.cut_downloads -= 1
            await response.write(body[: len(body) // 2])
            assert request.transport is not None
            request.transport.close()
            return response
        pieces = max(1, min(len(body), 20)) if self.body_s > 0 or self.stall_s > 0 else 1
        step = -(-len(body) // pieces)
        for i in range(0, len(body), step):
            await response.write(body[i : i + step])
            if self.stall_s > 0 and i + step >= len(body) // 2:
                stall, self.stall_s = self.stall_s, 0.0
                if not await self._silent(request, stall):
                    return response  # the client gave up: nothing more to send
            elif self.body_s > 0:
                await asyncio.sleep(self.body_s / pieces)
        await response.write_eof()
        return response

    @staticmethod
    async def _silent(request: web.Request, seconds: float) -> bool:
        """Send nothing for ``seconds``; ``False`` as soon as the client hangs up instead."""
        until = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < until:
            if request.transport is None or request.transport.is_closing():
                return False
            await asyncio.sleep(0.05)
        return True

    def _liveview(self, camera: FakeCamera) -> web.Response:
        """blinkpy's fixture answer (tests/test_livestream.py): 15 s polls, a 300 s session to be continued."""
        command_id = self._new_id()
        self._commands[command_id] = _Command(camera.network_id, running=True)
        connection = secrets.token_hex(6).upper()[:10]
        self._live[connection] = (command_id, camera)
        server = f"immis://127.0.0.1:{self.immi_port}/{connection}__IMDS_{camera.serial}?client_id={IMMI_CLIENT_ID}"
        return web.json_response(
            {
                "command_id": command_id,
                "join_available": True,
                "join_state": "available",
                "server": server,
                "duration": 300,
                "extended_duration": 5400,
                "continue_interval": self.live_continue_s,
                "continue_warning": 0,
                "polling_interval": 15,
                "submit_logs": True,
                "new_command": True,
                "media_id": None,
                "options": {"poor_connection": False},
                "liveview_token": secrets.token_urlsafe(16),
            }
        )

    # --- IMMI ----------

    async def _immi(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One live session: check blinkpy's 122-byte header, play ``live_ts`` as IMMI packets, hang up."""
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            await self._play(reader, writer)
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2)

    async def _play(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            header = await reader.readexactly(122)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        serial = header[8:24].rstrip(b"\x00").decode(errors="replace")
        connection = header[102:118].rstrip(b"\x00").decode(errors="replace")
        client_id = int.from_bytes(header[24:28], "big")
        live = self._live.pop(connection, None)
        if live is None or live[1].serial[:16] != serial or client_id != IMMI_CLIENT_ID:
            return  # Blink hangs up on a header it does not know
        command = self._commands[live[0]]
        self.live_sessions += 1
        drain = asyncio.create_task(self._drain(reader))
        step = 188 * 7
        chunks = [self.live_ts[i : i + step] for i in range(0, len(self.live_ts), step)]
        pause = self.live_duration_s / max(1, len(chunks))
        try:
            for seq, chunk in enumerate(chunks):
                if drain.done():  # the client hung up
                    break
                writer.write(bytes([0]) + seq.to_bytes(4, "big") + len(chunk).to_bytes(4, "big") + chunk)
                await writer.drain()
                await asyncio.sleep(pause)
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            drain.cancel()
            command.running = False

    @staticmethod
    async def _drain(reader: asyncio.StreamReader) -> None:
        while await reader.read(1024):
            pass
