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

__all__ = ["Library", "Match", "cluster", "decide", "distances"]


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


def decide(faces: Sequence[tuple[str | None, float | None]]) -> tuple[str | None, float | None]:
    """One ``(sub_label, sub_label_score)`` for an event from its faces' ``(name, distance)``.

    No face: ``(None, None)``. Every named face names the same person: that
    name, scored ``1 - nearest distance`` (so 0.5 and up with the default
    ``match_distance``; a similarity, not a probability). Otherwise (no face
    recognised, or faces naming different people, e.g. two people in one
    box): ``"unknown"``.
    """
    if not faces:
        return None, None
    named = [(name, d) for name, d in faces if name is not None and d is not None]
    if not named or len({name for name, _ in named}) > 1:
        return UNKNOWN, None
    return named[0][0], round(max(0.0, 1.0 - min(d for _, d in named)), 4)


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
