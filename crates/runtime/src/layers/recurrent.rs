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
use crate::format::LayerCursor;
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

/// A recurrent cell of kind `K` with `I` inputs and `H` units.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cell<K, const I: usize, const H: usize>(PhantomData<K>);

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
pub struct RecurrentView<'a, C, const T: usize, R> {
    params: DirParams<'a>,
    _m: PhantomData<(C, R)>,
}

/// A [`Bidirectional`] layer bound to its weights.
#[derive(Clone, Copy, Debug)]
pub struct BidirectionalView<'a, C, const T: usize, R, const O: usize> {
    forward: DirParams<'a>,
    backward: DirParams<'a>,
    _m: PhantomData<(C, R)>,
}

/// Checks a blob layer against the type and returns its parameters per direction.
fn bind_dirs<'a, K: CellKind, R: Returns>(
    cursor: &mut LayerCursor<'_, 'a>,
    inputs: usize,
    units: usize,
    seq_len: usize,
    dirs: usize,
) -> Result<[Option<DirParams<'a>>; 2], Error> {
    let entry = cursor.next_layer()?;
    if !K::matches(&entry.spec) {
        return Err(Error::LayerKind);
    }
    let r = entry.spec.recurrent().ok_or(Error::LayerKind)?;
    if (r.inputs, r.units, r.seq_len, r.return_sequences, r.dirs) != (inputs, units, seq_len, R::SEQUENCES, dirs) {
        return Err(Error::LayerShape);
    }
    let gh = K::GATES * units;
    let sizes = [dirs * gh * inputs, dirs * gh * units, dirs * 2 * gh];
    let dir = |d| match entry.mode() {
        QuantMode::Float => {
            let (w, rw, b) = (entry.param_f32(0)?, entry.param_f32(1)?, entry.param_f32(2)?);
            if [w.len(), rw.len(), b.len()] != sizes {
                return Err(Error::TensorShape);
            }
            CellParams::direction(w, rw, b, K::GATES, units, inputs, d).map(DirParams::F32).ok_or(Error::TensorShape)
        }
        QuantMode::WeightsOnly => {
            let (w, ws, rw, rs, b) =
                (entry.param_i8(0)?, entry.param_f32(1)?, entry.param_i8(2)?, entry.param_f32(3)?, entry.param_f32(4)?);
            if [w.len(), rw.len(), b.len()] != sizes || ws.len() != dirs * gh || rs.len() != dirs * gh {
                return Err(Error::TensorShape);
            }
            QCellParams::direction(w, ws, rw, rs, b, K::GATES, units, inputs, d)
                .map(DirParams::I8)
                .ok_or(Error::TensorShape)
        }
        QuantMode::Int8 => Err(Error::LayerKind),
    };
    Ok([Some(dir(0)?), if dirs == 2 { Some(dir(1)?) } else { None }])
}

/// One step of the cell `K` with `H` units.
#[inline]
fn step<K: CellKind, const H: usize>(p: &DirParams<'_>, x: &[f32], s: &mut CellState<H>) {
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
    p: &DirParams<'_>,
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

impl<K: CellKind, const I: usize, const H: usize, const T: usize, R> RecurrentView<'_, Cell<K, I, H>, T, R> {
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
        impl<K: CellKind, const I: usize, const $h: usize, const $t: usize> Layer
            for Recurrent<Cell<K, I, $h>, $t, $ret>
        {
            type Input = SMatrix<f32, I, $t>;
            type Output = $out;
            type Bound<'a> = RecurrentView<'a, Cell<K, I, $h>, $t, $ret>;
            const LAYERS: usize = 1;
            const PEAK_ACTIVATION_FLOATS: usize = I * $t + if $seq { $h * $t } else { $h } + cell_scratch($h);

            fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
                let [p, _] = bind_dirs::<K, $ret>(cursor, I, $h, $t, 1)?;
                Ok(RecurrentView { params: p.ok_or(Error::TensorShape)?, _m: PhantomData })
            }
        }

        impl<K: CellKind, const I: usize, const $h: usize, const $t: usize> Forward
            for RecurrentView<'_, Cell<K, I, $h>, $t, $ret>
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

        impl<K: CellKind, const I: usize, const $h: usize, const $t: usize, const $o: usize> Layer
            for Bidirectional<Cell<K, I, $h>, $t, $ret, $o>
        {
            type Input = SMatrix<f32, I, $t>;
            type Output = $biout;
            type Bound<'a> = BidirectionalView<'a, Cell<K, I, $h>, $t, $ret, $o>;
            const LAYERS: usize = 1;
            const PEAK_ACTIVATION_FLOATS: usize = I * $t + if $seq { $o * $t } else { $o } + cell_scratch($h);

            fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
                const { assert!($o == 2 * $h, "Bidirectional<Cell<_, I, H>, T, R, O> needs O = 2 * H") };
                let [f, b] = bind_dirs::<K, $ret>(cursor, I, $h, $t, 2)?;
                Ok(BidirectionalView {
                    forward: f.ok_or(Error::TensorShape)?,
                    backward: b.ok_or(Error::TensorShape)?,
                    _m: PhantomData,
                })
            }
        }

        impl<K: CellKind, const I: usize, const $h: usize, const $t: usize, const $o: usize> Forward
            for BidirectionalView<'_, Cell<K, I, $h>, $t, $ret, $o>
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
