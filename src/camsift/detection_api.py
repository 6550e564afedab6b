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
decoded gets ``success: false`` with HTTP 400, as DeepStack does; a body larger
than `MAX_BODY_BYTES` gets HTTP 413 before it is read.

Keys: ``camsift ai-api`` checks the form field ``api_key`` against
``CAMSIFT_AI_API_KEY``. In the web app the endpoint needs a login, and a
DeepStack client logs in by sending one of the web app's API tokens
(``camsift users token``) as that ``api_key`` field (see
`camsift.web.auth.authorize`); without a valid one it gets HTTP 401 with
``success: false``, as from DeepStack.

Needs ``camsift[ai-api]`` (FastAPI, uvicorn, python-multipart).
"""

from __future__ import annotations

import io
import secrets
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, FastAPI, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import SecretStr
from starlette.types import Message, Receive

from camsift.boxes import nms
from camsift.config import Settings
from camsift.detectors import Detector
from camsift.detectors.coco import COCO80
from camsift.detectors.deepstack import BOX_KEYS, PATH
from camsift.web.auth import NotLoggedInError

__all__ = ["MAX_BODY_BYTES", "PATH", "create_app", "create_router"]

DEFAULT_MIN_CONFIDENCE = 0.4
"""DeepStack's default ``min_confidence``."""

MAX_BODY_BYTES = 20 * 1024 * 1024
"""Largest request body accepted, bytes (20 MiB: a 4K JPEG is 1-5 MB, a 4K PNG 10-20 MB); larger gets HTTP 413."""


def _refused(status: int, error: str) -> JSONResponse:
    """DeepStack's answer to a request it will not serve."""
    return JSONResponse({"success": False, "error": error}, status_code=status)


class _BodyTooLargeError(HTTPException):
    """The body went past `MAX_BODY_BYTES` while it was read (no or a false ``Content-Length``).

    An `HTTPException` so that FastAPI's form parsing lets it through instead of answering 400.
    """

    def __init__(self) -> None:
        super().__init__(413, f"request body larger than {MAX_BODY_BYTES} bytes")


def _capped(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises `_BodyTooLargeError` once more than ``limit`` body bytes came."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLargeError
        return message

    return capped


class _DetectionRoute(APIRoute):
    """A route that refuses bodies over `MAX_BODY_BYTES` (413) and answers a failed web login as DeepStack (401).

    The size is checked on ``Content-Length`` before anything is read, and counted while reading
    (chunked uploads), so an oversized upload is never spooled to disk. Inside the web app the login
    dependency (`camsift.web.auth.authorize`) runs inside this handler: its `NotLoggedInError`
    becomes DeepStack's ``{"success": false, "error": …}`` with 401 rather than the web app's answer.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                return _refused(413, _BodyTooLargeError().detail)
            try:
                return await handler(Request(request.scope, _capped(request.receive, MAX_BODY_BYTES)))
            except _BodyTooLargeError as err:
                return _refused(413, err.detail)
            except NotLoggedInError:
                return _refused(401, "Incorrect API key")

        return guarded


def _detector_for(settings: Settings) -> Detector:
    """The configured detector, asked for every COCO label (loaded once per process)."""
    from camsift.analysis.file import shared_detector

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
            ``API-KEY``); others get HTTP 401 with ``success: false``. The web app passes none: its
            login dependency checks the field against its API tokens instead.

    Example:
        >>> app = FastAPI()
        >>> app.include_router(create_router(Settings()))
    """
    router = APIRouter(tags=["detection API (DeepStack)"], route_class=_DetectionRoute)
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
            return _refused(401, "Incorrect API key")
        data = await image.read()
        try:
            answer = await run_in_threadpool(analyse, data, min_confidence)
        except _BadImageError as err:
            return _refused(400, f"invalid image: {err}")
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
