"""ONNX Runtime sessions for every local detector: threads and execution providers in one place.

``detect.providers`` lists execution providers best first (ONNX Runtime's
names: ``CUDAExecutionProvider``, ``OpenVINOExecutionProvider``,
``CPUExecutionProvider`` …, see https://onnxruntime.ai/docs/execution-providers/).
Those the installed onnxruntime build lacks (the PyPI ``onnxruntime`` wheel has
only CPU; ``onnxruntime-gpu`` and ``onnxruntime-openvino`` add theirs) are
skipped with a log line, and CPU is always the last resort, so a config written
for a GPU machine still runs on a laptop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from camsift.errors import DetectorError

__all__ = ["CPU", "check_rgb", "choose_providers", "letterbox", "session", "stretch"]

CPU = "CPUExecutionProvider"
"""ONNX Runtime's CPU execution provider, present in every build."""

log = logging.getLogger(__name__)


def choose_providers(wanted: Sequence[str], installed: Sequence[str]) -> list[str]:
    """The wanted providers this build has, in the wanted order, with CPU last.

    Args:
        wanted: Provider names, best first (``detect.providers``).
        installed: ``onnxruntime.get_available_providers()``.

    Returns:
        A non-empty list ending with `CPU`; each missing provider is logged once per call.
    """
    chosen = []
    for name in wanted:
        if name in installed:
            chosen.append(name)
        else:
            log.warning("ONNX Runtime execution provider %s is not installed here; falling back", name)
    return [*dict.fromkeys(p for p in chosen if p != CPU), CPU]


def session(path: Path, *, threads: int, providers: Sequence[str] = (CPU,), who: str) -> Any:
    """Load an ONNX model for inference.

    Args:
        path: The ``.onnx`` file.
        threads: Intra-op threads (inter-op: 1; no spinning, which doubles latency when another process
            holds a core).
        providers: Execution providers, best first (see `choose_providers`).
        who: The detector's name, for error messages.

    Returns:
        An ``onnxruntime.InferenceSession`` (typed ``Any``: onnxruntime has no type hints).

    Raises:
        DetectorError: onnxruntime is not installed, or the file is missing, unreadable or not a model.
    """
    if not path.is_file():
        raise DetectorError(f"{who}: no model file at {path}")
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise DetectorError(f"{who}: onnxruntime is not installed; run: pip install onnxruntime") from err
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # ONNX Runtime's memory arena on, its pattern cache off. Every detector resizes its crops to its fixed
    # input before the model, so the arena settles at one run's working memory and each run reuses it.
    # Without the arena every run took its buffers from malloc and gave them back, which scattered the heap:
    # over the shared clips in one process, peak RSS 475 MB against 395 with the arena, and 3 % slower.
    # The pattern cache added 25 MB and no speed.
    options.enable_cpu_mem_arena = True
    options.enable_mem_pattern = False
    # One arena for every session of the process: the detectors run one after the other (SSDLite, then
    # NanoDet on the crops it doubts), so the arena needs the larger working set, not the sum. A scan
    # worker on the 1080p night clip peaked at 392 MB this way, 409 with an arena per session.
    _share_arena()
    options.add_session_config_entry("session.use_env_allocators", "1")
    chosen = choose_providers(providers, ort.get_available_providers())
    try:
        loaded = ort.InferenceSession(str(path), options, providers=chosen)
    except Exception as err:  # ORT raises its own untyped errors for unreadable or invalid models
        raise DetectorError(f"{who}: cannot load {path}: {str(err).strip().splitlines()[0]}") from err
    if chosen[0] != CPU:
        log.info("%s runs on %s", who, loaded.get_providers()[0])
    return loaded


@cache
def _share_arena() -> None:
    """Register one CPU memory arena with ONNX Runtime's environment, once per process (ONNX Runtime's
    defaults: no size limit, chunks growing by powers of two)."""
    import onnxruntime as ort

    cpu = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
    ort.create_and_register_allocator(cpu, ort.OrtArenaCfg({}))


def letterbox(
    image: npt.NDArray[np.uint8], size: tuple[int, int], *, pad: int = 0, centre: bool = True
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Scale an image to fit ``size`` with its aspect ratio kept (bilinear), padding the rest.

    Args:
        image: ``(H, W, 3)`` uint8.
        size: ``(width, height)`` of the model input, pixels.
        pad: Grey level of the padding (NanoDet 0; YOLO 114).
        centre: Centre the image (NanoDet, Ultralytics, YOLO-NAS); else top-left (YOLOX).

    Returns:
        The ``(height, width, 3)`` uint8 canvas; the ``(x, y)`` scale in input pixels per image pixel
        (equal up to rounding); the ``(x, y)`` padding before the image, in input pixels. A point of the
        input maps back to the image as ``(p - offset) / scale``.

    Raises:
        ValueError: ``image`` is not an ``(H, W, 3)`` uint8 array.
    """
    import cv2

    height, width = check_rgb(image).shape[:2]
    scale = min(size[0] / width, size[1] / height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    left, top = ((size[0] - new_w) // 2, (size[1] - new_h) // 2) if centre else (0, 0)
    canvas = np.full((size[1], size[0], 3), pad, np.uint8)
    canvas[top : top + new_h, left : left + new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    factors = np.array([new_w / width, new_h / height], np.float32)
    return canvas, factors, np.array([left, top], np.float32)


def stretch(
    image: npt.NDArray[np.uint8], size: tuple[int, int], *, interpolation: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Resize an image to ``size`` exactly, its aspect ratio not kept (how PicoDet and NanoDet-Plus were trained).

    Args:
        image: ``(H, W, 3)`` uint8.
        size: ``(width, height)`` of the model input, pixels.
        interpolation: An OpenCV flag, e.g. ``cv2.INTER_CUBIC``.

    Returns:
        As `letterbox`: the ``(height, width, 3)`` uint8 input; the ``(x, y)`` scale in input pixels per image
        pixel; the ``(x, y)`` offset, here zero.

    Raises:
        ValueError: ``image`` is not an ``(H, W, 3)`` uint8 array.
    """
    import cv2

    height, width = check_rgb(image).shape[:2]
    # A crop is a view of its frame (rows apart): OpenCV reads it in place and copies only arrays it cannot
    # (0.14 ms saved per 720-pixel crop).
    resized = np.asarray(cv2.resize(image, size, interpolation=interpolation), np.uint8)
    return resized, np.array([size[0] / width, size[1] / height], np.float32), np.zeros(2, np.float32)


def check_rgb(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``image`` itself if it is a non-empty ``(H, W, 3)`` uint8 array.

    Raises:
        ValueError: it is not.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got shape {image.shape} dtype {image.dtype}")
    return image
