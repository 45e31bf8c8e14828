//! `Upsample2d<H, W, C, S, HW, OHW>`: nearest-neighbour upsampling of an HWC
//! sample (see [`super::window`] for the layout and the pixel counts `HW`,
//! `OHW`), with the kernel that [`crate::dynamic`] calls.

use nalgebra::SMatrix;

use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::LayerSpec;
use crate::{Error, kernels};

/// Nearest-neighbour upsampling by `S` in both directions (Keras
/// `UpSampling2D`, ONNX `Resize` nearest): an `H x W` map of `C` channels
/// becomes an `S·H x S·W` map, output pixel `(y, x)` copying input pixel
/// `(y / S, x / S)`.
///
/// `HW = H * W` and `OHW = H * S * W * S` are checked at compile time, when
/// the layer is bound.
#[derive(Clone, Copy, Debug, Default)]
pub struct Upsample2d<const H: usize, const W: usize, const C: usize, const S: usize, const HW: usize, const OHW: usize>;

/// A bound [`Upsample2d`] (it has no tensors).
#[derive(Clone, Copy, Debug)]
pub struct Upsample2dView<
    const H: usize,
    const W: usize,
    const C: usize,
    const S: usize,
    const HW: usize,
    const OHW: usize,
>;

impl<const H: usize, const W: usize, const C: usize, const S: usize, const HW: usize, const OHW: usize>
    Upsample2dView<H, W, C, S, HW, OHW>
{
    /// Evaluated at compile time: stops compilation unless `HW = H * W` and
    /// `OHW = H * S * W * S` (and `S > 0`).
    pub const SIZES: () = {
        assert!(HW == H * W, "Upsample2d<H, W, C, S, HW, OHW> needs HW = H * W");
        assert!(OHW == H * S * W * S, "Upsample2d<H, W, C, S, HW, OHW> needs OHW = H * S * W * S");
        assert!(S > 0, "Upsample2d<H, W, C, S, HW, OHW> needs S > 0");
    };

    /// An upsampling layer (checks `HW` and `OHW` at compile time).
    pub fn new() -> Self {
        const { Self::SIZES };
        Upsample2dView
    }
}

impl<const H: usize, const W: usize, const C: usize, const S: usize, const HW: usize, const OHW: usize> Default
    for Upsample2dView<H, W, C, S, HW, OHW>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const H: usize, const W: usize, const C: usize, const S: usize, const HW: usize, const OHW: usize> Layer
    for Upsample2d<H, W, C, S, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, C, OHW>;
    type Bound<'a> = Upsample2dView<H, W, C, S, HW, OHW>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * HW + C * OHW;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let LayerSpec::Upsample2d { height, width, channels, factor } = cursor.next_layer()?.spec else {
            return Err(Error::LayerKind);
        };
        if [height, width, channels, factor].map(|v| v as usize) != [H, W, C, S] {
            return Err(Error::LayerShape);
        }
        Ok(Upsample2dView::new())
    }
}

impl<const H: usize, const W: usize, const C: usize, const S: usize, const HW: usize, const OHW: usize> Forward
    for Upsample2dView<H, W, C, S, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, C, OHW>;

    /// `y[oy, ox, c] = x[oy / S, ox / S, c]`.
    ///
    /// # Shapes
    /// `x`: `[H, W, C]` HWC (a `C x HW` matrix) → `[H·S, W·S, C]` HWC (a `C x OHW` matrix).
    fn forward(&self, x: &SMatrix<f32, C, HW>) -> SMatrix<f32, C, OHW> {
        const { Self::SIZES };
        let mut y = SMatrix::<f32, C, OHW>::zeros();
        kernels::upsample2d(H, W, C, S, x.as_slice(), y.as_mut_slice());
        y
    }
}
