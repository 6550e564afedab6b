"""The known-faces library and the faces seen on events, in the event database.

Tables (``schema.py``): ``face_people`` (one row a person), ``face_examples``
(embeddings of what a person looks like, and of faces wrongly taken for them)
and ``event_faces`` (every face seen on a person event, its match, its
unknown-face group and its picture). Embeddings are float32 bytes; backups of
the database carry the whole library.

Pictures of faces live next to the snapshots (`camsift.layout.DataDir.face`)::

    <data_dir>/faces/YYYY-MM-DD/<camera>/<HHMMSS>-person-<event id>-face<n>.jpg

Every change to the library that can change what a past face is (a person
added, a group named, a person removed, a match marked wrong) relabels the
events concerned in the same transaction, so ``camsift events`` and the
notifications always see one story.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from camsift.config import FacesConfig
from camsift.errors import FaceError, StorageError
from camsift.events import Event
from camsift.faces import UNKNOWN, Embedding
from camsift.faces.enrol import example_problem
from camsift.faces.library import Library, cluster, decide
from camsift.store.schema import event_faces_table, events_table, face_examples_table, face_people_table

if TYPE_CHECKING:
    from camsift.store import Store

__all__ = [
    "EventFace",
    "FaceGroup",
    "FaceStore",
    "Naming",
    "Person",
    "face_crops",
    "face_crops_of",
    "face_rows",
]

P, X, F = face_people_table, face_examples_table, event_faces_table


def face_rows(events: Iterable[Event], relative: Callable[[Path | None], str | None]) -> list[dict[str, Any]]:
    """``event_faces`` rows of the faces of ``events`` (``relative`` maps a picture path to its stored name)."""
    return [
        {
            "event_id": e.id,
            "n": f.n,
            "ts_s": f.ts_s,
            "x1": f.box_xyxy[0],
            "y1": f.box_xyxy[1],
            "x2": f.box_xyxy[2],
            "y2": f.box_xyxy[3],
            "score": f.score,
            "sharpness": f.sharpness,
            "model": f.model,
            "embedding": _bytes(f.embedding),
            "name": f.name,
            "distance": f.distance,
            "crop": relative(f.crop),
        }
        for e in events
        for f in e.faces
    ]


def face_crops(conn: Connection, source: str) -> set[str]:
    """Stored names of the face pictures of the events found in ``source``."""
    query = sa.select(F.c.crop).join(events_table, events_table.c.id == F.c.event_id)
    return {c for (c,) in conn.execute(query.where(events_table.c.source == source)) if c}


def face_crops_of(conn: Connection, event_id: str) -> set[str]:
    """Stored names of the face pictures of one event."""
    return {c for (c,) in conn.execute(sa.select(F.c.crop).where(F.c.event_id == event_id)) if c}


def _bytes(embedding: Embedding) -> bytes:
    return np.asarray(embedding, dtype=np.float32).tobytes()


def _embedding(data: bytes) -> Embedding:
    return np.frombuffer(data, dtype=np.float32)


@dataclass(frozen=True)
class Person:
    """A known person.

    Attributes:
        name: Name.
        examples: Faces that show what they look like.
        negatives: Faces marked as wrongly taken for them.
        events: Events labelled with their name.
        added_utc: When they joined the library.
    """

    name: str
    examples: int
    negatives: int
    events: int
    added_utc: datetime


@dataclass(frozen=True)
class FaceGroup:
    """A group of similar unknown faces (maybe one stranger seen several times).

    Attributes:
        id: Group id (stable: `FaceStore.name_group` takes it).
        faces: Faces in the group.
        events: Ids of the events they were seen on.
        first_utc: Start of the earliest of those events.
        last_utc: Start of the latest.
        picture: The sharpest face's picture.
    """

    id: int
    faces: int
    events: list[str]
    first_utc: datetime
    last_utc: datetime
    picture: Path | None


@dataclass(frozen=True)
class EventFace:
    """A face seen on an event, as stored.

    Attributes:
        n: Number of the face within its event.
        name: The known person it is; ``None`` when unknown.
        distance: Distance to the nearest known example.
        size_px: Width of the face box in pixels.
        sharpness: See `camsift.faces.Face.sharpness`.
        crop: Its picture.
        group: Its unknown-face group, once grouped.
    """

    n: int
    name: str | None
    distance: float | None
    size_px: float
    sharpness: float
    crop: Path | None
    group: int | None


@dataclass(frozen=True)
class Naming:
    """What naming a group or adding photos did.

    Attributes:
        name: The person.
        faces: Past faces now carrying the name.
        examples: Of them, faces good enough to become examples.
        events: Ids of events whose label changed.
    """

    name: str
    faces: int
    examples: int
    events: list[str]


class FaceStore:
    """The known-faces library and the event faces of a `Store`.

    Args:
        store: The event store.

    Example:
        >>> faces = FaceStore(Store(Path("camsift-data")))  # doctest: +SKIP
        >>> [p.name for p in faces.people()]  # doctest: +SKIP
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        self._clock = store.clock

    def version(self) -> tuple[int, int]:
        """``(examples, highest example id)``: changes whenever the library does."""
        with self.engine.connect() as conn:
            count, top = conn.execute(sa.select(sa.func.count(), sa.func.max(X.c.id))).one()
        return int(count), int(top or 0)

    def library(self, model: str) -> Library:
        """Every example of embedding ``model``."""
        with self.engine.connect() as conn:
            return _library(conn, model)

    def spelling(self, name: str) -> str | None:
        """How a known person's name is stored, found ignoring case (``None``: nobody of that name).

        Names are one person whatever their case: ``faces add alice`` adds photos to "Alice",
        ``faces remove ALICE`` forgets her, and events keep the spelling she was added with.
        """
        with self.engine.connect() as conn:
            found = _spelling(conn, name)
        return None if found is None else found[1]

    def people(self) -> list[Person]:
        """Known people by name."""
        examples = sa.select(sa.func.count()).where(X.c.person_id == P.c.id, ~X.c.negative).scalar_subquery()
        negatives = sa.select(sa.func.count()).where(X.c.person_id == P.c.id, X.c.negative).scalar_subquery()
        events = sa.select(sa.func.count()).where(events_table.c.sub_label == P.c.name).scalar_subquery()
        query = sa.select(P.c.name, examples, negatives, events, P.c.added_utc).order_by(P.c.name)
        with self.engine.connect() as conn:
            return [Person(*row) for row in conn.execute(query)]

    def add(self, name: str, model: str, examples: Sequence[tuple[Embedding, str]], config: FacesConfig) -> Naming:
        """Add examples of a person (created if new), then look again at past unknown faces.

        Args:
            name: The person (checked with `camsift.faces.enrol.check_name`); a known person's name in
                any case is that person (`spelling`).
            model: Embedding model of the examples.
            examples: ``(embedding, source)`` pairs (source: the photo's path).
            config: ``faces`` settings (``match_distance``).

        Returns:
            What changed (with the stored spelling of the name): past unknown faces that now match
            (retrospective search).
        """
        with _transaction(self.engine, f"cannot add faces of {name}") as conn:
            now = self._clock()
            person, name = _person(conn, name, created_utc=now)
            _insert_examples(conn, person, model, [(e, source, False) for e, source in examples], now)
            found, events = _rematch(conn, _library(conn, model), model, config.match_distance)
        return Naming(name, found, len(examples), events)

    def remove(self, name: str) -> list[str]:
        """Forget a person (``name`` in any case, `spelling`): their examples go, their faces on events become unknown.

        Returns:
            Ids of the events whose label changed.

        Raises:
            FaceError: no such person.
        """
        with _transaction(self.engine, f"cannot remove {name}") as conn:
            person, name = _person(conn, name)
            conn.execute(X.delete().where(X.c.person_id == person))
            conn.execute(P.delete().where(P.c.id == person))
            events = [e for (e,) in conn.execute(sa.select(F.c.event_id).where(F.c.name == name).distinct())]
            conn.execute(F.update().where(F.c.name == name).values(name=None, cluster=None))
            return _relabel(conn, events, _ONLY_UNNAMING)

    def groups(self, model: str, max_distance: float) -> list[FaceGroup]:
        """Unknown faces in groups of similar faces, largest group first.

        Faces not grouped yet join a group now (`camsift.faces.library.cluster`);
        groups made earlier keep their ids.
        """
        with _transaction(self.engine, "cannot group unknown faces") as conn:
            _assign_groups(conn, model, max_distance)
            rows = conn.execute(
                sa.select(F.c.cluster, F.c.event_id, F.c.crop, F.c.sharpness, events_table.c.start_utc)
                .join(events_table, events_table.c.id == F.c.event_id)
                .where(F.c.name.is_(None), F.c.model == model)
                .order_by(F.c.cluster, F.c.sharpness.desc())
            ).all()
        by_group: dict[int, list[Any]] = {}
        for row in rows:
            by_group.setdefault(row.cluster, []).append(row)
        groups = [
            FaceGroup(
                id=gid,
                faces=len(members),
                events=sorted({m.event_id for m in members}),
                first_utc=min(m.start_utc for m in members),
                last_utc=max(m.start_utc for m in members),
                picture=self.store.data_dir / members[0].crop if members[0].crop else None,
            )
            for gid, members in by_group.items()
        ]
        return sorted(groups, key=lambda g: (-g.faces, g.id))

    def name_group(self, group: int, name: str, model: str, config: FacesConfig) -> Naming:
        """Give a group of unknown faces a name: relabel its events, learn from its good faces.

        Faces big and sharp enough (`camsift.faces.enrol.example_problem`) become
        examples of the person; then every other unknown face is matched again.

        Raises:
            FaceError: no unknown face in that group.
        """
        where = (F.c.cluster == group, F.c.name.is_(None), F.c.model == model)
        missing = f"no group {group} of unknown faces (see 'camsift faces unknown')"
        return self._name(where, missing, f"cannot name group {group}", name, model, config)

    def name_face(self, event_id: str, n: int, name: str, config: FacesConfig) -> Naming:
        """Say whose one face of an event is (enrol from an event's face), as `name_group` does for a group.

        Raises:
            FaceError: the event has no face ``n``.
        """
        with self.engine.connect() as conn:
            model = conn.execute(sa.select(F.c.model).where(F.c.event_id == event_id, F.c.n == n)).scalar()
        if model is None:
            raise FaceError(f"event {event_id!r} has no face {n}")
        where = (F.c.event_id == event_id, F.c.n == n)
        return self._name(
            where, f"event {event_id!r} has no face {n}", f"cannot name a face of {event_id}", name, model, config
        )

    def _name(
        self,
        where: Sequence[sa.ColumnElement[bool]],
        missing: str,
        what: str,
        name: str,
        model: str,
        config: FacesConfig,
    ) -> Naming:
        with _transaction(self.engine, what) as conn:
            faces = conn.execute(
                sa.select(F.c.id, F.c.event_id, F.c.embedding, F.c.x1, F.c.x2, F.c.sharpness).where(*where)
            ).all()
            if not faces:
                raise FaceError(missing)
            now = self._clock()
            person, name = _person(conn, name, created_utc=now)
            good = [f for f in faces if example_problem(f.x2 - f.x1, f.sharpness, config) is None]
            learnt = [(_embedding(f.embedding), f"event {f.event_id}", False) for f in good]
            _insert_examples(conn, person, model, learnt, now)
            conn.execute(F.update().where(F.c.id.in_([f.id for f in faces])).values(name=name, distance=0.0))
            events = _relabel(conn, sorted({f.event_id for f in faces}), config.match_distance)
            found, more = _rematch(conn, _library(conn, model), model, config.match_distance)
        return Naming(name, len(faces) + found, len(good), sorted({*events, *more}))

    def event_faces(self, event_id: str) -> list[EventFace]:
        """The faces seen on an event, in order."""
        query = sa.select(F.c.n, F.c.name, F.c.distance, F.c.x1, F.c.x2, F.c.sharpness, F.c.crop, F.c.cluster)
        with self.engine.connect() as conn:
            rows = conn.execute(query.where(F.c.event_id == event_id).order_by(F.c.n)).all()
        return [
            EventFace(
                r.n,
                r.name,
                r.distance,
                r.x2 - r.x1,
                r.sharpness,
                self.store.data_dir / r.crop if r.crop else None,
                r.cluster,
            )
            for r in rows
        ]

    def group_picture(self, group: int) -> Path | None:
        """The sharpest picture of a group of unknown faces (``None``: no such group, or no picture)."""
        query = sa.select(F.c.crop).where(F.c.cluster == group, F.c.name.is_(None), F.c.crop.is_not(None))
        with self.engine.connect() as conn:
            crop = conn.execute(query.order_by(F.c.sharpness.desc()).limit(1)).scalar()
        return None if crop is None else self.store.data_dir / crop

    def wrong(self, event_id: str) -> str:
        """Mark the name on an event as wrong: its faces become "not this person" examples and unknown.

        Returns:
            The name that was wrong.

        Raises:
            FaceError: no such event, or it is not labelled with a known person.
        """
        with _transaction(self.engine, f"cannot correct event {event_id}") as conn:
            label = conn.execute(sa.select(events_table.c.sub_label).where(events_table.c.id == event_id)).first()
            if label is None:
                raise FaceError(f"no event {event_id!r}")
            name = label[0]
            if name is None or name == UNKNOWN:
                raise FaceError(f"event {event_id} has no name to correct (sub_label: {name})")
            person, _ = _person(conn, name)
            faces = conn.execute(
                sa.select(F.c.id, F.c.model, F.c.embedding).where(F.c.event_id == event_id, F.c.name == name)
            ).all()
            for model in {f.model for f in faces}:
                rows = [(_embedding(f.embedding), f"event {event_id}", True) for f in faces if f.model == model]
                _insert_examples(conn, person, model, rows, self._clock())
            conn.execute(F.update().where(F.c.event_id == event_id).values(name=None, cluster=None))
            _relabel(conn, [event_id], _ONLY_UNNAMING)
        return str(name)


@contextmanager
def _transaction(engine: Engine, what: str) -> Iterator[Connection]:
    """A transaction whose database errors become one-line `StorageError`s naming ``what``."""
    try:
        with engine.begin() as conn:
            yield conn
    except sa.exc.SQLAlchemyError as err:
        raise StorageError(f"{what}: {err.__class__.__name__}") from err


def _library(conn: Connection, model: str) -> Library:
    query = sa.select(P.c.name, X.c.embedding, X.c.negative).join(P, P.c.id == X.c.person_id)
    rows = conn.execute(query.where(X.c.model == model).order_by(X.c.id)).all()
    return Library.of((name, _embedding(data), bool(neg)) for name, data, neg in rows)


def _spelling(conn: Connection, name: str) -> tuple[int, str] | None:
    """Id and stored name of the person called ``name``, ignoring case (`str.casefold`): the exact
    spelling first (a library made before names ignored case may hold both "Ann" and "ann")."""
    rows = conn.execute(sa.select(P.c.id, P.c.name).order_by(P.c.id)).all()
    found = [r for r in rows if r.name == name] or [r for r in rows if r.name.casefold() == name.casefold()]
    return (int(found[0].id), str(found[0].name)) if found else None


def _person(conn: Connection, name: str, created_utc: datetime | None = None) -> tuple[int, str]:
    """Id and stored name of a known person (`_spelling`), or of a new one added at ``created_utc`` if given.

    Raises:
        FaceError: nobody of that name and no ``created_utc``.
    """
    found = _spelling(conn, name)
    if found is not None:
        return found
    if created_utc is None:
        raise FaceError(f"no known person named {name!r} (see 'camsift faces list')")
    key = conn.execute(P.insert().values(name=name, added_utc=created_utc)).inserted_primary_key
    assert key is not None
    return int(key[0]), name


def _insert_examples(
    conn: Connection, person: int, model: str, rows: Sequence[tuple[Embedding, str, bool]], added_utc: datetime
) -> None:
    if rows:
        conn.execute(
            X.insert(),
            [
                {"person_id": person, "negative": neg, "model": model, "embedding": _bytes(e), "source": source}
                | {"added_utc": added_utc}
                for e, source, neg in rows
            ],
        )


_ONLY_UNNAMING = FacesConfig().match_distance
"""``max_distance`` for `_relabel` after changes that only make faces unknown (`FaceStore.remove`,
`FaceStore.wrong`): they never leave an event with one named face (each relabelled event had a face of
that person, now unknown), so `decide`'s lone-face threshold, the only use of it, never applies."""


def _relabel(conn: Connection, event_ids: Sequence[str], max_distance: float) -> list[str]:
    """Set each event's ``sub_label`` from its faces again (`decide`); returns the ids that changed.

    ``max_distance`` is ``faces.match_distance`` (`decide`'s lone-face rule)."""
    changed = []
    for event_id in event_ids:
        faces = conn.execute(sa.select(F.c.name, F.c.distance).where(F.c.event_id == event_id)).all()
        sub_label, score = decide([(name, distance) for name, distance in faces], max_distance)
        old = conn.execute(sa.select(events_table.c.sub_label).where(events_table.c.id == event_id)).scalar()
        if old != sub_label:
            changed.append(event_id)
        conn.execute(
            events_table.update()
            .where(events_table.c.id == event_id)
            .values(sub_label=sub_label, sub_label_score=score)
        )
    return changed


def _rematch(conn: Connection, library: Library, model: str, max_distance: float) -> tuple[int, list[str]]:
    """Match every unknown face of ``model`` again; returns (faces now named, events relabelled)."""
    rows = conn.execute(sa.select(F.c.id, F.c.event_id, F.c.embedding).where(F.c.name.is_(None), F.c.model == model))
    named = []
    for face_id, event_id, data in rows.all():
        match = library.match(_embedding(data), max_distance)
        if match.name is not None:
            conn.execute(F.update().where(F.c.id == face_id).values(name=match.name, distance=match.distance))
            named.append(event_id)
    return len(named), _relabel(conn, sorted(set(named)), max_distance)


def _assign_groups(conn: Connection, model: str, max_distance: float) -> None:
    unknown = sa.select(F.c.id, F.c.embedding, F.c.cluster).where(F.c.name.is_(None), F.c.model == model)
    rows = conn.execute(unknown.order_by(F.c.id)).all()
    new = [r for r in rows if r.cluster is None]
    if not new:
        return
    embeddings = np.array([_embedding(r.embedding) for r in rows], np.float32)
    grouped = np.array([r.cluster is not None for r in rows])
    top = conn.execute(sa.select(sa.func.max(F.c.cluster))).scalar()
    ids = cluster(
        embeddings[grouped],
        np.array([r.cluster for r in rows if r.cluster is not None], np.int64),
        embeddings[~grouped],
        max_distance,
        int(top or 0) + 1,
    )
    for row, gid in zip(new, ids, strict=True):
        conn.execute(F.update().where(F.c.id == row.id).values(cluster=gid))
