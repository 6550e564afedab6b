"""``camsift drive``: the Raspberry Pi USB-drive mode for a Blink Sync Module 2 (`camsift.drive`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from camsift.cli.common import ConfigOption, app, console, settings_from
from camsift.cli.scan import Format, FormatOption

drive_app = typer.Typer(
    help="Pretend to be the Blink Sync Module's USB stick (a Pi's USB gadget) and hand its clips to camsift.",
    no_args_is_help=True,
)
app.add_typer(drive_app, name="drive")


class GadgetMode(StrEnum):
    """How the USB gadget is set up."""

    configfs = "configfs"
    module = "module"


ImageArg = Annotated[Path, typer.Argument(help="The drive image file.", show_default=False)]
DryRunOption = Annotated[bool, typer.Option("--dry-run", "-n", help="Print the exact commands; change nothing.")]
ModeOption = Annotated[
    GadgetMode, typer.Option("--mode", help="configfs gadget (libcomposite), or the g_mass_storage module.")
]
ManifestOption = Annotated[
    Path | None,
    typer.Option(
        "--manifest", help="What earlier syncs copied [default: DEST/.camsift-drive-sync.json].", show_default=False
    ),
]


def _print_steps(lines: list[str], dry_run: bool) -> None:
    if dry_run:
        for line in lines:
            typer.echo(line)


def _json(fmt: Format, doc: dict[str, Any]) -> bool:
    """Print ``doc`` as JSON when ``--format json`` was asked; whether it was."""
    if fmt is Format.json:
        typer.echo(json.dumps(doc, indent=2, default=str))
    return fmt is Format.json


def _say(lines: list[str]) -> None:
    for line in lines:
        console.print(line, highlight=False)


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


@drive_app.command("create")
def create_command(
    image: ImageArg,
    size: Annotated[str, typer.Option("--size", help="Size, e.g. 32G (1G to 256G for a Sync Module 2).")] = "32G",
    label: Annotated[str, typer.Option("--label", help="Volume label.")] = "BLINK",
) -> None:
    """Create a sparse FAT32 disk image the Sync Module 2 accepts (an MBR with one FAT32 partition)."""
    from camsift.drive import create_image, parse_size

    for note in create_image(image, parse_size(size), label):
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(f"created {image} ({size}, FAT32, sparse)", highlight=False)


@drive_app.command("attach")
def attach_command(
    image: ImageArg,
    mode: ModeOption = GadgetMode.configfs,
    udc: Annotated[
        str | None, typer.Option("--udc", help="USB device controller [default: the first in /sys/class/udc].")
    ] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Present the drive read-only.")] = False,
    dry_run: DryRunOption = False,
) -> None:
    """Present the image as a USB stick through the Linux USB gadget ("storage mode")."""
    from camsift.drive import Gadget

    lines = Gadget(image, mode=mode.value, udc=udc, read_only=read_only).attach(dry_run=dry_run)
    _print_steps(lines, dry_run)
    if not dry_run:
        console.print(f"attached {image}: the Sync Module sees a USB stick", highlight=False)


@drive_app.command("detach")
def detach_command(
    image: ImageArg,
    mode: ModeOption = GadgetMode.configfs,
    dry_run: DryRunOption = False,
) -> None:
    """Withdraw the image from the USB gadget ("server mode"): the Sync Module sees the stick pulled out."""
    from camsift.drive import Gadget

    lines = Gadget(image, mode=mode.value).detach(dry_run=dry_run)
    _print_steps(lines, dry_run)
    if not dry_run:
        console.print("detached: nothing writes the image now", highlight=False)


@drive_app.command("sync")
def sync_command(
    image: ImageArg,
    dest: Annotated[Path, typer.Argument(help="Folder to copy new clips into (the one 'camsift run' watches).")],
    settle: Annotated[float, typer.Option("--settle", min=0, help="Seconds between the two looks.")] = 5.0,
    manifest: ManifestOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Copy new, complete clips off the image without mounting it (names and times kept)."""
    from camsift.drive import sync
    from camsift.logs import configure

    configure()
    report = sync(image, dest, settle_s=settle, manifest=manifest)
    if _json(fmt, report.to_dict()):
        return
    lines = [f"copied {p}" for p in report.copied] + [f"[red]failed[/] {p}: {why}" for p, why in report.failed]
    summary = (
        f"{len(report.copied)} copied, {report.already} copied before, {len(report.unstable)} still being written, "
        f"{len(report.failed)} failed"
    )
    _say([*lines, summary])


@drive_app.command("clean")
def clean_command(
    image: ImageArg,
    manifest: Annotated[Path, typer.Option("--manifest", help="The sync manifest (what was copied off).")],
    config: ConfigOption = None,
    days: Annotated[
        float | None,
        typer.Option(
            "--days",
            min=0,
            help="Delete copied clips older than this [default: retention.motion_days of the clip's camera].",
        ),
    ] = None,
    min_free: Annotated[str, typer.Option("--min-free", help="Free space to keep for the Sync Module.")] = "375M",
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Show what would go; change nothing.")] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Delete clips already copied off the image: old ones (retention rules), then oldest first for space."""
    from camsift.drive import clean, parse_size, retention_days

    keep_days = days if days is not None else retention_days(settings_from(config, {}), manifest.parent)
    report = clean(
        image, manifest, days=keep_days, now=datetime.now(UTC), min_free=parse_size(min_free), dry_run=dry_run
    )
    if _json(fmt, report.to_dict()):
        return
    verb = "would delete" if dry_run else "deleted"
    lines = [f"{verb} {path} ({reason})" for path, reason in report.deleted]
    if report.not_copied:
        lines.append(f"[yellow]{len(report.not_copied)} old clips never copied off: kept[/]")
    free = f"free {_mb(report.free_before)} -> {_mb(report.free_after)} of {_mb(report.total)}"
    _say([*lines, f"{len(report.deleted)} clips {verb}; {free}"])


@drive_app.command("status")
def status_command(
    image: ImageArg,
    manifest: ManifestOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Show the image: attached or not, free space, clips and how many were copied off."""
    from camsift.drive import status, storage
    from camsift.drive.image import BLINK_MIN_FREE
    from camsift.drive.sync import Manifest

    files, free, total = storage(image)
    gadget = status()
    copied = Manifest(manifest).copied if manifest else {}
    synced = sum(1 for f in files if copied.get(f.path) == (f.size, f.mtime.timestamp()))
    attached = gadget.image is not None and gadget.image == image.resolve()
    doc: dict[str, Any] = {
        "image": str(image),
        "attached": attached,
        "mode": gadget.mode,
        "udc": gadget.udc,
        "host": gadget.host,
        "controllers": list(gadget.controllers),
        "free": free,
        "total": total,
        "low_space": free < BLINK_MIN_FREE,
        "clips": len(files),
        "copied": synced if manifest else None,
        "oldest": min((f.mtime for f in files), default=None),
        "newest": max((f.mtime for f in files), default=None),
    }
    if _json(fmt, doc):
        return
    table = Table(show_header=False, box=None)
    for key, value in doc.items():
        table.add_row(key, _mb(value) if key in ("free", "total") else str(value))
    console.print(table)
