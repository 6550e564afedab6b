"""The store's one clock: what "now" is for every table of the `Store`.

Every time a table writes or compares (a lease, an expiry, a pruning cutoff, a day's budget) comes from
one `Clock` that the `Store` is given at construction and hands to each of its tables, so a test can stand
time still and move it on instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "utc_now"]

Clock = Callable[[], datetime]
"""A clock: called with no argument, returns the current time as an aware `datetime` in UTC (not epoch seconds)."""


def utc_now() -> datetime:
    """The real clock: the system time, aware, in UTC."""
    return datetime.now(UTC)
