"""The review grid's buttons (``POST /review/{action}``) over real events scanned from ``../shared/data`` clips."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from camsift.store import EventMarks, Store
from helpers.web import Browser

pytestmark = pytest.mark.slow  # the first test scans three real clips (about 10 s)


def shown(b: Browser, **params: object) -> list[str]:
    """Ids of the events the grid shows for ``params`` (newest first, as the API lists them)."""
    return [str(e["id"]) for e in b.client.get("/api/events", params=params).json()]


def press(
    b: Browser,
    action: str,
    selected: Sequence[str] = (),
    ids: Sequence[str] = (),
    back: str = "/",
    **form: str,
) -> Any:
    """Post the grid form as a button does (with the CSRF token unless ``form`` says otherwise); not followed."""
    data = {"csrf_token": b.csrf, "back": back, "selected": list(selected), "ids": list(ids), **form}
    return b.client.post(f"/review/{action}", data=data, follow_redirects=False)


def flash(b: Browser, response: Any) -> str:
    """The message the page a redirect goes back to shows (kept on the server for this session, never in the URL)."""
    assert response.status_code == 303, response.text
    assert "msg=" not in response.headers["location"]
    found = re.search(r'<p class="flash" role="status">(.*?)</p>', b.client.get(response.headers["location"]).text)
    assert found, "no message on the page"
    return found.group(1)


def marks(b: Browser, ids: Sequence[str]) -> dict[str, EventMarks]:
    with Store(b.settings.data_dir) as store:
        return store.marks(list(ids))


def test_grid_has_a_labelled_checkbox_per_card_and_the_buttons(browser: Browser) -> None:
    html = browser.client.get("/").text

    boxes = re.findall(r'<label class="pick"><input type="checkbox" name="selected" value="([^"]+)"> select', html)
    assert len(boxes) == 3, "one card per clip: street, corridor and hall"
    assert sorted(i for box in boxes for i in box.split()) == sorted(shown(browser))
    for action in ("reviewed", "pin", "unpin", "delete"):
        assert f'formaction="/review/{action}"' in html
    assert re.search(r'formaction="/review/delete"[^>]*class="danger"\s+data-confirm="[^"]+">Delete selected', html)
    assert 'id="mark-shown" name="scope" value="shown"' in html
    assert "p pin/unpin" in html


@pytest.mark.parametrize(
    ("action", "before", "mark", "after", "message"),
    [
        ("pin", False, "pinned", True, "2 events pinned"),
        ("unpin", True, "pinned", False, "2 events unpinned"),
        ("reviewed", False, "reviewed", True, "2 events marked reviewed"),
    ],
)
def test_buttons_change_only_the_selected_events(
    browser: Browser, action: str, before: bool, mark: str, after: bool, message: str
) -> None:
    every = shown(browser)
    with Store(browser.settings.data_dir) as store:
        store.mark(every, **{mark: before})
    chosen, others = every[:2], every[2:]
    assert others

    response = press(browser, action, selected=chosen, ids=every, back="/?camera=")

    assert flash(browser, response) == message
    assert urlsplit(response.headers["location"]).path == "/"
    now = marks(browser, every)
    assert {getattr(now[i], mark) for i in chosen} == {after}
    assert {getattr(now[i], mark) for i in others} == {before}
    page = browser.client.get(response.headers["location"]).text
    assert '<p class="flash"' not in page, "a message is shown once"


def test_pinned_events_are_retained_and_marked_in_the_grid(browser: Browser) -> None:
    chosen = shown(browser, camera="corridor")[:2]

    press(browser, "pin", selected=chosen)

    assert sorted(shown(browser, pinned=True)) == sorted(chosen)
    html = browser.client.get("/").text
    for event_id in chosen:
        pattern = rf'<li class="card[^"]*" data-id="[^"]+" data-events="[^"]*\b{event_id}\b.*?</li>'
        card = re.search(pattern, html, re.DOTALL)
        assert card
        assert " pinned" in card.group(0).split('"')[1]
        assert '<span class="pin-mark"> · 📌 pinned</span>' in card.group(0)


@pytest.mark.parametrize(
    ("selected", "form"),
    [([], {}), (["first"], {"scope": "shown"})],
    ids=["nothing-selected", "mark-shown-button"],
)
def test_reviewed_marks_every_event_shown(browser: Browser, selected: list[str], form: dict[str, str]) -> None:
    corridor = shown(browser, camera="corridor")
    chosen = corridor[:1] if selected else []

    response = press(browser, "reviewed", selected=chosen, ids=corridor, back="/?camera=corridor", **form)

    assert flash(browser, response) == f"{len(corridor)} events marked reviewed"
    assert parse_qs(urlsplit(response.headers["location"]).query)["camera"] == ["corridor"]
    assert shown(browser, camera="corridor", reviewed=False) == []
    assert shown(browser, camera="street", reviewed=True) == []


def test_delete_selected_removes_the_events_and_their_pictures(browser: Browser) -> None:
    every = shown(browser)
    chosen = shown(browser, camera="corridor")[:2]
    with Store(browser.settings.data_dir) as store:
        events = [store.event(i) for i in chosen]
    pictures = [p for e in events if e is not None for p in (e.snapshot, e.snapshot_annotated) if p is not None]
    assert len(pictures) == 4
    assert all(p.is_file() for p in pictures)

    response = press(browser, "delete", selected=chosen, ids=every)

    assert flash(browser, response) == "2 events deleted"
    assert not any(p.exists() for p in pictures)
    assert shown(browser) == [i for i in every if i not in chosen]
    for event_id in chosen:
        assert browser.client.get(f"/api/events/{event_id}").status_code == 404


@pytest.mark.parametrize(("action", "message"), [("pin", "1 event pinned"), ("delete", "1 event deleted")])
def test_an_unknown_id_is_skipped(browser: Browser, action: str, message: str) -> None:
    real = shown(browser, camera="hall")[0]

    response = press(browser, action, selected=[real, "no-such-event", real])

    assert flash(browser, response) == f"{message}; 1 skipped (no longer stored)"
    assert marks(browser, [real]) == ({real: EventMarks(reviewed=False, pinned=True)} if action == "pin" else {})


def test_nothing_selected_changes_nothing(browser: Browser) -> None:
    every = shown(browser)

    assert flash(browser, press(browser, "delete", ids=every)) == "no events selected"
    assert shown(browser) == every


@pytest.mark.parametrize("action", ["pin", "delete", "reviewed"])
@pytest.mark.parametrize("token", [None, "", "forged"], ids=["no-field", "empty", "wrong"])
def test_without_the_csrf_token_nothing_changes(browser: Browser, action: str, token: str | None) -> None:
    every = shown(browser)
    data: dict[str, Any] = {"selected": every[:2], "ids": every, "back": "/"}
    if token is not None:
        data["csrf_token"] = token

    response = browser.client.post(f"/review/{action}", data=data, follow_redirects=False)

    assert response.status_code == 403
    assert shown(browser) == every
    assert set(marks(browser, every).values()) == {EventMarks(reviewed=False, pinned=False)}


@pytest.mark.parametrize(
    ("back", "location"),
    [
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        ("/?camera=street&reviewed=no", "/?camera=street&reviewed=no"),
    ],
)
def test_back_is_followed_only_within_the_site(browser: Browser, back: str, location: str) -> None:
    chosen = shown(browser)[:1]

    response = press(browser, "pin", selected=chosen, back=back)

    assert flash(browser, response) == "1 event pinned"
    assert response.headers["location"] == location


def test_the_grid_comes_back_to_itself_without_the_old_message(browser: Browser) -> None:
    html = browser.client.get("/", params={"camera": "street", "msg": "3 events pinned"}).text

    assert '<input type="hidden" name="back" value="/?camera=street">' in html


@pytest.mark.parametrize("path", ["/", "/cameras", "/login"])
def test_nobody_can_put_text_in_the_banner_through_the_url(browser: Browser, path: str) -> None:
    forged = "Log in again at https://evil.example"

    page = browser.client.get(path, params={"msg": forged})
    after_login = browser.client.get("/login", params={"next": f"/?msg={forged}"})

    assert forged not in page.text
    assert "evil.example" not in page.text
    assert '<p class="flash"' not in page.text
    assert '<p class="flash"' not in after_login.text


def test_a_message_belongs_to_its_session(browser: Browser) -> None:
    from helpers.web import TestClient, log_in

    other = TestClient(browser.client.app, base_url="https://testserver")  # ann in a second browser
    assert log_in(other).status_code == 303
    response = press(browser, "pin", selected=shown(browser)[:1])

    assert '<p class="flash"' not in other.get("/").text
    assert flash(browser, response) == "1 event pinned"
