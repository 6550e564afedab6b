"""Senders: deliver one message to one channel. The only kind is apprise, which speaks to ~100 services.

A channel's URL holds its tokens and passwords, so nothing here ever logs or
raises it: errors name the channel and carry apprise's reason with every part
of the URL replaced by ``***`` (`Redactor`), and apprise's own log lines are
kept out of camsift's log.

Example:
    >>> sender = create_sender("phone", NotifyChannel(url="ntfy://ntfy.sh/my-topic"))  # doctest: +SKIP
    >>> sender.send(Message("test", "test", "Hello", "from camsift"))  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from camsift.config import NotifyChannel
from camsift.config.notify import apprise_for, unusable
from camsift.errors import ConfigError, NotifyError
from camsift.store.outbox import Message

if TYPE_CHECKING:
    import apprise

__all__ = ["Redactor", "Sender", "create_sender", "register"]

SEND_TIMEOUT_S = 30.0
"""Longest one delivery may take (a slow mail server with an attachment); then it counts as failed."""


class Sender(Protocol):
    """Delivers messages to one channel.

    Attributes:
        name: The channel's name (``notify.channels.<name>``), the only thing about it that may be logged.
    """

    name: str

    def send(self, message: Message, attach: bool = True) -> None:
        """Deliver ``message`` (with its picture when ``attach`` and the channel supports it).

        Raises:
            NotifyError: the channel did not accept it; the message names the channel, never its URL.
        """
        ...


SenderFactory = Callable[[str, NotifyChannel], Sender]
_SENDERS: dict[str, SenderFactory] = {}


def register(kind: str) -> Callable[[SenderFactory], SenderFactory]:
    """Class decorator: make a sender kind available to `create_sender`."""

    def add(factory: SenderFactory) -> SenderFactory:
        _SENDERS[kind] = factory
        return factory

    return add


def create_sender(name: str, channel: NotifyChannel) -> Sender:
    """The sender of channel ``name``.

    Raises:
        ConfigError: the URL is not one the sender understands (the message names the channel and the scheme).
    """
    return _SENDERS["apprise"](name, channel)


_PART = re.compile(r"[^/:@?&=#,;]{3,}")


class Redactor:
    """Replaces every part of a URL (user, password, host, path, query values) found in a text with ``***``.

    Args:
        url: The secret URL.
    """

    def __init__(self, url: str) -> None:
        rest = url.split("://", 1)[-1]
        parts = urlsplit("x://" + rest)
        keys = {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
        found = {p for p in _PART.findall(rest) if p not in keys}
        found |= {unquote(p) for p in found}
        self._parts = sorted((p for p in found if len(p) >= 3), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` with the URL's parts replaced."""
        for part in self._parts:
            text = text.replace(part, "***")
        return text


@register("apprise")
class AppriseSender:
    """A channel through `apprise` (its URL picks the service).

    Args:
        name: Channel name.
        channel: Its config (URL, whether to attach pictures).

    Raises:
        ConfigError: apprise does not understand the URL.
    """

    def __init__(self, name: str, channel: NotifyChannel) -> None:
        self.name = name
        self.attach = channel.attach
        url = channel.url.get_secret_value()
        self._redact = Redactor(url)
        sender = apprise_for(url)
        if sender is None:
            raise ConfigError(f"notify.channels.{name}.url: {unusable(url)}")
        self._apprise: apprise.Apprise = sender

    def send(self, message: Message, attach: bool = True) -> None:
        """Deliver ``message``; see `Sender.send`."""
        import apprise

        picture = message.attach if attach and self.attach and message.attach and message.attach.is_file() else None
        try:
            result = self._apprise.notify(
                body=message.body,
                title=message.title,
                notify_type=apprise.NotifyType.FAILURE if message.kind == "problem" else apprise.NotifyType.INFO,
                attach=apprise.AppriseAttachment(str(picture)) if picture else None,
                timeout=SEND_TIMEOUT_S,
            )
        except Exception as err:  # noqa: BLE001 - apprise's plugins are many: none may take the sender thread down
            raise NotifyError(f"channel {self.name}: {self._redact(f'{type(err).__name__}: {err}')}") from None
        if not result:
            raise NotifyError(f"channel {self.name}: {self._reason(result)}")

    def _reason(self, result: apprise.AppriseResult) -> str:
        lines = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
        reason = " ".join(line.strip() for line in lines[-2:]) or f"not delivered ({result.status.name.lower()})"
        return self._redact(reason)[:300]
