"""Blink live view: blinkpy's ``BlinkLiveStream`` served as MPEG-TS on a loopback port, session after session.

Blink streams live video over its own IMMI protocol (TLS, framed MPEG-TS);
blinkpy's ``BlinkLiveStream`` unwraps it and serves plain MPEG-TS to any TCP
client of ``tcp://127.0.0.1:<port>``, which FFmpeg (and so camsift's
``stream`` source) opens like any camera stream. Blink ends a session after
about 5 minutes, and blinkpy stops serving when its last client leaves;
`LiveProxy` then asks Blink for a new session at once on the same port, so a
stream reader only sees a short drop and reconnects (as blinkvault does).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from camsift.errors import AuthError, SourceError
from camsift.logs import get_logger

if TYPE_CHECKING:
    from camsift.blink.client import BlinkClient

__all__ = ["LiveProxy", "record"]

log = get_logger("camsift.blink.live")

StateCallback = Callable[[str, str, str | None], None]
"""Called with ``(state, detail, error)``: ``serving``, ``reconnecting``, ``error``."""


class LiveProxy:
    """Keeps one camera's live view served on ``tcp://127.0.0.1:<port>``.

    Args:
        client: A connected `BlinkClient`.
        camera: Blink camera name.
        port: Loopback port to serve on (``0``: any free one, known once serving: `port`).
        reconnect_max_s: Longest wait after a failed session request (backoff doubles from 1 s).
    """

    def __init__(self, client: BlinkClient, camera: str, port: int = 0, reconnect_max_s: float = 10.0) -> None:
        self.client, self.camera, self.port = client, camera, port
        self.reconnect_max_s = reconnect_max_s
        self.sessions = 0
        self.serving = asyncio.Event()

    @property
    def url(self) -> str:
        """Where the MPEG-TS is served."""
        return f"tcp://127.0.0.1:{self.port}"

    async def session(self, stopping: Callable[[], bool]) -> None:
        """Open one Blink live session and serve it until Blink or the last client ends it (or a stop).

        Raises:
            AuthError, SourceError: Blink refused the session or could not be reached.
        """
        stream = await self.client.open_live(self.camera)
        try:
            await stream.start(host="127.0.0.1", port=self.port)
            self.port = stream.socket.getsockname()[1]
            feed = asyncio.create_task(stream.feed())
            self.sessions += 1
            self.serving.set()
            log.info("blink live session open", camera=self.camera, url=self.url, session=self.sessions)
            while not feed.done() and not stopping():
                await asyncio.wait({feed}, timeout=0.5)
        finally:
            self.serving.clear()
            stream.stop()
        if not feed.done():
            feed.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await feed
        for writer in [stream.target_writer, *stream.clients]:  # let TLS say goodbye before the loop may end
            if writer is not None:
                try:
                    await asyncio.wait_for(writer.wait_closed(), 2)
                except (TimeoutError, OSError, ssl.SSLError):  # no goodbye from Blink in time: drop the connection
                    writer.transport.abort()
        log.info("blink live session ended", camera=self.camera, session=self.sessions)

    async def run(self, stopping: Callable[[], bool], on_state: StateCallback | None = None) -> None:
        """Serve session after session until ``stopping()``; never raises (failures are reported, then retried)."""
        backoff = 1.0
        while not stopping():
            try:
                if on_state:
                    on_state("serving", f"live {self.camera} at {self.url}", None)
                await self.session(stopping)
                backoff = 1.0
                wait = 0.2
            except Exception as err:  # Blink refused or is down, the port is taken, blinkpy broke: try again later
                expected = isinstance(err, AuthError | SourceError | OSError)
                reason = str(err) if expected else f"{type(err).__name__}: {err}"
                if expected:
                    log.warning("blink live session failed", camera=self.camera, reason=reason)
                else:
                    log.exception("blink live session failed", camera=self.camera)
                if on_state:
                    on_state("error", f"live {self.camera}: reconnecting in {backoff:.0f} s", reason)
                wait, backoff = backoff, min(backoff * 2, self.reconnect_max_s)
            deadline = asyncio.get_running_loop().time() + wait
            while not stopping() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)


async def record(
    client: BlinkClient, camera: str, out: IO[bytes], seconds: float | None = None, sessions: int = 1
) -> int:
    """Copy ``camera``'s live MPEG-TS into ``out`` (a file or stdout) for ``seconds`` or ``sessions`` Blink sessions.

    Returns:
        Bytes written.

    Raises:
        AuthError, SourceError: Blink refused the live view.
    """
    loop = asyncio.get_running_loop()
    deadline = None if seconds is None else loop.time() + seconds
    written = 0

    def done() -> bool:
        return deadline is not None and loop.time() >= deadline

    for _ in range(sessions):
        if done():
            break
        proxy = LiveProxy(client, camera)
        task = asyncio.create_task(proxy.session(done))
        waiting = asyncio.create_task(proxy.serving.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            waiting.cancel()
            await task  # raises what went wrong
            continue
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        try:
            while not done():
                timeout = None if deadline is None else max(0.05, deadline - loop.time())
                try:
                    chunk = await asyncio.wait_for(reader.read(1 << 16), timeout)
                except TimeoutError:
                    break
                if not chunk:
                    break
                out.write(chunk)
                written += len(chunk)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await task
    out.flush()
    return written


def part_path(path: Path) -> Path:
    """``<path>.part``: where a recording is written until it is complete."""
    return path.with_name(path.name + ".part")


def finish(part: Path, path: Path) -> None:
    """Give a complete recording its final name (or remove an empty one)."""
    if part.stat().st_size == 0:
        part.unlink()
        raise SourceError(f"{path}: Blink sent no video")
    os.replace(part, path)
