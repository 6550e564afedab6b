"""Requests to paid cloud APIs per UTC day: the daily budget, and the figures ``camsift status`` shows.

Every worker process and every node asks `UsageBoard.spend` before a paid
request; the count lives in the event store (table ``api_usage``), so the
budget holds across processes, restarts and machines sharing one PostgreSQL
store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from camsift.store.clock import Clock, utc_now
from camsift.store.schema import api_usage_table

__all__ = ["Usage", "UsageBoard"]


@dataclass(frozen=True)
class Usage:
    """One service's requests.

    Attributes:
        service: e.g. ``"rekognition"``.
        today: Requests this UTC day.
        month: Requests this UTC calendar month (today included).
    """

    service: str
    today: int
    month: int

    def cost(self, price_per_1000: float) -> tuple[float, float]:
        """Estimated cost today and this month at ``price_per_1000`` (currency of the price)."""
        return self.today * price_per_1000 / 1000, self.month * price_per_1000 / 1000


class UsageBoard:
    """Daily request counts in the ``api_usage`` table.

    Args:
        engine: The event store's engine (`Store.engine`).
        clock: What time it is (`camsift.store.clock`; default the real clock).
    """

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self._clock = clock

    def spend(self, service: str, limit: int, day: date | None = None) -> int | None:
        """Count one request if the day's budget allows it.

        Args:
            service: The API, e.g. ``"rekognition"``.
            limit: Most requests per UTC day; 0 = no limit.
            day: The UTC day (default today).

        Returns:
            The day's count including this request, or ``None`` when the budget is used up
            (nothing is counted then).
        """
        t = api_usage_table
        day = day or self._clock().date()
        key = (t.c.service == service) & (t.c.day == day)
        room = key if limit <= 0 else key & (t.c.requests < limit)
        for _ in range(3):  # the first request of a day races with other processes to insert the row
            with self.engine.begin() as conn:
                if conn.execute(t.update().where(room).values(requests=t.c.requests + 1)).rowcount:
                    return int(conn.execute(sa.select(t.c.requests).where(key)).scalar_one())
                if conn.execute(sa.select(t.c.requests).where(key)).first() is not None:
                    return None  # the row exists and is full
            try:  # no row yet: the day's first request (any limit allows one)
                with self.engine.begin() as conn:
                    conn.execute(t.insert().values(service=service, day=day, requests=1))
                return 1
            except sa.exc.IntegrityError:
                continue
        return None

    def usage(self, service: str, day: date | None = None) -> Usage:
        """Requests to ``service`` on ``day`` (default today) and in its month."""
        t = api_usage_table
        day = day or self._clock().date()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.day, t.c.requests).where(
                    t.c.service == service, t.c.day >= day.replace(day=1), t.c.day <= day
                )
            ).all()
        return Usage(service, sum(n for d, n in rows if d == day), sum(n for _, n in rows))

    def services(self) -> list[str]:
        """Every service with any request recorded, sorted."""
        with self.engine.connect() as conn:
            return sorted(conn.execute(sa.select(api_usage_table.c.service).distinct()).scalars())

    def all(self) -> list[Usage]:
        """`usage` of every service with any request recorded, by name."""
        return [self.usage(service) for service in self.services()]
