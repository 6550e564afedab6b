"""``camsift notify test``: a test message with a picture, straight to each channel (no outbox, no rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from camsift.config import Settings
from camsift.detections import Detections
from camsift.errors import ConfigError, NotifyError
from camsift.events import Snapshot
from camsift.notify.senders import create_sender
from camsift.store.outbox import Message

__all__ = ["Delivery", "sample_picture", "send_test"]


@dataclass(frozen=True)
class Delivery:
    """How a test message went to one channel.

    Attributes:
        channel: Channel name.
        error: Why it was not delivered (one line, no secret); ``None`` when it was.
    """

    channel: str
    error: str | None


def sample_picture(path: Path, when: datetime | None = None) -> Path:
    """Draw a 640x360 JPEG that looks like an alert's annotated snapshot (a figure boxed as a person).

    Made on the spot (camsift ships no picture), with the same drawing as real snapshots (`camsift.annotate`).

    Args:
        path: Where to write it (the folder must exist).
        when: Time written in the caption; default now.

    Returns:
        ``path``.
    """
    from PIL import Image, ImageDraw

    from camsift.annotate import annotate

    height, width = 360, 640
    sky = np.linspace(70, 150, height, dtype=np.float32)[:, None, None] * np.array([0.8, 0.9, 1.0], np.float32)
    picture = Image.fromarray(np.broadcast_to(sky, (height, width, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 250, width, height), fill=(60, 70, 60))
    draw.ellipse((300, 100, 340, 140), fill=(30, 30, 35))  # head
    draw.rounded_rectangle((290, 140, 350, 300), radius=14, fill=(30, 30, 35))  # body
    detections = Detections(np.array([[284, 94, 356, 304]]), np.array([0.93]), np.array(["person"]))
    caption = f"camsift test {(when or datetime.now(UTC)).astimezone():%Y-%m-%d %H:%M:%S}"
    annotated = annotate(np.asarray(picture), Snapshot(0.0, None, detections, 0), caption)
    Image.fromarray(annotated).save(path, quality=85)
    return path


def send_test(settings: Settings, channels: list[str] | None = None, picture: Path | None = None) -> list[Delivery]:
    """Send a test message with ``picture`` to ``channels`` (default: every configured channel), now.

    Args:
        settings: The configuration (``notify.channels``).
        channels: Channel names; ``None`` = all.
        picture: JPEG to attach; default: `sample_picture` drawn in a temporary folder.

    Returns:
        One `Delivery` per channel, in the order asked.

    Raises:
        ConfigError: no channel is configured, a name is unknown, or a URL is not one apprise can use.
    """
    import tempfile

    configured = settings.notify.channels
    if not configured:
        raise ConfigError("notify.channels: no channel configured (see camsift.example.yaml)")
    names = channels or list(configured)
    unknown = [n for n in names if n not in configured]
    if unknown:
        raise ConfigError(f"no channel named {', '.join(map(repr, unknown))} (channels: {', '.join(configured)})")
    senders = {name: create_sender(name, configured[name]) for name in names}
    with tempfile.TemporaryDirectory(prefix="camsift-test-") as folder:
        attach = picture or sample_picture(Path(folder) / "camsift-test.jpg")
        body = (
            f"This is a test message from camsift, sent at {datetime.now(UTC).astimezone(settings.tz()):%H:%M:%S}.\n"
            "If you can read this (and see the picture), alerts will reach you here."
        )
        results = []
        for name, sender in senders.items():
            message = Message("test", "test", f"camsift test ({name})", body, attach)
            try:
                sender.send(message)
            except NotifyError as err:
                results.append(Delivery(name, str(err)))
            else:
                results.append(Delivery(name, None))
    return results
