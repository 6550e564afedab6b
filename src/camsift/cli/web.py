"""``camsift serve`` (the web app) and ``camsift users`` (who may log in)."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from camsift.cli.common import ConfigOption, DataDirOption, app, console, fail, settings_from
from camsift.cli.scan import Format, FormatOption
from camsift.store import Store
from camsift.store.users import MIN_PASSWORD, UserStore

users_app = typer.Typer(help="Who may log in to the web app: users, passwords, API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")

NameArgument = Annotated[str, typer.Argument(help="User name.", show_default=False)]


@app.command("serve")
def serve_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on [default: web.host, 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port [default: web.port, 5000].")] = None,
    ai_api: Annotated[
        bool | None,
        typer.Option(
            "--ai-api/--no-ai-api",
            help="Also serve the DeepStack-compatible detection API; DeepStack clients send an API token "
            "(camsift users token) as their API key [default: web.ai_api].",
        ),
    ] = None,
) -> None:
    """Run the web app: review events, watch clips, manage faces and cameras (login required)."""
    from camsift.web import need_extra, serve

    need_extra()  # one line naming the extra, before anything is opened or printed
    settings = settings_from(config, {"data_dir": data_dir and str(data_dir)})
    with Store(settings.data_dir, settings.database) as store:
        if store.users.count() == 0:
            console.print("[yellow]No user can log in yet:[/] create one with 'camsift users add NAME'.")
        shown = host or settings.web.host
        console.print(f"camsift web app on http://{shown}:{port or settings.web.port}/ (Ctrl-C stops)", highlight=False)
        serve(settings, host=host, port=port, ai_api=ai_api, store=store)


def _users(config: ConfigOption, data_dir: DataDirOption) -> tuple[Store, UserStore]:
    settings = settings_from(config, {"data_dir": data_dir and str(data_dir)})
    store = Store(settings.data_dir, settings.database)
    return store, store.users


def _password(name: str, from_stdin: bool) -> str:
    """The password: the first line of stdin (scripts), else asked twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        fail("no terminal to ask for the password: use --password-stdin", 2)
    first = getpass.getpass(f"Password for {name} (at least {MIN_PASSWORD} characters): ")
    if getpass.getpass("Again: ") != first:
        fail("the passwords differ", 2)
    return first


@users_app.command("add")
def add_command(
    name: NameArgument,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a user, or set a new password (which logs out their browsers); asks for the password."""
    store, users = _users(config, data_dir)
    with store:
        existed = users.user(name.strip()) is not None
        user = users.add(name, _password(name.strip(), password_stdin))
    console.print(f"user {user.name} {'password changed' if existed else 'added'}", highlight=False)


@users_app.command("remove")
def remove_command(name: NameArgument, config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Delete a user with their sessions and API tokens."""
    store, users = _users(config, data_dir)
    with store:
        users.remove(name)
    console.print(f"user {name} removed", highlight=False)


@users_app.command("list")
def list_command(
    config: ConfigOption = None, data_dir: DataDirOption = None, output: FormatOption = Format.table
) -> None:
    """List the users."""
    store, users = _users(config, data_dir)
    with store:
        found = users.users()
    if output is Format.json:
        doc = [
            {
                "name": u.name,
                "created_utc": u.created_utc.isoformat(),
                "last_login_utc": u.last_login_utc.isoformat() if u.last_login_utc else None,
                "tokens": u.tokens,
            }
            for u in found
        ]
        typer.echo(json.dumps({"users": doc}, indent=2))
        return
    table = Table(title=f"{len(found)} users", title_justify="left")
    for column in ("name", "created (local)", "last login (local)", "API tokens"):
        table.add_column(column)
    for u in found:
        last = f"{u.last_login_utc.astimezone():%Y-%m-%d %H:%M}" if u.last_login_utc else "never"
        table.add_row(u.name, f"{u.created_utc.astimezone():%Y-%m-%d}", last, str(u.tokens))
    console.print(table)


@users_app.command("token")
def token_command(
    name: NameArgument,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    revoke: Annotated[bool, typer.Option("--revoke", help="Delete all of the user's tokens instead.")] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Make an API token for scripts (printed once: 'Authorization: Bearer <token>'), or --revoke them all.

    The token is also the API key of DeepStack clients (Blue Iris, Agent DVR, Home Assistant) of
    'camsift serve --ai-api'.
    """
    store, users = _users(config, data_dir)
    with store:
        if revoke:
            console.print(f"{users.revoke_tokens(name)} tokens of {name} revoked", highlight=False)
            return
        token = users.new_token(name, label)
    typer.echo(token)
