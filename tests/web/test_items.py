"""The review page's items (`camsift.review` in `camsift.web.pages.grid`) and the item page, over real scanned
events."""

from __future__ import annotations

import re
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

from camsift.store import Store
from helpers.web import Browser

pytestmark = pytest.mark.slow  # the first test scans three real clips (about 10 s)


def event_ids(b: Browser, **params: object) -> list[str]:
    return [str(e["id"]) for e in b.client.get("/api/events", params={"limit": 1000, **params}).json()]


def cards(html: str) -> list[tuple[str, list[str]]]:
    """(item id, event ids) of every card of the review page."""
    found = re.findall(r'<li class="card[^"]*" data-id="([^"]+)" data-events="([^"]+)"', html)
    return [(i, ids.split()) for i, ids in found]


def test_one_card_per_clip_with_all_its_objects(browser: Browser) -> None:
    html = browser.client.get("/").text

    found = cards(html)
    per_camera = {c: frozenset(event_ids(browser, camera=c)) for c in ("street", "corridor", "hall")}
    assert {frozenset(ids) for _, ids in found} == set(per_camera.values())
    assert sum(len(ids) for ids in per_camera.values()) > len(found), "a card holds several events"
    assert all(item in ids for item, ids in found)
    assert re.search(r'<h2 id="day-\d{4}-\d{2}-\d{2}">\w+ \d{2} \w+ \d{4}', html), "a heading per day"
    assert len(re.findall(r'<div class="timeline"><span class="tl-name">(\w+)</span>', html)) == 3
    assert html.count('<a href="/items/') >= 6  # a mark on each camera's timeline and each card
    assert '<span id="unreviewed-count">3</span> unreviewed' in html
    assert re.search(r'<span class="count"[^>]*>3</span>', html), "the unreviewed count beside Review"


def test_thumbnails_are_cropped_around_the_object_and_cached(browser: Browser) -> None:
    html = browser.client.get("/", params={"camera": "corridor"}).text
    thumb = re.search(r'<img src="(/thumbs/[^"]+\.jpg)" alt="(person[^"]*) on corridor at [\d:]+"', html)
    assert thumb, html
    response = browser.client.get(thumb.group(1))

    assert response.status_code == 200
    assert "max-age=86400" in response.headers["cache-control"]
    picture = Image.open(BytesIO(response.content))
    assert picture.size == (320, 180)
    event_id = thumb.group(1).removeprefix("/thumbs/").removesuffix(".jpg")
    with Store(browser.settings.data_dir) as store:
        event = store.event(event_id)
    assert event is not None
    assert event.snapshot is not None
    with Image.open(event.snapshot) as full:
        width = full.size[0]
    x1, _, x2, _ = event.box_xyxy
    assert (x2 - x1) / width < 0.5, "a person smaller than the frame"
    # Cropped: the person fills a larger part of the thumbnail than of the snapshot; the box is drawn in amber.
    rgb = np.asarray(picture.convert("RGB")).astype(int)
    amber = (rgb[..., 0] > 200) & (rgb[..., 1] > 150) & (rgb[..., 1] < 230) & (rgb[..., 2] < 80)
    assert amber.sum() > 200
    assert browser.client.get(thumb.group(1)).content == response.content


def test_item_page_marks_all_its_events_and_moves_on(browser: Browser) -> None:
    item, street = max(cards(browser.client.get("/").text), key=lambda card: len(card[1]))
    street = sorted(street)
    assert len(street) > 1
    camera = browser.client.get(f"/api/events/{item}").json()["camera"]

    page = browser.client.get(f"/items/{item}")
    assert page.status_code == 200
    assert 'id="mark-reviewed"' in page.text
    for event_id in street:
        assert f'href="/events/{event_id}"' in page.text
    newer = re.search(r'href="/items/([^"]+)" id="newer"', page.text)
    older = re.search(r'href="/items/([^"]+)" id="older"', page.text)
    assert newer or older
    other = (older or newer).group(1)  # type: ignore[union-attr]
    assert other not in street
    # Any event of an item opens the item.
    other_event = next(i for i in street if i != item)
    assert browser.client.get(f"/items/{other_event}", follow_redirects=False).headers["location"] == f"/items/{item}"

    done = browser.client.post(
        f"/items/{item}/action",
        data={"action": "reviewed", "csrf_token": browser.csrf, "next_item": other},
        follow_redirects=False,
    )

    assert done.headers["location"].startswith(f"/items/{other}")
    assert sorted(event_ids(browser, camera=camera, reviewed=True)) == street
    assert '<span id="unreviewed-count">2</span> unreviewed' in browser.client.get("/").text


def test_item_delete_needs_the_csrf_token_and_removes_every_event(browser: Browser) -> None:
    hall = event_ids(browser, camera="hall")
    item = browser.client.get(f"/items/{hall[0]}").url.path

    refused = browser.client.post(f"{item}/action", data={"action": "delete"}, follow_redirects=False)
    assert refused.status_code == 403
    assert event_ids(browser, camera="hall") == hall

    browser.client.post(f"{item}/action", data={"action": "delete", "csrf_token": browser.csrf})
    assert event_ids(browser, camera="hall") == []


def test_an_unknown_item_is_a_page_not_found(browser: Browser) -> None:
    response = browser.client.get("/items/no-such-event")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]


def test_a_busy_day_comes_a_page_at_a_time_with_its_whole_timeline(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from camsift.web.pages import grid

    monkeypatch.setattr(grid, "PAGE_ITEMS", 2)
    first = browser.client.get("/").text
    more = re.search(r'<a href="/\?([^"]+)" id="more">more of this day', first)
    assert more
    second = browser.client.get(f"/?{more.group(1).replace('&amp;', '&')}").text

    assert len(cards(first)) == 2
    assert len(cards(second)) == 1
    assert {i for i, _ in cards(first)}.isdisjoint(i for i, _ in cards(second))
    for page in (first, second):
        assert len(re.findall(r'<div class="timeline"><span class="tl-name">', page)) == 3
        assert "· 3 items, 3 unreviewed" in page
    assert 'id="more"' not in second
