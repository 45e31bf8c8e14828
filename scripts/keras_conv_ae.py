#!/usr/bin/env python3
"""Train ember's `conv-ae` preset in Keras, for a side-by-side epoch time.

Same network (28x28x1: Conv(16,3,same,relu) - MaxPool(same) - Conv(8) -
MaxPool - Conv(8) - MaxPool(same) = 4x4x8 code; Conv(8) - Up - Conv(8) - Up -
Conv(16, valid) - Up - Conv(1, sigmoid)), same loss (binary cross-entropy),
optimizer (Adam 1e-3) and batch size (256), on 10 000 images: the bundled
5000-digit MNIST CSV (pixels / 255) twice, no validation split, as in
`cargo bench -p ember-conformance --bench conv`. Prints seconds per epoch (the
first epoch, which includes tracing, is reported separately) and the final
loss.

Not run in CI (TensorFlow is not installed there):

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu
    /tmp/tf/bin/python scripts/keras_conv_ae.py --epochs 6
    cargo bench -p ember-conformance --bench conv        # ember's figure on the same machine
"""
import argparse
import gzip
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=0, help="0 = TensorFlow's default")
    args = ap.parse_args()
    import tensorflow as tf
    from tensorflow import keras
    from tensorflow.keras import layers

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    here = os.path.dirname(os.path.abspath(__file__))
    with gzip.open(os.path.join(here, "..", "crates", "data", "mnist_5k.csv.gz"), "rt") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x = raw[:, :784] / 255.0
    reps = -(-args.images // len(x))
    x = np.tile(x, (reps, 1))[: args.images].reshape(-1, 28, 28, 1)

    inp = keras.Input(shape=(28, 28, 1))
    h = layers.Conv2D(16, 3, activation="relu", padding="same")(inp)
    h = layers.MaxPooling2D(2, padding="same")(h)
    h = layers.Conv2D(8, 3, activation="relu", padding="same")(h)
    h = layers.MaxPooling2D(2, padding="same")(h)
    h = layers.Conv2D(8, 3, activation="relu", padding="same")(h)
    code = layers.MaxPooling2D(2, padding="same")(h)
    h = layers.Conv2D(8, 3, activation="relu", padding="same")(code)
    h = layers.UpSampling2D(2)(h)
    h = layers.Conv2D(8, 3, activation="relu", padding="same")(h)
    h = layers.UpSampling2D(2)(h)
    h = layers.Conv2D(16, 3, activation="relu")(h)
    h = layers.UpSampling2D(2)(h)
    out = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(h)
    model = keras.Model(inp, out)
    assert tuple(code.shape[1:]) == (4, 4, 8), code.shape
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")

    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    hist = model.fit(x, x, epochs=args.epochs, batch_size=256, shuffle=True, verbose=0, callbacks=[Timer()])
    steady = times[1:] or times
    print(
        f"keras conv-ae ({len(x)} images, batch 256): first epoch {times[0]:.3f} s, "
        f"then {np.median(steady):.3f} s per epoch (median of {len(steady)})"
    )
    print(f"final loss {hist.history['loss'][-1]:.5f}")
    print(f"seconds_per_epoch={np.median(steady):.4f}")


if __name__ == "__main__":
    main()
