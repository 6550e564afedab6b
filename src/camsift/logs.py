"""Logging of the service: structlog, configured in this one place.

Lines are JSON when stderr is not a terminal (systemd's journal, a log
shipper) and coloured key=value for a person at a terminal. The standard
library's ``logging`` (pyftpdlib logs through it) goes through the same
renderer, so every line has the same shape. Secrets never reach a log: URLs go
through `redact` first, and no message carries a password.

Example:
    >>> configure()  # doctest: +SKIP
    >>> get_logger("camsift.service").info("job done", path="/srv/a.mp4", events=2)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sys
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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


def redact(url: str) -> str:
    """``url`` without its password: ``rtsp://admin:secret@cam/x`` -> ``rtsp://admin:***@cam/x``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
