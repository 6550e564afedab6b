"""Live view through blinkpy's ``BlinkLiveStream``: `FakeBlink` plays a real clip as IMMI packets over TLS."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from blink_helpers import FakeBlink, ts_of
from camsift.blink import record_live
from camsift.errors import SourceError
from service_helpers import needs_ffmpeg

pytest_plugins = ["blink_fixtures"]


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
    with pytest.raises(SourceError, match="Blink answered something camsift cannot read \\(live view\\)"):
        record_live(logged_in, "Front Door", io.BytesIO(), seconds=1)
