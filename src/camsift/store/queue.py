"""The durable job queue of ``camsift run``: files waiting to be analysed, in the event database.

A source hands a file in with `JobQueue.submit`; the row is committed before
the source acknowledges the file (the FTP server answers ``226`` only after
it), so a crash at any moment loses nothing. The service claims jobs with a
lease, records the results, then marks them done; a job whose lease runs out
(its service died) is handed out again. Processing is therefore at-least-once;
the analysis is idempotent (event ids come from the file's path and content,
and `Store.save` replaces a file's events), so a repeat changes nothing.

States::

    pending ──claim──> leased ──done──> done
       ^                 │  └──crashed──> failed   (its worker died on it max_attempts times: given up)
       ├───crashed───────┤                  │
       ├──lease expired──┤                  │
       ├────release──────┘                  │
       └─────────────retry──────────────────┘   (``camsift retry``: queued again, its count reset)

One service owns a data directory at a time (``camsift run`` holds a lock),
so `JobQueue.release_all` at start hands back what the previous run held.
Only crashes the file itself causes count towards ``max_attempts``: its worker
dying on it while the service lives (`JobQueue.crashed`). The service going
down is never the file's fault: a clean stop hands its jobs back with
`JobQueue.release` and a kill's leases are handed back by `release_all` at the
next start, neither counted. A lease that runs out while its service lives on
(another node of a shared PostgreSQL store took too long) counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from camsift.errors import StorageError
from camsift.store.clock import Clock, utc_now
from camsift.store.engine import insert_new
from camsift.store.schema import jobs_table

__all__ = ["GivenUp", "Job", "JobQueue", "QueueDepth"]


@dataclass(frozen=True)
class Job:
    """One file to analyse.

    Attributes:
        id: Queue id (increasing in submission order).
        path: Absolute path of the file.
        camera: Camera its events belong to.
        source: Name of the source that received it (``sources.<name>`` in the config).
        origin: Kind of that source: ``folder``, ``ftp``, ``stream``, ``record`` …
        attempts: Claims that count against the file, this claim included: the current one, crashes its
            worker had on it, leases that ran out (never a claim cut short by the service going down).
        enqueued_utc: When it was submitted (aware, UTC).
    """

    id: int
    path: Path
    camera: str
    source: str
    origin: str
    attempts: int
    enqueued_utc: datetime


@dataclass(frozen=True)
class QueueDepth:
    """How much work waits.

    Attributes:
        pending: Jobs not yet claimed.
        leased: Jobs being analysed.
        oldest_utc: Submission time of the oldest pending job, if any.
    """

    pending: int
    leased: int
    oldest_utc: datetime | None


@dataclass(frozen=True)
class GivenUp:
    """A file the service gave up on (its worker died on it ``service.max_attempts`` times).

    Attributes:
        path: Absolute path of the file (kept where it was, for ``camsift retry``).
        camera: Its camera.
        source: The source that received it.
        reason: One line: why, and how often.
        when_utc: When it was given up (aware, UTC).
    """

    path: Path
    camera: str
    source: str
    reason: str
    when_utc: datetime | None


class JobQueue:
    """The ``jobs`` table as a queue.

    Args:
        engine: The event store's engine (`Store.engine`); any process may submit.
        clock: What time it is (`camsift.store.clock`; default the real clock).

    Example:
        >>> queue = Store(Path("camsift-data")).jobs  # doctest: +SKIP
        >>> queue.submit(Path("/srv/ftp/porch/snap.jpg"), "porch", "uploads", "ftp")  # doctest: +SKIP
    """

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self._clock = clock

    def submit(self, path: Path, camera: str, source: str, origin: str) -> bool:
        """Make a file durable work; returns ``False`` if this exact file (path, size, mtime) was known.

        Raises:
            StorageError: the file cannot be read or the database refused the write.
        """
        try:
            st = path.stat()
        except OSError as err:
            raise StorageError(f"{path}: cannot queue: {err.strerror or err}") from err
        row = {
            "path": str(path),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "camera": camera,
            "source": source,
            "origin": origin,
            "state": "pending",
            "attempts": 0,
            "enqueued_utc": self._clock(),
        }
        try:
            return insert_new(self.engine, jobs_table, row)
        except sa.exc.SQLAlchemyError as err:
            raise StorageError(f"{path}: cannot queue: {err.__class__.__name__}") from err

    def known(self, path: Path) -> bool:
        """Whether any job (in any state, until pruned) was ever queued for ``path``."""
        query = sa.select(jobs_table.c.id).where(jobs_table.c.path == str(path)).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def claim(self, limit: int, lease_s: float, max_attempts: int, skip: frozenset[str] = frozenset()) -> list[Job]:
        """Lease up to ``limit`` jobs, oldest first.

        Args:
            limit: Most jobs to return.
            lease_s: Seconds before an unfinished claim is handed out again.
            max_attempts: A job whose lease ran out after this many counted claims is marked ``failed`` instead.
            skip: Paths not to hand out now (already being analysed under an earlier job).
        """
        t = jobs_table
        now = self._clock()
        ready = sa.or_(t.c.state == "pending", sa.and_(t.c.state == "leased", t.c.lease_until_utc < now))
        claimed: list[Job] = []
        with self.engine.begin() as conn:
            # Several nodes on one PostgreSQL store: each claims rows no other is claiming (SQLite ignores this;
            # its writers take turns anyway).
            query = sa.select(t).where(ready).order_by(t.c.id).limit(limit + len(skip))
            rows = conn.execute(query.with_for_update(skip_locked=True)).all()
            for row in rows:
                if len(claimed) == limit:
                    break
                if row.path in skip:
                    continue
                if row.attempts >= max_attempts:
                    conn.execute(
                        t.update()
                        .where(t.c.id == row.id)
                        .values(state="failed", done_utc=now, outcome=f"given up after {row.attempts} attempts")
                    )
                    continue
                conn.execute(
                    t.update()
                    .where(t.c.id == row.id)
                    .values(state="leased", attempts=row.attempts + 1, lease_until_utc=now + timedelta(seconds=lease_s))
                )
                claimed.append(
                    Job(row.id, Path(row.path), row.camera, row.source, row.origin, row.attempts + 1, row.enqueued_utc)
                )
        return claimed

    def done(self, job: Job, outcome: str) -> None:
        """Mark a job finished; ``outcome`` says how (``ok``, ``error: …``, ``outside time window`` …)."""
        with self.engine.begin() as conn:
            conn.execute(
                jobs_table.update()
                .where(jobs_table.c.id == job.id)
                .values(state="done", done_utc=self._clock(), outcome=outcome)
            )

    def release(self, jobs: Iterable[Job]) -> int:
        """Hand back jobs claimed by this process, the claim not counted as an attempt; returns how many.

        For a clean shutdown: an analysis that a stop interrupted has not failed, so stopping a service
        while a long clip is analysed never makes it give that clip up. A job claimed again since (its
        lease ran out and another service took it) is left alone.
        """
        t = jobs_table
        released = 0
        with self.engine.begin() as conn:
            for job in jobs:
                mine = sa.and_(t.c.id == job.id, t.c.state == "leased", t.c.attempts == job.attempts)
                result = conn.execute(
                    t.update().where(mine).values(state="pending", attempts=job.attempts - 1, lease_until_utc=None)
                )
                released += result.rowcount
        return released

    def release_all(self) -> int:
        """Hand every leased job back (at service start: the previous run is gone); returns how many.

        The claims are not counted: a service that was killed, lost power or ran out of memory went down
        with its jobs, which were not at fault (a file that kills its worker is counted by `crashed`).
        """
        t = jobs_table
        with self.engine.begin() as conn:
            result = conn.execute(
                t.update()
                .where(t.c.state == "leased")
                .values(
                    state="pending",
                    lease_until_utc=None,
                    attempts=sa.case((t.c.attempts > 0, t.c.attempts - 1), else_=0),
                )
            )
        return result.rowcount

    def crashed(self, job: Job, reason: str, max_attempts: int) -> bool:
        """Count a crash the file caused (its worker died on it); queue it again, or give it up.

        Args:
            job: The job, as claimed by this process.
            reason: One line, e.g. ``"the decoder crashed on this file"``.
            max_attempts: Crashes after which the file is given up (state ``failed``).

        Returns:
            ``True`` if the file was given up, ``False`` if it waits for another try.
        """
        t = jobs_table
        given_up = job.attempts >= max_attempts
        values: dict[str, object] = (
            {
                "state": "failed",
                "done_utc": self._clock(),
                "outcome": f"given up: {reason} ({job.attempts} time{'s' * (job.attempts != 1)})",
            }
            if given_up
            else {"state": "pending", "outcome": f"retrying: {reason}"}
        )
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.id == job.id).values(lease_until_utc=None, **values))
        return given_up

    def retry(self, paths: Iterable[Path] = ()) -> list[Job]:
        """Queue given-up jobs again, their count reset (``camsift retry``); returns them.

        Args:
            paths: The files to retry (absolute); none: every given-up file.
        """
        t = jobs_table
        wanted = [str(p) for p in paths]
        query = t.c.state == "failed"
        if wanted:
            query = sa.and_(query, t.c.path.in_(wanted))
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(t).where(query).order_by(t.c.id)).all()
            conn.execute(t.update().where(query).values(state="pending", attempts=0, outcome=None, done_utc=None))
        return [Job(r.id, Path(r.path), r.camera, r.source, r.origin, 0, r.enqueued_utc) for r in rows]

    def depth(self) -> QueueDepth:
        """Pending and leased jobs, and the age of the oldest pending one."""
        t = jobs_table
        with self.engine.connect() as conn:
            counts: dict[str, int] = dict(conn.execute(sa.select(t.c.state, sa.func.count()).group_by(t.c.state)).all())
            oldest = conn.execute(sa.select(sa.func.min(t.c.enqueued_utc)).where(t.c.state == "pending")).scalar()
        return QueueDepth(counts.get("pending", 0), counts.get("leased", 0), oldest)

    def given_up(self) -> list[GivenUp]:
        """Files given up (state ``failed``), oldest first: what ``camsift status`` and the web app show."""
        t = jobs_table
        query = sa.select(t).where(t.c.state == "failed").order_by(t.c.id)
        with self.engine.connect() as conn:
            return [
                GivenUp(Path(r.path), r.camera, r.source, r.outcome or "given up", r.done_utc)
                for r in conn.execute(query)
            ]

    def jobs(self, state: str | None = None) -> list[tuple[Job, str, str | None]]:
        """Every job (or those in ``state``) with its state and outcome, in submission order."""
        t = jobs_table
        query = sa.select(t).order_by(t.c.id)
        if state is not None:
            query = query.where(t.c.state == state)
        with self.engine.connect() as conn:
            return [
                (
                    Job(r.id, Path(r.path), r.camera, r.source, r.origin, r.attempts, r.enqueued_utc),
                    r.state,
                    r.outcome,
                )
                for r in conn.execute(query)
            ]

    def prune(self, older_than_s: float) -> int:
        """Delete jobs done more than ``older_than_s`` seconds ago; returns how many.

        Given-up jobs are kept until `retry` queues them again: they are what ``camsift status`` lists.
        """
        cutoff = self._clock() - timedelta(seconds=older_than_s)
        t = jobs_table
        with self.engine.begin() as conn:
            result = conn.execute(t.delete().where(t.c.state == "done", t.c.done_utc < cutoff))
        return result.rowcount
