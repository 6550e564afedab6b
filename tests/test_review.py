"""Review items (`camsift.review`) over real events scanned from ``../shared/data``: a street clip and a photo."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from camsift import load_config, scan
from camsift.events import Event
from camsift.review import LIVE_GAP_S, review_items
from camsift.store import Store

pytestmark = pytest.mark.slow  # scans a real clip and a photo (a few seconds)


@pytest.fixture(scope="module")
def stored(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the events of a 4 s street clip with a crowd (street) and a photo of two people (door)."""
    root = tmp_path_factory.mktemp("review")
    for camera, name in (("street", "clips/anubhav666_example_01_street.mp4"), ("door", "faces/two_people.jpg")):
        (root / "footage" / camera).mkdir(parents=True)
        shutil.copy(shared_data / name, root / "footage" / camera)
    settings = load_config(environ={}, overrides={"data_dir": str(root / "data"), "timezone": "UTC"})
    assert not scan([root / "footage"], settings, jobs=1).failed
    return root / "data"


@pytest.fixture
def events(stored: Path) -> list[Event]:
    with Store(stored) as store:
        return store.events()


def of(events: list[Event], camera: str) -> list[Event]:
    return [e for e in events if e.camera == camera]


def test_one_item_per_file_with_all_its_objects(events: list[Event]) -> None:
    street, door = of(events, "street"), of(events, "door")
    assert len(street) >= 5, "the street clip has many tracked objects"
    assert [e.label for e in door].count("person") == 2

    items = review_items(events)

    assert sorted(i.camera for i in items) == ["door", "street"]
    by_camera = {i.camera: i for i in items}
    item = by_camera["street"]
    assert sorted(item.data.detections) == sorted(e.id for e in street)
    assert item.data.objects == tuple(sorted({e.label for e in street}))
    assert "person" in item.data.objects
    assert item.severity == "alert"
    assert item.start_time == min(e.start_utc.timestamp() for e in street)
    assert item.end_time == max(e.end_utc.timestamp() for e in street)
    assert item.id == min(street, key=lambda e: (e.start_utc, e.id)).id
    assert item.cover.label == "person"
    assert item.has_clip
    assert not by_camera["door"].has_clip
    assert by_camera["door"].data.objects == ("person",)
    assert len(by_camera["door"].data.detections) == len(door)


def test_newest_item_first(events: list[Event]) -> None:
    items = review_items(events)
    assert [i.start_time for i in items] == sorted((i.start_time for i in items), reverse=True)


def test_severity_follows_the_alert_labels(events: list[Event]) -> None:
    door = of(events, "door")
    assert review_items(door)[0].severity == "alert"
    assert review_items(door, alert_labels=["car"])[0].severity == "detection"
    assert review_items(door, alert_labels=[])[0].severity == "detection"


def test_reviewed_only_when_every_event_is(stored: Path, events: list[Event]) -> None:
    street = of(events, "street")
    ids = [e.id for e in street]
    with Store(stored) as store:
        store.mark(ids[1:], reviewed=True)
        done = {i for i, m in store.marks(ids).items() if m.reviewed}
        assert review_items(street, reviewed=done)[0].reviewed is False
        store.mark(review_items(street)[0].detections, reviewed=True)
        done = {i for i, m in store.marks(ids).items() if m.reviewed}
        assert review_items(street, reviewed=done)[0].reviewed is True
        store.mark(ids, reviewed=False)


def live(event: Event, shift_s: float = 0.0) -> Event:
    """The event as a live stream's recording has it (found in its own clip), ``shift_s`` seconds later."""
    later = timedelta(seconds=shift_s)
    return event.replace(clip=event.source, start_utc=event.start_utc + later, end_utc=event.end_utc + later)


def test_live_events_join_while_activity_goes_on(events: list[Event]) -> None:
    street = sorted(of(events, "street"), key=lambda e: (e.start_utc, e.id))
    span = max(e.end_utc for e in street) - min(e.start_utc for e in street)
    # Two recordings of the same activity (a clip cut at max_clip_s): one item.
    half = len(street) // 2
    joined = [live(e) for e in street[:half]] + [
        live(e, 0.0).replace(source=Path("/clips/other.mp4"), clip=Path("/clips/other.mp4")) for e in street[half:]
    ]
    assert len(review_items(joined)) == 1
    # The same objects again after a quiet spell longer than the gap: a second item.
    again = [live(e, span.total_seconds() + LIVE_GAP_S + 1).replace(id=e.id + "-b") for e in street]
    items = review_items([live(e) for e in street] + again)
    assert len(items) == 2
    assert items[0].data.detections == tuple(e.id + "-b" for e in street)
    assert len(review_items([live(e) for e in street] + again, gap_s=span.total_seconds() + LIVE_GAP_S + 2)) == 1


def test_events_without_footage_are_live_and_cameras_never_mix(events: list[Event]) -> None:
    street = of(events, "street")
    loose = [e.replace(source=None) for e in street]
    other = [e.replace(source=None, camera="yard", id=e.id + "-y") for e in street]
    items = review_items(loose + other)
    assert sorted(i.camera for i in items) == ["street", "yard"]
    assert all(len(i.data.detections) == len(street) for i in items)


def test_frigate_shape(events: list[Event]) -> None:
    item = review_items(of(events, "street"))[0]
    out = item.to_dict()
    assert set(out) == {
        "id",
        "camera",
        "start_time",
        "end_time",
        "has_been_reviewed",
        "severity",
        "thumb_path",
        "data",
    }
    assert out["data"]["detections"] == list(item.data.detections)
    assert out["data"]["audio"] == []
    assert out["thumb_path"] == str(item.cover.snapshot)


def test_names_are_sub_labels_and_unknown_faces_are_not(events: list[Event]) -> None:
    door = of(events, "door")
    named = [door[0].replace(sub_label="Mum/Dad"), *(e.replace(sub_label="unknown") for e in door[1:])]
    assert review_items(named)[0].data.sub_labels == ("Mum/Dad",)


def test_negative_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="gap_s"):
        review_items([], gap_s=-1)
