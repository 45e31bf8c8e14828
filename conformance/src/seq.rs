//! Naive `f64` references of the sequence layers, written from the ONNX
//! operator definitions (`Gather`, `RNN`, `LSTM`, `Flatten`), independent of
//! the runtime, trainer and exporter code.

use ember_runtime::spec::LayerSpec;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `Σ_j m[row, j] · v[j]` for a row-major matrix with `v.len()` columns.
fn row_dot(m: &[f64], row: usize, v: &[f64]) -> f64 {
    m[row * v.len()..(row + 1) * v.len()].iter().zip(v).map(|(a, b)| a * b).sum()
}

/// One sample through one layer (Embedding, Flatten, Dropout, SimpleRnn,
/// Lstm, or Dense via `crate::dense_pre_f64`).
///
/// # Shapes
/// `params`: the layer's tensors in spec order; `x`: one input sample → one output sample.
pub fn layer_f64(spec: &LayerSpec, params: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    match *spec {
        LayerSpec::Embedding { dim, .. } => {
            let d = dim as usize;
            x.iter().flat_map(|&id| params[0][id as usize * d..(id as usize + 1) * d].to_vec()).collect()
        }
        LayerSpec::Flatten { .. } | LayerSpec::Dropout { .. } => x.to_vec(),
        LayerSpec::Dense { .. } => {
            let mut z = crate::dense_pre_f64(&params[0], &params[1], x);
            crate::act_f64(spec.activation(), &mut z);
            z
        }
        LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } => {
            let r = spec.recurrent().expect("recurrent");
            let (h_n, i_n, t_n, g) = (r.units, r.inputs, r.seq_len, r.gates);
            let out_step = r.dirs * h_n;
            let mut seq = vec![0.0; t_n * out_step];
            let mut last = vec![0.0; out_step];
            for d in 0..r.dirs {
                let w = &params[0][d * g * h_n * i_n..(d + 1) * g * h_n * i_n];
                let rr = &params[1][d * g * h_n * h_n..(d + 1) * g * h_n * h_n];
                let b = &params[2][d * 2 * g * h_n..(d + 1) * 2 * g * h_n];
                let (mut h, mut c) = (vec![0.0; h_n], vec![0.0; h_n]);
                for k in 0..t_n {
                    let t = if d == 1 { t_n - 1 - k } else { k };
                    let xt = &x[t * i_n..(t + 1) * i_n];
                    // z[row] = W[row]·x + R[row]·h + Wb[row] + Rb[row]
                    let z: Vec<f64> = (0..g * h_n)
                        .map(|row| row_dot(w, row, xt) + row_dot(rr, row, &h) + b[row] + b[g * h_n + row])
                        .collect();
                    if g == 1 {
                        h = z.iter().map(|v| v.tanh()).collect();
                    } else {
                        // ONNX gate order: i, o, f, c.
                        for j in 0..h_n {
                            let (i, o, f, cc) =
                                (sigmoid(z[j]), sigmoid(z[h_n + j]), sigmoid(z[2 * h_n + j]), z[3 * h_n + j].tanh());
                            c[j] = f * c[j] + i * cc;
                            h[j] = o * c[j].tanh();
                        }
                    }
                    seq[t * out_step + d * h_n..t * out_step + (d + 1) * h_n].copy_from_slice(&h);
                }
                last[d * h_n..(d + 1) * h_n].copy_from_slice(&h);
            }
            if r.return_sequences { seq } else { last }
        }
        _ => panic!("no f64 reference for {spec:?}"),
    }
}
