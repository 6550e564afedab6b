"""`BlinkSession`: the HTTP session of one Blink account, its sign-in and its login token (`camsift.blink.client`).

One aiohttp client middleware (`BlinkSession._guard`) watches every request
blinkpy (and camsift) makes:

- HTTP 429 and 5xx raise `RateLimitError` carrying ``Retry-After`` (the
  caller backs off; blinkpy would have retried or carried on blindly);
- a network failure raises `SourceError` (blinkpy would return ``None``);
- 401 on a request that carries the token raises `AuthError` ("login needed");
- any other refusal (4xx) is remembered with Blink's own message, so a failed
  sign-in, snapshot or live view says why.

The login token is renewed with blinkpy's OAuth v2 refresh (the grant the
Blink app uses) 10 minutes (`_REFRESH_MARGIN_S`) before it expires: before
each request camsift makes, so a long pass never leaves it to blinkpy, and
saved at once, since Blink rotates refresh tokens. Should blinkpy renew it
itself all the same, its callback saves that token too. An answer to the
renewal that is not a token (a web page, broken JSON) is `AuthError`.
blinkpy's own log lines that could hold a token are withheld.

This module holds the one guarded import of blinkpy: `camsift.blink.client` imports it before its siblings, so a
missing extra says which ``pip install`` to run.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from camsift.blink.tokens import drop_pending, load_pending, load_token, save_pending, save_token
from camsift.errors import AuthError, RateLimitError, SourceError
from camsift.logs import get_logger

try:
    import aiohttp
    from blinkpy import api
    from blinkpy.auth import Auth, BlinkTwoFARequiredError, LoginError, TokenRefreshFailed, UnauthorizedError
    from blinkpy.blinkpy import Blink, BlinkSetupError
    from blinkpy.helpers.constants import OAUTH_BASE_URL
    from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential
    from yarl import URL
except ImportError as err:  # pragma: no cover - depends on the install
    raise SourceError("Blink support needs blinkpy: pip install 'camsift[blink]'") from err

__all__ = ["BlinkSession", "ConnectorFactory", "retry_after_s"]

log = get_logger("camsift.blink")

ConnectorFactory = Callable[[], aiohttp.BaseConnector]
"""Makes the connector of the client's HTTP session (tests point Blink's host names at a local fake)."""


_REFRESH_MARGIN_S = 600.0
"""Renew the access token when it has less than this left: more than a live session lasts (about 5 minutes),
so blinkpy's own renewal inside a request (60 s before the end, with an older grant) never has to run."""

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


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


class BlinkSession:
    """The session part of `camsift.blink.client.BlinkClient`: the HTTP session, sign-in, token renewal, and
    blinkpy's steps turned into camsift's errors.

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

    def _open(self, connector: aiohttp.BaseConnector | None) -> None:
        """Open the HTTP session (through ``connector``, ``None``: aiohttp's own) and a blinkpy ``Blink`` on it."""
        self._session = aiohttp.ClientSession(connector=connector, middlewares=(self._guard,))
        self.blink = Blink(session=self._session, refresh_rate=30, motion_interval=0)

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

    def _why(self, fallback: str) -> str:
        """Blink's last refusal as a reason (``fallback`` when it sent none)."""
        r, self._refusal = self._refusal, None
        return f"Blink answered {r}" if r is not None else fallback
