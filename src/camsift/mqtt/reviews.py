"""The ``<prefix>/reviews`` messages: a review item is ``new`` when its first object is seen, ``update`` while it
changes with objects in view, ``end`` once none of its objects is in view any more.

An object is in view from its ``start`` (confirmed on a live stream, `camsift.live_events`) to its ``end`` (its
clip analysed, or a false positive); an event stored from a file was never told in progress, so its item is
``new`` and ``end`` at once. `item_now` reads the item of a change from the store (`camsift.frigate.item_of`, the
objects in progress included) and `ReviewsTold` turns it into the messages, each with an outbox key that is the
same when the same message is told again after a kill (`camsift.mqtt.payloads.OUTBOX_CHANNEL`), so none is
duplicated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from camsift.frigate import item_of, review_payload
from camsift.listeners import EventChange
from camsift.review import ReviewItem, review_items

if TYPE_CHECKING:
    from camsift.store import Store

__all__ = ["REVIEWS_KEPT", "ReviewsTold", "item_now"]

REVIEWS_KEPT = 1000
"""Review items whose last told state is remembered (to tell ``update`` and ``end`` from ``new``)."""

Told = tuple[str, dict[str, Any]]
"""One ``reviews`` message: its outbox key and its JSON object (``type``, ``before``, ``after``)."""


def item_now(store: Store, change: EventChange, alert_labels: Collection[str]) -> tuple[ReviewItem | None, set[str]]:
    """The review item of ``change.after`` as it is now, and the ids of the objects still in view.

    In view are the objects told in progress on the camera (announced, their clip not analysed) and, for a
    ``start``, the object itself; an ``end`` takes it out of view. An object that ended as a false positive
    leaves its item, which is then that of the other objects it was seen with; one seen alone ends its item
    as it was told (``None`` only when ``change.after`` is neither stored nor in progress).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the store could not be read.
    """
    e = change.after
    ongoing = [r.event() for r in store.live.in_progress(e.camera) if r.announced and r.id != e.id]
    if change.kind == "start":
        ongoing.append(e)
    in_view = {o.id for o in ongoing}
    if not change.false_positive:
        return item_of(store, e, alert_labels, ongoing), in_view
    item = item_of(store, e, alert_labels, [*ongoing, e])
    left = [] if item is None else [o for o in item.events if o.id != e.id]
    if item is None or not left:
        return item, in_view
    reviewed = item.detections if item.reviewed else []
    return review_items(left, alert_labels=alert_labels, reviewed=reviewed)[-1], in_view  # the oldest part


class ReviewsTold:
    """What ``<prefix>/reviews`` was told of each item, to tell the next change (`messages`).

    An item keeps the id it was told ``new`` under while it lasts, also when its first object turns out to be a
    false positive or the stored events start in another order than the objects told in progress.
    """

    def __init__(self) -> None:
        self._last: dict[str, dict[str, Any]] = {}  # review id -> the item as last told
        self._item_of: dict[str, str] = {}  # event id -> the review id it was told in

    def messages(self, item: ReviewItem | None, in_view: Collection[str], event_id: str) -> list[Told]:
        """The messages that tell ``item`` as it is now, in order (none when nothing changed).

        Args:
            item: The item of ``event`` (`item_now`); ``None`` tells nothing.
            in_view: Ids of the objects in view now.
            event_id: The event whose change this is (a false positive is no longer in ``item``).
        """
        if item is None:
            return []
        told_in = [self._item_of[i] for i in (event_id, *item.detections) if i in self._item_of]
        review_id = told_in[0] if told_in else item.id
        now = {**review_payload(item), "id": review_id}
        showing = {**now, "end_time": None}
        for detection in item.detections:
            self._item_of[detection] = review_id
        last = self._last.get(review_id)
        steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        if last is None:
            steps.append(("new", showing, showing))
            last = showing
        if any(d in in_view for d in item.detections):
            if showing != last:
                steps.append(("update", last, showing))
        elif now != last:
            if last["end_time"] is not None:  # an item told ended grew (a live stream's next clip)
                steps.append(("update", last, now))
            steps.append(("end", last, now))
        return self._told(review_id, steps)

    def _told(self, review_id: str, steps: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> list[Told]:
        if steps:
            self._last[review_id] = steps[-1][2]
            self._last[review_id] = self._last.pop(review_id)  # newest last
        while len(self._last) > REVIEWS_KEPT:
            del self._last[next(iter(self._last))]
        while len(self._item_of) > 10 * REVIEWS_KEPT:
            del self._item_of[next(iter(self._item_of))]
        return [(_key(review_id, kind, new), {"type": kind, "before": old, "after": new}) for kind, old, new in steps]


def _key(review_id: str, kind: str, after: dict[str, Any]) -> str:
    """``review:<id>:new``, or ``review:<id>:<kind>:<digest of after>``: the same message told again (after a kill)
    has the same key."""
    if kind == "new":
        return f"review:{review_id}:new"
    digest = hashlib.sha256(json.dumps(after, sort_keys=True).encode()).hexdigest()[:16]
    return f"review:{review_id}:{kind}:{digest}"
