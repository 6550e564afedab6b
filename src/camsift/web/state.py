"""What the web app works with while it runs (``app.state.web``)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from camsift.config import Settings
from camsift.store import Store
from camsift.store.faces import FaceStore
from camsift.store.status import ServiceBoard
from camsift.store.users import UserStore
from camsift.web.auth import LoginLimiter

if TYPE_CHECKING:
    from camsift.faces import FaceEngine

__all__ = ["Flashes", "WebState"]


class Flashes:
    """Messages for a browser session's next page ("2 events pinned"), kept in memory, never in a URL.

    Keyed by the session's CSRF token (random, per session, never shown to others). At most
    `MAX_SESSIONS` sessions and `MAX_MESSAGES` messages each are kept; the oldest go first.
    """

    MAX_SESSIONS = 1000
    MAX_MESSAGES = 5

    def __init__(self) -> None:
        self._waiting: OrderedDict[str, list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def push(self, key: str, message: str) -> None:
        """Keep ``message`` for session ``key``'s next page."""
        with self._lock:
            waiting = self._waiting.pop(key, [])
            self._waiting[key] = [*waiting, message][-self.MAX_MESSAGES :]
            while len(self._waiting) > self.MAX_SESSIONS:
                self._waiting.popitem(last=False)

    def pop(self, key: str) -> list[str]:
        """The messages waiting for session ``key``, oldest first; they are then gone."""
        with self._lock:
            return self._waiting.pop(key, [])


@dataclass
class WebState:
    """The open store and its views, the settings (replaced when a camera's settings change), the login limiter.

    Attributes:
        settings: The configuration with the camera overrides merged.
        store: The event store.
        users: Users, sessions, tokens.
        faces: The known-faces library.
        board: Service state and clip requests.
        limiter: Failed-login counter.
        flashes: Messages for each browser session's next page.
        badge: When the unreviewed count beside "Review" was counted (monotonic seconds) and the count.
    """

    settings: Settings
    store: Store
    users: UserStore = field(init=False)
    faces: FaceStore = field(init=False)
    board: ServiceBoard = field(init=False)
    limiter: LoginLimiter = field(init=False)
    flashes: Flashes = field(default_factory=Flashes, init=False)
    badge: tuple[float, int] | None = field(default=None, init=False)
    _engine: FaceEngine | None = field(default=None, init=False, repr=False)
    _engine_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.users = self.store.users
        self.faces = self.store.faces
        self.board = self.store.board
        self.limiter = LoginLimiter(self.settings.web.login_attempts, self.settings.web.login_window_s)

    def face_engine(self) -> FaceEngine:
        """The face engine, loaded on first use (enrolling a photo needs it).

        Raises:
            DetectorError: unknown engine, or the ``faces`` extra is missing.
        """
        from camsift.faces import create_engine

        with self._engine_lock:
            if self._engine is None:
                self._engine = create_engine(self.settings.faces.engine)
            return self._engine
