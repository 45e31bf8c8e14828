//! `Gru<I, H>`: the GRU cell (ONNX `GRU` with `linear_before_reset = 1`,
//! Keras's `GRU(reset_after=True)`, gates z, r, h), run over a sequence by
//! [`Recurrent`](super::Recurrent) or [`Bidirectional`](super::Bidirectional)
//! (see [`super::recurrent`]); its step is [`kernels::gru_step`](crate::kernels::gru_step).
//! The streaming [`RecurrentView::step`](super::RecurrentView::step) feeds
//! one step at a time; the GRU keeps `h` only (`CellState::c` stays zero).

use super::recurrent::{Cell, CellKind};
use crate::spec::LayerSpec;

/// Marker of the GRU cell.
#[derive(Clone, Copy, Debug, Default)]
pub struct GruCell;

impl CellKind for GruCell {
    const GATES: usize = 3;
    fn matches(spec: &LayerSpec) -> bool {
        matches!(spec, LayerSpec::Gru { .. })
    }
}

/// A GRU cell (ONNX `GRU`, `linear_before_reset = 1`, gates z, r, h).
pub type Gru<const I: usize, const H: usize> = Cell<GruCell, I, H>;
