"""``camsift retention``: apply the retention rules now, or show what they would delete."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from camsift.cli.common import ConfigOption, DataDirOption, app, console, fail, settings_from
from camsift.cli.scan import Format, FormatOption


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


@app.command("retention")
def retention_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Show what would be deleted and the space it frees; change nothing.")
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Delete what the retention rules no longer keep (by age, category and disk limit); repair first."""
    from camsift.layout import DataDir
    from camsift.logs import configure
    from camsift.retention import Retention
    from camsift.store import Store

    configure()  # log lines to stderr: stdout is the plan (JSON for scripts)
    settings = settings_from(config, {"data_dir": data_dir and str(data_dir)})
    if not DataDir(settings.data_dir).has_store(settings.database):
        fail(f"{settings.data_dir}: no camsift database here", 2)
    with Store(settings.data_dir, settings.database) as store:
        retention = Retention(settings, store)
        repair = retention.repair(dry_run=dry_run)
        plan = retention.plan()
        outcome = None if dry_run else retention.apply(plan)
    if fmt is Format.json:
        doc = {"dry_run": dry_run, "repair": repair.__dict__, "plan": plan.to_dict()}
        if outcome is not None:
            doc["deleted"] = len(outcome.deleted)
            doc["kept"] = [i.key for i in outcome.kept]
        typer.echo(json.dumps(doc, indent=2))
        return
    if repair.refused:
        console.print(f"[yellow]repair skipped:[/] {repair.refused}", highlight=False)
    elif repair.journals or repair.dangling:
        console.print(
            f"repair: {repair.journals} interrupted deletions settled ({repair.finished} files deleted, "
            f"{repair.rolled_back} kept); {repair.dangling} references to missing files cleared",
            highlight=False,
        )
    table = Table("reason", "kind", "category", "camera", "start (UTC)", "size", "files", title="retention plan")
    for item in plan.items:
        table.add_row(
            item.reason,
            item.kind,
            item.category or "",
            item.camera,
            f"{item.start_utc:%Y-%m-%d %H:%M}",
            _mb(item.size),
            "\n".join(item.paths) or "(row only)",
        )
    if plan.items:
        console.print(table)
    disk = f"disk {plan.disk.percent:.1f} % used"
    if plan.limit_percent is not None:
        disk += f" (limit {plan.limit_percent:g} %)"
    verb = "would free" if dry_run else "freed"
    done = len(plan.items) if outcome is None else len(outcome.deleted)
    console.print(f"{done} items, {verb} {_mb(plan.size if outcome is None else outcome.size)}; {disk}")
    if outcome is not None and outcome.kept:
        console.print(f"{len(outcome.kept)} items kept: they changed since the plan (pinned, a new event)")
