"""``camsift run``, ``camsift status`` and ``camsift record``: the always-on service and its controls."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from camsift.cli.common import ConfigOption, DataDirOption, app, console, fail, settings_from
from camsift.cli.remote import usage_doc, usage_line
from camsift.cli.scan import Format, FormatOption
from camsift.config import Settings
from camsift.layout import DataDir
from camsift.mqtt import OUTBOX_CHANNEL
from camsift.store import Store


class LogFormat(StrEnum):
    """Shape of log lines."""

    auto = "auto"
    json = "json"
    console = "console"


@app.command("run")
def run_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Worker processes [default: service.workers].")
    ] = None,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="auto: JSON unless stderr is a terminal.")
    ] = LogFormat.auto,
) -> None:
    """Run the service: watch folders, receive FTP uploads, record live streams; stop with Ctrl-C or SIGTERM."""
    from camsift.logs import configure
    from camsift.service import Service, configured_parts

    settings = settings_from(config, {"data_dir": data_dir and str(data_dir)}, thorough=True)
    if not settings.sources:
        fail("no sources configured: add a 'sources:' section (see camsift.example.yaml)", 2)
    configure(None if log_format is LogFormat.auto else log_format is LogFormat.json)
    stop = threading.Event()
    caught: list[int] = []

    def _on_signal(signum: int, _frame: Any) -> None:
        caught.append(signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    listeners, companions = configured_parts(settings)
    Service(settings, listeners=listeners, companions=companions, workers=workers).run(stop)
    if caught and caught[-1] == signal.SIGINT:
        raise typer.Exit(130)


def _settings(config: Any, data_dir: Any) -> Settings:
    return settings_from(config, {"data_dir": data_dir and str(data_dir)})


def _open_store(settings: Settings) -> Store:
    if not DataDir(settings.data_dir).has_store(settings.database):
        fail(f"{settings.data_dir}: no camsift database here; start 'camsift run' first", 2)
    return Store(settings.data_dir, settings.database)


def _age(when: datetime | None) -> str:
    if when is None:
        return ""
    seconds = (datetime.now(UTC) - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


@app.command("status")
def status_command(
    config: ConfigOption = None, data_dir: DataDirOption = None, output: FormatOption = Format.table
) -> None:
    """Show the service: sources, queue depth, last event per camera, errors."""

    settings = _settings(config, data_dir)
    with _open_store(settings) as store:
        board = store.board
        parts = board.shown_states(settings.service.stale_s, DataDir(settings.data_dir).full())
        depth = store.jobs.depth()
        latest = store.latest_per_camera()
        usage = store.usage.all()  # paid APIs
        backlog = store.outbox.backlog()  # notifications waiting or given up
        dropped = store.jobs.given_up()  # files the service gave up on
    running = board.service_running(settings.service.stale_s)
    rows: list[dict[str, Any]] = [
        {
            "name": p.name,
            "kind": p.kind,
            "state": state,
            "detail": p.detail,
            "updated_utc": _iso(p.updated_utc),
            "last_error": p.last_error,
            "last_error_utc": _iso(p.last_error_utc),
        }
        for p, state in parts
    ]
    doc = {
        "running": running,
        "queue": {"waiting": depth.pending, "in_analysis": depth.leased, "oldest_waiting_utc": _iso(depth.oldest_utc)},
        "components": rows,
        "last_events": {
            camera: {"id": e.id, "label": e.label, "start_utc": _iso(e.start_utc), "confidence": e.confidence}
            for camera, e in sorted(latest.items())
        },
        "api_usage": [usage_doc(u, settings) for u in usage],
        "notifications": [{**b.__dict__, "oldest_pending_utc": _iso(b.oldest_pending_utc)} for b in backlog],
        "given_up": [
            {
                "path": str(g.path),
                "camera": g.camera,
                "source": g.source,
                "reason": g.reason,
                "when_utc": _iso(g.when_utc),
            }
            for g in dropped
        ],
    }
    if output is Format.json:
        typer.echo(json.dumps(doc, indent=2))
        return
    console.print(
        f"service: {'[green]running[/]' if running else '[red]not running[/]'}; queue: {depth.pending} waiting, "
        f"{depth.leased} in analysis"
    )
    table = Table(title="Parts", title_justify="left")
    for column in ("name", "state", "detail", "updated", "last error"):
        table.add_column(column, overflow="fold")
    for (p, _), row in zip(parts, rows, strict=True):
        error = f"{p.last_error} ({_age(p.last_error_utc)})" if p.last_error else ""
        table.add_row(p.name, row["state"], p.detail, _age(p.updated_utc), error)
    console.print(table)
    events = Table(title="Last event per camera", title_justify="left")
    for column in ("camera", "when (local)", "label", "confidence"):
        events.add_column(column)
    for camera, e in sorted(latest.items()):
        events.add_row(camera, f"{e.start_utc.astimezone():%Y-%m-%d %H:%M:%S}", e.label, f"{e.confidence:.0%}")
    console.print(events)
    for u in usage:
        console.print(usage_line(u, settings), highlight=False)
    for b in backlog:
        waiting = f"{b.pending} waiting since {_age(b.oldest_pending_utc)}" if b.pending else "none waiting"
        given_up = f", {b.failed} given up" if b.failed else ""
        reason = f" (last error: {b.last_error})" if b.last_error else ""
        what = "MQTT events" if b.channel == OUTBOX_CHANNEL else f"notifications to {b.channel}"
        console.print(f"{what}: {waiting}{given_up}{reason}", highlight=False, markup=False, soft_wrap=True)
    if dropped:
        console.print(f"{len(dropped)} files given up ('camsift retry' queues them again):", highlight=False)
    for g in dropped:
        console.print(
            f"  {g.path} (camera {g.camera}, {_age(g.when_utc)}): {g.reason}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


@app.command("retry")
def retry_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Given-up files to retry [default: all of them].", show_default=False)
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Queue files the service gave up on again (see 'camsift status'); the running service analyses them."""
    settings = _settings(config, data_dir)
    wanted = [p.expanduser().absolute() for p in paths or []]
    with _open_store(settings) as store:
        queued = store.jobs.retry(wanted)
    missing = sorted(set(wanted) - {job.path for job in queued})
    for job in queued:
        typer.echo(f"queued again: {job.path}")
    if missing:
        fail(f"{', '.join(map(str, missing))}: not among the given-up files (see 'camsift status')", 2)
    if not queued:
        typer.echo("no given-up files")


@app.command("record")
def record_command(
    camera: Annotated[str, typer.Argument(help="Camera of a stream source.", show_default=False)],
    seconds: Annotated[float, typer.Option(min=1, max=3600, help="Seconds to record from now.")] = 30.0,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Save a clip of a live stream now (the running service records it; pre-roll included)."""

    settings = _settings(config, data_dir)
    cameras = {(s.camera or name) for name, s in settings.sources.items() if s.type == "stream"}
    if camera not in cameras:
        known = ", ".join(sorted(cameras)) or "none"
        fail(f"no stream source for camera {camera!r} in the config (streams: {known})", 2)
    with _open_store(settings) as store:
        board = store.board
        if not board.service_running(settings.service.stale_s):
            fail("'camsift run' is not running for this data directory")
        request = board.request_clip(camera, seconds)
        deadline = time.monotonic() + seconds + settings.for_camera(camera).record.buffer_s + 30
        while time.monotonic() < deadline:
            answer = board.clip_request(request)
            if answer is not None and answer.state != "pending":
                if answer.error or answer.clip is None:
                    fail(f"camera {camera!r}: {answer.error or 'no clip'}")
                typer.echo(str(answer.clip))
                return
            time.sleep(0.5)
    fail(f"camera {camera!r}: no clip within {seconds:.0f} s (is its stream connected? see 'camsift status')")
