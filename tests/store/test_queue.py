"""The durable job queue: dedup by file, claim with a lease, re-delivery, give-up, depth, pruning."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from camsift.store import Store
from camsift.store.queue import JobQueue
from helpers.clock import FakeClock


@pytest.fixture
def queue(data_dir: Path, database_url: str | None, clock: FakeClock) -> Iterator[JobQueue]:
    """The queue on each backend (SQLite, PostgreSQL: see `database_url`), on the test's clock."""
    with Store(data_dir, database_url, clock=clock) as store:
        yield store.jobs


def touch(path: Path, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_the_same_file_twice_is_one_job_and_a_changed_file_is_a_new_one(queue: JobQueue, tmp_path: Path) -> None:
    clip = touch(tmp_path / "a.mp4")

    assert queue.submit(clip, "porch", "inbox", "folder") is True
    assert queue.submit(clip, "porch", "inbox", "folder") is False
    touch(clip, b"new content")
    os.utime(clip, ns=(1, 2))
    assert queue.submit(clip, "porch", "inbox", "folder") is True

    assert [(j.path, state) for j, state, _ in queue.jobs()] == [(clip, "pending"), (clip, "pending")]


def test_claim_hands_out_oldest_first_and_skips_paths_in_analysis(queue: JobQueue, tmp_path: Path) -> None:
    a, b, c = (touch(tmp_path / f"{n}.jpg") for n in "abc")
    for path in (a, b, c):
        queue.submit(path, "cam", "ftp", "ftp")

    first = queue.claim(1, lease_s=60, max_attempts=3, skip=frozenset({str(a)}))
    rest = queue.claim(5, lease_s=60, max_attempts=3)

    assert [j.path for j in first] == [b]
    assert [j.path for j in rest] == [a, c]
    assert all(j.attempts == 1 for j in first + rest)
    assert queue.claim(5, lease_s=60, max_attempts=3) == []
    assert (queue.depth().pending, queue.depth().leased) == (0, 3)


def test_an_expired_lease_is_handed_out_again_and_done_jobs_never(
    queue: JobQueue, clock: FakeClock, tmp_path: Path
) -> None:
    a, b = touch(tmp_path / "a.jpg"), touch(tmp_path / "b.jpg")
    queue.submit(a, "cam", "s", "ftp")
    queue.submit(b, "cam", "s", "ftp")
    job_a, job_b = queue.claim(2, lease_s=60, max_attempts=3)
    queue.done(job_b, "ok")
    clock.advance(59)
    assert queue.claim(2, lease_s=60, max_attempts=3) == []  # the lease still runs
    clock.advance(2)

    again = queue.claim(2, lease_s=60, max_attempts=3)

    assert [(j.id, j.attempts) for j in again] == [(job_a.id, 2)]
    assert {j.path: (state, outcome) for j, state, outcome in queue.jobs()}[b] == ("done", "ok")


def test_a_job_claimed_max_attempts_times_is_given_up(queue: JobQueue, clock: FakeClock, tmp_path: Path) -> None:
    queue.submit(touch(tmp_path / "crash.mp4"), "cam", "s", "folder")
    for _ in range(2):
        assert queue.claim(1, lease_s=10, max_attempts=2)
        clock.advance(11)

    assert queue.claim(1, lease_s=0, max_attempts=2) == []
    [(_job, state, outcome)] = queue.jobs()
    assert (state, outcome) == ("failed", "given up after 2 attempts")


def test_release_all_returns_leased_jobs_and_depth_counts_them(queue: JobQueue, tmp_path: Path) -> None:
    for n in "ab":
        queue.submit(touch(tmp_path / f"{n}.jpg"), "cam", "s", "ftp")
    queue.claim(2, lease_s=600, max_attempts=3)

    assert queue.release_all() == 2
    depth = queue.depth()
    assert (depth.pending, depth.leased) == (2, 0)
    assert depth.oldest_utc is not None
    assert depth.oldest_utc.tzinfo is not None


def test_prune_deletes_only_old_finished_jobs(queue: JobQueue, clock: FakeClock, tmp_path: Path) -> None:
    for n in "ab":
        queue.submit(touch(tmp_path / f"{n}.jpg"), "cam", "s", "ftp")
    done, _ = queue.claim(2, lease_s=600, max_attempts=3)
    queue.done(done, "ok")
    clock.advance(3000)

    assert queue.prune(older_than_s=3600) == 0
    assert queue.prune(older_than_s=2000) == 1
    assert [state for _, state, _ in queue.jobs()] == ["leased"]


def test_a_missing_file_cannot_be_queued(queue: JobQueue, tmp_path: Path) -> None:
    from camsift.errors import StorageError

    with pytest.raises(StorageError, match=r"gone\.jpg: cannot queue: No such file"):
        queue.submit(tmp_path / "gone.jpg", "cam", "s", "ftp")


def test_a_job_handed_back_at_clean_shutdowns_is_never_given_up(queue: JobQueue, tmp_path: Path) -> None:
    """Stopping the service while a long clip is analysed, again and again, does not use up its attempts."""
    clip = touch(tmp_path / "long.mp4")
    queue.submit(clip, "cam", "s", "folder")
    for _ in range(5):
        [job] = queue.claim(1, lease_s=600, max_attempts=3)
        assert queue.release([job]) == 1

    [job] = queue.claim(1, lease_s=600, max_attempts=3)
    assert (job.path, job.attempts) == (clip, 1)
    assert [(state, outcome) for _, state, outcome in queue.jobs()] == [("leased", None)]


def test_release_leaves_a_job_another_service_claimed_since(queue: JobQueue, clock: FakeClock, tmp_path: Path) -> None:
    queue.submit(touch(tmp_path / "a.mp4"), "cam", "s", "folder")
    [mine] = queue.claim(1, lease_s=60, max_attempts=3)
    clock.advance(61)
    [theirs] = queue.claim(1, lease_s=600, max_attempts=3)  # my lease ran out: another service took it

    assert queue.release([mine]) == 0
    assert [(j.attempts, state) for j, state, _ in queue.jobs()] == [(theirs.attempts, "leased")] == [(2, "leased")]


def test_leases_left_by_a_killed_service_never_count(queue: JobQueue, tmp_path: Path) -> None:
    """`release_all` (at start, after a kill of the service) hands the claims back uncounted: not the file's fault."""
    clip = touch(tmp_path / "long.mp4")
    queue.submit(clip, "cam", "s", "folder")
    for _ in range(5):
        assert queue.claim(1, lease_s=600, max_attempts=2)
        assert queue.release_all() == 1

    [job] = queue.claim(1, lease_s=600, max_attempts=2)
    assert (job.path, job.attempts) == (clip, 1)
    assert queue.given_up() == []


def test_crashes_of_its_worker_are_retried_then_given_up_and_retry_queues_it_again(
    queue: JobQueue, tmp_path: Path
) -> None:
    clip = touch(tmp_path / "bad.mp4")
    queue.submit(clip, "porch", "inbox", "folder")
    for crash in range(1, 4):
        [job] = queue.claim(1, lease_s=600, max_attempts=3)
        assert job.attempts == crash
        assert queue.crashed(job, "the decoder crashed on this file", 3) is (crash == 3)

    assert queue.claim(1, lease_s=600, max_attempts=3) == []
    [given_up] = queue.given_up()
    assert (given_up.path, given_up.camera, given_up.source) == (clip, "porch", "inbox")
    assert given_up.reason == "given up: the decoder crashed on this file (3 times)"
    assert given_up.when_utc is not None
    assert queue.prune(older_than_s=0) == 0  # kept for 'camsift status' until retried

    assert [j.path for j in queue.retry([tmp_path / "other.mp4"])] == []
    assert [j.path for j in queue.retry()] == [clip]
    assert queue.given_up() == []
    [job] = queue.claim(1, lease_s=600, max_attempts=3)
    assert (job.path, job.attempts) == (clip, 1)
