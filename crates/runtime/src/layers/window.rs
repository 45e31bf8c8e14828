//! What the window layers ([`Conv2d`](super::Conv2d),
//! [`MaxPool2d`](super::MaxPool2d), their strided, depthwise, average and
//! 1-D relatives) share: the padding marker types [`Same`] and [`Valid`],
//! and the compile-time window geometry (a 1-D layer's `[L, C]` sample is
//! the `SMatrix<f32, C, L>`, its window a map of height 1).
//!
//! A sample of `H x W` pixels of `C` channels is stored HWC (channels
//! innermost, row-major), which is the column-major `SMatrix<f32, C, HW>`
//! with `HW = H * W`: one column per pixel, pixels in row-major order. The
//! pixel counts `HW` and `OHW` are const generics of their own (stable Rust
//! cannot compute them from the others in a type); every image layer checks
//! them against `H`, `W` and the window geometry at compile time, when it is
//! bound.

use crate::spec::{Padding, Window2d};

/// A border handling ([`Padding`]) as a type parameter of a window layer.
pub trait Pad {
    /// The padding this type stands for (checked against the blob).
    const KIND: Padding;
}

/// Keras `"same"` padding: `out = ceil(n / stride)` (see [`Padding::Same`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Same;

/// Keras `"valid"` padding: only windows wholly inside the input (see [`Padding::Valid`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Valid;

impl Pad for Same {
    const KIND: Padding = Padding::Same;
}

impl Pad for Valid {
    const KIND: Padding = Padding::Valid;
}

/// The geometry of a window layer over `[h, w, c]`, for use in constants:
/// stops compilation when no window fits (a kernel larger than a
/// valid-padded input, or a zero size) or when the pixel counts `[hw, ohw]`
/// are not `h * w` and `oh * ow`.
pub(crate) const fn window(
    h: usize,
    w: usize,
    c: usize,
    k: [usize; 2],
    stride: usize,
    padding: Padding,
    px: [usize; 2],
) -> Window2d {
    let Some(g) = Window2d::new(h, w, c, k[0], k[1], stride, padding) else {
        panic!("no window fits: a kernel larger than a valid-padded input, or a zero size");
    };
    assert!(px[0] == h * w, "the input pixel count HW must be H * W");
    assert!(px[1] == g.oh * g.ow, "the output pixel count OHW must be oh * ow of the window geometry");
    g
}

/// [`window`] with a stride and a dilation per axis (`[rows, columns]`).
pub(crate) const fn window_general(
    hwc: [usize; 3],
    k: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    padding: Padding,
    px: [usize; 2],
) -> Window2d {
    let [h, w, c] = hwc;
    let Some(g) = Window2d::general(h, w, c, k, stride, dilation, padding) else {
        panic!("no window fits: a kernel larger than a valid-padded input, or a zero size");
    };
    assert!(px[0] == h * w, "the input pixel count HW must be H * W");
    assert!(px[1] == g.oh * g.ow, "the output pixel count OHW must be oh * ow of the window geometry");
    g
}

/// The geometry of a 1-D window layer over `[len, c]` (a map of height 1),
/// for use in constants: stops compilation when no window fits or when
/// `out` is not the output length.
pub(crate) const fn window1d(
    len: usize,
    c: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
    out: usize,
) -> Window2d {
    let Some(g) = Window2d::d1(len, c, k, stride, dilation, padding) else {
        panic!("no window fits: a kernel larger than a valid-padded input, or a zero size");
    };
    assert!(out == g.ow, "the output length OL must be the window geometry's");
    g
}
