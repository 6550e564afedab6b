"""``camsift notify``: check the notification channels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from camsift.cli.common import ConfigOption, app, console, fail, settings_from

notify_app = typer.Typer(help="Notifications: check the channels in 'notify.channels'.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


@notify_app.command("test")
def notify_test_command(
    config: ConfigOption = None,
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", help="Only this channel; repeat for several (default: every channel)."),
    ] = None,
    picture: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="JPEG to attach (default: a sample alert picture).", show_default=False
        ),
    ] = None,
) -> None:
    """Send a test message with a picture to each channel now; exit 1 if one failed."""
    from camsift.notify import send_test

    settings = settings_from(config, {})
    results = send_test(settings, channel or None, picture)
    for result in results:
        if result.error is None:
            console.print(f"[green]sent[/]   {escape(result.channel)}", highlight=False)
        else:
            console.print(f"[red]failed[/] {escape(result.channel)}: {escape(result.error)}", highlight=False)
    failed = [r.channel for r in results if r.error]
    if failed:
        fail(f"{len(failed)} of {len(results)} channels failed: {', '.join(failed)}")
