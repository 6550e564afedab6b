"""``camsift scan --notify``: the alarms of a scan told as ``camsift run`` would tell them (e.g. a scan from cron)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from camsift.analysis.file import FileResult
from camsift.config import Settings
from camsift.listeners import EventChange
from camsift.notify.notifier import Notifier
from camsift.store import Store

__all__ = ["ScanNotices", "notify_scan"]


@dataclass(frozen=True)
class ScanNotices:
    """What ``notify_scan`` did.

    Attributes:
        sent: Messages delivered now (this scan's and any left pending before).
        pending: Messages still in the outbox (a channel is down); the next ``camsift scan --notify`` or
            ``camsift run`` sends them.
    """

    sent: int
    pending: int


def notify_scan(
    settings: Settings, results: Iterable[FileResult], also: Callable[[list[EventChange]], object] | None = None
) -> ScanNotices:
    """Queue and send the notifications of the files a scan analysed (status ``ok``), through the outbox.

    Each file's new events go through the service's alarm rules (`camsift.alarms.Alarms`; in
    ``new_labels`` mode the files just scanned count in what is learnt as normal), then the
    notification rules, cooldowns and quiet hours, as in ``camsift run``. Unchanged files that a scan
    skips are not told again, and an event is queued at most once per channel, so repeating a scan
    sends nothing twice.

    Args:
        settings: The configuration (``notify`` section, data directory).
        results: The scan's file results (`camsift.scanner.ScanReport.files`).
        also: Called once with every new event as the notifier saw it (MQTT: `camsift.mqtt.publish_scan`).

    Raises:
        ConfigError: a channel's URL is not one apprise can use.
    """
    from camsift.alarms import Alarms

    with Store(settings.data_dir, settings.database) as store:
        notifier = Notifier(settings).attach(store)
        alarms = Alarms(settings, store)
        outbox = store.outbox
        before = len(outbox.messages(state="sent"))
        changes: list[EventChange] = []
        for result in results:
            if result.status != "ok":
                continue
            decided = alarms.decide(result.events)
            for event in sorted(result.events, key=lambda e: e.start_utc):
                change = EventChange("new", None, event, decided[event.id], "scan")
                notifier.on_event(change)
                changes.append(change)
        if also is not None:
            also(changes)
        notifier.flush(settings.notify.scan_wait_s)
        sent = len(outbox.messages(state="sent")) - before
        return ScanNotices(sent, len(outbox.messages(state="pending")))
