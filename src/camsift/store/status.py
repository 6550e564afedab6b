"""What the running service tells other processes, through the database.

``camsift run`` writes one row per part of itself (the service, each source)
at every heartbeat; ``camsift status`` reads them from another process and
calls the service stopped when its heartbeat is stale. ``camsift record``
leaves a request that the camera's stream picks up and answers with a clip.

A live stream also keeps its camera's motion (as its motion gate sees it) in a
row of kind ``motion`` named ``motion:<camera>``, written only when it changes,
for the MQTT companion (`camsift.mqtt`) in the service's process. These rows
live in the same table, so no schema change was needed, but they are not parts
of the service: `ServiceBoard.components` leaves them out (so ``camsift
status``, the web app and the problem checks never show them) and
`ServiceBoard.motion` returns them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from camsift.store.clock import Clock, utc_now
from camsift.store.schema import requests_table, service_table

__all__ = ["MOTION_KIND", "ClipRequest", "Component", "MotionState", "ServiceBoard"]


@dataclass(frozen=True)
class Component:
    """The last reported state of one part of the service.

    Attributes:
        name: ``"service"`` or ``"source:<name>"``.
        kind: ``service``, ``folder``, ``ftp``, ``stream`` …
        state: ``running``, ``connecting``, ``recording``, ``error``, ``stopped`` …
        detail: One line for people (queue depth, address, recording clip …); never a secret.
        pid: Process id that reported it.
        started_utc: When that part started.
        updated_utc: Its last report.
        last_error: Its most recent error, one line.
        last_error_utc: When that error happened.
    """

    name: str
    kind: str
    state: str
    detail: str
    pid: int | None
    started_utc: datetime | None
    updated_utc: datetime
    last_error: str | None
    last_error_utc: datetime | None


MOTION_KIND = "motion"
"""``kind`` of the rows holding a camera's motion (`MotionState`), which are not service parts."""


@dataclass(frozen=True)
class MotionState:
    """A live camera's motion as its stream last reported it (`ServiceBoard.report_motion`).

    Attributes:
        camera: The camera.
        source: The stream source that reported it; its own state is the `Component` ``source:<source>``.
        on: Whether its motion gate has seen motion within ``motion.mqtt_off_delay_s``.
        updated_utc: When it last changed.
    """

    camera: str
    source: str
    on: bool
    updated_utc: datetime


@dataclass(frozen=True)
class ClipRequest:
    """An on-demand clip (``camsift record``).

    Attributes:
        id: Request id.
        camera: The camera to record.
        seconds: Seconds to record from when the stream picks the request up.
        state: ``pending``, ``done`` or ``error``.
        clip: The saved clip, once done.
        error: Why it failed, one line.
    """

    id: int
    camera: str
    seconds: float
    state: str
    clip: Path | None
    error: str | None


class ServiceBoard:
    """Service state and clip requests in the ``service`` and ``requests`` tables.

    Args:
        engine: The event store's engine (`Store.engine`).
        clock: What time it is (`camsift.store.clock`; default the real clock).
    """

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self._clock = clock

    def report(
        self,
        name: str,
        kind: str,
        state: str,
        detail: str = "",
        *,
        error: str | None = None,
        started_utc: datetime | None = None,
        pid: int | None = None,
    ) -> None:
        """Write one part's state (and, if given, its newest error; earlier errors are kept otherwise)."""
        t = service_table
        now = self._clock()
        values: dict[str, object] = {"kind": kind, "state": state, "detail": detail, "updated_utc": now}
        if error is not None:
            values.update(last_error=error, last_error_utc=now)
        if started_utc is not None:
            values["started_utc"] = started_utc
        if pid is not None:
            values["pid"] = pid
        with self.engine.begin() as conn:
            if conn.execute(t.update().where(t.c.name == name).values(**values)).rowcount == 0:
                conn.execute(t.insert().values(name=name, **values))

    def components(self) -> list[Component]:
        """Every reported part, the service first (cameras' motion rows left out: see `motion`)."""
        t = service_table
        with self.engine.connect() as conn:
            query = sa.select(t).where(t.c.kind != MOTION_KIND).order_by(t.c.name != "service", t.c.name)
            rows = conn.execute(query).all()
        return [Component(**row._mapping) for row in rows]

    def service_running(self, stale_s: float) -> bool:
        """Whether a service (``camsift run``) reported itself running or starting within ``stale_s`` seconds."""
        for part in self.components():
            if part.name == "service":
                age = (self._clock() - part.updated_utc).total_seconds()
                return part.state in ("running", "starting") and age <= stale_s
        return False

    def shown_states(self, stale_s: float, disk_full: bool = False) -> list[tuple[Component, str]]:
        """Every part with the state to show (``camsift status``, the web app): its own while the service runs;
        else ``stopped`` for a source, and for the service ``stopped`` if it said so, ``crashed`` if its last
        word was ``running`` or ``starting`` and its heartbeat is over ``stale_s`` seconds old (killed, out of
        memory, power lost: it never said goodbye), or ``disk full`` then if ``disk_full`` (`DataDir.full`: a
        service waiting for space cannot write its heartbeat)."""
        parts = self.components()
        running = any(
            p.name == "service"
            and p.state in ("running", "starting")
            and (self._clock() - p.updated_utc).total_seconds() <= stale_s
            for p in parts
        )
        if running:
            return [(p, p.state) for p in parts]
        gone = "disk full" if disk_full else "crashed"
        return [(p, ("stopped" if p.state == "stopped" else gone) if p.name == "service" else "stopped") for p in parts]

    def report_motion(self, camera: str, source: str, on: bool) -> None:
        """Write ``camera``'s motion as the stream ``source`` sees it (call it on a change only)."""
        self.report(f"{MOTION_KIND}:{camera}", MOTION_KIND, "on" if on else "off", source)

    def motion(self) -> list[MotionState]:
        """The motion of every camera whose live stream has reported it, by camera name."""
        t = service_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.kind == MOTION_KIND).order_by(t.c.name)).all()
        return [
            MotionState(r.name.removeprefix(f"{MOTION_KIND}:"), r.detail, r.state == "on", r.updated_utc) for r in rows
        ]

    def forget(self) -> None:
        """Remove every part's state and every camera's motion (at service start: sources may have been renamed
        or removed, and no stream is reading yet)."""
        with self.engine.begin() as conn:
            conn.execute(service_table.delete())

    def request_clip(self, camera: str, seconds: float) -> int:
        """Ask the stream of ``camera`` for a clip of the next ``seconds``; returns the request id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                requests_table.insert().values(
                    camera=camera, seconds=seconds, state="pending", requested_utc=self._clock()
                )
            )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def pending_clips(self, camera: str) -> list[ClipRequest]:
        """Requests for ``camera`` not yet answered, oldest first."""
        t = requests_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.camera == camera, t.c.state == "pending").order_by(t.c.id))
            return [self._request(row) for row in rows]

    def answer_clip(self, request_id: int, clip: Path | None, error: str | None = None) -> None:
        """Record the clip that answers a request, or why there is none."""
        with self.engine.begin() as conn:
            conn.execute(
                requests_table.update()
                .where(requests_table.c.id == request_id)
                .values(
                    state="error" if error else "done",
                    clip=str(clip) if clip else None,
                    error=error,
                    done_utc=self._clock(),
                )
            )

    def clip_request(self, request_id: int) -> ClipRequest | None:
        """A request by id."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(requests_table).where(requests_table.c.id == request_id)).first()
        return None if row is None else self._request(row)

    @staticmethod
    def _request(row: sa.Row[tuple[object, ...]]) -> ClipRequest:
        m = row._mapping
        return ClipRequest(
            m["id"], m["camera"], m["seconds"], m["state"], Path(m["clip"]) if m["clip"] else None, m["error"]
        )
