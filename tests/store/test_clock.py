"""The store's one clock: every table of a `Store` takes its time from the clock the store was given."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from camsift.config import FacesConfig
from camsift.store import Store
from camsift.store.outbox import Message
from helpers.clock import FakeClock

LONG_AGO = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)  # far from the real time: a table on the real clock shows


def test_every_table_tells_the_time_of_the_stores_clock(
    data_dir: Path, database_url: str | None, tmp_path: Path
) -> None:
    clock = FakeClock(LONG_AGO)
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"x")
    with Store(data_dir, database_url, clock=clock) as store:
        store.jobs.submit(clip, "porch", "inbox", "folder")
        store.board.report("service", "service", "running")
        store.outbox.put("mail", Message("event:1", "event", "Person", "body", None))
        store.usage.spend("rekognition", limit=0)
        store.users.add("ann", "correct horse battery staple")
        store.faces.add("Ann", "test-model", [(np.ones(128, np.float32), "ann.jpg")], FacesConfig())

        [(job, _, _)] = store.jobs.jobs()
        [part] = store.board.components()
        [queued] = store.outbox.messages()
        [user] = store.users.users()
        [person] = store.faces.people()
        times = [job.enqueued_utc, part.updated_utc, queued.created_utc, user.created_utc, person.added_utc]
        assert times == [LONG_AGO] * 5
        assert store.usage.usage("rekognition", LONG_AGO.date()).today == 1
