"""``/api/review``: Frigate 0.14+ review items (`camsift.review`), their summary and reviewed marks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from camsift import frigate
from camsift.store import ReviewFilter
from camsift.web.api.common import REVIEW_EVENTS_MAX, Done, State, list_param, picture_event, utc_of_unix
from camsift.web.state import WebState

router = APIRouter()


def _alert_labels(state: WebState) -> tuple[str, ...]:
    return frigate.alert_labels(state.settings)


def _items(state: WebState, since: datetime | None, until: datetime | None, cameras: tuple[str, ...] = ()) -> list[Any]:
    from camsift.review import review_items

    found = state.store.events(since=since, until=until, limit=REVIEW_EVENTS_MAX, review=ReviewFilter(cameras=cameras))
    reviewed = [i for i, m in state.store.marks([e.id for e in found]).items() if m.reviewed]
    return review_items(found, alert_labels=_alert_labels(state), reviewed=reviewed)


@router.get("/review")
def review(
    state: State,
    cameras: str | None = None,
    labels: str | None = None,
    zones: str | None = None,
    reviewed: Annotated[int, Query(ge=0, le=1, description="1: also the items already reviewed")] = 0,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    severity: Literal["alert", "detection"] | None = None,
    before: Annotated[float | None, Query(description="Unix seconds; default now")] = None,
    after: Annotated[float | None, Query(description="Unix seconds; default 24 hours before 'before'")] = None,
) -> list[dict[str, Any]]:
    """Review items (one camera activity with all its objects, `camsift.review`), newest first, as Frigate's
    ``/api/review``: by default the unreviewed ones of the last 24 hours; ``thumb_path`` is an API address."""
    end = before if before is not None else datetime.now(UTC).timestamp()
    start = after if after is not None else end - 86_400
    wanted_labels, wanted_zones = set(list_param(labels)), set(list_param(zones))
    out = []
    for item in _items(state, utc_of_unix(start), utc_of_unix(end), list_param(cameras)):
        if not reviewed and item.reviewed:
            continue
        if severity is not None and item.severity != severity:
            continue
        if wanted_labels and not wanted_labels & set(item.data.objects):
            continue
        if wanted_zones and not wanted_zones & set(item.data.zones):
            continue
        out.append(frigate.review_payload(item))
        if limit is not None and len(out) >= limit:
            break
    return out


@router.get("/review/summary")
def review_summary(
    state: State,
    cameras: str | None = None,
    timezone: Annotated[str | None, Query(description="IANA zone of the days; default the config's")] = None,
    days: Annotated[int, Query(ge=1, le=366, description="Days back to count")] = 30,
) -> dict[str, Any]:
    """Counts of review items as Frigate's ``/api/review/summary``: ``last24Hours`` and one entry per day
    (``YYYY-MM-DD`` in ``timezone``) with ``total_alert``, ``total_detection``, ``reviewed_alert``,
    ``reviewed_detection``."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(timezone) if timezone else state.settings.tz() or UTC
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise HTTPException(422, f"unknown time zone {timezone!r}") from err
    now = datetime.now(UTC)

    def empty() -> dict[str, int]:
        return {"reviewed_alert": 0, "reviewed_detection": 0, "total_alert": 0, "total_detection": 0}

    out: dict[str, Any] = {"last24Hours": empty()}
    for item in _items(state, now - timedelta(days=days), None, list_param(cameras)):
        start = datetime.fromtimestamp(item.start_time, UTC)
        day = start.astimezone(zone).date().isoformat()
        counts = out.setdefault(day, {"day": day, **empty()})
        buckets = [counts, out["last24Hours"]] if now - start <= timedelta(hours=24) else [counts]
        for bucket in buckets:
            bucket[f"total_{item.severity}"] += 1
            if item.reviewed:
                bucket[f"reviewed_{item.severity}"] += 1
    return out


@router.get("/review/{review_id}")
def review_item(state: State, review_id: str) -> dict[str, Any]:
    """One review item by id (the id of its first event), with the objects of its camera still in progress on
    a live stream (so an item told over MQTT at ``new`` is found before its clip is analysed)."""
    event = picture_event(state, review_id)
    in_progress = [live.event() for live in state.store.live.in_progress(event.camera) if live.announced]
    found = frigate.item_of(state.store, event, _alert_labels(state), in_progress)
    if found is None or found.id != review_id:
        raise HTTPException(404, "no such review item")
    return frigate.review_payload(found)


class ReviewIds(BaseModel):
    """Frigate's body of ``/api/reviews/viewed``."""

    ids: list[str] = Field(min_length=1, max_length=1000)


def _mark_items(state: WebState, ids: list[str], reviewed: bool) -> Done:
    events: list[str] = []
    for review_id in ids:
        found = state.store.event(review_id)
        item = frigate.item_of(state.store, found, _alert_labels(state)) if found else None
        events += item.detections if item is not None else []
    if not events:
        raise HTTPException(404, "no such review item")
    state.store.mark(events, reviewed=reviewed)
    return Done(message=f"{len(ids)} review item(s) marked {'reviewed' if reviewed else 'not reviewed'}")


@router.post("/reviews/viewed")
def reviews_viewed(state: State, body: ReviewIds) -> Done:
    """Mark review items as reviewed (all their events)."""
    return _mark_items(state, body.ids, True)


@router.delete("/reviews/viewed")
def reviews_unviewed(state: State, body: ReviewIds) -> Done:
    """Mark review items as not reviewed."""
    return _mark_items(state, body.ids, False)
