"""``service``: the always-on service's workers and durable job queue."""

from __future__ import annotations

from pydantic import Field

from camsift.config.base import ConfigModel, Seconds

__all__ = ["ServiceConfig"]


class ServiceConfig(ConfigModel):
    """The always-on service (``camsift run``): workers and its durable queue."""

    workers: int | None = Field(
        None, ge=1, description="Worker processes analysing files (each loads the models once); default: CPUs // 2"
    )
    lease_s: Seconds = Field(
        600.0, description="Seconds a claimed job may take before it is handed out again (crash recovery)"
    )
    max_attempts: int = Field(
        3,
        ge=1,
        description="A file whose analysis crashed its worker this many times is given up; the service going "
        "down, a clean stop and a worker killed from outside (SIGKILL, not by the out-of-memory killer) do not count",
    )
    queue_warn: int = Field(20, ge=1, description="Waiting jobs above which a growing queue is reported")
    heartbeat_s: Seconds = Field(2.0, description="Seconds between status updates that 'camsift status' reads")
    keep_jobs_days: float = Field(7.0, gt=0, description="Days finished jobs are kept (they make re-uploads no-ops)")

    @property
    def stale_s(self) -> float:
        """Seconds after which a part's last status update counts as stale (it stopped or was killed): three
        heartbeats and 5 s of slack."""
        return 3 * self.heartbeat_s + 5
