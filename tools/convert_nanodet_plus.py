"""Convert NanoDet-Plus-m-1.5x 416 from an OpenVINO IR with int8 weights to the float32 ONNX camsift ships.

Source: ``nanodet-plus-m-1.5x-416-int8-ov.xml`` / ``.bin``, kept unchanged in ``../shared/models`` from
https://github.com/l-sf/Nanodet_openvino_quant_deploy @ ccb0f676d898911f23cd35f229e6525dffd56a92,
``workspace/nanodet-1.5x-416-int8.xml`` / ``.bin``: NanoDet-Plus-m-1.5x (https://github.com/RangiLyu/nanodet,
weights Apache-2.0) exported to ONNX, converted by OpenVINO 2022.3's Model Optimizer, quantised by NNCF
(int8 weights, FakeQuantize on activations) and given embedded pre-processing. Sizes and sha256 are in
``src/camsift/models/MODEL_CARD.md``.

The IR is read directly (the XML's layers and edges, the ``.bin``'s constants); no OpenVINO is needed to
convert. What changes on the way to ONNX:

  1. The activation ``FakeQuantize`` nodes (114) are dropped: their ranges were calibrated on one image
     (person AP50 0.43 on COCO128 as published, against 0.70 without them).
  2. Weights stored as int8 with a float32 scale per output channel (``Convert`` then ``Multiply``) are
     dequantised to float32 (``int8 * scale``, which is what OpenVINO computes at run time), and the
     convolution biases (a following ``Add``) become the ``Conv`` nodes' bias inputs.
  3. The embedded pre-processing is cut off: u8 NHWC input, ``Convert`` to float, channel reversal
     (``Gather`` of ``[2, 1, 0]``), ``Subtract`` mean, ``Divide`` by scale, ``Transpose`` to NCHW. The ONNX
     input ``image`` is float32 ``[1, 3, 416, 416]`` taking the place of that transpose's output, so the
     caller normalises: camsift feeds BGR ``(x - [103.53, 116.28, 123.675]) / [57.375, 57.12, 58.395]``,
     NanoDet's training normalisation. (The IR's pre-processing reversed BGR input to RGB and subtracted
     the RGB-ordered means, feeding the network RGB; NanoDet was trained on BGR, and BGR scores higher on
     COCO128, see the model card.)
  4. Every other IR operation maps to its ONNX operator (opset 14): Convolution / GroupConvolution -> Conv
     (``group``), PReLU with one slope -> LeakyRelu, MaxPool, Concat, Reshape, Transpose, StridedSlice ->
     Slice, Interpolate-4 -> Resize, VariadicSplit -> Split, Sigmoid; shape arithmetic on constants
     (ShapeOf, Convert, Multiply) is folded. The output ``output`` ``[1, 3598, 112]`` is unchanged.

Every tensor's ONNX shape (strict shape inference) is checked against the IR's declared port shape.
``--check`` (needs ``openvino`` and ``onnxruntime``) runs the IR in OpenVINO with its FakeQuantize nodes
bypassed and the ONNX in ONNX Runtime on the same pictures, feeding the ONNX exactly the tensor OpenVINO's
own pre-processing produced, and fails unless the outputs match to ``--atol``.

``openvino`` goes only into a THROWAWAY venv, never into camsift's dependencies (Python 3.11)::

    python3.11 -m venv /tmp/ovvenv
    /tmp/ovvenv/bin/pip install openvino==2026.4.1 onnx==1.23.2 onnxruntime==1.32.0 numpy pillow
    /tmp/ovvenv/bin/python tools/convert_nanodet_plus.py ../shared/models/nanodet-plus-m-1.5x-416-int8-ov.xml \\
        --check ../shared/data/images/* ../shared/data/coco128/images/train2017/0000000000[0-4]*.jpg
    rm -rf /tmp/ovvenv   # when done

The output goes to ``src/camsift/models/nanodet_plus_m_1.5x_416.onnx``; reruns give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

OUTPUT = Path(__file__).resolve().parents[1] / "src" / "camsift" / "models" / "nanodet_plus_m_1.5x_416.onnx"
OPSET = 14
SOURCE = "l-sf/Nanodet_openvino_quant_deploy@ccb0f676d898911f23cd35f229e6525dffd56a92"
PREPROCESSING = ("Convert", "Gather", "Subtract", "Divide", "Transpose")
"""The embedded pre-processing, in order from the u8 input (step 3)."""
ELEMENT_TYPES = {
    "f32": np.float32,
    "f16": np.float16,
    "i8": np.int8,
    "u8": np.uint8,
    "i32": np.int32,
    "i64": np.int64,
    "boolean": np.bool_,
}
INT_MAX = np.iinfo(np.int64).max


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Layer:
    """One IR layer: its attributes (``<data>``), inputs by port (producer layer id, port) and output shapes."""

    id: str
    type: str
    name: str
    version: str
    data: dict[str, str]
    inputs: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict[str, tuple[list[int], list[str]]] = field(default_factory=dict)
    """Output port id -> (dims, tensor names)."""

    def ints(self, key: str) -> list[int]:
        return [int(v) for v in self.data[key].split(",") if v.strip()]


def read_ir(xml: Path) -> tuple[dict[str, Layer], dict[tuple[str, str], np.ndarray]]:
    """The layers of an IR (topologically ordered) and its constants by (layer id, port)."""
    blob = xml.with_suffix(".bin").read_bytes()
    root = ET.parse(xml).getroot()  # a local file given on the command line
    layers: dict[str, Layer] = {}
    constants: dict[tuple[str, str], np.ndarray] = {}
    for node in root.iter("layer"):
        data = node.find("data")
        layer = Layer(node.get("id", ""), node.get("type", ""), node.get("name", ""), node.get("version", ""), {})
        layer.data = dict(data.attrib) if data is not None else {}
        for port in node.findall("output/port"):
            dims = [int(d.text or 0) for d in port.findall("dim")]
            layer.outputs[port.get("id", "")] = (dims, [n for n in port.get("names", "").split(",") if n])
        layers[layer.id] = layer
        if layer.type == "Const":
            dtype = np.dtype(ELEMENT_TYPES[layer.data["element_type"]])
            offset, size = int(layer.data["offset"]), int(layer.data["size"])
            shape = [int(s) for s in layer.data["shape"].split(",") if s.strip()]
            value = np.frombuffer(blob, dtype, size // dtype.itemsize, offset).reshape(shape)
            constants[(layer.id, next(iter(layer.outputs)))] = value.copy()
    ports: dict[str, dict[int, tuple[str, str]]] = defaultdict(dict)
    for edge in root.iter("edge"):
        ports[edge.get("to-layer", "")][int(edge.get("to-port", ""))] = (
            edge.get("from-layer", ""),
            edge.get("from-port", ""),
        )
    for layer_id, by_port in ports.items():
        layers[layer_id].inputs = [by_port[p] for p in sorted(by_port)]
    return {i: layers[i] for i in _topological(layers)}, constants


def _topological(layers: dict[str, Layer]) -> list[str]:
    waiting = {i: len(layer.inputs) for i, layer in layers.items()}
    users: dict[str, list[str]] = defaultdict(list)
    for i, layer in layers.items():
        for source, _ in layer.inputs:
            users[source].append(i)
    ready = deque(sorted((i for i, n in waiting.items() if n == 0), key=int))
    order = []
    while ready:
        i = ready.popleft()
        order.append(i)
        for user in users[i]:
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    if len(order) != len(layers):
        raise ValueError("the IR graph has a cycle")
    return order


class Converter:
    """Builds the ONNX graph layer by layer (see the module docstring for what changes)."""

    def __init__(self, layers: dict[str, Layer], constants: dict[tuple[str, str], np.ndarray]) -> None:
        self.layers = layers
        self.values: dict[tuple[str, str], np.ndarray | str] = dict(constants)
        self.nodes: list[Any] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.expected_shapes: dict[str, list[int]] = {}
        self.conv_of: dict[str, Any] = {}  # Conv output name -> its node, while it has no bias
        self.uses = Counter(source for layer in layers.values() for source in layer.inputs)
        self.names: set[str] = set()
        self.dropped: Counter[str] = Counter()
        self.outputs: list[str] = []
        self.preprocessing: dict[str, Any] = {}

    def convert(self) -> Any:
        from onnx import TensorProto, helper, numpy_helper

        cut = self.cut_preprocessing()
        for layer in self.layers.values():
            if layer.id in cut or layer.type == "Const":
                continue
            handler = getattr(self, f"op_{layer.type.lower()}", None)
            if handler is None:
                raise NotImplementedError(f"IR layer {layer.name} ({layer.id}): no mapping for {layer.type}")
            handler(layer)
        graph = helper.make_graph(
            self.nodes,
            "nanodet_plus_m_1.5x_416",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 416, 416])],
            [
                helper.make_tensor_value_info(name, TensorProto.FLOAT, self.expected_shapes[name])
                for name in self.outputs
            ],
            [numpy_helper.from_array(value, name) for name, value in sorted(self.initializers.items())],
            doc_string=f"NanoDet-Plus-m-1.5x 416 (RangiLyu/nanodet, Apache-2.0) from {SOURCE}, "
            "converted by camsift tools/convert_nanodet_plus.py",
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="camsift tools/convert_nanodet_plus.py",
            producer_version="1",
        )
        model.ir_version = 8
        return model

    # --- helpers ---------------------------------------------------------------------------------------------

    def cut_preprocessing(self) -> set[str]:
        """Layer ids of the embedded pre-processing (step 3); the ONNX input replaces their last output."""
        (start,) = [layer for layer in self.layers.values() if layer.type == "Parameter"]
        chain, layer = [start.id], start
        for expected in PREPROCESSING:
            (user,) = [u for u in self.layers.values() if any(s == layer.id for s, _ in u.inputs)]
            if user.type != expected:
                raise ValueError(f"pre-processing: expected {expected} after {layer.name}, found {user.type}")
            chain.append(user.id)
            layer = user
            if user.type == "Gather":
                self.preprocessing["channel order"] = self.gather_indices(user)
            elif user.type in ("Subtract", "Divide"):
                self.preprocessing[user.type] = self.constant(user.inputs[1]).reshape(-1).tolist()
            elif user.type == "Transpose":
                self.preprocessing["layout"] = self.constant(user.inputs[1]).tolist()
        dims, _ = layer.outputs[next(iter(layer.outputs))]
        if dims != [1, 3, 416, 416]:
            raise ValueError(f"pre-processing ends in shape {dims}, expected [1, 3, 416, 416]")
        self.values[(layer.id, next(iter(layer.outputs)))] = "image"
        for dependency in {s for i in chain for s, _ in self.layers[i].inputs} - set(chain):
            if self.layers[dependency].type == "Range":  # the Gather's indices
                chain.append(dependency)
            elif self.layers[dependency].type != "Const":
                raise ValueError(f"pre-processing reads {self.layers[dependency].type}")
        return set(chain)

    def gather_indices(self, gather: Layer) -> list[int]:
        """The indices a ``Gather`` takes, evaluating the ``Range`` that makes them."""
        producer = self.layers[gather.inputs[1][0]]
        if producer.type == "Range":
            start, stop, step = (int(self.constant(s)) for s in producer.inputs)
            return list(range(start, stop, step))
        return [int(v) for v in self.constant(gather.inputs[1])]

    def constant(self, source: tuple[str, str]) -> np.ndarray:
        value = self.values[source]
        if isinstance(value, str):
            raise ValueError(f"expected a constant from layer {self.layers[source[0]].name}, found a tensor")
        return value

    def tensor(self, source: tuple[str, str]) -> str:
        """The ONNX name of an input; a constant becomes an initializer."""
        value = self.values[source]
        if isinstance(value, str):
            return value
        name = f"const_{source[0]}_{source[1]}"
        self.initializers[name] = value
        return name

    def emit(self, layer: Layer, op: str, inputs: list[str], port: str | None = None, **attributes: Any) -> Any:
        """An ONNX node for ``layer``'s output ``port`` (its first by default), named after the IR's tensor."""
        from onnx import helper

        port = port or next(iter(layer.outputs))
        dims, names = layer.outputs[port]
        name = names[0] if names and names[0] not in self.names else f"{layer.name}:{layer.id}"
        self.names.add(name)
        node = helper.make_node(op, inputs, [name], name=f"{layer.name}:{layer.id}", **attributes)
        self.nodes.append(node)
        self.values[(layer.id, port)] = name
        self.expected_shapes[name] = dims
        return node

    def fold(self, layer: Layer, value: np.ndarray) -> None:
        dims, _ = layer.outputs[next(iter(layer.outputs))]
        if list(value.shape) != dims:
            raise ValueError(f"{layer.name}: folded shape {value.shape}, the IR says {dims}")
        self.values[(layer.id, next(iter(layer.outputs)))] = value

    def all_constant(self, layer: Layer) -> bool:
        return all(not isinstance(self.values[s], str) for s in layer.inputs)

    # --- operations ------------------------------------------------------------------------------------------

    def op_fakequantize(self, layer: Layer) -> None:
        if self.all_constant(layer):
            raise NotImplementedError(f"{layer.name}: FakeQuantize on a constant (weight) is not handled")
        self.values[(layer.id, next(iter(layer.outputs)))] = self.values[layer.inputs[0]]
        self.dropped["FakeQuantize"] += 1

    def op_convert(self, layer: Layer) -> None:
        self.fold(layer, self.constant(layer.inputs[0]).astype(ELEMENT_TYPES[layer.data["destination_type"]]))

    def op_shapeof(self, layer: Layer) -> None:
        source_layer, port = layer.inputs[0]
        dims, _ = self.layers[source_layer].outputs[port]
        self.fold(layer, np.array(dims, ELEMENT_TYPES[layer.data.get("output_type", "i64")]))

    def _binary(self, layer: Layer, op: str, numpy_op: Any) -> None:
        if self.all_constant(layer):
            a, b = (self.constant(s) for s in layer.inputs)
            self.fold(layer, numpy_op(a, b).astype(a.dtype))
            return
        self.emit(layer, op, [self.tensor(s) for s in layer.inputs])

    def op_multiply(self, layer: Layer) -> None:
        self._binary(layer, "Mul", np.multiply)

    def op_add(self, layer: Layer) -> None:
        x, bias = layer.inputs
        conv = self.conv_of.get(str(self.values[x]))
        if conv is not None and self.uses[x] == 1 and not isinstance(self.values[bias], str):
            value = self.constant(bias)
            if value.shape == (1, value.size, 1, 1) and len(conv.input) == 2:
                name = f"{conv.input[1]}/bias"
                self.initializers[name] = value.reshape(-1).astype(np.float32)
                conv.input.append(name)
                del self.conv_of[str(self.values[x])]
                self.values[(layer.id, next(iter(layer.outputs)))] = self.values[x]
                self.dropped["Add (bias into Conv)"] += 1
                return
        self._binary(layer, "Add", np.add)

    def op_reshape(self, layer: Layer) -> None:
        shape = self.constant(layer.inputs[1]).astype(np.int64)
        special_zero = layer.data.get("special_zero") == "true"
        if self.all_constant(layer):
            value = self.constant(layer.inputs[0])
            target = [value.shape[i] if special_zero and s == 0 else s for i, s in enumerate(shape)]
            self.fold(layer, value.reshape(target))
            return
        self.initializers[f"{layer.name}:{layer.id}/shape"] = shape
        inputs = [self.tensor(layer.inputs[0]), f"{layer.name}:{layer.id}/shape"]
        self.emit(layer, "Reshape", inputs, allowzero=0 if special_zero else 1)

    def op_transpose(self, layer: Layer) -> None:
        self.emit(layer, "Transpose", [self.tensor(layer.inputs[0])], perm=self.constant(layer.inputs[1]).tolist())

    def _conv(self, layer: Layer, weight: np.ndarray, group: int) -> None:
        if layer.data.get("auto_pad", "explicit") not in ("explicit", "notset"):
            raise NotImplementedError(f"{layer.name}: auto_pad {layer.data['auto_pad']}")
        name = f"{layer.name}:{layer.id}/weight"
        self.initializers[name] = weight.astype(np.float32)
        node = self.emit(
            layer,
            "Conv",
            [self.tensor(layer.inputs[0]), name],
            group=group,
            kernel_shape=list(weight.shape[2:]),
            strides=layer.ints("strides"),
            dilations=layer.ints("dilations"),
            pads=layer.ints("pads_begin") + layer.ints("pads_end"),
        )
        self.conv_of[node.output[0]] = node

    def op_convolution(self, layer: Layer) -> None:
        self._conv(layer, self.constant(layer.inputs[1]), 1)

    def op_groupconvolution(self, layer: Layer) -> None:
        weight = self.constant(layer.inputs[1])  # [groups, out / groups, in / groups, kh, kw]
        self._conv(layer, weight.reshape(-1, *weight.shape[2:]), weight.shape[0])

    def op_prelu(self, layer: Layer) -> None:
        slope = self.constant(layer.inputs[1]).astype(np.float32)
        if slope.size == 1:
            self.emit(layer, "LeakyRelu", [self.tensor(layer.inputs[0])], alpha=float(slope.reshape(-1)[0]))
            return
        name = f"{layer.name}:{layer.id}/slope"
        self.initializers[name] = slope.reshape(-1, 1, 1)  # per channel (axis 1), broadcast from the right
        self.emit(layer, "PRelu", [self.tensor(layer.inputs[0]), name])

    def op_maxpool(self, layer: Layer) -> None:
        ports = list(layer.outputs)
        if any(self.uses[(layer.id, p)] for p in ports[1:]):
            raise NotImplementedError(f"{layer.name}: MaxPool indices are used")
        attributes: dict[str, Any] = {
            "kernel_shape": layer.ints("kernel"),
            "strides": layer.ints("strides"),
            "pads": layer.ints("pads_begin") + layer.ints("pads_end"),
            "ceil_mode": int(layer.data.get("rounding_type", "floor") == "ceil"),
        }
        if "dilations" in layer.data:
            attributes["dilations"] = layer.ints("dilations")
        self.emit(layer, "MaxPool", [self.tensor(layer.inputs[0])], port=ports[0], **attributes)

    def op_concat(self, layer: Layer) -> None:
        self.emit(layer, "Concat", [self.tensor(s) for s in layer.inputs], axis=int(layer.data["axis"]))

    def op_sigmoid(self, layer: Layer) -> None:
        self.emit(layer, "Sigmoid", [self.tensor(layer.inputs[0])])

    def op_stridedslice(self, layer: Layer) -> None:
        for mask in ("new_axis_mask", "shrink_axis_mask", "ellipsis_mask"):
            if any(layer.ints(mask)) if layer.data.get(mask) else False:
                raise NotImplementedError(f"{layer.name}: {mask}")
        begin, end, steps = (self.constant(s).astype(np.int64) for s in layer.inputs[1:4])
        ignore_begin, ignore_end = layer.ints("begin_mask"), layer.ints("end_mask")
        starts = [0 if i < len(ignore_begin) and ignore_begin[i] else b for i, b in enumerate(begin)]
        ends = [INT_MAX if i < len(ignore_end) and ignore_end[i] else e for i, e in enumerate(end)]
        if any(s <= 0 for s in steps):
            raise NotImplementedError(f"{layer.name}: non-positive strides")
        prefix = f"{layer.name}:{layer.id}"
        for part, value in (("starts", starts), ("ends", ends), ("axes", range(len(begin))), ("steps", steps)):
            self.initializers[f"{prefix}/{part}"] = np.array(list(value), np.int64)
        parts = [f"{prefix}/{p}" for p in ("starts", "ends", "axes", "steps")]
        self.emit(layer, "Slice", [self.tensor(layer.inputs[0]), *parts])

    def op_interpolate(self, layer: Layer) -> None:
        if layer.version != "opset4":
            raise NotImplementedError(f"{layer.name}: Interpolate {layer.version}")
        if layer.data.get("antialias", "false") != "false" or any(layer.ints("pads_begin") + layer.ints("pads_end")):
            raise NotImplementedError(f"{layer.name}: antialias or padding")
        mode = {"linear_onnx": "linear", "linear": "linear", "nearest": "nearest", "cubic": "cubic"}[layer.data["mode"]]
        rank = len(self.layers[layer.inputs[0][0]].outputs[layer.inputs[0][1]][0])
        axes = self.constant(layer.inputs[3]).tolist() if len(layer.inputs) > 3 else list(range(rank))
        prefix = f"{layer.name}:{layer.id}"
        if layer.data["shape_calculation_mode"] == "scales":
            scales = np.ones(rank, np.float32)
            scales[axes] = self.constant(layer.inputs[2])
            self.initializers[f"{prefix}/scales"] = scales
            resize_inputs = [self.tensor(layer.inputs[0]), "", f"{prefix}/scales"]
        else:
            sizes = np.array(self.layers[layer.inputs[0][0]].outputs[layer.inputs[0][1]][0], np.int64)
            sizes[axes] = self.constant(layer.inputs[1])
            self.initializers[f"{prefix}/sizes"] = sizes
            resize_inputs = [self.tensor(layer.inputs[0]), "", "", f"{prefix}/sizes"]
        attributes: dict[str, Any] = {
            "mode": mode,
            "coordinate_transformation_mode": layer.data["coordinate_transformation_mode"],
        }
        if mode == "nearest":
            attributes["nearest_mode"] = layer.data["nearest_mode"]
        if mode == "cubic":
            attributes["cubic_coeff_a"] = float(layer.data["cube_coeff"])
        self.emit(layer, "Resize", resize_inputs, **attributes)

    def op_variadicsplit(self, layer: Layer) -> None:
        from onnx import helper

        axis, lengths = int(self.constant(layer.inputs[1])), self.constant(layer.inputs[2]).astype(np.int64)
        prefix = f"{layer.name}:{layer.id}"
        self.initializers[f"{prefix}/split"] = lengths
        outputs = []
        for port, (dims, _) in layer.outputs.items():
            name = f"{prefix}:{port}"
            outputs.append(name)
            self.values[(layer.id, port)] = name
            self.expected_shapes[name] = dims
        node = helper.make_node("Split", [self.tensor(layer.inputs[0]), f"{prefix}/split"], outputs, prefix, axis=axis)
        self.nodes.append(node)

    def op_result(self, layer: Layer) -> None:
        self.outputs.append(self.tensor(layer.inputs[0]))


def check_shapes(model: Any, expected: dict[str, list[int]]) -> None:
    """Fail unless ONNX shape inference gives every tensor the shape the IR declares for it."""
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {
        info.name: [d.dim_value for d in info.type.tensor_type.shape.dim]
        for info in [*inferred.graph.value_info, *inferred.graph.output]
    }
    wrong = {name: (shapes.get(name), dims) for name, dims in expected.items() if shapes.get(name) != dims}
    if wrong:
        raise ValueError(f"{len(wrong)} tensors differ from the IR's shapes, e.g. {next(iter(wrong.items()))}")
    print(f"shapes: all {len(expected)} tensors match the IR")


def check(xml: Path, onnx_path: Path, pictures: list[Path], atol: float) -> None:
    """Compare with OpenVINO on ``pictures`` (see the module docstring); print the worst difference."""
    import onnxruntime as ort
    import openvino as ov
    from PIL import Image

    core = ov.Core()
    model = core.read_model(xml)
    bypassed = 0
    for op in model.get_ordered_ops():
        if op.get_type_name() == "FakeQuantize":
            for target in list(op.output(0).get_target_inputs()):
                target.replace_source_output(op.input_value(0))
            bypassed += 1
    normalised = next(op for op in model.get_ordered_ops() if op.get_friendly_name() == "Transpose_4111")
    model.add_outputs([normalised.output(0)])
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    worst, times = np.zeros(2), []
    for picture in pictures:
        rgb = Image.open(picture).convert("RGB").resize((416, 416), Image.Resampling.BICUBIC)
        bgr = np.asarray(rgb)[None, :, :, ::-1]
        result = compiled(np.ascontiguousarray(bgr))
        expected, tensor = result[compiled.outputs[0]], result[compiled.outputs[1]]
        start = time.perf_counter()
        (got,) = session.run(["output"], {"image": tensor})
        times.append(time.perf_counter() - start)
        difference = np.abs(expected - got)[0]
        worst = np.maximum(worst, [difference[:, :80].max(), difference[:, 80:].max()])
    print(f"OpenVINO {ov.__version__} with {bypassed} FakeQuantize bypassed vs ONNX Runtime {ort.__version__}:")
    print(f"max |difference| over {len(pictures)} pictures: scores {worst[0]:.1e}, box logits {worst[1]:.1e}")
    print(f"ONNX one call, 1 thread, median {1000 * float(np.median(times)):.1f} ms")
    if worst.max() > atol:
        raise SystemExit(f"ONNX differs from OpenVINO by {worst.max():.2e} > {atol:.0e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("xml", type=Path, help="nanodet-plus-m-1.5x-416-int8-ov.xml (its .bin beside it)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", type=Path, nargs="*", default=[], metavar="PICTURE", help="compare on these")
    parser.add_argument("--atol", type=float, default=5e-5, metavar="TOL", help="max |OpenVINO - ONNX| allowed")
    args = parser.parse_args()

    import onnx

    for path in (args.xml, args.xml.with_suffix(".bin")):
        print(f"source   {sha256(path)}  {path.name} ({path.stat().st_size} bytes)")
    layers, constants = read_ir(args.xml)
    print("IR layers:", dict(Counter(layer.type for layer in layers.values())))
    converter = Converter(layers, constants)
    model = converter.convert()
    print("cut pre-processing:", converter.preprocessing)
    print("dropped:", dict(converter.dropped))
    print("ONNX ops:", dict(Counter(node.op_type for node in model.graph.node)))
    check_shapes(model, converter.expected_shapes)
    onnx.checker.check_model(model, full_check=True)
    args.output.write_bytes(model.SerializeToString())
    print(f"result   {sha256(args.output)}  {args.output} ({args.output.stat().st_size} bytes)")
    if args.check:
        check(args.xml, args.output, args.check, args.atol)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
