"""camsift's own detector behind the DeepStack / CodeProject.AI detection API.

Blue Iris, Agent DVR and Home Assistant's DeepStack integrations send a picture
to ``POST /v1/vision/detection`` (multipart ``image``, optional
``min_confidence``, default 0.4) and read
``{"success": true, "predictions": [{"label", "confidence", "x_min", "y_min",
"x_max", "y_max"}], "count": n, "duration": ms}`` (DeepStack's object detection
API, https://docs.deepstack.cc/object-detection/). `create_router` gives that
endpoint backed by the configured detector (``detect.detector``; ``auto`` is
built for all 80 COCO labels, so people come from SSDLite and vehicles and
animals from NanoDet); ``camsift serve --ai-api`` mounts it in the web app and
``camsift ai-api`` (`create_app`) serves it alone. A picture that cannot be
decoded gets ``success: false`` with HTTP 400, as DeepStack does.

Needs ``camsift[ai-api]`` (FastAPI, uvicorn, python-multipart).
"""

from __future__ import annotations

import io
import secrets
import threading
import time
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, FastAPI, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from camsift.boxes import nms
from camsift.config import Settings
from camsift.detectors import Detector
from camsift.detectors.coco import COCO80
from camsift.detectors.deepstack import BOX_KEYS, PATH

__all__ = ["PATH", "create_app", "create_router"]

DEFAULT_MIN_CONFIDENCE = 0.4
"""DeepStack's default ``min_confidence``."""


def _detector_for(settings: Settings) -> Detector:
    """The configured detector, asked for every COCO label (loaded once per process)."""
    from camsift.scanner import shared_detector

    every = settings.model_copy(update={"objects": settings.objects.model_copy(update={"labels": list(COCO80)})})
    return shared_detector(every, settings.detect.threads or 2)


def create_router(settings: Settings, *, api_key: SecretStr | None = None) -> APIRouter:
    """The DeepStack-compatible ``POST /v1/vision/detection`` endpoint.

    The detector loads at the first request (so mounting costs nothing) and is
    shared by later ones; requests are answered one at a time per detector, in a
    worker thread, so the event loop stays free.

    Args:
        settings: ``detect`` picks the detector.
        api_key: When set, requests must send it as the form field ``api_key`` (as DeepStack's
            ``API-KEY``); others get HTTP 401 with ``success: false``.

    Example:
        >>> app = FastAPI()
        >>> app.include_router(create_router(Settings()))
    """
    router = APIRouter(tags=["detection API (DeepStack)"])
    lock = threading.Lock()

    def analyse(data: bytes, floor: float) -> dict[str, Any]:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as picture:
                rgb = np.asarray(picture.convert("RGB"))
        except (UnidentifiedImageError, OSError, ValueError) as err:
            raise _BadImageError(str(err).splitlines()[0] if str(err) else type(err).__name__) from err
        started = time.perf_counter()
        with lock:
            found = _detector_for(settings).detect(rgb)
        found = nms(found[found.confidence >= floor], iou=settings.detect.nms_iou)  # auto merges two models
        boxes = np.rint(found.xyxy).astype(int).tolist()
        predictions = [
            {"label": str(label), "confidence": round(float(conf), 4), **dict(zip(BOX_KEYS, box, strict=True))}
            for label, conf, box in zip(found.label, found.confidence, boxes, strict=True)
        ]
        ms = round(1000 * (time.perf_counter() - started))
        return {"success": True, "predictions": predictions, "count": len(predictions), "duration": ms}

    @router.post(PATH)
    async def detection(
        image: Annotated[UploadFile, File(description="The picture (JPEG, PNG …)")],
        min_confidence: Annotated[float, Form(ge=0, le=1)] = DEFAULT_MIN_CONFIDENCE,
        api_key_field: Annotated[str | None, Form(alias="api_key")] = None,
    ) -> JSONResponse:
        """Detect objects in one picture (DeepStack's object detection API)."""
        if api_key is not None and not secrets.compare_digest(
            (api_key_field or "").encode(), api_key.get_secret_value().encode()
        ):
            return JSONResponse({"success": False, "error": "Incorrect API key"}, status_code=401)
        data = await image.read()
        try:
            answer = await run_in_threadpool(analyse, data, min_confidence)
        except _BadImageError as err:
            return JSONResponse({"success": False, "error": f"invalid image: {err}"}, status_code=400)
        return JSONResponse(answer)

    return router


class _BadImageError(ValueError):
    """The uploaded bytes are not a picture Pillow can read."""


def create_app(settings: Settings, *, api_key: SecretStr | None = None) -> FastAPI:
    """A FastAPI app serving only the detection API (`create_router`) and ``GET /health``.

    Example:
        >>> import uvicorn  # doctest: +SKIP
        >>> uvicorn.run(create_app(Settings()), host="0.0.0.0", port=5000)  # doctest: +SKIP
    """
    app = FastAPI(title="camsift detection API", description="DeepStack-compatible object detection")
    app.include_router(create_router(settings, api_key=api_key))

    @app.get("/health")
    def health() -> dict[str, str]:
        """Liveness for health checks."""
        return {"status": "ok"}

    return app
