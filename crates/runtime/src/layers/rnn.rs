//! `SimpleRnn<I, H>`: the tanh Elman cell (ONNX `RNN`), run over a sequence
//! by [`Recurrent`](super::Recurrent) or [`Bidirectional`](super::Bidirectional)
//! (see [`super::recurrent`]); its step is [`kernels::rnn_step`](crate::kernels::rnn_step).

use super::recurrent::{Cell, CellKind};
use crate::spec::LayerSpec;

/// Marker of the tanh Elman cell.
#[derive(Clone, Copy, Debug, Default)]
pub struct TanhCell;

impl CellKind for TanhCell {
    const GATES: usize = 1;
    fn matches(spec: &LayerSpec) -> bool {
        matches!(spec, LayerSpec::SimpleRnn { .. })
    }
}

/// A tanh RNN cell (ONNX `RNN`): `h = tanh(W·x + R·h + Wb + Rb)`.
pub type SimpleRnn<const I: usize, const H: usize> = Cell<TanhCell, I, H>;
