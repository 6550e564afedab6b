"""Checking what may join the known-faces library: names, photos, and faces fit to be examples.

A library is only as good as its worst example: tiny or blurry examples make
every tiny or blurry face match that person (Frigate #23450, 22x28-pixel
crops giving 92-100 % false matches). So a photo must show exactly one face
that is big and sharp enough (``faces.enrol_min_face_px``,
``faces.enrol_min_sharpness``), and a face that already matches someone else
is refused rather than blurring two people together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from camsift import media
from camsift.config import FacesConfig
from camsift.errors import FaceError, MediaError
from camsift.faces import UNKNOWN, Face, FaceEngine
from camsift.faces.library import Library

if TYPE_CHECKING:
    from camsift.store.faces import FaceStore, Naming

__all__ = ["ENROL_MAX_SCALE", "ENROL_SEARCH_PX", "PhotoCheck", "check_name", "check_photo", "enrol", "example_problem"]

ENROL_SEARCH_PX = 4_000_000
"""Pixels searched in a photo: a 12 MP phone photo is searched at 0.58x (0.6 s), which still finds
every face wider than 140 px; a small photo is enlarged up to `ENROL_MAX_SCALE` within the same budget."""

ENROL_MAX_SCALE = 4.0
"""Enlargement of small photos, so that a face too small to learn from (down to about 20 px) is
found and refused as such rather than reported missing."""


@dataclass(frozen=True)
class PhotoCheck:
    """A photo offered to the library, and the verdict.

    Attributes:
        path: The photo.
        face: Its one usable face, when accepted.
        reason: One line saying why it was refused (``None`` when accepted).
    """

    path: Path
    face: Face | None
    reason: str | None


def check_name(name: str) -> str:
    """A person's name, stripped.

    Raises:
        FaceError: empty, longer than 64 characters, with control characters, or ``"unknown"``.
    """
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise FaceError(f"{name!r}: a name must be 1-64 printable characters")
    if name.lower() == UNKNOWN:
        raise FaceError(f"{name!r} is reserved for faces that are not in the library")
    return name


def example_problem(size_px: float, sharpness: float, config: FacesConfig) -> str | None:
    """Why a face cannot be an example of a person (``None`` when it can)."""
    if size_px < config.enrol_min_face_px:
        return f"face too small ({size_px:.0f} px wide, need {config.enrol_min_face_px})"
    if sharpness < config.enrol_min_sharpness:
        return f"face too blurry (sharpness {sharpness:.0f}, need {config.enrol_min_sharpness:.0f})"
    return None


def check_photo(engine: FaceEngine, path: Path, name: str, library: Library, config: FacesConfig) -> PhotoCheck:
    """Whether a photo can teach the library what ``name`` looks like.

    Accepted: exactly one face fit to be an example (`example_problem`), and that
    face does not already match another person.

    Args:
        engine: The face engine.
        path: A jpg, jpeg or png.
        name: The person it should show (a face matching this name in another case is theirs).
        library: The current library (to refuse a face that is someone else).
        config: ``faces`` settings.
    """
    if path.suffix.lower() not in media.IMAGE_SUFFIXES:
        return PhotoCheck(path, None, f"not a photo (expected {', '.join(sorted(media.IMAGE_SUFFIXES))})")
    try:
        rgb = media.read_frame(path, None)
    except MediaError as err:
        return PhotoCheck(path, None, err.reason)
    scale = min(ENROL_MAX_SCALE, math.sqrt(ENROL_SEARCH_PX / (rgb.shape[0] * rgb.shape[1])))
    faces = engine.faces(rgb, scale=scale)
    if not faces:
        return PhotoCheck(path, None, "no face found")
    usable = [f for f in faces if example_problem(f.size_px, f.sharpness, config) is None]
    if len(usable) > 1:
        return PhotoCheck(path, None, f"{len(usable)} faces found; a photo must show one person (crop it)")
    if not usable:
        biggest = max(faces, key=lambda f: f.size_px)
        return PhotoCheck(path, None, example_problem(biggest.size_px, biggest.sharpness, config))
    match = library.match(usable[0].embedding, config.match_distance)
    if match.name is not None and match.name.casefold() != name.casefold():
        return PhotoCheck(path, None, f"this face matches {match.name} (distance {match.distance:.2f})")
    return PhotoCheck(path, usable[0], None)


def enrol(
    faces: FaceStore, engine: FaceEngine, name: str, photos: Sequence[Path], config: FacesConfig
) -> tuple[Naming | None, list[PhotoCheck]]:
    """Check photos of a person and add the accepted ones to the library (`FaceStore.add`).

    Args:
        faces: The library.
        engine: The face engine.
        name: The person (new or known).
        photos: Their photos.
        config: ``faces`` settings.

    Returns:
        What the library learnt (``None`` when no photo was accepted) and the verdict on each photo.

    Raises:
        FaceError: the name is not valid.
        StorageError: the library cannot be written.

    Example:
        >>> engine = create_engine("dlib")  # doctest: +SKIP
        >>> naming, checks = enrol(faces, engine, "Ann", [Path("ann.jpg")], FacesConfig())  # doctest: +SKIP
        >>> [c.reason for c in checks]  # doctest: +SKIP
        [None]
    """
    name = check_name(name)
    library = faces.library(engine.model)
    checks = [check_photo(engine, path, name, library, config) for path in photos]
    accepted = [(c.face.embedding, str(c.path)) for c in checks if c.face is not None]
    return (faces.add(name, engine.model, accepted, config) if accepted else None), checks
