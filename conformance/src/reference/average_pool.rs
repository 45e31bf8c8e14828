//! The `AveragePool1d` / `AveragePool2d` reference, ONNX `AveragePool` with
//! `count_include_pad = 0` and Keras padding as explicit `pads`: the mean
//! of the input cells under each window, padded cells neither summed nor
//! counted (Keras `"same"` average pooling).

use ember_runtime::spec::Padding;

use super::padding::keras_pads;

/// Average pooling of an HWC map (a sequence is the map `[1, l, c]` with
/// `pool = [1, k]`, `stride = [1, s]`).
///
/// # Shapes
/// `x`: `[h, w, c]` → `[oh, ow, c]`.
pub fn average_pool_f64(
    x: &[f64],
    [h, w, c]: [usize; 3],
    [ph, pw]: [usize; 2],
    [sh, sw]: [usize; 2],
    padding: Padding,
) -> Vec<f64> {
    let (oh, top, _) = keras_pads(padding, h, ph, sh);
    let (ow, left, _) = keras_pads(padding, w, pw, sw);
    let mut y = vec![0.0; oh * ow * c];
    for oy in 0..oh {
        for ox in 0..ow {
            let mut n = 0usize;
            for ky in 0..ph {
                let Some(iy) = (oy * sh + ky).checked_sub(top).filter(|&i| i < h) else { continue };
                for kx in 0..pw {
                    let Some(ix) = (ox * sw + kx).checked_sub(left).filter(|&i| i < w) else { continue };
                    n += 1;
                    for k in 0..c {
                        y[(oy * ow + ox) * c + k] += x[(iy * w + ix) * c + k];
                    }
                }
            }
            assert!(n > 0, "window ({oy}, {ox}) holds no input cell");
            for k in 0..c {
                y[(oy * ow + ox) * c + k] /= n as f64;
            }
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_not_counted() {
        // 1x3x1 row, pool 2 stride 2 same: windows (1, 2) and (3, pad).
        let y = average_pool_f64(&[1.0, 2.0, 3.0], [1, 3, 1], [1, 2], [1, 2], Padding::Same);
        assert_eq!(y, [1.5, 3.0]);
    }
}
