"""A store clock that a test moves on itself (`camsift.store.clock.Clock`), instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["FakeClock"]


class FakeClock:
    """Stands still at ``start`` until `advance` moves it; pass it as ``Store(..., clock=clock)``.

    Args:
        start: The first time it tells (aware).
    """

    def __init__(self, start: datetime = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        """The current time: aware, UTC."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` on."""
        self.now += timedelta(seconds=seconds)
