"""Faces on scanned events: the Hamilton clip, pictures and rows on disk, and no cost without a library."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from camsift import Settings, Store, load_config, scan
from camsift.faces import UNKNOWN, FaceEngine
from camsift.faces.enrol import enrol
from camsift.faces.library import LONE_FACE_SHARE, decide
from camsift.faces.recognizer import faces_settled
from camsift.store.faces import FaceStore


def settings(data_dir: Path, **overrides: object) -> Settings:
    return load_config(environ={}, overrides={"data_dir": str(data_dir), "timezone": "UTC", **overrides})


def face_rows(data_dir: Path) -> list[tuple[str, str | None, str]]:
    with sqlite3.connect(data_dir / "camsift.db") as db:
        return db.execute("select event_id, name, crop from event_faces order by event_id, n").fetchall()


GALLERY = {
    "Obama": ["obama.jpg"],
    "Biden": ["biden.jpg"],
    "Alex Lacamoire": ["alex_lacamoire_img1.jpg", "alex-lacamoire.png"],
    "Lin-Manuel Miranda": ["lin-manuel-miranda.png"],
}


def enrolled(face_engine: FaceEngine, faces_data: Path, data_dir: Path, people: dict[str, list[str]]) -> Settings:
    """Settings over ``data_dir`` whose library knows ``people`` (name -> photos), enrolled as ``faces add`` does."""
    s = settings(data_dir)
    with Store(data_dir) as store:
        for name, photos in people.items():
            naming, _ = enrol(FaceStore(store), face_engine, name, [faces_data / p for p in photos], s.faces)
            assert naming is not None
            assert naming.examples == len(photos)
    return s


@pytest.mark.slow
def test_group_photo_names_each_person_through_the_scan(
    face_engine: FaceEngine, faces_data: Path, tmp_path: Path
) -> None:
    """``obama_and_biden.jpg`` through person detection, face search in each box and the library.

    The detector finds four people: Biden, Obama, the child in front (not enrolled) and a woman cut
    off at the right edge, whose face is outside the picture. A photo is one frame, so each name
    rests on a lone face and must be well inside the threshold (`LONE_FACE_SHARE`).
    """
    data_dir = tmp_path / "data"
    s = enrolled(face_engine, faces_data, data_dir, GALLERY)

    (result,) = scan([faces_data / "obama_and_biden.jpg"], s, jobs=1).files

    events = sorted(result.events, key=lambda e: e.box_xyxy[0])
    assert [e.label for e in events] == ["person"] * 4
    assert [e.sub_label for e in events] == ["Biden", "Obama", UNKNOWN, None]
    assert [len(e.faces) for e in events] == [1, 1, 1, 0]
    assert [f.name for e in events for f in e.faces] == ["Biden", "Obama", None]
    lone = LONE_FACE_SHARE * s.faces.match_distance
    assert all(e.sub_label_score is not None and e.sub_label_score > 1 - lone for e in events[:2])
    child = events[2].faces[0].distance
    assert child is not None
    assert child >= s.faces.match_distance
    with Store(data_dir) as store:
        assert {e.id: e.sub_label for e in store.events()} == {e.id: e.sub_label for e in events}


@pytest.mark.slow
def test_hamilton_clip_names_an_event_only_when_its_frames_agree(
    face_engine: FaceEngine, faces_data: Path, tmp_path: Path
) -> None:
    """Lin-Manuel Miranda's faces in the clip come 0.31-0.65 from his one photo (``bench/faces.py``),
    so some frames match him and others do not: an event is his only when most of its faces are."""
    data_dir = tmp_path / "data"
    s = enrolled(face_engine, faces_data, data_dir, {"Lin-Manuel Miranda": GALLERY["Lin-Manuel Miranda"]})

    (result,) = scan([faces_data / "short_hamilton_clip.mp4"], s, jobs=1).files

    lin = "Lin-Manuel Miranda"
    sightings = [f for e in result.events for f in e.faces]
    assert any(f.name == lin for f in sightings)  # he is seen
    assert {f.name for f in sightings} <= {lin, None}
    for e in result.events:
        faces = [(f.name, f.distance) for f in e.faces]
        assert (e.sub_label, e.sub_label_score) == decide(faces, s.faces.match_distance), faces
        if e.sub_label == lin:
            assert 2 * sum(f.name == lin for f in e.faces) > len(e.faces), faces
    assert {e.sub_label for e in result.events} <= {lin, UNKNOWN, None}
    assert all(f.crop is not None and f.crop.is_file() and f.crop.stat().st_size > 1000 for f in sightings)
    assert all(f.crop is not None and f.crop.is_relative_to(data_dir.resolve() / "faces") for f in sightings)
    rows = face_rows(data_dir)
    assert len(rows) == len(sightings)
    assert {r[1] for r in rows} >= {lin}
    with Store(data_dir) as store:
        stored = {e.id: e.sub_label for e in store.events()}
    assert stored == {e.id: e.sub_label for e in result.events}
    assert all(e.best is None and e.shots == () for e in result.events)

    # "Who is this?" on a face the library missed: a name given by hand decides its event.
    event = next(e for e in result.events if any(f.name is None for f in e.faces))
    n = next(f.n for f in event.faces if f.name is None)
    with Store(data_dir) as store:
        naming = FaceStore(store).name_face(event.id, n, "lin-manuel miranda", s.faces)
        assert naming.name == lin  # the known person, whatever the case typed
        relabelled = {e.id: (e.sub_label, e.sub_label_score) for e in store.events()}
    assert relabelled[event.id] == (lin, 1.0)


def test_rescan_replaces_the_faces_and_their_pictures(
    face_engine: FaceEngine, faces_data: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    photo = faces_data / "two_people.jpg"
    first = scan([photo], settings(data_dir, **{"faces.enabled": True}), jobs=1)
    crops = [f.crop for e in first.files[0].events for f in e.faces]
    assert len(crops) == 2
    assert {e.sub_label for e in first.files[0].events} == {UNKNOWN}  # faces seen, library empty

    scan([photo], settings(data_dir, **{"faces.enabled": False}), jobs=1, force=True)

    assert face_rows(data_dir) == []
    assert not any(c is not None and c.exists() for c in crops)


def test_no_library_no_face_work(faces_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``faces.enabled: auto`` with nobody known must not even load the face engine."""

    def refuse(name: str) -> None:
        raise AssertionError("the face engine was loaded")

    monkeypatch.setattr("camsift.faces.recognizer._engine", refuse)

    report = scan([faces_data / "two_people.jpg"], settings(tmp_path / "data"), jobs=1)

    events = report.files[0].events
    assert len(events) == 2
    assert all(e.faces == () and e.sub_label is None for e in events)


def test_auto_faces_are_settled_before_a_worker_gets_the_file(
    face_engine: FaceEngine, faces_data: Path, tmp_path: Path
) -> None:
    """``auto`` is off while nobody is known, so workers never open the database for it; on once someone is."""
    empty = settings(tmp_path / "empty")
    known = enrolled(face_engine, faces_data, tmp_path / "known", {"Obama": ["obama.jpg"]})

    assert faces_settled(empty).faces.enabled is False
    assert faces_settled(known).faces.enabled == "auto"
    assert faces_settled(settings(tmp_path / "empty", **{"faces.enabled": True})).faces.enabled is True


@pytest.mark.slow
def test_worker_processes_name_known_faces(face_engine: FaceEngine, faces_data: Path, tmp_path: Path) -> None:
    """With someone known, ``auto`` reaches the workers unsettled and they read the library themselves."""
    s = enrolled(face_engine, faces_data, tmp_path / "data", GALLERY)

    report = scan([faces_data / "obama_and_biden.jpg", faces_data / "two_people.jpg"], s, jobs=2)

    group = next(f for f in report.files if f.path.name == "obama_and_biden.jpg")
    assert {"Biden", "Obama"} <= {e.sub_label for e in group.events}
