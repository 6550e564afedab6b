"""Write a new Alembic revision of the event store after changing ``src/camsift/store/schema.py``.

Usage::

    .venv/bin/python tools/db_revision.py "events: reviewed flag"

Upgrades a scratch SQLite database to the newest revision, compares it with
``schema.metadata`` (Alembic autogenerate) and writes
``src/camsift/store/migrations/versions/<NNNN>_<slug>.py``. Read and edit the
file before committing: autogenerate does not see renames, and a new NOT NULL
column of existing tables needs a ``server_default``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

from camsift.store.migrate import autogenerate


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        engine = sa.create_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            path = autogenerate(argv[0].strip(), engine)
        finally:
            engine.dispose()
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():  # autogenerate writes valid but unformatted Python
        subprocess.run([str(ruff), "check", "--fix", "--quiet", str(path)], check=False)
        subprocess.run([str(ruff), "format", "--quiet", str(path)], check=False)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
