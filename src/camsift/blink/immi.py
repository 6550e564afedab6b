"""Blink live view over IMMI: blinkpy's ``BlinkLiveStream`` served as MPEG-TS on a loopback port, session after session.

Blink streams live video over its own IMMI protocol (TLS, framed MPEG-TS);
blinkpy's ``BlinkLiveStream`` unwraps it and serves plain MPEG-TS to any TCP
client of ``tcp://127.0.0.1:<port>``, which FFmpeg (and so camsift's
``stream`` source) opens like any camera stream.

A session lasts what Blink's answer says (``continue_interval``, 300 s;
blinkpy polls the session's command every ``polling_interval``, 15 s). When
Blink hangs up, or that time is up, `LiveProxy` ends the session at once (it
does not wait for blinkpy's next poll to notice) and asks for the next one
on the same port, so a reader sees a short drop and reconnects; the IMMI
connection is opened once the reader is back (`_JOIN_WAIT_S`), so no video
of the new session is relayed to no one. That drop is the handover gap
``bench/blink_live.py`` measures. When Blink refuses or fails,
it waits before asking again, doubling from 1 s up to ``reconnect_max_s``,
and longer when Blink's ``Retry-After`` asks for longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential
from tenacity.wait import wait_base

from camsift.errors import AuthError, RateLimitError, SourceError
from camsift.logs import get_logger

if TYPE_CHECKING:
    from camsift.blink.client import BlinkClient

__all__ = ["LiveProxy", "finish", "record"]

log = get_logger("camsift.blink.immi")

_JOIN_WAIT_S = 5.0
"""Longest wait for a reader to connect before the IMMI connection is opened: blinkpy relays video only to readers
already there, so a reader reconnecting after a handover would lose the session's first second or two."""

StateCallback = Callable[[str, str, str | None], None]
"""Called with ``(state, detail, error)``: ``serving``, ``error``."""


class _HonourRetryAfter(wait_base):
    """Wait what ``fallback`` says, or what Blink asked for (`RateLimitError.retry_after_s`) if that is longer."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome is not None else None
        asked = error.retry_after_s if isinstance(error, RateLimitError) else None
        return max(self.fallback(retry_state), asked or 0.0)


class LiveProxy:
    """Keeps one camera's live view served on ``tcp://127.0.0.1:<port>``.

    Args:
        client: A connected `BlinkClient`.
        camera: Blink camera name (Blink Outdoor, Mini or doorbell).
        port: Loopback port to serve on (``0``: any free one, known once serving: `port`).
        reconnect_max_s: Longest wait after a refused or failed session (backoff doubles from 1 s).
        min_session_s: A session Blink ends sooner than this counts as failed (so a camera that hangs up at once
            is not asked again and again without a pause).
    """

    def __init__(
        self,
        client: BlinkClient,
        camera: str,
        port: int = 0,
        reconnect_max_s: float = 300.0,
        min_session_s: float = 10.0,
    ) -> None:
        self.client, self.camera, self.port = client, camera, port
        self.reconnect_max_s, self.min_session_s = reconnect_max_s, min_session_s
        self.sessions = 0
        self.serving = asyncio.Event()

    @property
    def url(self) -> str:
        """Where the MPEG-TS is served."""
        return f"tcp://127.0.0.1:{self.port}"

    async def session(self, stopping: Callable[[], bool]) -> float:
        """Open one Blink live session and serve it until Blink ends it, its ``continue_interval`` is up, the last
        client leaves, or a stop.

        Returns:
            Seconds it was served (from the IMMI connection on).

        Raises:
            AuthError, SourceError: Blink refused the session or could not be reached; OSError: the port is taken.
        """
        view = await self.client.open_live(self.camera)
        stream, loop = view.stream, asyncio.get_running_loop()
        parts: list[asyncio.Task[None]] = []
        ends = loop.time() + view.continue_s
        started = loop.time()
        try:
            await stream.start(host="127.0.0.1", port=self.port)
            self.port = stream.socket.getsockname()[1]
            self.serving.set()
            joined = loop.time() + _JOIN_WAIT_S
            while not stream.clients and not stopping() and loop.time() < joined:  # blinkpy drops what no one reads
                await asyncio.sleep(0.02)
            await stream.auth()
            started = loop.time()
            # blinkpy's feed() runs these three under one gather; run apart, the session ends the moment Blink
            # hangs up (the relay returns), not at the command poll's next turn (polling_s later), and the poll is
            # awaited to the end, which tells Blink the command is done
            parts = [asyncio.create_task(part) for part in (stream.recv(), stream.send(), stream.poll())]
            self.sessions += 1
            log.info(
                "blink live session open",
                camera=self.camera,
                url=self.url,
                session=self.sessions,
                polling_s=view.polling_s,
                continue_s=view.continue_s,
            )
            while not any(p.done() for p in parts) and not stopping() and loop.time() < ends:
                await asyncio.wait(parts, timeout=0.1, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.serving.clear()
            stream.stop()
            for part in parts:
                part.cancel()
            await asyncio.gather(*parts, return_exceptions=True)
        for writer in [stream.target_writer, *stream.clients]:  # let TLS say goodbye before the loop may end
            if writer is not None:
                try:
                    await asyncio.wait_for(writer.wait_closed(), 2)
                except (TimeoutError, OSError, ssl.SSLError):  # no goodbye from Blink in time: drop the connection
                    writer.transport.abort()
        lasted = loop.time() - started
        log.info("blink live session ended", camera=self.camera, session=self.sessions, seconds=round(lasted, 1))
        return lasted

    async def run(self, stopping: Callable[[], bool], on_state: StateCallback | None = None) -> None:
        """Serve session after session until ``stopping()``; never raises (failures are reported, then retried)."""

        async def pause(seconds: float) -> None:
            deadline = asyncio.get_running_loop().time() + seconds
            while not stopping() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)

        def failed(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            wait = state.next_action.sleep if state.next_action is not None else 0.0
            expected = isinstance(error, AuthError | SourceError | OSError)
            reason = str(error) if expected else f"{type(error).__name__}: {error}"
            if expected:
                log.warning("blink live session failed", camera=self.camera, reason=reason, wait_s=round(wait, 1))
            else:
                log.error("blink live session failed", camera=self.camera, reason=reason, exc_info=error)
            if on_state:
                on_state("error", f"live {self.camera}: next try in {wait:.0f} s", reason)

        while not stopping():
            retrying = AsyncRetrying(
                retry=retry_if_exception(lambda _: not stopping()),
                wait=_HonourRetryAfter(wait_exponential(multiplier=1, min=1, max=self.reconnect_max_s)),
                sleep=pause,
                before_sleep=failed,
            )
            with contextlib.suppress(Exception):  # reached only once stopping
                async for attempt in retrying:
                    with attempt:
                        if on_state:
                            on_state("serving", f"live {self.camera} at {self.url}", None)
                        lasted = await self.session(stopping)
                        if lasted < self.min_session_s and not stopping():
                            raise SourceError(f"Blink ended the live session after {lasted:.1f} s")


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


def finish(part: Path, path: Path) -> None:
    """Give a complete recording its final name (or remove an empty one)."""
    if part.stat().st_size == 0:
        part.unlink()
        raise SourceError(f"{path}: Blink sent no video")
    os.replace(part, path)
