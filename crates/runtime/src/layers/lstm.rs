//! `Lstm<I, H>`: the LSTM cell (ONNX `LSTM`, gates i, o, f, c), run over a
//! sequence by [`Recurrent`](super::Recurrent) or
//! [`Bidirectional`](super::Bidirectional) (see [`super::recurrent`]); its
//! step is [`kernels::lstm_step`](crate::kernels::lstm_step).

use super::recurrent::{Cell, CellKind};
use crate::spec::LayerSpec;

/// Marker of the LSTM cell.
#[derive(Clone, Copy, Debug, Default)]
pub struct LstmCell;

impl CellKind for LstmCell {
    const GATES: usize = 4;
    fn matches(spec: &LayerSpec) -> bool {
        matches!(spec, LayerSpec::Lstm { .. })
    }
}

/// An LSTM cell (ONNX `LSTM`, gates i, o, f, c).
pub type Lstm<const I: usize, const H: usize> = Cell<LstmCell, I, H>;
