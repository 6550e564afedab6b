"""`camsift.retention.plan.choose` over plain facts: no database, no disk. Ages by category and camera, pinned
events, footage emptied by its last event, foreign footage rows, orphan pictures, and the disk limit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from camsift.config import RetentionCategory, RetentionConfig
from camsift.retention import DiskUsage, EventFacts, Facts, FootageFacts, PictureFile, choose

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DATA = "/data"
ROOMY = DiskUsage(10, 90)


def event(
    id: str,
    days_old: float,
    category: RetentionCategory = "person",
    camera: str = "porch",
    *,
    source: str | None = None,
    pinned: bool = False,
    size: int = 100,
) -> EventFacts:
    return EventFacts(id, camera, category, NOW - days_old * DAY, source, pinned, (f"events/{id}.jpg",), size)


def footage(
    name: str,
    days_old: float,
    *events: str,
    owned: bool = True,
    row: bool = True,
    present: bool = True,
    size: int = 1000,
) -> FootageFacts:
    paths = (f"clips/{name}",) if owned else ()
    return FootageFacts(
        f"{DATA}/clips/{name}", "porch", NOW - days_old * DAY, owned, row, events, present, paths, size if owned else 0
    )


def facts(
    events: Sequence[EventFacts] = (),
    files: Sequence[FootageFacts] = (),
    pictures: Sequence[PictureFile] = (),
    referenced: frozenset[str] = frozenset(),
    disk: DiskUsage = ROOMY,
) -> Facts:
    return Facts(events, {f.path: f for f in files}, pictures, referenced, disk)


def plan(f: Facts, **settings: object) -> list[tuple[str, str, str, str | None]]:
    """(kind, key, reason, category) of each planned item, in order."""
    rules = RetentionConfig.model_validate(settings)
    cameras = {"garden": rules.model_copy(update={"person_days": 365.0})}
    chosen = choose(f, rules, lambda camera: cameras.get(camera, rules), NOW)
    return [(i.kind, i.key, i.reason, i.category) for i in chosen.items]


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([event("young", 10)], []),
        ([event("old", 100)], [("event", "old", "age", "person")]),
        ([event("old", 100, pinned=True)], []),
        ([event("car", 40, "other"), event("person", 40)], [("event", "car", "age", "other")]),
        (
            [event("known", 95, "known_face"), event("unknown", 91, "unknown_face")],
            [
                ("event", "known", "age", "known_face"),
                ("event", "unknown", "age", "unknown_face"),
            ],
        ),
        ([event("garden", 100, camera="garden"), event("porch", 100)], [("event", "porch", "age", "person")]),
        (
            [event("newer", 100), event("older", 200)],
            [("event", "older", "age", "person"), ("event", "newer", "age", "person")],
        ),
    ],
)
def test_events_go_after_their_categorys_days_oldest_first_never_pinned(
    events: list[EventFacts], expected: list[tuple[str, str, str, str | None]]
) -> None:
    assert plan(facts(events)) == expected


def test_owned_footage_goes_with_its_last_event_and_stays_while_one_is_left() -> None:
    src = f"{DATA}/clips/a.mp4"
    emptied = facts([event("e1", 100, source=src), event("e2", 95, source=src)], [footage("a.mp4", 100, "e1", "e2")])
    kept = facts([event("e1", 100, source=src), event("e2", 5, source=src)], [footage("a.mp4", 100, "e1", "e2")])

    assert plan(emptied) == [
        ("event", "e1", "age", "person"),
        ("event", "e2", "age", "person"),
        ("footage", src, "age", "person"),
    ]
    assert plan(kept) == [("event", "e1", "age", "person")]


@pytest.mark.parametrize(
    ("owned", "row", "present", "listed"),
    [
        (True, True, True, True),  # camsift's own file goes with its row
        (True, False, True, True),  # a file no row knows of
        (False, True, True, False),  # the user's file: its row stays while the file exists
        (False, True, False, True),  # the user's file is gone: its row goes
    ],
)
def test_footage_with_nothing_found_goes_after_motion_days(owned: bool, row: bool, present: bool, listed: bool) -> None:
    f = facts(files=[footage("m.mp4", 31, owned=owned, row=row, present=present), footage("new.mp4", 29)])

    chosen = choose(f, RetentionConfig(), lambda camera: RetentionConfig(), NOW).items

    assert [(i.kind, i.key, i.reason, i.category, i.row) for i in chosen] == (
        [("footage", f"{DATA}/clips/m.mp4", "age", "motion", row)] if listed else []
    )
    assert [i.paths for i in chosen] == ([("clips/m.mp4",)] if owned and listed else [()] if listed else [])


def test_orphans_go_when_unreferenced_and_older_than_orphan_age() -> None:
    pictures = [
        PictureFile("events/orphan.jpg", NOW - timedelta(hours=2), 10),
        PictureFile("events/young.jpg", NOW - timedelta(minutes=30), 10),
        PictureFile("events/used.jpg", NOW - timedelta(days=3), 10),
    ]

    assert plan(facts(pictures=pictures, referenced=frozenset({"events/used.jpg"}))) == [
        ("orphan", "events/orphan.jpg", "orphan", None)
    ]


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        (70, []),  # under 80 %: nothing for space
        (81, [("event", "car", "disk", "other")]),  # 1 % = 1000 bytes: the first in disk_order frees enough
        (82, [("event", "car", "disk", "other"), ("footage", f"{DATA}/clips/m.mp4", "disk", "motion")]),
    ],
)
def test_over_the_disk_limit_more_goes_by_disk_order_oldest_first_until_below(
    used: int, expected: list[tuple[str, str, str, str | None]]
) -> None:
    events = [
        event("car", 5, "other", size=1500),
        event("person", 6, size=5000),
        event("pinned", 7, "other", pinned=True),
    ]
    files = [footage("m.mp4", 2, size=1000)]
    disk = DiskUsage(used * 1000, (100 - used) * 1000)

    assert plan(facts(events, files, disk=disk), disk_order=["other", "motion", "person"]) == expected
