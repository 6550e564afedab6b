"""What retention deletes and what it did: `Doomed` items, a `Plan`, an `Outcome`, a `RepairReport`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from camsift.config import RetentionCategory
from camsift.faces import UNKNOWN
from camsift.retention.disk import DiskUsage

__all__ = ["Doomed", "Kind", "Outcome", "Plan", "Reason", "RepairReport", "category_of"]

Kind = Literal["event", "footage", "orphan"]
Reason = Literal["age", "disk", "orphan"]


def category_of(label: str, sub_label: str | None) -> RetentionCategory:
    """An event's retention category: a recognised face, an unrecognised one, a person, anything else.

    ``sub_label`` is the face's name, `camsift.faces.UNKNOWN`, or ``None`` (no usable face seen).
    """
    if label == "person":
        if sub_label == UNKNOWN:
            return "unknown_face"
        return "known_face" if sub_label else "person"
    return "other"


@dataclass(frozen=True)
class Doomed:
    """One thing retention deletes.

    Attributes:
        kind: ``event`` (a row, its faces and pictures), ``footage`` (a file camsift owns and/or its
            ``files`` row) or ``orphan`` (a picture no row refers to).
        key: The event id; the footage's absolute path; the orphan's path relative to the data directory.
        camera: Camera name (``""`` when unknown).
        category: Retention category (``None`` for an orphan).
        start_utc: When its retention age starts: when camsift received the file (its ``files`` row's
            ``processed_utc``; footage no row knows of and an orphan: its mtime).
        reason: ``age`` (past its days), ``disk`` (over max_disk_percent) or ``orphan``.
        paths: Files to delete, relative to the data directory.
        size: Bytes the files take on disk (allocated blocks).
        row: A ``files`` row goes too (footage only).
    """

    kind: Kind
    key: str
    camera: str
    category: RetentionCategory | None
    start_utc: datetime
    reason: Reason
    paths: tuple[str, ...]
    size: int
    row: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON of ``camsift retention --format json``."""
        return {
            "kind": self.kind,
            "key": self.key,
            "camera": self.camera,
            "category": self.category,
            "start_utc": self.start_utc.isoformat(),
            "reason": self.reason,
            "paths": list(self.paths),
            "bytes": self.size,
        }


@dataclass
class Plan:
    """What a retention pass would delete.

    Attributes:
        items: In deletion order.
        now_utc: The clock the ages were measured with.
        disk: Usage of the data directory's disk before the pass.
        limit_percent: ``max_disk_percent`` (``None``: no limit).
    """

    items: list[Doomed]
    now_utc: datetime
    disk: DiskUsage
    limit_percent: float | None

    @property
    def size(self) -> int:
        """Bytes the plan frees."""
        return sum(i.size for i in self.items)

    @property
    def over_limit(self) -> bool:
        """The disk is above ``max_disk_percent``."""
        return self.limit_percent is not None and self.disk.percent > self.limit_percent

    def summary(self) -> dict[str, dict[str, int]]:
        """Items and bytes by ``"<reason>/<kind>/<category>"``, sorted."""
        counts: Counter[str] = Counter()
        sizes: Counter[str] = Counter()
        for i in self.items:
            key = f"{i.reason}/{i.kind}/{i.category or '-'}"
            counts[key] += 1
            sizes[key] += i.size
        return {k: {"items": counts[k], "bytes": sizes[k]} for k in sorted(counts)}

    def to_dict(self) -> dict[str, Any]:
        """JSON of ``camsift retention --dry-run --format json``."""
        return {
            "now_utc": self.now_utc.isoformat(),
            "disk_percent": round(self.disk.percent, 2),
            "limit_percent": self.limit_percent,
            "bytes": self.size,
            "summary": self.summary(),
            "items": [i.to_dict() for i in self.items],
        }


@dataclass
class Outcome:
    """What `Retention.apply` did.

    Attributes:
        deleted: Items deleted.
        kept: Items left in place because they changed since the plan (pinned, a new event in the footage …).
        disk: Usage after the pass.
    """

    deleted: list[Doomed] = field(default_factory=list)
    kept: list[Doomed] = field(default_factory=list)
    disk: DiskUsage | None = None

    @property
    def size(self) -> int:
        """Bytes freed."""
        return sum(i.size for i in self.deleted)


@dataclass
class RepairReport:
    """What `Retention.repair` found and did.

    Attributes:
        journals: Interrupted deletions settled.
        finished: Files of those deletions deleted (their rows were gone).
        rolled_back: Files of those deletions kept (a row still refers to them).
        dangling: References to missing files cleared (set to NULL).
        refused: Why dangling references were left alone (``None``: they were not).
    """

    journals: int = 0
    finished: int = 0
    rolled_back: int = 0
    dangling: int = 0
    refused: str | None = None
