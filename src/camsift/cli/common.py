"""The typer app every ``camsift`` command registers on, the options they share, and one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from camsift.config import Settings, load_config

__all__ = ["ConfigOption", "DataDirOption", "app", "console", "err_console", "fail", "say_error", "settings_from"]

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


def say_error(message: str) -> None:
    """Print ``camsift: error: <message>`` on stderr."""
    err_console.print(f"[red]camsift: error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Inside a command: print ``camsift: error: <message>`` on stderr and exit with ``code``."""
    say_error(message)
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
