"""Background work: `BackgroundLoop`, the base of a part that works on one named daemon thread until stopped,
and `Backoff`, the waits after failures in a row.

Example:
    >>> retry = Backoff(first_s=5.0, max_s=30.0)
    >>> [retry.fail() for _ in range(5)]
    [5.0, 10.0, 20.0, 30.0, 30.0]
    >>> retry.reset()
    >>> retry.fail()
    5.0
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BackgroundLoop", "Backoff"]


@dataclass
class Backoff:
    """Exponential backoff: the wait after the n-th failure in a row is ``first_s * 2**(n - 1)``, at most ``max_s``.

    Attributes:
        first_s: Seconds after the first failure.
        max_s: Longest wait, in seconds.
        failures: Failures in a row so far (`reset` after a success).
    """

    first_s: float
    max_s: float
    failures: int = 0

    def fail(self) -> float:
        """Count one more failure; returns the seconds to wait before the next try."""
        self.failures += 1
        return min(self.max_s, self.first_s * 2.0 ** (self.failures - 1))

    def reset(self) -> None:
        """A success: the next failure waits ``first_s`` again."""
        self.failures = 0


class BackgroundLoop:
    """Base of a part that does its work on one named daemon thread until asked to stop.

    The subclass calls `_start_loop` from its ``start`` and `_stop_loop` from its ``stop``; its loop watches
    ``self._stop`` (wait on it to sleep, check it between steps). A daemon thread never keeps the process alive
    once the service has stopped.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _start_loop(self, name: str, target: Callable[..., None], *args: object) -> None:
        """Run ``target(*args)`` on a new daemon thread called ``name``."""
        self._thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._thread.start()

    def _stop_loop(self, timeout_s: float) -> None:
        """Ask the loop to stop and wait up to ``timeout_s`` seconds for its thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
