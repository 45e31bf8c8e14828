//! What the recurrent layers share: a cell ([`SimpleRnn<I, H>`](super::SimpleRnn)
//! in `rnn.rs`, [`Lstm<I, H>`](super::Lstm) in `lstm.rs`, [`Gru<I, H>`](super::Gru)
//! in `gru.rs`) is run over `T`
//! steps by [`Recurrent`] (one direction) or [`Bidirectional`] (forward and
//! backward, concatenated), returning the [`Last`] state or all
//! [`Sequences`]. Semantics are ONNX `RNN` / `LSTM` / `GRU` (see `spec.rs`).
//!
//! Besides the whole-sequence [`Forward`], a one-direction view can be fed one
//! step at a time with [`RecurrentView::step`], keeping a [`CellState`]: the
//! streaming API (one token in, one state update, nothing else in RAM).

use core::marker::PhantomData;

use nalgebra::{SMatrix, SVector};

use crate::Error;
use crate::format::{LayerCursor, LayerEntry};
use crate::kernels::{self, CellParams, GateParams};
use crate::model::{Forward, Layer};
use crate::qspec::QuantMode;
use crate::quant::QCellParams;
use crate::spec::LayerSpec;

/// One direction's parameters: f32 weights, or (a weights-only blob layer)
/// int8 `W` and `R` with per-row scales. The same types bind either.
#[derive(Clone, Copy, Debug)]
pub enum DirParams<'a> {
    /// f32 weights.
    F32(CellParams<'a>),
    /// int8 weights with per-row scales ([`QuantMode::WeightsOnly`]).
    I8(QCellParams<'a>),
}

impl GateParams for DirParams<'_> {
    fn wb(&self) -> &[f32] {
        match self {
            DirParams::F32(p) => p.wb,
            DirParams::I8(p) => p.wb,
        }
    }

    fn rb(&self) -> &[f32] {
        match self {
            DirParams::F32(p) => p.rb,
            DirParams::I8(p) => p.rb,
        }
    }

    #[inline]
    fn w_acc(&self, rows: core::ops::Range<usize>, x: &[f32], z: &mut [f32]) {
        match self {
            DirParams::F32(p) => p.w_acc(rows, x, z),
            DirParams::I8(p) => p.w_acc(rows, x, z),
        }
    }

    #[inline]
    fn r_acc(&self, rows: core::ops::Range<usize>, h: &[f32], z: &mut [f32]) {
        match self {
            DirParams::F32(p) => p.r_acc(rows, h, z),
            DirParams::I8(p) => p.r_acc(rows, h, z),
        }
    }

    #[inline]
    fn preactivation(&self, x: &[f32], h: &[f32], z: &mut [f32]) {
        match self {
            DirParams::F32(p) => p.preactivation(x, h, z),
            DirParams::I8(p) => p.preactivation(x, h, z),
        }
    }
}

/// What a recurrent cell computes: 1 gate block (tanh RNN), 4 (LSTM) or 3 (GRU).
pub trait CellKind {
    /// Gate blocks of `H` rows in the weights.
    const GATES: usize;
    /// Whether a blob layer is of this kind.
    fn matches(spec: &LayerSpec) -> bool;
}

/// A recurrent cell of kind `K` with `I` inputs and `H` units, binding the
/// weights `W` allows: [`AnyWeights`] (the default: f32 or weights-only) or
/// [`F32Weights`] (f32 only, so a firmware links no int8 code for it).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cell<K, const I: usize, const H: usize, W = AnyWeights>(PhantomData<(K, W)>);

/// Which weights a [`Cell`] binds, and the parameters of one direction it keeps.
pub trait Weights {
    /// One direction's parameters.
    type Params<'a>: GateParams + Copy + core::fmt::Debug;
    /// Direction `d` of a blob layer already checked against the type (`sizes`:
    /// the element counts of `w`, `r`, `b` for every direction).
    fn direction<'a>(entry: &LayerEntry<'_, 'a>, shape: DirShape, d: usize) -> Result<Self::Params<'a>, Error>;
}

/// A cell's shape as its weights need it.
#[derive(Clone, Copy, Debug)]
pub struct DirShape {
    /// Gate blocks.
    pub gates: usize,
    /// Units per direction.
    pub units: usize,
    /// Features per step.
    pub inputs: usize,
    /// Directions (1 or 2).
    pub dirs: usize,
}

/// f32 weights ([`QuantMode::Float`]) or int8 weights with per-row scales
/// ([`QuantMode::WeightsOnly`]), chosen by the blob ([`DirParams`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct AnyWeights;

/// f32 weights only: a weights-only blob layer is [`Error::TensorType`] (as
/// for [`super::Dense`]). What `ember export --rust` names for an f32 model.
#[derive(Clone, Copy, Debug, Default)]
pub struct F32Weights;

/// The f32 tensors of direction `d`.
fn f32_direction<'a>(entry: &LayerEntry<'_, 'a>, s: DirShape, d: usize) -> Result<CellParams<'a>, Error> {
    let gh = s.gates * s.units;
    let (w, rw, b) = (entry.param_f32(0)?, entry.param_f32(1)?, entry.param_f32(2)?);
    if [w.len(), rw.len(), b.len()] != [s.dirs * gh * s.inputs, s.dirs * gh * s.units, s.dirs * 2 * gh] {
        return Err(Error::TensorShape);
    }
    CellParams::direction(w, rw, b, s.gates, s.units, s.inputs, d).ok_or(Error::TensorShape)
}

impl Weights for F32Weights {
    type Params<'a> = CellParams<'a>;
    fn direction<'a>(entry: &LayerEntry<'_, 'a>, shape: DirShape, d: usize) -> Result<CellParams<'a>, Error> {
        f32_direction(entry, shape, d)
    }
}

impl Weights for AnyWeights {
    type Params<'a> = DirParams<'a>;
    fn direction<'a>(entry: &LayerEntry<'_, 'a>, s: DirShape, d: usize) -> Result<DirParams<'a>, Error> {
        match entry.mode() {
            QuantMode::Float => f32_direction(entry, s, d).map(DirParams::F32),
            QuantMode::WeightsOnly => {
                let gh = s.gates * s.units;
                let (w, ws, rw, rs, b) = (
                    entry.param_i8(0)?,
                    entry.param_f32(1)?,
                    entry.param_i8(2)?,
                    entry.param_f32(3)?,
                    entry.param_f32(4)?,
                );
                let sizes = [s.dirs * gh * s.inputs, s.dirs * gh * s.units, s.dirs * 2 * gh];
                if [w.len(), rw.len(), b.len()] != sizes || ws.len() != s.dirs * gh || rs.len() != s.dirs * gh {
                    return Err(Error::TensorShape);
                }
                QCellParams::direction(w, ws, rw, rs, b, s.gates, s.units, s.inputs, d)
                    .map(DirParams::I8)
                    .ok_or(Error::TensorShape)
            }
            QuantMode::Int8 => Err(Error::LayerKind),
        }
    }
}

/// The weights a cell type binds (implemented by [`Cell`]).
pub trait CellWeights {
    /// One direction's parameters ([`Weights::Params`]).
    type Params<'a>: GateParams + Copy + core::fmt::Debug;
}

impl<K, const I: usize, const H: usize, W: Weights> CellWeights for Cell<K, I, H, W> {
    type Params<'a> = W::Params<'a>;
}

/// Return the last state only.
#[derive(Clone, Copy, Debug, Default)]
pub struct Last;
/// Return the state of every step.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequences;

/// Whether a layer returns every step ([`Sequences`]) or the last ([`Last`]).
pub trait Returns {
    /// `return_sequences` in the spec.
    const SEQUENCES: bool;
}
impl Returns for Last {
    const SEQUENCES: bool = false;
}
impl Returns for Sequences {
    const SEQUENCES: bool = true;
}

/// A one-direction recurrent layer: cell `C` over `T` steps, returning `R`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Recurrent<C, const T: usize, R>(PhantomData<(C, R)>);

/// A bidirectional recurrent layer: cell `C` forwards and backwards over `T`
/// steps, outputs concatenated forward-first into `O = 2 * H` values per step
/// (checked at compile time).
#[derive(Clone, Copy, Debug, Default)]
pub struct Bidirectional<C, const T: usize, R, const O: usize>(PhantomData<(C, R)>);

/// The state of one cell between steps (`c` is unused by the tanh RNN and the GRU).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellState<const H: usize> {
    /// Hidden state (the output).
    pub h: SVector<f32, H>,
    /// LSTM cell state.
    pub c: SVector<f32, H>,
}

impl<const H: usize> Default for CellState<H> {
    fn default() -> Self {
        CellState { h: SVector::zeros(), c: SVector::zeros() }
    }
}

/// A [`Recurrent`] layer bound to its weights.
#[derive(Clone, Copy, Debug)]
pub struct RecurrentView<'a, C: CellWeights, const T: usize, R> {
    params: C::Params<'a>,
    _m: PhantomData<(C, R)>,
}

/// A [`Bidirectional`] layer bound to its weights.
#[derive(Clone, Copy, Debug)]
pub struct BidirectionalView<'a, C: CellWeights, const T: usize, R, const O: usize> {
    forward: C::Params<'a>,
    backward: C::Params<'a>,
    _m: PhantomData<(C, R)>,
}

/// Checks a blob layer against the type and returns its parameters per direction.
fn bind_dirs<'a, K: CellKind, R: Returns, W: Weights>(
    cursor: &mut LayerCursor<'_, 'a>,
    inputs: usize,
    units: usize,
    seq_len: usize,
    dirs: usize,
) -> Result<[Option<W::Params<'a>>; 2], Error> {
    let entry = cursor.next_layer()?;
    if !K::matches(&entry.spec) {
        return Err(Error::LayerKind);
    }
    let r = entry.spec.recurrent().ok_or(Error::LayerKind)?;
    if (r.inputs, r.units, r.seq_len, r.return_sequences, r.dirs) != (inputs, units, seq_len, R::SEQUENCES, dirs) {
        return Err(Error::LayerShape);
    }
    let shape = DirShape { gates: K::GATES, units, inputs, dirs };
    let forward = W::direction(&entry, shape, 0)?;
    Ok([Some(forward), if dirs == 2 { Some(W::direction(&entry, shape, 1)?) } else { None }])
}

/// One step of the cell `K` with `H` units.
#[inline]
fn step<K: CellKind, const H: usize>(p: &impl GateParams, x: &[f32], s: &mut CellState<H>) {
    let mut z = [[0.0f32; H]; 4];
    let z = &mut z.as_flattened_mut()[..K::GATES * H];
    match K::GATES {
        4 => kernels::lstm_step(p, x, s.h.as_mut_slice(), s.c.as_mut_slice(), z),
        3 => kernels::gru_step(p, x, s.h.as_mut_slice(), z),
        _ => kernels::rnn_step(p, x, s.h.as_mut_slice(), z),
    }
}

/// Runs one direction over `x` (`[T, I]`) from zero states, calling `emit(t, h_t)`.
fn run<K: CellKind, const H: usize>(
    p: &impl GateParams,
    x: &[f32],
    inputs: usize,
    reverse: bool,
    emit: impl FnMut(usize, &[f32]),
) {
    let mut s = CellState::<H>::default();
    let mut z = [[0.0f32; H]; 4];
    let z = &mut z.as_flattened_mut()[..K::GATES * H];
    kernels::run_direction(K::GATES, p, x, inputs, reverse, s.h.as_mut_slice(), s.c.as_mut_slice(), z, emit);
}

impl<K: CellKind, const I: usize, const H: usize, W: Weights, const T: usize, R>
    RecurrentView<'_, Cell<K, I, H, W>, T, R>
{
    /// Streaming: feeds one step `x` and updates `state` (start from
    /// `CellState::default()`); returns the new hidden state.
    ///
    /// # Shapes
    /// `x`: `[I]` → `[H]`.
    pub fn step<'s>(&self, state: &'s mut CellState<H>, x: &SVector<f32, I>) -> &'s SVector<f32, H> {
        step::<K, H>(&self.params, x.as_slice(), state);
        &state.h
    }
}

/// Scratch of a layer's forward pass beyond its input and output: state and gates.
const fn cell_scratch(h: usize) -> usize {
    2 * h + 4 * h
}

macro_rules! recurrent_impls {
    ($ret:ty, $seq:literal, |$h:ident, $t:ident| $out:ty, |$o:ident, $tt:ident| $biout:ty) => {
        impl<K: CellKind, const I: usize, const $h: usize, W: Weights, const $t: usize> Layer
            for Recurrent<Cell<K, I, $h, W>, $t, $ret>
        {
            type Input = SMatrix<f32, I, $t>;
            type Output = $out;
            type Bound<'a> = RecurrentView<'a, Cell<K, I, $h, W>, $t, $ret>;
            const LAYERS: usize = 1;
            const PEAK_ACTIVATION_FLOATS: usize = I * $t + if $seq { $h * $t } else { $h } + cell_scratch($h);

            fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
                let [p, _] = bind_dirs::<K, $ret, W>(cursor, I, $h, $t, 1)?;
                Ok(RecurrentView { params: p.ok_or(Error::TensorShape)?, _m: PhantomData })
            }
        }

        impl<K: CellKind, const I: usize, const $h: usize, W: Weights, const $t: usize> Forward
            for RecurrentView<'_, Cell<K, I, $h, W>, $t, $ret>
        {
            type Input = SMatrix<f32, I, $t>;
            type Output = $out;

            /// # Shapes
            /// `x`: `[T, I]` time-major (an `I x T` matrix) → the last state
            /// `[H]`, or every state `[T, H]` (an `H x T` matrix).
            fn forward(&self, x: &SMatrix<f32, I, $t>) -> $out {
                let mut out = <$out>::zeros();
                let o = out.as_mut_slice();
                run::<K, $h>(&self.params, x.as_slice(), I, false, |t, h| {
                    let at = if $seq { t * $h } else { 0 };
                    o[at..at + $h].copy_from_slice(h);
                });
                out
            }
        }

        impl<K: CellKind, const I: usize, const $h: usize, W: Weights, const $t: usize, const $o: usize> Layer
            for Bidirectional<Cell<K, I, $h, W>, $t, $ret, $o>
        {
            type Input = SMatrix<f32, I, $t>;
            type Output = $biout;
            type Bound<'a> = BidirectionalView<'a, Cell<K, I, $h, W>, $t, $ret, $o>;
            const LAYERS: usize = 1;
            const PEAK_ACTIVATION_FLOATS: usize = I * $t + if $seq { $o * $t } else { $o } + cell_scratch($h);

            fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
                const { assert!($o == 2 * $h, "Bidirectional<Cell<_, I, H>, T, R, O> needs O = 2 * H") };
                let [f, b] = bind_dirs::<K, $ret, W>(cursor, I, $h, $t, 2)?;
                Ok(BidirectionalView {
                    forward: f.ok_or(Error::TensorShape)?,
                    backward: b.ok_or(Error::TensorShape)?,
                    _m: PhantomData,
                })
            }
        }

        impl<K: CellKind, const I: usize, const $h: usize, W: Weights, const $t: usize, const $o: usize> Forward
            for BidirectionalView<'_, Cell<K, I, $h, W>, $t, $ret, $o>
        {
            type Input = SMatrix<f32, I, $t>;
            type Output = $biout;

            /// # Shapes
            /// `x`: `[T, I]` → `[2H]` (forward state after step `T-1`, then
            /// backward state after step 0) or `[T, 2H]` (per step `t`: forward
            /// then backward state at `t`).
            fn forward(&self, x: &SMatrix<f32, I, $t>) -> $biout {
                let mut out = <$biout>::zeros();
                let o = out.as_mut_slice();
                for (d, p) in [&self.forward, &self.backward].into_iter().enumerate() {
                    run::<K, $h>(p, x.as_slice(), I, d == 1, |t, h| {
                        let at = if $seq { t * $o } else { 0 } + d * $h;
                        o[at..at + $h].copy_from_slice(h);
                    });
                }
                out
            }
        }
    };
}

recurrent_impls!(Last, false, |H, T| SVector<f32, H>, |O, T2| SVector<f32, O>);
recurrent_impls!(Sequences, true, |H, T| SMatrix<f32, H, T>, |O, T2| SMatrix<f32, O, T>);
