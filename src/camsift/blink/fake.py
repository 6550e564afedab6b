"""`FakeBlink`: Blink's HTTP API and IMMI live-view server, played on loopback, for tests and ``bench/blink.py``.

The real blinkpy code runs against it unchanged: the client's connector
(`FakeBlink.connector`, through `camsift.blink.client.default_connector`)
resolves every Blink host name to this server and trusts its test CA
(made by ``trustme``, a dev dependency). Answers follow the shapes of
blinkpy's code and test suite (OAuth v2 with PKCE and 2FA, ``homescreen``,
``networks``, ``camera/usage``, ``media/changed`` pages, local-storage
manifest commands, ``liveview``); the bodies of clips are whatever the test
gives (real clips from ``../shared/data``).

Faults a test can script: any answer for a path (``fail``: 401, 429 with
``Retry-After``, 500 …, or a body that is not what Blink should send, such
as a maintenance page), a clip download cut off halfway (``cut_downloads``),
a wrong password or 2FA code, a revoked refresh token (``revoke``).

Example:
    >>> with FakeBlink() as fake:  # doctest: +SKIP
    ...     fake.add_clip("Front Door", Path("walk.mp4").read_bytes())
    ...     camsift.blink.client.default_connector = fake.connector
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import TCPConnector, web
from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = ["FakeBlink", "FakeClip", "Fault"]

ACCOUNT = 1111
NETWORK = 2222
SYNC = 4444
TIER = "u011"
PASSWORD = "correct horse"  # noqa: S105 - the fake account's password
CODE_2FA = "123456"


@dataclass
class FakeClip:
    """A clip the fake account holds."""

    clip_id: int
    camera: str
    created_utc: datetime
    body: bytes
    local: bool = False
    deleted: bool = False
    uploaded: bool = False


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


class FakeBlink:
    """One fake Blink account (network ``Home``, Sync Module 2, cameras) served over TLS on loopback.

    Args:
        cameras: Camera names.
        two_factor: Sign-in asks for the 2FA code `CODE_2FA`.
        local_storage: The Sync Module has an active USB stick.
        page_size: Clips per ``media/changed`` page (Blink: about 25).
        expires_in: Lifetime in seconds of access tokens it issues.

    Attributes:
        requests: ``(method, path)`` of every HTTP request, in order.
        live_ts: MPEG-TS bytes a live session plays once (then Blink "ends the session").
        live_duration_s: Seconds that playing takes (the pace of the IMMI packets).
    """

    def __init__(
        self,
        cameras: tuple[str, ...] = ("Front Door",),
        *,
        two_factor: bool = False,
        local_storage: bool = True,
        page_size: int = 25,
        expires_in: int = 3600,
    ) -> None:
        self.cameras = list(cameras)
        self.two_factor, self.local_storage, self.page_size, self.expires_in = (
            two_factor,
            local_storage,
            page_size,
            expires_in,
        )
        self.clips: list[FakeClip] = []
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.cut_downloads = 0
        self.armed = True
        self.picture = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"
        self.live_ts = b""
        self.live_duration_s = 1.0
        self.live_sessions = 0
        self.access: set[str] = set()
        self.refresh: dict[str, str] = {}  # refresh token -> hardware id
        self._signed_in = False
        self._awaiting_code = False
        self._next_id = 100
        self._live_commands: dict[int, bool] = {}  # command id -> still running
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

    def add_clip(
        self, camera: str, body: bytes, created_utc: datetime | None = None, *, local: bool = False
    ) -> FakeClip:
        """Give the account a motion clip (in the cloud, or on the Sync Module's USB stick with ``local``)."""
        clip = FakeClip(self._new_id(), camera, created_utc or datetime.now(UTC) - timedelta(minutes=1), body, local)
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

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

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

    def _issue(self, hardware_id: str) -> dict[str, Any]:
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self.access.add(access)
        self.refresh[refresh] = hardware_id
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
                    {"message": "fault", "code": fault.status}, status=fault.status, headers=fault.headers
                )
        if request.host.startswith("api.oauth."):
            return await self._oauth(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access:
            return web.json_response({"message": "Unauthorized Access", "code": 101}, status=401)
        return await self._api(request)

    async def _oauth(self, request: web.Request) -> web.StreamResponse:
        path, form = request.path, await request.post()
        if path == "/oauth/v2/authorize":
            if "client_id" in request.query:
                self._signed_in = False
                return web.Response(text="<html>authorize</html>", content_type="text/html")
            if not self._signed_in:
                return web.Response(status=400)
            raise web.HTTPFound("immedia-blink://applinks.blink.com/signin/callback?code=CODE1&state=s")
        if path == "/oauth/v2/signin" and request.method == "GET":
            args = json.dumps({"csrf-token": "CSRF1"})
            return web.Response(
                text=f'<script id="oauth-args" type="application/json">{args}</script>', content_type="text/html"
            )
        if path == "/oauth/v2/signin":
            if form.get("password") != PASSWORD or form.get("csrf-token") != "CSRF1":
                return web.json_response({"message": "Invalid credentials"}, status=401)
            if self.two_factor:
                self._awaiting_code = True
                return web.json_response({"tsv_state": "required", "next_time_in_secs": 60}, status=202)
            self._signed_in = True
            raise web.HTTPFound("/oauth/v2/authorize")
        if path == "/oauth/v2/2fa/verify":
            if self._awaiting_code and form.get("2fa_code") == CODE_2FA:
                self._signed_in, self._awaiting_code = True, False
                return web.json_response({"status": "auth-completed"}, status=201)
            return web.json_response({"status": "invalid-code"}, status=400)
        if path == "/oauth/token":
            grant = form.get("grant_type")
            if grant == "authorization_code" and form.get("code") == "CODE1" and self._signed_in:
                self._signed_in = False
                return web.json_response(self._issue(str(form.get("hardware_id"))))
            if grant == "refresh_token" and self.refresh.get(str(form.get("refresh_token"))) == form.get("hardware_id"):
                del self.refresh[str(form.get("refresh_token"))]
                return web.json_response(self._issue(str(form.get("hardware_id"))))
            return web.json_response({"error": "invalid_grant"}, status=401)
        return web.Response(status=404)

    def _camera(self, name: str, index: int) -> dict[str, Any]:
        return {
            "id": 3333 + index,
            "name": name,
            "network_id": NETWORK,
            "serial": f"G8T00000{index}",
            "fw_version": "10.61",
            "enabled": self.armed,
            "battery_voltage": 163,
            "battery_state": "ok",
            "wifi_strength": 4,
            "temperature": 70,
            "type": "catalina",
            "status": "online",
            "thumbnail": f"/api/v3/media/accounts/{ACCOUNT}/networks/{NETWORK}/catalina/{3333 + index}/thumbnail/"
            f"thumbnail.jpg?ts={self._next_id}&ext=",
        }

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method, path = request.method, request.path
        base = f"/api/v1/accounts/{ACCOUNT}/networks/{NETWORK}/sync_modules/{SYNC}/local_storage/manifest"
        if path == "/api/v1/users/tier_info":
            return web.json_response({"tier": TIER, "account_id": ACCOUNT})
        if path == f"/api/v3/accounts/{ACCOUNT}/homescreen":
            sync = {
                "id": SYNC,
                "network_id": NETWORK,
                "name": "Home",
                "local_storage_enabled": self.local_storage,
                "local_storage_compatible": True,
                "local_storage_status": "active" if self.local_storage else "unavailable",
            }
            home = {"account": {"id": ACCOUNT}, "sync_modules": [sync], "owls": [], "doorbells": []}
            return web.json_response(home, headers={"Client-Id": "77", "User-Id": "88"})
        if path == "/networks":
            return web.json_response({"summary": {str(NETWORK): {"name": "Home", "onboarded": True}}})
        if path == "/api/v1/camera/usage":
            cams = [{"id": 3333 + i, "name": n} for i, n in enumerate(self.cameras)]
            return web.json_response({"networks": [{"network_id": NETWORK, "name": "Home", "cameras": cams}]})
        if path == f"/network/{NETWORK}/syncmodules":
            module = {"id": SYNC, "network_id": NETWORK, "serial": "A0000001", "status": "online", "fw_version": "4.4"}
            return web.json_response({"syncmodule": module})
        if path == f"/network/{NETWORK}/update":
            return web.json_response(
                {"network": {"id": NETWORK, "name": "Home", "armed": self.armed, "sync_module_error": False}}
            )
        if m := re.fullmatch(rf"/network/{NETWORK}/camera/(\d+)/(config|signals|thumbnail)", path):
            index = int(m[1]) - 3333
            if m[2] == "config":
                return web.json_response({"camera": [self._camera(self.cameras[index], index)]})
            if m[2] == "signals":
                return web.json_response({"lfr": 5, "wifi": 4, "temp": 71, "battery": 3})
            return self._command()
        if "/thumbnail/thumbnail.jpg" in path:
            return web.Response(body=self.picture, content_type="image/jpeg")
        if m := re.fullmatch(rf"/network/{NETWORK}/command/(\d+)(/done/)?", path):
            running = self._live_commands.get(int(m[1]), False)
            if m[2]:
                self._live_commands[int(m[1])] = False
                return web.json_response({"message": "done"})
            commands = [{"id": int(m[1]), "state_condition": "running" if running else "done"}]
            return web.json_response({"status_code": 908, "complete": not running, "commands": commands})
        if m := re.fullmatch(rf"/api/v1/accounts/{ACCOUNT}/networks/{NETWORK}/state/(arm|disarm)", path):
            self.armed = m[1] == "arm"
            return self._command()
        if path == f"/api/v1/accounts/{ACCOUNT}/media/changed":
            return self._media_page(request)
        if m := re.fullmatch(rf"/api/v2/accounts/{ACCOUNT}/media/clip/(\d+)\.mp4", path):
            return await self._body(request, next((c for c in self.clips if c.clip_id == int(m[1])), None))
        if path == f"{base}/request" and method == "POST":
            return self._command()
        if re.fullmatch(rf"{base}/request/\d+", path):
            return web.json_response({"version": "1.0", "manifest_id": "6666", "clips": self._manifest()})
        if m := re.fullmatch(rf"{base}/6666/clip/request/(\d+)", path):
            clip = next((c for c in self.clips if c.clip_id == int(m[1]) and c.local), None)
            if method == "POST" and clip is not None:
                clip.uploaded = True
                return self._command()
            return await self._body(request, clip if clip is not None and clip.uploaded else None)
        if re.fullmatch(rf"/api/v6/accounts/{ACCOUNT}/networks/{NETWORK}/cameras/\d+/liveview", path):
            command = self._new_id()
            self._live_commands[command] = True
            server = f"immis://127.0.0.1:{self.immi_port}/ABCDEFGHIJ__IMDS_G8T000000?client_id=123"
            return web.json_response({"command_id": command, "polling_interval": 1, "server": server, "duration": 300})
        return web.json_response({"message": "not found", "code": 404}, status=404)

    def _command(self) -> web.Response:
        return web.json_response({"id": self._new_id(), "network_id": NETWORK})

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

    def _media_page(self, request: web.Request) -> web.Response:
        since = datetime.fromisoformat(request.query.get("since", "1970-01-01T00:00:00+0000").replace(" ", "+"))
        page = int(request.query.get("page", "1"))
        listed = sorted(
            (c for c in self.clips if not c.local and c.created_utc > since), key=lambda c: c.created_utc, reverse=True
        )
        chunk = listed[(page - 1) * self.page_size : page * self.page_size]
        media = [
            {
                "id": c.clip_id,
                "created_at": c.created_utc.isoformat(),
                "updated_at": c.created_utc.isoformat(),
                "deleted": c.deleted,
                "device": "camera",
                "device_id": 3333 + self.cameras.index(c.camera) if c.camera in self.cameras else 0,
                "device_name": c.camera,
                "network_id": NETWORK,
                "network_name": "Home",
                "type": "video",
                "source": "pir",
                "watched": False,
                "partial": False,
                "media": f"/api/v2/accounts/{ACCOUNT}/media/clip/{c.clip_id}.mp4",
                "thumbnail": f"/api/v2/accounts/{ACCOUNT}/media/thumb/{c.clip_id}",
            }
            for c in chunk
        ]
        return web.json_response({"limit": self.page_size, "purge_id": 1, "refresh_count": 0, "media": media})

    async def _body(self, request: web.Request, clip: FakeClip | None) -> web.StreamResponse:
        if clip is None:
            return web.json_response({"message": "not found", "code": 404}, status=404)
        if self.cut_downloads <= 0:
            return web.Response(body=clip.body, content_type="video/mp4")
        self.cut_downloads -= 1
        response = web.StreamResponse(headers={"Content-Length": str(len(clip.body)), "Content-Type": "video/mp4"})
        await response.prepare(request)
        await response.write(clip.body[: len(clip.body) // 2])
        assert request.transport is not None
        request.transport.close()
        return response

    async def _immi(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One live session: read blinkpy's 122-byte auth header, play ``live_ts`` as IMMI packets, hang up."""
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
            await reader.readexactly(122)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
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
            for command in self._live_commands:
                self._live_commands[command] = False

    @staticmethod
    async def _drain(reader: asyncio.StreamReader) -> None:
        while await reader.read(1024):
            pass
