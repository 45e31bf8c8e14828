"""Writes the ONNX backend node tests of ember's supported operators.

The `onnx` wheel ships the node-test generators (onnx.backend.test.case.node),
not the data folders. This script runs them and writes the official layout,
exactly as onnx/backend/test/cmd_tools.py does:

    OUT/<case>/model.onnx
    OUT/<case>/test_data_set_0/input_<j>.pb, output_<j>.pb

and OUT/cases.txt, one line per case: `<case> <op_type>` (the operator the
case tests; `_expanded` cases test it through its function body).

Usage: python generate.py OUT
"""

import os
import warnings
import shutil
import sys

import onnx
import onnx.backend.test.case.node as node_cases
from onnx import numpy_helper

# The operators ember imports (crates/export/src/import); keep in sync with
# conformance/onnx_node/allowlist.txt.
SUPPORTED = {
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "Softmax", "Conv",
    "MaxPool", "AveragePool", "GlobalAveragePool", "Resize", "Upsample",
    "BatchNormalization", "Gather", "Flatten", "Reshape", "Squeeze",
    "Unsqueeze", "Transpose", "RNN", "LSTM", "GRU", "ReduceMean", "Slice",
    "DequantizeLinear",
}


def main() -> None:
    out = sys.argv[1]
    warnings.filterwarnings("ignore")
    tags = {}
    original = node_cases.expect

    def expect(node_op, inputs, outputs, name, **kwargs):
        before = len(node_cases._NodeTestCases)
        original(node_op, inputs, outputs, name, **kwargs)
        for case in node_cases._NodeTestCases[before:]:
            tags[case.name] = node_op.op_type

    # The operator modules import `expect` when collect_testcases imports them.
    node_cases.expect = expect
    cases = node_cases.collect_testcases(None)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    index = []
    for case in cases:
        op = tags.get(case.name)
        if op not in SUPPORTED or case.model is None:
            continue
        graph = case.model.graph
        if not all(v.type.HasField("tensor_type") for v in list(graph.input) + list(graph.output)):
            continue
        case_dir = os.path.join(out, case.name)
        os.makedirs(case_dir)
        with open(os.path.join(case_dir, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for i, (inputs, outputs) in enumerate(case.data_sets):
            data_dir = os.path.join(case_dir, f"test_data_set_{i}")
            os.makedirs(data_dir)
            for kind, values, infos in (("input", inputs, graph.input), ("output", outputs, graph.output)):
                for j, value in enumerate(values):
                    with open(os.path.join(data_dir, f"{kind}_{j}.pb"), "wb") as f:
                        if isinstance(value, onnx.TensorProto):
                            f.write(value.SerializeToString())
                        else:
                            f.write(numpy_helper.from_array(value, infos[j].name).SerializeToString())
        index.append(f"{case.name} {op}")
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(sorted(index)) + "\n")
    print(f"wrote {len(index)} node tests of {len(SUPPORTED)} operators to {out}")


if __name__ == "__main__":
    main()
