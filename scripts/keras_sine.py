#!/usr/bin/env python3
"""The TFLM hello-world model in Keras and TensorFlow Lite, beside ember's
`sine` preset: the same network (1 -> 16 -> 16 -> 1, ReLU, 321 parameters),
data of the same kind (1000 x uniform in [0, 2π), targets sin(x) + 0.1·N(0, 1),
the last 20 % held out) and training (MSE, Adam 5e-3, batch 32).

Prints the validation MSE, the size of the model as TensorFlow Lite keeps it
in flash (a float32 and a fully int8 .tflite flatbuffer, as TFLM's
hello_world ships), and the host time of one inference through the TFLite
interpreter, then machine-readable lines that
`cargo bench -p ember-conformance --bench sine` reads when it runs this script
itself (`EMBER_KERAS_PYTHON`).

Not run in CI (TensorFlow is not installed there):

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu
    EMBER_KERAS_PYTHON=/tmp/tf/bin/python cargo bench -p ember-conformance --bench sine
"""
import argparse
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=300)
    args = ap.parse_args()
    import tensorflow as tf
    from tensorflow import keras

    rng = np.random.default_rng(42)
    x = rng.uniform(0, 2 * np.pi, size=(1000, 1)).astype(np.float32)
    y = (np.sin(x) + 0.1 * rng.standard_normal(size=x.shape)).astype(np.float32)
    model = keras.Sequential([
        keras.Input(shape=(1,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(5e-3), loss="mse")
    stop = keras.callbacks.EarlyStopping(patience=30, restore_best_weights=True)
    hist = model.fit(x, y, batch_size=32, epochs=args.epochs, validation_split=0.2, verbose=0, callbacks=[stop])
    val_mse = min(hist.history["val_loss"])

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    float_bytes = len(conv.convert())
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([v.reshape(1, 1)] for v in x[:200])
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    int8_model = conv.convert()

    interp = tf.lite.Interpreter(model_content=int8_model)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    runs = 20000
    t = time.perf_counter()
    for _ in range(runs):
        interp.set_tensor(inp["index"], np.array([[10]], dtype=np.int8))
        interp.invoke()
    us = (time.perf_counter() - t) / runs * 1e6

    print(f"keras sine: validation MSE {val_mse:.4f}; .tflite float32 {float_bytes} B, int8 {len(int8_model)} B; "
          f"TFLite interpreter {us:.2f} us per int8 inference (set_tensor + invoke)")
    print(f"val_mse={val_mse:.6f}")
    print(f"tflite_float_bytes={float_bytes}")
    print(f"tflite_int8_bytes={len(int8_model)}")
    print(f"tflite_int8_us={us:.4f}")


if __name__ == "__main__":
    main()
