"""The web app in a real browser: Playwright driving Debian's Chromium (``apt-get install chromium``).

Screenshots of every step are saved under ``test-artifacts/web/`` (gitignored).
No browser is downloaded: the system's Chromium is used, and the tests skip
with a reason when it is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.service import wait_for
from helpers.web import CHROMIUM, PASSWORD, chromium, serve, web_settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)"),
]


@pytest.fixture
def server(data_dir: Path) -> Iterator[str]:
    """The web app over a copy of the real events, served by uvicorn on a free loopback port."""
    with serve(web_settings(data_dir)) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    """A Chromium page (headless, the system's executable)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium(server) as opened:
        yield opened


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Any, screenshot: str | None = None) -> None:
    """Open the app, be sent to the login page, log in as ann and land on the review grid."""
    page.goto("/")
    assert "/login" in page.url
    page.fill("input[name=username]", "ann")
    page.fill("input[name=password]", PASSWORD)
    if screenshot:
        shot(page, screenshot)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def api_event(page: Any, event_id: str) -> Any:
    """``GET /api/events/{id}`` with the page's session (``None`` when it is gone)."""
    response = page.request.get(f"/api/events/{event_id}")
    return response.json() if response.ok else None


def test_review_event_clip_faces_and_camera_settings(page: Any, faces_data: Path) -> None:
    log_in(page, "01-login")
    assert page.locator(".card").count() == 3  # one review item per clip
    shot(page, "02-review")

    page.select_option("select[name=camera]", "hall")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**camera=hall**")
    cameras = page.locator(".card .meta").all_inner_texts()
    assert cameras
    assert all("hall" in text for text in cameras)
    page.keyboard.press("ArrowRight")
    shot(page, "03-filtered")

    page.keyboard.press("Enter")
    page.wait_for_url("**/items/**")
    assert page.locator(".objects img").first.evaluate("img => img.complete && img.naturalWidth") > 0
    shot(page, "03b-item")
    page.locator(".objects a.open").first.click()
    page.wait_for_url("**/events/**")
    assert page.locator("#snapshot").evaluate("img => img.naturalWidth") > 0
    page.locator("#clip").evaluate("v => { v.muted = true; return v.play(); }")
    wait_for(lambda: page.locator("#clip").evaluate("v => v.currentTime") > 0.2, 20, "the clip to play")
    shot(page, "04-event-playing")

    page.goto("/faces")
    page.fill("#enrol input[name=name]", "Lin-Manuel Miranda")
    page.set_input_files("#enrol input[name=photo]", str(faces_data / "lin-manuel-miranda.png"))
    page.click("#enrol button[type=submit]")
    page.wait_for_selector(".flash")
    assert "photo added" in page.inner_text(".flash")
    assert "Lin-Manuel Miranda" in page.inner_text("table")
    shot(page, "05-faces")

    page.goto("/cameras")
    section = page.locator("#camera-street")
    section.locator("summary").click()
    section.locator("input[name=motion_threshold]").fill("42")
    section.locator("button", has_text="Save").click()
    page.wait_for_selector(".flash")
    assert "settings saved" in page.inner_text(".flash")
    assert page.locator("#camera-street input[name=motion_threshold]").input_value() == "42"
    shot(page, "06-camera-settings")


def test_grid_pins_and_deletes_from_the_keyboard_and_the_buttons(page: Any) -> None:
    log_in(page)
    cards = page.locator(".card")
    total = cards.count()
    first, second, third = (cards.nth(i).get_attribute("data-id") for i in range(3))
    assert not page.locator(".card.pinned").count()
    assert not cards.first.locator(".pin-mark").is_visible()

    page.keyboard.press("ArrowRight")
    page.keyboard.press("p")  # pins the focused (first) card through the JSON API
    page.wait_for_selector(f'.card.pinned[data-id="{first}"] .pin-mark', state="visible")
    assert page.inner_text("#grid-status") == "pinned"
    assert api_event(page, first)["retain_indefinitely"] is True
    shot(page, "07-grid-pinned-by-key")

    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")  # ticks the second card's checkbox
    assert cards.nth(1).locator("input[name=selected]").is_checked()
    page.click("#pin-selected")
    page.wait_for_selector(".flash")
    n = len(str(cards.nth(1).get_attribute("data-events")).split())  # every event of the item
    assert page.inner_text(".flash") == f"{n} event{'s' if n > 1 else ''} pinned"
    assert page.locator(f'.card.pinned[data-id="{second}"] .pin-mark').is_visible()
    assert api_event(page, second)["retain_indefinitely"] is True
    assert page.locator(".card.pinned").count() == 2
    shot(page, "08-grid-pinned-by-button")

    page.once("dialog", lambda dialog: dialog.accept())
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Delete")  # the third (last) card, after the confirmation
    page.wait_for_selector(f'.card[data-id="{third}"]', state="detached")
    assert cards.count() == total - 1
    assert page.inner_text("#shown-count") == str(total - 1)
    assert api_event(page, third) is None
    assert page.locator(".card.focused").get_attribute("data-id") == cards.nth(total - 2).get_attribute("data-id")
    shot(page, "09-grid-deleted-by-key")


def test_a_tap_previews_the_clip_on_a_phone_and_a_second_tap_opens_the_item(server: str) -> None:
    """On a touch screen there is no hover: the first tap on a card plays its clip in place, muted, without
    leaving the page; the second opens the item."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium(server, width=390, height=844, is_mobile=True, has_touch=True) as phone:
        log_in(phone)
        card = phone.locator(".card[data-preview]").first
        item = card.get_attribute("data-id")
        link = card.locator("a.open")
        link.scroll_into_view_if_needed()

        link.tap()
        preview = card.locator("video.preview")
        preview.wait_for(state="attached")
        assert phone.url.endswith("/"), "the first tap stays on the review page"
        assert preview.evaluate("v => v.muted && v.loop && v.src.endsWith('/video.mp4')")
        wait_for(lambda: preview.evaluate("v => !v.paused && v.currentTime > 0.2"), 20, "the preview to play")
        assert phone.locator("video.preview").count() == 1, "only the tapped card plays"
        shot(phone, "10-phone-tap-preview")

        link.tap()
        phone.wait_for_url(f"**/items/{item}")
