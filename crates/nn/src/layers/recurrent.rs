//! The engine shared by [`super::SimpleRnnLayer`], [`super::LstmLayer`] and
//! [`super::GruLayer`]:
//! batch chunking over rayon threads, the input projection and the
//! recurrence as single-threaded GEMMs, back-propagation through time and
//! Keras's initialisers. The cells ([`Cell`]) only supply the element-wise
//! work of one step.
//!
//! Per chunk of samples (one per thread), for each direction:
//! - the input projection of every step is ONE GEMM into the gate buffer
//!   `z` (`[seq_len, chunk, gates·units]`, time-major);
//! - each step adds `h_prev · Rᵀ` (one GEMM), then one fused pass over the
//!   gate rows adds the bias and applies the cell's non-linearities;
//! - backward walks the steps in reverse, turning the stored activated
//!   gates into `dz` in place and getting the recurrent gradient with one
//!   GEMM per step; `dW`, `dR` and `dx` are then one GEMM each over all
//!   steps, and the chunks' partial gradients are summed at the end.
//!
//! A GRU ([`Cell::RESET_AFTER`]) keeps its candidate's input and recurrent
//! products apart: its gate rows hold four blocks `[z, r, R_h·h, W_h·x]`, the
//! per-step GEMM fills the first three (`R`'s rows) and the input projection
//! the first two and the fourth (`W`'s rows).
//!
//! Every buffer lives in the layer and is reused across batches. The
//! per-step GEMMs write rows padded to a multiple of [`PAD`] columns, which
//! saves the `gemm` crate a packing copy of `R` at every step.

use std::marker::PhantomData;

use ember_runtime::spec::{LayerSpec, RecurrentDims};
use rand::{Rng, RngExt};
use rayon::prelude::*;

use self::chunk::Chunk;
use super::ParamMut;

mod chunk;
mod rows;

/// Fewest samples per chunk while splitting a batch over threads (smaller
/// GEMMs run far below the kernel's speed).
const MIN_CHUNK: usize = 8;
/// Most samples per chunk at inference, which keeps no gradient state and
/// runs large batches in rounds of bounded memory.
const MAX_INFER_CHUNK: usize = 32;
/// Per-step GEMM outputs are padded to a multiple of this many columns.
const PAD: usize = 16;

/// The element-wise work of one recurrent cell at one step, for one sample.
pub(crate) trait Cell: Send + Sync + 'static {
    /// Gate blocks per direction: 1 (RNN), 4 (LSTM) or 3 (GRU).
    const GATES: usize;
    /// Whether the cell carries a cell state `C` besides `h`.
    const HAS_CELL: bool;
    /// ONNX `linear_before_reset = 1` (the GRU): the last gate block's
    /// recurrent product `R_h·h + Rb_h` is kept apart from its input product
    /// `W_h·x + Wb_h` (a gate row has `GATES + 1` blocks, the last two being
    /// those products), `h_{t-1}` also reaches `h_t` directly (the cell's
    /// backward leaves that part of the gradient at `h_{t-1}` in `dh`), and
    /// `Rb` is trained (its last block is not interchangeable with `Wb`'s).
    const RESET_AFTER: bool = false;

    /// The spec of a layer with these sizes.
    fn spec(d: &RecurrentDims) -> LayerSpec;

    /// Initial `Wb` of one direction (all zeros unless the cell says otherwise).
    fn init_bias(_wb: &mut [f32]) {}

    /// Turns the pre-activations `z` (`[blocks·units]`, see
    /// [`Cell::RESET_AFTER`]) into activated gates in place and writes the
    /// new states: `c` and `tc = tanh(c)` (cells with `C` only; empty
    /// otherwise) and `h`. `h_prev` is the state before the step.
    fn forward(z: &mut [f32], h_prev: &[f32], c_prev: &[f32], c: &mut [f32], tc: &mut [f32], h: &mut [f32]);

    /// Given `dh` (the loss gradient at `h_t`) and the step's stored values,
    /// overwrites the activated gates `z` with the gradient at the
    /// pre-activations; `dc` holds the gradient at `C_t` coming from step
    /// `t + 1` on entry and the one at `C_{t-1}` on exit. A
    /// [`Cell::RESET_AFTER`] cell overwrites `dh` with the direct part of the
    /// gradient at `h_{t-1}`; the others leave it unchanged.
    #[allow(clippy::too_many_arguments)]
    fn backward(dh: &mut [f32], z: &mut [f32], h_prev: &[f32], c_prev: &[f32], tc: &[f32], h: &[f32], dc: &mut [f32]);
}

/// Blocks of `units` values in a gate row of cell `C`.
const fn blocks<C: Cell>() -> usize {
    C::GATES + C::RESET_AFTER as usize
}

/// Where `W`'s rows land in a gate row: `(gate column, W row, rows)` runs
/// (one run, or for a [`Cell::RESET_AFTER`] cell the gates before the last
/// and then the last gate's input product after its recurrent one).
fn input_runs<C: Cell>(d: &RecurrentDims) -> Vec<(usize, usize, usize)> {
    let (h, gh) = (d.units, d.gates * d.units);
    if C::RESET_AFTER { vec![(0, 0, gh - h), (gh, gh - h, h)] } else { vec![(0, 0, gh)] }
}

/// A trainable recurrent layer in ONNX layouts (see [`LayerSpec::SimpleRnn`]).
///
/// The `Rb` half of `b` is frozen (but for a [`Cell::RESET_AFTER`] cell):
/// it is used in the forward pass at its loaded value but its gradient is
/// always zero, so that training matches Keras's single-bias cells (fresh
/// layers start with `Rb = 0`). A GRU trains both halves, as Keras's
/// `GRU(reset_after=True)` trains its input and recurrent biases.
///
/// Training keeps every step's gates and states for back-propagation:
/// about `batch · seq_len · dirs · (gates + 3) · units` floats for an LSTM.
/// Inference runs chunks of at most [`MAX_INFER_CHUNK`] samples per thread,
/// so its memory does not grow with the batch.
pub(crate) struct Recurrent<C: Cell> {
    d: RecurrentDims,
    w: Vec<f32>,
    r: Vec<f32>,
    b: Vec<f32>,
    grad_w: Vec<f32>,
    grad_r: Vec<f32>,
    grad_b: Vec<f32>,
    /// What each gate row starts from, `[dirs, blocks·units]`: `Wb + Rb`
    /// (and for a GRU's last two blocks `Rb_h`, then `Wb_h`).
    bias: Vec<f32>,
    /// `Rᵀ` per direction, `[units, rtw]` (zero padding columns).
    rt: Vec<f32>,
    /// `R` per direction with rows padded to `hp` columns, `[gates·units, hp]`.
    rp: Vec<f32>,
    chunks: Vec<Chunk>,
    y: Vec<f32>,
    dx: Vec<f32>,
    /// Batch size and chunk size of the last training forward pass.
    pending: Option<(usize, usize)>,
    simd: bool,
    cell: PhantomData<C>,
}

/// What every chunk reads: sizes and the weights in their working layouts.
struct Shared<'a> {
    d: RecurrentDims,
    /// `gates·units`; a gate row's `blocks·units` and its padded length
    /// (the row stride of the gate buffers); `Rᵀ`'s padded row length.
    gh: usize,
    zw: usize,
    ghp: usize,
    rtw: usize,
    /// `units` padded.
    hp: usize,
    w: &'a [f32],
    bias: &'a [f32],
    rt: &'a [f32],
    rp: &'a [f32],
    simd: bool,
}

impl<C: Cell> Recurrent<C> {
    /// Keras's initialisers: glorot-uniform `W` (fan-in `inputs`, fan-out
    /// `gates·units`), orthogonal `R`, zero bias (but [`Cell::init_bias`]),
    /// drawn direction by direction.
    pub(crate) fn init(d: RecurrentDims, rng: &mut impl Rng) -> Self {
        let gh = d.gates * d.units;
        let limit = (6.0 / (d.inputs + gh) as f64).sqrt() as f32;
        let (mut w, mut r, mut b) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..d.dirs {
            w.extend((0..gh * d.inputs).map(|_| rng.random_range(-limit..limit)));
            r.extend(orthogonal(gh, d.units, rng));
            let mut bd = vec![0.0; 2 * gh];
            C::init_bias(&mut bd[..gh]);
            b.extend(bd);
        }
        Self::from_params(d, w, r, b)
    }

    /// A layer with the given ONNX parameters `w` `[dirs, gates·units,
    /// inputs]`, `r` `[dirs, gates·units, units]`, `b` `[dirs, 2·gates·units]`.
    pub(crate) fn from_params(d: RecurrentDims, w: Vec<f32>, r: Vec<f32>, b: Vec<f32>) -> Self {
        assert_eq!(d.gates, C::GATES, "recurrent sizes for another cell");
        let gh = d.gates * d.units;
        assert!(d.inputs > 0 && d.units > 0 && d.seq_len > 0 && (d.dirs == 1 || d.dirs == 2), "bad sizes {d:?}");
        assert_eq!(w.len(), d.dirs * gh * d.inputs, "w must be [dirs, gates*units, inputs]");
        assert_eq!(r.len(), d.dirs * gh * d.units, "r must be [dirs, gates*units, units]");
        assert_eq!(b.len(), d.dirs * 2 * gh, "b must be [dirs, 2*gates*units]");
        Recurrent {
            d,
            grad_w: vec![0.0; w.len()],
            grad_r: vec![0.0; r.len()],
            grad_b: vec![0.0; b.len()],
            w,
            r,
            b,
            bias: Vec::new(),
            rt: Vec::new(),
            rp: Vec::new(),
            chunks: Vec::new(),
            y: Vec::new(),
            dx: Vec::new(),
            pending: None,
            simd: crate::simd::available(),
            cell: PhantomData,
        }
    }

    /// The sizes.
    pub(crate) fn dims(&self) -> &RecurrentDims {
        &self.d
    }

    /// Runs a batch (see [`super::TrainLayer::forward`]).
    ///
    /// # Shapes
    /// `x`: `[batch, seq_len, inputs]` → `[batch, seq_len, dirs·units]` or
    /// `[batch, dirs·units]`.
    pub(crate) fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32] {
        let d = self.d;
        let (in_len, out_len) = (d.seq_len * d.inputs, out_len(&d));
        assert_eq!(x.len(), batch * in_len, "recurrent input must be [batch, seq_len, inputs]");
        self.refresh_weights();
        self.pending = None;
        self.y.resize(batch * out_len, 0.0);
        if batch == 0 {
            return &self.y;
        }
        let workers = rayon::current_num_threads().max(1);
        let even = batch.div_ceil(workers);
        let per = if train { even.max(MIN_CHUNK) } else { even.clamp(MIN_CHUNK, MAX_INFER_CHUNK) };
        let active = batch.div_ceil(per).min(if train { usize::MAX } else { workers });
        if self.chunks.len() < active {
            self.chunks.resize_with(active, Chunk::default);
        }
        let sh = shared::<C>(&d, &self.w, &self.bias, &self.rt, &self.rp, self.simd);
        let group = active * per;
        for (xg, yg) in x.chunks(group * in_len).zip(self.y.chunks_mut(group * out_len)) {
            self.chunks[..active]
                .par_iter_mut()
                .zip(xg.par_chunks(per * in_len))
                .zip(yg.par_chunks_mut(per * out_len))
                .for_each(|((ch, xp), yp)| ch.forward::<C>(&sh, xp, yp));
        }
        if train {
            self.pending = Some((batch, per));
        }
        &self.y
    }

    /// Back-propagates through time (see [`super::TrainLayer::backward`]).
    ///
    /// # Shapes
    /// `dy`: as the output of [`Recurrent::forward`] → `[batch, seq_len, inputs]`.
    pub(crate) fn backward(&mut self, dy: &[f32], batch: usize, need_dx: bool) -> &[f32] {
        let d = self.d;
        let (in_len, out_len) = (d.seq_len * d.inputs, out_len(&d));
        let (fwd_batch, per) = self.pending.take().expect("backward needs a training forward pass first");
        assert_eq!(batch, fwd_batch, "backward batch differs from the forward batch");
        assert_eq!(dy.len(), batch * out_len, "recurrent output gradient has the wrong shape");
        self.dx.resize(batch * in_len, 0.0);
        let sh = shared::<C>(&d, &self.w, &self.bias, &self.rt, &self.rp, self.simd);
        let pieces = batch.div_ceil(per);
        self.chunks[..pieces]
            .par_iter_mut()
            .zip(dy.par_chunks(per * out_len))
            .zip(self.dx.par_chunks_mut(per * in_len))
            .for_each(|((ch, dyp), dxp)| ch.backward::<C>(&sh, dyp, dxp, need_dx));
        // Sum the chunks' partial gradients; the Rb halves stay zero but
        // for a GRU, whose Rb rows are R's rows of the gate buffer.
        self.grad_w.fill(0.0);
        self.grad_r.fill(0.0);
        self.grad_b.fill(0.0);
        let (gh, zw) = (sh.gh, sh.zw);
        let runs = input_runs::<C>(&d);
        for ch in &self.chunks[..pieces] {
            add(&mut self.grad_w, &ch.gw);
            add(&mut self.grad_r, &ch.gr);
            for (dir, gb) in ch.gb.chunks(zw).enumerate() {
                let b = &mut self.grad_b[dir * 2 * gh..][..2 * gh];
                for &(col, row, len) in &runs {
                    add(&mut b[row..][..len], &gb[col..][..len]);
                }
                if C::RESET_AFTER {
                    add(&mut b[gh..], &gb[..gh]);
                }
            }
        }
        if need_dx { &self.dx } else { &[] }
    }

    /// Parameter values: `w`, `r`, `b`.
    pub(crate) fn params(&self) -> Vec<&[f32]> {
        vec![&self.w, &self.r, &self.b]
    }

    /// Parameters with gradients: `w`, `r` (regularised), `b`.
    pub(crate) fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        vec![
            ParamMut { value: &mut self.w, grad: &mut self.grad_w, regularized: true },
            ParamMut { value: &mut self.r, grad: &mut self.grad_r, regularized: true },
            ParamMut { value: &mut self.b, grad: &mut self.grad_b, regularized: false },
        ]
    }

    /// Recomputes the working copies of the weights (`Wb + Rb`, padded `Rᵀ`
    /// and `R`) from the parameters, which the optimizer has changed.
    fn refresh_weights(&mut self) {
        let (h, gh) = (self.d.units, self.d.gates * self.d.units);
        let (rtw, hp, zw) = (gh.next_multiple_of(PAD), h.next_multiple_of(PAD), blocks::<C>() * h);
        let dirs = self.d.dirs;
        self.bias.resize(dirs * zw, 0.0);
        self.rt.resize(dirs * h * rtw, 0.0);
        self.rp.resize(dirs * gh * hp, 0.0);
        for dir in 0..dirs {
            let b = &self.b[dir * 2 * gh..][..2 * gh];
            let bias = &mut self.bias[dir * zw..][..zw];
            for (k, out) in bias[..gh].iter_mut().enumerate() {
                *out = b[k] + b[gh + k];
            }
            if C::RESET_AFTER {
                // [.., Rb_h, Wb_h]: the last gate's products start apart.
                bias[gh - h..gh].copy_from_slice(&b[2 * gh - h..]);
                bias[gh..].copy_from_slice(&b[gh - h..gh]);
            }
            let r = &self.r[dir * gh * h..][..gh * h];
            let rt = &mut self.rt[dir * h * rtw..][..h * rtw];
            let rp = &mut self.rp[dir * gh * hp..][..gh * hp];
            for (g, row) in r.chunks_exact(h).enumerate() {
                rp[g * hp..][..h].copy_from_slice(row);
                for (j, &v) in row.iter().enumerate() {
                    rt[j * rtw + g] = v;
                }
            }
        }
    }
}

fn shared<'a, C: Cell>(
    d: &RecurrentDims,
    w: &'a [f32],
    bias: &'a [f32],
    rt: &'a [f32],
    rp: &'a [f32],
    simd: bool,
) -> Shared<'a> {
    let (gh, zw) = (d.gates * d.units, blocks::<C>() * d.units);
    let (ghp, rtw, hp) = (zw.next_multiple_of(PAD), gh.next_multiple_of(PAD), d.units.next_multiple_of(PAD));
    Shared { d: *d, gh, zw, ghp, rtw, hp, w, bias, rt, rp, simd }
}

/// Output elements per sample.
fn out_len(d: &RecurrentDims) -> usize {
    let step = d.dirs * d.units;
    if d.return_sequences { d.seq_len * step } else { step }
}

fn add(acc: &mut [f32], v: &[f32]) {
    acc.iter_mut().zip(v).for_each(|(a, b)| *a += b);
}

/// A `[rows, cols]` matrix (`rows >= cols`) with orthonormal columns: the
/// `Q` of the QR decomposition (positive diagonal of `R`, as Keras's
/// `Orthogonal` after its sign fix) of a standard normal matrix, by
/// modified Gram-Schmidt in `f64`, applied twice for stability.
fn orthogonal(rows: usize, cols: usize, rng: &mut impl Rng) -> Vec<f32> {
    assert!(rows >= cols, "orthogonal init needs rows >= cols");
    // Column-major working copy: column j is a[j * rows..][..rows].
    let mut a: Vec<f64> = (0..rows * cols).map(|_| normal(rng)).collect();
    for j in 0..cols {
        let (done, rest) = a.split_at_mut(j * rows);
        let v = &mut rest[..rows];
        for _ in 0..2 {
            for q in done.chunks_exact(rows) {
                let dot: f64 = q.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(q).for_each(|(v, q)| *v -= dot * q);
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
    }
    let mut out = vec![0.0f32; rows * cols];
    for j in 0..cols {
        for i in 0..rows {
            out[i * cols + j] = a[j * rows + i] as f32;
        }
    }
    out
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn orthogonal_has_orthonormal_columns() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for (rows, cols) in [(5, 5), (12, 3), (40, 10)] {
            let q = orthogonal(rows, cols, &mut rng);
            for a in 0..cols {
                for b in 0..cols {
                    let dot: f64 = (0..rows).map(|i| q[i * cols + a] as f64 * q[i * cols + b] as f64).sum();
                    let want = if a == b { 1.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-5, "{rows}x{cols}: column {a}·{b} = {dot}");
                }
            }
        }
    }
}
