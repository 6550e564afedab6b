"""``camsift faces``: add, list, unknown groups, naming a group, correcting a wrong match, removing.

Real photos from ``../shared/data/faces``: ``two_people.jpg`` shows Obama (left) and Biden (right).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers.cli import CliResult

Cli = Callable[..., CliResult]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("dlib") is None, reason="needs camsift[faces] (dlib)")


def run_json(cli: Cli, *args: str | Path, code: int = 0) -> Any:
    result = cli(*args, "--format", "json")
    assert result.code == code, result.stderr
    return json.loads(result.stdout)


def labels(cli: Cli, data: Path) -> dict[str, str | None]:
    """Stored events' sub_label, by event id, left to right in the picture."""
    events = run_json(cli, "events", "--data-dir", data)["events"]
    return {e["id"]: e["sub_label"] for e in sorted(events, key=lambda e: e["box_xyxy"][0])}


def test_library_round_trip(camsift_main: Cli, faces_data: Path, tmp_path: Path) -> None:
    data, photo = tmp_path / "data", faces_data / "two_people.jpg"
    added = run_json(camsift_main, "faces", "add", "Obama", faces_data / "obama.jpg", "--data-dir", data)
    assert (added["name"], added["examples"], added["photos"][0]["added"]) == ("Obama", 1, True)

    run_json(camsift_main, "scan", photo, "--data-dir", data, "-j", "1")
    obama, biden = labels(camsift_main, data)
    assert labels(camsift_main, data) == {obama: "Obama", biden: "unknown"}

    (group,) = run_json(camsift_main, "faces", "unknown", "--data-dir", data)["groups"]
    assert (group["faces"], group["events"]) == (1, [biden])
    assert Path(group["picture"]).is_file()

    named = run_json(camsift_main, "faces", "name", str(group["id"]), "Biden", "--data-dir", data)
    assert (named["examples"], named["relabelled_events"]) == (1, [biden])
    assert labels(camsift_main, data) == {obama: "Obama", biden: "Biden"}
    assert run_json(camsift_main, "faces", "unknown", "--data-dir", data)["groups"] == []

    wrong = run_json(camsift_main, "faces", "wrong", obama, "--data-dir", data)
    assert wrong == {"event": obama, "not": "Obama"}
    assert labels(camsift_main, data) == {obama: "unknown", biden: "Biden"}

    people = {p["name"]: p for p in run_json(camsift_main, "faces", "list", "--data-dir", data)["people"]}
    assert {n: (p["examples"], p["negatives"], p["events"]) for n, p in people.items()} == {
        "Biden": (1, 0, 1),
        "Obama": (1, 1, 0),
    }

    run_json(camsift_main, "scan", photo, "--data-dir", data, "-j", "1", "--force")
    assert labels(camsift_main, data) == {obama: "unknown", biden: "Biden"}  # the correction holds

    removed = run_json(camsift_main, "faces", "remove", "biden", "--data-dir", data)  # names ignore case
    assert removed == {"name": "Biden", "relabelled_events": [biden]}
    assert labels(camsift_main, data) == {obama: "unknown", biden: "unknown"}


def test_adding_photos_retrospectively_names_past_unknown_faces(
    camsift_main: Cli, faces_data: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    run_json(camsift_main, "faces", "add", "Obama", faces_data / "obama.jpg", "--data-dir", data)
    run_json(camsift_main, "scan", faces_data / "two_people.jpg", "--data-dir", data, "-j", "1")
    _, biden = labels(camsift_main, data)

    added = run_json(camsift_main, "faces", "add", "Biden", faces_data / "biden.jpg", "--data-dir", data)

    assert (added["past_faces"], added["relabelled_events"]) == (1, [biden])
    assert labels(camsift_main, data)[biden] == "Biden"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["faces", "remove", "Nobody"], 1, "no known person named 'Nobody'"),
        (["faces", "name", "999", "Ann"], 1, "no group 999 of unknown faces"),
        (["faces", "wrong", "nope-001"], 1, "no event 'nope-001'"),
        (["faces", "add", "unknown", "x.jpg"], 2, "x.jpg: no such file or directory"),
        (["faces", "name", "1", "Unknown"], 1, "'Unknown' is reserved for faces that are not in the library"),
    ],
)
def test_bad_requests_end_with_one_line(
    camsift_main: Cli, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = camsift_main(*args, "--data-dir", tmp_path / "data")

    assert result.code == code
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_refused_photos_give_exit_code_3_and_their_reason(camsift_main: Cli, faces_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "people"
    (folder / "Obama").mkdir(parents=True)
    (folder / "Obama" / "a.jpg").write_bytes((faces_data / "obama.jpg").read_bytes())
    (folder / "Obama" / "b.jpg").write_bytes((faces_data / "obama_and_biden.jpg").read_bytes())

    doc = run_json(camsift_main, "faces", "import", folder, "--data-dir", tmp_path / "data", code=3)

    assert doc["people"] == [
        {
            "name": "Obama",
            "refused": [str(folder / "Obama" / "b.jpg")],
            "examples": 1,
            "past_faces": 0,
            "relabelled_events": [],
        }
    ]
