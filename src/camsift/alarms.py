"""Alarms: which new events raise an alarm, per camera (the ``alarm`` settings)."""

from __future__ import annotations

from datetime import datetime

from camsift.config import Settings
from camsift.events import Event, FileRecord
from camsift.store import Store

__all__ = ["Alarms"]


class Alarms:
    """Decides which new events raise an alarm, per camera (``alarm`` settings).

    ``labels`` mode: the event's label is listed (or the list is empty).
    ``new_labels`` mode: the label is neither listed as normal nor learnt as
    normal (found in at least ``learn_fraction`` of the camera's last
    ``learn_files`` analysed files, once that many exist). Then
    ``cooldown_s``: one alarm per camera and label in that many seconds of
    footage time. The cooldown is kept in memory (a restart forgets it).

    Args:
        settings: The configuration.
        store: Where the learning looks at past files.
    """

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings, self.store = settings, store
        self._last: dict[tuple[str, str], datetime] = {}

    def normal_labels(self, camera: str, leave_out: set[str] | None = None) -> set[str]:
        """Labels normally in ``camera``'s picture: listed plus learnt (``new_labels`` mode).

        Args:
            camera: The camera.
            leave_out: The labels of one stored file not to learn from (the file whose alarms are decided).
        """
        cfg = self.settings.for_camera(camera).alarm
        normal = set(cfg.labels)
        files = self.store.recent_labels(camera, cfg.learn_files + (leave_out is not None)) if cfg.learn_files else []
        if leave_out is not None and leave_out in files:
            files.remove(leave_out)
        del files[cfg.learn_files :]
        if files and len(files) >= cfg.learn_files:
            seen = {label for found in files for label in found}
            normal |= {label for label in seen if sum(label in f for f in files) >= cfg.learn_fraction * len(files)}
        return normal

    def decide(self, events: list[Event], stored: FileRecord | None = None) -> dict[str, bool]:
        """Whether each event (by id) raises an alarm; call once per file, before storing it.

        Args:
            events: New events of one file.
            stored: The file's record when it is stored already (its alarms decided again after a restart,
                ``events`` being all its stored events): a file stored ``ok`` is among the files learnt
                from, and is left out of them, as it was when its alarms were first decided.
        """
        decided: dict[str, bool] = {}
        normal: dict[str, set[str]] = {}
        learnt = {e.label for e in events} if stored is not None and stored.status == "ok" else None
        for event in sorted(events, key=lambda e: e.start_utc):
            cfg = self.settings.for_camera(event.camera).alarm
            if cfg.mode == "labels":
                hit = not cfg.labels or event.label in cfg.labels
            else:
                if event.camera not in normal:
                    normal[event.camera] = self.normal_labels(event.camera, learnt)
                hit = event.label not in normal[event.camera]
            key = (event.camera, event.label)
            last = self._last.get(key)
            if hit and last is not None and abs((event.start_utc - last).total_seconds()) < cfg.cooldown_s:
                hit = False
            if hit:
                self._last[key] = event.start_utc
            decided[event.id] = hit
        return decided
