"""Blink cameras (Blink Outdoor, Minis, doorbells): two-step login, status, polite clip downloads, arm/disarm,
snapshots and live view.

Built on blinkpy (``pip install 'camsift[blink]'``), wrapped at the boundary
in `camsift.blink.client`: what comes out is camsift's dataclasses
(`AccountStatus`, `CameraStatus`, `RemoteClip`) and camsift's errors
(`AuthError` = login needed, `RateLimitError` = slow down, `SourceError`).
This package's top imports neither blinkpy nor aiohttp; the functions below
import them when called. Each runs its own asyncio loop, for use from plain
code (the CLI, cron jobs); the ``blink`` source of ``camsift run`` uses
`camsift.blink.client.BlinkClient` directly.

Example:
    >>> from camsift.blink import status
    >>> for camera in status(Path("camsift-data/blink/token.json")).cameras:  # doctest: +SKIP
    ...     print(camera.summary())
    Front_Door armed, battery ok, 21.5 °C, wifi 4 bars
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from camsift.blink.models import AccountStatus, CameraStatus, RemoteClip, SyncModuleStatus, safe_name
from camsift.blink.tokens import default_token_file

if TYPE_CHECKING:
    from camsift.blink.client import BlinkClient
    from camsift.blink.downloader import DownloadReport

T = TypeVar("T")

__all__ = [
    "AccountStatus",
    "CameraStatus",
    "RemoteClip",
    "SyncModuleStatus",
    "arm",
    "default_token_file",
    "download",
    "login",
    "record_live",
    "safe_name",
    "snapshot",
    "status",
    "verify",
]


def _with_account(token_file: Path, action: Callable[[BlinkClient], Awaitable[T]]) -> T:
    """Open the account from ``token_file`` in a new event loop and run ``action`` on it."""
    from camsift.blink.client import BlinkClient

    async def go() -> T:
        async with BlinkClient(token_file) as client:
            await client.connect()
            return await action(client)

    return asyncio.run(go())


def login(token_file: Path, email: str, password: str) -> AccountStatus | None:
    """Sign in to Blink: the first of two steps when Blink sends a two-factor code (each sign-in a new one).

    Args:
        token_file: Where the token goes (mode 0600); the password is not kept.
        email: Account e-mail.
        password: Account password.

    Returns:
        The account's networks and cameras (logged in), or ``None``: Blink sent a code by e-mail or SMS and the
        sign-in waits for it beside ``token_file`` (`camsift.blink.tokens.pending_file`, mode 0600): finish it with
        `verify`, from any process (a script, the web app).

    Raises:
        AuthError: Blink refused the sign-in (its reason: wrong e-mail or password, a 406 from its edge …).
        SourceError: Blink unreachable (`RateLimitError` when it asks to slow down).
    """
    from camsift.blink.client import BlinkClient

    async def go() -> AccountStatus | None:
        async with BlinkClient(token_file) as client:
            return client.status() if await client.login(email, password) else None

    return asyncio.run(go())


def verify(token_file: Path, code: str) -> AccountStatus:
    """Finish the sign-in `login` left waiting, with the two-factor code Blink sent; saves the token.

    Raises:
        AuthError: no sign-in waits for a code, or Blink refused the code (the sign-in still waits: a mistyped
            code can be given again).
        SourceError: Blink unreachable (`RateLimitError` when it asks to slow down).
    """
    from camsift.blink.client import BlinkClient

    async def go() -> AccountStatus:
        async with BlinkClient(token_file) as client:
            await client.verify(code)
            return client.status()

    return asyncio.run(go())


def status(token_file: Path) -> AccountStatus:
    """Sync modules and cameras with armed state, battery, temperature, Wi-Fi, last motion, local storage.

    Last motion comes from the first page of Blink's clip list (`BlinkClient.check_motion`).

    Raises:
        AuthError: login needed. SourceError: Blink unreachable or unreadable.
    """

    async def action(client: BlinkClient) -> AccountStatus:
        await client.check_motion()
        return client.status()

    return _with_account(token_file, action)


def download(
    token_file: Path,
    data_dir: Path,
    tz: tzinfo | None = None,
    *,
    limit: int | None = None,
    seconds: float | None = None,
    min_interval_s: float = 90.0,
    cameras: Sequence[str] = (),
    local_storage: bool = True,
    request_delay_s: float = 2.0,
    backfill_h: float | None = None,
) -> DownloadReport:
    """Download the clips not yet on disk (see `camsift.blink.downloader`): one pass, or passes for ``seconds``.

    Args:
        token_file: The login token.
        data_dir: camsift's data directory (clips go under ``blink/``).
        tz: Zone of folder dates and file names; ``None`` = this machine's.
        limit: Most new clips in all (``None``: all).
        seconds: Keep polling this long, ``min_interval_s`` apart (``None``: one pass).
        min_interval_s: Least time between two passes, also across processes (90 s by default).
        cameras: Blink camera names (empty: all).
        local_storage: Also fetch the Sync Modules' USB clips.
        request_delay_s: Pause between two downloads.
        backfill_h: With no watermark yet, hours of history to fetch (``None``: all Blink has).

    Raises:
        AuthError: login needed. RateLimitError: Blink asked to slow down (clips so far are kept).
        SourceError: Blink unreachable.
    """
    from camsift.blink.downloader import Downloader

    async def action(client: BlinkClient) -> DownloadReport:
        downloader = Downloader(
            client,
            data_dir,
            tz,
            cameras=cameras,
            local_storage=local_storage,
            request_delay_s=request_delay_s,
            backfill_h=backfill_h,
        )
        return await downloader.run_for(seconds, limit, min_interval_s)

    return _with_account(token_file, action)


def arm(token_file: Path, network: str, on: bool) -> bool | None:
    """Arm (``on=True``) or disarm a network by name or id; returns the state Blink reports afterwards.

    Raises:
        AuthError, SourceError: see `status`; SourceError also for an unknown network.
    """
    return _with_account(token_file, lambda client: client.arm(network, on))


def snapshot(token_file: Path, camera: str) -> bytes:
    """Have ``camera`` take a new picture and return it (JPEG bytes).

    Raises:
        AuthError, SourceError: see `status`; SourceError also for an unknown camera or no picture.
    """
    return _with_account(token_file, lambda client: client.snapshot(camera))


def record_live(token_file: Path, camera: str, out: IO[bytes], seconds: float | None = None, sessions: int = 1) -> int:
    """Write ``camera``'s live view as MPEG-TS to ``out`` for ``seconds`` or ``sessions`` Blink sessions; bytes written.

    Raises:
        AuthError, SourceError: see `status`; SourceError also when Blink offers no live view.
    """
    from camsift.blink.immi import record

    return _with_account(token_file, lambda client: record(client, camera, out, seconds, sessions))
