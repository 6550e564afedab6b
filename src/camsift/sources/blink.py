"""``blink``: Blink cameras through Blink's cloud; new motion clips are downloaded and analysed at once.

One thread with its own asyncio loop owns the Blink session (the
coordinator of Home Assistant's Blink integration, in camsift's shape). Every
``poll_s`` seconds (30 at the least) it:

1. re-reads the token file if it changed (``camsift blink login`` while the
   service runs repairs a "login needed" state without a restart), renews the
   token when due, and reads arm state, battery, temperature and signals;
2. lists the clips changed since the watermark (cloud, then the Sync Module's
   USB stick), downloads up to ``max_clips_per_poll`` of those not on disk,
   ``request_delay_s`` apart (`camsift.blink.downloader`), and hands each one
   to `Intake.submit` as soon as it is complete, so it is analysed at once;
3. reports to the status board: ``running`` with one short line per camera,
   ``login needed`` (Blink refused the token: run ``camsift blink login``),
   or ``backing off`` (Blink answered 429/5xx or could not be reached: the
   next poll waits ``Retry-After`` or twice as long as the last, up to 30 min).

Nothing Blink does can stop the service or another source: every failure is
reported and the loop goes on.

With ``live: [camera, …]`` each camera's live view is served on a loopback
port (`camsift.blink.immi.LiveProxy`) and recorded around events by a
``stream`` source of its own (pre-roll, motion, detector, reconnects), shown
on the board as ``<source>/live/<camera>``. That reader reconnects to the
loopback port within `LIVE_READER_RECONNECT_MAX_S`, so the drop at each
5-minute session handover stays short; the backoff toward Blink is the
proxy's (``live_reconnect_max_s``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from camsift.background import BackgroundLoop, Backoff
from camsift.blink.models import AccountStatus, safe_name
from camsift.blink.tokens import default_token_file
from camsift.config import BlinkSourceConfig, Settings, StreamSourceConfig
from camsift.errors import AuthError, CamsiftError, RateLimitError, SourceError
from camsift.layout import DataDir
from camsift.logs import get_logger
from camsift.sources import Intake, register

if TYPE_CHECKING:
    from camsift.blink.client import BlinkClient
    from camsift.blink.downloader import Downloaded
    from camsift.sources.stream import StreamSource

__all__ = ["LIVE_READER_RECONNECT_MAX_S", "MAX_BACKOFF_S", "BlinkSource", "board_detail"]

log = get_logger("camsift.sources.blink")

MAX_BACKOFF_S = 1800.0
"""Longest wait after repeated failures (429, 5xx, network)."""

LIVE_READER_RECONNECT_MAX_S = 2.0
"""Longest wait of a live view's stream reader between two tries of its loopback port (nothing leaves the machine:
trying often costs nothing, and the next Blink session is there about a second after the last one ended)."""


def board_detail(status: AccountStatus, clips: int) -> str:
    """The status-board line: account, clips so far, then one short summary per camera (no secret)."""
    cameras = "; ".join(c.summary() for c in status.cameras) or "no cameras"
    return f"account {status.account_id}, {clips} clips; {cameras}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@register("blink")
class BlinkSource(BackgroundLoop):
    """Polls one Blink account, downloads new clips and hands them in; optionally serves live views.

    Args:
        name: Source name.
        config: Its config.
        settings: The whole configuration (data directory, time zone, ``record`` for live views).
        intake: Where clips go, and where state is reported.
    """

    kind = "blink"

    def __init__(self, name: str, config: BlinkSourceConfig, settings: Settings, intake: Intake) -> None:
        super().__init__()
        self.name, self.config, self.settings, self.intake = name, config, settings, intake
        self.token_file = (config.token_file or default_token_file(settings.data_dir)).expanduser()
        self.clips = 0
        self._ports = {camera: _free_port() for camera in config.live}
        self.streams: list[StreamSource] = []

    def start(self) -> None:
        """Start the poll thread, and a stream source per live camera.

        Raises:
            SourceError: blinkpy is not installed.
        """
        if importlib.util.find_spec("blinkpy") is None:
            raise SourceError(f"sources.{self.name}: Blink support needs blinkpy: pip install 'camsift[blink]'")
        self.report("connecting", f"{self.token_file}")
        self._start_loop(f"source-{self.name}", self._run)
        if self._ports:
            from camsift.sources.stream import StreamSource

            for camera, port in self._ports.items():
                stream = StreamSourceConfig(
                    type="stream",
                    url=f"tcp://127.0.0.1:{port}",
                    camera=safe_name(camera),
                    reconnect_max_s=LIVE_READER_RECONNECT_MAX_S,
                )
                source = StreamSource(f"{self.name}/live/{safe_name(camera)}", stream, self.settings, self.intake)
                source.start()
                self.streams.append(source)

    def stop(self) -> None:
        """Stop polling and the live views within about 10 s.

        A download still running then is abandoned: its ``.part`` is never taken
        for a clip and is written again from the start at the next poll.
        """
        self._stop.set()
        for stream in self.streams:
            stream.stop()
        self._stop_loop(10)

    def processed(self, path: Path, events: int) -> None:
        """Delete a downloaded clip in which nothing was found, if ``delete_empty``; a live view's
        clip (``<data_dir>/clips/<date>/<camera>/``) goes to that camera's stream source."""
        live = [stream for stream in self.streams if stream.camera == path.parent.name]
        if live and path.is_relative_to(DataDir(self.settings.data_dir).clips):
            live[0].processed(path, events)
        elif events == 0 and self.config.delete_empty:
            path.unlink(missing_ok=True)

    def report(self, state: str, detail: str, error: str | None = None, *, part: str | None = None) -> None:
        """Publish the state of the source (or of its live view ``part``) on the board; never raises."""
        name, kind = (self.name, self.kind) if part is None else (part, "stream")
        try:
            self.intake.report(name, kind, state, detail, error)
        except CamsiftError as err:
            log.warning("cannot report blink state", source=name, reason=str(err))

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as err:  # a failing source must not take the service down: report it
            log.exception("blink source crashed", source=self.name)
            self.report("error", "stopped", f"internal error: {type(err).__name__}: {err}")

    async def _pause(self, seconds: float, until_login: BlinkClient | None = None) -> None:
        """Wait ``seconds``, less if stopped, or (``until_login``) as soon as a new login is saved."""
        deadline = asyncio.get_running_loop().time() + seconds
        while not self._stop.is_set() and asyncio.get_running_loop().time() < deadline:
            if until_login is not None and until_login.token_changed():
                return
            await asyncio.sleep(0.2)

    async def _main(self) -> None:
        from camsift.blink.client import BlinkClient

        async with BlinkClient(self.token_file) as client:
            live = [asyncio.create_task(self._live(client, camera, port)) for camera, port in self._ports.items()]
            retry = Backoff(self.config.poll_s, MAX_BACKOFF_S)
            while not self._stop.is_set():
                wait, login_needed = self.config.poll_s, False
                try:
                    await self.poll(client)
                    retry.reset()
                except AuthError as err:
                    login_needed = True
                    client.invalidate()
                    self.report("login needed", f"{self.token_file}: run 'camsift blink login'", str(err))
                    log.warning("blink login needed", source=self.name, reason=str(err))
                except Exception as err:  # RateLimitError, SourceError (429, 5xx, network) or Blink changed an answer
                    client.invalidate()
                    asked = err.retry_after_s if isinstance(err, RateLimitError) else None
                    wait = max(retry.fail(), asked or 0.0)
                    reason = (
                        str(err) if isinstance(err, SourceError) else f"internal error: {type(err).__name__}: {err}"
                    )
                    self.report("backing off", f"next try in {wait:.0f} s", reason)
                    if isinstance(err, SourceError):
                        log.warning("blink unavailable; backing off", source=self.name, wait_s=wait, reason=reason)
                    else:
                        log.exception("blink poll failed; backing off", source=self.name, wait_s=wait)
                await self._pause(wait, client if login_needed else None)
            for task in live:
                await task
        self.report("stopped", f"{self.clips} clips")

    async def poll(self, client: BlinkClient) -> None:
        """One poll: (re)connect or refresh, download what is new, hand it in, report.

        Raises:
            AuthError: login needed. SourceError: Blink unreachable or asking to slow down.
        """
        from camsift.blink.downloader import Downloader

        if not client.connected or client.token_changed():
            await client.connect()
        else:
            await client.refresh_status()
        status = client.status()
        self.report("running", board_detail(status, self.clips))
        downloader = Downloader(
            client,
            self.settings.data_dir,
            self.settings.tz(),
            cameras=self.config.cameras,
            local_storage=self.config.local_storage,
            request_delay_s=self.config.request_delay_s,
            backfill_h=self.config.backfill_h,
        )
        report = await downloader.run(self.config.max_clips_per_poll, stop=self._stop.is_set, on_clip=self._hand_in)
        detail = board_detail(status, self.clips)
        if report.left:
            detail += f"; {report.left} clips wait for the next poll"
        self.report("running", detail, "; ".join([*report.failed, *report.given_up][:2]) or None)

    def _hand_in(self, done: Downloaded) -> None:
        self.clips += 1
        try:
            self.intake.submit(done.path, done.clip.camera, self.name, self.kind)
        except CamsiftError as err:  # the clip stays on disk; a later scan or restart picks it up
            log.error("cannot queue a blink clip", source=self.name, path=str(done.path), reason=str(err))

    async def _live(self, client: BlinkClient, camera: str, port: int) -> None:
        from camsift.blink.immi import LiveProxy

        while not client.connected and not self._stop.is_set():
            await asyncio.sleep(0.5)
        proxy = LiveProxy(client, camera, port, self.config.live_reconnect_max_s)
        name = f"{self.name}/live/{safe_name(camera)}"

        def on_state(state: str, detail: str, error: str | None) -> None:
            if error is not None:  # the stream's own row: its process reports the connection, this the session
                self.report(state, detail, error, part=name)

        await proxy.run(self._stop.is_set, on_state)
