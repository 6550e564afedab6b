"""The "false positive" button: confirmed, shown before, de-duplicated, undone, and narrow on real footage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from camsift import load_config, scan
from camsift.store import Store
from helpers.web import Browser, web_settings

pytestmark = pytest.mark.slow  # the first test scans three real clips (about 10 s)


def corridor(b: Browser) -> list[dict[str, object]]:
    """The two people walking one after the other through the corridor, first first."""
    found = b.client.get("/api/events", params={"camera": "corridor"}).json()
    return sorted(found, key=lambda e: e["start_time"])


def listed(b: Browser) -> list[str]:
    settings = load_config(environ={}, overrides={"data_dir": str(b.settings.data_dir)})
    return [str(f.event) for f in settings.for_camera("corridor").objects.false_positives]


def test_the_button_asks_first_and_shows_what_it_would_hide(browser: Browser) -> None:
    first, second = corridor(browser)
    page = browser.client.get(f"/events/{first['id']}").text
    assert f'href="/events/{first["id"]}/false_positive" id="false-positive"' in page

    asked = browser.client.post(
        f"/events/{first['id']}/action", data={"action": "false_positive", "csrf_token": browser.csrf}
    )

    assert asked.url.path == f"/events/{first['id']}/false_positive"
    assert listed(browser) == []
    assert "moved while in view: it looks real" in asked.text
    # The second person's best box is at the same place, as sure: shown as what the mark would match.
    assert f'href="/events/{second["id"]}"' in asked.text
    assert "1 stored person event on corridor were seen at this place" in asked.text


def test_confirmed_once_listed_once_and_undone(browser: Browser) -> None:
    first, _ = corridor(browser)
    form = {"action": "false_positive", "confirm": "yes", "csrf_token": browser.csrf}

    for _ in range(2):
        done = browser.client.post(f"/events/{first['id']}/action", data=form)
        assert "will be ignored from now on" in done.text

    assert listed(browser) == [first["id"]]
    assert 'id="undo-false-positive"' in done.text
    cameras = browser.client.get("/cameras").text
    assert "False positives (1)" in cameras
    undo = re.search(r'action="(/cameras/corridor/false_positives/1/remove)"', done.text)
    assert undo
    refused = browser.client.post(undo.group(1), data={"back": f"/events/{first['id']}"})
    assert refused.status_code == 403
    assert listed(browser) == [first["id"]]

    undone = browser.client.post(undo.group(1), data={"back": f"/events/{first['id']}", "csrf_token": browser.csrf})

    assert undone.url.path == f"/events/{first['id']}"
    assert "false positive 1 removed" in undone.text
    assert listed(browser) == []
    assert 'id="false-positive"' in undone.text


def test_it_does_not_hide_another_person_walking_through_the_same_place(
    browser: Browser, data_dir: Path, tmp_path: Path
) -> None:
    first, second = corridor(browser)
    form = {"action": "false_positive", "confirm": "yes", "csrf_token": browser.csrf}
    browser.client.post(f"/events/{first['id']}/action", data=form)
    with Store(data_dir) as store:
        stored = store.event(str(second["id"]))
    assert stored is not None
    assert stored.source is not None

    marked = web_settings(tmp_path / "again")
    marked = marked.model_copy(
        update={"cameras": load_config(environ={}, overrides={"data_dir": str(data_dir)}).cameras}
    )
    assert scan([stored.source], marked, jobs=1, camera="corridor").files[0].events

    with Store(tmp_path / "again") as store:
        again = {e.id: e for e in store.events()}
    assert second["id"] in again, "the second person is still an event"
    assert again[str(second["id"])].end_s - again[str(second["id"])].start_s == pytest.approx(
        stored.end_s - stored.start_s, abs=1.0
    )
