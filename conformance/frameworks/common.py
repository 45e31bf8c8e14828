"""Shared by the framework scripts: seeded data, ONNX Runtime's output, the manifest.

Every script is called as `python SCRIPT.py OUT_DIR` and writes, for each
model NAME of framework FW:

* `OUT_DIR/FW/NAME.onnx`: the model, as the framework's own exporter wrote it;
* `OUT_DIR/FW/NAME.x.npy`: a seeded input batch in the ONNX input's layout;
* `OUT_DIR/FW/NAME.ember.npy`: the same batch in ember's channels-last layout,
  each sample flattened (`ember run` input `[batch, n]`);
* `OUT_DIR/FW/NAME.ort.npy`: ONNX Runtime's output for the batch (float32);

and one line per model in `OUT_DIR/FW/manifest.tsv`:
`model  expect  ops  versions  note`, where `expect` is `pass` (the import
must round-trip within F32_PARITY), `int8:STEP` (a QDQ model: within one
step STEP of its quantized output, the rounding of integer kernels differing)
or `unsupported:OP` (the import must fail naming the node `note` and the op
`OP`), and `ops` the model's distinct ONNX op types in graph order.
"""

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

BATCH = 4


def out_dir(framework):
    """`OUT_DIR/framework`, created; OUT_DIR is the first command-line argument."""
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    d = os.path.join(sys.argv[1], framework)
    os.makedirs(d, exist_ok=True)
    return d


def ops_of(path):
    """The distinct op types of the ONNX graph at `path`, in graph order (subgraphs not entered)."""
    seen = []
    for n in onnx.load(path).graph.node:
        if n.op_type not in seen:
            seen.append(n.op_type)
    return seen


def node_of(path, op):
    """The name of the first node of type `op` in the ONNX graph at `path`;
    `OP@SUFFIX` picks the first one whose name ends with SUFFIX."""
    op, _, suffix = op.partition("@")
    for n in onnx.load(path).graph.node:
        if n.op_type == op and n.name.endswith(suffix):
            return n.name
    raise SystemExit(f"{path} has no {op} node named *{suffix}")


def output_step(path):
    """The scale of the last `DequantizeLinear` of a QDQ model: one step of its int8 output."""
    from onnx import numpy_helper

    g = onnx.load(path).graph
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    last = [n for n in g.node if n.op_type == "DequantizeLinear"][-1]
    return float(np.max(consts[last.input[1]]))


def ort_run(path, x):
    """ONNX Runtime's (only) output for input `x`, as float32."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {sess.get_inputs()[0].name: x})
    if len(outs) != 1:
        raise SystemExit(f"{path}: expected one output, ORT gives {len(outs)}")
    return np.asarray(outs[0], dtype=np.float32)


class Manifest:
    """Collects the per-model lines and writes `manifest.tsv` (atomically, at the end)."""

    def __init__(self, folder, versions):
        self.folder = folder
        self.versions = versions
        self.lines = []

    def add(self, name, x, ember_x, expect="pass", unsupported_op=None, output_step=None):
        """Records model `name` (already at `folder/name.onnx`): writes the inputs and ORT's output."""
        path = os.path.join(self.folder, name + ".onnx")
        onnx.checker.check_model(path)
        np.save(os.path.join(self.folder, name + ".x.npy"), x)
        # Flat samples: `ember run` takes `[batch, n]` whatever the blob's
        # input dims are (a one-channel NCHW image may keep [1, H, W]).
        flat = np.ascontiguousarray(ember_x).reshape(len(ember_x), -1)
        np.save(os.path.join(self.folder, name + ".ember.npy"), flat)
        y = ort_run(path, x)
        np.save(os.path.join(self.folder, name + ".ort.npy"), y)
        ops = ops_of(path)
        note = ""
        if output_step is not None:
            expect = f"int8:{output_step!r}"
        if unsupported_op is not None:
            expect = f"unsupported:{unsupported_op.partition('@')[0]}"
            note = node_of(path, unsupported_op)
        self.lines.append("\t".join([name, expect, ",".join(ops), self.versions, note]))
        print(f"{name}: {' '.join(ops)} -> ORT output {list(y.shape)} ({expect})", flush=True)

    def write(self):
        tmp = os.path.join(self.folder, "manifest.tsv.tmp")
        with open(tmp, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        os.replace(tmp, os.path.join(self.folder, "manifest.tsv"))
