"""Quantize NanoDet-m to int8 (ONNX Runtime static quantization), the model camsift ships.

Input: the float32 ONNX file ``tools/convert_nanodet.py`` writes. Output:
``src/camsift/models/nanodet_m_416_int8.onnx``, described in ``MODEL_CARD.md``.

Recipe (ONNX Runtime ``quantize_static``, QDQ format): int8 weights per output
channel, uint8 activations with min/max ranges, ``Conv`` nodes only. Three parts
stay float32: the first convolution (it reads the raw normalised pixels) and the
detection head (its three 3x3 and three 1x1 convolutions, whose outputs are the
class scores and box distributions themselves). Quantizing the head too lost
the person that only NanoDet sees on the shared clips (person-second recall
0.901 -> 0.768, the int8 trial recorded in MODEL_CARD.md); percentile ranges
(99.99) instead of min/max lost 2 points of person AP50 on COCO128.

Calibration pictures, letterboxed and dark ones lifted as camsift's pipeline does
(`camsift.regions.lift_dark`, `camsift.detectors.nanodet`): the 128 COCO128
images, 20 camera-trap stills and 20 night porch snapshots (IR, glare), and the
8 pictures of ``images/``, all from ``../shared/data`` (none of its clips, on
which camsift is scored). ``--check`` compares the result with the float model on
pictures, by the best score per label.

Run in the project venv (onnxruntime and camsift), from the root::

    .venv/bin/python tools/quantize_nanodet.py /tmp/nanodet_m_416.onnx --check ../shared/data/faces/*.jpg
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "src" / "camsift" / "models" / "nanodet_m_416_int8.onnx"
INPUT = "input_1:0"
FLOAT_CONVS = ["Conv__1", "Conv__36", "Conv__41", "Conv__43", "Conv__37", "Conv__42", "Conv__44"]
"""The convolutions left float32: the first one, and the head's per-stride 3x3 and 1x1 convolutions."""


def calibration_pictures(data: Path) -> list[Path]:
    """The pictures whose activations set the int8 ranges (see the module docstring)."""
    pictures = sorted((data / "coco128" / "images").glob("*/*.jpg"))
    pictures += sorted((data / "snapshots" / "serengeti_gallery").glob("*.JPG"))[:20]
    pictures += sorted((data / "snapshots" / "porch_night").glob("*/*.jpg"))[:20]
    pictures += sorted((data / "images").iterdir())
    return pictures


def _inputs(pictures: list[Path]) -> Iterator[dict[str, Any]]:
    import numpy as np
    from PIL import Image

    from camsift.detectors.nanodet import HEAD, NANODET_NORMALISATION
    from camsift.detectors.runtime import letterbox
    from camsift.regions import lift_dark

    for path in pictures:
        rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
        yield {INPUT: NANODET_NORMALISATION.tensor(letterbox(lift_dark(rgb), (HEAD.size, HEAD.size))[0])}


def quantize(source: Path, output: Path, pictures: list[Path]) -> None:
    """Write the int8 model of ``source`` to ``output``, calibrated on ``pictures``."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.feeds = _inputs(pictures)

        def get_next(self) -> dict[str, Any] | None:
            return next(self.feeds, None)

    quantize_static(
        str(source),
        str(output),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["Conv"],
        nodes_to_exclude=FLOAT_CONVS,
        calibrate_method=CalibrationMethod.MinMax,
    )


def check(source: Path, output: Path, pictures: list[Path]) -> None:
    """Best score per label of the float and the int8 model on ``pictures``, side by side."""
    import numpy as np
    from PIL import Image

    from camsift.detectors.nanodet import NanoDetDetector

    float_model = NanoDetDetector(threads=1, model=source)
    int8_model = NanoDetDetector(threads=1, model=output)
    worst = 0.0
    for path in pictures:
        rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
        a, b = float_model.detect(rgb), int8_model.detect(rgb)
        labels = sorted(set(a.label.tolist()) | set(b.label.tolist()))
        best = {
            lab: (a.confidence[a.label == lab].max(initial=0), b.confidence[b.label == lab].max(initial=0))
            for lab in labels
        }
        worst = max([worst, *(abs(x - y) for x, y in best.values())])
        print(f"check {path.name}: " + ", ".join(f"{lab} {x:.2f}/{y:.2f}" for lab, (x, y) in best.items()))
    print(f"check: largest difference of a best score {worst:.3f} (float/int8 above)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the float32 ONNX file tools/convert_nanodet.py wrote")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default {DEFAULT_OUTPUT}")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder (calibration pictures)")
    parser.add_argument("--check", type=Path, nargs="*", default=[], help="pictures to compare the two models on")
    args = parser.parse_args()
    pictures = calibration_pictures(args.data)
    if len(pictures) < 100:
        sys.exit(f"only {len(pictures)} calibration pictures under {args.data}; expected the shared data")
    quantize(args.source, args.output, pictures)
    if args.check:
        check(args.source, args.output, args.check)
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    size = args.output.stat().st_size
    print(f"wrote {args.output}: {size} bytes, sha256 {digest}; {len(pictures)} calibration pictures")


if __name__ == "__main__":
    main()
