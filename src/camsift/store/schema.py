"""The database schema: every table camsift keeps, in one SQLAlchemy MetaData.

Tables are created on first use (``metadata.create_all``); features add their
own tables here so the whole schema is visible in one place.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

__all__ = [
    "UTCDateTime",
    "events_table",
    "files_table",
    "jobs_table",
    "metadata",
    "requests_table",
    "service_table",
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
    sa.Column("x1", sa.Float, nullable=False),
    sa.Column("y1", sa.Float, nullable=False),
    sa.Column("x2", sa.Float, nullable=False),
    sa.Column("y2", sa.Float, nullable=False),
    sa.Column("zones", sa.Text, nullable=False, default=""),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("source", sa.Text, sa.ForeignKey("files.path", ondelete="CASCADE"), index=True),
    sa.Column("snapshot", sa.Text),
    sa.Column("snapshot_annotated", sa.Text),
    sa.Column("clip", sa.Text),
    sa.Column("sub_label_score", sa.Float),
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
