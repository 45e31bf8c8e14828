#!/usr/bin/env bash
# The performance figures of docs/QUANTIZATION.md and the issue tables, from
# one run on this machine, written into OUT (default target/figures):
#   boards.txt   both QEMU boards: sizes, instructions per inference and per
#                multiply-accumulate of every model the boards test runs (f32
#                and int8), and the quiet firmware's .text by owner
#                (`cargo xtask boards`);
#   host-*.txt   host latency of the typed runtime and the interpreter against
#                tract and ONNX Runtime, and trainer seconds per epoch against
#                Keras (criterion benches; Keras from EMBER_KERAS_PYTHON);
#   presets.txt  per preset: f32 and int8 validation metric and blob bytes
#                (`ember train PRESET --quantize int8`; full training, or
#                EPOCHS=N epochs at most; PRESETS="a b" for some presets).
# STEPS="boards host presets" chooses the parts (default: all three).
# Nothing here asserts: it measures. Takes about an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/figures}
mkdir -p "$out"
if [[ ${STEPS:-host} == *host* ]]; then
  : "${EMBER_KERAS_PYTHON:?set EMBER_KERAS_PYTHON to a Python with tensorflow-cpu (the trainer ratios need Keras)}"
fi
export CARGO_INCREMENTAL=0

steps=${STEPS:-boards host presets}
if [[ $steps == *boards* ]]; then
echo "boards: test run (leaves every model in target/boards), then cargo xtask boards"
cargo test -p ember-conformance --test boards -- --test-threads 1 > "$out/boards-test.txt" 2>&1
cargo xtask boards --quiet mnist_encoder,lstm,conv_encoder,gru,qdense,qconv,lstm_int8 > "$out/boards.txt" 2>&1

fi

if [[ $steps == *host* ]]; then
for b in encoder text conv; do
  echo "host: bench $b"
  cargo bench -p ember-conformance --bench "$b" > "$out/host-$b.txt" 2>&1
done

fi

if [[ $steps == *presets* ]]; then
echo "presets: ember train PRESET --quantize int8"
cargo build --release -p ember-cli
ember=${CARGO_TARGET_DIR:-target}/release/ember
mkdir -p "$out/presets"; : > "$out/presets.txt"
epochs=()
[[ -n ${EPOCHS:-} ]] && epochs=(--epochs "$EPOCHS")
for p in ${PRESETS:-$("$ember" presets | awk '{print $1}' | grep -E '^[a-z0-9-]+$')}; do
  case $p in ngram-embedding|entity-embedding) continue ;; esac # --quantize is for classifiers, regressors, autoencoders
  start=$(date +%s)
  if "$ember" train "$p" --out "$out/presets/$p" --quantize int8 "${epochs[@]}" > "$out/presets/$p.log" 2>&1; then rc=ok; else rc=failed; fi
  {
    echo "== $p ($rc, $(( $(date +%s) - start )) s)"
    grep -E "flash \(blob\)|validation (accuracy|MSE)|layer modes" "$out/presets/$p/report.md" || true
  } >> "$out/presets.txt"
done
fi
echo "figures in $out"
