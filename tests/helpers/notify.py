"""Real local peers for the notification tests: an HTTP receiver (webhooks) and an SMTP server (aiosmtpd).

Both listen on loopback only and keep what they received in memory.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from helpers.service import free_port


@dataclass(frozen=True)
class Request:
    """One HTTP request received: method, path, body bytes."""

    method: str
    path: str
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class HttpReceiver:
    """A webhook endpoint on ``127.0.0.1:<port>`` that answers 200 and ``reply`` to every POST/PUT and keeps
    the requests.

    `down` stops listening (the port refuses connections, as a channel that is down), `up` listens again
    on the same port.
    """

    def __init__(self, port: int | None = None, reply: bytes = b"{}") -> None:
        self.port = port or free_port()
        self.reply = reply
        self.requests: list[Request] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def up(self) -> HttpReceiver:
        """Start listening."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _receive(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(Request(self.command, self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            do_POST = do_PUT = _receive  # noqa: N815 - http.server's names

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def received(self) -> list[Request]:
        """A copy of the requests so far."""
        with self._lock:
            return list(self.requests)


@contextmanager
def http_receiver(reply: bytes = b"{}") -> Iterator[HttpReceiver]:
    """An `HttpReceiver`, listening, stopped afterwards."""
    receiver = HttpReceiver(reply=reply).up()
    try:
        yield receiver
    finally:
        receiver.down()


@dataclass
class SmtpReceiver:
    """An SMTP server (aiosmtpd) on ``127.0.0.1:<port>`` keeping every mail it accepts, parsed."""

    port: int
    mails: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the mail."""
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.mails.append(parsed)
        return "250 OK"


@contextmanager
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """A running `SmtpReceiver`, stopped afterwards."""
    from aiosmtpd.controller import Controller

    receiver = SmtpReceiver(free_port())
    controller = Controller(receiver, hostname="127.0.0.1", port=receiver.port)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()


def attachments(mail: EmailMessage) -> dict[str, bytes]:
    """The attachments of a mail by file name."""
    found = {}
    for part in mail.iter_attachments():
        assert isinstance(part, EmailMessage)
        content = part.get_content()
        assert isinstance(content, bytes)
        found[part.get_filename() or ""] = content
    return found
