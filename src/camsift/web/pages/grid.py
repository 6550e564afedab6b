"""The review page: review items by local day, newest first, a page of cards and a timeline per camera of
the whole day; its buttons for the checked cards."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from camsift.events import Event
from camsift.review import ReviewItem, review_items
from camsift.store import EventMarks, ReviewFilter
from camsift.web.pages.common import State, User, go_back, safe_next, show_page
from camsift.web.playable import PLAYABLE
from camsift.web.state import WebState

__all__ = [
    "CHUNK",
    "MAX_SELECTED",
    "PAGE_ITEMS",
    "Card",
    "Day",
    "GridAction",
    "Mark",
    "Marked",
    "card_of",
    "items_with_marks",
    "mark_of",
    "n_events",
    "preview_url",
    "review",
    "review_action",
    "router",
]

router = APIRouter()

PAGE_ITEMS = 60
"""The review page shows whole days until it shows at least this many review items."""

CHUNK = 500
"""Events first read while filling the review page; each further read takes four times as many (a busy day
of 2,000 events in two queries, a quiet one in one)."""


def _day(value: str | None, state: WebState, end: bool) -> datetime | None:
    """A ``YYYY-MM-DD`` local date as the start of that day (or of the next, for ``end``)."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(
            tzinfo=state.settings.tz() or datetime.now().astimezone().tzinfo
        )
    except ValueError as err:
        raise HTTPException(422, f"not a date (YYYY-MM-DD): {value[:20]!r}") from err
    return day + timedelta(days=1) if end else day


def _here(request: Request) -> str:
    """This page's path and query without its flash message (the grid's buttons come back here)."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "msg"])
    return request.url.path + (f"?{query}" if query else "")


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@dataclass(frozen=True)
class Mark:
    """A review item as its day's timeline shows it.

    Attributes:
        item: The item.
        objects: Its labels with their counts, most frequent first (``"person ×3, bicycle"``).
        start: Local time it started (aware, the configured time zone).
        when: Local start time (``HH:MM:SS``).
        minute: Local minute of the day it started (0..1439), for the timeline.
        minutes: Its length in minutes (at least 1), for the timeline.
    """

    item: ReviewItem
    objects: str
    start: datetime
    when: str
    minute: int
    minutes: int


@dataclass(frozen=True)
class Card(Mark):
    """A review item as the grid shows it: its `Mark` and what its card needs beyond.

    Attributes:
        ids: Its event ids, space-separated (the card's checkbox value).
        pinned: One of its events is pinned.
        preview: URL of a clip browsers can play, for the hover and tap preview.
    """

    ids: str = ""
    pinned: bool = False
    preview: str | None = None


@dataclass(frozen=True)
class Day:
    """One local day of the review page: its heading, the cards of this page, the cameras of its timeline,
    and the timeline (every item of the day, shown on this page or not)."""

    date: date
    cards: list[Card]
    cameras: list[str]
    timeline: list[Mark]

    @property
    def unreviewed(self) -> int:
        """Items of the day not yet reviewed (all of them, shown on this page or not)."""
        return sum(not m.item.reviewed for m in self.timeline)

    @property
    def lanes(self) -> list[tuple[str, list[Mark]]]:
        """The timeline's rows: each camera of the day (by name) and all its items."""
        rows: dict[str, list[Mark]] = {}
        for mark in self.timeline:
            rows.setdefault(mark.item.camera, []).append(mark)
        return sorted(rows.items())


Marked = list[tuple[Event, EventMarks]]
"""Stored events with their marks (`Store.marked_events`)."""


def items_with_marks(state: WebState, marked: Marked) -> tuple[list[ReviewItem], dict[str, EventMarks]]:
    """Review items of events with their marks, and the marks by event id."""
    marks = {e.id: m for e, m in marked}
    done = [i for i, m in marks.items() if m.reviewed]
    found = review_items((e for e, _ in marked), alert_labels=state.settings.web.alert_labels, reviewed=done)
    return found, marks


def _counted(labels: list[str]) -> str:
    counts = Counter(labels)
    return ", ".join(f"{label} ×{n}" if n > 1 else label for label, n in counts.most_common())


def preview_url(event: Event) -> str | None:
    """Where the browser can play ``event``'s video (``None``: no video, or not a format browsers play)."""
    video = event.video
    if video is None or video.suffix.lower() not in PLAYABLE:
        return None
    return f"/events/{quote(event.id, safe='')}/video.mp4"


def mark_of(state: WebState, item: ReviewItem) -> Mark:
    """``item`` on its day's timeline, in the configured time zone."""
    start = datetime.fromtimestamp(item.start_time, _zone(state))
    return Mark(
        item=item,
        objects=_counted([e.label for e in item.events]),
        start=start,
        when=f"{start:%H:%M:%S}",
        minute=start.hour * 60 + start.minute,
        minutes=max(1, math.ceil((item.end_time - item.start_time) / 60)),
    )


def card_of(mark: Mark, marks: dict[str, EventMarks]) -> Card:
    """The card of a timeline's ``mark``, pinned when one of its events is (``marks``: by event id)."""
    item = mark.item
    video = next((e for e in item.events if e.video is not None), None)
    return Card(
        **{f.name: getattr(mark, f.name) for f in fields(Mark)},
        ids=" ".join(item.data.detections),
        pinned=any(marks[i].pinned for i in item.data.detections if i in marks),
        preview=preview_url(video) if video else None,
    )


def _zone(state: WebState) -> tzinfo:
    """The configured time zone, else this machine's (read once per settings)."""
    cached = _ZONES.get(id(state.settings))
    if cached is None or cached[0] is not state.settings:
        zone = state.settings.tz() or datetime.now().astimezone().tzinfo or UTC
        _ZONES[id(state.settings)] = cached = (state.settings, zone)
    return cached[1]


_ZONES: dict[int, tuple[Any, tzinfo]] = {}


def _review_days(
    state: WebState, query: dict[str, Any], until: datetime | None
) -> tuple[list[Day], date | None, dict[str, EventMarks]]:
    """Whole local days of review items, newest first, from ``until`` back until `PAGE_ITEMS` items are shown.

    Events are read `CHUNK`, then four times more at a time (newest first); the oldest day read may be
    incomplete and is only shown once the events run out. Returns the days (their timelines; no cards yet:
    `_page_of`), the next older day with events (``None``: none), and the marks of their events.
    """
    zone = _zone(state)
    marked: Marked = []
    dates: list[date] = []
    size = CHUNK
    while True:
        chunk = state.store.marked_events(**query, until=until, limit=size, offset=len(marked))
        marked += chunk
        dates += [e.start_utc.astimezone(zone).date() for e, _ in chunk]
        exhausted = len(chunk) < size
        size *= 4
        days = list(dict.fromkeys(dates))
        complete = days if exhausted else days[:-1]
        if exhausted or len(complete) >= 1:
            wanted = set(complete)
            items, marks = items_with_marks(state, [m for m, d in zip(marked, dates, strict=True) if d in wanted])
            if exhausted or len(items) >= PAGE_ITEMS:
                break
    by_day: dict[date, list[Mark]] = {}
    for item in items:
        mark = mark_of(state, item)
        by_day.setdefault(mark.start.date(), []).append(mark)
    shown: list[Day] = []
    total = 0
    for day in complete:
        timeline = by_day.get(day, [])
        if not timeline:
            continue
        if shown and total >= PAGE_ITEMS:
            break
        shown.append(Day(day, [], sorted({m.item.camera for m in timeline}), timeline))
        total += len(timeline)
    older = next((d for d in days if shown and d < shown[-1].date), None)
    return shown, older, marks


def _page_of(days: list[Day], page: int, marks: dict[str, EventMarks]) -> tuple[list[Day], bool]:
    """The days with the cards of page ``page`` (`PAGE_ITEMS` a page) only; whether more cards follow."""
    start, end = page * PAGE_ITEMS, (page + 1) * PAGE_ITEMS
    kept, seen = [], 0
    for day in days:
        shown = day.timeline[max(0, start - seen) : max(0, end - seen)]
        seen += len(day.timeline)
        if shown:
            kept.append(Day(day.date, [card_of(m, marks) for m in shown], day.cameras, day.timeline))
    return kept, seen > end


@router.get("/", response_class=HTMLResponse)
def review(
    request: Request,
    state: State,
    user: User,
    camera: Annotated[str | None, Query(max_length=200)] = None,
    label: Annotated[str | None, Query(max_length=64)] = None,
    face: Literal["known", "unknown", "none", ""] = "",
    clip: Literal["yes", "no", ""] = "",
    reviewed: Literal["yes", "no", ""] = "",
    day: Annotated[str | None, Query(max_length=10)] = None,
    page: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> HTMLResponse:
    """The review page: review items by local day, newest first, `PAGE_ITEMS` a page, each day with a timeline
    per camera of all its items."""
    review_filter = ReviewFilter(face=face or None, has_clip=_flag(clip), reviewed=_flag(reviewed))
    query = {"camera": camera or None, "label": label or None, "review": review_filter}
    whole, older, marks = _review_days(state, query, _day(day, state, True))
    days, more = _page_of(whole, page, marks)
    filters = {"camera": camera or "", "label": label or "", "face": face, "clip": clip, "reviewed": reviewed}
    kept = {k: v for k, v in filters.items() if v}
    return show_page(
        request,
        "review.html",
        user,
        days=days,
        shown=sum(len(d.cards) for d in days),
        unreviewed=sum(d.unreviewed for d in whole),
        filters={**filters, "day": day or ""},
        cameras=state.store.cameras(),
        labels=state.store.labels(),
        newest=urlencode(kept) if day or page else None,
        more=urlencode({**kept, **({"day": day} if day else {}), "page": page + 1}) if more else None,
        older=urlencode({**kept, "day": older.isoformat()}) if older and not more else None,
        here=_here(request),
    )


GridAction = Literal["reviewed", "pin", "unpin", "delete"]
"""What the review grid's buttons do to the selected events (``POST /review/{action}``)."""

MAX_SELECTED = 1000
"""Most events one grid button changes; ids beyond are ignored."""

_GRID_MARKS: dict[GridAction, dict[str, bool]] = {
    "reviewed": {"reviewed": True},
    "pin": {"pinned": True},
    "unpin": {"pinned": False},
}
"""The mark each grid action other than ``delete`` sets (`Store.mark`, one write for all the events)."""

_DONE_AS: dict[GridAction, str] = {
    "reviewed": "marked reviewed",
    "pin": "pinned",
    "unpin": "unpinned",
    "delete": "deleted",
}
"""Each grid action in the past tense, for the flash message."""


def n_events(n: int) -> str:
    """``"1 event"``, ``"3 events"``."""
    return f"{n} event{'' if n == 1 else 's'}"


@router.post("/review/{action}")
def review_action(
    state: State,
    user: User,
    action: GridAction,
    selected: Annotated[list[str] | None, Form(description="Ids of the checked cards")] = None,
    ids: Annotated[list[str] | None, Form(description="Ids of every card shown")] = None,
    scope: Annotated[Literal["selected", "shown"], Form()] = "selected",
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> RedirectResponse:
    """The review grid's buttons: mark reviewed, pin, unpin or delete the checked events, then go ``back``.

    ``reviewed`` takes every event shown when none is checked or ``scope`` is ``shown`` ("Mark shown as
    reviewed"). At most `MAX_SELECTED` events are changed, by the same `Store` calls as the event page's
    buttons (marks in one write); an id no longer stored (deleted meanwhile) is skipped and counted in the
    message. ``back`` is followed only when it is a path of this site (`safe_next`).
    """
    chosen = [i for value in selected or [] for i in value.split()]  # a card holds all its item's events
    if action == "reviewed" and (scope == "shown" or not chosen):
        chosen = [i for value in ids or [] for i in value.split()]
    here = safe_next(back)
    if not chosen:
        return go_back(state, user, here, "no events selected")
    unique = list(dict.fromkeys(chosen[:MAX_SELECTED]))
    if action == "delete":
        done = sum(state.store.delete_event(event_id) for event_id in unique)
    else:
        done = state.store.mark(unique, **_GRID_MARKS[action])
    skipped = len(unique) - done
    gone = f"; {skipped} skipped (no longer stored)" if skipped else ""
    return go_back(state, user, here, f"{n_events(done)} {_DONE_AS[action]}{gone}")
