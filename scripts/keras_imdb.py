#!/usr/bin/env python3
"""Train ember's IMDB-shaped `rnn`, `lstm` and `gru` presets in Keras, for a
side-by-side epoch time on data of the real shape.

Same shape as ember's benchmark (`cargo bench -p ember-conformance --bench
text_trainer`): 5000 sequences of 400 token ids below 5000, 3750 for training
and 1250 for validation (split 0.25), embedding 32, SimpleRNN(100),
LSTM(100) or GRU(100) (reset_after=True, the Keras default), Dense(1,
sigmoid), binary cross-entropy, Adam 1e-3, batch 32. The
ids are random (the time of an epoch does not depend on their values). Prints
seconds per epoch; the first epoch, which includes tracing, is reported
separately; the last line, `seconds_per_epoch=<s>`, is what the bench reads
when it runs this script itself (`EMBER_KERAS_PYTHON`).

Not run in CI (TensorFlow is not installed there):

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu
    /tmp/tf/bin/python scripts/keras_imdb.py --model lstm --epochs 3
"""
import argparse
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["rnn", "lstm", "gru"], default="rnn")
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    from tensorflow import keras

    rng = np.random.default_rng(0)
    x = rng.integers(0, 5000, size=(5000, 400)).astype(np.int32)
    y = rng.integers(0, 2, size=(5000, 1)).astype(np.float32)
    cell = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[args.model](100)
    model = keras.Sequential([keras.Input(shape=(400,)), keras.layers.Embedding(5000, 32), cell,
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit(x, y, batch_size=32, epochs=args.epochs, validation_split=0.25, verbose=0, callbacks=[Timer()])
    rest = times[1:] or times
    print(f"keras {args.model}: first epoch {times[0]:.2f} s, then median {float(np.median(rest)):.2f} s per epoch "
          f"(3750 training + 1250 validation sequences of 400, batch 32)")
    print(f"seconds_per_epoch={float(np.median(rest)):.4f}")


if __name__ == "__main__":
    main()
