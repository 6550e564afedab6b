"""``alarm``: which events raise an alarm, the signal notifiers act on."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from camsift.config.base import ConfigModel, Label

__all__ = ["AlarmConfig"]


class AlarmConfig(ConfigModel):
    """Which events raise an alarm (what notifiers act on). Every event is stored either way.

    The two modes are those of the ipcam-analysis FTP design: ``labels`` alarms
    on the listed labels; ``new_labels`` alarms on anything that is not normally
    in the picture.
    """

    mode: Literal["labels", "new_labels"] = Field(
        "labels",
        description="'labels': alarm when one of 'labels' is found; 'new_labels': alarm on labels that are not "
        "normally in the picture ('labels' plus what was learnt)",
    )
    labels: list[Label] = Field(
        default_factory=list,
        description="labels mode: the labels that alarm (empty = every label looked for); "
        "new_labels mode: labels that are normal here and never alarm",
    )
    learn_files: int = Field(
        20,
        ge=0,
        description="new_labels mode: a label found in at least learn_fraction of this camera's last learn_files "
        "analysed files is normal here (0 = learn nothing)",
    )
    learn_fraction: float = Field(0.5, gt=0, le=1, description="new_labels mode: see learn_files")
    cooldown_s: float = Field(
        60.0,
        ge=0,
        description="After an alarm, further events of the same label on the same camera are stored but raise "
        "no alarm for this many seconds",
    )
