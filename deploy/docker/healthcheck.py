"""The Docker HEALTHCHECK of the camsift image, whatever command the container runs.

It reads the container's command from ``/proc/1/cmdline`` (``tini -- camsift <command> ...``) and checks:

- ``run``: the service's heartbeat (the ``service`` row it rewrites every ``service.heartbeat_s``, 2 s) in the
  SQLite store of its data directory (``--data-dir``, else ``CAMSIFT_DATA_DIR``) is at most `STALE_S` old and
  says running; with PostgreSQL (no ``camsift.db`` there) only that the process lives;
- ``serve`` and ``ai-api``: ``GET /api/health`` (``/health`` for ``ai-api``) on 127.0.0.1 answers 200 (port from
  ``--port``, else ``CAMSIFT_WEB__PORT`` for ``serve``, else 5000);
- any other command (``scan``, ``retention`` ...): healthy while it runs (tini ends the container when it ends).

Standard library only and no camsift import: about 50 ms, where ``camsift status`` takes over a second of CPU.
Exit 0 healthy, 1 unhealthy (Docker's convention), with one line saying why.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

STALE_S = 60.0
"""Oldest heartbeat that still counts as alive: `camsift status` allows 3 heartbeats + 5 s (11 s); a loaded Pi
may fall behind for longer without being stuck."""


def _option(args: Sequence[str], name: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` in ``args``."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _heartbeat(data_dir: Path, now: datetime) -> tuple[bool, str]:
    database = data_dir / "camsift.db"
    if not database.is_file():
        return True, f"no SQLite store at {database} (PostgreSQL?): the process lives"
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute("SELECT state, updated_utc FROM service WHERE name = 'service'").fetchone()
    except sqlite3.Error as err:
        return False, f"cannot read {database}: {err}"
    if row is None:
        return False, "the service has not reported itself yet"
    state, updated = row
    age = (now - datetime.fromisoformat(updated).replace(tzinfo=UTC)).total_seconds()
    healthy = state in ("running", "starting") and age <= STALE_S
    return healthy, f"service {state}, heartbeat {age:.0f} s ago"


def _http(port: str, path: str) -> tuple[bool, str]:
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200, f"{url}: {answer.status}"
    except OSError as err:
        return False, f"{url}: {err}"


def check(cmdline: Sequence[str], environ: Mapping[str, str], now: datetime) -> tuple[bool, str]:
    """Whether the container's camsift command is healthy, and why (one line).

    Args:
        cmdline: PID 1's arguments, e.g. ``["tini", "--", "camsift", "run", "--log-format", "json"]``.
        environ: The container's environment (``CAMSIFT_DATA_DIR``, ``CAMSIFT_WEB__PORT``).
        now: The clock (aware).
    """
    names = [Path(a).name for a in cmdline]
    args = list(cmdline[names.index("camsift") + 1 :]) if "camsift" in names else []
    command = next((a for a in args if not a.startswith("-")), None)
    if command == "run":
        data_dir = _option(args, "--data-dir") or environ.get("CAMSIFT_DATA_DIR") or "camsift-data"
        return _heartbeat(Path(data_dir), now)
    if command == "serve":
        return _http(_option(args, "--port") or environ.get("CAMSIFT_WEB__PORT") or "5000", "/api/health")
    if command == "ai-api":
        return _http(_option(args, "--port") or "5000", "/health")
    return True, f"camsift {command or ''} is running".replace("  ", " ")


def main() -> int:
    """Check the container's command; print why; 0 healthy, 1 not."""
    cmdline = Path("/proc/1/cmdline").read_bytes().decode(errors="replace").split("\0")
    healthy, why = check([a for a in cmdline if a], os.environ, datetime.now(UTC))
    print(why)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
