"""`Notifier`: rules to outbox to channels, inside ``camsift run`` (or after ``camsift scan --notify``).

Flow: the service calls `Notifier.on_event` once an event is stored, or as soon
as an object is confirmed on a live stream (`camsift.live_events`); the rules
that pass (conditions, quiet hours, a cooldown kept in the database) put one
message per channel in the outbox (`camsift.store.outbox`), committed before
anything is sent, and wake the channels' sender threads (one per channel, so a
slow, throttled or failing channel never holds the others back). Each sends
its channel's messages in order; a channel that fails is tried again after
5 s, 10 s, 20 s … (``notify.retry_first_s`` doubling up to ``retry_max_s``)
while its later messages wait, so when it comes back every pending message
arrives once, in order. Messages still pending at a restart are sent then.

A checks thread sends the daily digest, and every ``problems.check_s`` looks
at the status board (a source in error or reconnecting for ``source_down_s``)
and the data disk (``disk_used_pct``); those, repeated analysis failures
(`on_analysed`) and the `Problem` reports of other parts (`on_problem`) are
told once per problem, again at most every ``repeat_s``, and once more when
resolved.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import TYPE_CHECKING

from camsift.background import Backoff
from camsift.config import Settings
from camsift.errors import NotifyError, disk_full
from camsift.listeners import EventChange, Problem
from camsift.logs import get_logger
from camsift.notify.rules import digest_message, event_message, matches, problem_message, quiet, rules_of, within
from camsift.notify.senders import SEND_TIMEOUT_S, Sender, create_sender
from camsift.store import Store
from camsift.store.outbox import Marks, Message, Outbox
from camsift.store.status import ServiceBoard

if TYPE_CHECKING:
    from camsift.listeners import ServiceContext

__all__ = ["Notifier"]

log = get_logger("camsift.notify")

_KEEP_S = 30 * 86400.0
"""Sent and failed messages are kept this long (for the record), then forgotten."""

_DOWN_STATES = frozenset({"error", "connecting", "backing off", "login needed"})
"""Source states on the status board that count as down."""

_ACT_NOW_STATES = frozenset({"login needed"})
"""States only the owner can fix (Blink asks for a new login): told at once, not after ``source_down_s``."""


@dataclass
class _Backoff(Backoff):
    """A channel's retry state, in memory: failures in a row and when to try again (monotonic seconds)."""

    until: float = 0.0


class Notifier:
    """Notifications: an `EventListener` (with ``on_problem``, ``on_analysed``) and a `Companion`.

    Args:
        settings: The configuration (``notify`` section, time zone, data directory).

    Raises:
        ConfigError: a channel's URL is not one apprise can use.

    Example:
        >>> notifier = Notifier(settings)  # doctest: +SKIP
        >>> Service(settings, listeners=[notifier], companions=[notifier]).run(stop)  # doctest: +SKIP
    """

    name = "notify"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = settings.notify
        self.senders: dict[str, Sender] = {n: create_sender(n, c) for n, c in self.config.channels.items()}
        self.rules = rules_of(settings)
        self.store: Store | None = None
        self.outbox: Outbox | None = None
        self.marks: Marks | None = None
        self._board: ServiceBoard | None = None
        self._told: dict[str, float] = {}
        self._report: Callable[[Problem], None] = self.on_problem
        self._wakes = {channel: threading.Event() for channel in self.senders}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._backoff: dict[str, _Backoff] = {}
        self._failures_in_row = 0
        self._sent_directly: set[str] = set()  # problems sent without the outbox (a full disk), by key
        self._down_since: dict[str, float] = {}
        self._next_check = 0.0

    # --- life --------------------------------------------------------------------------------------------------

    def attach(self, store: Store) -> Notifier:
        """Use ``store``'s database for the outbox and marks (done by `start`; call it to use the notifier alone)."""
        self.store, self.outbox, self.marks = store, store.outbox, store.notify_marks
        self._board = store.board
        self.outbox.prune(_KEEP_S)
        return self

    def start(self, service: ServiceContext) -> None:
        """Attach to the running service's store; start a sender thread per channel and the checks' thread."""
        assert service.store is not None
        self.attach(service.store)
        self._report = service.problem
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._send_loop, args=(channel,), name=f"camsift-notify-{channel}", daemon=True)
            for channel in self.senders
        ]
        self._threads.append(threading.Thread(target=self._check_loop, name="camsift-notify-checks", daemon=True))
        for thread in self._threads:
            thread.start()
        log.info("notifications on", channels=sorted(self.senders), rules=sorted(self.rules))

    def stop(self) -> None:
        """Stop the threads (a send in progress finishes first, up to the send timeout)."""
        self._stop.set()
        for wake in self._wakes.values():
            wake.set()
        for thread in self._threads:
            thread.join(timeout=SEND_TIMEOUT_S + 5)
        self._threads = []

    def _send_loop(self, channel: str) -> None:
        """One channel's sender: apprise spaces a channel's messages (5.5 s for most services), and a slow or
        failing channel must not hold the others back."""
        wake = self._wakes[channel]
        while not self._stop.is_set():
            try:
                self.deliver_channel(channel)
            except Exception:  # a database hiccup must not end notifications for good
                log.exception("notification sender failed; going on", channel=channel)
            wake.wait(timeout=1.0)
            wake.clear()

    def _check_loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self._housekeeping()
            except Exception:
                log.exception("notification checks failed; going on")

    def flush(self, timeout_s: float) -> bool:
        """Send what is pending now, retrying failed channels, for up to ``timeout_s`` seconds.

        For use without the sender thread (``camsift scan --notify``). Returns ``True`` when nothing is left.
        """
        outbox = self._outbox()
        deadline = time.monotonic() + timeout_s
        while True:
            self.deliver()
            left = outbox.pending_channels() & set(self.senders)
            if not left or time.monotonic() >= deadline:
                return not left
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    # --- listening -----------------------------------------------------------------------------------------------

    def on_event(self, change: EventChange) -> None:
        """Queue a message per channel of every rule that passes (conditions, quiet hours, cooldown).

        One message per event and channel (key ``event:<id>``): an object told in progress on a live stream
        (``start``) is notified then, and its ``end`` (the stored event, same id) queues nothing more; an ``end``
        with ``false_positive`` is never notified.
        """
        if change.false_positive:
            return
        outbox, marks = self._outbox(), self._marks()
        e = change.after
        now = datetime.now(UTC).astimezone(self.settings.tz())
        queued = []
        with self._lock:
            for name, rule in self.rules.items():
                if not matches(rule, change) or quiet(rule, now):
                    continue
                key = f"cooldown:{name}:{e.camera}:{e.label}"
                mark = marks.get(key)
                if mark is not None and mark.detail != e.id and within(e.start_utc, mark.at_utc, rule.cooldown_s):
                    log.info("notification held by cooldown", rule=name, event_id=e.id, camera=e.camera)
                    continue
                marks.set(key, e.start_utc, e.id)
                message = event_message(e, self.settings)
                queued += [c for c in rule.channels or self.senders if outbox.put(c, message)]
        if queued:
            log.info("notification queued", event_id=e.id, camera=e.camera, label=e.label, channels=queued)
            self._wake(queued)

    def on_problem(self, problem: Problem) -> None:
        """Queue a message about a problem once, again at most every ``problems.repeat_s``, and when resolved.

        When the outbox cannot be written because the data disk is full, the message is sent at once on a
        thread of its own instead (once per problem while it lasts): the owner must hear of a full disk.
        """
        cfg = self.config.problems
        if not cfg.enabled:
            return
        told_directly = problem.key in self._sent_directly
        if problem.resolved:
            self._sent_directly.discard(problem.key)
        try:
            if problem.resolved and told_directly:  # its start left no mark: tell the end without looking
                self._queue(problem_message(problem, datetime.now(UTC), self.settings), cfg.channels)
            else:
                self._queue_problem(problem)
        except Exception as err:
            if not disk_full(err):
                raise
            if told_directly and not problem.resolved:
                return
            if not problem.resolved:
                self._sent_directly.add(problem.key)
            message = problem_message(problem, datetime.now(UTC), self.settings)
            channels = [c for c in cfg.channels or self.senders if c in self.senders]
            threading.Thread(
                target=self._send_directly, args=(message, channels), name="camsift-notify-now", daemon=True
            ).start()

    def _send_directly(self, message: Message, channels: list[str]) -> None:
        """Send a message without the outbox (it cannot be written), once per channel, failures logged."""
        for channel in channels:
            try:
                self.senders[channel].send(message)
            except NotifyError as err:
                log.error("notification not sent (outbox full)", channel=channel, key=message.key, reason=str(err))
            else:
                log.info("notification sent without the outbox (data disk full)", channel=channel, key=message.key)

    def _queue_problem(self, problem: Problem) -> None:
        cfg = self.config.problems
        marks = self._marks()
        key = f"problem:{problem.key}"
        now = datetime.now(UTC)
        with self._lock:
            mark = marks.get(key)
            is_open = mark is not None and mark.detail == "open"
            if problem.resolved and not is_open:
                return
            if not problem.resolved and is_open and mark is not None and within(now, mark.at_utc, cfg.repeat_s):
                return
            marks.set(key, now, "resolved" if problem.resolved else "open")
        self._queue(problem_message(problem, now, self.settings), cfg.channels)

    def on_analysed(self, path: Path, camera: str, error: str | None) -> None:
        """Count files in a row whose analysis failed; report ``problems.failures`` of them, and the recovery."""
        if error is None:
            self._failures_in_row = 0
            self._tell(Problem("processing_failures", "File analysis works again", resolved=True))
            return
        self._failures_in_row += 1
        if self._failures_in_row >= self.config.problems.failures:
            detail = (
                f"The last {self._failures_in_row} files could not be analysed. The last one: {path} "
                f"(camera {camera}): {error}\nSee 'camsift status' and the service's log."
            )
            self._tell(Problem("processing_failures", f"{self._failures_in_row} files in a row failed", detail))

    def _tell(self, problem: Problem) -> None:
        """Report a problem this notifier found: when it starts, again every ``repeat_s``, and when it ends."""
        now = time.monotonic()
        if problem.resolved:
            if self._told.pop(problem.key, None) is not None:
                self._report(problem)
            return
        told = self._told.get(problem.key)
        if told is None or now - told >= self.config.problems.repeat_s:
            self._told[problem.key] = now
            self._report(problem)

    def _queue(self, message: Message, channels: list[str]) -> None:
        outbox = self._outbox()
        queued = [c for c in channels or self.senders if outbox.put(c, message)]
        if queued:
            log.info("notification queued", key=message.key, kind=message.kind, channels=queued)
            self._wake(queued)

    def _wake(self, channels: list[str]) -> None:
        for channel in channels:
            self._wakes[channel].set()

    def _outbox(self) -> Outbox:
        if self.outbox is None:
            raise NotifyError("notifications are not attached to an event store (call start or attach first)")
        return self.outbox

    def _marks(self) -> Marks:
        self._outbox()
        assert self.marks is not None
        return self.marks

    # --- sending -------------------------------------------------------------------------------------------------

    def deliver(self) -> int:
        """Send every due message of every channel that is not waiting out a failure; returns how many were sent."""
        return sum(self.deliver_channel(c) for c in sorted(self._outbox().pending_channels() & set(self.senders)))

    def deliver_channel(self, channel: str) -> int:
        """Send ``channel``'s due messages in order, unless it is waiting out a failure; returns how many were sent.

        A failed send keeps the message (and the ones after it) pending and makes the channel wait
        ``retry_first_s``, doubling up to ``retry_max_s``; a message older than ``give_up_s`` is given up.
        """
        outbox = self._outbox()
        backoff = self._backoff.setdefault(channel, _Backoff(self.config.retry_first_s, self.config.retry_max_s))
        sent = 0
        if time.monotonic() < backoff.until:
            return sent
        for queued in outbox.due(channel):
            if self._stop.is_set() or not outbox.claim(queued.id, SEND_TIMEOUT_S * 4):
                break
            age = (datetime.now(UTC) - queued.created_utc).total_seconds()
            try:
                self.senders[channel].send(queued.message)
            except NotifyError as err:
                if age > self.config.give_up_s:
                    outbox.give_up(queued.id, str(err))
                    log.error("notification given up", channel=channel, key=queued.message.key, reason=str(err))
                    continue
                outbox.retry(queued.id, str(err))
                wait = backoff.fail()
                backoff.until = time.monotonic() + wait
                log.warning("notification failed; will try again", channel=channel, retry_s=wait, reason=str(err))
                break
            outbox.sent(queued.id)
            sent += 1
            backoff.reset()
            log.info("notification sent", channel=channel, key=queued.message.key, waited_s=round(age, 3))
        return sent

    # --- digest and problem checks ---------------------------------------------------------------------------------

    def _housekeeping(self) -> None:
        if self.config.digest.channels:
            self.digest_if_due(datetime.now(UTC))
        if self.config.problems.enabled and time.monotonic() >= self._next_check:
            self._next_check = time.monotonic() + self.config.problems.check_s
            self.check_sources()
            self.check_disk()

    def digest_if_due(self, now: datetime) -> bool:
        """Queue the daily digest if ``digest.at`` has passed today and it was not sent yet; ``True`` if queued.

        The digest covers the events since the previous one (at most a day, at first).
        """
        marks = self._marks()
        local = now.astimezone(self.settings.tz())
        at = clock.fromisoformat(self.config.digest.at)
        scheduled = datetime.combine(local.date(), at, local.tzinfo)
        last = marks.get("digest")
        if local < scheduled or (last is not None and last.at_utc >= scheduled):
            return False
        since = last.at_utc if last is not None else scheduled - timedelta(days=1)
        assert self.store is not None
        events = self.store.events(since=since, until=scheduled)
        marks.set("digest", scheduled)
        self._queue(digest_message(events, since, scheduled, self.settings), self.config.digest.channels)
        return True

    def check_sources(self) -> None:
        """Report a source in error or reconnecting for ``problems.source_down_s``, and its recovery."""
        if self._board is None:
            return
        limit = self.config.problems.source_down_s
        for part in self._board.components():
            if not part.name.startswith("source:"):
                continue
            name = part.name.removeprefix("source:")
            key = f"source_down:{name}"
            if part.state not in _DOWN_STATES:
                self._down_since.pop(name, None)
                self._tell(Problem(key, f"Source {name} is back", f"State now: {part.state}.", resolved=True))
                continue
            since = self._down_since.setdefault(name, time.monotonic())
            if part.state in _ACT_NOW_STATES or time.monotonic() - since >= limit:
                minutes = (time.monotonic() - since) / 60
                detail = (
                    f"Source {name} ({part.kind}) has been {part.state} for {minutes:.0f} minutes.\n"
                    f"Last error: {part.last_error or 'none recorded'}\ncamsift keeps trying; see 'camsift status'."
                )
                title = (
                    f"Source {name}: {part.state}"
                    if part.state in _ACT_NOW_STATES
                    else f"Source {name} down for {minutes:.0f} minutes"
                )
                self._tell(Problem(key, title, detail))

    def check_disk(self) -> None:
        """Report the data directory's disk when it is ``problems.disk_used_pct`` full (resolved 2 points below)."""
        try:
            usage = shutil.disk_usage(self.settings.data_dir)
        except OSError:
            return
        pct = 100 * usage.used / usage.total if usage.total else 0.0
        limit = self.config.problems.disk_used_pct
        if pct >= limit:
            detail = (
                f"The disk of {self.settings.data_dir.resolve()} is {pct:.0f} % full "
                f"({usage.free / 2**30:.1f} GiB free). Delete old clips or shorten retention."
            )
            self._tell(Problem("disk_full", f"Data disk {pct:.0f} % full", detail))
        elif pct < limit - 2:
            self._tell(Problem("disk_full", f"Data disk back to {pct:.0f} % full", resolved=True))
