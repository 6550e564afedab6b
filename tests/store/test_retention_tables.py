"""`Store.retention` (`camsift.store.retention`) on each backend: the rows a retention pass plans from, and the
deleting transaction that keeps what changed since the plan (a pinned event, footage with an event left, a
picture a row refers to)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from camsift import Event, Store
from camsift.events import FileRecord

T0 = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)


def record(path: Path) -> FileRecord:
    return FileRecord(
        path=path,
        size=1234,
        mtime=1_763_800_000.5,
        sha256="ab" * 32,
        camera="porch",
        status="ok",
        error=None,
        duration_s=12.5,
        start_utc=T0,
        time_origin="name",
        processed_utc=T0 + timedelta(hours=1),
    )


def event(id: str, source: Path, label: str = "person") -> Event:
    return Event(
        id=id,
        camera="porch",
        label=label,
        start_s=1.5,
        end_s=4.25,
        start_utc=T0,
        end_utc=T0 + timedelta(seconds=2.75),
        confidence=0.93,
        box_xyxy=(10.0, 20.5, 110.0, 220.0),
        zones=(),
        hits=7,
        source=source,
    )


@pytest.fixture
def store(data_dir: Path, database_url: str | None) -> Iterator[Store]:
    """Footage ``clips/a.mp4`` with events ``a1`` and ``a2`` (pinned), ``clips/b.mp4`` with ``b1`` (a car)."""
    with Store(data_dir, database_url) as s:
        a, b = s.data_dir / "clips" / "a.mp4", s.data_dir / "clips" / "b.mp4"
        s.save(record(a), [event("a1", a), event("a2", a)])
        s.save(record(b), [event("b1", b, "car")])
        s.mark(["a2"], pinned=True)
        yield s


def test_rows_are_the_events_and_files_as_stored(store: Store) -> None:
    rows = store.retention.rows()

    assert sorted((e.id, e.label, e.pinned, e.source, e.processed_utc) for e in rows.events) == [
        ("a1", "person", False, str(store.data_dir / "clips/a.mp4"), T0 + timedelta(hours=1)),
        ("a2", "person", True, str(store.data_dir / "clips/a.mp4"), T0 + timedelta(hours=1)),
        ("b1", "car", False, str(store.data_dir / "clips/b.mp4"), T0 + timedelta(hours=1)),
    ]
    assert sorted(f.path for f in rows.files) == [
        str(store.data_dir / "clips/a.mp4"),
        str(store.data_dir / "clips/b.mp4"),
    ]
    assert rows.active_jobs == frozenset()


def test_delete_keeps_a_pinned_event_and_footage_with_an_event_left(store: Store) -> None:
    a, b = str(store.data_dir / "clips/a.mp4"), str(store.data_dir / "clips/b.mp4")

    first = store.retention.delete(["a1", "a2"], {a: True}, ["events/orphan.jpg"], ["clips/a.mp4", "events/orphan.jpg"])
    second = store.retention.delete(["b1"], {b: True}, [], ["clips/b.mp4"])

    assert (first.events, first.footage, first.orphans, first.needed) == (
        {"a1"},
        set(),
        {"events/orphan.jpg"},
        {"clips/a.mp4"},  # its files row stays: a2 is pinned
    )
    assert (second.events, second.footage, second.needed) == ({"b1"}, {b}, set())
    assert sorted(e.id for e in store.events()) == ["a2"]
    assert store.file(Path(b)) is None
    assert store.file(Path(a)) is not None
    assert store.retention.referenced(["clips/a.mp4", "clips/b.mp4"]) == {"clips/a.mp4"}
