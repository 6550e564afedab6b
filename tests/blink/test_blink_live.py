"""Live view through blinkpy's ``BlinkLiveStream``: `FakeBlink` plays a real clip as IMMI packets over TLS."""

from __future__ import annotations

import asyncio
import io
import itertools
import time
from pathlib import Path

import av
import pytest

from camsift.blink import record_live
from camsift.blink.client import BlinkClient
from camsift.blink.immi import LiveProxy
from camsift.errors import SourceError
from helpers.blink import FakeBlink, ts_of
from helpers.service import needs_ffmpeg

pytest_plugins = ["helpers.blink_fixtures"]


def frames_in(ts: bytes) -> int:
    with av.open(io.BytesIO(ts), "r", format="mpegts") as container:
        return len(list(container.decode(video=0)))


@pytest.fixture
def live_clip(blink: FakeBlink, shared_data: Path) -> bytes:
    """Blink's live view plays 2 s of a real clip, then ends the session."""
    blink.live_ts = ts_of(shared_data / "clips" / "intel_one-by-one-person-detection.mp4", 2.0)
    blink.live_duration_s = 1.0
    return blink.live_ts


@needs_ffmpeg
@pytest.mark.parametrize("sessions", [1, 2])
def test_the_live_view_is_written_as_mpeg_ts_session_after_session(
    blink: FakeBlink, logged_in: Path, live_clip: bytes, sessions: int
) -> None:
    out = io.BytesIO()

    written = record_live(logged_in, "Front Door", out, seconds=30, sessions=sessions)

    data = out.getvalue()
    assert written == len(data)
    assert data[:1] == b"\x47"
    assert blink.live_sessions == sessions
    assert blink.count("POST /api/v6/accounts/1111/networks/2222/cameras/3333/liveview") == sessions
    assert frames_in(data) >= 15 * sessions  # 2 s at 10 fps per session, whole frames only
    assert blink.count(r"POST /network/2222/command/\d+/done/") == sessions


@needs_ffmpeg
def test_recording_stops_after_the_seconds_asked(blink: FakeBlink, logged_in: Path, live_clip: bytes) -> None:
    blink.live_duration_s = 20.0
    out = io.BytesIO()
    record_live(logged_in, "Front Door", out, seconds=1.5)
    assert 0 < len(out.getvalue()) < len(live_clip) / 2


def test_a_camera_blink_offers_no_live_view_for_is_a_clear_error(blink: FakeBlink, logged_in: Path) -> None:
    blink.fail("/liveview", 404)
    with pytest.raises(SourceError, match=r"'Front Door': Blink gave no live view .*\(Blink answered 404 Not Found"):
        record_live(logged_in, "Front Door", io.BytesIO(), seconds=1)


@needs_ffmpeg
def test_the_next_session_starts_as_soon_as_blink_ends_one_not_at_blinkpys_next_poll(
    blink: FakeBlink, logged_in: Path, live_clip: bytes
) -> None:
    """Blink asks for a poll every 15 s: a relay that waits for that poll to notice the end loses up to 15 s."""
    started = time.monotonic()

    record_live(logged_in, "Front Door", io.BytesIO(), seconds=12, sessions=3)

    assert blink.live_sessions == 3
    assert time.monotonic() - started < 8
    assert blink.count(r"POST /network/2222/command/\d+/done/") == 3  # each session's command is closed


HOUSEHOLD = {"cameras": ("Front Door",), "minis": ("Living Room",), "doorbells": ("Porch",)}


@needs_ffmpeg
@pytest.mark.parametrize("blink", [HOUSEHOLD], indirect=True)
@pytest.mark.parametrize(
    ("camera", "asked"),
    [
        ("Living Room", "POST /api/v2/accounts/1111/networks/2222/owls/3334/liveview"),
        ("Porch", "POST /api/v2/accounts/1111/networks/6002/doorbells/3335/liveview"),
    ],
)
def test_minis_and_doorbells_have_a_live_view_too(
    blink: FakeBlink, logged_in: Path, live_clip: bytes, camera: str, asked: str
) -> None:
    out = io.BytesIO()
    record_live(logged_in, camera, out, seconds=10)
    assert blink.count(asked) == 1
    assert frames_in(out.getvalue()) >= 15


@needs_ffmpeg
def test_a_session_ends_when_its_continue_interval_is_up(blink: FakeBlink, logged_in: Path, live_clip: bytes) -> None:
    """Blink's answer says how long a session lasts unless continued; camsift then hands over to a new one."""
    blink.live_duration_s, blink.live_continue_s = 30.0, 1.5
    started = time.monotonic()

    record_live(logged_in, "Front Door", io.BytesIO(), seconds=20)

    assert time.monotonic() - started < 6
    assert blink.live_sessions == 1


def test_a_refused_live_view_backs_off_doubling_and_honours_retry_after(blink: FakeBlink, logged_in: Path) -> None:
    blink.fail("/liveview", 429, times=1, retry_after="3")
    blink.fail("/liveview", 503, times=2)
    states: list[tuple[str, str, str | None]] = []

    async def go() -> list[float]:
        async with BlinkClient(logged_in) as client:
            await client.connect()
            proxy = LiveProxy(client, "Front Door", reconnect_max_s=60)
            asked: list[float] = []

            def stopping() -> bool:
                if blink.count("liveview") > len(asked):
                    asked.append(time.monotonic())
                return blink.live_sessions >= 1 or len(asked) > 4

            await proxy.run(stopping, lambda *state: states.append(state))
            return [b - a for a, b in itertools.pairwise(asked)]

    blink.live_ts, blink.live_duration_s = b"", 0.1
    waits = asyncio.run(go())

    assert [state for state, _, _ in states] == ["serving", "error", "serving", "error", "serving", "error", "serving"]
    assert [detail for state, detail, _ in states if state == "error"] == [
        "live Front Door: next try in 3 s",  # Retry-After
        "live Front Door: next try in 2 s",  # 1 s, 2 s, 4 s … (the 429 counted as the first)
        "live Front Door: next try in 4 s",
    ]
    assert "Blink answered 429" in str(states[1][2])
    assert [round(w) for w in waits[:3]] == [3, 2, 4]
