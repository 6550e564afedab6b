"""``faces``: face recognition on person events."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from camsift.config.base import ConfigModel
from camsift.faces import ENGINES

__all__ = ["FacesConfig"]


class FacesConfig(ConfigModel):
    """Face recognition on person events: a known-faces library, names on events, unknown faces grouped.

    Distances are Euclidean between dlib's 128-d face embeddings; unknown is the
    safe answer. Figures of ``bench/faces.py`` on ``../shared/data``: photos of
    the same adult are 0.23-0.52 apart, Lin-Manuel Miranda's faces in the Hamilton
    clip 0.31-0.65 from his photo (median 0.50); a stranger on a bus comes 0.58
    from Alex Lacamoire's second photo, so dlib's usual 0.6 names him. At 0.5:
    7 of 8 shared faces of enrolled people named (Alex's two photos are 0.52
    apart: enrol both), 0 of 26 unenrolled faces named; 0.55 names 8 of 8 and
    still 0 of 26, with a margin of 0.03 only. Children's faces lie close together
    in dlib's space (two different babies: 0.41): no threshold makes them safe.
    Sizes are face-box widths in pixels of the full-resolution frame; sharpness is
    the variance of the Laplacian of the 150x150 aligned face.
    """

    enabled: bool | Literal["auto"] = Field(
        "auto",
        description="'auto': look for faces when the library knows at least one person; true: always "
        "(unknown faces are collected for naming later); false: never",
    )
    engine: str = Field("dlib", description="Face detection and embedding engine ('dlib', needs camsift[faces])")
    match_distance: float = Field(
        0.5,
        gt=0,
        le=2,
        description="A face is a known person when its embedding is closer than this to one of the person's "
        "examples (dlib's usual 0.6 named a stranger: see bench/faces.py). Also the largest distance between "
        "two faces of one unknown-face group",
    )
    min_face_px: int = Field(
        40,
        ge=8,
        description="Smallest face looked at on events; at 20 px, strangers came as close to each other "
        "(0.51) as the same person does",
    )
    min_sharpness: float = Field(10.0, ge=0, description="Blurrier faces on events are ignored")
    enrol_min_face_px: int = Field(
        80,
        ge=20,
        description="Smallest face accepted as an example of a person (a photo, or a named unknown face): "
        "tiny, blurry examples make every blurry face match (Frigate #23450)",
    )
    enrol_min_sharpness: float = Field(
        30.0, ge=0, description="Blurriest face accepted as an example (a Gaussian blur of 2-3 px falls below)"
    )

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, v: str) -> str:
        if v not in ENGINES:
            raise ValueError(f"unknown face engine {v!r}; expected one of {', '.join(sorted(ENGINES))}")
        return v
