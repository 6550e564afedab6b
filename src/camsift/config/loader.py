"""Loading: the YAML file (with a line for every key), the environment, command-line overrides, the web app's
camera settings, in that order of precedence, then one validation whose errors say ``file:line: key: message``.

An error names where the bad value came from: the file and the key's line, ``environment`` for a
``CAMSIFT_*`` variable, the file without a line for a command-line option, or the camera-overrides file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from camsift.config.base import THOROUGH, ConfigKeyError
from camsift.config.environment import from_environment, merge
from camsift.config.overrides import merge_overrides, read_overrides
from camsift.config.settings import Settings
from camsift.errors import ConfigError
from camsift.layout import DataDir

__all__ = ["load_config"]

Loc = tuple[str | int, ...]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key."""


class _Lined(dict[Any, Any]):
    """A dict that also knows the YAML line of each key."""

    def __init__(self, data: dict[Any, Any], lines: dict[Any, int]) -> None:
        super().__init__(data)
        self.lines = lines


def _mapping_with_lines(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        result[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    return _Lined(result, lines)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_lines)


def _read(path: Path) -> dict[str, Any]:
    """The YAML file as a document whose mappings know their keys' lines.

    Raises:
        ConfigError: unreadable, not YAML, a duplicate key, or not a mapping at the top.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from err
    try:
        loaded = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" line {mark.line + 1}:" if mark else ""
        raise ConfigError(f"{path}:{line} not valid YAML: {getattr(err, 'problem', err)}") from err
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top, found {type(loaded).__name__}")
    return loaded or {}


def _without_tags(doc: Any, loc: Loc) -> Loc:
    """Drop the union tags pydantic puts in error locations (``sources.up.ftp.port`` -> ``sources.up.port``)."""
    kept: list[int | str] = []
    node = doc
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("type") == part:
            continue
        kept.append(part)
        node = (
            node.get(part)
            if isinstance(node, dict)
            else node[part]
            if isinstance(node, list) and isinstance(part, int) and part < len(node)
            else None
        )
    return tuple(kept)


def _line_of(doc: Any, loc: Loc) -> int | None:
    line = None
    node = doc
    for part in loc:
        if isinstance(node, _Lined) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            break
    return line


def _set(doc: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set ``doc[path[0]][path[1]]... = value``, creating mappings on the way."""
    node = doc
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


class _Origins:
    """Where each key of the document came from: the file (with its lines), or a later layer that set it."""

    def __init__(self, doc: dict[str, Any], where: str) -> None:
        self.doc, self.where = doc, where
        self.layers: list[tuple[str, list[tuple[str, ...]]]] = []

    def add(self, origin: str, paths: list[tuple[str, ...]]) -> None:
        """Keys ``paths`` were set by ``origin``, over everything before."""
        self.layers.append((origin, paths))

    def say(self, loc: Loc, message: str) -> str:
        """``origin: key: message``: the last layer that set the key or one above it; else the file and the
        key's line; else a layer that set a key below it (an unknown section's key)."""
        key = ".".join(map(str, loc))
        line = _line_of(self.doc, loc)
        above = (origin for origin, paths in reversed(self.layers) if any(loc[: len(p)] == p for p in paths))
        below = (origin for origin, paths in reversed(self.layers) if loc and any(p[: len(loc)] == loc for p in paths))
        origin = next(above, None) or (f"{self.where}:{line}" if line else next(below, self.where))
        return f"{origin}: {key}: {message}" if key else f"{origin}: {message}"


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    thorough: bool = False,
) -> Settings:
    """Read ``camsift.yaml`` (if given), apply environment, explicit and camera overrides, validate.

    Precedence, lowest first: the file, ``CAMSIFT_*`` environment variables
    (`camsift.config.environment`), ``overrides``, then the web app's
    ``<data_dir>/camera-overrides.yaml`` (`camsift.config.overrides`).

    Args:
        path: YAML file; ``None`` = defaults only.
        environ: Environment to read ``CAMSIFT_*`` overrides from; default ``os.environ``.
        overrides: Dotted key paths to set (CLI options), e.g. ``{"detect.fps": 2}``;
            ``None`` values are ignored.
        thorough: Also the checks ``camsift run`` makes at start that read files or
            import optional libraries: the ``yolo`` model and MQTT's TLS files can be
            read, channel URLs are ones apprise can use. ``camsift run`` and
            ``camsift config check`` ask for them, so the two accept the same configs.

    Returns:
        The validated settings.

    Raises:
        ConfigError: unreadable file, bad YAML, unknown key, bad value, a label the
            detector does not know, or (``thorough``) an unreadable file or unusable
            channel URL; the message names the file and line (or the environment), and
            the key path.

    Example:
        >>> settings = load_config(Path("camsift.yaml"), overrides={"detect.fps": 2})  # doctest: +SKIP
    """
    where = str(path) if path else "config"
    doc = _read(path) if path is not None else {}
    origins = _Origins(doc, where)
    env, env_paths = from_environment(os.environ if environ is None else environ, doc)
    merge(doc, env)
    origins.add("environment", env_paths)
    given = [(dotted.split("."), value) for dotted, value in (overrides or {}).items() if value is not None]
    for keys, value in given:
        _set(doc, keys, value)
    origins.add(where, [tuple(keys) for keys, _ in given])
    camera_file = DataDir(Path(str(doc.get("data_dir") or "camsift-data"))).overrides
    origins.add(str(camera_file), merge_overrides(doc, read_overrides(camera_file)))
    try:
        return Settings.model_validate(doc, context={THOROUGH: thorough})
    except ConfigKeyError as err:  # a rule between sections or keys
        raise ConfigError(origins.say(err.loc, err.reason)) from err
    except ValidationError as err:
        problems = []
        for e in err.errors():
            message = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
            problems.append(origins.say(_without_tags(doc, tuple(e["loc"])), message))
        raise ConfigError("; ".join(problems)) from err
