"""The ``camsift`` command: a thin typer layer over the library API.

Commands live in one module per area (``scan.py`` …) and only parse options
and format what the library returns. Every camsift error ends the command with
a one-line message and a documented exit code, never a traceback (set
``CAMSIFT_DEBUG=1`` to see one).

Exit codes: 0 success; 1 a camsift error (storage, detector …); 2 bad usage,
bad config or a missing path; 3 some files could not be analysed; 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from camsift.config import Settings, load_config
from camsift.errors import CamsiftError, ConfigError, SourceError

__all__ = ["app", "console", "err_console", "fail", "main", "settings_from"]

app = typer.Typer(
    name="camsift",
    help="Sift security-camera footage: find the people, keep the evidence, forget the rest.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="CAMSIFT_CONFIG", help="camsift.yaml to read.", show_default=False),
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory [default: ./camsift-data].", show_default=False)
]


def _say_error(message: str) -> None:
    err_console.print(f"[red]camsift: error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Inside a command: print ``camsift: error: <message>`` on stderr and exit with ``code``."""
    _say_error(message)
    raise typer.Exit(code)


def settings_from(config: Path | None, overrides: dict[str, Any], *, thorough: bool = False) -> Settings:
    """Load settings for a command (config file, environment, then CLI options); ``thorough``: also the
    start-up checks of ``camsift run`` (`camsift.config.load_config`)."""
    return load_config(config, overrides=overrides, thorough=thorough)


def _version(value: bool) -> None:
    if value:
        from camsift import __version__

        typer.echo(f"camsift {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Sift security-camera footage: find the people, keep the evidence, forget the rest."""


def _exit_code(err: CamsiftError) -> int:
    return 2 if isinstance(err, ConfigError | SourceError) else 1


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``camsift`` console script."""
    from camsift.cli import blink as _blink  # noqa: F401 - issue 5
    from camsift.cli import config as _config  # noqa: F401
    from camsift.cli import drive as _drive  # noqa: F401
    from camsift.cli import faces as _faces  # noqa: F401
    from camsift.cli import ftp as _ftp  # noqa: F401
    from camsift.cli import notify as _notify  # noqa: F401
    from camsift.cli import remote as _remote  # noqa: F401 - issue 9: camsift ai-api, camsift check aws
    from camsift.cli import retention as _retention  # noqa: F401
    from camsift.cli import run as _run  # noqa: F401
    from camsift.cli import scan as _scan  # noqa: F401 - registers its commands
    from camsift.cli import web as _web  # noqa: F401 - camsift serve, camsift users

    try:
        app(args=argv, prog_name="camsift", standalone_mode=True)
    except CamsiftError as err:
        if os.environ.get("CAMSIFT_DEBUG"):
            raise
        _say_error(str(err))
        sys.exit(_exit_code(err))
