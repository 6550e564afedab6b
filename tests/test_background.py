"""`camsift.background`: the waits of `Backoff` and the thread of a `BackgroundLoop`."""

from __future__ import annotations

import threading

import pytest

from camsift.background import BackgroundLoop, Backoff


@pytest.mark.parametrize(
    ("first_s", "max_s", "waits"),
    [
        (5.0, 600.0, [5.0, 10.0, 20.0, 40.0, 80.0]),  # notify.retry_first_s, retry_max_s
        (2.0, 30.0, [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]),  # a stream's reconnection
        (60.0, 1800.0, [60.0, 120.0, 240.0, 480.0, 960.0, 1800.0]),  # a Blink poll
        (10.0, 5.0, [5.0, 5.0]),  # never more than max_s, even the first
    ],
)
def test_backoff_doubles_from_first_s_up_to_max_s(first_s: float, max_s: float, waits: list[float]) -> None:
    retry = Backoff(first_s, max_s)

    assert [retry.fail() for _ in waits] == waits
    assert retry.failures == len(waits)


def test_backoff_starts_again_after_a_reset() -> None:
    retry = Backoff(1.0, 30.0)
    waits = [retry.fail() for _ in range(3)]

    retry.reset()

    assert (waits, retry.fail()) == ([1.0, 2.0, 4.0], 1.0)


class _Ticker(BackgroundLoop):
    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0
        self.ticked = threading.Event()

    def start(self, step_s: float) -> None:
        self._start_loop("ticker", self._loop, step_s)

    def stop(self) -> None:
        self._stop_loop(5)

    def _loop(self, step_s: float) -> None:
        while not self._stop.wait(step_s):
            self.ticks += 1
            self.ticked.set()


def test_a_background_loop_runs_on_a_named_daemon_thread_until_stopped() -> None:
    ticker = _Ticker()

    ticker.start(0.01)
    assert ticker.ticked.wait(5)
    thread = ticker._thread
    ticker.stop()

    assert thread is not None
    assert (thread.name, thread.daemon, thread.is_alive()) == ("ticker", True, False)
    assert ticker.ticks >= 1


def test_stopping_a_loop_never_started_is_harmless() -> None:
    ticker = _Ticker()

    ticker.stop()

    assert ticker._thread is None
