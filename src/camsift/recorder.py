"""Live streams: a rolling buffer of encoded packets, and clips remuxed from it.

A live stream is never decoded to disk. Its *encoded* packets go into a
`PacketRing` that holds the last ``record.buffer_s`` seconds (about 7.5 MB
for the default 30 s of 720p at 2 Mbit/s), as blinkvault does. When an event starts, a
`Recorder` opens a clip at the last keyframe at least ``pre_roll_s`` before
it, writes the buffered packets and then the live ones, and closes the clip
``post_roll_s`` after the last object left (or at ``max_clip_s``, going on
in a new clip from the next keyframe). Packets are remuxed, not re-encoded,
into a fragmented MP4 (``movflags=frag_keyframe+empty_moov``), so a clip cut
off by a crash is still playable; it is written as ``<name>.mp4.part`` and
renamed when complete.
"""

from __future__ import annotations

import math
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from camsift.config import RecordConfig
from camsift.layout import recording_path

if TYPE_CHECKING:
    import av.packet
    import av.stream

    Packet = av.packet.Packet[Any]

__all__ = ["ClipWriter", "PacketRing", "Recorder"]

Origin = Literal["stream", "record"]


@dataclass
class _Gop:
    """A keyframe and the packets after it, up to the next keyframe."""

    start_t: float
    packets: list[tuple[float, Packet]] = field(default_factory=list)


class PacketRing:
    """The last ``buffer_s`` seconds of encoded video packets, kept as whole groups of pictures.

    A clip must start on a keyframe, so the ring drops a whole group of
    pictures (GOP) only while the next one still starts at least
    ``buffer_s`` before the newest packet: a clip can always begin
    ``buffer_s`` in the past. Packets before the first keyframe are dropped
    (they cannot be decoded).

    Args:
        buffer_s: Seconds to keep (``record.buffer_s``).
    """

    def __init__(self, buffer_s: float) -> None:
        self.buffer_s = buffer_s
        self._gops: deque[_Gop] = deque()

    def add(self, t: float, packet: Packet) -> None:
        """Append a packet; ``t`` is its time in seconds on the stream's clock."""
        if packet.is_keyframe:
            self._gops.append(_Gop(t))
        elif not self._gops:
            return
        self._gops[-1].packets.append((t, packet))
        while len(self._gops) >= 2 and t - self._gops[1].start_t >= self.buffer_s:
            self._gops.popleft()

    @property
    def span_s(self) -> float:
        """Seconds from the oldest to the newest packet held."""
        if not self._gops:
            return 0.0
        return self._gops[-1].packets[-1][0] - self._gops[0].start_t

    def since(self, t: float) -> list[tuple[float, Packet]]:
        """Packets from the last keyframe at or before ``t`` (else from the oldest keyframe) to the newest."""
        start = 0
        for i, gop in enumerate(self._gops):
            if gop.start_t <= t:
                start = i
        return [p for gop in list(self._gops)[start:] for p in gop.packets]


class ClipWriter:
    """Remuxes packets of one video stream into a fragmented MP4, without re-encoding.

    Timestamps are shifted so the clip starts at 0; the container's
    ``creation_time`` is the wall-clock time of the first packet, which is
    what `camsift.media.capture_time` reads back.

    Args:
        path: Final path of the clip; it is written as ``<path>.part`` until `close`.
        template: The input video stream (codec parameters are copied from it).
        start_utc: Wall-clock time of the first packet (aware).

    Raises:
        OSError: the file cannot be created.
    """

    def __init__(self, path: Path, template: av.stream.Stream, start_utc: datetime) -> None:
        import av

        self.path = path
        self.part = recording_path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out = av.open(
            str(self.part),
            "w",
            format="mp4",
            # each fragment reaches the file when it is complete, not when FFmpeg's 32 kB write buffer is full
            options={"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"},
        )
        self._out.metadata["creation_time"] = start_utc.isoformat()
        self._stream = self._out.add_stream_from_template(template)
        self._offset: int | None = None
        self.packets = 0

    def write(self, packet: Packet) -> None:
        """Append a copy of ``packet`` (the original stays usable by the ring and the decoder)."""
        import av

        dts = packet.dts if packet.dts is not None else packet.pts
        if dts is None:
            return
        if self._offset is None:
            self._offset = dts
        copy = av.Packet(bytes(packet))
        copy.dts = dts - self._offset
        copy.pts = None if packet.pts is None else packet.pts - self._offset
        copy.duration = packet.duration
        copy.time_base = packet.time_base
        copy.is_keyframe = packet.is_keyframe
        copy.stream = self._stream
        self._out.mux(copy)
        self.packets += 1

    def close(self) -> Path:
        """Finish the file and give it its final name; returns that path."""
        self._out.close()
        os.replace(self.part, self.path)
        return self.path


class Recorder:
    """Decides when clips start and stop, and writes them; fed packet by packet by a stream's reader.

    Wishes come from other threads (`want`: the analysis when an event is in
    progress, a clip request); `feed` runs on the reader thread after each
    packet enters the ring and opens, writes, splits and closes clips.

    Args:
        ring: The stream's packet ring.
        config: ``record`` settings of the camera.
        open_clip: Makes the `ClipWriter` for a clip whose first packet is at stream time ``t``.
        closed: Called with each finished clip, its origin (``"stream"`` for an event,
            ``"record"`` when only requested) and the request ids it answers.
    """

    def __init__(
        self,
        ring: PacketRing,
        config: RecordConfig,
        open_clip: Callable[[float], ClipWriter],
        closed: Callable[[Path, Origin, list[int]], None],
    ) -> None:
        self.ring, self.config, self._open, self._closed = ring, config, open_clip, closed
        self._lock = threading.Lock()
        self._from = math.inf
        self._until = -math.inf
        self._event = False
        self._requests: list[int] = []
        self._writer: ClipWriter | None = None
        self._started_t = 0.0

    @property
    def recording(self) -> bool:
        """A clip is open."""
        return self._writer is not None

    def want(self, start_t: float, until_t: float, request: int | None = None) -> None:
        """Ask for a recording covering stream times ``start_t`` to ``until_t`` (thread-safe).

        Args:
            start_t: Earliest time wanted (a clip already open keeps its start).
            until_t: Keep recording at least until then.
            request: Id of the clip request this answers; ``None`` for an event.
        """
        with self._lock:
            self._from = min(self._from, start_t)
            self._until = max(self._until, until_t)
            if request is None:
                self._event = True
            else:
                self._requests.append(request)

    def feed(self, t: float, packet: Packet) -> None:
        """Handle the packet at stream time ``t`` (already added to the ring)."""
        with self._lock:
            wanted_from, until = self._from, self._until
        if self._writer is None:
            if t < until:
                self._start(self.ring.since(wanted_from))
            return
        if t >= until:
            self._finish(split=False)
        elif packet.is_keyframe and t - self._started_t >= self.config.max_clip_s:
            self._finish(split=True)
            self._start([(t, packet)])
        else:
            self._writer.write(packet)

    def _start(self, packets: list[tuple[float, Packet]]) -> None:
        if not packets:
            return
        self._started_t = packets[0][0]
        self._writer = self._open(self._started_t)
        for _, packet in packets:
            self._writer.write(packet)

    def _finish(self, split: bool) -> None:
        """Close the open clip and hand it over; on a ``split`` the event goes on in the next clip."""
        writer, self._writer = self._writer, None
        with self._lock:
            origin: Origin = "stream" if self._event else "record"
            requests, self._requests = self._requests, []
            if not split:
                self._event = False
                self._from = math.inf
        if writer is not None and writer.packets:
            self._closed(writer.close(), origin, requests)

    def close(self) -> None:
        """Close the open clip now (the stream dropped, the service is stopping)."""
        self._finish(split=False)
