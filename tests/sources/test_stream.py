"""The live-stream source against a stream served on loopback by FFmpeg, and its motion reporting.

The stream is a generated clip whose red rectangle (a "person" for the scripted detector) enters
after the pre-roll window has started: the saved clip must hold the pre-roll, play, and be queued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from camsift.config import Settings, StreamSourceConfig
from camsift.sources.stream import StreamSource, stream_url
from camsift.store import Store
from camsift.store.intake import DatabaseIntake
from camsift.store.queue import Job, JobQueue
from camsift.store.status import ServiceBoard
from helpers.media import Walk, write_clip
from helpers.service import free_port, needs_ffmpeg, red_times, serve_stream, wait_for

MakeSettings = Callable[..., Settings]
RECORD = {"record.buffer_s": 4, "record.pre_roll_s": 2, "record.post_roll_s": 1, "service.heartbeat_s": 0.3}


@pytest.fixture
def stream(
    scripted_settings: MakeSettings, data_dir: Path
) -> Iterator[Callable[[int], tuple[StreamSource, JobQueue, ServiceBoard]]]:
    """``stream(port)``: a running stream source for camera ``door`` reading ``tcp://127.0.0.1:<port>``."""
    started: list[StreamSource] = []
    store = Store(data_dir)

    def start(port: int) -> tuple[StreamSource, JobQueue, ServiceBoard]:
        config = StreamSourceConfig(type="stream", url=f"tcp://127.0.0.1:{port}", camera="door", timeout_s=3)
        source = StreamSource("door-stream", config, scripted_settings(**RECORD), DatabaseIntake(store))
        source.start()
        started.append(source)
        return source, JobQueue(store.engine), ServiceBoard(store.engine)

    yield start
    for source in started:
        source.stop()
    store.close()


def clips(queue: JobQueue) -> list[Job]:
    return [job for job, _, _ in queue.jobs()]


@needs_ffmpeg
def test_an_event_is_recorded_with_its_pre_roll_then_the_stream_reconnects_and_records_on_demand(
    stream: Callable[[int], tuple[StreamSource, JobQueue, ServiceBoard]], tmp_path: Path
) -> None:
    port = free_port()
    walker = write_clip(tmp_path / "walker.mp4", [Walk(5.0, 7.0)], seconds=9.0, fps=10, size=(320, 180)).path
    quiet = write_clip(tmp_path / "quiet.mp4", [], seconds=8.0, fps=10, size=(320, 180)).path

    with serve_stream(walker, port) as server:
        _, queue, board = stream(port)
        [job] = wait_for(lambda: clips(queue), 20, "the event's clip")
        server.wait(timeout=10)

    assert (job.camera, job.source, job.origin) == ("door", "door-stream", "stream")
    assert job.path.parent.name == "door"
    assert job.path.suffix == ".mp4"
    assert job.path.exists()
    red, last = red_times(job.path)
    assert red, "the person is in the clip"
    assert red[0] >= 1.5, f"the clip starts only {red[0]:.1f} s before the person: no pre-roll"
    assert red[0] <= 2.0 + 1.0 + 0.3  # pre-roll 2 s, aligned back to a keyframe (one per second)
    assert last >= red[-1] + 0.5  # post-roll after the person left

    with serve_stream(quiet, port):  # the first stream ended; the source reconnects to the next one
        wait_for(
            lambda: any(c.state == "running" and "0 clips" not in c.detail for c in board.components()), 15, "reconnect"
        )
        request = board.request_clip("door", 2.0)
        answer = wait_for(
            lambda: r if (r := board.clip_request(request)) and r.state == "done" else None, 15, "the clip asked for"
        )

    assert answer.clip is not None
    assert answer.clip.exists()
    assert [j.origin for j in clips(queue)] == ["stream", "record"]
    assert 1.5 <= red_times(answer.clip)[1] <= 2.0 + 2.0 + 1.0


@needs_ffmpeg
def test_stopping_closes_the_open_clip_and_queues_it(
    stream: Callable[[int], tuple[StreamSource, JobQueue, ServiceBoard]], tmp_path: Path
) -> None:
    port = free_port()
    walker = write_clip(tmp_path / "long.mp4", [Walk(2.0, 12.0)], seconds=14.0, fps=10, size=(320, 180)).path
    with serve_stream(walker, port):
        source, queue, board = stream(port)
        wait_for(lambda: any(c.state == "recording" for c in board.components()), 20, "a recording")
        wait_for(lambda: [m.on for m in board.motion()] == [True], 10, "motion ON")
        source.stop()

    [job] = clips(queue)
    red, last = red_times(job.path)
    assert red
    assert last < 10.0
    assert [c.state for c in board.components()] == ["stopped"]  # the motion row is not a component
    assert [(m.camera, m.source, m.on) for m in board.motion()] == [("door", "door-stream", False)]


def test_credentials_go_into_the_url_but_never_into_what_is_shown() -> None:
    from camsift.logs import redact

    config = StreamSourceConfig(type="stream", url="rtsp://cam.lan:554/live", username="admin", password="p@ss:w/rd")

    assert stream_url(config) == "rtsp://admin:p%40ss%3Aw%2Frd@cam.lan:554/live"
    assert redact(stream_url(config)) == "rtsp://admin:***@cam.lan:554/live"
    assert "p@ss" not in repr(config)
