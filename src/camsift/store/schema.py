"""The database schema: every table camsift keeps, in one SQLAlchemy MetaData.

Features add their own tables here so the whole schema is visible in one
place. The database is made and changed by the Alembic revisions in
``store/migrations`` (`camsift.store.migrate`): a change here needs a new
revision (``python tools/db_revision.py "what changed"``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

__all__ = [
    "UTCDateTime",
    "api_usage_table",
    "event_faces_table",
    "events_table",
    "face_examples_table",
    "face_people_table",
    "files_table",
    "jobs_table",
    "live_events_table",
    "metadata",
    "notify_marks_table",
    "notify_outbox_table",
    "requests_table",
    "service_table",
    "sessions_table",
    "tokens_table",
    "users_table",
]

metadata = sa.MetaData()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _box_columns() -> list[sa.Column[float]]:
    """``x1, y1, x2, y2``: a box in full-resolution pixels."""
    return [sa.Column(name, sa.Float, nullable=False) for name in ("x1", "y1", "x2", "y2")]


files_table = sa.Table(
    "files",
    metadata,
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime", sa.Float, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("camera", sa.Text, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("start_utc", UTCDateTime),
    sa.Column("time_origin", sa.String(16)),
    sa.Column("processed_utc", UTCDateTime, nullable=False),
)

events_table = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("camera", sa.Text, nullable=False, index=True),
    sa.Column("label", sa.String(64), nullable=False, index=True),
    sa.Column("sub_label", sa.Text),
    sa.Column("start_utc", UTCDateTime, nullable=False, index=True),
    sa.Column("end_utc", UTCDateTime, nullable=False),
    sa.Column("start_s", sa.Float, nullable=False),
    sa.Column("end_s", sa.Float, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    *_box_columns(),
    sa.Column("zones", sa.Text, nullable=False, default=""),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("source", sa.Text, sa.ForeignKey("files.path", ondelete="CASCADE"), index=True),
    sa.Column("snapshot", sa.Text),
    sa.Column("snapshot_annotated", sa.Text),
    sa.Column("clip", sa.Text),
    sa.Column("sub_label_score", sa.Float),
    sa.Column("top_score", sa.Float),
    sa.Column("stationary", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("reviewed", sa.Boolean, nullable=False, default=False),
    sa.Column("pinned", sa.Boolean, nullable=False, default=False),
)

# --- the service (`camsift run`) ---------------------------------------------------------------------------------

jobs_table = sa.Table(
    "jobs",
    metadata,
    # The durable queue (store/queue.py). A file is a job once this row is committed; sources acknowledge
    # an upload only after that. (path, size, mtime_ns) is unique, so the same file handed in twice is one
    # job, and a file overwritten with new content is a new one.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("camera", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("state", sa.String(8), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("enqueued_utc", UTCDateTime, nullable=False),
    sa.Column("lease_until_utc", UTCDateTime),
    sa.Column("done_utc", UTCDateTime),
    sa.Column("outcome", sa.Text),
    sa.UniqueConstraint("path", "size", "mtime_ns", name="uq_jobs_file"),
)

service_table = sa.Table(
    "service",
    metadata,
    # What `camsift status` shows from another process: one row per part of the running service
    # ("service" itself, each source), rewritten at every heartbeat.
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""),
    sa.Column("pid", sa.Integer),
    sa.Column("started_utc", UTCDateTime),
    sa.Column("updated_utc", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_utc", UTCDateTime),
)

live_events_table = sa.Table(
    "live_events",
    metadata,
    # Objects confirmed on a live stream before its clip is closed (camsift/store/live.py): written by the
    # stream's process, told as Frigate's 'new' by the service, then matched to an event of the analysed clip
    # (which keeps this id) or dropped (the full analysis did not find it). (camera, track) is unique: a
    # track told again is one row.
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("camera", sa.Text, nullable=False),
    sa.Column("track", sa.Text, nullable=False),  # "<session start, ISO 8601>/<tracker id>"
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("start_utc", UTCDateTime, nullable=False, index=True),
    sa.Column("seen_utc", UTCDateTime, nullable=False),  # when the pipeline confirmed it
    sa.Column("confidence", sa.Float, nullable=False),
    *_box_columns(),
    sa.Column("zones", sa.Text, nullable=False, default=""),
    sa.Column("state", sa.String(8), nullable=False, index=True),  # open, matched, dropped
    sa.Column("announced", sa.Boolean, nullable=False, default=False),  # told as 'new'
    sa.Column("alarm", sa.Boolean),  # decided when told
    sa.Column("source", sa.Text),  # the clip whose analysis matched it
    sa.Column("snapshot", sa.Text),  # the frame it was confirmed in, relative to the data directory
    sa.UniqueConstraint("camera", "track", name="uq_live_events_track"),
)

requests_table = sa.Table(
    "requests",
    metadata,
    # On-demand clips (`camsift record CAMERA`): another process asks, the camera's stream answers.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("camera", sa.Text, nullable=False, index=True),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("requested_utc", UTCDateTime, nullable=False),
    sa.Column("done_utc", UTCDateTime),
    sa.Column("clip", sa.Text),
    sa.Column("error", sa.Text),
)

# --- faces (camsift/store/faces.py) -------------------------------------------------------------------------------

face_people_table = sa.Table(
    "face_people",
    metadata,
    # The known-faces library: one row per person.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("added_utc", UTCDateTime, nullable=False),
)

face_examples_table = sa.Table(
    "face_examples",
    metadata,
    # What a person looks like (negative=False), or a face that was wrongly taken for them (negative=True,
    # from `camsift faces wrong`). Embeddings are float32 bytes of the named model; other models' rows are
    # ignored, so a new engine starts from its own examples.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("face_people.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("negative", sa.Boolean, nullable=False, default=False),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("embedding", sa.LargeBinary, nullable=False),
    sa.Column("source", sa.Text, nullable=False),  # the photo, or "event <id>"
    sa.Column("added_utc", UTCDateTime, nullable=False),
)

event_faces_table = sa.Table(
    "event_faces",
    metadata,
    # Every face seen on a person event. name is the person it matched (NULL: unknown); unknown faces get a
    # group (cluster) id when `camsift faces unknown` groups them; crop is relative to the data directory.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("ts_s", sa.Float, nullable=False),
    *_box_columns(),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("sharpness", sa.Float, nullable=False),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("embedding", sa.LargeBinary, nullable=False),
    sa.Column("name", sa.Text, index=True),
    sa.Column("distance", sa.Float),
    sa.Column("crop", sa.Text),
    sa.Column("cluster", sa.Integer, index=True),
    sa.UniqueConstraint("event_id", "n", name="uq_event_faces_n"),
)

# --- the web app (camsift/store/users.py) -------------------------------------------------------------------------

users_table = sa.Table(
    "users",
    metadata,
    # Who may log in to the web app ('camsift users add'). password_hash is argon2id, never the password.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_utc", UTCDateTime, nullable=False),
    sa.Column("last_login_utc", UTCDateTime),
)

sessions_table = sa.Table(
    "sessions",
    metadata,
    # Logged-in browsers. The cookie holds a random token; only its SHA-256 is kept here, so a copy of the
    # database lets nobody in. csrf is the session's anti-forgery token (sent back in forms and headers).
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_utc", UTCDateTime, nullable=False),
    sa.Column("expires_utc", UTCDateTime, nullable=False, index=True),
)

tokens_table = sa.Table(
    "api_tokens",
    metadata,
    # API tokens for scripts ('camsift users token'): shown once, kept as SHA-256 (they are 256-bit random).
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_utc", UTCDateTime, nullable=False),
    sa.Column("last_used_utc", UTCDateTime),
)

# The review grid lists one camera's (or every camera's) newest events a page at a time.
sa.Index("ix_events_camera_start", events_table.c.camera, events_table.c.start_utc)

# --- notifications (camsift/store/outbox.py, camsift/notify/) ----------------------------------------------------

notify_outbox_table = sa.Table(
    "notify_outbox",
    metadata,
    # The durable outbox: a message is committed here before it is sent, and marked sent right after the
    # channel accepted it. (channel, key) is unique, so the same event or problem is queued once per channel.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),  # "event:<id>", "problem:<key>:<n>", "digest:<date>", ...
    sa.Column("kind", sa.String(16), nullable=False),  # event, problem, digest, test
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("attach", sa.Text),  # absolute path of a picture to attach
    sa.Column("state", sa.String(8), nullable=False, index=True),  # pending, sent, failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created_utc", UTCDateTime, nullable=False),
    sa.Column("lease_until_utc", UTCDateTime),  # a sender is on it until then
    sa.Column("sent_utc", UTCDateTime),
    sa.Column("last_error", sa.Text),  # one line, secrets removed
    sa.UniqueConstraint("channel", "key", name="uq_notify_outbox_key"),
)

notify_marks_table = sa.Table(
    "notify_marks",
    metadata,
    # What notifications remember across restarts: the last message per rule, camera and label (cooldown),
    # the last time each problem was told, the last digest.
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("at_utc", UTCDateTime, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""),
)

# --- paid cloud APIs (camsift/store/usage.py) -------------------------------------------------------------

api_usage_table = sa.Table(
    "api_usage",
    metadata,
    # Requests to a paid API (Rekognition) per UTC day: the daily budget is enforced from here by every worker
    # process and node, and 'camsift status' estimates the cost from it.
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("requests", sa.Integer, nullable=False),
)
