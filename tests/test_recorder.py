"""Live streams' building blocks: the packet ring, clips remuxed from it, and when clips start and stop."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import pytest

from camsift.config import RecordConfig
from camsift.media import capture_time, probe
from camsift.recorder import ClipWriter, PacketRing, Recorder
from helpers.media import Walk, write_clip
from helpers.service import red_times

if TYPE_CHECKING:
    import av.packet

    Packet = av.packet.Packet[Any]

FPS, GOP = 10, 5  # a keyframe every 0.5 s


@pytest.fixture
def packets(tmp_path: Path) -> list[tuple[float, Packet]]:
    """(time, packet) of a 12 s clip whose red rectangle is visible from 6 s to 8 s."""
    clip = write_clip(tmp_path / "camera.mp4", [Walk(6.0, 8.0)], seconds=12.0, fps=FPS, gop=GOP)
    container = av.open(str(clip.path))
    stream = container.streams.video[0]
    return [(float(p.pts * p.time_base), p) for p in container.demux(stream) if p.dts is not None and p.pts is not None]


def template(tmp_path: Path) -> av.video.stream.VideoStream:
    return av.open(str(tmp_path / "camera.mp4")).streams.video[0]


@pytest.mark.parametrize(("buffer_s", "at"), [(2.0, 5.0), (3.0, 11.9), (1.0, 0.9)])
def test_the_ring_holds_at_least_buffer_s_from_a_keyframe(
    packets: list[tuple[float, Packet]], buffer_s: float, at: float
) -> None:
    ring = PacketRing(buffer_s)
    for t, p in packets:
        if t <= at + 1e-6:
            ring.add(t, p)

    held = ring.since(-1.0)
    assert held[0][1].is_keyframe
    assert ring.span_s >= min(buffer_s, at) - 1e-6
    assert ring.span_s < buffer_s + GOP / FPS + 1e-6  # never more than one extra group of pictures


def test_the_ring_drops_packets_before_the_first_keyframe(packets: list[tuple[float, Packet]]) -> None:
    ring = PacketRing(5.0)
    for t, p in packets[1:8]:
        ring.add(t, p)

    assert [t for t, _ in ring.since(0.0)] == pytest.approx([0.5, 0.6, 0.7])


def test_a_clip_has_its_pre_roll_from_a_keyframe_and_plays(tmp_path: Path, packets: list[tuple[float, Packet]]) -> None:
    """An event confirmed at 6.2 s with pre-roll 3 s and post-roll 2 s: the clip runs from 3.0 s to about 8.2 s."""
    config = RecordConfig(buffer_s=5, pre_roll_s=3, post_roll_s=2)
    ring = PacketRing(config.buffer_s)
    wall = datetime(2026, 11, 22, 14, 30, 0, tzinfo=UTC)
    saved: list[tuple[Path, str, list[int]]] = []

    def open_clip(t: float) -> ClipWriter:
        return ClipWriter(tmp_path / "clips" / f"clip-{t:.1f}.mp4", template(tmp_path), wall.replace(second=int(t)))

    recorder = Recorder(ring, config, open_clip, lambda path, origin, req: saved.append((path, origin, req)))
    for t, p in packets:
        ring.add(t, p)
        if t == pytest.approx(6.2):
            recorder.want(t - config.pre_roll_s, t + config.post_roll_s)
        recorder.feed(t, p)
    recorder.close()

    [(path, origin, requests)] = saved
    assert (path.name, origin, requests) == ("clip-3.0.mp4", "stream", [])
    assert not path.with_name(path.name + ".part").exists()
    red, last = red_times(path)
    assert last == pytest.approx(8.2 - 3.0, abs=0.11)
    assert red[0] == pytest.approx(6.0 - 3.0, abs=0.01)  # the 3 s before the person are in the clip
    info = probe(path)
    assert capture_time(path, info, 0.0) == (wall.replace(second=3), "metadata")


def test_a_long_event_is_split_at_max_clip_s_on_a_keyframe(tmp_path: Path, packets: list[tuple[float, Packet]]) -> None:
    config = RecordConfig(buffer_s=2, pre_roll_s=1, post_roll_s=1, max_clip_s=5)
    ring = PacketRing(config.buffer_s)
    saved: list[tuple[str, str, list[int]]] = []
    wall = datetime(2026, 11, 22, tzinfo=UTC)

    def open_clip(t: float) -> ClipWriter:
        return ClipWriter(tmp_path / f"clip-{t:.1f}.mp4", template(tmp_path), wall)

    recorder = Recorder(ring, config, open_clip, lambda path, origin, req: saved.append((path.name, origin, req)))
    for t, p in packets:
        ring.add(t, p)
        if t == pytest.approx(1.0):
            recorder.want(0.0, 11.0, request=7)
        recorder.feed(t, p)

    assert saved == [("clip-0.0.mp4", "record", [7]), ("clip-5.0.mp4", "record", []), ("clip-10.0.mp4", "record", [])]
    assert [red_times(tmp_path / name)[1] for name, _, _ in saved] == pytest.approx([4.9, 4.9, 0.9], abs=0.11)
