"""The durable outbox and marks (on SQLite and PostgreSQL): queued once per channel and key, one sender per
message, states."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from camsift.store import Store
from camsift.store.outbox import Marks, Message, Outbox
from helpers.clock import FakeClock


def message(n: int) -> Message:
    return Message(f"event:{n}", "event", f"Person {n}", "body", Path(f"/tmp/{n}.jpg"))


def test_a_message_is_queued_once_per_channel_and_key(data_dir: Path, database_url: str | None) -> None:
    with Store(data_dir, database_url) as store:
        outbox = Outbox(store.engine)
        assert outbox.put("mail", message(1))
        assert not outbox.put("mail", message(1))  # the same event again (re-analysis): nothing new
        assert outbox.put("phone", message(1))
        assert outbox.put("mail", message(2))

        assert [(q.channel, q.message.key) for q in outbox.messages()] == [
            ("mail", "event:1"),
            ("phone", "event:1"),
            ("mail", "event:2"),
        ]
        assert outbox.pending_channels() == {"mail", "phone"}
        assert outbox.messages()[0].message == message(1)


def test_a_claimed_message_is_not_due_nor_claimable_until_settled(data_dir: Path, database_url: str | None) -> None:
    with Store(data_dir, database_url) as store:
        outbox = Outbox(store.engine)
        outbox.put("mail", message(1))
        outbox.put("mail", message(2))
        first = outbox.due("mail")[0]

        assert outbox.claim(first.id, 60)
        assert not outbox.claim(first.id, 60)  # a second sender (another process) backs off
        assert [q.message.key for q in outbox.due("mail")] == ["event:2"]

        outbox.retry(first.id, "channel mail: connection refused")
        assert [q.message.key for q in outbox.due("mail")] == ["event:1", "event:2"]
        assert outbox.claim(first.id, 60)
        outbox.sent(first.id)

        done = outbox.messages(state="sent")
        assert [(q.message.key, q.attempts, q.last_error) for q in done] == [("event:1", 2, None)]
        assert done[0].sent_utc is not None
        assert not outbox.claim(first.id, 60)  # sent is final


def test_release_all_hands_back_the_messages_a_killed_sender_had_claimed(
    data_dir: Path, database_url: str | None
) -> None:
    with Store(data_dir, database_url) as store:
        outbox = Outbox(store.engine)
        for n in (1, 2, 3):
            outbox.put("mail", message(n))
        first, _, third = outbox.due("mail")
        assert outbox.claim(first.id, 120)  # claimed by a run killed before it could send it
        assert outbox.claim(third.id, 120)
        outbox.sent(third.id)

        assert outbox.release_all() == 1

        assert [q.message.key for q in outbox.due("mail")] == ["event:1", "event:2"]
        pending = outbox.messages(state="pending")
        assert [(q.message.key, q.attempts) for q in pending] == [("event:1", 1), ("event:2", 0)]
        assert [q.message.key for q in outbox.messages(state="sent")] == ["event:3"]


def test_given_up_messages_leave_the_queue_and_old_ones_are_pruned(
    data_dir: Path, database_url: str | None, clock: FakeClock
) -> None:
    with Store(data_dir, database_url, clock=clock) as store:
        outbox = store.outbox
        outbox.put("mail", message(1))
        outbox.put("mail", message(2))
        outbox.give_up(outbox.due("mail")[0].id, "too old")
        clock.advance(3000)

        assert [q.message.key for q in outbox.due("mail")] == ["event:2"]
        assert outbox.prune(keep_s=3600) == 0
        assert outbox.prune(keep_s=2000) == 1  # the failed one; the pending one stays
        assert [q.message.key for q in outbox.messages()] == ["event:2"]


def test_marks_survive_a_reopen(data_dir: Path, database_url: str | None) -> None:
    at = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
    with Store(data_dir, database_url) as store:
        marks = Marks(store.engine)
        marks.set("cooldown:default:porch:person", at, "e1")
        marks.set("digest", at)
        marks.delete("digest")
    with Store(data_dir, database_url) as store:
        marks = Marks(store.engine)
        mark = marks.get("cooldown:default:porch:person")
        assert mark is not None
        assert (mark.at_utc, mark.detail) == (at, "e1")
        assert marks.get("digest") is None


def test_backlog_counts_what_waits_per_channel(data_dir: Path, database_url: str | None, clock: FakeClock) -> None:
    queued_utc = clock.now
    with Store(data_dir, database_url, clock=clock) as store:
        outbox = store.outbox
        for n in range(3):
            outbox.put("mail", message(n))
        outbox.put("phone", message(0))
        first, second, _ = outbox.due("mail")
        outbox.retry(first.id, "channel mail: refused")
        outbox.give_up(second.id, "channel mail: too old")
        clock.advance(90)
        outbox.sent(outbox.due("phone")[0].id)

        [mail] = outbox.backlog()

    assert (mail.channel, mail.pending, mail.failed, mail.last_error) == ("mail", 2, 1, "channel mail: too old")
    assert mail.oldest_pending_utc == queued_utc
