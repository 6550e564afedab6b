"""The choice of what a retention pass deletes: a pure function (`choose`) of plain facts, no database, no disk.

`camsift.retention.runner.Retention.plan` gathers the facts (rows from `Store.retention`, file sizes and times
from the data directory) and hands them here; the rules are in the `camsift.retention` docstring.

Example:
    >>> facts = Facts(events=[], footage={}, pictures=[], referenced=set(), disk=DiskUsage(10, 90))
    >>> choose(facts, RetentionConfig(), lambda camera: RetentionConfig(), datetime.now(UTC)).items
    []
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from camsift.config import RetentionCategory, RetentionConfig
from camsift.retention.disk import DiskUsage
from camsift.retention.model import Doomed, Plan, Reason

__all__ = ["EventFacts", "Facts", "FootageFacts", "PictureFile", "choose"]


@dataclass(frozen=True)
class EventFacts:
    """One event, as the plan weighs it.

    Attributes:
        id: The event id.
        camera: Camera name.
        category: Retention category (`camsift.retention.category_of`).
        start_utc: When its age starts: its file's arrival (``processed_utc``), else its start.
        source: Absolute path of the footage it was found in (``None``: none).
        pinned: Never deleted.
        paths: Its pictures (and a clip that is not footage), relative to the data directory.
        size: Bytes those take on disk.
    """

    id: str
    camera: str
    category: RetentionCategory
    start_utc: datetime
    source: str | None
    pinned: bool
    paths: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class FootageFacts:
    """One footage file: a processed file's row, or a file in an owned folder that no row knows of.

    Attributes:
        path: Absolute path.
        camera: Camera name (``""`` when unknown).
        start_utc: When its age starts: its arrival (``processed_utc``), else its mtime.
        owned: camsift deletes the file (under the data directory, ``delete_footage`` on).
        row: It has a ``files`` row.
        events: Ids of the events found in it.
        present: The file exists (only weighed for footage camsift does not own: its row stays while it does).
        paths: The file relative to the data directory when owned, else empty.
        size: Bytes ``paths`` take on disk.
    """

    path: str
    camera: str
    start_utc: datetime
    owned: bool
    row: bool
    events: tuple[str, ...]
    present: bool
    paths: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class PictureFile:
    """A file under ``events/`` or ``faces/``.

    Attributes:
        name: Relative to the data directory (``/``-separated).
        mtime_utc: Its modification time.
        size: Bytes it takes on disk.
    """

    name: str
    mtime_utc: datetime
    size: int


@dataclass(frozen=True)
class Facts:
    """Everything `choose` weighs.

    Attributes:
        events: Every event.
        footage: Every footage file, by absolute path.
        pictures: Every file under the picture folders, in walk order.
        referenced: Picture and clip names (relative) an event or a face refers to.
        disk: Usage of the data directory's disk.
    """

    events: Sequence[EventFacts]
    footage: Mapping[str, FootageFacts]
    pictures: Sequence[PictureFile]
    referenced: Collection[str]
    disk: DiskUsage


def choose(
    facts: Facts, retention: RetentionConfig, rules: Callable[[str], RetentionConfig], now_utc: datetime
) -> Plan:
    """What a pass deletes now, in order: events past their days (oldest first) and the footage they empty,
    footage with nothing found in it past ``motion_days``, orphan pictures, then, over ``max_disk_percent``,
    more of the same by ``disk_order``, oldest first, until the estimate is under the limit.

    Args:
        facts: The events, footage, pictures and disk.
        retention: The global ``retention`` settings (``max_disk_percent``, ``disk_order``, ``orphan_age_s``).
        rules: A camera's own retention settings (its ``*_days``).
        now_utc: The clock the ages are measured with.
    """
    footage, disk = facts.footage, facts.disk
    limit = retention.max_disk_percent
    items: list[Doomed] = []
    remaining = {f.path: len(f.events) for f in footage.values()}
    doomed_events: set[str] = set()

    def expired(camera: str, category: RetentionCategory, start: datetime) -> bool:
        days = rules(camera).days(category)
        return days is not None and now_utc - start > timedelta(days=days)

    def add_event(e: EventFacts, reason: Reason) -> None:
        items.append(Doomed("event", e.id, e.camera, e.category, e.start_utc, reason, e.paths, e.size))
        doomed_events.add(e.id)
        if e.source is not None and e.source in footage:
            remaining[e.source] -= 1
            if remaining[e.source] == 0:
                add_footage(footage[e.source], reason, e.category)

    def add_footage(f: FootageFacts, reason: Reason, category: RetentionCategory) -> None:
        keep_row = not f.owned and f.present  # the row stops a scan from bringing events back
        if f.owned or (f.row and not keep_row):
            items.append(Doomed("footage", f.path, f.camera, category, f.start_utc, reason, f.paths, f.size, f.row))

    for e in sorted(facts.events, key=lambda e: e.start_utc):
        if not e.pinned and expired(e.camera, e.category, e.start_utc):
            add_event(e, "age")
    for f in footage.values():
        if not f.events and expired(f.camera, "motion", f.start_utc):
            add_footage(f, "age", "motion")
    oldest = now_utc - timedelta(seconds=retention.orphan_age_s)
    items += [
        Doomed("orphan", p.name, "", None, p.mtime_utc, "orphan", (p.name,), p.size)
        for p in facts.pictures
        if p.name not in facts.referenced and p.mtime_utc < oldest
    ]

    if limit is not None and disk.percent > limit:
        need = disk.used - int(limit / 100 * (disk.used + disk.free)) - sum(i.size for i in items)
        order = {c: n for n, c in enumerate(retention.disk_order)}
        done = {i.key for i in items}
        candidates: list[tuple[int, datetime, EventFacts | FootageFacts]] = [
            (order[e.category], e.start_utc, e)
            for e in facts.events
            if not e.pinned and e.id not in doomed_events and e.category in order
        ]
        if "motion" in order:
            candidates += [
                (order["motion"], f.start_utc, f)
                for f in footage.values()
                if f.owned and not f.events and f.path not in done
            ]
        candidates.sort(key=lambda c: (c[0], c[1]))
        for _, _, thing in candidates:
            if need <= 0:
                break
            before = len(items)
            if isinstance(thing, EventFacts):
                add_event(thing, "disk")
            else:
                add_footage(thing, "disk", "motion")
            need -= sum(i.size for i in items[before:])
    return Plan(items, now_utc, disk, limit)
