"""Channels through apprise against real local peers: an SMTP server, a JSON webhook, Slack-style webhooks.

apprise's ``slack://`` always posts to hooks.slack.com (its docs offer no other host), so its plugin is
tested with that address swapped for the receiver's (monkeypatch, test only). Mattermost's incoming
webhooks take Slack's message format and apprise's ``mmost://`` can point at any host, so that one runs
unchanged against loopback.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from camsift.config import NotifyChannel
from camsift.errors import ConfigError, NotifyError
from camsift.notify import sample_picture
from camsift.notify.senders import Redactor, create_sender
from camsift.store.outbox import Message
from helpers.notify import attachments, http_receiver, smtp_receiver
from helpers.service import free_port


@pytest.fixture
def picture(shared_data: Path) -> Path:
    """A real picture (a rocket on its launch pad: public domain, from scikit-image)."""
    return shared_data / "images" / "skimage_rocket.jpg"


def alert(picture: Path | None) -> Message:
    return Message("event:porch-1", "event", "Raccoon on porch", "Raccoon seen on porch at 02:10:00.", picture)


def test_email_arrives_with_the_snapshot_attached(picture: Path) -> None:
    with smtp_receiver() as smtp:
        url = f"mailto://127.0.0.1:{smtp.port}?from=camsift@example.org&to=owner@example.org"
        create_sender("mail", NotifyChannel(url=url)).send(alert(picture))

    [mail] = smtp.mails
    assert mail["Subject"] == "Raccoon on porch"
    assert mail["To"] == "owner@example.org"
    assert attachments(mail) == {picture.name: picture.read_bytes()}
    body = mail.get_body(("plain", "html"))
    assert body is not None
    assert "Raccoon seen on porch" in body.get_content()


def test_json_webhook_gets_title_body_and_the_picture(picture: Path) -> None:
    with http_receiver() as hook:
        create_sender("hook", NotifyChannel(url=f"json://127.0.0.1:{hook.port}/camsift")).send(alert(picture))

    [request] = hook.received()
    doc = request.json()
    assert (request.method, request.path) == ("POST", "/camsift")
    assert (doc["title"], doc["message"]) == ("Raccoon on porch", "Raccoon seen on porch at 02:10:00.")
    assert [base64.b64decode(a["base64"]) for a in doc["attachments"]] == [picture.read_bytes()]


def test_no_attachment_when_the_channel_says_so_or_the_picture_is_gone(picture: Path, tmp_path: Path) -> None:
    with http_receiver() as hook:
        url = f"json://127.0.0.1:{hook.port}/x"
        create_sender("hook", NotifyChannel(url=url, attach=False)).send(alert(picture))
        create_sender("hook", NotifyChannel(url=url)).send(alert(tmp_path / "deleted-by-retention.jpg"))

    assert [r.json()["attachments"] for r in hook.received()] == [[], []]


def test_slack_style_webhook_gets_the_text(picture: Path) -> None:
    with http_receiver() as hook:
        create_sender("team", NotifyChannel(url=f"mmost://127.0.0.1:{hook.port}/s3cr3ttoken")).send(alert(picture))

    [request] = hook.received()
    assert request.path == "/hooks/s3cr3ttoken"
    assert request.json()["text"].splitlines() == ["Raccoon on porch", "Raccoon seen on porch at 02:10:00."]


class Keep(logging.Handler):
    """Keeps every record that reaches the root logger (where camsift's log lines go)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_channel_that_is_down_fails_without_showing_its_secrets() -> None:
    url = f"json://camsift:pa55word-xyz@127.0.0.1:{free_port()}/t0ken-abc?to=owner"
    keep, root = Keep(), logging.getLogger()
    root.addHandler(keep)
    level, root.level = root.level, logging.DEBUG
    try:
        sender = create_sender("hook", NotifyChannel(url=url))
        with pytest.raises(NotifyError, match=r"^channel hook: ") as failed:
            sender.send(alert(None))
    finally:
        root.removeHandler(keep)
        root.setLevel(level)

    shown = str(failed.value) + "\n".join(r.getMessage() for r in keep.records)
    for secret in ("pa55word-xyz", "t0ken-abc", "camsift:"):
        assert secret not in shown
    assert not [r for r in keep.records if r.name.startswith("apprise")]  # apprise's own lines stay out


def test_a_url_apprise_does_not_know_is_a_config_error_without_the_url() -> None:
    with pytest.raises(ConfigError, match=r"notify\.channels\.x\.url: .*scheme 'nosuch'") as bad:
        create_sender("x", NotifyChannel(url="nosuch://s3cret@host"))
    assert "s3cret" not in str(bad.value)


@pytest.mark.parametrize(
    ("url", "text", "expected"),
    [
        (
            "tgram://123456:ABCdef/987",
            "POST to 123456:ABCdef failed for chat 987",
            "POST to ***:*** failed for chat ***",
        ),
        ("mailtos://me:p%40ss@gmail.com?to=you@x.org", "login p@ss refused", "login *** refused"),
        ("json://host/x?token=abc123", "bad token abc123", "bad token ***"),
    ],
)
def test_redactor(url: str, text: str, expected: str) -> None:
    assert Redactor(url)(text) == expected


def test_the_sample_picture_is_a_jpeg(tmp_path: Path) -> None:
    from PIL import Image

    with Image.open(sample_picture(tmp_path / "s.jpg")) as image:
        assert (image.format, image.size) == ("JPEG", (640, 360))


def test_slack_webhook_payload_redirected_to_loopback(picture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """apprise's own Slack plugin, its webhook address swapped for the receiver's (a test-only redirect)."""
    from apprise.plugins.slack import NotifySlack

    with http_receiver(reply=b"ok") as hook:  # what Slack answers
        monkeypatch.setattr(NotifySlack, "webhook_url", f"http://127.0.0.1:{hook.port}/services")
        url = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7/#camsift"
        create_sender("slack", NotifyChannel(url=url)).send(alert(picture))

    [request] = hook.received()
    assert request.path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
    doc = request.json()
    assert doc["channel"] == "#camsift"
    assert "Raccoon seen on porch at 02:10:00." in json.dumps(doc)


def test_ntfy_server_of_ones_own_gets_the_picture_with_title_and_message(picture: Path) -> None:
    from urllib.parse import parse_qs, urlsplit

    with http_receiver() as ntfy:
        create_sender("phone", NotifyChannel(url=f"ntfy://127.0.0.1:{ntfy.port}/porch-alerts")).send(alert(picture))

    [request] = ntfy.received()
    where = urlsplit(request.path)
    assert (request.method, where.path, request.body) == ("POST", "/porch-alerts", picture.read_bytes())
    query = parse_qs(where.query)
    assert (query["title"], query["message"]) == (["Raccoon on porch"], ["Raccoon seen on porch at 02:10:00."])
