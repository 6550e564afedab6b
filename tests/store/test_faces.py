"""The known-faces library in the store: one person per name whatever its case.

Embeddings are made up (points on one axis), so no face model is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from camsift.config import FacesConfig
from camsift.errors import FaceError
from camsift.store import Store
from camsift.store.faces import FaceStore

MODEL = "test-model"
CONFIG = FacesConfig()


def face(x: float) -> np.ndarray:
    e = np.zeros(128, np.float32)
    e[0] = x
    return e


@pytest.fixture
def faces(tmp_path: Path, database_url: str | None) -> Iterator[FaceStore]:
    with Store(tmp_path / "data", database_url) as store:
        found = FaceStore(store)
        found.add("Ann Lee", MODEL, [(face(0), "ann.jpg")], CONFIG)
        yield found


@pytest.mark.parametrize("typed", ["Ann Lee", "ann lee", "ANN LEE", "aNN lEE"])
def test_a_name_in_any_case_is_the_known_person(faces: FaceStore, typed: str) -> None:
    assert faces.spelling(typed) == "Ann Lee"

    naming = faces.add(typed, MODEL, [(face(0.1), "ann2.jpg")], CONFIG)

    assert naming.name == "Ann Lee"
    assert [(p.name, p.examples) for p in faces.people()] == [("Ann Lee", 2)]
    assert faces.library(MODEL).names == ("Ann Lee", "Ann Lee")


@pytest.mark.parametrize("typed", ["ann lee", "ANN LEE"])
def test_remove_finds_the_person_whatever_the_case(faces: FaceStore, typed: str) -> None:
    faces.remove(typed)

    assert faces.people() == []
    assert faces.library(MODEL).people == frozenset()


@pytest.mark.parametrize("typed", ["Ann", "Ann Leee", "unknown"])
def test_other_names_are_other_people(faces: FaceStore, typed: str) -> None:
    assert faces.spelling(typed) is None
    with pytest.raises(FaceError, match=rf"^no known person named '{typed}' \(see 'camsift faces list'\)$"):
        faces.remove(typed)
    assert [p.name for p in faces.people()] == ["Ann Lee"]
