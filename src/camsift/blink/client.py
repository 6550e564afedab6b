"""`BlinkClient`: one Blink account through blinkpy, with camsift's types, errors and manners.

blinkpy (the library Home Assistant's Blink integration uses) speaks Blink's
unofficial HTTP API with aiohttp. It is untyped, returns raw dicts, and turns
most failures into ``None`` and a log line. `BlinkClient` and the modules it
is made of are the only place that touches it: everything leaving them is a
camsift dataclass or a camsift error.

It is split by role: the HTTP session, sign-in and token (`camsift.blink.auth`,
whose docstring tells how Blink's refusals become camsift errors and how the
token is renewed), clip listing and download (`camsift.blink.clips`), status
and controls (`camsift.blink.controls`). `BlinkClient` joins them.

Example:
    >>> async def main() -> None:
    ...     async with BlinkClient(Path("camsift-data/blink/token.json")) as client:
    ...         await client.connect()
    ...         print([c.summary() for c in client.status().cameras])
    >>> asyncio.run(main())  # doctest: +SKIP
"""

from __future__ import annotations

from camsift.blink.auth import BlinkSession, ConnectorFactory, retry_after_s
from camsift.blink.clips import BlinkClips
from camsift.blink.controls import BlinkControls, LiveView

__all__ = ["BlinkClient", "BlinkSession", "ConnectorFactory", "LiveView", "default_connector", "retry_after_s"]

default_connector: ConnectorFactory | None = None
"""The transport seam: the connector factory of clients made without one (``None``: aiohttp's own).
The tests and the Blink benchmarks set it to their fake Blink server's connector."""


class BlinkClient(BlinkClips, BlinkControls):
    """One Blink account, opened from its token file (or logged in afresh). Use as ``async with``.

    Args:
        token_file: The login token (`camsift.blink.tokens`); written on login and on every renewal.
        connector: Makes the HTTP connector; default aiohttp's (tests pass one that resolves to a fake).

    Attributes:
        blink: The blinkpy ``Blink`` object (only `camsift.blink` modules may touch it).
    """

    async def __aenter__(self) -> BlinkClient:
        factory = self._connector or default_connector
        self._open(factory() if factory is not None else None)
        return self
