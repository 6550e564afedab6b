"""The ``camsift`` command: a thin typer layer over the library API.

Commands live in one module per area (``scan.py`` …) and only parse options
and format what the library returns; they register on the one typer app of
`camsift.cli.common`. Every camsift error ends the command with a one-line
message and a documented exit code, never a traceback (set
``CAMSIFT_DEBUG=1`` to see one).

Exit codes: 0 success; 1 a camsift error (storage, detector …); 2 bad usage,
bad config or a missing path; 3 some files could not be analysed; 130 interrupted.
"""

from __future__ import annotations

import os
import sys

from camsift.cli.common import app, say_error
from camsift.errors import CamsiftError, ConfigError, SourceError

__all__ = ["main"]


def _exit_code(err: CamsiftError) -> int:
    return 2 if isinstance(err, ConfigError | SourceError) else 1


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``camsift`` console script."""
    from camsift.cli import blink as _blink  # noqa: F401 - registers `camsift blink`
    from camsift.cli import config as _config  # noqa: F401
    from camsift.cli import drive as _drive  # noqa: F401
    from camsift.cli import faces as _faces  # noqa: F401
    from camsift.cli import ftp as _ftp  # noqa: F401
    from camsift.cli import notify as _notify  # noqa: F401
    from camsift.cli import remote as _remote  # noqa: F401 - camsift ai-api, camsift check aws
    from camsift.cli import retention as _retention  # noqa: F401
    from camsift.cli import run as _run  # noqa: F401
    from camsift.cli import scan as _scan  # noqa: F401 - registers its commands
    from camsift.cli import web as _web  # noqa: F401 - camsift serve, camsift users

    try:
        app(args=argv, prog_name="camsift", standalone_mode=True)
    except CamsiftError as err:
        if os.environ.get("CAMSIFT_DEBUG"):
            raise
        say_error(str(err))
        sys.exit(_exit_code(err))
