"""``camsift run`` under faults: 60 files over FTP and into a watched folder while the main process and its
workers are killed 20 times, the MQTT broker away during one kill (`harness.replay`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from faults.harness import MOSQUITTO, replay

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which(MOSQUITTO) is None, reason="mosquitto is not installed (apt-get install mosquitto)"
    ),
]


def test_kills_of_the_service_and_its_workers_lose_double_and_give_up_nothing(tmp_path: Path) -> None:
    counts = replay(tmp_path, files=60, kills=20, gap_s=(1.0, 2.5))
    print(counts.to_dict())

    assert counts.outstanding == [], counts  # what the service stopped making progress on
    assert counts.kills_main >= 5, counts
    assert counts.kills_worker >= 5, counts
    assert counts.acknowledged == counts.files, counts
    assert counts.events == counts.files, counts
    assert (counts.lost, counts.duplicated, counts.given_up) == (0, 0, 0), counts
    assert (counts.notifications_missing, counts.mqtt_missing) == (0, 0), counts
