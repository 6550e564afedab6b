"""The service in-process: sources to queue to workers to store to listeners; time windows; alarms."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from camsift.alarms import Alarms
from camsift.analysis.file import FileResult
from camsift.config import Settings
from camsift.events import Event, FileRecord
from camsift.listeners import EventChange, EventListener
from camsift.notify import Notifier
from camsift.notify.senders import SEND_TIMEOUT_S
from camsift.service import Service, configured_parts
from camsift.store import Store
from camsift.store.outbox import Message, Outbox
from camsift.store.queue import JobQueue
from camsift.store.status import ServiceBoard
from helpers.media import Walk, write_clip
from helpers.notify import http_receiver
from helpers.service import wait_for

MakeSettings = Callable[..., Settings]


class Recorder:
    """An `EventListener` that keeps every change."""

    def __init__(self) -> None:
        self.changes: list[EventChange] = []

    def on_event(self, change: EventChange) -> None:
        self.changes.append(change)


@pytest.fixture
def serve(scripted_settings: MakeSettings, footage: Path) -> Iterator[Callable[..., tuple[Service, Recorder]]]:
    """``serve(**overrides)``: the service on a thread, with a folder source on ``footage``."""
    threads: list[tuple[threading.Thread, threading.Event]] = []

    def start(**overrides: object) -> tuple[Service, Recorder]:
        source = {"type": "folder", "path": str(footage), "settle_s": 0.3}
        settings = scripted_settings(**{"sources": {"inbox": source}, "service.heartbeat_s": 0.2, **overrides})
        listener = Recorder()
        service = Service(settings, listeners=[listener], workers=1)
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
        thread.start()
        threads.append((thread, stop))
        return service, listener

    yield start
    for thread, stop in threads:
        stop.set()
        thread.join(timeout=20)
        assert not thread.is_alive()


def jobs_done(data_dir: Path, n: int) -> Callable[[], bool]:
    def check() -> bool:
        with Store(data_dir) as store:
            return sum(state == "done" for _, state, _ in JobQueue(store.engine).jobs()) >= n

    return check


def test_files_dropped_in_a_folder_become_stored_events_and_listener_changes(
    serve: Callable[..., tuple[Service, Recorder]], footage: Path, tmp_path: Path, data_dir: Path
) -> None:
    _, listener = serve(**{"alarm.labels": ["person"]})
    walker = write_clip(tmp_path / "w.mp4", [Walk(0.5, 3.5)]).path
    nobody = write_clip(tmp_path / "n.mp4", []).path
    (footage / "porch").mkdir()
    shutil.move(walker, footage / "porch" / "walker.mp4")
    shutil.move(nobody, footage / "porch" / "nobody.mp4")
    (footage / "porch" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))

    wait_for(jobs_done(data_dir, 3), 60, "three files analysed")

    with Store(data_dir) as store:
        events = store.events()
        records = {r.path.name: (r.status, r.camera) for r in store.files()}
        board = {c.name: c.state for c in ServiceBoard(store.engine).components()}
    assert records == {"walker.mp4": ("ok", "porch"), "nobody.mp4": ("ok", "porch"), "broken.mp4": ("error", "porch")}
    assert [(e.camera, e.label, e.source and e.source.name) for e in events] == [("porch", "person", "walker.mp4")]
    assert events[0].snapshot is not None
    assert events[0].snapshot.exists()
    assert [(c.kind, c.after.id, c.alarm, c.origin, c.before) for c in listener.changes] == [
        ("new", events[0].id, True, "folder", None)
    ]
    assert board == {"service": "running", "source:inbox": "running"}


def test_a_file_delivered_again_changes_nothing(
    serve: Callable[..., tuple[Service, Recorder]], footage: Path, data_dir: Path
) -> None:
    clip = write_clip(footage / "cam" / "a.mp4", creation_time="2026-11-22T14:30:05Z").path  # time not from mtime
    _, listener = serve()
    wait_for(jobs_done(data_dir, 1), 60, "the first analysis")
    os.utime(clip, (1_700_000_000, 1_700_000_000))  # same content, new mtime: a new job, analysed again

    wait_for(jobs_done(data_dir, 2), 60, "the second analysis")

    with Store(data_dir) as store:
        assert len(store.events()) == 1
        assert [o for _, _, o in JobQueue(store.engine).jobs()] == ["ok", "ok"]
    assert [c.kind for c in listener.changes] == ["new"]


def test_outside_its_time_window_a_file_is_kept_but_not_analysed(
    serve: Callable[..., tuple[Service, Recorder]], footage: Path, data_dir: Path
) -> None:
    now = datetime.now(UTC)
    window = f"{(now + timedelta(hours=2)):%H:%M}-{(now + timedelta(hours=3)):%H:%M}"
    clip = write_clip(footage / "porch" / "a.mp4").path

    serve(**{"cameras.porch.time_windows": [window]})
    wait_for(jobs_done(data_dir, 1), 30, "the job to be settled")

    with Store(data_dir) as store:
        assert [o for _, _, o in JobQueue(store.engine).jobs()] == ["outside time window: kept, not analysed"]
        assert list(store.files()) == []
    assert clip.exists()


def test_a_file_swapped_for_a_link_after_it_was_queued_is_never_read_through(
    serve: Callable[..., tuple[Service, Recorder]], footage: Path, data_dir: Path, tmp_path: Path
) -> None:
    outside = write_clip(tmp_path / "outside" / "private.mp4", [Walk(0.5, 3.5)]).path
    queued_file = write_clip(footage / "porch" / "a.mp4").path
    with Store(data_dir) as store:
        assert JobQueue(store.engine).submit(queued_file, "porch", "inbox", "folder")
    queued_file.unlink()
    queued_file.symlink_to(outside)

    serve()
    wait_for(jobs_done(data_dir, 1), 30, "the job to be settled")

    with Store(data_dir) as store:
        assert [o for _, _, o in JobQueue(store.engine).jobs()] == ["error: the file became a link; not followed"]
        assert list(store.files()) == []
    assert outside.exists()


# --- crashes and shutdowns ---------------------------------------------------------------------------------------


class Killed(BaseException):
    """Stands for a SIGKILL: the service goes no further (it is no `Exception`, so nothing catches it)."""


class Killer:
    """An `EventListener` that kills the service when it hears of an event (after the listeners before it)."""

    def on_event(self, change: EventChange) -> None:
        raise Killed


def run_until_killed(service: Service) -> None:
    """Run ``service`` in this thread until it is `Killed`; fail if it stops any other way."""
    with pytest.raises(Killed):
        service.run(threading.Event())


@pytest.mark.parametrize("kill", ["right after storing the file", "while telling the listeners"])
def test_a_kill_between_storing_a_file_and_finishing_its_job_loses_no_notification(
    kill: str, scripted_settings: MakeSettings, footage: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the restart the stored events are told again: the alarm is notified once, the job is done."""
    write_clip(footage / "porch" / "walker.mp4", [Walk(0.5, 3.5)])
    with http_receiver() as hook:
        settings = scripted_settings(
            sources={"inbox": {"type": "folder", "path": str(footage), "settle_s": 0.3}},
            **{"notify.channels": {"hook": {"url": f"json://127.0.0.1:{hook.port}/alerts"}}},
        )
        first, second = Notifier(settings), Notifier(settings)
        with monkeypatch.context() as patch:
            if kill == "right after storing the file":
                save = Store.save

                def save_then_die(store: Store, record: FileRecord, events: list[Event]) -> None:
                    save(store, record, events)
                    raise Killed

                patch.setattr(Store, "save", save_then_die)
            listeners: list[EventListener] = [first, Killer()]
            run_until_killed(Service(settings, listeners=listeners, companions=[first], workers=1))
        with Store(data_dir) as store:
            [stored] = store.events()
            assert [state for _, state, _ in JobQueue(store.engine).jobs()] == ["leased"]

        listener = Recorder()
        stop = threading.Event()
        service = Service(settings, listeners=[second, listener], companions=[second], workers=1)
        thread = threading.Thread(target=service.run, args=(stop,))
        thread.start()
        try:
            wait_for(jobs_done(data_dir, 1), 60, "the job to be settled")
            wait_for(hook.received, 30, "the alert")
            time.sleep(1)  # nothing else may follow
        finally:
            stop.set()
            thread.join(timeout=30)

        [request] = hook.received()
    assert request.json()["title"] == "Person on porch"
    assert [(c.kind, c.after.id, c.alarm) for c in listener.changes] == [("new", stored.id, True)]
    with Store(data_dir) as store:
        assert [o for _, _, o in JobQueue(store.engine).jobs()] == ["ok (already recorded)"]
        assert [(q.message.key, q.state) for q in Outbox(store.engine).messages()] == [(f"event:{stored.id}", "sent")]


def test_a_notification_a_killed_run_had_claimed_is_sent_at_the_next_start(
    scripted_settings: MakeSettings, footage: Path, data_dir: Path
) -> None:
    """Killed between claiming a message and marking it sent: the next start hands the claim back, so the message
    goes out at once rather than when the killed run's lease (two minutes) runs out."""
    with http_receiver() as hook:
        settings = scripted_settings(
            sources={"inbox": {"type": "folder", "path": str(footage), "settle_s": 0.3}},
            **{"notify.channels": {"hook": {"url": f"json://127.0.0.1:{hook.port}/alerts"}}},
        )
        with Store(data_dir) as store:
            store.outbox.put("hook", Message("event:e1", "event", "Person on porch", "At the door"))
            [queued] = store.outbox.due("hook")
            assert store.outbox.claim(queued.id, SEND_TIMEOUT_S * 4)  # as the killed run's sender did
        notifier = Notifier(settings)
        stop = threading.Event()
        service = Service(settings, listeners=[notifier], companions=[notifier], workers=1)
        thread = threading.Thread(target=service.run, args=(stop,))
        thread.start()
        try:
            wait_for(hook.received, 30, "the message")
        finally:
            stop.set()
            thread.join(timeout=30)

        [request] = hook.received()
    assert request.json()["title"] == "Person on porch"
    with Store(data_dir) as store:
        assert [(q.message.key, q.state) for q in store.outbox.messages()] == [("event:e1", "sent")]


def test_a_file_stored_before_its_job_was_queued_is_not_told_again(
    serve: Callable[..., tuple[Service, Recorder]], footage: Path, data_dir: Path
) -> None:
    """A file handed in again once its old job was pruned: its events were told when it was stored."""
    clip = write_clip(footage / "porch" / "walker.mp4", [Walk(0.5, 3.5)]).path
    _, first = serve()
    wait_for(jobs_done(data_dir, 1), 60, "the first analysis")
    with Store(data_dir) as store:
        JobQueue(store.engine).prune(0)
        assert JobQueue(store.engine).submit(clip, "porch", "inbox", "folder")

    wait_for(jobs_done(data_dir, 1), 30, "the new job to be settled")

    with Store(data_dir) as store:
        assert [o for _, _, o in JobQueue(store.engine).jobs()] == ["ok (already recorded)"]
    assert [c.kind for c in first.changes] == ["new"]


class StuckWorkers:
    """`Workers` that take every file and never finish one (a long clip being analysed)."""

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        self.busy = 0

    def submit(self, path: Path, camera: str) -> None:
        self.busy += 1

    def poll(self, timeout: float | None) -> list[FileResult]:
        time.sleep(timeout or 0.0)
        return []

    def close(self, now: bool = False) -> None:
        """Nothing to stop."""


def stop_during_analysis(service: Service) -> None:
    """Run ``service`` until it has a file in analysis, then stop it cleanly."""
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,))
    thread.start()
    wait_for(lambda: service._in_flight, 30, "a file in analysis")
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_clean_shutdowns_during_an_analysis_never_give_the_file_up(
    scripted_settings: MakeSettings, footage: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five stops while a long clip is analysed (``max_attempts`` 3): the clip still waits, uncounted."""
    monkeypatch.setattr("camsift.service.Workers", StuckWorkers)
    write_clip(footage / "porch" / "long.mp4")
    settings = scripted_settings(
        sources={"inbox": {"type": "folder", "path": str(footage), "settle_s": 0.1}}, **{"service.max_attempts": 3}
    )
    for _ in range(5):
        stop_during_analysis(Service(settings, workers=1))

    with Store(data_dir) as store:
        [(job, state, outcome)] = JobQueue(store.engine).jobs()
    assert (job.path.name, state, outcome, job.attempts) == ("long.mp4", "pending", None, 0)


class SlowSource:
    """A `Source` whose `stop` takes ``stop_s`` seconds (a thread to join, a clip to close), or until ``hurry``."""

    def __init__(self, name: str, stop_s: float, stopped: list[str], hurry: threading.Event) -> None:
        self.name, self.kind, self.stop_s, self.stopped, self.hurry = name, "slow", stop_s, stopped, hurry

    def start(self) -> None:
        """Nothing to start."""

    def stop(self) -> None:
        self.hurry.wait(self.stop_s)
        self.stopped.append(self.name)

    def processed(self, path: Path, events: int) -> None:
        """Nothing to clear away."""


@pytest.mark.parametrize(("stop_s", "deadline_s", "stopped"), [(1.0, 10.0, 5), (60.0, 1.0, 0)])
def test_sources_stop_together_within_one_deadline(
    stop_s: float,
    deadline_s: float,
    stopped: int,
    scripted_settings: MakeSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five sources taking 1 s each stop in about 1 s, not 5; sources that hang are left at the deadline."""
    done: list[str] = []
    hurry = threading.Event()
    monkeypatch.setattr("camsift.service.Workers", StuckWorkers)
    monkeypatch.setattr("camsift.service._SOURCES_STOP_S", deadline_s, raising=False)
    monkeypatch.setattr("camsift.service.create", lambda name, *_: SlowSource(name, stop_s, done, hurry))
    names = [f"cam{n}" for n in range(5)]
    settings = scripted_settings(sources={n: {"type": "folder", "path": str(tmp_path)} for n in names})
    service, stop = Service(settings, workers=1), threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,))
    thread.start()
    wait_for(lambda: len(service.sources) == len(names), 30, "the sources to start")

    stop.set()
    began = time.monotonic()
    thread.join(timeout=30)
    took = time.monotonic() - began
    hurry.set()  # let the hanging ones go

    assert not thread.is_alive()
    assert sorted(done) == names[:stopped]
    assert min(stop_s, deadline_s) <= took < min(stop_s, deadline_s) + 1.5


# --- alarms ------------------------------------------------------------------------------------------------------

T0 = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)


def event(label: str, at_s: float = 0.0, camera: str = "porch", n: int = 1) -> Event:
    start = T0 + timedelta(seconds=at_s)
    return Event(f"e{at_s:g}-{label}-{n}", camera, label, 0.0, 1.0, start, start, 0.9, (0, 0, 1, 1))


@pytest.mark.parametrize(
    ("alarm", "events", "expected"),
    [
        ({}, [event("person"), event("car", 1)], [True, True]),
        ({"alarm.labels": ["person"]}, [event("person"), event("car", 1)], [True, False]),
        ({"alarm.cooldown_s": 60}, [event("person"), event("person", 30), event("person", 90)], [True, False, True]),
        ({"alarm.cooldown_s": 60}, [event("person"), event("person", 30, camera="gate")], [True, True]),
        ({"alarm.mode": "new_labels", "alarm.labels": ["car"]}, [event("car"), event("cat", 1)], [False, True]),
    ],
)
def test_alarm_rules(
    alarm: dict[str, object], events: list[Event], expected: list[bool], data_dir: Path, scripted_settings: MakeSettings
) -> None:
    with Store(data_dir) as store:
        decided = Alarms(scripted_settings(**alarm), store).decide(events)

    assert [decided[e.id] for e in events] == expected


def test_new_labels_learns_what_is_normally_in_the_picture(data_dir: Path, scripted_settings: MakeSettings) -> None:
    """A car in 3 of the last 4 files is normal; a dog in 1 of 4 is not."""
    settings = scripted_settings(**{"alarm.mode": "new_labels", "alarm.learn_files": 4, "alarm.learn_fraction": 0.5})
    with Store(data_dir) as store:
        for n, labels in enumerate([["car"], ["car", "dog"], [], ["car"]]):
            path = data_dir / f"{n}.jpg"
            record = FileRecord(path, 1, 0.0, "x", "porch", "ok", None, 0.0, T0, "name", T0 + timedelta(minutes=n))
            store.save(record, [event(label, n, n=n).replace(source=path) for label in labels])
        alarms = Alarms(settings, store)

        assert alarms.normal_labels("porch") == {"car"}
        decided = alarms.decide([event("car", 100), event("dog", 101), event("person", 102)])
    assert list(decided.values()) == [False, True, True]


# --- end to end with the real detector ---------------------------------------------------------------------------


@pytest.mark.slow
def test_real_footage_uploaded_over_ftp_is_analysed_by_the_real_detector(shared_data: Path, data_dir: Path) -> None:
    import ftplib

    from camsift.config import load_config
    from camsift.sources.ftp import hash_password
    from helpers.service import free_port, listening

    port = free_port()
    users = {"porch": {"password_hash": hash_password("pw")}}
    ftp = {"type": "ftp", "host": "127.0.0.1", "port": port, "users": users, "remove_files": True}
    settings = load_config(environ={}, overrides={"data_dir": str(data_dir), "sources": {"uploads": ftp}})
    listener = Recorder()
    stop = threading.Event()
    thread = threading.Thread(target=Service(settings, listeners=[listener], workers=1).run, args=(stop,))
    thread.start()
    uploads = {
        "people.jpg": shared_data / "faces" / "two_people.jpg",
        "rocket.jpg": shared_data / "images" / "skimage_rocket.jpg",  # no one
        "hall.mp4": shared_data / "faces" / "short_hamilton_clip.mp4",
    }
    try:
        wait_for(lambda: listening(port), 20, "the FTP server")  # its user folders exist before it listens
        with ftplib.FTP() as client:
            client.connect("127.0.0.1", port, timeout=10)
            client.login("porch", "pw")
            for name, path in uploads.items():
                with path.open("rb") as f:
                    client.storbinary(f"STOR {name}", f)
        wait_for(jobs_done(data_dir, 3), 120, "three uploads analysed")
    finally:
        stop.set()
        thread.join(timeout=30)

    with Store(data_dir) as store:
        found = {
            name: {e.label for e in store.events(source=data_dir.resolve() / "ftp" / "porch" / name)}
            for name in uploads
        }
        snapshots = [e.snapshot_annotated for e in store.events()]
    assert found == {"people.jpg": {"person"}, "rocket.jpg": set(), "hall.mp4": {"person"}}
    assert all(p is not None and p.exists() for p in snapshots)
    assert list((data_dir / "ftp" / "porch").iterdir()) == []  # remove_files: uploads gone, evidence kept
    assert {(c.kind, c.after.label) for c in listener.changes} == {("new", "person")}
    assert sum(c.alarm for c in listener.changes) == 1  # all within one minute: the cooldown holds the rest


class FlakyWorkers:
    """`Workers` in this process whose worker "dies" on each file its first ``crashes`` times (a kill from outside)."""

    crashes = 2

    def __init__(self, settings: Settings, *_args: object, **_kwargs: object) -> None:
        self.settings = settings
        self.tries: dict[Path, int] = {}
        self.todo: list[tuple[Path, str]] = []

    @property
    def busy(self) -> int:
        return len(self.todo)

    def submit(self, path: Path, camera: str) -> None:
        self.todo.append((path, camera))

    def poll(self, timeout: float | None) -> list[FileResult]:
        from camsift.analysis.file import analyse_file
        from camsift.analysis.pool import CRASHED

        results = []
        for path, camera in self.todo:
            self.tries[path] = self.tries.get(path, 0) + 1
            if self.tries[path] <= self.crashes:
                results.append(FileResult(path, camera, "error", CRASHED, crashed=True))
            else:
                results.append(analyse_file(path, camera, self.settings, 1))
        self.todo.clear()
        return results

    def close(self, now: bool = False) -> None:
        """Nothing to stop."""


def given_up(data_dir: Path) -> list[tuple[str, str]]:
    with Store(data_dir) as store:
        return [(g.path.name, g.reason) for g in JobQueue(store.engine).given_up()]


def test_a_worker_killed_twice_on_a_healthy_file_is_retried_and_the_file_then_deleted(
    serve: Callable[..., tuple[Service, Recorder]], footage: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("camsift.service.Workers", FlakyWorkers)
    clip = write_clip(footage / "porch" / "walker.mp4", [Walk(0.5, 3.5)]).path
    _, listener = serve(**{"sources.inbox.delete_after": True, "service.max_attempts": 3})

    wait_for(jobs_done(data_dir, 1), 60, "the file analysed at its third try")

    with Store(data_dir) as store:
        assert [(j.path, s, o) for j, s, o in JobQueue(store.engine).jobs()] == [(clip, "done", "ok")]
        assert [r.status for r in store.files()] == ["ok"]
    assert [(c.kind, c.after.label) for c in listener.changes] == [("new", "person")]
    assert given_up(data_dir) == []
    wait_for(lambda: not clip.exists(), 10, "delete_after to delete the file")


def test_a_file_that_kills_its_worker_is_given_up_shown_and_retried_on_request(
    serve: Callable[..., tuple[Service, Recorder]],
    footage: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("camsift.service.Workers", FlakyWorkers)
    clip = write_clip(footage / "porch" / "bad.mp4", [Walk(0.5, 3.5)]).path
    service, listener = serve(**{"sources.inbox.delete_after": True, "service.max_attempts": 2})

    wait_for(lambda: given_up(data_dir), 60, "the file given up")
    assert given_up(data_dir) == [("bad.mp4", "given up: the decoder crashed on this file (2 times)")]
    assert clip.exists()  # kept for a retry
    assert listener.changes == []

    with Store(data_dir) as store:
        [job] = JobQueue(store.engine).retry([clip])
    assert job.path == clip
    service.wake.set()
    wait_for(jobs_done(data_dir, 1), 60, "the retried file analysed")
    assert given_up(data_dir) == []
    assert [(c.kind, c.after.label) for c in listener.changes] == [("new", "person")]
    wait_for(lambda: not clip.exists(), 10, "delete_after to delete the file")


def test_a_full_data_disk_is_waited_out_and_nothing_acknowledged_is_lost(
    small_disk: Path, scripted_settings: MakeSettings, footage: Path, shared_data: Path
) -> None:
    """Data on a 16 MiB tmpfs filled to 100 %: the service lives on, FTP says 452, a file whose snapshots cannot
    be written waits, the owner hears once; once space is freed everything goes on by itself."""
    import ftplib

    from camsift.sources.ftp import hash_password
    from helpers.service import fill_up, free_port

    picture = shared_data / "images" / "skimage_rocket.jpg"
    port = free_port()
    with http_receiver() as hook:
        settings = scripted_settings(
            data_dir=str(small_disk / "data"),
            sources={
                "uploads": {
                    "type": "ftp",
                    "host": "127.0.0.1",
                    "port": port,
                    "users": {"porch": {"password_hash": hash_password("pw")}},
                },
                "inbox": {"type": "folder", "path": str(footage), "settle_s": 0.2},
            },
            **{"service.heartbeat_s": 0.2, "notify.channels": {"hook": {"url": f"json://127.0.0.1:{hook.port}/a"}}},
        )
        listeners, companions = configured_parts(settings)
        service = Service(settings, listeners=listeners, companions=companions, workers=1)
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
        thread.start()

        def upload(name: str) -> str:
            with ftplib.FTP() as client, picture.open("rb") as f:
                client.connect("127.0.0.1", port, timeout=10)
                client.login("porch", "pw")
                try:
                    return client.storbinary(f"STOR {name}", f)
                except ftplib.Error as err:
                    return str(err)

        data = small_disk / "data"
        try:
            wait_for(lambda: service.store is not None and service.sources, 60, "the service")
            wait_for(lambda: upload("before.jpg").startswith("226"), 30, "the FTP server")
            wait_for(jobs_done(data, 1), 60, "the first upload analysed")
            filler = fill_up(small_disk)
            refused = upload("during.jpg")
            shutil.copyfile(picture, footage / "during.jpg")  # its snapshots cannot be written now
            wait_for(lambda: service._full_since is not None, 30, "the service to notice the full disk")
            time.sleep(2.0)  # several heartbeats and retries on the full disk
            alive = thread.is_alive()
            while_full = [r.json()["title"] for r in hook.received()]

            filler.unlink()
            wait_for(jobs_done(data, 2), 60, "the waiting file analysed once space is back")
            after = upload("after.jpg")
            wait_for(jobs_done(data, 3), 60, "an upload after the disk was freed")
        finally:
            stop.set()
            thread.join(timeout=30)

    assert alive
    assert refused.startswith("452"), refused
    assert while_full == ["camsift: Data disk full: camsift is waiting"]  # told once
    assert after.startswith("226")
    with Store(data) as store:
        jobs = {j.path.name: (state, outcome) for j, state, outcome in JobQueue(store.engine).jobs()}
        analysed = {r.path.name: (r.status, r.error) for r in store.files()}
    assert jobs == dict.fromkeys(("before.jpg", "during.jpg", "after.jpg"), ("done", "ok"))
    assert analysed == dict.fromkeys(("before.jpg", "during.jpg", "after.jpg"), ("ok", None))
