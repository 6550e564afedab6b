"""Footage browsers cannot play (MPEG-4 Part 2 in AVI, …) made playable: H.264 in MP4, made once and cached.

A clip already in H.264 is only remuxed (packets copied into an MP4, seconds
for any length); anything else is transcoded with libx264 (PyAV's FFmpeg).
Copies live in the data directory's cache (`camsift.layout.DataDir.cache`),
named by the footage's path, size and modification time, so changed footage
gets a new copy; the least recently used beyond `MAX_COPIES` are deleted.
Audio is left out (the review plays clips muted).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from camsift.errors import SourceError

__all__ = ["MAX_COPIES", "PLAYABLE", "playable_copy"]

PLAYABLE = frozenset({".mp4", ".m4v", ".mov"})
"""Containers browsers play inline (H.264 in MP4, as cameras and camsift's live clips write)."""

MAX_COPIES = 50
"""Playable copies kept in the cache; older ones are deleted when a new one is made."""

X264_OPTIONS = {"preset": "veryfast", "crf": "23"}
"""libx264 settings of a transcoded copy: fast to make, indistinguishable from the source at review size."""

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def playable_copy(source: Path, cache: Path) -> Path:
    """A browser-playable MP4 of ``source``, made on first call and kept in ``cache``.

    Args:
        source: A video file (any container and codec FFmpeg decodes).
        cache: The folder of copies (created if missing).

    Returns:
        The copy: ``<cache>/<key>.mp4``.

    Raises:
        SourceError: ``source`` is missing, has no video, or cannot be decoded.
    """
    try:
        stat = source.stat()
    except OSError as err:
        raise SourceError(f"{source}: cannot read footage: {err.strerror or err}") from err
    key = hashlib.sha256(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:32]
    target = cache / f"{key}.mp4"
    with _LOCKS_LOCK:
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:
        if target.is_file():
            os.utime(target)  # recently used
            return target
        cache.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f"{key}.part.mp4")
        try:
            _convert(source, part)
            os.replace(part, target)
        except Exception:
            part.unlink(missing_ok=True)
            raise
    _prune(cache)
    return target


def _convert(source: Path, target: Path) -> None:
    import av

    try:
        with av.open(str(source)) as given:
            if not given.streams.video:
                raise SourceError(f"{source}: no video stream")
            video = given.streams.video[0]
            with av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                if video.codec_context.name == "h264":
                    stream = out.add_stream_from_template(video)
                    for packet in given.demux(video):
                        if packet.dts is None:
                            continue
                        packet.stream = stream
                        out.mux(packet)
                    return
                encoder = out.add_stream("libx264", rate=video.average_rate or 10, options=X264_OPTIONS)
                encoder.width = video.codec_context.width // 2 * 2
                encoder.height = video.codec_context.height // 2 * 2
                encoder.pix_fmt = "yuv420p"
                for frame in given.decode(video):
                    frame.pts = None
                    picture = frame.reformat(width=encoder.width, height=encoder.height, format="yuv420p")
                    out.mux(encoder.encode(picture))
                out.mux(encoder.encode(None))
    except av.FFmpegError as err:
        raise SourceError(f"{source}: cannot convert for the browser: {err}") from err


def _prune(cache: Path) -> None:
    copies = sorted(cache.glob("*.mp4"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in copies if not p.name.endswith(".part.mp4")][MAX_COPIES:]:
        old.unlink(missing_ok=True)
