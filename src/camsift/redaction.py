"""Secrets out of what camsift shows: the one place that redacts configuration values and camera URLs.

Camera URLs carry credentials in two ways: the userinfo (``rtsp://admin:pw@host``)
and the query string (Reolink's ``?user=admin&password=pw``, Dahua/Amcrest
``?authbasic=…``, HTTP snapshot URLs with ``token=`` or ``apikey=``). `redact_url`
replaces both; `redact` walks a JSON document (a configuration dump) and
replaces values under secret-looking keys and every URL inside strings.

Example:
    >>> redact_url("rtsp://admin:pw@10.0.0.5:554/h264Preview_01_main")
    'rtsp://**********@10.0.0.5:554/h264Preview_01_main'
    >>> redact_url("http://cam/cgi-bin/api.cgi?cmd=Snap&channel=0&user=admin&password=pw")
    'http://cam/cgi-bin/api.cgi?cmd=Snap&channel=0&user=**********&password=**********'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["REDACTED", "is_secret_key", "redact", "redact_url"]

REDACTED = "**********"
"""What a secret is replaced with (pydantic's ``SecretStr`` shows the same)."""

_SECRET_KEY = re.compile(
    r"pass|pwd|secret|token|hash|key_file|api[_-]?key|apikey|auth|credential|signature|sig$|^sign$|session|"
    r"pas$|^user(name)?$|^usr$|^login(use)?$|^u$|^p$|^code$|^access[_-]?key|^private",
    re.IGNORECASE,
)
"""Names of query parameters and config keys whose values are secrets (a camera's login name included:
half of a credential, and what an attacker tries first)."""

_CONFIG_SECRET_KEY = re.compile(r"pass|secret|token|hash|key_file|api[_-]?key|apikey", re.IGNORECASE)
"""Config keys (not query parameters) whose values are secrets; ``username`` keys stay readable there."""

_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<rest>[^\s\"'<>]*)", re.IGNORECASE)
_USERINFO = re.compile(r"^(?P<userinfo>[^/?#@]*)@")
_PARAM = re.compile(r"(?P<sep>[?&;])(?P<key>[^=&;#]+)=(?P<value>[^&;#]*)")


def is_secret_key(name: str) -> bool:
    """Whether a query parameter's or field's name says its value is a secret (``password``, ``token``,
    ``api_key``, ``user`` …)."""
    return bool(_SECRET_KEY.search(name.strip()))


def _redact_match(match: re.Match[str]) -> str:
    rest = _USERINFO.sub(f"{REDACTED}@", match.group("rest"), count=1)
    head, mark, query = rest.partition("?")
    if mark:
        query = _PARAM.sub(_redact_param, "?" + query)[1:]
    return match.group("scheme") + head + mark + query


def _redact_param(match: re.Match[str]) -> str:
    key, value = match.group("key"), match.group("value")
    if value and is_secret_key(key):
        value = REDACTED
    return f"{match.group('sep')}{key}={value}"


def redact_url(text: str) -> str:
    """``text`` with every URL's userinfo and secret-looking query parameter values replaced by `REDACTED`.

    Works on any text that contains URLs (an ffmpeg command line, a log line), not only on a bare URL.
    """
    return _URL.sub(_redact_match, text)


def redact(value: Any, key: str = "") -> Any:
    """A JSON document with secrets replaced: values under keys naming a password, token, secret, API key
    or hash, and credentials inside URLs (`redact_url`).

    ``SecretStr`` fields (apprise URLs, stream and MQTT passwords) are already `REDACTED` in pydantic's
    JSON dump.

    Args:
        value: A JSON-ready value (dicts, lists, strings, numbers, ``None``).
        key: The key ``value`` was found under (its parent's).

    Returns:
        A copy with secrets replaced; the input is not changed.
    """
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        if value and _CONFIG_SECRET_KEY.search(key):
            return REDACTED
        return redact_url(value)
    return value
