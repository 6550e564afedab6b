"""Configuration: defaults, YAML with line-numbered errors, environment and dotted overrides, cameras, schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest

from camsift import Settings, load_config
from camsift.config import LabelFilter, ObjectsConfig
from camsift.errors import ConfigError


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "camsift.yaml"
    path.write_text(text)
    return path


def config_error(path: Path | None = None, **kw: Any) -> str:
    """The message of the `ConfigError` that loading ``path`` raises; it must be one line."""
    with pytest.raises(ConfigError) as err:
        load_config(path, **kw)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_defaults() -> None:
    s = load_config(environ={})

    assert s == Settings()
    assert (s.data_dir, s.database, s.timezone, s.cameras) == (Path("camsift-data"), None, None, {})
    assert (s.detect.detector, s.detect.fps, s.detect.threads) == ("auto", 5.0, None)
    assert s.objects.labels == ["person"]
    assert s.objects.filter_for("person") == LabelFilter(min_confidence=0.5, min_area=0.0, max_area=1.0)
    assert (s.events.min_hits, s.events.lost_s) == (2, 3.0)
    assert (s.motion.threshold, s.motion.mask) == (25, [])
    assert s.tz() is None


def test_yaml_file(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
data_dir: /srv/camsift
timezone: Europe/Berlin
detect:
  fps: 2.5
  detector: nanodet
objects:
  labels: [Person, " car "]
  filters:
    car: {min_confidence: 0.7, min_area: 0.01}
  zones:
    driveway:
      polygon: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]
      labels: [car]
events:
  lost_s: 5
cameras:
  porch:
    paths: ["/nas/porch/**"]
""",
    )

    s = load_config(path, environ={})

    assert s.data_dir == Path("/srv/camsift")
    assert str(s.tz()) == "Europe/Berlin"
    assert (s.detect.fps, s.detect.detector, s.detect.recheck_s) == (2.5, "nanodet", 5.0)
    assert s.objects.labels == ["person", "car"]
    assert s.objects.filter_for("car") == LabelFilter(min_confidence=0.7, min_area=0.01)
    assert s.objects.filter_for("person") == LabelFilter()
    assert s.objects.zones["driveway"].polygon[2] == (1.0, 1.0)
    assert s.objects.zones["driveway"].labels == ["car"]
    assert s.events.lost_s == 5.0
    assert s.cameras["porch"].paths == ["/nas/porch/**"]


def test_empty_yaml_is_the_defaults(tmp_path: Path) -> None:
    assert load_config(write_yaml(tmp_path, "# nothing yet\n"), environ={}) == Settings()


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("data_dir: x\ndetec:\n  fps: 2\n", 2, "detec"),
        ("detect:\n  fps: 2\n  fsp: 3\n", 3, "detect.fsp"),
        (
            "objects:\n  labels: [person]\n  filters:\n    person:\n      min_conf: 0.3\n",
            5,
            "objects.filters.person.min_conf",
        ),
        ("cameras:\n  porch:\n    path: [x]\n", 3, "cameras.porch.path"),
    ],
)
def test_unknown_key_names_the_key_and_its_line(tmp_path: Path, text: str, line: int, key: str) -> None:
    path = write_yaml(tmp_path, text)

    assert config_error(path, environ={}) == f"{path}:{line}: {key}: unknown key"


@pytest.mark.parametrize(
    ("text", "line", "key", "says"),
    [
        ("detect:\n  fps: -1\n", 2, "detect.fps", "greater than 0"),
        ("motion:\n  threshold: high\n", 2, "motion.threshold", "valid integer"),
        (
            "objects:\n  filters:\n    person:\n      min_confidence: 2\n",
            4,
            "objects.filters.person.min_confidence",
            "1",
        ),
        ("objects:\n  labels: []\n", 2, "objects.labels", "at least one label"),
        (
            "objects:\n  zones:\n    door:\n      polygon: [[0, 0], [1, 0]]\n",
            4,
            "objects.zones.door.polygon",
            "3 items",
        ),
    ],
)
def test_bad_value_names_the_key_and_its_line(tmp_path: Path, text: str, line: int, key: str, says: str) -> None:
    path = write_yaml(tmp_path, text)

    message = config_error(path, environ={})

    assert message.startswith(f"{path}:{line}: {key}: ")
    assert says in message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("detect:\n  fps: 2\ndetect:\n  fps: 3\n", "line 3: duplicate key 'detect'"),
        ("detect:\n  fps: [2\n", "line 3: not valid YAML"),
        ("- a\n- b\n", "expected a mapping of keys at the top, found list"),
    ],
)
def test_malformed_yaml(tmp_path: Path, text: str, says: str) -> None:
    path = write_yaml(tmp_path, text)

    message = config_error(path, environ={})

    assert message.startswith(str(path))
    assert says in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    assert config_error(path, environ={}).startswith(f"{path}: cannot read")


def test_unknown_key_in_a_camera_section_is_reported_at_load(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "cameras:\n  porch:\n    motion:\n      treshold: 3\n")

    assert config_error(path, environ={}) == f"{path}:4: cameras.porch.motion.treshold: unknown key"


def test_unknown_timezone_is_reported_at_load(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "timezone: Mars/Olympus_Mons\n")

    assert "timezone" in config_error(path, environ={})


# --- environment and dotted overrides ----------------------------------------------------------------------------


def test_environment_override(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_config(environ={"CAMSIFT_DETECT__FPS": "2"}).detect.fps == 2.0

    monkeypatch.setenv("CAMSIFT_DETECT__FPS", "2")
    monkeypatch.setenv("CAMSIFT_OBJECTS__LABELS", "[person, dog]")
    monkeypatch.setenv("CAMSIFT_CONFIG", "/not/a/key.yaml")  # the CLI's --config, not a setting
    s = load_config()

    assert (s.detect.fps, s.objects.labels) == (2.0, ["person", "dog"])


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CAMSIFT_DETECT__FPS": "fast"}, "environment: detect.fps: Input should be a valid number"),
        ({"CAMSIFT_DETECT__FSP": "2"}, "environment: detect.fsp: unknown key"),
        ({"CAMSIFT_DETECT__FPS": "[2"}, "environment: detect.fps: Input should be a valid number"),  # no YAML guess
        ({"CAMSIFT_OBJECTS__LABELS": "[person"}, "environment variable CAMSIFT_OBJECTS__LABELS: not valid YAML"),
    ],
)
def test_bad_environment_override_names_the_source(environ: dict[str, str], message: str) -> None:
    assert config_error(environ=environ).startswith(message)


def test_precedence_file_then_environment_then_overrides(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "detect:\n  fps: 4\n  recheck_s: 9\n")
    env = {"CAMSIFT_DETECT__FPS": "2"}

    assert load_config(path, environ={}).detect.fps == 4.0
    assert load_config(path, environ=env).detect.fps == 2.0
    assert load_config(path, environ=env, overrides={"detect.fps": 1}).detect.fps == 1.0
    assert load_config(path, environ=env, overrides={"detect.fps": None}).detect.fps == 2.0  # unset CLI option
    assert load_config(path, environ=env, overrides={"detect.fps": 1}).detect.recheck_s == 9.0


def test_dotted_overrides() -> None:
    s = load_config(
        environ={},
        overrides={
            "data_dir": "/tmp/x",
            "objects.labels": ["person", "car"],
            "objects.default.min_confidence": 0.7,
            "cameras.porch.paths": ["/nas/porch/**"],
        },
    )

    assert s.data_dir == Path("/tmp/x")
    assert s.objects.labels == ["person", "car"]
    assert s.objects.filter_for("car").min_confidence == 0.7
    assert s.cameras["porch"].paths == ["/nas/porch/**"]


def test_bad_dotted_override() -> None:
    assert config_error(environ={}, overrides={"detect.fps": 0}).startswith("config: detect.fps: ")


# --- cameras -----------------------------------------------------------------------------------------------------


def test_camera_overrides_only_the_keys_it_sets(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
detect: {fps: 2, recheck_s: 7}
motion: {threshold: 40}
events: {lost_s: 4}
cameras:
  porch:
    detect: {fps: 10}
    objects: {labels: [person, cat]}
  garden:
    paths: ["/nas/garden/**"]
""",
    )
    s = load_config(path, environ={})

    porch = s.for_camera("porch")

    assert (porch.detect.fps, porch.detect.recheck_s) == (10.0, 7.0)
    assert porch.objects.labels == ["person", "cat"]
    assert porch.motion == s.motion
    assert porch.events == s.events
    assert porch.data_dir == s.data_dir
    assert s.for_camera("garden") == s
    assert s.for_camera("unknown") is s
    assert s.detect.fps == 2.0  # the global settings are untouched


def test_camera_override_from_the_environment() -> None:
    s = load_config(environ={"CAMSIFT_CAMERAS__PORCH__OBJECTS__LABELS": "[person, cat]"})

    assert s.for_camera("porch").objects.labels == ["person", "cat"]
    assert s.objects.labels == ["person"]


def test_bad_camera_override_names_the_camera_and_key() -> None:
    with pytest.raises(ConfigError, match=r"^config: cameras\.porch\.detect\.fps: Input should be greater than 0"):
        load_config(environ={}, overrides={"cameras.porch.detect": {"fps": 0}})


def test_camera_override_breaking_a_rule_between_keys_fails_at_load() -> None:
    overrides = {"record": {"buffer_s": 60, "pre_roll_s": 40}, "cameras.porch.record": {"buffer_s": 20}}

    says = r"^config: cameras\.porch\.record: pre_roll_s \(40.0\) cannot exceed buffer_s"
    with pytest.raises(ConfigError, match=says):
        load_config(environ={}, overrides=overrides)


def test_camera_override_changes_only_its_keys() -> None:
    s = load_config(environ={}, overrides={"detect": {"fps": 3}, "cameras.porch.detect": {"recheck_s": 7}})

    porch = s.for_camera("porch")
    assert (porch.detect.fps, porch.detect.recheck_s) == (3, 7)
    assert s.for_camera("unknown") is s


# --- the model ---------------------------------------------------------------------------------------------------


def test_every_field_of_the_schema_is_described() -> None:
    schema = Settings.model_json_schema()
    models = {"Settings": schema, **schema["$defs"]}
    undescribed = []
    for name, model in models.items():
        assert model.get("description"), f"{name} has no description"
        for key, prop in model["properties"].items():
            ref = prop.get("$ref", "").rsplit("/", 1)[-1]
            if not (prop.get("description") or models.get(ref, {}).get("description")):
                undescribed.append(f"{name}.{key}")

    assert undescribed == []
    assert {"DetectConfig", "MotionConfig", "ObjectsConfig", "EventsConfig", "CameraConfig"} <= set(models)


def test_settings_are_frozen() -> None:
    s = Settings()

    with pytest.raises(pydantic.ValidationError):
        s.detect.fps = 1  # type: ignore[misc]


def test_for_still_raises_every_confidence_and_drops_the_threshold() -> None:
    objects = ObjectsConfig(filters={"car": LabelFilter(min_confidence=0.8), "dog": LabelFilter(min_confidence=0.3)})

    raised = objects.for_still(0.6)

    assert raised.filter_for("car").min_confidence == 0.8
    assert raised.filter_for("dog").min_confidence == 0.6
    assert raised.filter_for("person").min_confidence == 0.6
    assert objects.filter_for("person").min_confidence == 0.5
    assert raised.filter_for("car").threshold == raised.filter_for("person").threshold == 0.0
