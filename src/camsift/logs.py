"""Logging of the service: structlog, configured in this one place.

Lines are JSON when stderr is not a terminal (systemd's journal, a log
shipper) and coloured key=value for a person at a terminal. The standard
library's ``logging`` (pyftpdlib logs through it) goes through the same
renderer, so every line has the same shape. Secrets never reach a log: URLs go
through `redact` first (password and secret query values masked), and no message
carries a password.

Example:
    >>> configure()  # doctest: +SKIP
    >>> get_logger("camsift.service").info("job done", path="/srv/a.mp4", events=2)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import structlog

__all__ = ["configure", "get_logger", "redact"]


def configure(json: bool | None = None, level: int = logging.INFO) -> None:
    """Send structlog and standard-library logging to stderr, one event per line.

    Args:
        json: JSON lines; default: when stderr is not a terminal.
        level: Lowest level shown.
    """
    json = not sys.stderr.isatty() if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=True)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for chatty in ("pyftpdlib", "watchfiles", "alembic"):  # a line per FTP command, file change, migration step
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))


class _StderrHandler(logging.StreamHandler[Any]):
    """A handler writing to whatever ``sys.stderr`` is when a line is logged.

    A plain ``StreamHandler(sys.stderr)`` keeps the stream it was given; once
    that stream is swapped and closed (a test runner's capture, a daemon that
    redirects stderr) every later line fails with "I/O operation on closed file".
    """

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A logger; its lines carry ``logger=<name>``."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


_SECRET_PARAM = re.compile(
    r"(token|secret|password|passwd|pwd|pass|key|sig|signature|auth|authorization|credential|jwt)$", re.IGNORECASE
)
"""Query parameter names that carry a secret: those ending with one of these words (``token``, ``access_token``,
``api_key``, ``apikey``, ``X-Amz-Signature``, ``auth``, ``password`` …). Masking a harmless value is better than
logging a secret one."""


def redact(url: str) -> str:
    """``url`` without its secrets: the password and the values of query parameters that name a secret.

    Everything else is kept as written (percent-encoding, parameter order, an IPv6 host's brackets).

    Example:
        >>> redact("rtsp://admin:secret@cam/x")
        'rtsp://admin:***@cam/x'
        >>> redact("http://cam/video?channel=1&api_key=abc")
        'http://cam/video?channel=1&api_key=***'
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
    query = "&".join(_redact_param(param) for param in parts.query.split("&"))
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _redact_param(param: str) -> str:
    """``name=***`` for a query parameter ``name=value`` whose name is a secret's (`_SECRET_PARAM`), else ``param``."""
    name, equals, value = param.partition("=")
    return f"{name}=***" if equals and value and _SECRET_PARAM.search(unquote_plus(name)) else param
