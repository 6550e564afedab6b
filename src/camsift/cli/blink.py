"""``camsift blink …``: login, verify, status, download, live, arm/disarm, snapshot (thin, over `camsift.blink`)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from camsift.cli.common import ConfigOption, DataDirOption, app, console, err_console, fail, settings_from
from camsift.config import Settings

if TYPE_CHECKING:
    from camsift.blink import AccountStatus

blink_app = typer.Typer(
    help="Blink cameras: login (and verify), status, clip downloads, live view, arm/disarm, snapshot.",
    no_args_is_help=True,
)
app.add_typer(blink_app, name="blink")

TokenOption = Annotated[
    Path | None,
    typer.Option("--token-file", help="Blink login token [default: <data_dir>/blink/token.json].", show_default=False),
]


class Output(StrEnum):
    """Shape of the output."""

    table = "table"
    json = "json"


def _setup(config: Path | None, data_dir: Path | None, token_file: Path | None) -> tuple[Settings, Path]:
    """Settings and token file of a command; log lines go to stderr (warnings only), stdout is the answer."""
    from camsift.blink import default_token_file
    from camsift.logs import configure

    configure(level=logging.DEBUG if os.environ.get("CAMSIFT_DEBUG") else logging.WARNING)
    if not os.environ.get("CAMSIFT_DEBUG"):  # blinkpy logs each refusal again, less clearly: camsift's line says it
        logging.getLogger("blinkpy").setLevel(logging.CRITICAL)

    settings = settings_from(config, {"data_dir": data_dir and str(data_dir)})
    return settings, (token_file or default_token_file(settings.data_dir)).expanduser()


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else "yes" if value else "no"


@blink_app.command("login")
def login_command(
    email: Annotated[str | None, typer.Option("--email", help="Blink account e-mail [prompted].")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (one line).")
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    token_file: TokenOption = None,
) -> None:
    """Sign in to Blink; saves a token (mode 0600), never the password.

    When Blink sends a two-factor code: at a terminal it is asked for at once; otherwise (--password-stdin, a
    script) the sign-in waits for it (mode 0600, no password) and 'camsift blink verify CODE' finishes it.
    """
    from camsift.blink import login

    _, token = _setup(config, data_dir, token_file)
    email = email or typer.prompt("Blink e-mail")
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else typer.prompt("Password", hide_input=True)
    if not password:
        fail("the password is empty", 2)
    status = login(token, email, password)
    if status is None and not password_stdin and sys.stdin.isatty():
        status = _verify(token, str(typer.prompt("Two-factor code Blink just sent (e-mail or SMS)")))
    if status is None:
        typer.echo("Blink sent a two-factor code (e-mail or SMS); finish with: camsift blink verify CODE")
        return
    _logged_in(status, token)


@blink_app.command("verify")
def verify_command(
    code: Annotated[str, typer.Argument(help="The two-factor code Blink sent.", show_default=False)],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    token_file: TokenOption = None,
) -> None:
    """Finish a sign-in 'camsift blink login' left waiting for Blink's two-factor code."""
    _, token = _setup(config, data_dir, token_file)
    _logged_in(_verify(token, code), token)


def _verify(token: Path, code: str) -> AccountStatus:
    from camsift.blink import verify

    return verify(token, code)


def _logged_in(status: AccountStatus, token: Path) -> None:
    console.print(
        f"logged in: account {status.account_id}, {len(status.networks)} networks, {len(status.cameras)} cameras; "
        f"token saved to {token} (mode 0600)",
        highlight=False,
    )


@blink_app.command("status")
def status_command(
    output: Annotated[Output, typer.Option("--format", "-f", help="table or json.")] = Output.table,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    token_file: TokenOption = None,
) -> None:
    """Sync modules and cameras: armed, online, battery, temperature, Wi-Fi, last motion, local storage."""
    from camsift.blink import status

    _, token = _setup(config, data_dir, token_file)
    account = status(token)
    if output is Output.json:
        typer.echo(json.dumps(account.to_dict(), indent=2))
        return
    networks = Table(title=f"Blink account {account.account_id}: networks", title_justify="left")
    for column in ("network", "id", "sync module", "online", "armed", "local storage", "firmware"):
        networks.add_column(column)
    for n in account.networks:
        networks.add_row(
            n.name,
            n.network_id,
            n.serial or "",
            _yes_no(n.online),
            _yes_no(n.armed),
            _yes_no(n.local_storage),
            n.firmware or "",
        )
    console.print(networks)
    cameras = Table(title="Cameras (last motion in local time)", title_justify="left")
    cameras.add_column("camera", no_wrap=True)
    for column in ("network", "armed", "online", "battery", "°C", "Wi-Fi"):
        cameras.add_column(column)
    cameras.add_column("last motion", no_wrap=True, min_width=16)  # a whole date and time, never cut
    for c in account.cameras:
        battery = (c.battery or "wired") + (f" {c.battery_v:.2f} V" if c.battery_v else "")
        last = f"{c.last_motion_utc.astimezone():%Y-%m-%d %H:%M}" if c.last_motion_utc else ""
        temperature = "" if c.temperature_c is None else f"{c.temperature_c:.1f}"
        cameras.add_row(c.name, c.network, _yes_no(c.armed), _yes_no(c.online), battery, temperature, c.wifi_text, last)
    console.print(cameras)


@blink_app.command("download")
def download_command(
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Most new clips in this run [default: all].")
    ] = None,
    seconds: Annotated[
        float | None,
        typer.Option("--seconds", min=0, help="Keep polling this long (cron: a bounded run) [default: one pass]."),
    ] = None,
    min_interval: Annotated[
        float, typer.Option("--min-interval", min=30, help="Seconds at least between two runs (Blink's limits).")
    ] = 90.0,
    delay: Annotated[float, typer.Option("--delay", min=0.5, help="Seconds between two clip downloads.")] = 2.0,
    camera: Annotated[list[str] | None, typer.Option("--camera", help="Only this Blink camera (repeatable).")] = None,
    analyse: Annotated[
        bool, typer.Option("--analyse/--no-analyse", help="Analyse the new clips (camsift scan).")
    ] = True,
    local_storage: Annotated[
        bool, typer.Option("--local-storage/--no-local-storage", help="Also fetch the Sync Module's USB clips.")
    ] = True,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    token_file: TokenOption = None,
) -> None:
    """Download clips not yet on disk into <data>/blink/<account>/<network>/<camera>/<date>/, then analyse them."""
    from camsift.blink import download

    settings, token = _setup(config, data_dir, token_file)
    started = time.monotonic()
    report = download(
        token,
        settings.data_dir,
        settings.tz(),
        limit=limit,
        seconds=seconds,
        min_interval_s=min_interval,
        request_delay_s=delay,
        cameras=camera or (),
        local_storage=local_storage,
    )
    if report.note:
        err_console.print(report.note, highlight=False)
    for line in report.failed:
        err_console.print(f"[yellow]not fetched (next run tries again):[/] {line}", highlight=False)
    for line in report.given_up:
        err_console.print(f"[red]not fetched, given up:[/] {line}", highlight=False)
    new = [d.path for d in report.downloaded]
    for path in new:
        typer.echo(str(path))
    if analyse and new:
        from camsift import scan

        by_camera: dict[str, list[Path]] = defaultdict(list)
        for d in report.downloaded:
            by_camera[d.clip.camera].append(d.path)
        events = 0
        for name, paths in sorted(by_camera.items()):
            result = scan(paths, settings, camera=name)
            events += sum(len(f.events) for f in result.files)
        err_console.print(f"analysed {len(new)} clips: {events} events", highlight=False)
    err_console.print(f"{len(new)} new clips, {report.left} left for later, in {time.monotonic() - started:.0f} s")


@blink_app.command("live")
def live_command(
    camera: Annotated[str, typer.Argument(help="Blink camera name.", show_default=False)],
    output: Annotated[str, typer.Option("--output", "-o", help="MPEG-TS file to write, or - for standard output.")],
    seconds: Annotated[float | None, typer.Option("--seconds", min=1, help="Stop after this long.")] = None,
    sessions: Annotated[
        int, typer.Option("--sessions", min=1, help="Blink sessions (about 5 minutes each) to record in a row.")
    ] = 1,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    token_file: TokenOption = None,
) -> None:
    """Record or pipe a camera's live view as MPEG-TS (e.g. '-o - | ffplay -')."""
    from camsift.blink import record_live
    from camsift.blink.immi import finish
    from camsift.layout import recording_path

    _, token = _setup(config, data_dir, token_file)
    if output == "-":
        written = record_live(token, camera, sys.stdout.buffer, seconds, sessions)
        err_console.print(f"{written} bytes of MPEG-TS sent", highlight=False)
        return
    path = Path(output)
    part = recording_path(path)
    try:
        with part.open("wb") as out:
            written = record_live(token, camera, out, seconds, sessions)
    except BaseException:  # Blink refused, the network broke, Ctrl-C: no half recording is left behind
        part.unlink(missing_ok=True)
        raise
    finish(part, path)
    console.print(f"{path}: {written} bytes of MPEG-TS", highlight=False)


def _arm_command(on: bool) -> None:
    """Register ``camsift blink arm`` (``on``) or ``camsift blink disarm``."""
    word = "armed" if on else "disarmed"

    def command(
        network: Annotated[str, typer.Argument(help="Network name (or id).", show_default=False)],
        config: ConfigOption = None,
        data_dir: DataDirOption = None,
        token_file: TokenOption = None,
    ) -> None:
        from camsift.blink import arm

        _, token = _setup(config, data_dir, token_file)
        state = arm(token, network, on)
        if state is not on:
            said = "armed" if state else "disarmed" if state is False else "unknown"
            fail(f"network {network!r}: Blink reports it {said}")
        console.print(f"{network}: {word}", highlight=False)

    command.__doc__ = "Arm a Blink network (its cameras record motion)." if on else "Disarm a Blink network."
    blink_app.command("arm" if on else "disarm")(command)


_arm_command(True)
_arm_command(False)


@blink_app.command("snapshot")
def snapshot_command(
    camera: Annotated[str, typer.Argument(help="Blink camera name.", show_default=False)],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="JPEG to write [default: <data>/blink/snapshots/<camera>-<time>.jpg]."),
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    token_file: TokenOption = None,
) -> None:
    """Have a camera take a picture now and save it."""
    from camsift.blink import safe_name, snapshot
    from camsift.layout import DataDir

    settings, token = _setup(config, data_dir, token_file)
    picture = snapshot(token, camera)
    now = datetime.now(UTC).astimezone(settings.tz())
    path = output or DataDir(settings.data_dir).blink / "snapshots" / f"{safe_name(camera)}-{now:%Y%m%d-%H%M%S}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(picture)
    typer.echo(str(path))
