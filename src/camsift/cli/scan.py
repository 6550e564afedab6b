"""``camsift scan`` and ``camsift events``."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from camsift.analysis.file import FileResult
from camsift.cli.common import ConfigOption, DataDirOption, app, console, err_console, fail, settings_from
from camsift.errors import ConfigError, SourceError
from camsift.layout import DataDir
from camsift.listeners import EventChange
from camsift.scanner import ScanReport, collect, scan
from camsift.store import Store


class Format(StrEnum):
    """Output format."""

    table = "table"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table for people, json for scripts.")]


@app.command("scan")
def scan_command(
    paths: Annotated[list[Path], typer.Argument(help="Clips, images or folders (searched recursively).")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    camera: Annotated[
        str | None, typer.Option(help="Camera name for every file [default: from config, else the folder name].")
    ] = None,
    labels: Annotated[str | None, typer.Option(help="Labels to find, comma-separated, e.g. person,car,dog.")] = None,
    min_confidence: Annotated[
        float | None, typer.Option(min=0, max=1, help="Minimum confidence for an event [default: 0.5].")
    ] = None,
    fps: Annotated[
        float | None, typer.Option(min=0.1, max=60, help="Frames per second to analyse [default: 5].")
    ] = None,
    detector: Annotated[str | None, typer.Option(help="Detector: auto, ssdlite, nanodet.")] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes [default: CPU count].")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Analyse files again even if unchanged.")] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            help="Analyse on this Dask scheduler, e.g. tcp://10.0.0.5:8786 (workers need the same paths; see README).",
            show_default=False,
        ),
    ] = None,
    notify: Annotated[
        bool, typer.Option("--notify", help="Send the alarms to the channels in 'notify' (as 'camsift run' does).")
    ] = False,
    output: FormatOption = Format.table,
) -> None:
    """Find people (and other labels) in footage; save annotated snapshots and events."""
    settings = settings_from(
        config,
        {
            "data_dir": data_dir and str(data_dir),
            "objects.labels": labels and [x for x in labels.split(",") if x.strip()],
            "objects.default.min_confidence": min_confidence,
            "detect.fps": fps,
            "detect.detector": detector,
        },
    )
    if notify and not settings.notify.channels and not settings.mqtt.enabled:
        fail("--notify: no channel in 'notify.channels' and MQTT not enabled (see camsift.example.yaml)", 2)
    files = collect(paths)  # a missing path fails here, before any work
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=not err_console.is_terminal,
        transient=True,
    )
    with progress:
        task = progress.add_task("files", total=len(files), detail="")

        def tick(result: FileResult) -> None:
            progress.update(task, advance=1, detail=f"{result.path.name} {result.status}")

        report = scan(files, settings, jobs=jobs, force=force, camera=camera, on_result=tick, cluster=cluster)
    if output is Format.json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report, settings.data_dir, settings.tz())
    if report.interrupted:
        err_console.print("camsift: interrupted; every file finished before was recorded")
        raise typer.Exit(130)
    if notify:
        from camsift.notify.scan import notify_scan

        also = None
        if settings.mqtt.enabled:  # MQTT too, as 'camsift run' publishes
            from camsift.mqtt import publish_scan

            def also(changes: list[EventChange]) -> None:
                try:
                    publish_scan(settings, changes)
                except SourceError as err:  # the notifications still go out
                    err_console.print(f"camsift: {err}")

        notices = notify_scan(settings, report.files, also)
        if notices.pending:
            fail(f"{notices.pending} notifications not delivered yet (a channel is down); the next run sends them")
    if report.failed:
        raise typer.Exit(3)


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (shorter in a table), else as is."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _print_report(report: ScanReport, data_dir: Path, tz: tzinfo | None) -> None:
    worth = [f for f in report.files if f.events]
    if worth:
        table = Table(title="Clips worth watching", title_justify="left")
        for column in ("file", "camera", "when (local)", "seen", "first at", "best"):
            table.add_column(column, overflow="fold")
        for f in sorted(worth, key=lambda f: min(e.start_utc for e in f.events)):
            seen = Counter(e.label for e in f.events)
            first = min(f.events, key=lambda e: e.start_s)
            best = max(f.events, key=lambda e: e.confidence)
            table.add_row(
                _shown(f.path),
                f.camera,
                f"{first.start_utc.astimezone(tz):%Y-%m-%d %H:%M:%S}",
                ", ".join(f"{n} {label}" for label, n in sorted(seen.items())),
                f"{first.start_s:.1f} s",
                f"{best.confidence:.0%}",
            )
        console.print(table)
    failed = report.failed
    if failed:
        console.print("[bold red]Could not analyse:[/]")
        for f in failed:
            console.print(f"  {_shown(f.path)}: {f.error}", highlight=False, markup=False)
    s = report.summary()
    totals = Table(title="Summary", title_justify="left", show_header=False)
    totals.add_column(style="bold")
    totals.add_column()
    totals.add_row("files", f"{s['files']} ({s['ok']} analysed, {s['skipped']} unchanged, {s['errors']} failed)")
    totals.add_row(
        "footage", f"{s['footage_s']:.1f} s analysed in {s['wall_s']:.1f} s ({s['realtime_factor'] or 0:.1f}x realtime)"
    )
    totals.add_row("events", ", ".join(f"{n} {label}" for label, n in s["events"].items()) or "none")
    totals.add_row("pictures", str(DataDir(data_dir).events))
    totals.add_row("database", str(DataDir(data_dir).database))
    console.print(totals)


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str) -> datetime:
    """``2026-11-22``, ``2026-11-22T14:30`` (local unless it has an offset) or relative ``90m``, ``2h``, ``3d``.

    Raises:
        ConfigError: not a date, time or duration.
    """
    match = _RELATIVE.match(text.strip())
    if match:
        return datetime.now(UTC) - timedelta(**{_UNITS[match[2]]: float(match[1])})
    try:
        when = datetime.fromisoformat(text)
    except ValueError as err:
        raise ConfigError(f"--since/--until: expected a date, a date-time or a duration like 2h, got {text!r}") from err
    return when if when.tzinfo else when.astimezone()


@app.command("events")
def events_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    camera: Annotated[str | None, typer.Option(help="Only this camera.")] = None,
    label: Annotated[str | None, typer.Option(help="Only this label.")] = None,
    since: Annotated[str | None, typer.Option(help="Only events since: 2026-11-22, 2026-11-22T14:00, 2h, 3d.")] = None,
    until: Annotated[str | None, typer.Option(help="Only events before this time.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 100,
    output: FormatOption = Format.table,
) -> None:
    """List stored events, newest first."""
    settings = settings_from(config, {"data_dir": data_dir and str(data_dir)})
    if not DataDir(settings.data_dir).has_store(settings.database):
        fail(f"{settings.data_dir}: no camsift database here; run 'camsift scan' first", 2)
    with Store(settings.data_dir, settings.database) as store:
        found = store.events(
            camera=camera,
            label=label,
            since=parse_when(since) if since else None,
            until=parse_when(until) if until else None,
            limit=limit,
        )
    if output is Format.json:
        typer.echo(json.dumps({"events": [e.to_dict() for e in found]}, indent=2))
        return
    table = Table(title=f"{len(found)} events", title_justify="left")
    for column in ("when (local)", "camera", "label", "confidence", "seconds", "snapshot"):
        table.add_column(column, overflow="fold")
    for e in found:
        table.add_row(
            f"{e.start_utc.astimezone():%Y-%m-%d %H:%M:%S}",
            e.camera,
            e.label + (f" ({e.sub_label})" if e.sub_label else ""),
            f"{e.confidence:.0%}",
            f"{e.start_s:.1f}-{e.end_s:.1f}",
            str(e.snapshot_annotated or ""),
        )
    console.print(table)
