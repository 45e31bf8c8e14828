//! Every preset in int8 on the boards. The six presets of
//! [`super::check_all`] run there trained and quantized; every other preset
//! (the autoencoders, the text classifiers, the word and entity models, and
//! any preset added later, since the list comes from `presets::names()`)
//! runs here with its seeded initial weights (bit parity does not need
//! trained weights), quantized by `ember_export::quant::quantize` (int8
//! scheme: int8 Dense and convolutions, weights-only embeddings and
//! recurrent layers) calibrated on 32 seeded samples, then run on four
//! other samples: the firmware's outputs must have the exact bits of the
//! host interpreter on the same blob. The Cortex-M0 and the Cortex-M33 leave
//! out four of them (`cores::INT8_LEFT_OUT`: `conv-denoise`,
//! `mnist-denoise`, `rnn-dense`, `rnn2`) to keep their CI time down.

use anyhow::{Context, Result, bail};
use ember_board_host::Board;
use ember_conformance::preset_inputs::{preset_model, samples};
use ember_export::quant::{QuantizeOptions, quantize};
use ember_runtime::qspec::QuantMode;
use ember_train::presets;

use super::cores::{INT8_LEFT_OUT, runs_int8_preset};
use super::quant::check_quantized;
use super::{SAMPLES, TRAINED};

/// Quantizes preset `name` and checks it on `board`.
fn check_preset(board: Board, name: &str) -> Result<()> {
    let model = preset_model(name);
    let qm = quantize(&model, &samples(&model, 32, 300), QuantizeOptions::default())
        .with_context(|| format!("{name}: quantize"))?;
    let q = qm.quant.as_ref().context("not quantized")?;
    if q.layers.iter().all(|l| l.mode == QuantMode::Float) {
        bail!("{name}: no layer was quantized");
    }
    let x = samples(&model, SAMPLES, 900).concat();
    check_quantized(board, &qm, &x, &format!("{}_int8", name.replace('-', "_")))
}

/// Every preset not in [`TRAINED`] (on the Cortex-M0 and Cortex-M33, not in
/// [`INT8_LEFT_OUT`] either), quantized, on `board`; fails naming
/// every preset that failed (each one's error is printed).
pub fn check_all(board: Board) -> Result<()> {
    let names: Vec<&str> = presets::names().filter(|n| !TRAINED.contains(n)).collect();
    if names.len() + TRAINED.len() < 20 {
        bail!("only {} presets besides {TRAINED:?}: {names:?}", names.len());
    }
    if let Some(unknown) = INT8_LEFT_OUT.iter().find(|n| !names.contains(n)) {
        bail!("{unknown} is left out of some cores, but it is no int8 preset here");
    }
    let names: Vec<&str> = names.into_iter().filter(|n| runs_int8_preset(board, n)).collect();
    let mut failed = Vec::new();
    for name in names {
        if let Err(e) = check_preset(board, name) {
            eprintln!("{} {name}: {e:#}", board.name());
            failed.push(name);
        }
    }
    if !failed.is_empty() {
        bail!("{}: these presets failed in int8 (errors above): {failed:?}", board.name());
    }
    Ok(())
}
