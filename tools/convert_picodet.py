"""Clean PaddleDetection's ONNX export of PP-PicoDet-S (416 or 320, COCO-80) into the file camsift ships.

Source: ``picodet_s_416_coco.onnx`` / ``picodet_s_320_coco.onnx``, PaddleDetection's published export
(Paddle2ONNX, opset 11) as kept in https://github.com/hpc203/picodet-onnxruntime @
dfe4d6cd0a18cd4126ee381e81df8a0b1e6ad97b, ``coco/``; weights Apache-2.0 (PaddlePaddle/PaddleDetection).
Sizes and sha256 are in ``src/camsift/models/MODEL_CARD.md``.

Changes, none of which alters what the network computes:
  1. The 279 weights are also listed as graph inputs (an old exporter habit): remove them from the
     inputs, so that they are constants ONNX Runtime may fold and fuse.
  2. ``Constant`` nodes become initializers.
  3. Opset 11 -> 14: ``Split``'s ``split`` attribute becomes its second input (the one operator of
     this graph whose signature changed in between).
  4. Every hard-swish, exported as ``Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)`` (87 of them), becomes
     one ``HardSwish`` node (opset 14; ``x * max(0, min(1, x / 6 + 1 / 2))``, the same function).
  5. Outputs renamed from ``save_infer_model/scale_{0..7}.tmp_1`` to ``scores_{8,16,32,64}`` and
     ``boxes_{8,16,32,64}`` (the stride of each map); unused initializers dropped; a doc string
     naming the source.

``--check`` runs the original and the result in ONNX Runtime on real pictures (RGB, plain bicubic
resize, ImageNet mean/std, as camsift feeds the model) and fails unless every output matches to
``--atol``; it prints the largest difference and the time of one call of each.

Run in the project venv (onnx, onnxruntime, OpenCV), from the repository root::

    .venv/bin/python tools/convert_picodet.py ../shared/models/picodet_s_416_coco.onnx \\
        --check ../shared/data/images/* ../shared/data/coco128/images/train2017/0000000000[0-4]*.jpg
    .venv/bin/python tools/convert_picodet.py ../shared/models/picodet_s_320_coco.onnx --check ...

The output goes to ``src/camsift/models/picodet_s_<size>_coco.onnx``; reruns give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

MODELS = Path(__file__).resolve().parents[1] / "src" / "camsift" / "models"
OPSET = 14
STRIDES = (8, 16, 32, 64)
OUTPUT_NAMES = [f"scores_{s}" for s in STRIDES] + [f"boxes_{s}" for s in STRIDES]
MEAN_RGB = np.array([0.485, 0.456, 0.406], np.float32) * 255
STD_RGB = np.array([0.229, 0.224, 0.225], np.float32) * 255
SOURCE = "hpc203/picodet-onnxruntime@dfe4d6cd0a18cd4126ee381e81df8a0b1e6ad97b"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clean(model: Any) -> Any:
    """The cleaned model (steps 1-5 of the module docstring); ``model`` is changed in place."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in weights]
    del graph.input[:]
    graph.input.extend(inputs)

    nodes = []
    for node in graph.node:
        if node.op_type == "Constant":
            (attribute,) = node.attribute
            if attribute.name != "value":
                raise ValueError(f"Constant {node.name} has a {attribute.name!r} attribute, expected 'value'")
            graph.initializer.append(numpy_helper.from_array(numpy_helper.to_array(attribute.t), node.output[0]))
        elif node.op_type == "Split":
            split = next(a for a in node.attribute if a.name == "split")
            sizes = f"{node.output[0]}/split"
            graph.initializer.append(numpy_helper.from_array(np.array(split.ints, np.int64), sizes))
            axis = next(a.i for a in node.attribute if a.name == "axis")
            nodes.append(helper.make_node("Split", [node.input[0], sizes], node.output, name=node.name, axis=axis))
        else:
            nodes.append(node)
    nodes, fused = fuse_hard_swish(nodes, {t.name: numpy_helper.to_array(t) for t in graph.initializer})
    print(f"fused {fused} hard-swish patterns into HardSwish")

    renames = {old.name: new for old, new in zip(graph.output, OUTPUT_NAMES, strict=True)}
    for node in nodes:
        node.output[:] = [renames.get(name, name) for name in node.output]
    for output in graph.output:
        output.name = renames[output.name]
    del graph.node[:]
    graph.node.extend(nodes)

    used = {name for node in graph.node for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(sorted(kept, key=lambda t: t.name))
    del graph.value_info[:]
    del model.opset_import[:]
    model.opset_import.append(helper.make_opsetid("", OPSET))
    model.producer_name, model.producer_version = "camsift tools/convert_picodet.py", "1"
    graph.doc_string = f"PP-PicoDet-S (PaddleDetection, Apache-2.0) from {SOURCE}, cleaned by tools/convert_picodet.py"
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model


def fuse_hard_swish(nodes: list[Any], constants: dict[str, np.ndarray]) -> tuple[list[Any], int]:
    """Replace each ``Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)`` chain by ``HardSwish(x)``.

    A chain is fused only when its constants are exactly 3, 0, 6, 6 and its three inner results feed
    nothing else; the ``HardSwish`` node takes the ``Div``'s output name, so its consumers are unchanged.
    """
    from onnx import helper

    consumers = Counter(name for node in nodes for name in node.input)
    producer = {out: node for node in nodes for out in node.output}

    def constant(name: str, value: float) -> bool:
        return name in constants and constants[name].size == 1 and float(constants[name]) == value

    def single(name: str, op: str) -> Any:
        node = producer.get(name)
        return node if node is not None and node.op_type == op and consumers[name] == 1 else None

    dropped: set[int] = set()
    replaced: dict[int, Any] = {}
    for div in nodes:
        if div.op_type != "Div" or not constant(div.input[1], 6.0):
            continue
        mul = single(div.input[0], "Mul")
        clip = mul and single(mul.input[1], "Clip")
        add = clip and single(clip.input[0], "Add")
        if not (add and constant(clip.input[1], 0.0) and constant(clip.input[2], 6.0) and constant(add.input[1], 3.0)):
            continue
        x = mul.input[0]
        if add.input[0] != x:
            continue
        dropped |= {id(mul), id(clip), id(add)}
        replaced[id(div)] = helper.make_node("HardSwish", [x], list(div.output), name=f"{div.name}/hardswish")
    kept = [replaced.get(id(node), node) for node in nodes if id(node) not in dropped]
    return kept, len(replaced)


def preprocess(path: Path, size: int) -> np.ndarray:
    """``[1, 3, size, size]`` float32 input from an image file: RGB, bicubic resize, ImageNet mean/std."""
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"{path}: not a readable image")
    rgb = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_CUBIC)[:, :, ::-1].astype(np.float32)
    return ((rgb - MEAN_RGB) / STD_RGB).transpose(2, 0, 1)[None].astype(np.float32)


def run(path_or_bytes: Path | bytes, inputs: list[np.ndarray]) -> tuple[list[list[np.ndarray]], float]:
    """Every output for every input, and the median time of one call in ms (1 thread)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3  # the original's "initializer appears in graph inputs", once per weight
    model = str(path_or_bytes) if isinstance(path_or_bytes, Path) else path_or_bytes
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    outputs, times = [], []
    for x in inputs:
        start = time.perf_counter()
        outputs.append(session.run(None, {name: x}))
        times.append(time.perf_counter() - start)
    return outputs, 1000 * float(np.median(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="picodet_s_<size>_coco.onnx as published")
    parser.add_argument("--output", type=Path, help="default: src/camsift/models/<source name>")
    parser.add_argument("--check", type=Path, nargs="*", default=[], help="real pictures to compare on")
    parser.add_argument("--atol", type=float, default=5e-5, help="max |original - cleaned| allowed")
    args = parser.parse_args()

    import onnx

    output = args.output or MODELS / args.source.name
    original = onnx.load(str(args.source))
    size = original.graph.input[0].type.tensor_type.shape.dim[2].dim_value
    print(f"source   {sha256(args.source)}  {args.source.name} ({args.source.stat().st_size} bytes), input {size}")
    print("source ops:", dict(Counter(n.op_type for n in original.graph.node)))
    cleaned = clean(onnx.load(str(args.source)))
    print("result ops:", dict(Counter(n.op_type for n in cleaned.graph.node)))
    output.write_bytes(cleaned.SerializeToString())
    print(f"result   {sha256(output)}  {output} ({output.stat().st_size} bytes)")

    if args.check:
        inputs = [preprocess(p, size) for p in args.check]
        expected, before_ms = run(args.source, inputs)
        got, after_ms = run(output, inputs)
        diffs = np.array(
            [
                [np.abs(e - g).max() for e, g in zip(exp, out, strict=True)]
                for exp, out in zip(expected, got, strict=True)
            ]
        )
        worst = float(diffs.max())
        scores, boxes = diffs[:, :4].max(), diffs[:, 4:].max()
        print(f"max |original - cleaned| over {len(inputs)} pictures: scores {scores:.1e}, box logits {boxes:.1e}")
        print(f"one call, 1 thread, median: original {before_ms:.1f} ms, cleaned {after_ms:.1f} ms")
        if worst > args.atol:
            raise SystemExit(f"the cleaned model differs from the original by {worst:.2e} > {args.atol:.0e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
