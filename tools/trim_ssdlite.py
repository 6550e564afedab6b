"""Trim the SSDLite person model to what camsift runs: fixed 300x300 input, no in-graph loops.

Input: the ONNX file ``tools/convert_ssdlite.py`` writes (tf2onnx's export of the
TF Object Detection API graph: dynamic ``[N, H, W, 3]`` uint8 input, the four TF
OD API outputs). Output: ``src/camsift/models/ssdlite_person.onnx``, the same
weights and the same box decoding, with two ``Loop`` ops (``tf.map_fn``) cut out:

- the per-image resize of the ``Preprocessor``: camsift resizes every crop to
  300x300 before the model (`camsift.detectors.ssdlite`), so the input is fixed
  at ``[N, 300, 300, 3]`` uint8 and feeds the normalisation directly (a
  ``Cast`` and a ``Transpose`` to NCHW, which the loop did);
- the per-image NMS of the ``Postprocessor``: the outputs are taken before it,
  ``scores`` ``[N, 1917, 1]`` (sigmoid person score of each anchor) and
  ``boxes`` ``[N, 1917, 1, 4]`` (decoded ``[ymin, xmin, ymax, xmax]``, normalised,
  not clipped), and `camsift.detectors.ssdlite` runs the same greedy NMS
  (IoU 0.6, at most 100 boxes, then clipped to the image) with camsift's `nms`.

One call took 15.4 ms before and 14.6 ms after (1 thread, ONNX Runtime 1.23,
2-core AMD EPYC VM). ``--check`` runs the untrimmed graph and the trimmed one with
camsift's post-processing on pictures and fails unless they give the same
detections (confidence >= 0.05) to 1e-5.

Run in the project venv (it needs onnx, onnxruntime and camsift), from the root::

    .venv/bin/python tools/trim_ssdlite.py /tmp/ssdlite_full.onnx \\
        --check ../shared/data/images/* ../shared/data/coco128/images/train2017/*.jpg
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "src" / "camsift" / "models" / "ssdlite_person.onnx"
INPUT = "image_tensor:0"
RESIZED = "Preprocessor/map/TensorArrayStack/TensorArrayGatherV3:0"  # the resize loop's output, NCHW float
OUTPUTS = {"scores": "Postprocessor/Slice:0", "boxes": "Postprocessor/ExpandDims_1:0"}
SIDE = 300
ANCHORS = 1917


if TYPE_CHECKING:
    from onnx import NodeProto


def trim(source: Path, output: Path) -> None:
    """Write the trimmed graph of ``source`` to ``output`` (see the module docstring)."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(source))
    graph = model.graph
    for node in graph.node:  # the normalisation now reads the cast, transposed input
        node.input[:] = ["camsift/nchw" if name == RESIZED else name for name in node.input]
    head = [
        helper.make_node("Cast", [INPUT], ["camsift/float"], to=TensorProto.FLOAT, name="camsift/cast"),
        helper.make_node("Transpose", ["camsift/float"], ["camsift/nchw"], perm=[0, 3, 1, 2], name="camsift/nchw"),
    ]
    tail = [helper.make_node("Identity", [inner], [name], name=f"camsift/{name}") for name, inner in OUTPUTS.items()]
    nodes = head + list(graph.node) + tail
    kept = _needed(nodes, list(OUTPUTS))
    used = {name for node in kept for name in _inputs(node)}
    initializers = [init for init in graph.initializer if init.name in used]
    del graph.node[:], graph.initializer[:], graph.output[:], graph.value_info[:]
    graph.node.extend(kept)
    graph.initializer.extend(initializers)
    graph.output.extend(
        [
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", ANCHORS, 1]),
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", ANCHORS, 1, 4]),
        ]
    )
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[1].dim_value, dims[2].dim_value = SIDE, SIDE
    onnx.checker.check_model(model)
    if any(node.op_type in ("Loop", "NonMaxSuppression") for node in kept):
        sys.exit("trim failed: a loop or an NMS is left in the graph")
    onnx.save(model, str(output))


def _inputs(node: NodeProto) -> set[str]:
    """Names a node reads, including those its subgraphs (a Loop's body) read from outside."""
    import onnx

    names = set(node.input)
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.GRAPH:
            for inner in attribute.g.node:
                names |= _inputs(inner)
    return names


def _needed(nodes: Sequence[NodeProto], outputs: list[str]) -> list[NodeProto]:
    """The nodes ``outputs`` depend on, in their original (topological) order."""
    producer = {name: node for node in nodes for name in node.output}
    keep: set[int] = set()
    todo = list(outputs)
    while todo:
        node = producer.get(todo.pop())
        if node is not None and id(node) not in keep:
            keep.add(id(node))
            todo.extend(_inputs(node))
    return [node for node in nodes if id(node) in keep]


def check(source: Path, trimmed: Path, images: list[Path]) -> None:
    """The untrimmed graph's detections against the trimmed one's with camsift's post-processing."""
    import cv2
    import numpy as np
    import onnxruntime as ort
    from PIL import Image

    from camsift.detectors.ssdlite import WHOLE_IMAGE, SSDLiteDetector

    floor = 0.05
    full = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    names = ["num_detections:0", "detection_boxes:0", "detection_scores:0", "detection_classes:0"]
    detector = SSDLiteDetector(threads=1, min_confidence=floor, model=trimmed)
    worst = 0.0
    for path in images:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        got = detector.detect(rgb)
        resized = cv2.resize(rgb, (SIDE, SIDE), interpolation=cv2.INTER_LINEAR)[None]
        count, boxes, scores, _ = (out[0] for out in full.run(names, {INPUT: resized}))
        boxes, scores = boxes[: int(count)], scores[: int(count)]
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        keep = (scores >= floor) & (area < WHOLE_IMAGE)
        want = boxes[keep][:, [1, 0, 3, 2]] * np.array([rgb.shape[1], rgb.shape[0]] * 2, np.float32)
        if len(want) != len(got):
            sys.exit(f"check failed on {path.name}: {len(got)} detections, the full graph {len(want)}")
        if len(want):
            worst = max(worst, float(np.abs(want - got.xyxy).max()), float(np.abs(scores[keep] - got.confidence).max()))
    print(f"check: {len(images)} pictures, same detections, max |difference| {worst:.2e}")
    if worst > 1e-3:
        sys.exit("check failed: boxes or scores differ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the ONNX file tools/convert_ssdlite.py wrote")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default {DEFAULT_OUTPUT}")
    parser.add_argument("--check", type=Path, nargs="*", default=[], help="pictures to compare the two graphs on")
    args = parser.parse_args()
    trim(args.source, args.output)
    if args.check:
        check(args.source, args.output, args.check)
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(f"wrote {args.output}: {args.output.stat().st_size} bytes, sha256 {digest}")


if __name__ == "__main__":
    main()
