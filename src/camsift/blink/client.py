"""`BlinkClient`: one Blink account through blinkpy, with camsift's types, errors and manners.

blinkpy (the library Home Assistant's Blink integration uses) speaks Blink's
unofficial HTTP API with aiohttp. It is untyped, returns raw dicts, and turns
most failures into ``None`` and a log line. This module is the only place
that touches it: everything leaving it is a camsift dataclass or a camsift
error.

One aiohttp client middleware watches every request blinkpy makes:

- HTTP 429 and 5xx raise `RateLimitError` carrying ``Retry-After`` (the
  caller backs off; blinkpy would have retried or carried on blindly);
- a network failure raises `SourceError` (blinkpy would return ``None``);
- 401 on a request that carries the token raises `AuthError` ("login needed").

The login token is renewed with blinkpy's OAuth v2 refresh (the grant the
Blink app uses) 10 minutes (`_REFRESH_MARGIN_S`) before it expires, and saved
at once, since Blink rotates refresh tokens; an answer to the renewal that is
not a token (a web page, broken JSON) is `AuthError` too. blinkpy's own log
lines that could hold a token are withheld.

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
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
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
    parse_time,
    safe_name,
)
from camsift.blink.tokens import load_token, save_token
from camsift.errors import AuthError, RateLimitError, SourceError
from camsift.logs import get_logger

try:
    import aiohttp
    from blinkpy import api
    from blinkpy.auth import Auth, BlinkTwoFARequiredError, UnauthorizedError
    from blinkpy.blinkpy import Blink, BlinkSetupError
    from blinkpy.livestream import BlinkLiveStream
except ImportError as err:  # pragma: no cover - depends on the install
    raise SourceError("Blink support needs blinkpy: pip install 'camsift[blink]'") from err

__all__ = ["BlinkClient", "ConnectorFactory", "default_connector", "retry_after_s"]

log = get_logger("camsift.blink")

ConnectorFactory = Callable[[], aiohttp.BaseConnector]
"""Makes the connector of the client's HTTP session (tests point Blink's host names at a local fake)."""

default_connector: ConnectorFactory | None = None
"""The transport seam: the connector factory of clients made without one (``None``: aiohttp's own).
Tests and ``bench/blink.py`` set it to `camsift.blink.fake.FakeBlink.connector`."""

_REFRESH_MARGIN_S = 600.0
"""Renew the access token when it has less than this left: more than a live session lasts (about 5 minutes),
so blinkpy's own renewal inside a request (an older grant) never has to run."""

_MAX_PAGES = 20
"""Pages of ``media/changed`` read at most in one listing (Blink sends about 25 clips a page)."""

_PAGE_PAUSE_S = 1.0
"""Pause between two pages of the clip list."""


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


async def _guard(
    request: aiohttp.ClientRequest, handler: Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]]
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
        raise RateLimitError(f"Blink answered {response.status} {response.reason or ''} to {where}".strip(), wait)
    if response.status == 401 and "Authorization" in request.headers:
        response.release()
        raise AuthError("Blink refused the saved login (401): login needed, run 'camsift blink login'")
    return response


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
        self._local_items: dict[str, Any] = {}
        self._last_motion: dict[tuple[str, str], datetime] = {}  # (network, camera) -> newest clip seen
        self._renewing = asyncio.Lock()

    async def __aenter__(self) -> BlinkClient:
        factory = self._connector or default_connector
        connector = factory() if factory is not None else None
        self._session = aiohttp.ClientSession(connector=connector, middlewares=(_guard,))
        self.blink = Blink(session=self._session, refresh_rate=30, motion_interval=0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def connected(self) -> bool:
        """Networks and cameras are loaded (`connect` or `login` succeeded)."""
        return bool(self.blink is not None and self.blink.available)

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

    async def login(
        self, email: str, password: str, code: str | None = None, ask_code: Callable[[], str] | None = None
    ) -> None:
        """Log in with e-mail and password (then a 2FA code if Blink asks), save the token, load the account.

        Args:
            email: The Blink account's e-mail.
            password: Its password (used for this request only; never stored or logged).
            code: The two-factor code, if already known (headless use).
            ask_code: Asked for the code when Blink wants one and ``code`` is ``None``.

        Raises:
            AuthError: Blink rejected the login or the code, or wants a code and there is none.
            RateLimitError, SourceError: Blink is unreachable or refused to answer.
        """
        self.blink.auth = Auth({"username": email, "password": password}, no_prompt=True, session=self._session)
        try:
            ok = await self.blink.start()
        except BlinkTwoFARequiredError:
            if code is None and ask_code is None:
                raise AuthError(
                    "Blink asks for the two-factor code it just sent (e-mail or SMS): run the login in a terminal, "
                    "or pass it with --code"
                ) from None
            given = code if code is not None else ask_code() if ask_code is not None else ""
            ok = await self.blink.send_2fa_code(given.strip())
            if not ok:
                raise AuthError("Blink did not accept the two-factor code (wrong or expired): log in again") from None
        finally:
            for secret in ("password", "username"):
                self.blink.auth.data.pop(secret, None)
        if not ok or not self.blink.auth.refresh_token:
            raise AuthError("Blink rejected the login: wrong e-mail or password, or the account is locked")
        self._save()
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
        self.blink.auth = Auth(dict(attributes), no_prompt=True, session=self._session)
        self._local_items.clear()
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

        Blink rotates refresh tokens, so two processes sharing the token file
        (the service and a ``camsift blink`` command) must not both renew with
        the same one: renewal holds ``<token file>.lock``, and a token another
        process saved meanwhile is taken instead of asking Blink again.

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
        except UnauthorizedError as err:
            raise AuthError("Blink refused the saved login: login needed, run 'camsift blink login'") from err
        except (KeyError, TypeError, AttributeError, ValueError) as err:
            raise SourceError(f"Blink answered something camsift cannot read ({what}): {err!r}") from err

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
                        temperature_c=camera.temperature_c,
                        wifi=_int(camera.wifi_strength),
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

        Blink lists clips newest first (about 25 a page), so this is the newest clip of every camera that
        recorded one of the account's last 25 or so (blinkpy's ``check_new_videos`` reads page 1 too).
        Clip listings (`list_cloud`, `local_clips`) keep it up to date without more requests.
        """
        await self.renew_token()
        answer = await self._call("clip list", api.request_videos(self.blink, time=0, page=1))
        self._note_motion(_cloud_page(_media(answer), self._network_names()))

    def _network_names(self) -> dict[str, str]:
        return {str(s.network_id): str(s.name) for s in self.blink.sync.values()}

    async def list_cloud(self, since: datetime, first_page: int = 1, max_pages: int = _MAX_PAGES) -> ClipListing:
        """Clips in Blink's cloud changed since ``since``: pages ``first_page`` … of ``media/changed``.

        Blink sends the list newest first, so a listing cut at ``max_pages``
        holds the newest clips and lacks the oldest: carry on from
        ``next_page`` (same ``since``) to reach them. Deleted clips and entries
        without an address are left out.
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
            answer = await self._call("clip list", api.request_videos(self.blink, time=since.timestamp(), page=page))
            media = _media(answer)
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
        blinkpy polls until done); a module that cannot answer now is skipped
        with a log line and asked again next time.
        """
        clips: list[RemoteClip] = []
        for sync in list(self.blink.sync.values()):
            if not sync.local_storage:
                continue
            done = await self._call("local storage manifest", sync.update_local_storage_manifest())
            if not done:
                log.warning("sync module gave no local-storage manifest; trying again next time", network=sync.name)
                continue
            for item in list(sync._local_storage["manifest"]):  # blinkpy keeps the manifest in this dict only
                created = item.created_at if item.created_at.tzinfo else item.created_at.replace(tzinfo=UTC)
                clip = RemoteClip(
                    clip_id=str(item.id),
                    camera_name=str(item.name),
                    network=str(sync.name),
                    created_utc=created.astimezone(UTC),
                    address=item.url(),
                    where="local",
                    size_bytes=_int(item.size),
                )
                self._local_items[clip.clip_id] = item
                clips.append(clip)
        self._note_motion(clips)
        return sorted(clips, key=lambda c: c.created_utc)

    async def fetch(self, clip: RemoteClip, path: Path) -> Path:
        """Download ``clip`` to ``path`` atomically (``<path>.part`` renamed when complete).

        A local-storage clip is first uploaded by its Sync Module to the cloud
        (blinkpy's ``prepare_download``: a command polled until done).

        Returns:
            ``path``.

        Raises:
            SourceError: Blink answered something other than an MP4, or the download broke off
                (nothing is left at ``path``; it can be fetched again).
            RateLimitError, AuthError: see `connect`.
        """
        if clip.where == "local":
            item = self._local_items.get(clip.clip_id)
            if item is None:
                raise SourceError(f"local-storage clip {clip.clip_id} is not in the last manifest")
            await self._call("local clip upload", item.prepare_download(self.blink))
        url = f"{self.blink.urls.base_url}{clip.address}"
        response = await self._call("clip", api.http_get(self.blink, url=url, stream=True, json=False))
        if response is None:
            raise SourceError(f"Blink sent nothing for clip {clip.clip_id} of {clip.camera_name}")
        try:
            if response.status != 200:
                raise SourceError(f"Blink answered {response.status} for clip {clip.clip_id} of {clip.camera_name}")
            await _write_atomically(response, path)
        finally:
            response.release()
        return path

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
        """Make the camera take a new thumbnail and return it (JPEG bytes).

        Raises:
            SourceError: no such camera, or Blink sent no picture.
        """
        cam = self._camera(camera)
        await self.renew_token()
        await self._call(
            "snapshot", api.request_new_image(self.blink, cam.network_id, cam.camera_id, camera_type=cam.camera_type)
        )
        sync = cam.sync
        info = await self._call(
            "camera config", sync.get_camera_info(cam.camera_id, unique_info=sync.get_unique_info(cam.name))
        )
        if info:
            await self._call("thumbnail", cam.update(info, force_cache=True, expire_clips=False))
        picture = cam.image_from_cache
        if not isinstance(picture, bytes) or not picture.startswith(b"\xff\xd8"):
            raise SourceError(f"Blink sent no picture for camera {camera!r}")
        return picture

    async def open_live(self, camera: str) -> BlinkLiveStream:
        """Ask Blink for a live view of ``camera``: blinkpy's ``BlinkLiveStream`` (not started).

        Raises:
            SourceError: no such camera, or Blink offered no IMMI stream (unsupported model).
        """
        cam = self._camera(camera)
        await self.renew_token()
        try:
            return await self._call("live view", cam.init_livestream())
        except NotImplementedError as err:
            raise SourceError(f"camera {camera!r}: Blink offered a live view camsift cannot open ({err})") from err


def _media(answer: object) -> list[object]:
    """The entries of one ``media/changed`` page (Blink's order: newest first); none if it has none."""
    media = answer.get("media") if isinstance(answer, dict) else None
    return list(media) if isinstance(media, list) else []


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
    part = path.with_name(path.name + ".part")
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
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        part.unlink(missing_ok=True)
        raise SourceError(f"{path.name}: the download from Blink broke off ({type(err).__name__})") from err
    except SourceError:
        part.unlink(missing_ok=True)
        raise
