"""``CAMSIFT_*`` variables through pydantic-settings: values as typed, names kept, the documented precedence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from camsift.config import Settings, StreamSourceConfig, load_config
from camsift.errors import ConfigError
from camsift.layout import DataDir


def secret(value: Any) -> str:
    """The value of a ``SecretStr`` key (or the key itself)."""
    return str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)


STREAM = {"CAMSIFT_SOURCES__DOOR__TYPE": "stream", "CAMSIFT_SOURCES__DOOR__URL": "rtsp://10.0.0.2/live"}


@pytest.mark.parametrize(
    ("environ", "read", "expected"),
    [
        # text keys get the value as typed: no YAML comment, number, yes/no or mapping guess
        ({"CAMSIFT_MQTT__PASSWORD": "#hunter2"}, lambda s: secret(s.mqtt.password), "#hunter2"),
        ({"CAMSIFT_MQTT__PASSWORD": "12345678"}, lambda s: secret(s.mqtt.password), "12345678"),
        ({"CAMSIFT_MQTT__USERNAME": "yes"}, lambda s: s.mqtt.username, "yes"),
        (
            {**STREAM, "CAMSIFT_SOURCES__DOOR__PASSWORD": "p@ss: word"},
            lambda s: secret(s.sources["door"].password),
            "p@ss: word",
        ),
        ({"CAMSIFT_MQTT__TOPIC_PREFIX": "on"}, lambda s: s.mqtt.topic_prefix, "on"),
        ({"CAMSIFT_MQTT__USERNAME": "null"}, lambda s: s.mqtt.username, "null"),
        ({"CAMSIFT_DATA_DIR": "0123"}, lambda s: s.data_dir, Path("0123")),
        # numbers and yes/no are parsed by the key's type
        ({"CAMSIFT_DETECT__FPS": "2.5"}, lambda s: s.detect.fps, 2.5),
        ({"CAMSIFT_MQTT__PORT": "8883"}, lambda s: s.mqtt.port, 8883),
        ({"CAMSIFT_MQTT__ENABLED": "yes"}, lambda s: s.mqtt.enabled, True),
        ({"CAMSIFT_WEB__ENABLED": "on"}, lambda s: s.web.enabled, True),
        ({"CAMSIFT_FACES__ENABLED": "auto"}, lambda s: s.faces.enabled, "auto"),
        ({"CAMSIFT_FACES__ENABLED": "false"}, lambda s: s.faces.enabled, False),
        # null clears a key that may be empty; lists and mappings are YAML flow collections (or JSON)
        ({"CAMSIFT_RETENTION__MAX_DISK_PERCENT": "null"}, lambda s: s.retention.max_disk_percent, None),
        ({"CAMSIFT_OBJECTS__LABELS": "[person, dog]"}, lambda s: s.objects.labels, ["person", "dog"]),
        ({"CAMSIFT_OBJECTS__LABELS": '["person", "cat"]'}, lambda s: s.objects.labels, ["person", "cat"]),
        ({"CAMSIFT_DETECT": "{fps: 3, recheck_s: 7}"}, lambda s: (s.detect.fps, s.detect.recheck_s), (3.0, 7.0)),
    ],
)
def test_values_arrive_as_typed_and_are_parsed_by_the_keys_type(
    environ: dict[str, str], read: Any, expected: object
) -> None:
    assert read(load_config(environ=environ)) == expected


def test_names_keep_their_case() -> None:
    s = load_config(environ={"CAMSIFT_CAMERAS__FrontDoor__OBJECTS__LABELS": "[person, cat]"})

    assert list(s.cameras) == ["FrontDoor"]
    assert s.for_camera("FrontDoor").objects.labels == ["person", "cat"]


def test_names_match_the_files_without_regard_to_case(tmp_path: Path) -> None:
    path = tmp_path / "camsift.yaml"
    path.write_text("cameras:\n  Garage: {paths: ['/nas/garage/**']}\n  porch: {}\n")
    env = {
        "CAMSIFT_CAMERAS__GARAGE__MOTION__THRESHOLD": "40",  # the file's 'Garage'
        "CAMSIFT_CAMERAS__Porch__MOTION__THRESHOLD": "50",  # the file's 'porch'
        "CAMSIFT_CAMERAS__SHED__MOTION__THRESHOLD": "60",  # a new camera in capitals: shells' spelling of 'shed'
    }

    s = load_config(path, environ=env)

    assert sorted(s.cameras) == ["Garage", "porch", "shed"]
    assert [s.for_camera(c).motion.threshold for c in ("Garage", "porch", "shed")] == [40, 50, 60]
    assert s.cameras["Garage"].paths == ["/nas/garage/**"]


def test_a_source_made_of_variables_only() -> None:
    env = {**STREAM, "CAMSIFT_SOURCES__DOOR__TIMEOUT_S": "4", "CAMSIFT_SOURCES__DOOR__RTSP_TRANSPORT": "udp"}

    door = load_config(environ=env).sources["door"]

    assert isinstance(door, StreamSourceConfig)
    assert (door.type, door.timeout_s, door.rtsp_transport) == ("stream", 4.0, "udp")


def test_precedence_file_environment_command_line_camera_overrides(tmp_path: Path) -> None:
    path = tmp_path / "camsift.yaml"
    path.write_text(f"data_dir: {tmp_path}\ncameras:\n  porch:\n    motion: {{threshold: 10, contour_area: 5}}\n")
    env = {"CAMSIFT_CAMERAS__PORCH__MOTION__THRESHOLD": "20"}
    cli = {"cameras.porch.motion.threshold": 30}

    def porch(**kw: Any) -> tuple[int, int]:
        m = load_config(path, **kw).for_camera("porch").motion
        return m.threshold, m.contour_area

    assert porch(environ={}) == (10, 5)
    assert porch(environ=env) == (20, 5)
    assert porch(environ=env, overrides=cli) == (30, 5)
    DataDir(tmp_path).overrides.write_text("porch:\n  motion: {threshold: 40}\n")
    assert porch(environ=env, overrides=cli) == (40, 5)


@pytest.mark.parametrize(
    ("environ", "overrides_file", "says"),
    [
        # a key the file sets but a variable overrides is the variable's fault
        ({"CAMSIFT_DETECT__FPS": "0"}, None, "environment: detect.fps: Input should be greater than 0"),
        ({"CAMSIFT_DETEC__FPS": "2"}, None, "environment: detec: unknown key"),
        (
            {},
            "porch:\n  motion: {threshold: 0}\n",
            "{dir}/camera-overrides.yaml: cameras.porch.motion.threshold: Input",
        ),
    ],
)
def test_an_error_names_where_the_value_came_from(
    tmp_path: Path, environ: dict[str, str], overrides_file: str | None, says: str
) -> None:
    path = tmp_path / "camsift.yaml"
    path.write_text(f"data_dir: {tmp_path}\ndetect:\n  fps: 2\n")
    if overrides_file:
        DataDir(tmp_path).overrides.write_text(overrides_file)

    with pytest.raises(ConfigError) as err:
        load_config(path, environ=environ)

    assert str(err.value).startswith(says.format(dir=tmp_path))


def test_variables_that_are_no_keys_are_left_alone() -> None:
    env = {"CAMSIFT_CONFIG": "/etc/camsift.yaml", "CAMSIFT_DEBUG": "1", "CAMSIFT_AI_API_KEY": "k", "OTHER": "x"}

    assert load_config(environ=env) == Settings()
