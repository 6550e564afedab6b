"""`BlinkClient`: one Blink account through blinkpy, with camsift's types, errors and manners.

blinkpy (the library Home Assistant's Blink integration uses) speaks Blink's
unofficial HTTP API with aiohttp. It is untyped, returns raw dicts, and turns
most failures into ``None`` and a log line. This module is the only place
that touches it: everything leaving it is a camsift dataclass or a camsift
error.

One aiohttp client middleware watches every request blinkpy (and camsift)
makes:

- HTTP 429 and 5xx raise `RateLimitError` carrying ``Retry-After`` (the
  caller backs off; blinkpy would have retried or carried on blindly);
- a network failure raises `SourceError` (blinkpy would return ``None``);
- 401 on a request that carries the token raises `AuthError` ("login needed");
- any other refusal (4xx) is remembered with Blink's own message, so a failed
  sign-in, snapshot or live view says why.

Requests whose answer camsift must judge itself go around blinkpy, on the
same session: the clip list (an answer that is not a list of clips is an
error, never "no more clips"), and clip downloads (streamed with a time limit
for silence, `_INACTIVITY_S`, not for the whole clip as blinkpy's 10 s).

The login token is renewed with blinkpy's OAuth v2 refresh (the grant the
Blink app uses) 10 minutes (`_REFRESH_MARGIN_S`) before it expires: before
each request camsift makes, so a long pass never leaves it to blinkpy, and
saved at once, since Blink rotates refresh tokens. Should blinkpy renew it
itself all the same, its callback saves that token too. An answer to the
renewal that is not a token (a web page, broken JSON) is `AuthError`.
blinkpy's own log lines that could hold a token are withheld.

Example:
    >>> async def main() -> None:
    ...     async with BlinkClient(Path("camsift-data/blink/token.json")) as client:
    ...         await client.connect()
    ...         print([c.summary() for c in client.status().cameras])
    >>> asyncio.run(main())  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import re
import string
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from camsift.blink.models import (
    AccountStatus,
    CameraStatus,
    ClipListing,
    RemoteClip,
    SyncModuleStatus,
    celsius,
    parse_time,
    safe_name,
    wifi_reading,
)
from camsift.blink.tokens import drop_pending, load_pending, load_token, save_pending, save_token
from camsift.errors import AuthError, RateLimitError, SourceError
from camsift.layout import recording_path
from camsift.logs import get_logger

try:
    import aiohttp
    from blinkpy import api
    from blinkpy.auth import Auth, BlinkTwoFARequiredError, LoginError, TokenRefreshFailed, UnauthorizedError
    from blinkpy.blinkpy import Blink, BlinkSetupError
    from blinkpy.helpers.constants import OAUTH_BASE_URL
    from blinkpy.helpers.util import get_time, local_storage_clip_url_template, to_alphanumeric
    from blinkpy.livestream import BlinkLiveStream
    from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential
    from yarl import URL
except ImportError as err:  # pragma: no cover - depends on the install
    raise SourceError("Blink support needs blinkpy: pip install 'camsift[blink]'") from err

__all__ = ["BlinkClient", "ConnectorFactory", "LiveView", "default_connector", "retry_after_s"]

log = get_logger("camsift.blink")

ConnectorFactory = Callable[[], aiohttp.BaseConnector]
"""Makes the connector of the client's HTTP session (tests point Blink's host names at a local fake)."""

default_connector: ConnectorFactory | None = None
"""The transport seam: the connector factory of clients made without one (``None``: aiohttp's own).
The tests and the Blink benchmarks set it to their fake Blink server's connector."""

_REFRESH_MARGIN_S = 600.0
"""Renew the access token when it has less than this left: more than a live session lasts (about 5 minutes),
so blinkpy's own renewal inside a request (60 s before the end, with an older grant) never has to run."""

_MAX_PAGES = 20
"""Pages of ``media/changed`` read at most in one listing (Blink sends 25 clips a page, or 500)."""

_PAGE_PAUSE_S = 1.0
"""Pause between two pages of the clip list."""

_INACTIVITY_S = 30.0
"""A download (or the clip list) that brings no byte for this long is given up; the whole clip may take as long
as it needs (a 10 MB clip over a slow uplink: minutes)."""

_UPLOAD_TRIES = 5
"""Downloads of a USB clip tried while Blink says "Media not found" (the Sync Module is still uploading it)."""

_UPLOAD_WAIT_S = 3.0
"""Wait before the second try, doubling after each (3, 6, 12, 24 s: blinkpy's ``download_video`` waits so too)."""

_SNAPSHOT_TRIES = 4
"""Looks for the new thumbnail after a snapshot command (Blink may list it a moment after the command is done)."""

_SNAPSHOT_WAIT_S = 1.0
"""Wait before the second look, doubling after each."""

_COOKIE_URL = URL(OAUTH_BASE_URL)
"""The sign-in host whose session cookies a pending sign-in keeps."""


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by an HTTP ``Retry-After`` header (delta-seconds or an HTTP date; RFC 9110 §10.2.3)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Withhold(logging.Filter):
    """Drops blinkpy log records that may quote a login response or a token."""

    _MARKS = ("access_token", "refresh_token", "Bearer ", "login response", "password")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            return False
        return not any(mark in text for mark in self._MARKS)


for _name in (
    "blinkpy.auth",
    "blinkpy.api",
    "blinkpy.blinkpy",
    "blinkpy.sync_module",
    "blinkpy.camera",
    "blinkpy.livestream",
    "blinkpy.helpers.util",
):  # a logger's filters see only its own records
    if not any(isinstance(f, _Withhold) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(_Withhold())


@dataclass(frozen=True)
class _Refusal:
    """A 4xx answer: what camsift can tell the user about it."""

    status: int
    reason: str
    where: str
    message: str
    sign_in: bool

    def __str__(self) -> str:
        said = f": {self.message}" if self.message and self.message != self.reason else ""
        return f"{self.status} {self.reason}{said}".strip()


@dataclass(frozen=True)
class LiveView:
    """A live session Blink granted.

    Attributes:
        stream: blinkpy's IMMI relay for it (not started).
        polling_s: How often Blink wants its command polled (``polling_interval``: 15 s in blinkpy's fixtures).
        continue_s: How long the session lasts unless continued (``continue_interval``, else ``duration``: 300 s).
    """

    stream: BlinkLiveStream
    polling_s: float
    continue_s: float


class _NotUploadedError(SourceError):
    """Blink has no copy of a USB clip yet (the Sync Module is still uploading it)."""


class _OldPictureError(SourceError):
    """Blink still shows the thumbnail from before the snapshot."""


def _patiently(error: type[SourceError], first_wait_s: float, tries: int) -> AsyncRetrying:
    """Tries again while ``error`` is raised: ``tries`` times in all, waits doubling from ``first_wait_s``; the last
    ``error`` is raised when they are used up."""
    return AsyncRetrying(
        retry=retry_if_exception_type(error),
        wait=wait_exponential(multiplier=first_wait_s),
        stop=stop_after_attempt(tries),
        reraise=True,
    )


def _message(body: bytes) -> str:
    """Blink's reason in an error body: a JSON ``message`` (or OAuth's ``error_description``), or the text of a
    web page, on one short line."""
    text = body.decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError):
        doc = json.loads(text)
        if isinstance(doc, dict):
            for key in ("message", "error_description", "error", "status"):
                if isinstance(doc.get(key), str) and doc[key]:
                    return str(doc[key])[:160]
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())[:160]


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "armed", "disarmed"):
        return value.lower() in ("true", "armed")
    if isinstance(value, int):
        return bool(value)
    return None


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _online(status: object) -> bool:
    return status is True or str(status).lower() in ("online", "done", "true")


class BlinkClient:
    """One Blink account, opened from its token file (or logged in afresh). Use as ``async with``.

    Args:
        token_file: The login token (`camsift.blink.tokens`); written on login and on every renewal.
        connector: Makes the HTTP connector; default aiohttp's (tests pass one that resolves to a fake).

    Attributes:
        blink: The blinkpy ``Blink`` object (only `camsift.blink` modules may touch it).
    """

    def __init__(self, token_file: Path, *, connector: ConnectorFactory | None = None) -> None:
        self.token_file = token_file
        self._connector = connector
        self._session: aiohttp.ClientSession | None = None
        self.blink: Any = None
        self._token_mtime: float | None = None
        self._local: dict[str, Any] = {}  # USB clip id -> its Sync Module (blinkpy's)
        self._manifests: dict[str, str] = {}  # network id -> id of its Sync Module's newest manifest
        self._last_motion: dict[tuple[str, str], datetime] = {}  # (network, camera) -> newest clip seen
        self._renewing = asyncio.Lock()
        self._refusal: _Refusal | None = None

    async def __aenter__(self) -> BlinkClient:
        factory = self._connector or default_connector
        connector = factory() if factory is not None else None
        self._session = aiohttp.ClientSession(connector=connector, middlewares=(self._guard,))
        self.blink = Blink(session=self._session, refresh_rate=30, motion_interval=0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _guard(
        self,
        request: aiohttp.ClientRequest,
        handler: Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]],
    ) -> aiohttp.ClientResponse:
        """The client middleware: Blink's refusals and outages become camsift errors (see the module docstring)."""
        where = f"{request.method} {request.url.host}{request.url.path}"
        try:
            response = await handler(request)
        except (aiohttp.ClientConnectionError, TimeoutError) as err:
            raise SourceError(f"cannot reach Blink ({where}): {type(err).__name__}") from err
        if response.status == 429 or response.status >= 500:
            wait = retry_after_s(response.headers.get("Retry-After"))
            response.release()
            asked = f" (it asks to wait {wait:.0f} s)" if wait is not None else ""
            raise RateLimitError(f"Blink answered {response.status} {response.reason or ''} to {where}{asked}", wait)
        if response.status == 401 and "Authorization" in request.headers:
            response.release()
            raise AuthError("Blink refused the saved login (401): login needed, run 'camsift blink login'")
        if response.status >= 400:
            body = await response.read()  # kept by aiohttp: blinkpy can still read it
            sign_in = request.url.host == _COOKIE_URL.host
            self._refusal = _Refusal(response.status, response.reason or "", where, _message(body), sign_in)
        return response

    @property
    def connected(self) -> bool:
        """Networks and cameras are loaded (`connect` or `login` succeeded, and no `invalidate` since)."""
        return bool(self.blink is not None and self.blink.available)

    def invalidate(self) -> None:
        """Forget that the account is loaded, so the next poll connects again (after Blink failed or refused)."""
        if self.blink is not None:
            self.blink.available = False

    @property
    def account_id(self) -> str:
        """Blink's account id (``"unknown"`` before connecting)."""
        value = self.blink.auth.account_id if self.blink is not None else None
        return str(value) if value is not None else "unknown"

    def token_changed(self) -> bool:
        """The token file was replaced since it was read (a new ``camsift blink login``)."""
        try:
            mtime = self.token_file.stat().st_mtime
        except OSError:
            return self._token_mtime is not None
        return mtime != self._token_mtime

    # --- login and connection ----------

    def _new_auth(self, data: dict[str, Any]) -> Any:
        """A blinkpy ``Auth`` on this session whose own token renewals are saved (`_renewed_by_blinkpy`)."""
        return Auth(data, no_prompt=True, session=self._session, callback=self._renewed_by_blinkpy)

    def _renewed_by_blinkpy(self) -> None:
        """blinkpy's callback after it renewed the token inside a request: Blink rotated the refresh token, so
        the new one is saved at once (the old one no longer works)."""
        log.info("blink token renewed by blinkpy; saved", expires_in_s=self.blink.auth.expires_in)
        self._save()

    def _refused(self, what: str, fallback: str) -> str:
        """Why a sign-in step failed, from the last refusal Blink sent (one line)."""
        r, self._refusal = self._refusal, None
        if r is None or not r.sign_in:
            return f"{what}: {fallback}"
        if r.status == 401:
            return f"{what}: wrong e-mail or password (Blink: {r.message or r.reason})"
        if r.status == 406:
            return f"{what}: Blink's edge refused the request ({r}); try again later, and update blinkpy if it persists"
        return f"{what}: Blink answered {r}"

    async def login(self, email: str, password: str) -> bool:
        """Sign in with e-mail and password: step one of two when Blink asks for a two-factor code.

        Args:
            email: The Blink account's e-mail.
            password: Its password (used for this request only; never stored or logged).

        Returns:
            ``True``: logged in (token saved, account loaded). ``False``: Blink sent a two-factor code (e-mail or
            SMS); the sign-in waits for it in the pending file (`camsift.blink.tokens`): finish with `verify`.

        Raises:
            AuthError: Blink refused the sign-in (the reason Blink gave: wrong password, 406 from its edge …).
            RateLimitError, SourceError: Blink is unreachable or asks to slow down.
        """
        drop_pending(self.token_file)
        self._refusal = None
        self.blink.auth = self._new_auth({"username": email, "password": password})
        try:
            ok = await self.blink.start()
        except BlinkTwoFARequiredError:
            self._keep_pending()
            return False
        finally:
            for secret in ("password", "username"):
                self.blink.auth.data.pop(secret, None)
        if not ok or not self.blink.auth.refresh_token:
            raise AuthError(self._refused("Blink rejected the login", "the sign-in did not complete (no reason given)"))
        self._logged_in()
        return True

    def _keep_pending(self) -> None:
        """Save what finishing the sign-in needs in another process (never the password)."""
        auth = self.blink.auth
        assert self._session is not None
        cookies = {name: morsel.value for name, morsel in self._session.cookie_jar.filter_cookies(_COOKIE_URL).items()}
        save_pending(
            self.token_file,
            {
                "hardware_id": auth.hardware_id,
                "csrf_token": auth._oauth_csrf_token,  # blinkpy keeps the 2FA state only in these
                "code_verifier": auth._oauth_code_verifier,
                "cookies": cookies,
                "started_utc": datetime.now(UTC).isoformat(),
            },
        )

    async def verify(self, code: str) -> None:
        """Finish a sign-in waiting for its two-factor code (step two of `login`), in any process.

        Raises:
            AuthError: no sign-in waits for a code, or Blink refused the code (the pending sign-in is kept, so
                a mistyped code can be given again).
            RateLimitError, SourceError: Blink is unreachable or asks to slow down.
        """
        pending = load_pending(self.token_file)
        assert self._session is not None
        cookies = pending.get("cookies")
        if isinstance(cookies, dict):
            self._session.cookie_jar.update_cookies({str(k): str(v) for k, v in cookies.items()}, _COOKIE_URL)
        self._refusal = None
        self.blink.auth = self._new_auth({"hardware_id": pending["hardware_id"]})
        self.blink.auth._oauth_csrf_token = pending["csrf_token"]
        self.blink.auth._oauth_code_verifier = pending["code_verifier"]
        if not await self.blink.send_2fa_code(code.strip()) or not self.blink.auth.refresh_token:
            raise AuthError(
                self._refused(
                    "Blink did not accept the two-factor code",
                    "wrong, expired or already used; 'camsift blink login' sends a new one",
                )
            )
        self._logged_in()

    def _logged_in(self) -> None:
        self._save()
        drop_pending(self.token_file)
        self.blink.last_refresh = int(time.time())

    async def connect(self) -> None:
        """Open the account from the token file: renew the token if due, then load networks and cameras.

        Raises:
            AuthError: no token file, or Blink refuses it (login needed).
            RateLimitError, SourceError: Blink is unreachable, slow down, or answered something unreadable.
        """
        try:
            self._token_mtime = self.token_file.stat().st_mtime
        except OSError:
            self._token_mtime = None
        attributes = load_token(self.token_file)
        self.blink = Blink(session=self._session, refresh_rate=30, motion_interval=0)
        self.blink.auth = self._new_auth(dict(attributes))
        self._local.clear()
        self._manifests.clear()
        await self.renew_token()
        try:
            self.blink.setup_urls()
            await self.blink.get_homescreen()
            ok = await self.blink.setup_post_verify()
        except UnauthorizedError as err:
            raise AuthError("Blink refused the saved login: login needed, run 'camsift blink login'") from err
        except (BlinkSetupError, KeyError, TypeError, AttributeError, ValueError) as err:
            raise SourceError(
                f"Blink answered something camsift cannot read while loading the account: {err!r}"
            ) from err
        if not ok:
            raise SourceError("Blink answered something camsift cannot read while listing networks and cameras")
        self.blink.last_refresh = int(time.time())

    async def renew_token(self, force: bool = False) -> bool:
        """Renew the access token if it expires within 10 minutes (or ``force``); returns whether it did.

        Called before every request camsift makes, so it costs nothing when the token is fresh. Blink rotates
        refresh tokens, so two processes sharing the token file (the service and a ``camsift blink`` command)
        must not both renew with the same one: renewal holds ``<token file>.lock``, and a token another process
        saved meanwhile is taken instead of asking Blink again.

        Raises:
            AuthError: Blink refused the refresh token (expired or revoked: login needed).
        """
        auth = self.blink.auth
        if not force and auth.token and (auth.expiration_date or 0) - time.time() > _REFRESH_MARGIN_S:
            return False
        async with self._token_lock():
            if self._adopt_saved() and not force and (auth.expiration_date or 0) - time.time() > _REFRESH_MARGIN_S:
                return False
            try:
                data = await api.oauth_refresh_token(auth, auth.refresh_token, auth.hardware_id)
            except (aiohttp.ContentTypeError, ValueError) as err:  # ValueError: JSON that does not parse
                raise AuthError(
                    "Blink answered the token renewal with something that is not a token (not JSON): "
                    "login needed, run 'camsift blink login'"
                ) from err
            if not isinstance(data, dict) or not data.get("access_token"):
                raise AuthError("Blink refused to renew the saved login (expired, revoked): run 'camsift blink login'")
            auth.token = data["access_token"]
            auth.refresh_token = data.get("refresh_token") or auth.refresh_token
            auth.expires_in = _int(data.get("expires_in")) or 3600
            auth.expiration_date = time.time() + auth.expires_in
            if not auth.region_id or not auth.account_id:
                auth.tier_info = await auth.get_tier_info()
                auth.extract_tier_info()
            self._save()
        log.info("blink token renewed", expires_in_s=auth.expires_in)
        return True

    @contextlib.asynccontextmanager
    async def _token_lock(self) -> AsyncIterator[None]:
        """This client's renewals one at a time, and across processes through ``fcntl.flock`` (polled: never blocks
        the event loop)."""
        async with self._renewing:
            lock = self.token_file.with_name(self.token_file.name + ".lock")
            lock.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        await asyncio.sleep(0.1)
                yield
            finally:
                os.close(fd)

    def _adopt_saved(self) -> bool:
        """Take the token from the file if another process saved a newer one; returns whether it did."""
        if not self.token_changed():
            return False
        try:
            saved = load_token(self.token_file)
        except AuthError:
            return False
        auth = self.blink.auth
        if saved["refresh_token"] == auth.refresh_token:
            return False
        for key, value in saved.items():  # the names of blinkpy's Auth attributes (a new login: a new hardware id)
            setattr(auth, key, value)
        self._token_mtime = self.token_file.stat().st_mtime
        return True

    def _save(self) -> None:
        save_token(self.token_file, self.blink.auth.login_attributes)
        self._token_mtime = self.token_file.stat().st_mtime

    async def _call(self, what: str, step: Awaitable[Any]) -> Any:
        """Await one blinkpy step, turning its exceptions into camsift's."""
        try:
            return await step
        except (UnauthorizedError, TokenRefreshFailed, LoginError) as err:
            raise AuthError("Blink refused the saved login: login needed, run 'camsift blink login'") from err
        except (KeyError, TypeError, AttributeError, ValueError) as err:
            raise SourceError(f"Blink answered something camsift cannot read ({what}): {err!r}") from err

    @contextlib.asynccontextmanager
    async def _get(self, address: str) -> AsyncIterator[aiohttp.ClientResponse]:
        """GET ``address`` (a path on the account's API host, or a whole URL) with the token renewed if due, given
        up after `_INACTIVITY_S` without a byte (never for taking long)."""
        await self.renew_token()
        assert self._session is not None
        url = address if address.startswith("https://") else f"{self.blink.urls.base_url}{address}"
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=_INACTIVITY_S, sock_read=_INACTIVITY_S)
        async with self._session.get(url, headers=self.blink.auth.header, timeout=timeout) as response:
            yield response

    def _why(self, fallback: str) -> str:
        """Blink's last refusal as a reason (``fallback`` when it sent none)."""
        r, self._refusal = self._refusal, None
        return f"Blink answered {r}" if r is not None else fallback

    # --- status ----------

    async def refresh_status(self) -> None:
        """Ask Blink again for arm state, battery, temperature and signals (no thumbnails, no clips).

        About 2 + 2 per camera requests: the part of blinkpy's ``Blink.refresh`` that reads state.
        """
        await self.renew_token()
        await self._call("home screen", self.blink.get_homescreen())
        for sync in list(self.blink.sync.values()):
            await self._call("network state", sync.get_network_info())
            for name, camera in list(sync.cameras.items()):
                info = await self._call(
                    "camera config", sync.get_camera_info(camera.camera_id, unique_info=sync.get_unique_info(name))
                )
                if info:
                    camera.extract_config_info(info)
                    await self._call("camera signals", camera.get_sensor_info())

    def status(self) -> AccountStatus:
        """What blinkpy last learnt, as camsift types (no request)."""
        networks: list[SyncModuleStatus] = []
        cameras: list[CameraStatus] = []
        for sync in self.blink.sync.values():
            networks.append(
                SyncModuleStatus(
                    name=str(sync.name),
                    network_id=str(sync.network_id),
                    sync_id=None if sync.sync_id is None else str(sync.sync_id),
                    serial=sync.serial,
                    online=_online(sync.status),
                    armed=_bool(sync.arm),
                    local_storage=bool(sync.local_storage),
                    firmware=sync.version,
                )
            )
            for name, camera in sync.cameras.items():
                volts = _float(camera.battery_voltage)
                signals = (sync.get_unique_info(name) or {}).get("signals") or {}  # doorbells: Wi-Fi only here
                wifi, unit = wifi_reading(
                    camera.wifi_strength if camera.wifi_strength is not None else signals.get("wifi")
                )
                cameras.append(
                    CameraStatus(
                        name=str(name),
                        camera=safe_name(str(name)),
                        camera_id=str(camera.camera_id),
                        network=str(sync.name),
                        model=camera.product_type,
                        armed=_bool(camera.arm),
                        online=None if camera.status is None else _online(camera.status),
                        battery=camera.battery,
                        battery_v=None if volts is None else round(volts / 100, 2),
                        temperature_c=celsius(camera.temperature),
                        wifi=wifi,
                        wifi_unit=unit,
                        sync_signal=_int(camera.sync_signal_strength),
                        last_motion_utc=self._newest_motion(str(sync.name), str(name), camera.last_record),
                    )
                )
        return AccountStatus(self.account_id, datetime.now(UTC), tuple(networks), tuple(cameras))

    # --- clips ----------

    def _newest_motion(self, network: str, camera: str, last_record: object) -> datetime | None:
        """The newest of what camsift saw of ``camera`` and blinkpy's ``last_record`` (``None``: neither)."""
        seen = [t for t in (self._last_motion.get((network, camera)), parse_time(last_record)) if t is not None]
        return max(seen, default=None)

    def _note_motion(self, clips: list[RemoteClip]) -> None:
        """Remember each camera's newest clip among ``clips`` (for `CameraStatus.last_motion_utc`)."""
        for clip in clips:
            key = (clip.network, clip.camera_name)
            if key not in self._last_motion or clip.created_utc > self._last_motion[key]:
                self._last_motion[key] = clip.created_utc

    async def check_motion(self) -> None:
        """Learn each camera's last motion from the first page of Blink's clip list (one request).

        Blink lists clips newest first (25 a page or more), so this is the newest clip of every camera that
        recorded one of the account's last 25 or so (blinkpy's ``check_new_videos`` reads page 1 too).
        Clip listings (`list_cloud`, `local_clips`) keep it up to date without more requests.

        Raises:
            SourceError: Blink answered something that is not a clip list.
        """
        page = await self._clip_page(datetime.fromtimestamp(0, UTC), 1)
        self._note_motion(_cloud_page(page, self._network_names()))

    def _network_names(self) -> dict[str, str]:
        return {str(s.network_id): str(s.name) for s in self.blink.sync.values()}

    async def _clip_page(self, since: datetime, page: int) -> list[object]:
        """The entries of one page of ``media/changed`` (Blink's order: newest first; none past the last page).

        Raises:
            SourceError: any answer but a clip list (Blink has answered 403, 404 and 426 "app update required"),
                with Blink's reason; nothing may take it for the end of the list.
        """
        address = (
            f"/api/v1/accounts/{self.blink.account_id}/media/changed?since={get_time(since.timestamp())}&page={page}"
        )
        async with self._get(address) as response:
            body = await response.read()
        with contextlib.suppress(ValueError):
            doc = json.loads(body)
            if response.status == 200 and isinstance(doc, dict) and isinstance(doc.get("media"), list):
                return list(doc["media"])
        self._refusal = None
        said = f"{response.status} {response.reason or ''}".strip() + (f": {_message(body)}" if body else "")
        raise SourceError(f"Blink answered the clip list (page {page}) with {said}, not a list of clips")

    async def list_cloud(self, since: datetime, first_page: int = 1, max_pages: int = _MAX_PAGES) -> ClipListing:
        """Clips in Blink's cloud changed since ``since``: pages ``first_page`` … of ``media/changed``.

        Blink sends the list newest first, so a listing cut at ``max_pages``
        holds the newest clips and lacks the oldest: carry on from
        ``next_page`` (same ``since``) to reach them. Only an empty page ends
        the list. Deleted clips and entries without an address are left out.

        Raises:
            SourceError: a page was not a clip list (see `_clip_page`): the listing is not returned at all.
        """
        networks = self._network_names()
        clips: list[RemoteClip] = []
        page = first_page
        while True:
            if page == first_page + max_pages:
                log.warning(
                    "blink clip list cut at the page limit: the older clips come next run",
                    pages=max_pages,
                    next_page=page,
                )
                complete = False
                break
            if page > first_page:
                await asyncio.sleep(_PAGE_PAUSE_S)
            media = await self._clip_page(since, page)
            if not media:
                complete = True
                break
            clips += _cloud_page(media, networks)
            page += 1
        self._note_motion(clips)
        return ClipListing(tuple(sorted(clips, key=lambda c: c.created_utc)), complete, page)

    async def cloud_clips(self, since: datetime, max_pages: int = _MAX_PAGES) -> list[RemoteClip]:
        """The clips of `list_cloud` from its first page, oldest first (a cut list lacks the oldest: see there)."""
        return list((await self.list_cloud(since, 1, max_pages)).clips)

    async def local_clips(self) -> list[RemoteClip]:
        """Clips on the USB sticks of Sync Modules with local storage active, from a fresh manifest, oldest first.

        Asking for the manifest makes the Sync Module build it (a command that
        blinkpy polls until done, backing off while the module is busy); each
        manifest has an id of its own, and a clip is fetched under the newest
        one (`fetch`). A module that cannot answer now is skipped with a log
        line and asked again next time.
        """
        clips: list[RemoteClip] = []
        for sync in list(self.blink.sync.values()):
            if not sync.local_storage:
                continue
            await self.renew_token()
            request = await self._call("local storage manifest", sync.poll_local_storage_manifest())
            request_id = request.get("id") if isinstance(request, dict) else None
            manifest = (
                await self._call("local storage manifest", sync.poll_local_storage_manifest(request_id))
                if request_id
                else None
            )
            if not isinstance(manifest, dict) or not isinstance(manifest.get("clips"), list):
                log.warning("sync module gave no local-storage manifest; trying again next time", network=sync.name)
                continue
            self._manifests[str(sync.network_id)] = str(manifest.get("manifest_id"))
            names = {to_alphanumeric(str(n)): str(n) for n in sync.cameras}
            for item in manifest["clips"]:
                clip = self._local_clip(sync, item, names)
                if clip is not None:
                    clips.append(clip)
        self._note_motion(clips)
        return sorted(clips, key=lambda c: c.created_utc)

    def _local_address(self, sync: Any, clip_id: str) -> str:
        """Where a USB clip is uploaded from and fetched, under the Sync Module's newest manifest."""
        values = {
            "account_id": self.blink.account_id,
            "network_id": sync.network_id,
            "sync_id": sync.sync_id,
            "manifest_id": self._manifests.get(str(sync.network_id)),
            "clip_id": clip_id,
        }
        return string.Template(local_storage_clip_url_template()).substitute(values)

    def _local_clip(self, sync: Any, item: object, names: dict[str, str]) -> RemoteClip | None:
        """One manifest entry as a `RemoteClip` (``None``: unreadable)."""
        if not isinstance(item, dict):
            return None
        created, number = parse_time(item.get("created_at")), _int(item.get("id"))
        if created is None or number is None:
            return None
        clip = RemoteClip(
            clip_id=str(number),
            camera_name=names.get(str(item.get("camera_name")), str(item.get("camera_name"))),
            network=str(sync.name),
            created_utc=created,
            address=self._local_address(sync, str(number)),
            where="local",
            size_bytes=_int(item.get("size")),
        )
        self._local[clip.clip_id] = sync
        return clip

    async def fetch(self, clip: RemoteClip, path: Path) -> Path:
        """Download ``clip`` to ``path`` atomically (``<path>.part`` renamed when complete).

        The body is streamed for as long as it takes, and given up only after
        `_INACTIVITY_S` without a byte. A local-storage clip is first uploaded
        by its Sync Module to the cloud (a command polled until done), then
        asked for until Blink has it (``Media not found`` until then),
        `_UPLOAD_TRIES` times with waits doubling from `_UPLOAD_WAIT_S`.

        Returns:
            ``path``.

        Raises:
            SourceError: Blink answered something other than an MP4, the download broke off or went silent, or a
                USB clip never arrived (nothing is left at ``path``; it can be fetched again).
            RateLimitError, AuthError: see `connect`.
        """
        if clip.where == "cloud":
            await self._download(clip, path)
            return path
        sync = self._local.get(clip.clip_id)
        if sync is None:
            raise SourceError(f"local-storage clip {clip.clip_id} is not in the last manifest")
        current = replace(clip, address=self._local_address(sync, clip.clip_id))  # the newest manifest's id
        await self.renew_token()
        self._refusal = None
        answer = await self._call(
            "local clip upload",
            api.request_local_storage_clip(
                self.blink, sync.network_id, sync.sync_id, self._manifests.get(str(sync.network_id)), clip.clip_id
            ),
        )
        if not isinstance(answer, dict):
            raise SourceError(
                f"{clip.camera} clip {clip.clip_id} on the USB stick: the Sync Module was not asked to upload it "
                f"({self._why('no answer')})"
            )
        async for attempt in _patiently(_NotUploadedError, _UPLOAD_WAIT_S, _UPLOAD_TRIES):
            with attempt:
                await self._download(current, path)
        return path

    async def _download(self, clip: RemoteClip, path: Path) -> None:
        """One GET of ``clip`` streamed into ``path`` (see `fetch`)."""
        async with self._get(clip.address) as response:
            if response.status == 200:
                await _write_atomically(response, path)
                return
            said = f"{response.status} {response.reason or ''}".strip()
            message = _message(await response.read())
            self._refusal = None
        if response.status == 404 and clip.where == "local":
            raise _NotUploadedError(
                f"{clip.camera} clip {clip.clip_id} on the USB stick: Blink has no copy yet ({message}) after "
                f"{_UPLOAD_TRIES} tries; the next run asks again"
            )
        raise SourceError(f"Blink answered {said} ({message}) for clip {clip.clip_id} of {clip.camera_name}")

    # --- controls ----------

    def _network(self, name: str) -> Any:
        for sync in self.blink.sync.values():
            if name.lower() in (str(sync.name).lower(), str(sync.network_id)):
                return sync
        known = ", ".join(str(s.name) for s in self.blink.sync.values()) or "none"
        raise SourceError(f"no Blink network {name!r} (networks: {known})")

    def _camera(self, name: str) -> Any:
        for sync in self.blink.sync.values():
            for camera_name, camera in sync.cameras.items():
                if name.lower() in (str(camera_name).lower(), safe_name(str(camera_name)).lower()):
                    return camera
        known = ", ".join(str(n) for s in self.blink.sync.values() for n in s.cameras) or "none"
        raise SourceError(f"no Blink camera {name!r} (cameras: {known})")

    async def arm(self, network: str, on: bool) -> bool | None:
        """Arm (``on``) or disarm a network (name or id); returns the armed state Blink reports afterwards.

        Raises:
            SourceError: no such network; Blink unreachable.
        """
        sync = self._network(network)
        await self.renew_token()
        await self._call("arm", sync.async_arm(on))
        await self._call("network state", sync.get_network_info())
        return _bool(sync.arm)

    async def snapshot(self, camera: str) -> bytes:
        """Make the camera take a new picture and return it (JPEG bytes): never the picture from before.

        The picture is asked for by its new address, which Blink gives in the
        camera's config (Blink Outdoor) or in the home screen (Minis,
        doorbells); it is looked for `_SNAPSHOT_TRIES` times, waits doubling
        from `_SNAPSHOT_WAIT_S`.

        Raises:
            SourceError: no such camera, Blink refused the command, or no new picture came.
        """
        cam = self._camera(camera)
        before = cam.thumbnail
        await self.renew_token()
        self._refusal = None
        answer = await self._call(
            "snapshot", api.request_new_image(self.blink, cam.network_id, cam.camera_id, camera_type=cam.camera_type)
        )
        if not isinstance(answer, dict):
            raise SourceError(f"camera {camera!r}: Blink did not take a picture ({self._why('no answer')})")
        try:
            async for attempt in _patiently(_OldPictureError, _SNAPSHOT_WAIT_S, _SNAPSHOT_TRIES):
                with attempt:
                    await self._new_thumbnail(cam, before)
        except _OldPictureError as err:
            raise SourceError(f"camera {camera!r}: Blink shows no new picture yet; try again in a minute") from err
        picture = cam.image_from_cache
        if not isinstance(picture, bytes) or not picture.startswith(b"\xff\xd8"):
            raise SourceError(f"camera {camera!r}: Blink sent no picture ({self._why('not a JPEG')})")
        return picture

    async def _new_thumbnail(self, cam: Any, before: object) -> None:
        """Read the camera's thumbnail address afresh and fetch the picture if it is a new one.

        Raises:
            _OldPictureError: Blink still gives the old address.
        """
        sync = cam.sync
        if cam.camera_type:  # Minis and doorbells: their config is their entry in the home screen
            await self._call("home screen", self.blink.get_homescreen())
        info = await self._call(
            "camera config", sync.get_camera_info(cam.camera_id, unique_info=sync.get_unique_info(cam.name))
        )
        if not info:
            raise SourceError(f"camera {cam.name!r}: Blink sent no camera config ({self._why('no answer')})")
        cam._cached_image = None  # what blinkpy fetches now is the new picture, or nothing
        await self._call("thumbnail", cam.update(info, force_cache=False, expire_clips=False))
        if cam.thumbnail == before:
            raise _OldPictureError(f"camera {cam.name!r}: Blink still shows the old picture")

    async def open_live(self, camera: str) -> LiveView:
        """Ask Blink for a live view of ``camera`` (Blink Outdoor, Mini or doorbell: each has its own path).

        Raises:
            SourceError: no such camera, or Blink offered no IMMI stream (refused, or a model camsift cannot open),
                with Blink's reason. RateLimitError: Blink asks to slow down (``Retry-After``).
        """
        cam = self._camera(camera)
        await self.renew_token()
        self._refusal = None
        answer = await self._call(
            "live view",
            api.request_camera_liveview(self.blink, cam.sync.network_id, cam.camera_id, camera_type=cam.camera_type),
        )
        server = answer.get("server") if isinstance(answer, dict) else None
        if not isinstance(server, str) or not server.startswith("immis://"):
            offered = f"it offered {server.split(':')[0]}" if isinstance(server, str) else self._why("no answer")
            raise SourceError(f"camera {camera!r}: Blink gave no live view camsift can open ({offered})")
        try:
            stream = BlinkLiveStream(cam, answer)
        except (KeyError, TypeError, ValueError) as err:
            raise SourceError(f"camera {camera!r}: Blink's live-view answer lacks {err}") from err
        return LiveView(
            stream,
            polling_s=_float(answer.get("polling_interval")) or 15.0,
            continue_s=_float(answer.get("continue_interval")) or _float(answer.get("duration")) or 300.0,
        )


def _cloud_page(media: list[object], networks: dict[str, str]) -> list[RemoteClip]:
    """The readable, not deleted clips of a page's entries."""
    return [clip for clip in (_cloud_clip(item, networks) for item in media) if clip is not None]


def _cloud_clip(item: object, networks: dict[str, str]) -> RemoteClip | None:
    """One ``media/changed`` entry as a `RemoteClip`; ``None`` for deleted or unreadable entries."""
    if not isinstance(item, dict) or item.get("deleted"):
        return None
    created = parse_time(item.get("created_at"))
    address, camera = item.get("media"), item.get("device_name")
    if created is None or not isinstance(address, str) or not isinstance(camera, str):
        return None
    network = item.get("network_name") or networks.get(str(item.get("network_id")), str(item.get("network_id")))
    return RemoteClip(str(item.get("id")), camera, str(network), created, address, "cloud")


async def _write_atomically(response: aiohttp.ClientResponse, path: Path) -> None:
    """Stream the body into ``<path>.part``, check it, rename it to ``path``; on any failure remove the part."""
    part = recording_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with part.open("wb") as f:
            head = b""
            async for chunk in response.content.iter_chunked(1 << 16):
                if len(head) < 12:
                    head += chunk[:12]
                f.write(chunk)
        expected = response.content_length
        size = part.stat().st_size
        if expected is not None and size != expected:
            raise SourceError(f"{path.name}: the download from Blink stopped at {size} of {expected} bytes")
        if head[4:8] != b"ftyp":
            raise SourceError(f"{path.name}: Blink sent something that is not an MP4 clip")
        os.replace(part, path)
    except TimeoutError as err:
        part.unlink(missing_ok=True)
        raise SourceError(f"{path.name}: Blink sent nothing for {_INACTIVITY_S:.0f} s; the download broke off") from err
    except (aiohttp.ClientError, OSError) as err:
        part.unlink(missing_ok=True)
        raise SourceError(f"{path.name}: the download from Blink broke off ({type(err).__name__})") from err
    except SourceError:
        part.unlink(missing_ok=True)
        raise
