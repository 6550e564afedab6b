"""Matching faces against the known-faces library, one answer per event, and grouping unknown faces.

Pure numpy: the store loads the arrays, this module decides.

Matching is nearest-neighbour over every example of every person (what
``face_recognition.compare_faces`` does per example) rather than distance to a
per-person mean: with one to three photos a person the two agree on the
shared test faces, and the nearest example keeps working when a person's
examples show different looks (glasses, beard). A person's "not this person"
examples (from ``camsift faces wrong``) veto a match when the face is at least
as close to one of them as to the person's nearest real example.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from camsift.faces import UNKNOWN, Embedding

__all__ = ["LONE_FACE_SHARE", "Library", "Match", "cluster", "decide", "distances"]


def distances(embeddings: npt.NDArray[np.float32], embedding: Embedding) -> npt.NDArray[np.float32]:
    """Euclidean distances ``(n,)`` from each row of ``embeddings`` ``(n, dim)`` to ``embedding`` ``(dim,)``."""
    d: npt.NDArray[np.float32] = np.linalg.norm(embeddings - embedding, axis=1).astype(np.float32)
    return d


@dataclass(frozen=True)
class Match:
    """What the library says about one face.

    Attributes:
        name: The person it is; ``None`` when unknown.
        distance: Distance to the nearest positive example of anyone (``None`` with an empty library).
    """

    name: str | None
    distance: float | None


@dataclass(frozen=True, eq=False)
class Library:
    """The known faces of one embedding model, as parallel arrays.

    Attributes:
        embeddings: ``(n, dim)`` float32 examples.
        names: ``(n,)`` the person of each example.
        negative: ``(n,)`` bool, True for a "this face is not that person" example.

    Example:
        >>> lib = Library.of([("ann", np.zeros(2, np.float32), False)])
        >>> lib.match(np.array([0.3, 0], np.float32), max_distance=0.5).name
        'ann'
    """

    embeddings: npt.NDArray[np.float32] = field(repr=False)
    names: tuple[str, ...]
    negative: npt.NDArray[np.bool_] = field(repr=False)

    @classmethod
    def of(cls, examples: Iterable[tuple[str, Embedding, bool]], dim: int = 128) -> Library:
        """Build from ``(name, embedding, negative)`` rows."""
        rows = list(examples)
        return cls(
            np.stack([e for _, e, _ in rows]).astype(np.float32) if rows else np.zeros((0, dim), np.float32),
            tuple(name for name, _, _ in rows),
            np.array([neg for _, _, neg in rows], dtype=np.bool_),
        )

    @property
    def people(self) -> frozenset[str]:
        """Names with at least one positive example."""
        return frozenset(n for n, neg in zip(self.names, self.negative.tolist(), strict=True) if not neg)

    def match(self, embedding: Embedding, max_distance: float) -> Match:
        """The known person a face is, or unknown.

        The candidate is the person of the nearest positive example. It is the
        answer only if that distance is below ``max_distance`` and no negative
        example of that person is as close. Anything else is unknown: a
        stranger must never be given a name.

        Args:
            embedding: ``(dim,)`` the face's embedding.
            max_distance: ``faces.match_distance``.
        """
        positive = ~self.negative
        if not positive.any():
            return Match(None, None)
        d = distances(self.embeddings, embedding)
        nearest = int(np.argmin(np.where(positive, d, np.inf)))
        name, distance = self.names[nearest], float(d[nearest])
        vetoes = [float(dv) for dv, n, neg in zip(d, self.names, self.negative, strict=True) if neg and n == name]
        if distance >= max_distance or any(v <= distance for v in vetoes):
            return Match(None, distance)
        return Match(name, distance)


LONE_FACE_SHARE = 0.9
"""A lone face names an event only when closer than this share of ``faces.match_distance`` (0.45 at
the default 0.5). On ``../shared/data`` (``bench/faces.py``, and the scans of ``tests/faces``) faces
of enrolled adults in still photos come 0.06-0.40 from their own examples (Biden in
``obama_and_biden.jpg``: 0.40) and the nearest stranger 0.58; the 0.45-0.5 band, where strangers
appear first as the threshold grows, is left to events with more than one face."""


def decide(faces: Sequence[tuple[str | None, float | None]], max_distance: float) -> tuple[str | None, float | None]:
    """One ``(sub_label, sub_label_score)`` for an event from its faces' ``(name, distance)``.

    Each face is one frame of the event on which a usable face was seen, with `Library.match`'s
    answer for it. A matched frame is a guess; a stranger must not be named after one lucky
    frame while the others say "nobody I know". So:

    1. no face: ``(None, None)``;
    2. faces naming two different people (two people in one box, a tracker that swapped
       people): ``"unknown"``;
    3. a face at distance 0 is not a guess: it was named by hand (``camsift faces name``, the
       web's "who is this?") or is itself an example, so its name is the answer;
    4. otherwise the one name is the answer only when a **strict majority** of the faces give it
       (2 of 2, 2 of 3, 3 of 4 …): 1 of 2 or 1 of 3 is ``"unknown"``;
    5. a lone face is a majority of one, so it must also be well inside the threshold:
       closer than ``LONE_FACE_SHARE * max_distance``.

    A name is scored ``1 - nearest distance`` of its faces (0.5 and up with the default
    ``match_distance``; a similarity, not a probability).

    Args:
        faces: ``(name, distance)`` of each face; name ``None``: unknown (distance ``None``: empty library).
        max_distance: ``faces.match_distance`` the faces were matched with.

    Example:
        >>> decide([("ann", 0.3), (None, 0.6), ("ann", 0.45)], max_distance=0.5)
        ('ann', 0.7)
        >>> decide([("ann", 0.3), (None, 0.6), (None, 0.7)], max_distance=0.5)
        ('unknown', None)
    """
    if not faces:
        return None, None
    named = [(name, d) for name, d in faces if name is not None and d is not None]
    if len({name for name, _ in named}) != 1:
        return UNKNOWN, None
    nearest = min(d for _, d in named)
    by_hand = nearest == 0.0
    majority = 2 * len(named) > len(faces) and (len(faces) > 1 or nearest < LONE_FACE_SHARE * max_distance)
    if not (by_hand or majority):
        return UNKNOWN, None
    return named[0][0], round(max(0.0, 1.0 - nearest), 4)


def cluster(
    members: npt.NDArray[np.float32],
    member_ids: npt.NDArray[np.int64],
    new: npt.NDArray[np.float32],
    max_distance: float,
    next_id: int,
) -> list[int]:
    """Put new unknown faces into groups, keeping the groups already made (their ids stay valid).

    Online complete linkage: a face joins the group whose farthest member is
    nearest, if that member is closer than ``max_distance``; otherwise it starts a
    group. So any two faces of a group are closer than ``max_distance`` (the
    match threshold), and naming a whole group cannot sweep in a stranger
    the way single linkage's chains can.

    Args:
        members: ``(m, dim)`` faces already grouped.
        member_ids: ``(m,)`` their group ids.
        new: ``(k, dim)`` faces to group, in order.
        max_distance: Largest distance between two faces of a group.
        next_id: Id of the next new group.

    Returns:
        The group id of each new face.
    """
    ids: list[int] = []
    for embedding in new:
        if len(members):
            d = distances(members, embedding)
            groups, index = np.unique(member_ids, return_inverse=True)
            farthest = np.full(len(groups), -np.inf, np.float32)
            np.maximum.at(farthest, index, d)
            best = int(np.argmin(farthest))
            chosen = int(groups[best]) if farthest[best] < max_distance else next_id
        else:
            chosen = next_id
        next_id += chosen == next_id
        ids.append(chosen)
        members = np.vstack([members, embedding[None]])
        member_ids = np.append(member_ids, chosen)
    return ids
