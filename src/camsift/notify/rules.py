"""Which events notify which channels, and what the messages say.

Pure functions over the config and events; the state they need (cooldowns)
is kept by `camsift.notify.Notifier` in the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from camsift.config import NotifyRule, Settings, in_time_windows
from camsift.events import Event
from camsift.faces import UNKNOWN
from camsift.listeners import EventChange, Problem
from camsift.store.outbox import Message

__all__ = [
    "digest_message",
    "event_message",
    "links",
    "matches",
    "problem_message",
    "quiet",
    "rules_of",
    "within",
]

DEFAULT_RULE = "default"
"""Name of the rule used when ``notify.rules`` is empty: every alarm to every channel."""


def rules_of(settings: Settings) -> dict[str, NotifyRule]:
    """The configured rules by name, or one rule (`DEFAULT_RULE`) sending every alarm to every channel."""
    return dict(settings.notify.rules) or {DEFAULT_RULE: NotifyRule()}


def matches(rule: NotifyRule, change: EventChange) -> bool:
    """Whether ``change``'s event passes ``rule``'s conditions (cameras, labels, zones, confidence, faces, alarm).

    Quiet hours and the cooldown are not looked at here (`quiet`, `Notifier`).
    """
    e = change.after
    return (
        (change.alarm or not rule.alarms_only)
        and (not rule.cameras or e.camera in rule.cameras)
        and (not rule.labels or e.label in rule.labels)
        and (not rule.zones or bool(set(rule.zones) & set(e.zones)))
        and e.confidence >= rule.min_confidence
        and (rule.faces is None or (e.label == "person" and rule.faces.matches(e.sub_label)))
    )


def quiet(rule: NotifyRule, now: datetime) -> bool:
    """Whether ``now`` (aware, already in the configured zone) is in one of ``rule``'s quiet hours."""
    return bool(rule.quiet_hours) and in_time_windows(rule.quiet_hours, now.time())


def _when(moment: datetime, settings: Settings) -> str:
    return f"{moment.astimezone(settings.tz()):%Y-%m-%d %H:%M:%S %Z}".strip()


def _what(e: Event) -> str:
    if e.sub_label and e.sub_label != UNKNOWN:
        return e.sub_label
    return f"Unknown {e.label}" if e.sub_label == UNKNOWN else e.label.capitalize()


def links(e: Event, settings: Settings) -> list[str]:
    """``Clip: …`` and ``Event: …`` lines: links into the web app when ``notify.public_url`` is set, else paths."""
    base = (settings.notify.public_url or "").rstrip("/")
    clip = e.video
    if base:
        lines = [f"Clip: {base}/api/events/{e.id}/clip.mp4"] if clip else []
        return [*lines, f"Event: {base}/events/{e.id}"]
    if clip is not None:
        return [f"Clip: {clip}"]
    return [f"Picture: {e.source}"] if e.source else []


def event_message(e: Event, settings: Settings) -> Message:
    """The message about one event: camera, what, when, confidence, zones, face, links; its annotated snapshot.

    Example: title ``"Person on porch"``, body ``"Person seen on porch at 2026-11-22 14:30:05 UTC
    (confidence 87 %)."`` then ``Zones:``, ``Face:`` and ``Clip:``/``Event:`` lines.
    """
    lines = [
        f"{e.label.capitalize()} seen on {e.camera} at {_when(e.start_utc, settings)} (confidence {e.confidence:.0%})."
    ]
    if e.sub_label == UNKNOWN:
        lines.append("Face: not one of the known faces.")
    elif e.sub_label:
        score = f" ({e.sub_label_score:.0%})" if e.sub_label_score is not None else ""
        lines.append(f"Face: {e.sub_label}{score}.")
    if e.zones:
        lines.append(f"Zones: {', '.join(e.zones)}.")
    lines += links(e, settings)
    return Message(
        f"event:{e.id}", "event", f"{_what(e)} on {e.camera}", "\n".join(lines), e.snapshot_annotated or e.snapshot
    )


def digest_message(events: Sequence[Event], since: datetime, until: datetime, settings: Settings) -> Message:
    """The daily digest of ``events`` (those that started in ``[since, until)``): counts per camera and label.

    Its picture is the annotated snapshot of the surest person event (else the surest event).
    """
    day = until.astimezone(settings.tz())
    title = f"camsift digest {day:%Y-%m-%d}: {len(events)} event{'s' * (len(events) != 1)}"
    lines = [f"From {_when(since, settings)} to {_when(until, settings)}."]
    if not events:
        lines.append("Nothing was seen.")
    for camera in sorted({e.camera for e in events}):
        mine = sorted((e for e in events if e.camera == camera), key=lambda e: e.start_utc)
        counts = Counter(e.label for e in mine)
        seen = ", ".join(f"{n} {label}" for label, n in sorted(counts.items()))
        first, last = (f"{e.start_utc.astimezone(settings.tz()):%H:%M}" for e in (mine[0], mine[-1]))
        lines.append(f"{camera}: {seen} (first {first}, last {last})")
    people = [e for e in events if e.label == "person"] or list(events)
    best = max(people, key=lambda e: e.confidence, default=None)
    if best is not None:
        lines += ["", f"Best picture: {_what(best)} on {best.camera} at {_when(best.start_utc, settings)}."]
        lines += links(best, settings)
    picture = None if best is None else best.snapshot_annotated or best.snapshot
    return Message(f"digest:{day:%Y-%m-%d}", "digest", title, "\n".join(lines), picture)


def problem_message(problem: Problem, told_utc: datetime, settings: Settings) -> Message:
    """The message about a problem, or about its end (``problem.resolved``); keyed by problem and time."""
    title = f"camsift: {'resolved: ' if problem.resolved else ''}{problem.title}"
    body = problem.detail or problem.title
    body += f"\n\n{'Resolved' if problem.resolved else 'Reported'} at {_when(told_utc, settings)}."
    return Message(f"problem:{problem.key}:{told_utc.isoformat()}", "problem", title, body)


def within(moment: datetime, mark: datetime | None, seconds: float) -> bool:
    """Whether ``moment`` is less than ``seconds`` away from ``mark`` (either side)."""
    return mark is not None and abs(moment - mark) < timedelta(seconds=seconds)
