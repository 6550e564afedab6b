"""End to end: real footage dropped in a watched folder, the real detector, ``camsift run``'s service with
the parts `configured_parts` adds, an SMTP server and a JSON webhook on loopback receiving the alert."""

from __future__ import annotations

import base64
import shutil
import threading
import time
from pathlib import Path

import pytest

from camsift.config import load_config
from camsift.service import Service, configured_parts
from camsift.store import Store
from camsift.store.outbox import Outbox
from helpers.notify import attachments, http_receiver, smtp_receiver
from helpers.service import wait_for


@pytest.mark.slow
def test_a_person_in_real_footage_reaches_email_and_webhook_once_with_the_snapshot(
    shared_data: Path, tmp_path: Path, data_dir: Path
) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "porch").mkdir(parents=True)
    with smtp_receiver() as smtp, http_receiver() as hook:
        channels = {
            "mail": {"url": f"mailto://127.0.0.1:{smtp.port}?from=camsift@example.org&to=owner@example.org"},
            "hook": {"url": f"json://127.0.0.1:{hook.port}/alerts"},
        }
        settings = load_config(
            environ={},
            overrides={
                "data_dir": str(data_dir),
                "timezone": "UTC",
                "sources": {"inbox": {"type": "folder", "path": str(inbox), "settle_s": 0.3}},
                "notify": {"channels": channels, "public_url": "https://cam.example.org"},
            },
        )
        listeners, companions = configured_parts(settings)
        service = Service(settings, listeners=listeners, companions=companions, workers=1)
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,))
        thread.start()
        try:
            # people on a stage for 10 s: several person events, one alarm (cooldown 60 s)
            shutil.copy(shared_data / "faces" / "short_hamilton_clip.mp4", inbox / "porch" / "hall.mp4")
            wait_for(lambda: smtp.mails and hook.received(), 180, "the alert by mail and webhook")
            time.sleep(2)  # nothing else may follow
        finally:
            stop.set()
            thread.join(timeout=60)

    with Store(data_dir) as store:
        events = store.events()
        sent = Outbox(store.engine).messages()
    assert {e.label for e in events} == {"person"}
    alarmed = next(e for e in events if f"event:{e.id}" == sent[0].message.key)
    assert alarmed.snapshot_annotated is not None
    picture = alarmed.snapshot_annotated.read_bytes()
    [mail], [request] = smtp.mails, hook.received()
    assert mail["Subject"] == request.json()["title"] == "Person on porch"
    assert list(attachments(mail).values()) == [picture]
    assert [base64.b64decode(a["base64"]) for a in request.json()["attachments"]] == [picture]
    lines = request.json()["message"].splitlines()
    assert lines[0].startswith("Person seen on porch at ")
    assert lines[-2:] == [
        f"Clip: https://cam.example.org/api/events/{alarmed.id}/clip.mp4",
        f"Event: https://cam.example.org/events/{alarmed.id}",
    ]
    assert sorted((q.channel, q.state, q.attempts) for q in sent) == [("hook", "sent", 1), ("mail", "sent", 1)]
