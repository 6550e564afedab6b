"""Reading clips and images: frames with decode timestamps, and wall-clock times.

Video is decoded with PyAV (FFmpeg), threaded; images with Pillow. Every
failure becomes a one-line `MediaError` that names the file.

Timestamps are seconds from the first decoded frame, taken from each frame's
presentation time, never ``index / declared fps``: several real clips declare
a wrong rate or more frames than decode, variable-rate clips step unevenly, and
GIFs have uneven delays. AVI stores no presentation times: each chunk is one
``1/rate`` slot (an empty chunk is a dropped frame, so time goes on), which the
demuxer counts as the packet's dts, and the pts FFmpeg makes up for packed
B-frames come out scrambled. There a frame's time is the dts of the packet that
released it from the decoder: frames leave in display order, one per slot,
behind by the decoder's fixed delay, which counting from the first frame removes.
"""

from camsift.media.capture import capture_time
from camsift.media.decode import (
    IMAGE_SUFFIXES,
    MEDIA_SUFFIXES,
    VIDEO_SUFFIXES,
    Frame,
    MediaInfo,
    Rereader,
    frames,
    probe,
    read_frame,
)
from camsift.media.sniff import cut_off, sniff

__all__ = [
    "IMAGE_SUFFIXES",
    "MEDIA_SUFFIXES",
    "VIDEO_SUFFIXES",
    "Frame",
    "MediaInfo",
    "Rereader",
    "capture_time",
    "cut_off",
    "frames",
    "probe",
    "read_frame",
    "sniff",
]
