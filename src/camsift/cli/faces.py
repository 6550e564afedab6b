"""``camsift faces``: the known-faces library, unknown faces, corrections."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from camsift import media
from camsift.cli.common import ConfigOption, DataDirOption, app, console, settings_from
from camsift.cli.scan import Format, FormatOption
from camsift.config import Settings
from camsift.errors import SourceError
from camsift.faces import create_engine, engine_model
from camsift.faces.enrol import PhotoCheck, enrol
from camsift.store import Store
from camsift.store.faces import FaceStore, Naming

faces_app = typer.Typer(
    help="Known faces: teach camsift who lives here; name and correct the faces it saw.", no_args_is_help=True
)
app.add_typer(faces_app, name="faces")

PathsArgument = Annotated[
    list[Path], typer.Argument(help="Photos (jpg, png) or folders of photos of the person.", show_default=False)
]


@contextmanager
def _library(config: Path | None, data_dir: Path | None) -> Iterator[tuple[Settings, FaceStore]]:
    """The settings and the face library of a command."""
    settings = settings_from(config, {"data_dir": data_dir and str(data_dir)})
    with Store(settings.data_dir, settings.database) as store:
        yield settings, store.faces


def _print(output: Format, doc: dict[str, Any], lines: list[str] | Table) -> None:
    """The JSON document, or for people the table or lines."""
    if output is Format.json:
        typer.echo(json.dumps(doc, indent=2))
    elif isinstance(lines, Table):
        console.print(lines)
    else:
        for line in lines:
            console.print(line, highlight=False, markup=False, soft_wrap=True)


def _photos(paths: list[Path]) -> list[Path]:
    """Photos named or found (recursively) in folders, sorted per folder.

    Raises:
        SourceError: a path does not exist.
    """
    found = []
    for path in paths:
        if not path.exists():
            raise SourceError(f"{path}: no such file or directory")
        inner = path.rglob("*") if path.is_dir() else [path]
        found += sorted(p for p in inner if p.is_file() and (p == path or p.suffix.lower() in media.IMAGE_SUFFIXES))
    return found


def _naming(naming: Naming | None) -> dict[str, Any]:
    if naming is None:
        return {"examples": 0, "past_faces": 0, "relabelled_events": []}
    return {"examples": naming.examples, "past_faces": naming.faces, "relabelled_events": naming.events}


def _enrol_lines(name: str, naming: Naming | None, checks: list[PhotoCheck]) -> list[str]:
    lines = [f"{c.path}: {'added' if c.reason is None else 'refused: ' + c.reason}" for c in checks]
    if naming is None:
        return [*lines, f"{name}: no photo accepted, nothing added"]
    past = f"; {len(naming.events)} past events now say {name}" if naming.events else ""
    return [*lines, f"{name}: {naming.examples} photo{'s' * (naming.examples != 1)} added{past}"]


@faces_app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="The person's name.", show_default=False)],
    paths: PathsArgument,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    output: FormatOption = Format.table,
) -> None:
    """Add photos of a person: each must show one face, big and sharp enough.

    Past unknown faces that now match the person are relabelled. Exit code 3
    when a photo was refused (the reason is printed).
    """
    photos = _photos(paths)
    with _library(config, data_dir) as (settings, faces):
        naming, checks = enrol(faces, create_engine(settings.faces.engine), name, photos, settings.faces)
        name = faces.spelling(name.strip()) or name.strip()
    doc = {
        "name": name,
        "photos": [{"path": str(c.path), "added": c.reason is None, "reason": c.reason} for c in checks],
        **_naming(naming),
    }
    _print(output, doc, _enrol_lines(name, naming, checks))
    if any(c.reason for c in checks):
        raise typer.Exit(3)


@faces_app.command("import")
def import_command(
    folder: Annotated[Path, typer.Argument(help="A folder with one sub-folder of photos per person.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    output: FormatOption = Format.table,
) -> None:
    """Add everyone in a folder laid out as FOLDER/<name>/<photos> (exit code 3 when a photo was refused)."""
    if not folder.is_dir():
        raise SourceError(f"{folder}: not a folder")
    people: list[dict[str, Any]] = []
    lines: list[str] = []
    refused = False
    with _library(config, data_dir) as (settings, faces):
        engine = create_engine(settings.faces.engine)
        for person in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            naming, checks = enrol(faces, engine, person.name, _photos([person]), settings.faces)
            refused |= any(c.reason for c in checks)
            people.append({"name": person.name, "refused": [str(c.path) for c in checks if c.reason]})
            people[-1].update(_naming(naming))
            lines += _enrol_lines(person.name, naming, checks)
    _print(output, {"people": people}, lines)
    if refused:
        raise typer.Exit(3)


@faces_app.command("list")
def list_command(
    config: ConfigOption = None, data_dir: DataDirOption = None, output: FormatOption = Format.table
) -> None:
    """List the known people."""
    with _library(config, data_dir) as (_, faces):
        people = faces.people()
    table = Table(title=f"{len(people)} known people", title_justify="left")
    for column in ("name", "examples", "marked wrong", "events", "added (local)"):
        table.add_column(column)
    for p in people:
        table.add_row(p.name, str(p.examples), str(p.negatives), str(p.events), f"{p.added_utc.astimezone():%Y-%m-%d}")
    doc = {
        "people": [
            {
                "name": p.name,
                "examples": p.examples,
                "negatives": p.negatives,
                "events": p.events,
                "added_utc": p.added_utc.isoformat(),
            }
            for p in people
        ]
    }
    _print(output, doc, table)


@faces_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(help="The person to forget.", show_default=False)],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    output: FormatOption = Format.table,
) -> None:
    """Forget a person (the name's case does not matter): their examples are deleted and their past events say
    "unknown"."""
    with _library(config, data_dir) as (_, faces):
        name = faces.spelling(name) or name
        events = faces.remove(name)
    _print(output, {"name": name, "relabelled_events": events}, [f"{name} removed; {len(events)} events relabelled"])


@faces_app.command("unknown")
def unknown_command(
    config: ConfigOption = None, data_dir: DataDirOption = None, output: FormatOption = Format.table
) -> None:
    """List the groups of similar unknown faces, largest first (name one with 'camsift faces name')."""
    with _library(config, data_dir) as (settings, faces):
        groups = faces.groups(engine_model(settings.faces.engine), settings.faces.match_distance)
    table = Table(title=f"{len(groups)} groups of unknown faces", title_justify="left")
    for column in ("group", "faces", "events", "first seen (local)", "last seen (local)", "picture"):
        table.add_column(column, overflow="fold")
    for g in groups:
        table.add_row(
            str(g.id),
            str(g.faces),
            str(len(g.events)),
            f"{g.first_utc.astimezone():%Y-%m-%d %H:%M}",
            f"{g.last_utc.astimezone():%Y-%m-%d %H:%M}",
            str(g.picture or ""),
        )
    doc = {
        "groups": [
            {
                "id": g.id,
                "faces": g.faces,
                "events": g.events,
                "first_utc": g.first_utc.isoformat(),
                "last_utc": g.last_utc.isoformat(),
                "picture": str(g.picture) if g.picture else None,
            }
            for g in groups
        ]
    }
    _print(output, doc, table)


@faces_app.command("name")
def name_command(
    group: Annotated[int, typer.Argument(help="Group id from 'camsift faces unknown'.", show_default=False)],
    name: Annotated[str, typer.Argument(help="Who they are (new or known).", show_default=False)],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    output: FormatOption = Format.table,
) -> None:
    """Name a group of unknown faces: its events are relabelled and its good faces become examples."""
    from camsift.faces.enrol import check_name

    name = check_name(name)
    with _library(config, data_dir) as (settings, faces):
        naming = faces.name_group(group, name, engine_model(settings.faces.engine), settings.faces)
    name = naming.name
    line = (
        f"group {group} is {name}: {naming.faces} faces named, {naming.examples} good enough to learn from, "
        f"{len(naming.events)} events relabelled"
    )
    _print(output, {"group": group, "name": name, **_naming(naming)}, [line])


@faces_app.command("wrong")
def wrong_command(
    event: Annotated[str, typer.Argument(help="Id of the event whose name is wrong.", show_default=False)],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    output: FormatOption = Format.table,
) -> None:
    """Mark the name on an event as wrong: it becomes "unknown" and that face never matches that person again."""
    with _library(config, data_dir) as (_, faces):
        name = faces.wrong(event)
    line = f"event {event} is not {name}: now unknown; its face is kept as 'not {name}'"
    _print(output, {"event": event, "not": name}, [line])
