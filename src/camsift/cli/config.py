"""``camsift config check`` and ``camsift config schema``."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Annotated

import typer

from camsift.cli.common import app, console, err_console
from camsift.config import Settings, load_config

config_app = typer.Typer(
    help="Check a config file, or print the schema that documents every key.", no_args_is_help=True
)
app.add_typer(config_app, name="config")


def holds_secrets(settings: Settings) -> bool:
    """Whether the config carries anything to keep private (FTP password hashes, stream passwords)."""
    for source in settings.sources.values():
        if source.type == "ftp" and source.users:
            return True
        if source.type == "stream" and (source.password is not None or "@" in source.url):
            return True
    return False


@config_app.command("check")
def check_command(
    path: Annotated[Path, typer.Argument(help="The camsift.yaml to check.", show_default=False)],
) -> None:
    """Validate a config file (and CAMSIFT_* variables) as 'camsift run' does; a bad key exits 2 with
    file:line: key: message."""
    settings = load_config(path, thorough=True)
    mode = path.stat().st_mode
    if holds_secrets(settings) and mode & (stat.S_IRWXG | stat.S_IRWXO):
        err_console.print(
            f"camsift: warning: {path} holds passwords or password hashes but others may read it "
            f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}",
            highlight=False,
            soft_wrap=True,
        )
    if not settings.sources:
        err_console.print(
            f"camsift: warning: {path} has no 'sources:' section; 'camsift run' needs one (scans do not)",
            highlight=False,
            soft_wrap=True,
        )
    kinds = ", ".join(f"{name} ({source.type})" for name, source in settings.sources.items()) or "none"
    console.print(f"{path}: ok; cameras: {', '.join(settings.cameras) or 'none'}; sources: {kinds}", highlight=False)


@config_app.command("schema")
def schema_command() -> None:
    """Print the JSON schema of camsift.yaml (every key with its description and default)."""
    typer.echo(json.dumps(Settings.model_json_schema(), indent=2))
