"""Notification rules and the messages they make (pure functions: no sending)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from camsift.config import NotifyRule, Settings, load_config
from camsift.errors import ConfigError
from camsift.events import Event
from camsift.listeners import EventChange, Problem
from camsift.notify.rules import digest_message, event_message, matches, problem_message, quiet, rules_of

T0 = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)


def event(label: str = "person", **kw: Any) -> Event:
    fields: dict[str, Any] = {
        "id": "porch-1",
        "camera": "porch",
        "label": label,
        "start_s": 1.0,
        "end_s": 3.0,
        "start_utc": T0,
        "end_utc": T0 + timedelta(seconds=2),
        "confidence": 0.87,
        "box_xyxy": (10.0, 20.0, 110.0, 220.0),
        **kw,
    }
    return Event(**fields)


def change(e: Event, alarm: bool = True) -> EventChange:
    return EventChange("new", None, e, alarm, "folder")


def settings(**overrides: Any) -> Settings:
    return load_config(environ={}, overrides={"timezone": "UTC", **overrides})


@pytest.mark.parametrize(
    ("rule", "e", "alarm", "expected"),
    [
        ({}, event(), True, True),
        ({}, event(), False, False),  # alarms only, by default
        ({"alarms_only": False}, event(), False, True),
        ({"cameras": ["gate"]}, event(), True, False),
        ({"labels": ["car"]}, event(), True, False),
        ({"labels": ["Person"]}, event(), True, True),  # labels are compared lower-case
        ({"zones": ["path"]}, event(), True, False),
        ({"zones": ["path"]}, event(zones=("lawn", "path")), True, True),
        ({"min_confidence": 0.9}, event(), True, False),
        ({"faces": {"unknown": True}}, event(sub_label="unknown"), True, True),
        ({"faces": {"unknown": True}}, event(sub_label="alice"), True, False),
        ({"faces": {"unknown": True}}, event("car", sub_label="unknown"), True, False),  # faces: person events only
        ({"faces": {"anyone_but": ["alice"]}}, event(), True, True),  # no face seen: not Alice
        ({"faces": {"anyone_but": ["alice"]}}, event(sub_label="alice"), True, False),
        ({"faces": {"arrived": ["alice"]}, "alarms_only": False}, event(sub_label="alice"), False, True),
        ({"faces": {"arrived": ["alice"]}, "alarms_only": False}, event(sub_label="Alice"), False, True),
        ({"faces": {"anyone_but": ["ALICE"]}}, event(sub_label="Alice"), True, False),  # names ignore case
    ],
)
def test_rule_conditions(rule: dict[str, Any], e: Event, alarm: bool, expected: bool) -> None:
    assert matches(NotifyRule.model_validate(rule), change(e, alarm)) is expected


def test_quiet_hours_cross_midnight() -> None:
    rule = NotifyRule(quiet_hours=["23:00-06:30"])
    assert quiet(rule, datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    assert quiet(rule, datetime(2026, 11, 22, 6, 0, tzinfo=UTC))
    assert not quiet(rule, datetime(2026, 11, 22, 6, 30, tzinfo=UTC))
    assert not quiet(NotifyRule(), datetime(2026, 11, 22, 3, 0, tzinfo=UTC))


def test_no_rules_means_every_alarm_to_every_channel() -> None:
    assert rules_of(settings()) == {"default": NotifyRule()}


def test_rules_and_digest_must_name_configured_channels() -> None:
    with pytest.raises(ConfigError, match=r"notify: .*rules\.night: unknown channel 'phone'"):
        settings(
            **{"notify.channels": {"mail": {"url": "mailto://x"}}, "notify.rules": {"night": {"channels": ["phone"]}}},
        )


def test_an_event_message_says_what_where_when_with_the_picture_and_the_clip(tmp_path: Path) -> None:
    clip = tmp_path / "porch" / "a.mp4"
    picture = tmp_path / "a-annotated.jpg"
    e = event(source=clip, snapshot=tmp_path / "a.jpg", snapshot_annotated=picture, zones=("path",))

    plain = event_message(e, settings())
    linked = event_message(e, settings(**{"notify.public_url": "https://cam.example.org/"}))

    assert plain.title == "Person on porch"
    assert plain.body.splitlines() == [
        "Person seen on porch at 2026-11-22 14:30:05 UTC (confidence 87%).",
        "Zones: path.",
        f"Clip: {clip}",
    ]
    assert plain.attach == picture
    assert plain.key == "event:porch-1"
    assert linked.body.splitlines()[-2:] == [
        "Clip: https://cam.example.org/api/events/porch-1/clip.mp4",
        "Event: https://cam.example.org/events/porch-1",
    ]


@pytest.mark.parametrize(
    ("sub_label", "title", "face_line"),
    [
        ("unknown", "Unknown person on porch", "Face: not one of the known faces."),
        ("Alice", "Alice on porch", "Face: Alice (91%)."),
    ],
)
def test_faces_in_the_message(sub_label: str, title: str, face_line: str) -> None:
    m = event_message(event(sub_label=sub_label, sub_label_score=0.91, source=Path("/x/a.jpg")), settings())
    assert m.title == title
    assert face_line in m.body.splitlines()
    assert "Picture: /x/a.jpg" in m.body.splitlines()  # a still picture has no clip


def test_the_digest_counts_per_camera_and_label_and_shows_the_surest_person(tmp_path: Path) -> None:
    best = tmp_path / "best.jpg"
    events = [
        event(id="a", start_utc=T0, confidence=0.6),
        event(id="b", start_utc=T0 + timedelta(hours=2), confidence=0.95, snapshot_annotated=best),
        event("cat", id="c", start_utc=T0 + timedelta(hours=1), confidence=0.99),
        event("car", id="d", camera="gate", start_utc=T0),
    ]
    until = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

    m = digest_message(events, until - timedelta(days=1), until, settings())

    assert m.title == "camsift digest 2026-11-23: 4 events"
    assert "gate: 1 car (first 14:30, last 14:30)" in m.body.splitlines()
    assert "porch: 1 cat, 2 person (first 14:30, last 16:30)" in m.body.splitlines()
    assert m.attach == best
    assert m.key == "digest:2026-11-23"
    empty = digest_message([], until - timedelta(days=1), until, settings())
    assert "Nothing was seen." in empty.body
    assert empty.attach is None


def test_a_problem_message_and_its_resolution_have_their_own_keys() -> None:
    problem = Problem("disk_full", "Data disk 93 % full", "Delete old clips.")
    opened = problem_message(problem, T0, settings())
    closed = problem_message(Problem("disk_full", "Data disk back to 80 % full", resolved=True), T0, settings())
    assert (opened.title, opened.kind) == ("camsift: Data disk 93 % full", "problem")
    assert opened.body.startswith("Delete old clips.")
    assert closed.title == "camsift: resolved: Data disk back to 80 % full"
    assert opened.key != problem_message(problem, T0 + timedelta(hours=6), settings()).key


def test_every_notify_and_mqtt_key_is_documented_and_urls_stay_secret() -> None:
    from camsift.config import DigestConfig, MqttConfig, NotifyChannel, NotifyConfig, ProblemsConfig

    for model in (NotifyConfig, NotifyChannel, NotifyRule, DigestConfig, ProblemsConfig, MqttConfig):
        for key, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{key} has no description"
    s = settings(**{"notify.channels.phone.url": "tgram://123:s3cr3t/42", "mqtt.password": "hunter2"})
    shown = repr(s) + s.model_dump_json()
    assert "s3cr3t" not in shown
    assert "hunter2" not in shown
    assert s.notify.channels["phone"].url.get_secret_value() == "tgram://123:s3cr3t/42"
