"""``camsift run``: the always-on service.

One main process owns the database writes and the order of things:

1. **sources** receive footage (a watched folder and the FTP server on
   threads of this process, each live stream in a process of its own) and
   hand complete files in through `Intake.submit`, which commits a row in the
   durable job queue before the source acknowledges the file;
2. the **dispatcher** (this process's main loop) claims jobs with a lease
   and gives them to **workers** (`camsift.analysis.pool.Workers`: processes that
   load the models once and run `analyse_file`, as ``camsift scan`` does), so
   a slow detector never blocks a source;
3. each result is **stored** (`Store.save`, one transaction per file), then
   **listeners** hear of new and changed events, then the source's
   `Source.processed` runs (delete, move), then the job is marked done;
4. objects a live stream's process confirmed are told to the listeners at
   once (`camsift.live_events`: looked for every 0.2 s), and a live clip's
   events take the ids of the objects told in progress.

A kill at any moment loses nothing (the job is still pending or leased and
is handed out again at the next start, and so is a notification or MQTT
message a sender had claimed, `Outbox.release_all`) and duplicates no
event (event ids come from the file's path and content and `Store.save` replaces a file's
events; a file already stored with the same size and mtime is not analysed
again). Listeners are told at least once: a job whose file was stored but
that was not marked done is settled at the next start by telling the
listeners of the file's stored events again (see `Service._settle_stored`).
A clean stop (``stop`` set) hands the jobs in analysis back without counting
the attempt, and so does the next start after a kill: only a worker dying on a
file while the service lives counts towards ``service.max_attempts``
(`JobQueue.crashed`); a given-up file is logged, listed by ``camsift status``
and ``camsift retry`` queues it again.

Example:
    >>> stop = threading.Event()  # set it (e.g. from a signal handler) to stop
    >>> Service(load_config(Path("camsift.yaml"))).run(stop)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from camsift import live_events
from camsift.alarms import Alarms
from camsift.analysis.file import FileResult
from camsift.analysis.pool import Workers
from camsift.config import BlinkSourceConfig, Settings, in_time_windows
from camsift.errors import StorageError, disk_full
from camsift.events import FileRecord
from camsift.layout import DataDir
from camsift.listeners import Companion, EventChange, EventListener, Listeners, Problem
from camsift.logs import get_logger
from camsift.sources import Source, create
from camsift.store import Store
from camsift.store.intake import DatabaseIntake
from camsift.store.queue import Job, JobQueue
from camsift.store.status import ServiceBoard

__all__ = ["Service", "configured_parts"]

log = get_logger("camsift.service")

_SOURCES_STOP_S = 10.0
"""Seconds all sources together get to stop at shutdown (they stop in parallel): the longest a source's own
`Source.stop` takes (a stream's 8 s to close its clip, then its kill; a Blink poller's 10 s join)."""


_LIVE_ORIGINS = ("stream", "record")
"""Job origins of a live stream's clips: their events may be objects told in progress (`camsift.live_events`)."""

_FULL_RETRY_S = 2.0
"""Seconds between tries to write while the data disk is full."""


@dataclass
class _Parts:
    """What a running service works with."""

    store: Store
    queue: JobQueue
    board: ServiceBoard
    workers: Workers
    alarms: Alarms


class Service:
    """The always-on service: sources, durable queue, workers, store, listeners.

    Args:
        settings: The configuration (``sources``, ``service``, cameras …).
        listeners: Told of every new or changed stored event (`EventListener`);
            those that also have ``on_problem`` (`ProblemListener`) hear of `problem` reports, and those
            with ``on_analysed`` (`AnalysisListener`) whether each file's analysis failed.
        companions: Started once the store is open, stopped in reverse order at shutdown (`Companion`).
        workers: Worker processes; default ``service.workers``, else CPUs // 2.

    Attributes:
        store: The open event store while `run` runs (``None`` before and after).
        listeners: The listeners, told of events, problems and analyses (`Listeners`).

    Raises:
        StorageError: (from `run`) the data directory is in use by another
            ``camsift run``, or the database cannot be opened.
        SourceError: (from `run`) a source cannot start (a port is taken …).
        DetectorError: (from `run`) the detector cannot be loaded.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        listeners: Sequence[EventListener] = (),
        companions: Sequence[Companion] = (),
        workers: int | None = None,
    ) -> None:
        self.settings = settings
        self.listeners = Listeners(listeners)
        self.companions = list(companions)
        self.store: Store | None = None
        cpus = os.cpu_count() or 1
        self.jobs = workers or settings.service.workers or max(1, cpus // 2)
        self.threads = settings.detect.threads or max(1, cpus // self.jobs)
        self.wake = threading.Event()
        self.sources: dict[str, Source] = {}
        self._in_flight: dict[str, Job] = {}
        self._deferred: list[tuple[Job, FileResult]] = []  # results not stored yet (a full disk), oldest first
        self._full_since: float | None = None  # monotonic time the data disk was found full
        self._last_pending = 0
        # sources that tell objects in progress: live streams, and Blink's live views (stream processes too)
        self._live = any(
            c.type == "stream" or (isinstance(c, BlinkSourceConfig) and c.live) for c in settings.sources.values()
        )

    def run(self, stop: threading.Event) -> None:
        """Serve until ``stop`` is set, then stop within a few seconds (queue kept, clips flushed)."""
        s = self.settings
        with _Exclusive(s.data_dir) as _, Store(s.data_dir, s.database) as store:
            queue, board = store.jobs, store.board
            board.forget()
            released, unleased = queue.release_all(), store.outbox.release_all()
            queue.prune(s.service.keep_jobs_days * 86400)
            store.live.prune(s.service.keep_jobs_days * 86400)
            started = datetime.now(UTC)
            board.report("service", "service", "starting", pid=os.getpid(), started_utc=started)
            intake = DatabaseIntake(store, wake=self.wake.set)
            workers = Workers(s, self.jobs, self.threads, warm=True)
            alarms = Alarms(s, store)
            log.info(
                "service starting",
                workers=self.jobs,
                sources=list(s.sources),
                resumed_jobs=released,
                resumed_messages=unleased,
            )
            self.store = store
            started_companions: list[Companion] = []
            try:
                for companion in self.companions:
                    started_companions.append(companion)
                    companion.start(self)
                for name, config in s.sources.items():
                    self.sources[name] = create(name, config, s, intake)
                    self.sources[name].start()
                self._loop(stop, _Parts(store, queue, board, workers, alarms))
            finally:
                self._stop_sources()
                for companion in reversed(started_companions):
                    try:
                        companion.stop()
                    except Exception:
                        log.exception("companion failed to stop", companion=companion.name)
                self.store = None
                workers.close(now=True)
                # results a full disk held back are handed back too; one cut short by a crash is settled at the
                # next start, as after a kill (`_settle_stored`)
                waiting = self._deferred if self._full_since is not None else []
                unfinished = [*self._in_flight.values(), *(job for job, _ in waiting)]
                try:
                    handed_back = queue.release(unfinished)
                except Exception as err:  # a full disk: the leases are handed back at the next start instead
                    if not disk_full(err):
                        raise
                    handed_back = 0
                with contextlib.suppress(Exception):  # a full disk: 'camsift status' sees a stale heartbeat
                    board.report("service", "service", "stopped", f"{len(unfinished)} jobs left for the next start")
                log.info("service stopped", unfinished=len(unfinished), handed_back=handed_back)

    def _stop_sources(self) -> None:
        """Stop every source at once, then wait for them all together for at most `_SOURCES_STOP_S` seconds.

        `Source.stop` blocks until its source has stopped (a watcher thread joined, a stream's clip closed),
        so each runs on a thread of its own and shutdown takes as long as the slowest source, not their sum.
        A source still stopping at the deadline is logged and left to its daemon thread (a stream's process
        also stops by itself once the service is gone).
        """
        stopping = [
            (name, threading.Thread(target=self._stop_source, args=(name,), name=f"camsift-stop-{name}", daemon=True))
            for name in self.sources
        ]
        for _, thread in stopping:
            thread.start()
        deadline = time.monotonic() + _SOURCES_STOP_S
        for name, thread in stopping:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("source did not stop in time; leaving it", source=name, waited_s=_SOURCES_STOP_S)

    def _stop_source(self, name: str) -> None:
        try:
            self.sources[name].stop()
        except Exception:
            log.exception("source failed to stop", source=name)

    def _loop(self, stop: threading.Event, parts: _Parts) -> None:
        s = self.settings.service
        next_beat = 0.0
        began = time.monotonic()
        while not stop.is_set():
            try:
                if self._full_since is not None:
                    parts.board.report("service", "service", "running", "data disk full: waiting for space")  # probe
                    self._store_results(parts)
                    self._disk_has_space()
                free = self.jobs - parts.workers.busy
                if free > 0 and self._full_since is None:
                    for job in parts.queue.claim(free, s.lease_s, s.max_attempts, frozenset(self._in_flight)):
                        self._dispatch(job, parts)
                if parts.workers.busy:
                    results = parts.workers.poll(0.2)
                else:
                    self.wake.wait(live_events.POLL_S if self._live else 0.5)
                    self.wake.clear()
                    results = []
                if self._live:
                    self._announce_live(parts)
                for result in results:  # kept until stored: a full disk holds them here
                    self._deferred.append((self._in_flight.pop(str(result.path)), result))
                self._store_results(parts)
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + s.heartbeat_s
                    self._heartbeat(parts.queue, parts.board)
                    if self._live and time.monotonic() - began >= live_events.ORPHAN_AFTER_S:
                        self._announce_live(parts, orphans=True)
            except Exception as err:
                if not disk_full(err):
                    raise
                self._disk_full(err)
                stop.wait(_FULL_RETRY_S)

    def _disk_full(self, err: BaseException) -> None:
        """Enter (or stay in) the disk-full state: nothing new is claimed, results wait in memory, the owner is
        told once; their jobs stay leased in the database, so a kill meanwhile loses nothing."""
        if self._full_since is not None:
            return
        self._full_since = time.monotonic()
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        log.error("data disk full: waiting for space; FTP uploads are refused meanwhile", reason=reason)
        self._tell_sources_full(True)
        self.problem(  # the notifier's own disk check uses this key too: the owner hears of a full disk once
            Problem(
                "disk_full",
                "Data disk full: camsift is waiting",
                f"The disk of {self.settings.data_dir} is full ({reason}). camsift keeps what it received, refuses "
                "new FTP uploads (cameras retry them) and goes on by itself once space is freed; 'camsift "
                "retention' frees space by the retention rules.",
            )
        )

    def _store_results(self, parts: _Parts) -> None:
        """Store the results waiting in `_deferred`, oldest first, each taken off once stored (see `_finish`).

        A result whose file was stored before the disk filled (its listeners may not all have heard) is settled
        as at a restart (`_settle_stored`); one whose analysis failed for lack of space is analysed again.
        """
        while self._deferred:
            job, result = self._deferred[0]
            known = parts.store.file(job.path) if self._full_since is not None else None
            if known is not None and result.record is not None and known.processed_utc >= job.enqueued_utc:
                self._settle_stored(job, known, parts)
            else:
                self._finish(job, result, parts)
            self._deferred.pop(0)

    def _disk_has_space(self) -> None:
        """Leave the disk-full state: sources take uploads again, the owner hears it is over."""
        assert self._full_since is not None
        waited = time.monotonic() - self._full_since
        self._full_since = None
        log.info("data disk has space again; going on", waited_s=round(waited, 1))
        self._tell_sources_full(False)  # the notifier's disk check tells the owner once it is below its limit

    def _tell_sources_full(self, full: bool) -> None:
        for source in self.sources.values():
            set_full = getattr(source, "set_disk_full", None)
            if set_full is not None:
                set_full(full)

    def _heartbeat(self, queue: JobQueue, board: ServiceBoard) -> None:
        depth = queue.depth()
        detail = f"{depth.pending} waiting, {depth.leased} in analysis, {self.jobs} workers"
        if depth.pending > self.settings.service.queue_warn and depth.pending > self._last_pending:
            age = (datetime.now(UTC) - depth.oldest_utc).total_seconds() if depth.oldest_utc else 0.0
            log.warning("queue is growing", waiting=depth.pending, oldest_s=round(age, 1))
            detail += f"; queue growing, oldest waiting {age:.0f} s"
        self._last_pending = depth.pending
        board.report("service", "service", "running", detail)

    def _dispatch(self, job: Job, parts: _Parts) -> None:
        """Start a job, or settle it at once (file gone, outside the time window, already stored)."""
        store, queue = parts.store, parts.queue
        if job.path.is_symlink():  # made a link since it was handed in: never read through it
            queue.done(job, "error: the file became a link; not followed")
            log.warning("file became a link before analysis; not followed", path=str(job.path))
            return
        known = store.file(job.path)
        try:
            st = job.path.stat()
        except OSError:
            outcome = "already processed (file gone)" if known else "error: the file vanished before analysis"
            queue.done(job, outcome)
            log.warning("file gone before analysis", path=str(job.path), outcome=outcome)
            return
        camera = self.settings.cameras.get(job.camera)
        local = job.enqueued_utc.astimezone(self.settings.tz()).time()
        if camera is not None and not in_time_windows(camera.time_windows, local):
            queue.done(job, "outside time window: kept, not analysed")
            log.info("outside time window: kept, not analysed", path=str(job.path), camera=job.camera)
            return
        if known is not None and known.size == st.st_size and known.mtime == st.st_mtime:
            self._settle_stored(job, known, parts)
            return
        parts.workers.submit(job.path, job.camera)
        self._in_flight[str(job.path)] = job

    def _settle_stored(self, job: Job, known: FileRecord, parts: _Parts) -> None:
        """Settle a job whose file is stored as it is now; tell the listeners again if this job stored it.

        A file stored after its job was queued was stored by this very job, in a run killed before the job
        was marked done: perhaps before the listeners heard of it (`_finish` stores, tells, then marks done).
        Its stored events are then told again, as ``new`` changes with their alarms decided again, so a kill
        loses no notification or MQTT message. That is at-least-once, not twice-notified: the notifier's
        outbox holds one message per channel and key (``event:<id>``) and its cooldown mark remembers the
        event that set it, so telling it again queues nothing new; an MQTT client may see an event twice.
        A file stored before the job was queued (handed in again once its old job was pruned) was told
        then, and is not told again.
        """
        events = parts.store.events(source=job.path)
        if known.processed_utc >= job.enqueued_utc:
            log.info("file stored before a restart; telling the listeners again", path=str(job.path))
            alarm = parts.alarms.decide(events, stored=known)
            for event in events:
                self._publish(EventChange("new", None, event, alarm[event.id], job.origin))
            if job.origin in _LIVE_ORIGINS:
                match = live_events.match_clip(parts.store.live, known, events)
                live_events.drop(parts.store.live, match, known, job.origin, self._publish)
        self._processed(job, len(events))
        parts.queue.done(job, "ok (already recorded)")

    def _finish(self, job: Job, result: FileResult, parts: _Parts) -> None:
        """Store a result, tell the listeners, clear the file away, mark the job done (in this order, see
        `_settle_stored`)."""
        store, queue = parts.store, parts.queue
        if result.record is None:  # its worker died on it: nothing to store
            self._crashed(job, result.error or "its worker died", parts)
            return
        if result.error is not None and disk_full(result.error):  # its snapshots could not be written
            if self._full_since is None:
                raise StorageError(f"{job.path}: {result.error}")
            parts.workers.submit(job.path, job.camera)  # space is back (see `_store_results`): analyse it again
            self._in_flight[str(job.path)] = job
            return
        events = result.events
        match = live_events.ClipMatch(events, {}, [])
        if job.origin in _LIVE_ORIGINS:
            events = [e.replace(clip=job.path) for e in events]
            self._announce_live(parts)  # an object of this clip not told yet is told first
            match = live_events.match_clip(store.live, result.record, events)
            events = match.events
        before = {e.id: e for e in store.events(source=job.path)}
        changed = [e for e in events if before.get(e.id) != e]
        alarm = parts.alarms.decide([e for e in changed if e.id not in before and e.id not in match.started])
        store.save(result.record, events)
        for event in changed:
            previous = before.get(event.id)
            if previous is None and (started := match.started.get(event.id)) is not None:
                self._publish(EventChange("end", started.event(), event, bool(started.alarm), job.origin))
            else:
                kind: Literal["new", "update"] = "new" if previous is None else "update"
                self._publish(EventChange(kind, previous, event, alarm.get(event.id, False), job.origin))
        live_events.drop(store.live, match, result.record, job.origin, self._publish)
        self._processed(job, len(events))
        queue.done(job, f"error: {result.error}" if result.error else "ok")
        latency = (datetime.now(UTC) - job.enqueued_utc).total_seconds()
        fields = {"path": str(job.path), "camera": job.camera, "events": len(events), "latency_s": round(latency, 2)}
        if result.error:
            log.warning("file analysed with an error", reason=result.error, **fields)
        else:
            log.info("file analysed", **fields)
        self.listeners.analysed(job.path, job.camera, result.error if result.record.status == "error" else None)

    def _announce_live(self, parts: _Parts, orphans: bool = False) -> None:
        """`camsift.live_events.look`: tell new live objects (and with ``orphans`` end those no clip shows)."""
        live_events.look(parts.store, parts.alarms, self.settings, self._publish, orphans=orphans)

    def _crashed(self, job: Job, reason: str, parts: _Parts) -> None:
        """Count a crash against a file: queue it again, or give it up after ``service.max_attempts``.

        A given-up file stays where it is (``remove_files`` and ``delete_after`` wait for it), is listed
        by ``camsift status`` and the web app, and ``camsift retry`` queues it again.
        """
        limit = self.settings.service.max_attempts
        fields = {"path": str(job.path), "camera": job.camera, "reason": reason, "crashes": job.attempts}
        if parts.queue.crashed(job, reason, limit):
            log.error("file given up; 'camsift retry' queues it again", max_attempts=limit, **fields)
            self.listeners.analysed(job.path, job.camera, f"given up: {reason}")
        else:
            log.warning("worker died on a file; retrying it", max_attempts=limit, **fields)
            self.wake.set()

    def _processed(self, job: Job, events: int) -> None:
        name = job.source  # a part of a source ("<source>/live/<camera>") is handled by its source
        while name not in self.sources and "/" in name:
            name = name.rpartition("/")[0]
        source = self.sources.get(name)
        if source is not None:
            source.processed(job.path, events)

    def problem(self, problem: Problem) -> None:
        """Tell every listener with ``on_problem`` of a problem (or that it is resolved); never raises."""
        self.listeners.problem(problem)

    def _publish(self, change: EventChange) -> None:
        """Tell every listener (`Listeners.event`); a full disk is raised after all were told (the job is then not
        done, and is settled again once there is space: see `_store_results`)."""
        self.listeners.event(change)


def configured_parts(settings: Settings) -> tuple[list[EventListener], list[Companion]]:
    """The features that plug into the service as ``settings`` asks (notifications, MQTT, retention, web app).

    One explicit block per feature; each imports its module lazily, so an
    unconfigured feature costs nothing.

    Returns:
        ``(listeners, companions)`` for `Service`.
    """
    listeners: list[EventListener] = []
    companions: list[Companion] = []
    if settings.notify.channels:  # notifications: rules, outbox, sender thread, problem alerts
        from camsift.notify import Notifier

        notifier = Notifier(settings)
        listeners.append(notifier)
        companions.append(notifier)
    if settings.mqtt.enabled:  # MQTT: events, counts, snapshots, motion, Home Assistant discovery
        from camsift.mqtt import MqttPublisher

        mqtt = MqttPublisher(settings)
        listeners.append(mqtt)
        companions.append(mqtt)
    if settings.retention.enabled:  # retention: repair at start, then age rules and the disk limit on a schedule
        from camsift.retention import RetentionCompanion

        companions.append(RetentionCompanion(settings))
    if settings.web.enabled:  # the web app: uvicorn on a thread, sharing the service's store
        from camsift.web import WebCompanion

        companions.append(WebCompanion(settings))
    return listeners, companions


class _Exclusive:
    """Holds ``<data_dir>/camsift-run.lock`` so that one service at a time uses a data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = DataDir(data_dir).run_lock
        self._file: IO[str] | None = None

    def __enter__(self) -> Path:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a+")
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise StorageError(f"{self.path.parent}: another 'camsift run' is using this data directory") from err
        except OSError as err:
            raise StorageError(f"{self.path}: cannot lock the data directory: {err.strerror or err}") from err
        return self.path

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
