"""The durable outbox of notifications, and what notifications remember, in the event database.

A message is committed here (`Outbox.put`) before anything tries to send it;
a sender claims it with a short lease (`Outbox.claim`, so two processes never
send the same row at once), sends it, and marks it sent (`Outbox.sent`) in
the very next statement. States::

    pending ──claim, send, sent──> sent
       ^  └─────────give up──────> failed   (not delivered within notify.give_up_s)
       └──a try failed (lease cleared, tried again later)

Delivery is exactly-once except for one edge: a crash after the channel
accepted a message and before `Outbox.sent` commits (a few milliseconds)
leaves it pending, and it is sent again at the next start (at-least-once;
a duplicate is better than a missed alarm). ``(channel, key)`` is unique, so
the same event, problem or digest is queued at most once per channel.

`Marks` keep small timestamps across restarts: the last message per rule,
camera and label (cooldowns), when each problem was last told, the last digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from camsift.store.clock import Clock, utc_now
from camsift.store.engine import insert_new
from camsift.store.schema import notify_marks_table, notify_outbox_table

__all__ = ["Backlog", "Mark", "Marks", "Message", "Outbox", "Queued"]


@dataclass(frozen=True)
class Message:
    """A notification to send.

    Attributes:
        key: What it is about, unique per channel: ``"event:<id>"``, ``"problem:<key>:<n>"``, ``"digest:<date>"``.
        kind: ``event``, ``problem``, ``digest`` or ``test``.
        title: One line.
        body: Plain text, a few lines; never a secret.
        attach: A picture to attach (absolute path), if any.
    """

    key: str
    kind: str
    title: str
    body: str
    attach: Path | None = None


@dataclass(frozen=True)
class Queued:
    """A message in the outbox for one channel.

    Attributes:
        id: Outbox id (increasing in the order messages were queued).
        channel: Channel name (``notify.channels.<name>``).
        message: What to send.
        state: ``pending``, ``sent`` or ``failed``.
        attempts: Tries so far.
        created_utc: When it was queued.
        sent_utc: When the channel accepted it.
        last_error: Why the last try failed (one line, secrets removed).
    """

    id: int
    channel: str
    message: Message
    state: str
    attempts: int
    created_utc: datetime
    sent_utc: datetime | None
    last_error: str | None


class Outbox:
    """The ``notify_outbox`` table.

    Args:
        engine: The event store's engine (`camsift.store.Store.engine`).
        clock: What time it is (`camsift.store.clock`; default the real clock).
    """

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self._clock = clock

    def put(self, channel: str, message: Message) -> bool:
        """Queue ``message`` for ``channel``; ``False`` if that channel already has a message with its key."""
        row = {
            "channel": channel,
            "key": message.key,
            "kind": message.kind,
            "title": message.title,
            "body": message.body,
            "attach": str(message.attach) if message.attach else None,
            "state": "pending",
            "attempts": 0,
            "created_utc": self._clock(),
        }
        return insert_new(self.engine, notify_outbox_table, row)

    def due(self, channel: str, limit: int = 20) -> list[Queued]:
        """Pending messages of ``channel`` that no sender holds, oldest first."""
        t = notify_outbox_table
        now = self._clock()
        query = (
            sa.select(t)
            .where(t.c.channel == channel, t.c.state == "pending")
            .where(sa.or_(t.c.lease_until_utc.is_(None), t.c.lease_until_utc < now))
            .order_by(t.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_queued(row) for row in conn.execute(query)]

    def pending_channels(self) -> set[str]:
        """Channels with pending messages."""
        t = notify_outbox_table
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(t.c.channel).where(t.c.state == "pending").distinct()).scalars())

    def claim(self, message_id: int, lease_s: float) -> bool:
        """Take a pending message for ``lease_s`` seconds and count a try; ``False`` if another sender has it."""
        t = notify_outbox_table
        now = self._clock()
        with self.engine.begin() as conn:
            taken = conn.execute(
                t.update()
                .where(t.c.id == message_id, t.c.state == "pending")
                .where(sa.or_(t.c.lease_until_utc.is_(None), t.c.lease_until_utc < now))
                .values(lease_until_utc=now + timedelta(seconds=lease_s), attempts=t.c.attempts + 1)
            )
        return taken.rowcount == 1

    def release_all(self) -> int:
        """Clear every pending message's lease (at ``camsift run``'s start: the run that held them is gone); returns
        how many.

        A sender killed between `claim` and `sent` would otherwise leave its message waiting out the lease (two
        minutes for a notification) before anyone sends it. A ``camsift scan --notify`` sending that very message
        at that moment may then send it twice: at-least-once, as above.
        """
        t = notify_outbox_table
        with self.engine.begin() as conn:
            result = conn.execute(
                t.update().where(t.c.state == "pending", t.c.lease_until_utc.is_not(None)).values(lease_until_utc=None)
            )
        return result.rowcount

    def sent(self, message_id: int) -> None:
        """The channel accepted the message."""
        self._settle(message_id, state="sent", sent_utc=self._clock(), last_error=None)

    def retry(self, message_id: int, error: str) -> None:
        """A try failed; the message stays pending."""
        self._settle(message_id, last_error=error)

    def give_up(self, message_id: int, error: str) -> None:
        """Stop trying: the message is ``failed``."""
        self._settle(message_id, state="failed", last_error=error)

    def _settle(self, message_id: int, **values: object) -> None:
        t = notify_outbox_table
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.id == message_id).values(lease_until_utc=None, **values))

    def messages(self, channel: str | None = None, state: str | None = None) -> list[Queued]:
        """Messages in queue order, optionally of one channel and state."""
        t = notify_outbox_table
        query = sa.select(t).order_by(t.c.id)
        if channel is not None:
            query = query.where(t.c.channel == channel)
        if state is not None:
            query = query.where(t.c.state == state)
        with self.engine.connect() as conn:
            return [_queued(row) for row in conn.execute(query)]

    def backlog(self) -> list[Backlog]:
        """Per channel with messages waiting or given up: how many, since when, and the last error; by channel."""
        t = notify_outbox_table
        waiting = sa.func.sum(sa.case((t.c.state == "pending", 1), else_=0))
        failed = sa.func.sum(sa.case((t.c.state == "failed", 1), else_=0))
        oldest = sa.func.min(sa.case((t.c.state == "pending", t.c.created_utc), else_=None))
        query = (
            sa.select(t.c.channel, waiting, failed, oldest)
            .where(t.c.state != "sent")
            .group_by(t.c.channel)
            .order_by(t.c.channel)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            errors = dict(
                conn.execute(
                    sa.select(t.c.channel, t.c.last_error)
                    .where(t.c.state != "sent", t.c.last_error.is_not(None))
                    .order_by(t.c.id)
                ).all()
            )  # the newest error per channel wins
        return [
            Backlog(channel, int(n or 0), int(f or 0), _utc(since), errors.get(channel))
            for channel, n, f, since in rows
        ]

    def prune(self, keep_s: float) -> int:
        """Forget sent and failed messages older than ``keep_s`` seconds; returns how many."""
        t = notify_outbox_table
        with self.engine.begin() as conn:
            done = conn.execute(
                t.delete().where(t.c.state != "pending", t.c.created_utc < self._clock() - timedelta(seconds=keep_s))
            )
        return done.rowcount


def _utc(value: datetime | str | None) -> datetime | None:
    """An aggregate's datetime as aware UTC (SQLite hands back the stored text, PostgreSQL a naive datetime)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Backlog:
    """What waits for one channel (``camsift status``).

    Attributes:
        channel: Channel name.
        pending: Messages not delivered yet.
        failed: Messages given up.
        oldest_pending_utc: When the oldest pending message was queued.
        last_error: The newest reason a try failed (one line, no secret).
    """

    channel: str
    pending: int
    failed: int
    oldest_pending_utc: datetime | None
    last_error: str | None


def _queued(row: sa.Row[tuple[object, ...]]) -> Queued:
    m = row._mapping
    message = Message(m["key"], m["kind"], m["title"], m["body"], Path(m["attach"]) if m["attach"] else None)
    return Queued(
        m["id"], m["channel"], message, m["state"], m["attempts"], m["created_utc"], m["sent_utc"], m["last_error"]
    )


@dataclass(frozen=True)
class Mark:
    """A remembered moment: ``at_utc`` (aware) and a short ``detail``."""

    at_utc: datetime
    detail: str


class Marks:
    """The ``notify_marks`` table: timestamps by key that survive a restart.

    Args:
        engine: The event store's engine.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, key: str) -> Mark | None:
        """The mark of ``key``, if any."""
        t = notify_marks_table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.c.at_utc, t.c.detail).where(t.c.key == key)).first()
        return None if row is None else Mark(row.at_utc, row.detail)

    def set(self, key: str, at_utc: datetime, detail: str = "") -> None:
        """Remember ``at_utc`` (and ``detail``) under ``key``."""
        t = notify_marks_table
        with self.engine.begin() as conn:
            if not conn.execute(t.update().where(t.c.key == key).values(at_utc=at_utc, detail=detail)).rowcount:
                conn.execute(t.insert().values(key=key, at_utc=at_utc, detail=detail))

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self.engine.begin() as conn:
            conn.execute(notify_marks_table.delete().where(notify_marks_table.c.key == key))
