"""Enrolment and recognition with dlib on the real photos of ``../shared/data/faces``.

Enrolled from one or two photos each: Obama, Biden, Alex Lacamoire, Lin-Manuel
Miranda. Not enrolled: Kit Harington, Rose Leslie, and the child at the right
of ``obama_and_biden.jpg``.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from camsift import Store
from camsift.config import FacesConfig
from camsift.errors import DetectorError
from camsift.faces import UNKNOWN, FaceEngine, create_engine
from camsift.faces.enrol import ENROL_SEARCH_PX, check_photo, enrol
from camsift.faces.library import Library, decide
from camsift.media import read_frame
from camsift.store.faces import FaceStore

CONFIG = FacesConfig()
GALLERY = {
    "Obama": ["obama.jpg"],
    "Biden": ["biden.jpg"],
    "Alex Lacamoire": ["alex_lacamoire_img1.jpg", "alex-lacamoire.png"],
    "Lin-Manuel Miranda": ["lin-manuel-miranda.png"],
}


@pytest.fixture(scope="module")
def library(face_engine: FaceEngine, faces_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Library:
    """The gallery, enrolled the way ``camsift faces add`` does."""
    with Store(tmp_path_factory.mktemp("library")) as store:
        faces = FaceStore(store)
        for name, photos in GALLERY.items():
            naming, checks = enrol(faces, face_engine, name, [faces_data / p for p in photos], CONFIG)
            assert [c.reason for c in checks] == [None] * len(photos)
            assert naming is not None
            assert naming.examples == len(photos)
        return faces.library(face_engine.model)


def names_in(engine: FaceEngine, library: Library, photo: Path) -> list[str | None]:
    """The name of each face of a photo, left to right, as an event would get it."""
    rgb = read_frame(photo, None)
    scale = min(2.0, math.sqrt(ENROL_SEARCH_PX / (rgb.shape[0] * rgb.shape[1])))
    faces = sorted(engine.faces(rgb, scale=scale), key=lambda f: f.box_xyxy[0])
    usable = [f for f in faces if f.size_px >= CONFIG.min_face_px and f.sharpness >= CONFIG.min_sharpness]
    matches = [library.match(f.embedding, CONFIG.match_distance) for f in usable]
    return [decide([(m.name, m.distance)], CONFIG.match_distance)[0] for m in matches]


@pytest.mark.parametrize(
    ("photo", "expected"),
    [
        ("obama2.jpg", ["Obama"]),
        ("obama_small.jpg", ["Obama"]),
        ("obama_partial_face.jpg", ["Obama"]),
        ("obama_and_biden.jpg", ["Biden", "Obama", UNKNOWN]),  # and the child, not enrolled
        ("two_people.jpg", ["Obama", "Biden"]),
        ("kit_harington_john1.jpeg", [UNKNOWN]),
        ("rose_leslie_img1.jpg", [UNKNOWN]),
    ],
)
def test_enrolled_people_are_named_and_others_are_unknown(
    face_engine: FaceEngine, library: Library, faces_data: Path, photo: str, expected: list[str]
) -> None:
    assert names_in(face_engine, library, faces_data / photo) == expected


def test_library_has_every_enrolled_person_and_their_examples(library: Library) -> None:
    assert library.people == set(GALLERY)
    assert len(library.names) == 5
    assert library.embeddings.shape == (5, 128)
    assert library.embeddings.dtype == np.float32


def blurred(source: Path, target: Path, radius: float) -> Path:
    Image.open(source).convert("RGB").filter(ImageFilter.GaussianBlur(radius)).save(target)
    return target


def shrunk(source: Path, target: Path, factor: float) -> Path:
    img = Image.open(source).convert("RGB")
    img.resize((round(img.width * factor), round(img.height * factor)), Image.Resampling.BILINEAR).save(target)
    return target


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda d, t: d / "obama_and_biden.jpg", r"3 faces found; a photo must show one person \(crop it\)"),
        (lambda d, t: shrunk(d / "obama.jpg", t / "tiny.jpg", 0.1), r"face too small \(2\d px wide, need 80\)"),
        (lambda d, t: shrunk(d / "obama.jpg", t / "small.jpg", 0.25), r"face too small \(\d\d px wide, need 80\)"),
        (lambda d, t: blurred(d / "obama.jpg", t / "blurred.jpg", 6), r"face too blurry \(sharpness \d, need 30\)"),
        (lambda d, t: d.parent / "images" / "skimage_chelsea_cat.png", "no face found"),
        (lambda d, t: d / "short_hamilton_clip.mp4", r"not a photo \(expected \.jpeg, \.jpg, \.png\)"),
        (lambda d, t: d / "biden.jpg", r"this face matches Biden \(distance 0\.00\)"),
    ],
    ids=["group", "tiny", "small", "blurred", "cat", "clip", "someone else"],
)
def test_photos_that_would_poison_the_library_are_refused(
    face_engine: FaceEngine,
    library: Library,
    faces_data: Path,
    tmp_path: Path,
    make: Callable[[Path, Path], Path],
    pattern: str,
) -> None:
    photo = make(faces_data, tmp_path)

    check = check_photo(face_engine, photo, "Obama", library, CONFIG)

    assert check.face is None
    assert re.fullmatch(pattern, check.reason or ""), check.reason


def test_a_file_that_is_no_image_is_refused_with_a_reason(face_engine: FaceEngine, tmp_path: Path) -> None:
    fake = tmp_path / "me.jpg"
    fake.write_text("not a picture")

    check = check_photo(face_engine, fake, "Ann", Library.of([]), CONFIG)

    assert check.reason is not None
    assert check.reason.startswith("cannot decode image")
    assert "\n" not in check.reason


def test_missing_model_package_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "face_recognition_models" else real(n))

    with pytest.raises(DetectorError, match=r"face-recognition-models package: pip install 'camsift\[faces\]'"):
        create_engine("dlib")


def test_missing_dlib_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)

    with pytest.raises(DetectorError, match=r"needs dlib: pip install 'camsift\[faces\]'"):
        create_engine("dlib")


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(DetectorError, match="unknown face engine 'arcface'; expected one of dlib"):
        create_engine("arcface")
