"""``camsift ftp passwd``: make the password hash of an FTP account."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from camsift.cli.common import app, fail

ftp_app = typer.Typer(help="FTP accounts of the ftp source.", no_args_is_help=True)
app.add_typer(ftp_app, name="ftp")


@ftp_app.command("passwd")
def passwd_command(
    user: Annotated[str, typer.Argument(help="The account, i.e. the camera name.", show_default=False)],
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from standard input.")] = False,
) -> None:
    """Print the YAML of an FTP account with an Argon2 hash of its password (the password is never stored)."""
    from camsift.sources.ftp import hash_password

    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"Password for {user}", hide_input=True, confirmation_prompt=True)
    if not password:
        fail("the password is empty", 2)
    typer.echo(f'{user}: {{password_hash: "{hash_password(password)}"}}')
