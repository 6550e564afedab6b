"""Accessibility and layout in Chromium: axe-core on every page at desktop and phone sizes, the event page at
1366x800, no broken pictures, long-cached static files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from camsift.store import Store
from helpers.web import CHROMIUM, PASSWORD, chromium, serve, web_settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)"),
]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
SIZES = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844, "is_mobile": True}}


@pytest.fixture(scope="module")
def served(scanned_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app over a copy of the real events: its URL and its data directory."""
    import shutil

    copy = tmp_path_factory.mktemp("a11y") / "data"
    shutil.copytree(scanned_data, copy)
    with serve(web_settings(copy)) as url:
        yield url, copy


@pytest.fixture(scope="module")
def server(served: tuple[str, Path]) -> str:
    return served[0]


def log_in(page: Any) -> None:
    page.goto("/login")
    page.fill("input[name=username]", "ann")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def serious(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page: ``rule: first target``."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{v['id']} ({v['impact']}): {json.dumps(v['nodes'][0]['target'])}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("size", SIZES)
def test_every_page_has_no_serious_accessibility_violation(server: str, size: str) -> None:
    dims = dict(SIZES[size])
    mobile = bool(dims.pop("is_mobile", False))
    with chromium(server, bypass_csp=True, is_mobile=mobile, has_touch=mobile, **dims) as page:
        page.goto("/login")
        report = {"/login": serious(page)}
        log_in(page)
        item = page.locator(".card a.open").first.get_attribute("href")
        page.goto(str(item))
        event = page.locator(".objects a.open").first.get_attribute("href")
        corridor = page.request.get("/api/events?camera=corridor").json()[0]["id"]
        for path in (
            "/",
            str(item),
            str(event),
            f"/events/{corridor}",
            f"/events/{corridor}/false_positive",
            "/cameras",
            "/faces",
            "/events/no-such-event",
        ):
            page.goto(path)
            assert page.locator("h1").count() == 1, path
            report[path] = serious(page)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "review"
            page.screenshot(path=str(ARTIFACTS / f"a11y-{size}-{name}.png"), full_page=True)
    assert {p: v for p, v in report.items() if v} == {}


def test_event_page_fits_1366x800_without_broken_pictures(server: str, scanned_data: Path) -> None:
    with chromium(server, width=1366, height=800) as page:
        log_in(page)
        event = page.request.get("/api/events?camera=hall").json()[0]["id"]
        page.goto(f"/events/{event}")
        actions = page.locator("form.actions").first.bounding_box()
        assert actions is not None
        assert actions["y"] + actions["height"] < 800, "the buttons are in the first screen"
        snapshot = page.locator("#snapshot").bounding_box()
        assert snapshot is not None
        assert snapshot["y"] < 800
        links = page.evaluate(
            "() => Array.from(document.querySelectorAll('link[rel=stylesheet], script[src]')).map(e => e.href || e.src)"
        )
        for url in links:
            assert re.search(r"/static/app\.(css|js)\?v=[0-9a-f]{12}$", url), url
            assert "immutable" in page.request.get(url).headers["cache-control"]


def test_a_picture_deleted_meanwhile_is_a_box_saying_so(served: tuple[str, Path]) -> None:
    url, data = served
    with Store(data) as store:
        [street] = store.events(camera="street")
    assert street.snapshot is not None
    street.snapshot.unlink()  # retention, or a person tidying the folder, between two page loads
    with chromium(url) as page:
        log_in(page)
        page.goto("/?camera=street")
        page.wait_for_selector(".nopic")
        broken = page.evaluate("() => Array.from(document.images).filter(i => i.complete && !i.naturalWidth).length")
        assert broken == 0
        assert "picture missing" in page.inner_text(".card")
        page.goto(f"/events/{street.id}")
        assert page.locator("#snapshot").count() == 0
