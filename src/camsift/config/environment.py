"""Environment variables over the YAML: ``CAMSIFT_`` + the key path joined by ``__``, read by pydantic-settings.

Each variable sets one key (``CAMSIFT_DETECT__FPS=2``,
``CAMSIFT_CAMERAS__PORCH__OBJECTS__LABELS='[person, cat]'``) and is decoded by that
key's type, as pydantic-settings decodes environment variables:

- a text key gets the value as typed: ``#hunter2``, ``12345678``, ``yes``,
  ``p@ss: word`` and ``on`` stay strings;
- a number or yes/no key parses the string itself (``2``, ``0.5``, ``true``, ``yes``, ``on``);
- a list or mapping key is a YAML flow collection (``[person, car]``, ``{fps: 2}``; JSON is YAML too);
- ``null`` clears a key that may be empty (``CAMSIFT_RETENTION__MAX_DISK_PERCENT=null``),
  except a text key, where it is the word.

Key names are matched without regard to case. The names of cameras, sources,
channels and rules keep theirs: a name the file already has is matched without
regard to case (``CAMSIFT_SOURCES__DRIVEWAY__PASSWORD`` reaches ``driveway``), an
all-capitals name is taken in lower case, as shells spell variables (``PORCH`` is
``porch``), and any other name is kept as typed (``FrontDoor``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, SecretStr, create_model
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsError
from pydantic_settings.sources.utils import parse_env_vars

from camsift.config.settings import Settings
from camsift.errors import ConfigError

__all__ = ["NOT_KEYS", "PREFIX", "from_environment"]

PREFIX = "CAMSIFT_"
_NESTED = "__"

NOT_KEYS = frozenset({"CAMSIFT_CONFIG", "CAMSIFT_DEBUG", "CAMSIFT_AI_API_KEY"})
"""Variables that are not config keys: the CLI's ``--config``, tracebacks on errors, ``camsift ai-api``'s key."""


@cache
def _keys() -> type[BaseSettings]:
    """`Settings`' keys in the form pydantic-settings' sources read (the class is never instantiated)."""

    fields: dict[str, Any] = {name: (info.annotation, info) for name, info in Settings.model_fields.items()}
    return create_model("Keys", __base__=BaseSettings, __doc__="The keys of `Settings`.", **fields)


class _NotYamlError(Exception):
    """A list or mapping value that is not a YAML flow collection (not a ValueError: pydantic-settings would
    keep the raw string for some keys and let validation say "not a valid list" without naming the variable)."""


class _Variable(EnvSettingsSource):
    """pydantic-settings' environment source over one variable whose key path is already spelled as the keys are.

    Args:
        path: The key path, e.g. ``["cameras", "FrontDoor", "objects", "labels"]``.
        value: The variable's value.
        null: Whether ``null`` means no value (a key that may be empty and is not text).
    """

    def __init__(self, path: Sequence[str], value: str, *, null: bool) -> None:
        self._given = {PREFIX + _NESTED.join(path): value}
        super().__init__(
            _keys(),
            case_sensitive=True,
            env_prefix=PREFIX,
            env_nested_delimiter=_NESTED,
            env_parse_none_str="null" if null else None,
        )

    def _load_env_vars(self) -> Mapping[str, str | None]:
        """The one variable instead of ``os.environ``."""
        return parse_env_vars(self._given, True, False, self.env_parse_none_str)

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        """A list or mapping is read as YAML (JSON is YAML), as in the config file."""
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise _NotYamlError(getattr(err, "problem", None) or str(err)) from err


def _bare(kind: Any) -> Any:
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    return kind


def _members(kind: Any) -> tuple[Any, ...]:
    """The types of a union (``X | None`` → ``(X, None)``), or the type itself."""
    kind = _bare(kind)
    return tuple(_bare(k) for k in get_args(kind)) if get_origin(kind) in (Union, UnionType) else (kind,)


def _step(kind: Any, part: str, node: Any) -> tuple[str, Any]:
    """The key ``part`` names under a value of type ``kind`` (``node`` in the file), and the type of its value."""
    models = [m for m in _members(kind) if isinstance(m, type) and issubclass(m, BaseModel)]
    fields = {name: info for m in models for name, info in m.model_fields.items()}
    if fields:
        key = part.lower()
        return key, (fields[key].annotation if key in fields else None)
    mappings = [m for m in _members(kind) if get_origin(m) is dict]
    if mappings:
        same = (
            [k for k in node if isinstance(k, str) and k.casefold() == part.casefold()]
            if isinstance(node, dict)
            else []
        )
        name = same[0] if len(same) == 1 else part.lower() if part.isupper() else part
        return name, get_args(mappings[0])[1]
    return part.lower(), None


def _resolve(parts: Sequence[str], doc: Mapping[str, Any]) -> tuple[list[str], Any]:
    """The key path a variable's name spells (key names in their case, names matched as the docstring says)
    and the type of the key it sets (``None``: no such key)."""
    path: list[str] = []
    kind: Any = Settings
    node: Any = doc
    for part in parts:
        key, kind = _step(kind, part, node)
        path.append(key)
        node = node.get(key) if isinstance(node, dict) else None
    return path, kind


def _nullable(kind: Any) -> bool:
    members = _members(kind)
    return NoneType in members and not any(m in (str, SecretStr) for m in members)


def _nest(path: Sequence[str], value: Any) -> dict[str, Any]:
    for key in reversed(path[1:]):
        value = {key: value}
    return {path[0]: value}


def from_environment(
    environ: Mapping[str, str], doc: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, ...]]]:
    """The ``CAMSIFT_*`` variables of ``environ`` as a config document, and the key path each one sets.

    Args:
        environ: The environment.
        doc: The config file's document, whose camera, source and channel names the variables' names match.

    Returns:
        ``(document, key paths)``; values are decoded as the module docstring says, and validated
        later with the rest of the config. A name that is no key is kept, so validation reports it.

    Raises:
        ConfigError: a list or mapping value is not valid YAML (the message names the variable).
    """
    found: dict[str, Any] = {}
    paths: list[tuple[str, ...]] = []
    for name, value in sorted(environ.items()):
        if not name.startswith(PREFIX) or name in NOT_KEYS:
            continue
        path, kind = _resolve(name[len(PREFIX) :].split(_NESTED), doc)
        try:
            decoded = _Variable(path, value, null=_nullable(kind))() if kind is not None else {}
        except _NotYamlError as err:
            raise ConfigError(f"environment variable {name}: not valid YAML: {err}") from err
        except SettingsError as err:
            raise ConfigError(f"environment variable {name}: {err}") from err
        merge(found, decoded or _nest(path, value))
        paths.append(tuple(path))
    return found, paths


def merge(doc: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Merge ``changes`` into ``doc`` key by key (mappings merged, anything else replaced), in place."""
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(doc.get(key), dict):
            merge(doc[key], value)
        else:
            doc[key] = value
