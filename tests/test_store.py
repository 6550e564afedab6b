"""The event store: files and events round-trip, queries, replacing a file's events."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from camsift import Event, Store, scan
from camsift.errors import StorageError
from camsift.events import FileRecord
from camsift.store import EventMarks, ReviewFilter
from camsift.store import database_url as url_of  # the name database_url is the fixture
from camsift.store.schema import events_table
from helpers.media import Walk, write_clip

T0 = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)


def record(path: Path, camera: str = "porch", status: str = "ok", error: str | None = None) -> FileRecord:
    return FileRecord(
        path=path,
        size=1234,
        mtime=1_763_800_000.5,
        sha256="ab" * 32,
        camera=camera,
        status=status,  # type: ignore[arg-type]
        error=error,
        duration_s=12.5,
        start_utc=T0,
        time_origin="name",
        processed_utc=T0 + timedelta(hours=1),
    )


def event(n: int, source: Path, *, camera: str = "porch", label: str = "person", minutes: int = 0) -> Event:
    start = T0 + timedelta(minutes=minutes)
    return Event(
        id=f"abc-{n:03d}",
        camera=camera,
        label=label,
        start_s=1.5,
        end_s=4.25,
        start_utc=start,
        end_utc=start + timedelta(seconds=2.75),
        confidence=0.93,
        box_xyxy=(10.0, 20.5, 110.0, 220.0),
        zones=("door", "path"),
        hits=7,
        source=source,
    )


@pytest.fixture
def store(data_dir: Path, database_url: str | None) -> Iterator[Store]:
    """The store on each backend (SQLite, PostgreSQL: see `database_url`)."""
    with Store(data_dir, database_url) as s:
        yield s


def test_creates_the_data_dir_and_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"

    with Store(data_dir) as store:
        assert store.url == f"sqlite:///{data_dir / 'camsift.db'}"

    tables = sqlite3.connect(data_dir / "camsift.db").execute("select name from sqlite_master where type='table'")
    assert {"events", "files"} <= {name for (name,) in tables}


def test_unusable_data_dir_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    with pytest.raises(StorageError, match="cannot create data directory"):
        Store(blocker / "data")


def test_file_and_events_round_trip(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    shot = store.data_dir / "events" / "a.jpg"
    events = [event(1, source).replace(snapshot=shot, snapshot_annotated=shot.with_name("a-annotated.jpg"))]

    store.save(record(source), events)

    assert store.file(source) == record(source)
    assert store.file(tmp_path / "other.mp4") is None
    (back,) = store.events()
    assert back == events[0]
    assert back.start_utc.tzinfo is not None
    assert list(store.files()) == [record(source)]


def test_pictures_are_stored_relative_to_the_data_dir(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    shot = store.data_dir / "events" / "2026-11-22" / "porch" / "x.jpg"

    store.save(record(source), [event(1, source).replace(snapshot=shot)])

    with store.engine.connect() as conn:
        row = conn.execute(sa.select(events_table.c.snapshot, events_table.c.source)).one()
    assert tuple(row) == ("events/2026-11-22/porch/x.jpg", str(source))


def test_failed_file_is_recorded_with_its_reason(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "bad.mp4"

    store.save(record(source, status="error", error="empty file (0 bytes)"), [])

    got = store.file(source)
    assert got is not None
    assert (got.status, got.error) == ("error", "empty file (0 bytes)")
    assert store.events() == []


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    store.save(record(a), [event(1, a, minutes=0), event(2, a, label="car", minutes=10)])
    store.save(
        record(b, camera="garden"), [event(3, b, camera="garden", minutes=20), event(4, b, camera="garden", minutes=30)]
    )
    return store


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ({}, ["abc-004", "abc-003", "abc-002", "abc-001"]),  # newest first
        ({"camera": "porch"}, ["abc-002", "abc-001"]),
        ({"label": "car"}, ["abc-002"]),
        ({"label": "person", "camera": "garden"}, ["abc-004", "abc-003"]),
        ({"since": T0 + timedelta(minutes=10)}, ["abc-004", "abc-003", "abc-002"]),
        ({"until": T0 + timedelta(minutes=10)}, ["abc-001"]),
        ({"since": (T0 + timedelta(minutes=5)).astimezone(ZoneInfo("Asia/Tokyo"))}, ["abc-004", "abc-003", "abc-002"]),
        ({"limit": 2}, ["abc-004", "abc-003"]),
        ({"camera": "nowhere"}, []),
    ],
)
def test_event_queries(filled: Store, tmp_path: Path, query: dict[str, Any], ids: list[str]) -> None:
    assert [e.id for e in filled.events(**query)] == ids


def test_events_of_one_source(filled: Store, tmp_path: Path) -> None:
    assert [e.id for e in filled.events(source=tmp_path / "a.mp4")] == ["abc-002", "abc-001"]


# --- the web app's queries, on each backend ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("review", "ids"),
    [
        (ReviewFilter(), ["abc-004", "abc-003", "abc-002", "abc-001"]),
        (ReviewFilter(face="known"), ["abc-001"]),
        (ReviewFilter(face="unknown"), ["abc-003"]),
        (ReviewFilter(face="none"), ["abc-004", "abc-002"]),
        (ReviewFilter(has_clip=True), ["abc-004", "abc-003", "abc-002", "abc-001"]),  # footage is .mp4
        (ReviewFilter(reviewed=True), ["abc-002"]),
        (ReviewFilter(reviewed=False), ["abc-004", "abc-003", "abc-001"]),
        (ReviewFilter(pinned=True), ["abc-004"]),
        (ReviewFilter(pinned=True, reviewed=True), []),
    ],
)
def test_review_filters_and_marks(filled: Store, review: ReviewFilter, ids: list[str]) -> None:
    with filled.engine.begin() as conn:
        for event_id, name in (("abc-001", "Alice"), ("abc-003", "unknown")):
            conn.execute(events_table.update().where(events_table.c.id == event_id).values(sub_label=name))
    assert filled.mark(["abc-002", "nope"], reviewed=True) == 1
    assert filled.mark(["abc-004"], pinned=True) == 1

    assert [e.id for e in filled.events(review=review)] == ids
    assert filled.count_events(review=review) == len(ids)
    assert filled.marks(["abc-002", "abc-004", "nope"]) == {
        "abc-002": EventMarks(reviewed=True, pinned=False),
        "abc-004": EventMarks(reviewed=False, pinned=True),
    }


@pytest.mark.parametrize(
    ("source", "clip", "video"),
    [
        ("a.mp4", None, "source"),
        ("b.MOV", None, "source"),
        ("c.jpg", None, None),
        ("d.JPEG", None, None),
        ("e.jpg", "clips/e.mp4", "clip"),  # a stream's event: the recording, not the picture
        ("f.mp4", "clips/f.mp4", "clip"),
        ("g.bin", None, None),  # named on the command line, not a video by its name
    ],
)
def test_has_clip_is_the_events_video_in_sql(
    store: Store, tmp_path: Path, source: str, clip: str | None, video: str | None
) -> None:
    path = tmp_path / source
    recorded = store.data_dir / clip if clip else None
    e = event(1, path).replace(clip=recorded)
    store.save(record(path), [e])

    with_clip = [x.id for x in store.events(review=ReviewFilter(has_clip=True))]
    without = [x.id for x in store.events(review=ReviewFilter(has_clip=False))]

    assert e.video == {"source": path, "clip": recorded, None: None}[video]
    assert (with_clip, without) == ((["abc-001"], []) if video else ([], ["abc-001"]))
    assert e.to_dict()["has_clip"] is (video is not None)


def test_latest_per_camera_cameras_and_labels(filled: Store) -> None:
    assert {camera: e.id for camera, e in filled.latest_per_camera().items()} == {
        "garden": "abc-004",
        "porch": "abc-002",
    }
    assert filled.cameras() == ["garden", "porch"]
    assert filled.labels() == ["car", "person"]


def test_deleting_an_event_takes_its_pictures_and_leaves_footage(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"footage")
    shots = [store.data_dir / "events" / name for name in ("a.jpg", "a-annotated.jpg", "b.jpg")]
    for shot in shots:
        shot.parent.mkdir(parents=True, exist_ok=True)
        shot.write_bytes(b"jpeg")
    store.save(
        record(source),
        [
            event(1, source).replace(snapshot=shots[0], snapshot_annotated=shots[1]),
            event(2, source).replace(snapshot=shots[2]),
        ],
    )

    assert store.delete_event("abc-001") is True
    assert store.delete_event("abc-001") is False

    assert [e.id for e in store.events()] == ["abc-002"]
    assert [p.exists() for p in shots] == [False, False, True]
    assert source.read_bytes() == b"footage"


def test_saving_a_file_again_replaces_its_events_and_deletes_unused_pictures(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    old_shot, kept_shot = store.data_dir / "events" / "old.jpg", store.data_dir / "events" / "kept.jpg"
    old_shot.parent.mkdir(parents=True)
    old_shot.write_bytes(b"jpeg")
    kept_shot.write_bytes(b"jpeg")
    store.save(
        record(source), [event(1, source).replace(snapshot=old_shot), event(2, source).replace(snapshot=kept_shot)]
    )

    store.save(record(source), [event(2, source).replace(snapshot=kept_shot), event(3, source)])

    assert sorted(e.id for e in store.events()) == ["abc-002", "abc-003"]
    assert not old_shot.exists()
    assert kept_shot.exists()
    assert len(list(store.files())) == 1


def test_other_files_are_untouched_by_a_save(filled: Store, tmp_path: Path) -> None:
    filled.save(record(tmp_path / "a.mp4"), [])

    assert [e.id for e in filled.events()] == ["abc-004", "abc-003"]


def test_two_stores_on_one_database_see_each_other(data_dir: Path, database_url: str | None, tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    with Store(data_dir, database_url) as writer, Store(tmp_path / "node2", database_url or writer.url) as reader:
        writer.save(record(source), [event(1, source)])

        assert [e.id for e in reader.events()] == ["abc-001"]


@pytest.mark.parametrize(
    ("setting", "url"),
    [
        (None, "sqlite:///{data}/camsift.db"),
        ("sqlite:////var/camsift.db", "sqlite:////var/camsift.db"),
        ("postgresql://camsift@db.lan/camsift", "postgresql+psycopg://camsift@db.lan/camsift"),
        ("postgres://camsift:pw@db.lan:5433/camsift", "postgresql+psycopg://camsift:pw@db.lan:5433/camsift"),
        ("postgresql+psycopg://camsift@db.lan/camsift", "postgresql+psycopg://camsift@db.lan/camsift"),
    ],
)
def test_database_url(tmp_path: Path, setting: str | None, url: str) -> None:
    assert url_of(setting, tmp_path) == url.format(data=tmp_path)


def test_an_unreachable_database_is_a_one_line_storage_error_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        Store(tmp_path, "postgresql://camsift:hunter2@127.0.0.1:1/camsift")

    message = str(caught.value)
    assert message.startswith("cannot open event store postgresql+psycopg://camsift:***@127.0.0.1:1/camsift: ")
    assert "hunter2" not in message
    assert "\n" not in message


# --- a scan into the configured store -----------------------------------------------------------------------------


def test_a_scan_records_into_the_configured_database(
    scripted_settings: Any, footage: Path, database_url: str | None
) -> None:
    """The whole scan path on each backend: a second node's settings with the same ``database`` see the events."""

    clip = write_clip(footage / "porch" / "a.mp4", [Walk(0.5, 3.5)], seconds=4.0).path
    settings = scripted_settings(**({"database": database_url} if database_url else {}))

    report = scan([clip], settings, jobs=1)
    again = scan([clip], settings, jobs=1)

    assert [e.label for e in report.files[0].events] == ["person"]
    assert [f.status for f in again.files] == ["skipped"]
    with Store(settings.data_dir, settings.database) as store:
        assert [e.id for e in store.events(camera="porch")] == [report.files[0].events[0].id]


def test_opening_waits_for_another_process_that_holds_the_database(tmp_path: Path) -> None:
    """Another process migrating a new database holds it for a while (seen in CI on a busy machine: the
    switch to WAL gave up after sqlite3's default 5 s with "database is locked")."""
    import threading

    data = tmp_path / "data"
    data.mkdir()
    other = sqlite3.connect(data / "camsift.db", check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    threading.Timer(6.0, other.rollback).start()

    with Store(data) as store:  # waits for the lock instead of failing
        assert store.events() == []
        assert _journal_mode(store) == "wal"
    other.close()


def test_opening_waits_for_a_writer_of_a_database_still_in_rollback_mode(tmp_path: Path) -> None:
    """SQLite refuses the switch to WAL at once, ignoring busy_timeout, while another connection writes to
    a database in rollback-journal mode (seen in CI: the service and a test opening a new database together)."""
    import threading

    data = tmp_path / "data"
    data.mkdir()
    other = sqlite3.connect(data / "camsift.db", check_same_thread=False, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE early (a)")
    threading.Timer(2.0, other.execute, ["COMMIT"]).start()

    with Store(data) as store:  # retries the switch instead of failing
        assert store.events() == []
        assert _journal_mode(store) == "wal"
        assert "early" in sa.inspect(store.engine).get_table_names()  # the other writer's work is kept
    other.close()


def _journal_mode(store: Store) -> str:
    with store.engine.connect() as conn:
        return str(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
