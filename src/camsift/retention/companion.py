"""`RetentionCompanion`: retention inside ``camsift run``: repair at start, then a pass on a schedule, and the
``disk_limit`` problem told to the owner."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from camsift.background import BackgroundLoop
from camsift.config import Settings
from camsift.errors import StorageError
from camsift.listeners import Problem
from camsift.logs import get_logger
from camsift.retention.disk import DiskUsage, disk_usage
from camsift.retention.model import Outcome, Plan
from camsift.retention.runner import Retention

if TYPE_CHECKING:
    from camsift.listeners import ServiceContext

__all__ = ["RESOLVE_AFTER_S", "RESOLVE_MARGIN_PCT", "RetentionCompanion"]

log = get_logger("camsift.retention")


RESOLVE_MARGIN_PCT = 5.0
"""Points below ``max_disk_percent`` the disk must be for its ``disk_limit`` problem to be resolved."""

RESOLVE_AFTER_S = 3600.0
"""Seconds without a pass over ``max_disk_percent`` before its ``disk_limit`` problem is resolved."""


class RetentionCompanion(BackgroundLoop):
    """Retention inside ``camsift run``: repair at start, then a pass every ``retention.interval_s``.

    The first pass comes ``first_pass_s`` after the start (the service settles
    first). When the disk is above ``max_disk_percent`` the owner is told once
    (`Problem` ``disk_limit``: what was deleted, and whether that was enough),
    and once more when it is resolved (``resolved=True``): with hysteresis, so a
    disk that retention keeps just under its limit is not a flapping alarm. It
    is resolved only once the disk is `RESOLVE_MARGIN_PCT` points below the
    limit and no pass found it over the limit for `RESOLVE_AFTER_S` seconds;
    until then passes over the limit tell nothing new. The notifier's own
    ``disk_full`` report (``notify.problems.disk_used_pct``) is a separate alarm.

    Args:
        settings: The configuration.
        first_pass_s: Seconds from the start to the first pass.
        usage: Measures the data directory's disk (tests inject a small disk).
        clock: Monotonic seconds (tests advance it).
    """

    name = "retention"

    def __init__(
        self,
        settings: Settings,
        *,
        first_pass_s: float = 60.0,
        usage: Callable[[Path], DiskUsage] = disk_usage,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.first_pass_s = first_pass_s
        self.usage = usage
        self.clock = clock
        self._told = False
        self._last_over = 0.0  # clock() of the last pass that found the disk over the limit
        self.passes = 0

    def start(self, service: ServiceContext) -> None:
        """Repair at once (in the caller: before any source starts), then pass on a thread."""
        store = service.store
        assert store is not None, "the service starts companions once its store is open"
        retention = Retention(self.settings, store, usage=self.usage)
        try:
            retention.repair()
        except StorageError as err:
            log.error("retention repair failed", reason=str(err))
        self._start_loop("retention", self._loop, service, retention)

    def stop(self) -> None:
        """Stop after the batch in progress (a batch is short; a kill midway is repaired at the next start)."""
        self._stop_loop(30)

    def _loop(self, service: ServiceContext, retention: Retention) -> None:
        wait = self.first_pass_s
        while not self._stop.wait(wait):
            wait = self.settings.retention.interval_s
            try:
                plan, outcome = retention.run()
            except Exception:  # a bad pass must not end the schedule
                log.exception("retention pass failed")
                continue
            self.passes += 1
            self._tell(service, plan, outcome)

    def _tell(self, service: ServiceContext, plan: Plan, outcome: Outcome) -> None:
        limit = plan.limit_percent
        after = outcome.disk or plan.disk
        if limit is None:
            return
        if plan.over_limit:
            self._last_over = self.clock()
        if plan.over_limit and not self._told:
            self._told = True
            still = (
                f"It is still {after.percent:.0f} % full: nothing more may be deleted (pinned events, footage "
                "outside camsift, other files on that disk). Free some space or add a disk."
                if after.percent > limit
                else f"It is now {after.percent:.0f} % full."
            )
            service.problem(
                Problem(
                    "disk_limit",
                    f"Data disk {plan.disk.percent:.0f} % full (limit {limit:.0f} %)",
                    f"camsift deleted {len(outcome.deleted)} older items ({outcome.size / 1e6:.0f} MB) from "
                    f"{self.settings.data_dir}, least important first. {still}",
                ),
            )
        elif (
            self._told
            and not plan.over_limit
            and after.percent <= limit - RESOLVE_MARGIN_PCT
            and self.clock() - self._last_over >= RESOLVE_AFTER_S
        ):
            self._told = False
            service.problem(Problem("disk_limit", f"Data disk back to {after.percent:.0f} % full", resolved=True))
