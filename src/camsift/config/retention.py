"""``retention``: what is kept, for how long, and the disk-usage limit."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from camsift.config.base import ConfigModel, Percent

__all__ = ["RetentionCategory", "RetentionConfig"]

RetentionCategory = Literal["known_face", "unknown_face", "person", "other", "motion"]
"""What kind of evidence an item is, for retention: an event with a recognised face, with a face that was not
recognised, with a person, with another label (vehicle, animal); or footage in which nothing was found."""


_DISK_ORDER: tuple[RetentionCategory, ...] = ("motion", "other", "person", "unknown_face", "known_face")


class RetentionConfig(ConfigModel):
    """What camsift keeps and for how long (``camsift retention``; on a schedule inside ``camsift run``).

    Days follow Frigate's retention by object label: an event's snapshots, face
    pictures and clip live as long as its category says; pinned events are never
    deleted. Days count from the arrival of an event's file (when camsift
    received and analysed it), not from the recording date in the file, so an
    imported archive is kept its full period. Per camera (``cameras.<name>.retention``) only the
    ``*_days`` keys and ``delete_footage`` are read; the rest is global.
    """

    enabled: bool = Field(True, description="Apply retention on a schedule inside 'camsift run'")
    interval_s: float = Field(900.0, ge=10, description="Seconds between two retention passes of 'camsift run'")
    known_face_days: float | None = Field(
        90.0, ge=0, description="Days events with a recognised face are kept (null: forever)"
    )
    unknown_face_days: float | None = Field(
        90.0, ge=0, description="Days events with a face that was not recognised are kept (null: forever)"
    )
    person_days: float | None = Field(90.0, ge=0, description="Days other person events are kept (null: forever)")
    other_days: float | None = Field(
        30.0, ge=0, description="Days events of other labels (vehicles, animals) are kept (null: forever)"
    )
    motion_days: float | None = Field(
        30.0,
        ge=0,
        description="Days footage in which nothing was found is kept (a clip recorded on motion, an upload "
        "outside the time windows); null: forever",
    )
    delete_footage: bool = Field(
        True,
        description="Delete footage camsift owns (files under data_dir: live-stream clips, FTP uploads) with its "
        "last event, or after motion_days when nothing was found in it. Footage elsewhere (a folder given to "
        "'camsift scan', a watched share) is never deleted",
    )
    max_disk_percent: Percent | None = Field(
        80.0,
        description="Keep the disk of data_dir below this percentage used: above it, delete by disk_order, oldest "
        "first, until it is below, and tell the owner (null: no limit)",
    )
    disk_order: list[RetentionCategory] = Field(
        default_factory=lambda: list(_DISK_ORDER),
        description="Order in which categories are given up when the disk is above max_disk_percent (oldest "
        "first within one); categories left out are never deleted for space",
    )
    orphan_age_s: float = Field(
        3600.0,
        ge=0,
        description="A picture under events/ or faces/ that no event refers to is deleted once it is this old "
        "(a younger one may belong to an analysis in progress)",
    )

    def days(self, category: RetentionCategory) -> float | None:
        """Days items of ``category`` are kept (``None``: forever)."""
        days: float | None = getattr(self, f"{category}_days")
        return days
