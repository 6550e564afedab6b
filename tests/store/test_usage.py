"""Paid-API request counts per UTC day: the budget, month totals, cost (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from camsift.store import Store
from camsift.store.usage import Usage, UsageBoard

DAY = date(2026, 11, 22)


@pytest.fixture
def board(data_dir: Path, database_url: str | None) -> Iterator[UsageBoard]:
    with Store(data_dir, database_url) as store:
        yield UsageBoard(store.engine)


def test_spend_counts_until_the_budget_is_used_up(board: UsageBoard) -> None:
    assert [board.spend("rekognition", 3, DAY) for _ in range(5)] == [1, 2, 3, None, None]
    assert board.usage("rekognition", DAY) == Usage("rekognition", 3, 3)


def test_no_limit_and_separate_services(board: UsageBoard) -> None:
    for _ in range(4):
        board.spend("rekognition", 0, DAY)
    board.spend("other", 0, DAY)

    assert board.usage("rekognition", DAY).today == 4
    assert board.services() == ["other", "rekognition"]


def test_month_totals_and_cost(board: UsageBoard) -> None:
    for day, n in ((date(2026, 10, 31), 7), (date(2026, 11, 1), 5), (DAY, 2), (date(2026, 11, 23), 9)):
        for _ in range(n):
            board.spend("rekognition", 0, day)

    usage = board.usage("rekognition", DAY)

    assert (usage.today, usage.month) == (2, 7)  # Oct 31 and Nov 23 are outside
    assert usage.cost(1.0) == pytest.approx((0.002, 0.007))


def test_concurrent_spenders_never_exceed_the_budget(board: UsageBoard) -> None:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: board.spend("rekognition", 10, DAY), range(30)))

    assert sorted(r for r in results if r is not None) == list(range(1, 11))
    assert board.usage("rekognition", DAY).today == 10
