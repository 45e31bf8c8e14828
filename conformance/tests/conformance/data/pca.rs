//! PCA against independent expectations: exact diagonal covariances, a
//! plane in 3-D, eigen-residuals and the variance identity on MNIST.

use ember_data::bundled_mnist;
use ember_train::pca::Pca;

/// A test-local normal generator (SplitMix64 + Box-Muller), independent of the crate's.
struct Normal(u64);

impl Normal {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f64 {
        let (u1, u2) = (1.0 - self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn dot(a: &[f32], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| f64::from(x) * y).sum()
}

fn assert_orthonormal(p: &Pca) {
    let (k, d) = (p.n_components(), p.n_features());
    let c = p.components();
    for i in 0..k {
        for j in 0..k {
            let ci: Vec<f64> = c[i * d..(i + 1) * d].iter().map(|&v| f64::from(v)).collect();
            let g = dot(&c[j * d..(j + 1) * d], &ci);
            let want = if i == j { 1.0 } else { 0.0 };
            assert!((g - want).abs() < 1e-5, "components {i}, {j}: {g}");
        }
    }
}

/// Points at ±s_i on each axis: the covariance is exactly diag(2 s_i² / (n - 1)).
fn check_diagonal(scales: &[f32], k: usize) {
    let d = scales.len();
    let mut x = vec![0f32; 2 * d * d];
    for (i, &s) in scales.iter().enumerate() {
        x[2 * i * d + i] = s;
        x[(2 * i + 1) * d + i] = -s;
    }
    let p = Pca::fit(&x, 2 * d, d, k);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| scales[b].total_cmp(&scales[a]));
    assert_orthonormal(&p);
    for (c, &axis) in order.iter().take(k).enumerate() {
        let comp = &p.components()[c * d..(c + 1) * d];
        assert!((comp[axis] - 1.0).abs() < 1e-5, "component {c} should be axis {axis}: {comp:?}");
        let want = 2.0 * f64::from(scales[axis]).powi(2) / (2 * d - 1) as f64;
        assert!((p.explained_variance()[c] - want).abs() < 1e-9 * want, "variance {c}");
    }
}

#[test]
fn diagonal_covariance_gives_the_axes_in_order_of_variance() {
    check_diagonal(&[1.0, 3.0, 2.0, 4.0, 0.5, 1.5], 6); // Jacobi path
    check_diagonal(&[1.0, 3.0, 2.0, 4.0, 0.5, 1.5], 3);
    let scales: Vec<f32> = (0..120).map(|i| 1.0 + ((i * 37) % 120) as f32 * 0.05).collect();
    check_diagonal(&scales, 5); // subspace-iteration path
}

#[test]
fn plane_in_3d_reconstructs_to_the_noise_level() {
    let (u, v) = ([1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0], [2.0 / 3.0, 1.0 / 3.0, -2.0 / 3.0]);
    let normal = [2.0 / 3.0, -2.0 / 3.0, 1.0 / 3.0]; // u × v
    let (n, sigma) = (4000, 1e-3);
    let mut g = Normal(1);
    let mut x = Vec::with_capacity(n * 3);
    for _ in 0..n {
        let (a, b) = (3.0 * g.next(), g.next());
        for c in 0..3 {
            x.push((5.0 + a * u[c] + b * v[c] + sigma * g.next()) as f32);
        }
    }
    let p = Pca::fit(&x, n, 3, 2);
    assert_orthonormal(&p);
    // Only the noise along the normal is lost: σ² per sample, σ²/3 per value.
    let mse = p.reconstruction_mse(&x);
    assert!((mse / (sigma * sigma / 3.0) - 1.0).abs() < 0.2, "mse {mse}");
    let c = p.components();
    assert!(dot(&c[..3], &u).abs() > 0.9999, "first component ≈ u: {:?}", &c[..3]);
    assert!(dot(&c[..3], &normal).abs() < 1e-3 && dot(&c[3..], &normal).abs() < 1e-3);
    let ratio = p.explained_variance_ratio();
    assert!((ratio[0] - 0.9).abs() < 0.02 && ratio[0] + ratio[1] > 0.999_999, "{ratio:?}");
    let codes = p.transform(&x[..6]);
    assert_eq!(codes.len(), 4);
    let back = p.inverse_transform(&codes);
    assert!(back.iter().zip(&x[..6]).all(|(a, b)| (a - b).abs() < 1e-2));
}

#[test]
fn mnist_components_are_eigenvectors_and_variance_adds_up() {
    let data = bundled_mnist().expect("bundled MNIST");
    let (n, d, k) = (data.n, 784, 32);
    let start = std::time::Instant::now();
    let p = Pca::fit(&data.x, n, d, k);
    eprintln!("Pca::fit on {n}x{d}, k = {k}: {:?}", start.elapsed());
    assert_orthonormal(&p);
    // Covariance products computed here, in f64, as Xcᵀ(Xc·v)/(n - 1).
    let mean: Vec<f64> = (0..d).map(|j| (0..n).map(|i| f64::from(data.x[i * d + j])).sum::<f64>() / n as f64).collect();
    let xc: Vec<f64> = data.x.iter().enumerate().map(|(i, &v)| f64::from(v) - mean[i % d]).collect();
    let trace: f64 = xc.iter().map(|v| v * v).sum::<f64>() / (n - 1) as f64;
    let values = p.explained_variance();
    for c in 0..k {
        let comp = &p.components()[c * d..(c + 1) * d];
        let proj: Vec<f64> = xc.chunks_exact(d).map(|row| dot(comp, row)).collect();
        let mut cv = vec![0f64; d];
        for (row, &s) in xc.chunks_exact(d).zip(&proj) {
            cv.iter_mut().zip(row).for_each(|(a, &r)| *a += s * r / (n - 1) as f64);
        }
        let residual: f64 =
            cv.iter().zip(comp).map(|(a, &b)| (a - values[c] * f64::from(b)).powi(2)).sum::<f64>().sqrt();
        assert!(residual < 1e-5 * values[0], "component {c}: residual {residual}");
    }
    assert!(values.windows(2).all(|w| w[0] >= w[1]));
    let ratio: f64 = p.explained_variance_ratio().iter().sum();
    assert!((ratio - values.iter().sum::<f64>() / trace).abs() < 1e-9 && ratio < 1.0);
    // Mean squared reconstruction error = (n-1)/n · (unexplained variance) / d.
    let want = (n - 1) as f64 / n as f64 * (trace - values.iter().sum::<f64>()) / d as f64;
    let mse = p.reconstruction_mse(&data.x);
    assert!((mse / want - 1.0).abs() < 1e-4, "mse {mse}, expected {want}");
    assert!(Pca::fit(&data.x, n, d, 8).reconstruction_mse(&data.x) > mse);
}

#[test]
fn subspace_iteration_agrees_with_full_jacobi() {
    let (n, d) = (300, 100);
    let mut g = Normal(5);
    let x: Vec<f32> = (0..n * d).map(|i| (g.next() * (1.0 + (i % d) as f64 / 10.0)) as f32).collect();
    let few = Pca::fit(&x, n, d, 20); // subspace iteration
    let many = Pca::fit(&x, n, d, 60); // Jacobi on the whole covariance
    for (a, b) in few.explained_variance().iter().zip(many.explained_variance()) {
        assert!((a - b).abs() < 1e-9 * b, "{a} vs {b}");
    }
    for c in 0..20 {
        let a: Vec<f64> = few.components()[c * d..(c + 1) * d].iter().map(|&v| f64::from(v)).collect();
        assert!((dot(&many.components()[c * d..(c + 1) * d], &a) - 1.0).abs() < 1e-4, "component {c}");
    }
}
