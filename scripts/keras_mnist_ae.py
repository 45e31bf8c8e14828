#!/usr/bin/env python3
"""Train ember's `mnist-ae` preset in Keras, for a side-by-side epoch time.

Same data (the bundled 5000-digit MNIST CSV, pixels / 255), same network
(784 -> 128 relu -> 32 relu -> 128 relu -> 784 sigmoid), same loss (binary
cross-entropy), optimizer (Adam 1e-3), batch size (256) and validation split
(0.1). Prints seconds per epoch (the first epoch, which includes tracing, is
reported separately) and the final losses.

Not run in CI (TensorFlow is not installed there):

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu
    /tmp/tf/bin/python scripts/keras_mnist_ae.py --epochs 10
    cargo bench -p ember-conformance --bench trainer      # ember's figure on the same machine
"""
import argparse
import gzip
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0, help="0 = TensorFlow's default")
    args = ap.parse_args()
    import tensorflow as tf
    from tensorflow import keras

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    here = os.path.dirname(os.path.abspath(__file__))
    with gzip.open(os.path.join(here, "..", "crates", "data", "mnist_5k.csv.gz"), "rt") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x = raw[:, :784] / 255.0

    inp = keras.Input(shape=(784,))
    h = keras.layers.Dense(128, activation="relu")(inp)
    code = keras.layers.Dense(32, activation="relu")(h)
    h = keras.layers.Dense(128, activation="relu")(code)
    out = keras.layers.Dense(784, activation="sigmoid")(h)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")

    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    hist = model.fit(x, x, epochs=args.epochs, batch_size=256, validation_split=0.1, verbose=0, callbacks=[Timer()])
    steady = times[1:] or times
    print(f"keras mnist-ae: first epoch {times[0]:.3f} s, then {np.median(steady):.3f} s per epoch (median of {len(steady)})")
    print(f"final loss {hist.history['loss'][-1]:.5f}, val_loss {hist.history['val_loss'][-1]:.5f}")
    print(f"seconds_per_epoch={np.median(steady):.4f}")


if __name__ == "__main__":
    main()
