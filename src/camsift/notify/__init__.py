"""Telling the owner: notifications through apprise, with rules, a durable outbox, a digest and problem alerts.

Parts:

- `camsift.notify.senders`: one channel per apprise URL (email, Slack, Telegram,
  ntfy, Discord, Pushover, Pushbullet, a JSON webhook …); URLs are secrets and
  never logged;
- `camsift.notify.rules`: which events notify which channels, and the messages;
- `camsift.notify.notifier`: `Notifier`, the service's listener and sender
  thread over the outbox (`camsift.store.outbox`);
- `send_test`: a test message with a picture to each channel (``camsift notify test``).

Example:
    >>> from camsift.notify import Notifier
    >>> listeners, companions = [Notifier(settings)], []  # doctest: +SKIP
"""

from camsift.notify.notifier import Notifier
from camsift.notify.sample import Delivery, sample_picture, send_test
from camsift.store.outbox import Message

__all__ = ["Delivery", "Message", "Notifier", "sample_picture", "send_test"]
