"""Retention: what camsift keeps, for how long, and the disk-usage limit.

What goes (`Retention.plan`):

Ages count from **arrival**: when camsift received (and analysed) the file,
not when it was recorded. An archive imported today (a clip whose container
says 2017, a folder of old snapshots) is kept for its full retention period
from today instead of disappearing at the next pass; for a camera's own
uploads the two differ by seconds. An event with no file row counts from its
start, footage no row knows of and orphan pictures from their mtime.

- **events** past their category's days (``retention.<category>_days``, per
  camera): the row, its faces, its snapshots and face pictures. Categories:
  ``known_face`` (a recognised face), ``unknown_face``, ``person``, ``other``
  (vehicles, animals); pinned events never go;
- **footage camsift owns** (files under the data directory: live-stream clips,
  FTP uploads, Blink downloads: `camsift.layout.DataDir.owned_roots`) with the
  last event found in it, or after ``motion_days`` when nothing was found in
  it (``motion``); its ``files`` row goes with it. A file outside the data
  directory (a folder given to ``camsift scan``) is never deleted; its row
  stays while the file exists, so a later scan does not bring back events that
  retention removed;
- **orphan pictures**: files under ``events/`` and ``faces/`` that no row
  refers to, once older than ``orphan_age_s`` (a younger one may belong to an
  analysis whose row is not written yet);
- when the disk of the data directory is above ``max_disk_percent``: more of
  the same, category by category (``disk_order``), oldest first, until the
  estimate is below the limit.

A full disk must not stop retention from freeing it: `DataDir.keep_reserve`
sets `RESERVE_BYTES` aside (``<data_dir>/retention-reserve``) while there is
room, and a batch whose journal or deleting transaction fails for lack of
space is tried again once that reserve is given back; it is set aside again
after the pass.

How it goes (`Retention.apply`), crash-safe, in batches:

1. the batch's files are written to a journal, ``<data_dir>/retention-journal/<id>.json``
   (`camsift.layout.DataDir.journal`; fsync'd, locked by the writer while it works);
2. one transaction deletes the rows (checking again that each event is not
   pinned meanwhile, that footage has no event left, that an orphan is still
   unreferenced); this commit is the point of no return;
3. the files that no row refers to any more are unlinked (a clip that another
   event still shows stays), then the journal is removed.

Readers never see a row whose file is gone. A kill after 1 leaves a journal
that `Retention.repair` (run at every start of ``camsift run`` and by
``camsift retention``) settles with one rule: a journaled file that no row
refers to is deleted (the transaction committed: finish), one that a row
still refers to is kept (it did not: roll back). Repair also clears
references to files that are missing (a power cut after the unlink but before
SQLite's WAL reached the disk, or a file deleted by hand): the column is set
to NULL and the event is kept, because its row (time, label, box) is still
evidence. If more than half of the referenced files are missing, the data
directory looks unmounted and repair changes nothing.
"""

from __future__ import annotations

from camsift.retention.companion import RESOLVE_AFTER_S, RESOLVE_MARGIN_PCT, RetentionCompanion
from camsift.retention.disk import DiskUsage, disk_usage
from camsift.retention.model import Doomed, Outcome, Plan, RepairReport, category_of
from camsift.retention.plan import EventFacts, Facts, FootageFacts, PictureFile, choose
from camsift.retention.runner import Retention

__all__ = [
    "RESOLVE_AFTER_S",
    "RESOLVE_MARGIN_PCT",
    "DiskUsage",
    "Doomed",
    "EventFacts",
    "Facts",
    "FootageFacts",
    "Outcome",
    "PictureFile",
    "Plan",
    "RepairReport",
    "Retention",
    "RetentionCompanion",
    "category_of",
    "choose",
    "disk_usage",
]
