//! Batch normalisation over the last dimension (Keras `BatchNormalization`,
//! `axis = -1`): training normalises with the batch's statistics and updates
//! the moving averages; inference uses the moving averages (the exported form).

use ember_runtime::spec::{Dims, LayerSpec};

use super::{ParamMut, TrainLayer};

/// Keras's default momentum of the moving averages.
pub const MOMENTUM: f32 = 0.99;
/// Keras's default epsilon.
pub const EPSILON: f32 = 1e-3;

/// A trainable batch normalisation.
pub struct BatchNormLayer {
    dims: Dims,
    channels: usize,
    epsilon: f32,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    mean: Vec<f32>,
    var: Vec<f32>,
    grad_gamma: Vec<f32>,
    grad_beta: Vec<f32>,
    /// Always zero: the moving statistics are not trained by gradients.
    grad_stats: [Vec<f32>; 2],
    /// Normalised input `x̂` of the last training pass.
    xhat: Vec<f32>,
    /// `1 / sqrt(σ² + ε)` per channel of the last training pass.
    inv_std: Vec<f32>,
    y: Vec<f32>,
    dx: Vec<f32>,
}

impl BatchNormLayer {
    /// Keras's initial state: `gamma = 1`, `beta = 0`, moving mean 0, moving variance 1.
    pub fn new(dims: Dims, epsilon: f32) -> Self {
        let c = *dims.as_slice().last().expect("dims are non-empty") as usize;
        Self::from_params(dims, epsilon, [vec![1.0; c], vec![0.0; c], vec![0.0; c], vec![1.0; c]])
    }

    /// A layer with the given `gamma`, `beta`, moving mean and moving variance (each `[channels]`).
    pub fn from_params(dims: Dims, epsilon: f32, params: [Vec<f32>; 4]) -> Self {
        let channels = *dims.as_slice().last().expect("dims are non-empty") as usize;
        assert!(params.iter().all(|p| p.len() == channels), "batchnorm parameters must be [channels]");
        let [gamma, beta, mean, var] = params;
        BatchNormLayer {
            dims,
            channels,
            epsilon,
            gamma,
            beta,
            mean,
            var,
            grad_gamma: vec![0.0; channels],
            grad_beta: vec![0.0; channels],
            grad_stats: [vec![0.0; channels], vec![0.0; channels]],
            xhat: Vec::new(),
            inv_std: Vec::new(),
            y: Vec::new(),
            dx: Vec::new(),
        }
    }
}

impl TrainLayer for BatchNormLayer {
    fn spec(&self) -> LayerSpec {
        LayerSpec::BatchNorm { dims: self.dims, epsilon_bits: self.epsilon.to_bits() }
    }

    /// Training: statistics over the batch and every position of each
    /// channel (biased variance), moving averages updated with
    /// [`MOMENTUM`]. Inference: the runtime kernel on the moving averages.
    ///
    /// # Shapes
    /// `x`: `[batch, dims...]` → the same.
    fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32] {
        let c = self.channels;
        assert_eq!(x.len(), batch * self.dims.elements(), "batchnorm input has the wrong shape");
        self.y.resize(x.len(), 0.0);
        if !train {
            let (g, b, m, v) = (&self.gamma, &self.beta, &self.mean, &self.var);
            ember_runtime::kernels::batch_norm(g, b, m, v, self.epsilon, x, &mut self.y);
            return &self.y;
        }
        let n = (x.len() / c).max(1) as f64;
        let mut sum = vec![0f64; c];
        let mut sq = vec![0f64; c];
        for row in x.chunks_exact(c) {
            for k in 0..c {
                let v = row[k] as f64;
                sum[k] += v;
                sq[k] += v * v;
            }
        }
        self.inv_std.clear();
        let mut mean = vec![0f32; c];
        for k in 0..c {
            let mu = sum[k] / n;
            let var = (sq[k] / n - mu * mu).max(0.0);
            mean[k] = mu as f32;
            self.inv_std.push((1.0 / (var + self.epsilon as f64).sqrt()) as f32);
            self.mean[k] = self.mean[k] * MOMENTUM + mu as f32 * (1.0 - MOMENTUM);
            self.var[k] = self.var[k] * MOMENTUM + var as f32 * (1.0 - MOMENTUM);
        }
        self.xhat.resize(x.len(), 0.0);
        for ((xh, y), xr) in self.xhat.chunks_exact_mut(c).zip(self.y.chunks_exact_mut(c)).zip(x.chunks_exact(c)) {
            for k in 0..c {
                xh[k] = (xr[k] - mean[k]) * self.inv_std[k];
                y[k] = xh[k] * self.gamma[k] + self.beta[k];
            }
        }
        &self.y
    }

    /// `dγ = Σ dy·x̂`, `dβ = Σ dy`,
    /// `dx = γ/σ · (dy - dβ/n - x̂·dγ/n)` per channel (`n` values per channel).
    ///
    /// # Shapes
    /// `dy`: `[batch, dims...]` → the same.
    fn backward(&mut self, dy: &[f32], _batch: usize, _pre: bool, need_dx: bool) -> &[f32] {
        let c = self.channels;
        assert_eq!(dy.len(), self.xhat.len(), "backward needs a training forward pass on the same batch");
        let mut dg = vec![0f64; c];
        let mut db = vec![0f64; c];
        for (d, xh) in dy.chunks_exact(c).zip(self.xhat.chunks_exact(c)) {
            for k in 0..c {
                dg[k] += d[k] as f64 * xh[k] as f64;
                db[k] += d[k] as f64;
            }
        }
        for k in 0..c {
            self.grad_gamma[k] = dg[k] as f32;
            self.grad_beta[k] = db[k] as f32;
        }
        self.dx.clear();
        if !need_dx {
            return &self.dx;
        }
        let n = (dy.len() / c).max(1) as f64;
        let scale: Vec<f32> = (0..c).map(|k| self.gamma[k] * self.inv_std[k]).collect();
        let (mg, mb): (Vec<f32>, Vec<f32>) = (0..c).map(|k| ((dg[k] / n) as f32, (db[k] / n) as f32)).unzip();
        self.dx.resize(dy.len(), 0.0);
        for ((dx, d), xh) in self.dx.chunks_exact_mut(c).zip(dy.chunks_exact(c)).zip(self.xhat.chunks_exact(c)) {
            for k in 0..c {
                dx[k] = scale[k] * (d[k] - mb[k] - xh[k] * mg[k]);
            }
        }
        &self.dx
    }

    fn params(&self) -> Vec<&[f32]> {
        vec![&self.gamma, &self.beta, &self.mean, &self.var]
    }

    /// `gamma` and `beta` with their gradients; the moving statistics with a
    /// zero gradient, so that every optimizer leaves them as the forward
    /// pass set them.
    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        let [gm, gv] = &mut self.grad_stats;
        gm.fill(0.0);
        gv.fill(0.0);
        vec![
            ParamMut { value: &mut self.gamma, grad: &mut self.grad_gamma, regularized: false },
            ParamMut { value: &mut self.beta, grad: &mut self.grad_beta, regularized: false },
            ParamMut { value: &mut self.mean, grad: gm, regularized: false },
            ParamMut { value: &mut self.var, grad: gv, regularized: false },
        ]
    }
}
