"""``stream``: a live stream (RTSP, HTTP, MPEG-TS over TCP: anything FFmpeg opens), recorded around events.

Each stream runs in a process of its own, so its decoding and detection never
compete with the FTP server or another stream for the interpreter. In that
process:

- the **reader** (its main thread) demuxes encoded packets into a `PacketRing`
  of the last ``record.buffer_s`` seconds, feeds the `Recorder`, and passes
  packets on to the analysis through a short queue; when the analysis falls
  behind, packets are skipped up to the next keyframe, so the detector never
  blocks the reader and never sees a broken picture;
- the **analysis** thread decodes the packets and runs the same `Pipeline`
  as ``camsift scan`` at ``detect.fps``; while `Pipeline.confirmed` reports an
  event in progress it asks the recorder for a clip from ``pre_roll_s``
  before to ``post_roll_s`` after, records each object the pipeline newly
  confirms (the rule that makes events) as an event in
  progress (`camsift.store.live`), which the service tells at once as
  Frigate's ``new`` and notifies, and a `MotionReporter` writes the camera's
  motion ON/OFF to the database as the pipeline's motion gate sees it (for
  MQTT's ``<camera>/motion``, `camsift.mqtt`).

A finished clip goes into the job queue like any upload and is analysed in
full by the service's workers, so its events, snapshots and database rows are
exactly those of ``camsift scan`` on the clip, with ``Event.clip`` set; an
event of the clip that is an object told in progress keeps that one's id
(`camsift.service`). A
dropped stream (Blink sessions end every few minutes) closes the open clip
and reconnects after 1 s, doubling up to ``reconnect_max_s``. At start,
clips a crash left as ``.part`` (fragmented MP4, so playable) are finished
and queued. ``camsift record CAMERA`` leaves a request in the database that
the reader picks up within a second.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from camsift.background import Backoff
from camsift.config import Settings, StreamSourceConfig
from camsift.errors import CamsiftError
from camsift.layout import RECORDING_SUFFIX, DataDir, safe_name
from camsift.live_picture import LIVE_EVERY_S, write_jpeg, write_live_frame
from camsift.logs import configure, get_logger, redact
from camsift.media import Frame
from camsift.recorder import ClipWriter, Origin, PacketRing, Recorder
from camsift.sources import Intake, register
from camsift.sources.live_frames import Freshness, MotionReporter
from camsift.store import Store
from camsift.store.intake import DatabaseIntake
from camsift.store.live import LiveEvent, live_id

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerProcess

    import av.container
    from av.video.stream import VideoStream

    from camsift.detectors import Detector
    from camsift.events import Confirmed
    from camsift.pipeline import Pipeline

__all__ = ["StreamSource", "stream_url"]

log = get_logger("camsift.sources.stream")

_ANALYSIS_QUEUE = 256
"""Packets the analysis may lag behind the reader (about 10 s at 25 fps) before packets are skipped."""


def stream_url(config: StreamSourceConfig) -> str:
    """The address to open: ``config.url`` with ``username``/``password`` put in (never log it; see `redact`)."""
    if config.username is None and config.password is None:
        return config.url
    parts = urlsplit(config.url)
    user = quote(config.username or "", safe="")
    secret = quote(config.password.get_secret_value(), safe="") if config.password else ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:{secret}@{host}" if secret else f"{user}@{host}"))


@register("stream")
class StreamSource:
    """Runs one live stream in a process of its own.

    Args:
        name: Source name.
        config: Its config.
        settings: The whole configuration.
        intake: Unused in this process: the stream's process writes to the database itself.
    """

    kind = "stream"

    def __init__(self, name: str, config: StreamSourceConfig, settings: Settings, intake: Intake) -> None:
        self.name, self.config, self.settings = name, config, settings
        self.camera = config.camera or name
        self._process: ForkServerProcess | None = None

    def start(self) -> None:
        """Start the stream's process."""
        import multiprocessing

        self._process = multiprocessing.get_context("forkserver").Process(
            target=_run, args=(self.name, self.config, self.settings, os.getpid()), name=f"camsift-stream-{self.name}"
        )
        self._process.start()

    @property
    def pid(self) -> int | None:
        """Process id of the stream's process, once started."""
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        """Ask the process (SIGTERM) to close its clip and stop; kill it if it has not within 8 s."""
        if self._process is None:
            return
        self._process.terminate()
        self._process.join(timeout=8)
        if self._process.is_alive():
            log.warning("stream did not stop in time; killing it", source=self.name)
            self._process.kill()
            self._process.join(timeout=2)

    def processed(self, path: Path, events: int) -> None:
        """Delete a clip in which the full analysis found nothing (unless ``record.keep_empty``)."""
        if events == 0 and not self.settings.for_camera(self.camera).record.keep_empty:
            path.unlink(missing_ok=True)


def _run(name: str, config: StreamSourceConfig, settings: Settings, service_pid: int) -> None:
    """The stream process: Ctrl-C is the service's to handle; SIGTERM stops cleanly."""
    configure()
    from camsift.analysis.pool import prepare_worker

    prepare_worker()  # FFmpeg's logging off, malloc tuned, no OpenCV thread pool (as the scan's workers)
    stream = _Stream(name, config, settings, service_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stream.terminate)
    try:
        stream.run()
    except CamsiftError as err:
        log.error("stream stopped", source=name, reason=str(err))


class _Stream:
    """Connect, read, reconnect; one `_Session` per connection."""

    def __init__(self, name: str, config: StreamSourceConfig, settings: Settings, service_pid: int) -> None:
        self.name, self.config, self.settings, self.service_pid = name, config, settings, service_pid
        self.terminated = False
        self.camera = config.camera or name
        self.camera_settings = settings.for_camera(self.camera)
        self.store = Store(settings.data_dir, settings.database)
        self.intake = DatabaseIntake(self.store)
        self.shown = redact(stream_url(config))
        self.clips = 0

    def terminate(self, *_signal: object) -> None:
        """SIGTERM handler: only sets a flag (a lock taken here could deadlock with the interrupted code)."""
        self.terminated = True

    def stopping(self) -> bool:
        """Stop asked, or the service died (killed: no one is left to ask)."""
        if self.terminated:
            return True
        try:
            os.kill(self.service_pid, 0)
        except ProcessLookupError:
            return True
        return False

    def pause(self, seconds: float) -> None:
        """Sleep, waking early to stop."""
        deadline = time.monotonic() + seconds
        while not self.stopping() and time.monotonic() < deadline:
            time.sleep(0.2)

    def report(self, state: str, detail: str, error: str | None = None) -> None:
        """Publish the stream's state; the URL shown never carries the password."""
        try:
            self.intake.report(self.name, "stream", state, f"{self.shown} {detail}".strip(), error)
        except CamsiftError as err:
            log.warning("cannot report stream state", source=self.name, reason=str(err))

    def report_motion(self, on: bool) -> None:
        """Publish the camera's motion (`ServiceBoard.report_motion`), for MQTT."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            self.intake.board.report_motion(self.camera, self.name, on)
        except (CamsiftError, SQLAlchemyError) as err:  # a busy database must not stop the analysis
            log.warning("cannot report motion", source=self.name, reason=str(err).partition("\n")[0])

    def run(self) -> None:
        """Recover crashed clips, then keep a session open until stopped."""
        from camsift.analysis.file import shared_detector

        self.recover()
        s = self.camera_settings
        detector = shared_detector(s, s.detect.threads or 1)
        retry = Backoff(2.0, self.config.reconnect_max_s)  # 1 s after a session that read frames, else 2 s doubling
        while not self.stopping():
            self.report("connecting", "")
            received = _Session(self, detector).run()
            if self.stopping():
                break
            if received:
                retry.reset()
            wait = 1.0 if received else retry.fail()
            self.report("connecting", f"reconnecting in {wait:.0f} s")
            self.pause(wait)
        self.report("stopped", f"{self.clips} clips")

    def recover(self) -> None:
        """Finish and queue clips of this camera that a crash left behind (``.part``), and any not yet queued."""
        root, folder = DataDir(self.settings.data_dir).clips, safe_name(self.camera)
        for part in sorted(root.glob(f"*/{folder}/*.mp4{RECORDING_SUFFIX}")):
            final = part.with_name(part.name.removesuffix(RECORDING_SUFFIX))
            if part.stat().st_size == 0:
                part.unlink()
                continue
            os.replace(part, final)
            log.info("recovered a clip cut off by a stop", source=self.name, path=str(final))
        for clip in sorted(root.glob(f"*/{folder}/*.mp4")):
            self.intake.submit(clip, self.camera, self.name, "stream")

    def clip_done(self, path: Path, origin: Origin, requests: list[int]) -> None:
        """Queue a finished clip and answer the requests it satisfies."""
        self.clips += 1
        self.intake.submit(path, self.camera, self.name, origin)
        for request in requests:
            self.intake.board.answer_clip(request, path)
        log.info("clip saved", source=self.name, camera=self.camera, path=str(path), origin=origin)


class _Session:
    """One connection: the reader loop (this thread) and the analysis thread."""

    def __init__(self, stream: _Stream, detector: Detector) -> None:
        self.stream, self.detector = stream, detector
        self.record = stream.camera_settings.record
        self.ring = PacketRing(self.record.buffer_s)
        self.recorder = Recorder(self.ring, self.record, self._open_clip, stream.clip_done)
        self.packets: queue.Queue[Any] = queue.Queue(_ANALYSIS_QUEUE)
        self.skipped = 0
        self.skipping = False
        self.fresh = Freshness()
        self.wall_start = datetime.now(UTC)
        self.t0: float | None = None
        self.template: VideoStream | None = None
        self.told: set[int] = set()  # tracker ids of this session recorded as events in progress

    def _open_clip(self, t: float) -> ClipWriter:
        assert self.template is not None
        start = self.wall_start + timedelta(seconds=t)
        path = DataDir(self.stream.settings.data_dir).clip(self.stream.camera, start, self.stream.settings.tz())
        return ClipWriter(path, self.template, start)

    def run(self) -> bool:
        """Read until the stream drops or a stop; returns whether any packet arrived."""
        import av

        cfg, stream = self.stream.config, self.stream
        options: dict[str, str] = {"rtsp_transport": cfg.rtsp_transport} if cfg.url.startswith("rtsp") else {}
        try:
            container = av.open(stream_url(cfg), options=options, timeout=(cfg.timeout_s, cfg.timeout_s))
        except (av.FFmpegError, OSError) as err:
            stream.report("error", "", f"cannot open the stream: {_reason(err)}")
            return False
        with container:
            if not container.streams.video:
                stream.report("error", "", "the stream has no video")
                return False
            video = container.streams.video[0]
            video.thread_type = "AUTO"
            self.template = video
            analysis = threading.Thread(target=self._analyse, args=(video,), name="analysis", daemon=True)
            analysis.start()
            try:
                return self._read(container, video)
            finally:
                self.recorder.close()
                self.packets.put(None)
                analysis.join(timeout=5)

    def _read(self, container: av.container.InputContainer, video: VideoStream) -> bool:
        import av

        stream = self.stream
        received = False
        shown = f"{video.width}x{video.height}"
        next_beat = next_poll = 0.0
        handled: set[int] = set()
        try:
            for packet in container.demux(video):
                if stream.stopping():
                    break
                if packet.dts is None or packet.time_base is None:
                    continue
                stamp = packet.pts if packet.pts is not None else packet.dts
                if self.t0 is None:
                    self.t0 = float(stamp * packet.time_base)
                    self.wall_start = datetime.now(UTC)
                t = float(stamp * packet.time_base) - self.t0
                self.fresh.heard(t)
                received = True
                self.ring.add(t, packet)
                self.recorder.feed(t, packet)
                self._pass_on(packet)
                now = time.monotonic()
                if now >= next_poll:
                    next_poll = now + 1.0
                    self._take_requests(t, handled)
                if now >= next_beat:
                    next_beat = now + stream.settings.service.heartbeat_s
                    state = "recording" if self.recorder.recording else "running"
                    detail = (
                        f"{shown}, buffer {self.ring.span_s:.0f} s, {stream.clips} clips, {self.skipped} skipped, "
                        f"{self.fresh.late} frames too late to analyse"
                    )
                    stream.report(state, detail)
        except (av.FFmpegError, OSError) as err:
            stream.report("error", "", f"the stream dropped: {_reason(err)}")
            log.warning("stream dropped", source=stream.name, reason=_reason(err))
        return received

    def _pass_on(self, packet: Any) -> None:
        """Hand a packet to the analysis; when it lags, skip everything up to the next keyframe."""
        if self.skipping and not packet.is_keyframe:
            self.skipped += 1
            return
        try:
            self.packets.put_nowait(packet)
            self.skipping = False
        except queue.Full:
            self.skipping = True
            self.skipped += 1

    def _take_requests(self, t: float, handled: set[int]) -> None:
        stream = self.stream
        with contextlib.suppress(CamsiftError):
            for request in stream.intake.board.pending_clips(stream.camera):
                if request.id not in handled:
                    handled.add(request.id)
                    self.recorder.want(t - self.record.pre_roll_s, t + request.seconds, request.id)
                    log.info("clip requested", source=stream.name, seconds=request.seconds)

    def _analyse(self, video: VideoStream) -> None:
        """Decode and run the pipeline; an event in progress keeps the recorder recording; motion is reported."""
        from camsift.pipeline import Pipeline

        stream = self.stream
        pipeline = Pipeline(stream.camera_settings, self.detector)
        motion = MotionReporter(stream.report_motion, stream.camera_settings.motion.mqtt_off_delay_s)
        frames = motion.follow(self._frames(video, pipeline), pipeline)
        try:
            for _ in pipeline.events(frames, camera=stream.camera, start_utc=self.wall_start, id_prefix="live"):
                pass  # stored events come from the full analysis of the clip
        except Exception as err:
            log.exception("stream analysis failed", source=stream.name)
            stream.report("error", "", f"analysis failed: {type(err).__name__}: {err}")
        finally:
            motion.end()  # also when the loop failed and left the frames unfinished

    def _frames(self, video: VideoStream, pipeline: Pipeline) -> Iterator[Frame]:
        import av

        index = 0
        next_live = 0.0
        pre, post = self.record.pre_roll_s, self.record.post_roll_s
        codec = video.codec_context
        while (packet := self.packets.get()) is not None:
            # While nothing moves or the analysis catches up, frames no other frame refers to are not decoded
            # (`Pipeline.idle`, `LATE_S`).
            codec.skip_frame = "NONREF" if pipeline.idle or self.fresh.behind else "DEFAULT"
            try:
                decoded = codec.decode(packet)
            except av.FFmpegError:
                continue  # a damaged packet: the next keyframe repairs the picture
            for vf in decoded:
                if vf.time is None or self.t0 is None:
                    continue
                ts = vf.time - self.t0
                frame = Frame.of_video(vf, index, ts)
                if confirmed := pipeline.confirmed():
                    self.recorder.want(ts - pre, ts + post)
                    self._tell_confirmed(confirmed, frame)
                if ts >= next_live:  # the web app's live picture (camsift.live_picture)
                    next_live = ts + LIVE_EVERY_S
                    write_live_frame(self.stream.settings.data_dir, self.stream.camera, frame.rgb())
                index += 1
                if self.fresh.passes(ts):
                    yield frame

    def _tell_confirmed(self, confirmed: list[Confirmed], frame: Frame) -> None:
        """Record each object the pipeline newly confirmed as an event in progress (`camsift.store.live`), with
        ``frame`` (the next one, at most 1/``detect.fps`` later) as its snapshot, for the service to tell at once;
        one the database refused is tried again at the next frame."""
        from sqlalchemy.exc import SQLAlchemyError

        stream = self.stream
        self.told &= {c.track for c in confirmed}  # ended tracks' ids never come back; a repeat is one row anyway
        for c in confirmed:
            if c.track in self.told:
                continue
            track = f"{self.wall_start.isoformat()}/{c.track}"
            start = self.wall_start + timedelta(seconds=c.first_s)
            seen = self.wall_start + timedelta(seconds=frame.ts_s)
            live = LiveEvent(
                live_id(stream.camera, track, start), stream.camera, track, c.label, start, seen, c.confidence,
                c.box_xyxy, c.zones,
            )  # fmt: skip
            live = replace(live, snapshot=self._snapshot(live, frame))
            try:
                stream.store.live.open(live)
            except SQLAlchemyError as err:
                log.warning("cannot record an object in progress", source=stream.name, reason=type(err).__name__)
                return
            self.told.add(c.track)
            log.info("object confirmed", source=stream.name, camera=stream.camera, label=c.label, event_id=live.id)

    def _snapshot(self, live: LiveEvent, frame: Frame) -> Path | None:
        """Write ``frame`` as the clean snapshot of ``live`` where its stored event's goes
        (`DataDir.picture`); ``None`` when it cannot be written (a full disk: the event is told without)."""
        settings = self.stream.settings
        path = DataDir(settings.data_dir).picture(live.event(), False, settings.tz())
        try:
            write_jpeg(path, frame.rgb(), sync=False)  # no fsync before telling: the stored event has its own
        except OSError as err:
            log.warning("cannot write the snapshot of an object in progress", path=str(path), reason=str(err))
            return None
        return path


def _reason(err: Exception) -> str:
    """An FFmpeg error's reason without the address (which may hold a password)."""
    return str(getattr(err, "strerror", None) or type(err).__name__).strip().rstrip(".")
