#!/usr/bin/env python3
"""Train ember's `ngram-embedding` preset in Keras, for a side-by-side epoch time.

Same network (three word ids -> one shared Embedding(250, 5) -> Flatten (15)
-> Dense(250, softmax)), loss (categorical cross-entropy on one-hot targets,
as ember trains it), optimizer (Adam 0.01) and batch size (100), on 372 550
windows over a 250-word vocabulary (the size of the classic course data set)
drawn with the same generator as `cargo bench -p ember-conformance --bench embed`
(a seeded Zipf-like draw; the content does not change the speed). No
validation split. Prints seconds per epoch (the first epoch, which includes
tracing, is reported separately) and the final loss.

Not run in CI (TensorFlow is not installed there):

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu
    /tmp/tf/bin/python scripts/keras_ngram.py --epochs 4
    cargo bench -p ember-conformance --bench embed       # ember's figure on the same machine
"""
import argparse
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--windows", type=int, default=372550)
    ap.add_argument("--vocab", type=int, default=250)
    ap.add_argument("--threads", type=int, default=0, help="0 = TensorFlow's default")
    args = ap.parse_args()
    import tensorflow as tf
    from tensorflow import keras
    from tensorflow.keras import layers

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    rng = np.random.default_rng(1)
    weights = 1.0 / np.arange(1, args.vocab + 1)
    ids = rng.choice(args.vocab, size=(args.windows, 4), p=weights / weights.sum())
    x = ids[:, :3].astype(np.int32)
    y = keras.utils.to_categorical(ids[:, 3], args.vocab).astype(np.float32)

    model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            layers.Embedding(args.vocab, 5),
            layers.Flatten(),
            layers.Dense(args.vocab, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy")
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    hist = model.fit(x, y, batch_size=100, epochs=args.epochs, verbose=0, callbacks=[Timer()], shuffle=True)
    rest = sorted(times[1:]) or times
    print(f"keras {tf.__version__}: first epoch {times[0]:.3f} s, then median {rest[len(rest) // 2]:.3f} s per epoch "
          f"({args.windows} windows, batch 100); final loss {hist.history['loss'][-1]:.4f}")
    print(f"seconds_per_epoch={rest[len(rest) // 2]:.4f}")


if __name__ == "__main__":
    main()
