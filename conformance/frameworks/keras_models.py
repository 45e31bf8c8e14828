"""Keras models exported to ONNX by tf2onnx, for the `ember import` round-trip tests.

`python keras_models.py OUT_DIR` builds small models with seeded weights,
one per op family the runtime runs, in two flavours, and writes them (see
`common.py` for the files):

* `OUT_DIR/keras/`: Keras 2 (`tf_keras`), exported with
  `tf2onnx.convert.from_keras`, tf2onnx's documented Keras path;
* `OUT_DIR/keras3/`: Keras 3 (`keras`, what `tf.keras` is in TensorFlow
  2.16 and later), exported with `Model.export(format="onnx")`, which calls
  tf2onnx too.

Both keep the batch dimension dynamic, as the exporters do by default. Keras
layouts are channels-last, so the ember input is the ONNX input unchanged.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402

import common  # noqa: E402

SEED = 13

# What Keras 3's exporter writes outside the runtime's op set (Keras 2 +
# tf2onnx writes the ONNX op for each): `UpSampling2D` as `Tile` + `Reshape`,
# `Embedding` with arithmetic on the ids (`Less`, `Not`, `Mul`: negative ids
# wrap), and `GRU` as a `Loop`. These must be refused, naming the node. (Its
# batch normalisation, `Mul` + `Add` by constants after the convolution, is
# folded by the importer.) Its layer normalisation's `ReduceMean` over the
# features imports (as a global average), so the node named is the `Sqrt`.
KERAS3_UNSUPPORTED = {
    "pools": "Tile",
    "embedding": "Less",
    "gru": "Loop",
    "layer_norm": "Sqrt",
    "bidirectional_lstm": "Concat@bidirectional_1/concat",
}


def seeded_weights(model, rng):
    """Replaces every weight with seeded values (so biases, batch-norm statistics are not trivial)."""
    for layer in model.layers:
        ws = []
        for v in layer.weights:
            name = v.name.lower()
            shape = tuple(v.shape)
            if "variance" in name:
                ws.append(rng.uniform(0.5, 1.5, shape))
            elif "gamma" in name:
                ws.append(rng.uniform(0.5, 1.5, shape))
            else:
                ws.append(rng.normal(0.0, 0.4, shape))
        if ws:
            layer.set_weights([w.astype(np.float32) for w in ws])


def builders(K):
    """(name, input shape per sample, dtype, builder, unsupported op or None) for Keras module `K`."""
    L = K.layers

    def seq(shape, layers, dtype="float32"):
        return lambda: K.Sequential([K.Input(shape, dtype=dtype), *layers()])

    def layer_norm():
        x = K.Input((6,))
        a = L.Dense(4)(x)
        y = L.LayerNormalization()(a)
        return K.Model(x, L.Dense(2)(y))

    return [
        ("dense", (6,), "float32", seq((6,), lambda: [
            L.Dense(8, activation="relu"), L.Dense(8, activation="tanh"),
            L.Dense(8, activation="sigmoid"), L.Dense(3, activation="softmax")]), None),
        ("conv2d_bn", (8, 8, 1), "float32", seq((8, 8, 1), lambda: [
            L.Conv2D(4, 3, padding="same"), L.BatchNormalization(), L.Activation("relu"),
            L.Conv2D(6, 3, strides=2, padding="valid", activation="relu"), L.BatchNormalization(),
            L.Flatten(), L.Dense(3)]), None),
        ("depthwise_rgb", (8, 8, 3), "float32", seq((8, 8, 3), lambda: [
            L.DepthwiseConv2D(3, padding="same", activation="relu"),
            L.Conv2D(4, 1, activation="relu"), L.DepthwiseConv2D(3, strides=2, padding="valid"),
            L.GlobalAveragePooling2D(), L.Dense(2)]), None),
        ("conv1d", (16, 2), "float32", seq((16, 2), lambda: [
            L.Conv1D(4, 3, padding="same", activation="relu"), L.Conv1D(4, 3, strides=2, activation="tanh"),
            L.MaxPooling1D(2), L.AveragePooling1D(2, padding="same"), L.GlobalAveragePooling1D(),
            L.Dense(2)]), None),
        ("pools", (8, 8, 2), "float32", seq((8, 8, 2), lambda: [
            L.MaxPooling2D(2), L.UpSampling2D(2), L.Conv2D(3, 3, padding="same", activation="relu"),
            L.AveragePooling2D(2), L.MaxPooling2D(2, padding="same"), L.Flatten(), L.Dense(2)]), None),
        ("embedding", (6,), "int32", seq((6,), lambda: [
            L.Embedding(10, 4), L.Flatten(), L.Dense(2, activation="sigmoid")], dtype="int32"), None),
        ("simple_rnn", (5, 3), "float32", seq((5, 3), lambda: [L.SimpleRNN(4), L.Dense(2)]), "Loop"),
        ("lstm", (5, 3), "float32", seq((5, 3), lambda: [L.LSTM(4), L.Dense(2)]), None),
        ("lstm_sequences", (5, 3), "float32", seq((5, 3), lambda: [
            L.LSTM(4, return_sequences=True), L.Flatten(), L.Dense(2)]), None),
        ("gru", (5, 3), "float32", seq((5, 3), lambda: [L.GRU(4, reset_after=True), L.Dense(2)]), None),
        # A known gap of the importer, not of the runtime (which runs
        # bidirectional LSTMs): tf2onnx joins the two directions' last states
        # with a `Concat` of the LSTM's `Y_h` halves, a pattern `ember import`
        # does not recognise yet; it must refuse it, naming that node.
        ("bidirectional_lstm", (5, 3), "float32", seq((5, 3), lambda: [
            L.Bidirectional(L.LSTM(4)), L.Dense(2)]), "Concat@bidirectional/concat"),
        ("layer_norm", (6,), "float32", layer_norm, "ReduceSumSquare"),
    ]


def sample(rng, shape, dtype):
    if dtype == "int32":
        return rng.integers(0, 10, (common.BATCH, *shape)).astype(np.int32)
    return rng.normal(0.0, 1.0, (common.BATCH, *shape)).astype(np.float32)


def export_keras2(model, shape, dtype, path):
    spec = (tf.TensorSpec((None, *shape), dtype, name="x"),)
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=17, output_path=path)


def export_keras3(model, shape, dtype, path):
    model.export(path, format="onnx", verbose=False)


def build_all(K, framework, export, versions, unsupported_here=None):
    folder = common.out_dir(framework)
    manifest = common.Manifest(folder, versions)
    rng = np.random.default_rng(SEED)
    for name, shape, dtype, build, unsupported in builders(K):
        unsupported = (unsupported_here or {}).get(name, unsupported)
        K.utils.set_random_seed(SEED)
        model = build()
        seeded_weights(model, rng)
        x = sample(rng, shape, dtype)
        model(x)  # Keras 3 exports only a model that has been called
        export(model, shape, dtype, os.path.join(folder, name + ".onnx"))
        manifest.add(name, x, x, unsupported_op=unsupported)
    manifest.write()


def main():
    import keras
    import tf_keras

    onnx_v = f"onnx {common.onnx.__version__}, onnxruntime {common.ort.__version__}"
    build_all(tf_keras, "keras", export_keras2,
              f"tf_keras {tf_keras.__version__}, tensorflow {tf.__version__}, tf2onnx {tf2onnx.__version__}, {onnx_v}")
    build_all(keras, "keras3", export_keras3,
              f"keras {keras.__version__}, tensorflow {tf.__version__}, tf2onnx {tf2onnx.__version__}, {onnx_v}",
              KERAS3_UNSUPPORTED)


if __name__ == "__main__":
    main()
