#!/usr/bin/env python3
"""Train ember's `mnist-cnn` preset in Keras, for a side-by-side epoch time
and accuracy.

Same network (28x28x1: Conv(8, 3x3, valid, relu) - MaxPool(2) - Conv(16, 3x3,
valid, relu) - MaxPool(2) - Flatten - Dense(10, softmax)), same loss (sparse
categorical cross-entropy), optimizer (Adam 1e-3), batch size (32) and data:
the bundled 5000-digit MNIST CSV (pixels / 255), shuffled once, the last 10 %
held out for validation, as in `cargo bench -p ember-conformance --bench trainer`. Prints
seconds per epoch (the first epoch, which includes tracing, is reported
separately), the final validation accuracy, and a last machine-readable line
`seconds_per_epoch=<s>` that the bench reads when it runs this script itself.

Not run in CI (TensorFlow is not installed there):

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu
    /tmp/tf/bin/python scripts/keras_mnist_cnn.py --epochs 4
    EMBER_KERAS_PYTHON=/tmp/tf/bin/python cargo bench -p ember-conformance --bench trainer
"""
import argparse
import gzip
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    args = ap.parse_args()
    from tensorflow import keras
    from tensorflow.keras import layers

    here = os.path.dirname(os.path.abspath(__file__))
    with gzip.open(os.path.join(here, "..", "crates", "data", "mnist_5k.csv.gz"), "rt") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x = (raw[:, :784] / 255.0).reshape(-1, 28, 28, 1)
    y = raw[:, 784].astype(np.int32)
    # The CSV is sorted by digit: shuffle once (as ember does, with its own
    # fixed order) so that the held-out last 10 % holds every digit.
    order = np.random.default_rng(2024).permutation(len(x))
    x, y = x[order], y[order]

    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    hist = model.fit(x, y, epochs=args.epochs, batch_size=32, validation_split=0.1, verbose=0,
                     callbacks=[Timer()])
    steady = times[1:] or times
    print(f"keras mnist-cnn (4500 train + 500 validation, batch 32): first epoch {times[0]:.3f} s, "
          f"then {np.median(steady):.3f} s per epoch (median of {len(steady)})")
    print(f"validation accuracy {hist.history['val_accuracy'][-1]:.4f}")
    print(f"seconds_per_epoch={np.median(steady):.4f}")


if __name__ == "__main__":
    main()
