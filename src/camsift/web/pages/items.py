"""The item page: a review item with its best picture, clip, objects and actions; cropped thumbnails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from camsift.errors import CamsiftError
from camsift.media import IMAGE_SUFFIXES
from camsift.review import ReviewItem, is_live
from camsift.store import EventMarks
from camsift.web.pages.common import State, User, go_back, local_time, show_page
from camsift.web.pages.grid import card_of, items_with_marks, mark_of, n_events, preview_url
from camsift.web.state import WebState
from camsift.web.thumbs import THUMB_CACHE_CONTROL, thumbnail

__all__ = ["LIVE_WINDOW", "item_action", "item_of", "item_page", "item_thumbnail", "router"]

router = APIRouter()


LIVE_WINDOW = timedelta(hours=2)
"""Events around a live event read to find its review item (a live activity longer than this is cut)."""


def item_of(state: WebState, event_id: str) -> tuple[ReviewItem, dict[str, EventMarks]] | None:
    """The review item holding an event, with its events' marks (``None``: no such event)."""
    found = state.store.event(event_id)
    if found is None:
        return None
    if is_live(found):
        around = state.store.marked_events(
            camera=found.camera, since=found.start_utc - LIVE_WINDOW, until=found.start_utc + LIVE_WINDOW
        )
        marked = [(e, m) for e, m in around if is_live(e)]
    else:
        marked = state.store.marked_events(source=found.source)
    items, marks = items_with_marks(state, marked)
    return next(i for i in items if event_id in i.data.detections), marks


def _neighbours(state: WebState, item: ReviewItem) -> tuple[str | None, str | None]:
    """Event ids of the newer and the older item next to ``item`` (any camera; ``None`` at either end)."""
    start = datetime.fromtimestamp(item.start_time, UTC)
    ids = set(item.data.detections)
    after = state.store.count_events(since=start)
    newest_first = state.store.events(since=start, limit=200, offset=max(0, after - 200))
    newer = [e for e in newest_first[::-1] if e.id not in ids][:1]
    older = [e for e in state.store.events(until=start + timedelta(microseconds=1), limit=200) if e.id not in ids][:1]
    return (newer[0].id if newer else None, older[0].id if older else None)


@router.get("/items/{event_id}", response_class=HTMLResponse, response_model=None)
def item_page(request: Request, state: State, user: User, event_id: str) -> HTMLResponse | RedirectResponse:
    """A review item (by the id of any of its events): its best picture, its clip, every object, the actions,
    and the newer and older items (keys ``k``/``j``)."""
    found = item_of(state, event_id)
    if found is None:
        raise HTTPException(404, "no such review item")
    item, marks = found
    if item.id != event_id:
        return RedirectResponse(f"/items/{quote(item.id, safe='')}", status_code=303)
    newer, older = _neighbours(state, item)
    card = card_of(mark_of(state, item), marks)
    video = next((e for e in item.events if e.video is not None), None)
    return show_page(
        request,
        "item.html",
        user,
        card=card,
        item=item,
        cover=item.cover,
        events=[(e, local_time(e.start_utc, state)) for e in item.events],
        when=local_time(datetime.fromtimestamp(item.start_time, UTC), state),
        duration=item.end_time - item.start_time,
        video=video,
        playable=preview_url(video) if video else None,
        newer=newer,
        older=older,
    )


@router.post("/items/{event_id}/action")
def item_action(
    state: State,
    user: User,
    event_id: str,
    action: Annotated[Literal["reviewed", "unreviewed", "pin", "unpin", "delete"], Form()],
    next_item: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    """The item page's buttons: mark every event of the item (or delete them all); "reviewed" goes on to
    ``next_item`` when given."""
    found = item_of(state, event_id)
    if found is None:
        raise HTTPException(404, "no such review item")
    item = found[0]
    here = f"/items/{quote(item.id, safe='')}"
    if action == "delete":
        done = sum(state.store.delete_event(i) for i in item.detections)
        return go_back(state, user, "/", f"{n_events(done)} deleted")
    marks = {
        "reviewed": {"reviewed": True},
        "unreviewed": {"reviewed": False},
        "pin": {"pinned": True},
        "unpin": {"pinned": False},
    }[action]
    state.store.mark(item.detections, **marks)
    if action == "reviewed" and next_item:
        return go_back(state, user, f"/items/{quote(next_item, safe='')}")
    return go_back(state, user, here)


@router.get("/thumbs/{event_id}.jpg", response_class=Response)
def item_thumbnail(state: State, event_id: str) -> Response:
    """An event's snapshot cropped around its object (in a still picture: around every object in it), boxes
    drawn (`camsift.web.thumbs`)."""
    found = state.store.event(event_id)
    if found is None or found.snapshot is None:
        raise HTTPException(404, "no snapshot")
    boxes = [found.box_xyxy]
    if found.source is not None and found.source.suffix.lower() in IMAGE_SUFFIXES:
        boxes = [e.box_xyxy for e in state.store.events(source=found.source)]
    try:
        data = thumbnail(found.snapshot, boxes)
    except CamsiftError as err:
        raise HTTPException(404, "snapshot missing or unreadable") from err
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": THUMB_CACHE_CONTROL})
