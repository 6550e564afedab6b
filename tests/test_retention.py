"""Retention on a data directory filled by real scans of ``../shared/data``: age rules by category, pinned
events, per-camera days, owned and foreign footage, the disk limit (an injected usage and a real tmpfs),
a SIGKILL in the middle of a big deletion and the repair at the next start."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from camsift import load_config, scan
from camsift.config import Settings
from camsift.layout import DataDir
from camsift.listeners import Problem
from camsift.retention import (
    RESOLVE_AFTER_S,
    DiskUsage,
    Outcome,
    Plan,
    Retention,
    RetentionCompanion,
    category_of,
    disk_usage,
)
from camsift.service import configured_parts
from camsift.store import Store
from camsift.store.schema import event_faces_table, events_table, files_table
from helpers.media import cut_clip, data_file
from helpers.service import fill_up

pytestmark = pytest.mark.slow  # the first test scans real clips (about 10 s), the rest reuse it

DAY = timedelta(days=1)
LABELS = ["person", "car", "truck", "bus"]


@dataclass(frozen=True)
class Filled:
    """A data directory filled by one real scan, and when "today" was for its file times."""

    data: Path
    footage: Path
    today: datetime


# What the scan is given: (folder, name in shared data, name here, age in days). Files under data/ are
# footage camsift owns (a live clip, FTP uploads); footage/ is the user's own folder.
LAYOUT = [
    ("footage/street", "clips/anubhav666_example_01_street.mp4", "street.mp4", 2),  # person
    ("footage/highway", "clips/bgslibrary_video02_highway_cctv.avi", "highway.avi", 40),  # cars (cut: CUTS)
    ("data/clips/2026-10-01/yard", "clips/lrslibrary_i2r_shop_corridor.avi", "yard.avi", 60),  # person, owned
    ("data/ftp/porch", "snapshots/porch_night/empty/NoCoon2024-09-15T20_09_08.333136.jpg", "porch.jpg", 35),
    ("data/ftp/traffic", "snapshots/wsdot_traffic/01.png", "empty.png", 10),  # nothing found, owned
    ("data/ftp/traffic", "snapshots/wsdot_traffic/25.png", "car.png", 20),  # a car (0.65; a still needs 0.6), owned
]
CUTS = {"highway.avi": (0.0, 2.2)}
"""Clips used only in part (seconds): the highway's first 2.2 s, cars before the cyclist rides in at 2.4 s."""


@pytest.fixture(scope="session")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Filled:
    """One real scan (auto detector) of clips and stills with file times ``age`` days before today. The vehicles
    it needs (the "other" category) are only in ../shared/data: no file in tests/data has one the detector finds."""
    sources = [data_file(name) for _, name, _, _ in LAYOUT]
    root = tmp_path_factory.mktemp("retention")
    today = datetime.now(UTC).replace(microsecond=0)
    for (folder, _, target, age), source in zip(LAYOUT, sources, strict=True):
        path = root / folder / target
        path.parent.mkdir(parents=True, exist_ok=True)
        if target in CUTS:
            cut_clip(source, path, *CUTS[target])
        else:
            shutil.copyfile(source, path)
        stamp = (today - age * DAY).timestamp()
        os.utime(path, (stamp, stamp))
    settings = settings_for(root / "data")
    report = scan([root / "footage", root / "data" / "clips", root / "data" / "ftp"], settings, jobs=1)
    assert not report.failed
    for folder, _, target, age in LAYOUT:  # retention counts from arrival: each file arrived ``age`` days ago
        arrived(root / "data", root / folder / target, today - age * DAY)
    return Filled(root / "data", root / "footage", today)


def arrived(data: Path, path: Path, when: datetime) -> None:
    """Make the store of ``data`` say that ``path`` was received (processed) at ``when``."""
    with Store(data) as store, store.engine.begin() as conn:
        query = files_table.update().where(files_table.c.path == str(path.resolve()))
        assert conn.execute(query.values(processed_utc=when)).rowcount == 1


def settings_for(data: Path, **overrides: Any) -> Settings:
    base = {"data_dir": str(data), "timezone": "UTC", "objects.labels": LABELS, "retention.max_disk_percent": None}
    return load_config(environ={}, overrides={**base, **overrides})


def with_retention(settings: Settings, **changes: Any) -> Settings:
    """``settings`` with ``retention`` keys changed (``None`` too, which `load_config` overrides skip)."""
    return settings.model_copy(update={"retention": settings.retention.model_copy(update=changes)})


def copy_data(filled: Filled, target: Path) -> Path:
    """A copy of the filled data directory at ``target``, its absolute paths rewritten."""
    shutil.copytree(filled.data, target)
    old, new = str(filled.data.resolve()), str(target.resolve())
    with sqlite3.connect(target / "camsift.db") as db:  # no foreign keys on this connection: rename freely
        for table, column in (("files", "path"), ("events", "source"), ("jobs", "path")):
            db.execute(
                f"UPDATE {table} SET {column} = ? || substr({column}, ?) WHERE {column} LIKE ?",
                (new, len(old) + 1, old + "/%"),
            )
    return target


@pytest.fixture
def data(filled: Filled, tmp_path: Path) -> Path:
    return copy_data(filled, tmp_path / "data")


def run(settings: Settings, now: datetime, **kw: Any) -> tuple[Any, Any]:
    with Store(settings.data_dir) as store:
        return Retention(settings, store, now=lambda: now, **kw).run()


def state(data: Path) -> tuple[set[str], set[str], set[str]]:
    """(event ids, files rows, files on disk relative to ``data``) of a data directory."""
    with Store(data) as store, store.engine.connect() as conn:
        ids = set(conn.execute(sa.select(events_table.c.id)).scalars())
        rows = set(conn.execute(sa.select(files_table.c.path)).scalars())
    skip = {"camsift.db", "camsift.db-wal", "camsift.db-shm"}
    on_disk = {
        p.relative_to(data).as_posix()
        for p in data.rglob("*")
        if p.is_file() and p.name not in skip and not p.is_relative_to(DataDir(data).journal)
    }
    return ids, rows, on_disk


def consistency(data: Path, url: str | None = None) -> tuple[list[str], list[str]]:
    """(references to missing files, pictures no row refers to) of a data directory (its store at ``url``)."""
    t, f = events_table, event_faces_table
    with Store(data, url) as store, store.engine.connect() as conn:
        names = set()
        for column in (t.c.snapshot, t.c.snapshot_annotated, t.c.clip, f.c.crop):
            names |= set(conn.execute(sa.select(column).where(column.is_not(None))).scalars())
    dangling = sorted(n for n in names if not (data / n).exists())
    pictures = {
        p.relative_to(data).as_posix() for d in ("events", "faces") for p in (data / d).rglob("*") if p.is_file()
    }
    return dangling, sorted(pictures - names)


def events_by_file(data: Path) -> dict[str, list[str]]:
    """Event labels by the name of the file they were found in."""
    found: dict[str, list[str]] = {}
    with Store(data) as store:
        for e in store.events():
            assert e.source is not None
            found.setdefault(e.source.name, []).append(e.label)
    return found


# --- rules -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "sub_label", "category"),
    [
        ("person", "Barack Obama", "known_face"),
        ("person", "unknown", "unknown_face"),
        ("person", None, "person"),
        ("car", None, "other"),
        ("dog", None, "other"),
    ],
)
def test_category_of(label: str, sub_label: str | None, category: str) -> None:
    assert category_of(label, sub_label) == category


def test_the_scan_found_what_the_layout_expects(filled: Filled, data: Path) -> None:
    found = events_by_file(data)
    assert set(found) == {"street.mp4", "highway.avi", "yard.avi", "car.png"}
    assert set(found["street.mp4"]) == {"person"}
    assert "car" in found["highway.avi"]
    assert set(found["highway.avi"]) <= {"car", "truck", "bus"}  # cars, vans and lorries: vehicles only
    assert set(found["car.png"]) == {"car"}


def test_today_old_cars_and_empty_footage_go_people_stay(filled: Filled, data: Path) -> None:
    _before_ids, _before_rows, before_disk = state(data)
    plan, outcome = run(settings_for(data), filled.today)
    gone = {(i.kind, i.reason, i.category) for i in outcome.deleted}
    assert gone == {("event", "age", "other"), ("footage", "age", "motion")}
    assert not outcome.kept
    found = events_by_file(data)
    assert "highway.avi" not in found  # 40-day-old cars: past other_days (30)
    assert set(found) == {"street.mp4", "yard.avi", "car.png"}
    # the user's own footage is never deleted, and its row stays (a rescan must not bring the cars back)
    assert (filled.footage / "highway" / "highway.avi").exists()
    _ids, rows, disk = state(data)
    assert str((filled.footage / "highway" / "highway.avi").resolve()) in rows
    # owned footage in which nothing was found goes after motion_days (35 > 30), its row with it
    assert not (data / "ftp" / "porch" / "porch.jpg").exists()
    assert str((data / "ftp" / "porch" / "porch.jpg").resolve()) not in rows
    assert (data / "ftp" / "traffic" / "empty.png").exists()  # 10 days: kept
    assert plan.size == outcome.size > 0
    assert before_disk - disk == {n for i in outcome.deleted for n in i.paths}
    assert consistency(data) == ([], [])
    # a second pass has nothing left to do
    again, _ = run(settings_for(data), filled.today)
    assert again.items == []


def test_later_owned_footage_goes_with_its_last_event(filled: Filled, data: Path) -> None:
    run(settings_for(data), filled.today + 75 * DAY)
    found = events_by_file(data)
    assert set(found) == {"street.mp4"}  # 77 days: a person, kept 90
    for gone in ("clips/2026-10-01/yard/yard.avi", "ftp/traffic/car.png", "ftp/traffic/empty.png"):
        assert not (data / gone).exists(), gone
    assert not (data / "clips" / "2026-10-01").exists()  # empty dated folders are pruned
    assert consistency(data) == ([], [])
    run(settings_for(data), filled.today + 100 * DAY)
    assert events_by_file(data) == {}
    assert (filled.footage / "street" / "street.mp4").exists()
    assert not list((data / "events").rglob("*.jpg"))


def test_pinned_events_and_their_footage_are_never_deleted(filled: Filled, data: Path) -> None:
    with Store(data) as store:
        (pinned,) = store.events(label="person", limit=1, source=(data / "clips/2026-10-01/yard/yard.avi").resolve())
        store.mark([pinned.id], pinned=True)
    run(settings_for(data), filled.today + 3650 * DAY)
    ids, _rows, _disk = state(data)
    assert ids == {pinned.id}
    assert (data / "clips/2026-10-01/yard/yard.avi").exists()
    assert pinned.snapshot is not None
    assert pinned.snapshot.exists()
    assert consistency(data) == ([], [])


def test_per_camera_days(filled: Filled, data: Path) -> None:
    settings = settings_for(
        data, **{"cameras.street.retention.person_days": 1, "cameras.yard.retention.delete_footage": False}
    )
    plan, _ = run(settings, filled.today + 75 * DAY)
    assert "street.mp4" not in events_by_file(data)  # 77 days > 1
    assert (data / "clips/2026-10-01/yard/yard.avi").exists()  # not deleted, though its events went
    assert {i.camera for i in plan.items if i.kind == "event"} >= {"street", "yard", "traffic"}


def test_nothing_is_older_than_forever(filled: Filled, data: Path) -> None:
    forever = {f"{c}_days": None for c in ("known_face", "unknown_face", "person", "other", "motion")}
    plan, _ = run(with_retention(settings_for(data), **forever), filled.today + 3650 * DAY)
    assert plan.items == []


# --- the command --------------------------------------------------------------------------------------------------


def test_cli_dry_run_shows_exactly_what_goes_then_deletes_it(data: Path, camsift_main: Callable[..., Any]) -> None:
    args = ("retention", "--data-dir", data, "--format", "json")
    env = {"CAMSIFT_RETENTION__OTHER_DAYS": "0", "CAMSIFT_RETENTION__MAX_DISK_PERCENT": "null"}
    os.environ.update(env)  # the `_isolated` fixture removes them again
    before = state(data)
    dry = camsift_main(*args, "--dry-run")
    assert dry.code == 0, dry.stderr
    doc = json.loads(dry.stdout)
    assert state(data) == before
    items = doc["plan"]["items"]
    assert {i["category"] for i in items} == {"other", "motion"}  # cars at 0 days; the 35-day-old empty still
    footage = {i["key"] for i in items if i["kind"] == "footage"}
    assert footage == {str((data / name).resolve()) for name in ("ftp/traffic/car.png", "ftp/porch/porch.jpg")}
    assert doc["plan"]["bytes"] == sum(i["bytes"] for i in items) > 0
    real = camsift_main(*args)
    assert real.code == 0, real.stderr
    assert json.loads(real.stdout)["deleted"] == len(items)
    after = state(data)
    assert before[0] - after[0] == {i["key"] for i in items if i["kind"] == "event"}
    assert before[2] - after[2] == {p for i in items for p in i["paths"]}
    table = camsift_main("retention", "--data-dir", data, "--dry-run")
    assert table.code == 0
    assert "0 items, would free 0.0 MB" in table.stdout


# --- the disk limit -----------------------------------------------------------------------------------------------


def deletable_bytes(settings: Settings) -> int:
    """What a pass would free if everything but pinned events had to go for space."""
    everything = with_retention(settings, max_disk_percent=1.0)
    with Store(settings.data_dir) as store:
        plan = Retention(everything, store, usage=lambda _: DiskUsage(100, 0)).plan()
    return plan.size


def assert_disk_order(items: list[Any]) -> None:
    """Items deleted for space come category by category in disk_order, oldest first within one."""
    order = ["motion", "other", "person", "unknown_face", "known_face"]
    ranks = [(order.index(i.category), i.start_utc) for i in items if i.reason == "disk" and i.kind == "event"]
    assert ranks == sorted(ranks)


def test_disk_limit_with_an_injected_usage(filled: Filled, data: Path) -> None:
    settings = settings_for(data, **{"retention.max_disk_percent": 80})
    spare = deletable_bytes(settings)
    need = spare // 2
    total = 10_000_000
    used = int(0.8 * total) + need  # `need` bytes above the limit
    plan, outcome = run(settings, filled.today - 365 * DAY, usage=lambda _: DiskUsage(used, total - used))
    assert plan.over_limit
    assert {i.reason for i in plan.items} == {"disk"}  # a year ago, nothing was old yet
    assert need <= plan.size < spare
    assert_disk_order(plan.items)
    kinds = {(i.kind, i.category) for i in plan.items}
    assert ("footage", "motion") in kinds  # footage with nothing found goes first
    assert consistency(data) == ([], [])
    assert len(outcome.deleted) == len(plan.items)


def test_disk_limit_on_a_real_small_disk(filled: Filled, small_disk: Path) -> None:
    data = copy_data(filled, small_disk / "data")
    probe = settings_for(data)
    spare = deletable_bytes(probe)
    usage = shutil.disk_usage(small_disk)
    limit = 100 * (usage.used - spare / 2) / (usage.used + usage.free)
    settings = settings_for(data, **{"retention.max_disk_percent": limit})
    plan, outcome = run(settings, filled.today - 365 * DAY)
    after = disk_usage(data)  # the space set aside for a full disk counts as free
    assert plan.over_limit
    assert outcome.deleted
    assert after.percent <= limit
    assert events_by_file(data)  # it stopped once below the limit: not everything went
    assert_disk_order(plan.items)
    assert consistency(data) == ([], [])


def test_a_full_disk_is_freed_by_the_rules_using_the_reserve(filled: Filled, small_disk: Path) -> None:
    """At 100 % the journal cannot grow: the pass gives back its reserve and deletes by the age rules."""
    from camsift.layout import RESERVE_BYTES

    data = copy_data(filled, small_disk / "data")
    settings = settings_for(data)
    assert DataDir(data).keep_reserve()
    assert (data / "retention-reserve").stat().st_size == RESERVE_BYTES
    before = events_by_file(data)
    fill_up(small_disk)

    plan, outcome = run(settings, filled.today + 30 * DAY)  # a month later: the older files are past their days

    assert plan.items
    assert outcome.deleted
    assert len(outcome.deleted) == len(plan.items)
    assert len(events_by_file(data)) < len(before)
    assert consistency(data) == ([], [])
    assert not list((data / "retention-journal").glob("*.json"))  # every batch finished


# --- crash safety -------------------------------------------------------------------------------------------------

KILLABLE = """
import sys, time
from datetime import datetime
from camsift import load_config
from camsift.retention import Retention
from camsift.store import Store

data, now = sys.argv[1], datetime.fromisoformat(sys.argv[2])
settings = load_config(environ={}, overrides={"data_dir": data, "retention.max_disk_percent": None})

def slowly(path):
    print(path, flush=True)
    time.sleep(0.2)

with Store(settings.data_dir) as store:
    Retention(settings, store, now=lambda: now, on_unlink=slowly, batch=8).run()
print("finished", flush=True)
"""


def test_a_kill_midway_leaves_no_dangling_row_and_repair_finishes_the_job(filled: Filled, tmp_path: Path) -> None:
    data = copy_data(filled, tmp_path / "killed")
    twin = copy_data(filled, tmp_path / "twin")
    now = filled.today + 3650 * DAY
    with Store(data) as store:  # one pinned event: repair must not take it with the batch it was planned in
        (pinned,) = store.events(label="person", limit=1)
    for d in (data, twin):
        with Store(d) as store:
            store.mark([pinned.id], pinned=True)
    with subprocess.Popen(
        [sys.executable, "-c", KILLABLE, str(data), now.isoformat()], stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        deleted = [child.stdout.readline() for _ in range(12)]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert all(deleted)
    assert "finished" not in "".join(deleted)
    journals = list(DataDir(data).journal.glob("*.json"))
    assert len(journals) == 1  # the batch it was killed in
    dangling, orphans = consistency(data)
    assert dangling == []  # rows go before their files: never a row without its picture
    assert orphans  # the rest of the killed batch: rows gone, files not yet
    with Store(data) as store:
        report = Retention(settings_for(data), store, now=lambda: now).repair()
    assert report.journals == 1
    assert report.finished >= len(orphans)
    assert report.dangling == 0
    assert not list(DataDir(data).journal.glob("*.json"))
    assert consistency(data) == ([], [])
    # the next pass ends where an uninterrupted one ends
    run(settings_for(data), now)
    run(settings_for(twin), now)
    killed, untouched = state(data), state(twin)
    assert killed[0] == untouched[0] == {pinned.id}
    assert {p.replace(str(data.resolve()), "") for p in killed[1]} == {
        p.replace(str(twin.resolve()), "") for p in untouched[1]
    }
    assert killed[2] == untouched[2]


def test_repair_rolls_back_a_journal_whose_rows_were_never_deleted(data: Path) -> None:
    with Store(data) as store:
        event = store.events(limit=1)[0]
    assert event.snapshot is not None
    name = event.snapshot.relative_to(data.resolve()).as_posix()
    DataDir(data).journal.mkdir()
    (DataDir(data).journal / "interrupted.json").write_text(json.dumps({"paths": [name]}))
    with Store(data) as store:
        report = Retention(settings_for(data), store).repair()
    assert (report.journals, report.finished, report.rolled_back) == (1, 0, 1)
    assert event.snapshot.exists()


def test_repair_clears_references_to_missing_pictures_and_keeps_the_event(data: Path) -> None:
    with Store(data) as store:
        event = store.events(limit=1)[0]
    assert event.snapshot is not None
    event.snapshot.unlink()
    with Store(data) as store:
        report = Retention(settings_for(data), store).repair()
        kept = store.event(event.id)
    assert report.dangling == 1
    assert kept is not None
    assert kept.snapshot is None
    assert kept.snapshot_annotated is not None
    assert consistency(data) == ([], [])


def test_repair_changes_nothing_when_the_data_disk_looks_unmounted(data: Path) -> None:
    shutil.rmtree(data / "events")
    with Store(data) as store:
        report = Retention(settings_for(data), store).repair()
        assert all(e.snapshot is not None for e in store.events())
    assert report.refused is not None
    assert "mounted" in report.refused
    assert report.dangling == 0


@pytest.mark.parametrize(("age_s", "goes"), [(7200, True), (60, False)])
def test_orphan_pictures_go_once_old_enough(filled: Filled, data: Path, age_s: int, goes: bool) -> None:
    orphan = data / "events" / "2026-01-01" / "cam" / "000000-person-x.jpg"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"\xff\xd8 not referenced")
    stamp = (filled.today - timedelta(seconds=age_s)).timestamp()
    os.utime(orphan, (stamp, stamp))
    plan, _ = run(with_retention(settings_for(data), other_days=None, motion_days=None), filled.today)
    assert [i.kind for i in plan.items] == (["orphan"] if goes else [])
    assert orphan.exists() is not goes


# --- inside `camsift run` ------------------------------------------------------------------------------------------


class FakeService:
    """What a companion uses of `Service`: the open store and `problem`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.problems: list[Problem] = []
        self.told = threading.Event()

    def problem(self, problem: Problem) -> None:
        self.problems.append(problem)
        self.told.set()


def test_the_service_runs_retention_and_tells_the_owner_once(data: Path) -> None:
    settings = settings_for(data, **{"retention.max_disk_percent": 80, "retention.interval_s": 10})
    assert any(isinstance(c, RetentionCompanion) for c in configured_parts(settings)[1])
    assert not any(
        isinstance(c, RetentionCompanion)
        for c in configured_parts(settings_for(data, **{"retention.enabled": False}))[1]
    )
    full = DiskUsage(95 * 10**9, 5 * 10**9)
    now = [0.0]
    companion = RetentionCompanion(settings, first_pass_s=0, usage=lambda _: full, clock=lambda: now[0])
    with Store(data) as store:
        service = FakeService(store)
        companion.start(service)
        try:
            assert service.told.wait(30)
            while companion.passes < 1:
                threading.Event().wait(0.1)
        finally:
            companion.stop()
        (problem,) = service.problems
        assert problem.key == "disk_limit"
        assert not problem.resolved
        assert "95 %" in problem.title
        assert "still 95 % full" in problem.detail
        # deleted everything it may: nothing but the user's footage rows is left
        assert store.events() == []
        # back below the limit for an hour: told once that it is resolved
        now[0] += RESOLVE_AFTER_S
        companion._tell(service, *Retention(settings, store, usage=lambda _: DiskUsage(10 * 10**9, 90 * 10**9)).run())
    assert [p.resolved for p in service.problems] == [False, True]


def test_disk_limit_messages_do_not_flap_told_once_and_once_resolved(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, **{"retention.max_disk_percent": 80})
    now = [0.0]
    companion = RetentionCompanion(settings, clock=lambda: now[0])
    service = FakeService(None)  # type: ignore[arg-type]

    def passes(*percents: float, every_s: float = 10.0) -> None:
        for percent in percents:
            disk = DiskUsage(int(percent * 10**9), int((100 - percent) * 10**9))
            after = DiskUsage(79 * 10**9, 21 * 10**9) if percent > 80 else disk  # retention frees down to 79 %
            companion._tell(service, Plan([], datetime.now(UTC), disk, 80.0), Outcome(disk=after))
            now[0] += every_s

    passes(*[88, 79] * 6)  # two minutes of a disk that fills up and is freed again
    assert [(p.resolved, p.title) for p in service.problems] == [(False, "Data disk 88 % full (limit 80 %)")]
    passes(77, 76, every_s=RESOLVE_AFTER_S)  # under the limit, not yet by the margin: still the same problem
    passes(*[70] * 4, every_s=RESOLVE_AFTER_S / 2)  # well below it for an hour: resolved, once
    passes(88)  # a new episode: told again
    assert [(p.resolved, p.title) for p in service.problems] == [
        (False, "Data disk 88 % full (limit 80 %)"),
        (True, "Data disk back to 70 % full"),
        (False, "Data disk 88 % full (limit 80 %)"),
    ]


def _archive_clip(target: Path, seconds: float, recorded: str) -> Path:
    """The first ``seconds`` of the real person clip, remuxed, its container saying it was recorded ``recorded``."""
    import av

    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(data_file("clips/intel_one-by-one-person-detection.mp4")) as src, av.open(str(target), "w") as out:
        out.metadata["creation_time"] = recorded
        video = src.streams.video[0]
        assert video.time_base is not None
        stream = out.add_stream_from_template(video)
        for packet in src.demux(video):
            if packet.dts is None or packet.pts is None:
                continue
            if packet.pts * video.time_base > seconds:
                break
            packet.stream = stream
            out.mux(packet)
    return target


def test_archive_footage_is_kept_its_full_period_from_arrival(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clip = _archive_clip(data / "clips" / "2017-06-01" / "yard" / "archive.mp4", 20.0, "2017-06-01T12:00:00Z")
    settings = settings_for(data)
    assert not scan([clip], settings, jobs=1).failed
    with Store(data) as store:
        record = store.file(clip.resolve())
        assert record is not None
        assert record.start_utc is not None
        assert record.start_utc.year == 2017  # the recording date camsift read from the container
        assert {e.label for e in store.events()} == {"person"}
    arrival = datetime.now(UTC)

    plan, _ = run(settings, arrival + 89 * DAY)  # person_days: 90, counted from arrival
    assert plan.items == []
    assert clip.exists()
    assert events_by_file(data) == {"archive.mp4": ["person"]}

    plan, _ = run(settings, arrival + 91 * DAY)
    assert {(i.kind, i.category) for i in plan.items} == {("event", "person"), ("footage", "person")}
    assert not clip.exists()
    assert events_by_file(data) == {}


def test_a_clip_two_events_share_goes_with_the_last_of_them(filled: Filled, data: Path) -> None:
    shared = data / "saved" / "shared.mp4"
    shared.parent.mkdir()
    shared.write_bytes(b"clip")
    with Store(data) as store:
        first, second = store.events(
            label="person", limit=2, source=(filled.footage / "street" / "street.mp4").resolve()
        )
        with store.engine.begin() as conn:
            t = events_table
            conn.execute(t.update().where(t.c.id.in_([first.id, second.id])).values(clip="saved/shared.mp4"))
        store.mark([second.id], pinned=True)
    run(settings_for(data), filled.today + 3650 * DAY)
    assert shared.exists()  # the pinned event still shows it
    with Store(data) as store:
        assert store.event(first.id) is None
        store.mark([second.id], pinned=False)
    run(settings_for(data), filled.today + 3650 * DAY)
    assert not shared.exists()
    assert consistency(data) == ([], [])


# --- both database backends (synthetic rows: the mechanics, not the detector) ---------------------------------------


def test_the_same_pass_on_sqlite_and_postgresql(tmp_path: Path, database_url: str | None) -> None:
    from camsift.events import Event, FileRecord

    data = tmp_path / "data"
    settings = settings_for(data, database=database_url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with Store(data, database_url) as store:
        for n, label in enumerate(["person", "car", "person", "car"]):
            when = start + n * DAY
            clip = DataDir(data).clip("cam", when, UTC)
            clip.parent.mkdir(parents=True, exist_ok=True)
            clip.write_bytes(b"clip")
            record = FileRecord(clip, 4, 0.0, "0" * 64, "cam", "ok", None, 4.0, when, "mtime", when)
            e = Event(f"e{n}", "cam", label, 0.0, 1.0, when, when, 0.9, (0, 0, 1, 1))
            shots = (DataDir(data).picture(e, False, UTC), DataDir(data).picture(e, True, UTC))
            for shot in shots:
                shot.parent.mkdir(parents=True, exist_ok=True)
                shot.write_bytes(b"jpg")
            store.save(record, [e.replace(snapshot=shots[0], snapshot_annotated=shots[1], clip=clip, source=clip)])
        store.mark(["e2"], pinned=True)
        _, outcome = Retention(settings, store, now=lambda: start + 365 * DAY).run()
        left = {e.id for e in store.events()}
        rows = {r.path.name for r in store.files()}
    assert left == {"e2"}
    assert len(rows) == 1
    assert {i.kind for i in outcome.deleted} == {"event", "footage"}
    assert not outcome.kept
    assert consistency(data, database_url) == ([], [])
    on_disk = sorted(p.relative_to(data).parts[0] for p in data.rglob("*") if p.is_file() and p.suffix != ".db")
    assert on_disk.count("clips") == 1
    assert on_disk.count("events") == 2


def test_footage_no_row_knows_goes_after_motion_days_and_nothing_else_does(filled: Filled, data: Path) -> None:
    old = (filled.today - 40 * DAY).timestamp()
    stray = data / "clips" / "2026-01-01" / "cam" / "093000-cam.mp4"  # recorded, never analysed (time window)
    young = data / "clips" / "2026-01-01" / "cam" / "094500-cam.mp4"
    token = data / "blink" / "token.json"  # the Blink source's login lives beside its downloads
    download = data / "blink" / "me" / "home" / "Porch" / "2026-01-01" / "09-30-00-Porch.mp4"
    for path, stamp in ((stray, old), (young, filled.today.timestamp()), (token, old), (download, old)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        os.utime(path, (stamp, stamp))
    blink = {"sources": {"blink": {"type": "blink"}}}
    plan, _ = run(settings_for(data, **blink), filled.today)
    swept = {i.key for i in plan.items if i.kind == "footage" and not i.row}
    assert swept == {str(stray.resolve()), str(download.resolve())}
    assert not stray.exists()
    assert not download.exists()
    assert young.exists()
    assert token.exists()
