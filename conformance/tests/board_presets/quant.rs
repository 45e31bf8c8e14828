//! Quantized models on the boards (issue 12): an int8 dense model, an int8
//! convolution model (int8 Conv2d, int8 DepthwiseConv2d, f32 Flatten, int8 Dense softmax) and a
//! weights-only LSTM classifier (weights-only Embedding, LSTM and Dense),
//! quantized here by the test-local quantizer (`ember_conformance::qmodel`:
//! per-row symmetric weights, min/max activation ranges over the samples).
//! Every board output must have the exact bits of the host interpreter's
//! (`ember_runtime::dynamic`) and of the host's typed model. Instructions
//! per multiply-accumulate are printed for the int8 models.

use anyhow::{Context, Result, ensure};
use ember_board_host::{Board, Workload};
use ember_conformance::qmodel::quantize;
use ember_conformance::{rng, uniform};
use ember_export::{AlignedBytes, Model};
use ember_runtime::qspec::QuantMode;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{
    Blob, Chain, Flatten, Forward, Last, Linear, Lstm, QConv2d, QDense, QDepthwise, Recurrent, Relu, Sample, Sigmoid,
    Softmax, TypedModel, Valid, WoDense, WoEmbedding, dynamic,
};

use super::super::{SAMPLES, print_run, run_on};

/// The int8 dense model.
pub type QDenseModel = Chain<QDense<256, 64, Relu>, QDense<64, 10, Linear>>;
/// The int8 convolution model.
pub type QConvModel = Chain<
    QConv2d<12, 12, 4, 8, 3, 3, 1, 1, 1, 1, Valid, Relu, 144, 100>,
    Chain<
        QDepthwise<10, 10, 8, 3, 3, 1, 1, 1, 1, Valid, Relu, 100, 64>,
        Chain<Flatten<8, 64, 512>, QDense<512, 4, Softmax>>,
    >,
>;
/// The weights-only LSTM classifier.
pub type WoLstmModel = Chain<WoEmbedding<50, 8, 10>, Chain<Recurrent<Lstm<8, 16>, 10, Last>, WoDense<16, 1, Sigmoid>>>;

/// A model with random parameters (seeded), quantized in `modes` on `x`.
fn build(name: &str, input: IoSpec, layers: Vec<LayerSpec>, modes: &[QuantMode], x: &[f32]) -> Result<Model> {
    let mut r = rng(name.len() as u64 + 17);
    let mut values = Vec::new();
    for l in &layers {
        for p in 0..l.param_count() {
            let n = l.param(p).map_or(0, |s| s.dims.elements());
            let lim = if l.scale_axis(p).is_some() { (3.0 / l.input_len().max(1) as f32).sqrt() * 2.0 } else { 0.1 };
            values.push(uniform(&mut r, n, -lim, lim));
        }
    }
    let f32_model = Model::new(name, input, layers, values)?;
    quantize(&f32_model, modes, x)
}

fn f32_input(dims: Dims) -> IoSpec {
    IoSpec { kind: ValueKind::F32, dims, range: None }
}

/// The int8 dense model, its inputs and its multiply-accumulates.
pub fn qdense() -> Result<(Model, Vec<f32>, usize)> {
    let x = uniform(&mut rng(31), 256 * SAMPLES, -1.0, 1.0);
    let layers = vec![
        LayerSpec::Dense { inputs: 256, units: 64, activation: Activation::Relu },
        LayerSpec::Dense { inputs: 64, units: 10, activation: Activation::Linear },
    ];
    Ok((build("qdense", f32_input(Dims::d1(256)), layers, &[QuantMode::Int8; 2], &x)?, x, 256 * 64 + 64 * 10))
}

/// The int8 convolution model, its inputs and its multiply-accumulates.
pub fn qconv() -> Result<(Model, Vec<f32>, usize)> {
    let x = uniform(&mut rng(32), 576 * SAMPLES, -1.0, 1.0);
    let conv = LayerSpec::Conv2d {
        height: 12,
        width: 12,
        channels: 4,
        filters: 8,
        kernel_h: 3,
        kernel_w: 3,
        padding: Padding::Valid,
        activation: Activation::Relu,
    };
    let depthwise = LayerSpec::DepthwiseConv2d {
        height: 10,
        width: 10,
        channels: 8,
        kernel: [3, 3],
        stride: [1, 1],
        dilation: [1, 1],
        padding: Padding::Valid,
        activation: Activation::Relu,
    };
    let dims = Dims::new(&[12, 12, 4]).context("dims")?;
    let layers = vec![
        conv,
        depthwise,
        LayerSpec::Flatten { dims: Dims::new(&[8, 8, 8]).context("dims")? },
        LayerSpec::Dense { inputs: 512, units: 4, activation: Activation::Softmax },
    ];
    let modes = [QuantMode::Int8, QuantMode::Int8, QuantMode::Float, QuantMode::Int8];
    Ok((build("qconv", f32_input(dims), layers, &modes, &x)?, x, 100 * 8 * 36 + 64 * 8 * 9 + 512 * 4))
}

/// The weights-only LSTM classifier and its token-id inputs.
pub fn wo_lstm() -> Result<(Model, Vec<f32>, usize)> {
    let x: Vec<f32> = uniform(&mut rng(33), 10 * SAMPLES, 0.0, 50.0).iter().map(|v| v.floor()).collect();
    let layers = vec![
        LayerSpec::Embedding { vocab: 50, dim: 8, seq_len: 10 },
        LayerSpec::Lstm { inputs: 8, units: 16, seq_len: 10, return_sequences: false, bidirectional: false },
        LayerSpec::Dense { inputs: 16, units: 1, activation: Activation::Sigmoid },
    ];
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(10), range: None };
    let m = build("wo_lstm", input, layers, &[QuantMode::WeightsOnly; 3], &x)?;
    Ok((m, x, 10 * 4 * 16 * (8 + 16) + 16))
}

/// Runs `model` on `board`: every output must equal the host interpreter's
/// and the host typed model's bits; prints instructions per MAC.
pub fn check_quant<M>(board: Board, (model, x, macs): (Model, Vec<f32>, usize), dir_name: &str) -> Result<()>
where
    M: TypedModel,
    M::Input: Sample,
    M::Output: Sample,
    for<'a> M::Bound<'a>: Forward<Input = M::Input, Output = M::Output>,
{
    let Some((blob, run)) = run_on(board, &model, dir_name, &Workload { inputs: &x, texts: &[], queries: &[] })? else {
        return Ok(());
    };
    let aligned = AlignedBytes::new(&blob);
    let typed = M::load(&aligned).context("host typed runtime rejects the blob")?;
    let parsed = Blob::parse(&aligned).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut scratch = vec![0.0; dynamic::scratch_len(&parsed)];
    ensure!(run.outputs.len() == SAMPLES, "{} outputs for {SAMPLES} samples", run.outputs.len());
    for (i, (sample, got)) in x.chunks_exact(model.input.dims.elements()).zip(&run.outputs).enumerate() {
        let mut interp = vec![0.0; model.output().dims.elements()];
        dynamic::forward(&parsed, sample, &mut scratch, &mut interp).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let mut typed_out = Vec::new();
        typed.forward(&M::Input::from_values(sample.iter().copied())?).for_each_value(|v| typed_out.push(v));
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        ensure!(
            bits(got) == bits(&interp),
            "{} {dir_name} sample {i}: board {got:?}, interpreter {interp:?}",
            board.name()
        );
        ensure!(
            bits(got) == bits(&typed_out),
            "{} {dir_name} sample {i}: board {got:?}, typed {typed_out:?}",
            board.name()
        );
    }
    print_run(board, dir_name, &run, 0.0)?;
    let per = run.instructions.iter().sum::<u64>() as f64 / run.instructions.len().max(1) as f64;
    println!("{}: {dir_name}: {macs} MACs, {:.2} instructions per MAC", board.name(), per / macs as f64);
    Ok(())
}

/// `model` quantized to int8 (calibrated on `x`) on `board`: every output
/// must have the exact bits of the host interpreter on the same blob (the
/// board runs the generated typed model).
pub fn check_int8_preset(board: Board, model: &Model, x: &[f32], dir_name: &str) -> Result<()> {
    let n = model.input.dims.elements();
    let calibration: Vec<Vec<f32>> = x.chunks_exact(n).map(<[f32]>::to_vec).collect();
    let qm = ember_export::quant::quantize(model, &calibration, ember_export::quant::QuantizeOptions::default())
        .with_context(|| format!("{dir_name}: quantize"))?;
    check_quantized(board, &qm, x, dir_name)
}

/// Runs the quantized `qm` on `board` on the samples `x`: every output must
/// have the exact bits of the host interpreter on the same blob.
pub fn check_quantized(board: Board, qm: &Model, x: &[f32], dir_name: &str) -> Result<()> {
    let n = qm.input.dims.elements();
    let Some((blob, run)) = run_on(board, qm, dir_name, &Workload { inputs: x, texts: &[], queries: &[] })? else {
        return Ok(());
    };
    let aligned = AlignedBytes::new(&blob);
    let parsed = Blob::parse(&aligned).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut scratch = vec![0.0; dynamic::scratch_len(&parsed)];
    ensure!(run.outputs.len() == x.len() / n, "{dir_name}: {} outputs", run.outputs.len());
    for (i, (sample, got)) in x.chunks_exact(n).zip(&run.outputs).enumerate() {
        let mut interp = vec![0.0; qm.output().dims.elements()];
        dynamic::forward(&parsed, sample, &mut scratch, &mut interp).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        ensure!(
            bits(got) == bits(&interp),
            "{} {dir_name} sample {i}: board {got:?}, interpreter {interp:?}",
            board.name()
        );
    }
    print_run(board, dir_name, &run, 0.0)?;
    Ok(())
}

/// Every quantized model on `board`.
pub fn check_all(board: Board) -> Result<()> {
    check_quant::<QDenseModel>(board, qdense()?, "qdense")?;
    check_quant::<QConvModel>(board, qconv()?, "qconv")?;
    check_quant::<WoLstmModel>(board, wo_lstm()?, "wo_lstm")
}
