"""The in-process hook through which the service tells other features about events.

The service calls every registered `EventListener` in its main process after
the events of a file are safely stored, so a listener never sees an event
that a crash could take back. It is the seam for notifiers and MQTT: they
implement ``on_event`` and are passed to `camsift.service.Service`.

Kinds, after Frigate's ``frigate/events`` messages:

- ``new``: an event stored for the first time, its footage complete
  (``before`` is ``None``);
- ``update``: a stored event that changed (analysed again, a face named …);
  ``before`` and ``after`` are both set;
- ``start``: an object confirmed on a live stream, in progress, before its
  clip is closed (``before`` is ``None``; ``after``'s snapshot is the frame
  it was confirmed in, it has no clip yet; `camsift.store.live`);
- ``end``: the end of a started event: its clip was analysed and ``after``
  is the stored event, with the same id (``before`` is the started one); or,
  with ``false_positive``, the analysis did not find the object and nothing
  is stored (``after`` is the started event).

Events reach the store when their footage is complete: a file when it has
been analysed, a live stream's event when its clip is closed (at most
``record.max_clip_s`` after it started). A repeated analysis of the same file
(at-least-once delivery) produces no change at all. ``alarm`` says whether the camera's alarm rules
(``alarm.mode``, labels, ``cooldown_s``) want someone told.

Example:
    >>> class Printer:
    ...     def on_event(self, change: EventChange) -> None:
    ...         print(change.kind, change.after.camera, change.after.label, change.alarm)
    >>> Service(settings, listeners=[Printer()])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from camsift.errors import disk_full
from camsift.events import Event
from camsift.logs import get_logger

if TYPE_CHECKING:
    from camsift.store import Store

__all__ = [
    "AnalysisListener",
    "Companion",
    "EventChange",
    "EventListener",
    "Listeners",
    "Problem",
    "ProblemListener",
    "ServiceContext",
]


log = get_logger("camsift.listeners")


@dataclass(frozen=True)
class EventChange:
    """One change to a stored event.

    Attributes:
        kind: ``"new"``, ``"update"``, ``"start"`` or ``"end"`` (see the module docstring).
        before: The event as stored (or started) before (``None`` for ``new`` and ``start``).
        after: The event as stored now (snapshots and clip paths set), or as started.
        alarm: The camera's alarm rules want this event reported.
        origin: Kind of source the footage came from (``folder``, ``ftp``, ``stream``, ``record``).
        false_positive: An ``end`` of a started event whose clip did not show the object.
    """

    kind: Literal["new", "update", "start", "end"]
    before: Event | None
    after: Event
    alarm: bool
    origin: str
    false_positive: bool = False


class EventListener(Protocol):
    """Receives event changes, in the service's main process, in order.

    ``on_event`` must return quickly (hand slow work such as a network call to
    a thread of its own); an exception it raises is logged and the service goes on.
    """

    def on_event(self, change: EventChange) -> None:
        """Called once per change, after the change is stored."""
        ...


@dataclass(frozen=True)
class Problem:
    """Something the owner must hear about because the service cannot fix it alone.

    Attributes:
        key: Stable identity used to tell the owner once per problem, e.g.
            ``"disk_full"``, ``"source_down:porch-ftp"``, ``"login_needed:blink"``.
        title: One line, e.g. ``"Data disk 91 % full"``.
        detail: A few lines: what happened, since when, what camsift did, what the owner can do.
            Never a password or token.
        resolved: ``True`` when the problem has gone away (lets a notifier say so, and re-arm).
    """

    key: str
    title: str
    detail: str = ""
    resolved: bool = False


@runtime_checkable
class ProblemListener(Protocol):
    """Receives `Problem` reports from `Service.problem` (rate-limiting is the listener's job)."""

    def on_problem(self, problem: Problem) -> None:
        """Called in the service's main process or a source's thread; must return quickly."""
        ...


@runtime_checkable
class AnalysisListener(Protocol):
    """Hears, per file, whether its analysis failed (e.g. to report repeated failures as a `Problem`)."""

    def on_analysed(self, path: Path, camera: str, error: str | None) -> None:
        """Called in the service's main process once per analysed file; ``error`` is ``None`` when it worked."""
        ...


class ServiceContext(Protocol):
    """The narrow seam a companion gets from the running service: its open store and a way to report trouble."""

    @property
    def store(self) -> Store | None:
        """The service's open store (``None`` before it opens and after it closes)."""
        ...

    def problem(self, problem: Problem) -> None:
        """Report a problem (or that it is resolved) to every `ProblemListener`; never raises."""
        ...


class Companion(Protocol):
    """A long-running part that lives inside ``camsift run`` beside the sources.

    Examples: a notifier's sender thread, the MQTT client, the retention
    schedule, the web app. The service calls `start` once its store is open
    (``service.store``) and `stop` when it shuts down, in reverse order.
    A companion reports trouble with ``service.problem(...)``.
    """

    name: str

    def start(self, service: ServiceContext) -> None:
        """Start background work (threads); return quickly."""
        ...

    def stop(self) -> None:
        """Stop background work within a few seconds; called once, also after a failed start."""
        ...


class Listeners:
    """The service's listeners, told in order: one that raises is logged and the others are still told.

    Args:
        listeners: Told of every event change (`EventListener`); those that also have ``on_problem``
            (`ProblemListener`) hear of problems, those with ``on_analysed`` (`AnalysisListener`) of analyses.
    """

    def __init__(self, listeners: Sequence[EventListener]) -> None:
        self.all = list(listeners)

    def event(self, change: EventChange) -> None:
        """Tell every listener of ``change``.

        Raises:
            Exception: a listener's full-disk error (`camsift.errors.disk_full`), raised after all were told (the
                service then settles the change again once there is space).
        """
        full: Exception | None = None
        for listener in self.all:
            try:
                listener.on_event(change)
            except Exception as err:
                if disk_full(err):
                    full = err
                    continue
                log.exception("event listener failed", listener=type(listener).__name__, event_id=change.after.id)
        if full is not None:
            raise full

    def problem(self, problem: Problem) -> None:
        """Log ``problem`` and tell every `ProblemListener` (or that it is resolved); never raises."""
        log.warning("problem reported", key=problem.key, title=problem.title, resolved=problem.resolved)
        for listener in self.all:
            if not isinstance(listener, ProblemListener):
                continue
            try:
                listener.on_problem(problem)
            except Exception:
                log.exception("problem listener failed", listener=type(listener).__name__, key=problem.key)

    def analysed(self, path: Path, camera: str, error: str | None) -> None:
        """Tell every `AnalysisListener` whether the file ``path`` of ``camera`` could be analysed (``error`` is
        ``None`` when it was); never raises."""
        for listener in self.all:
            if not isinstance(listener, AnalysisListener):
                continue
            try:
                listener.on_analysed(path, camera, error)
            except Exception:
                log.exception("analysis listener failed", listener=type(listener).__name__, path=str(path))
