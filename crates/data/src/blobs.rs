//! Isotropic Gaussian clusters, like scikit-learn's `make_blobs`.

use super::Dataset;
use super::rng::Stream;

/// Where [`make_blobs`] puts its cluster centres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Centers<'a> {
    /// This many centres drawn uniformly from the box `[-10, 10)³`
    /// (scikit-learn's default `center_box`).
    Random(usize),
    /// These centres.
    Given(&'a [[f32; 3]]),
}

impl From<usize> for Centers<'_> {
    fn from(n: usize) -> Self {
        Centers::Random(n)
    }
}

impl<'a> From<&'a [[f32; 3]]> for Centers<'a> {
    fn from(c: &'a [[f32; 3]]) -> Self {
        Centers::Given(c)
    }
}

impl<'a, const N: usize> From<&'a [[f32; 3]; N]> for Centers<'a> {
    fn from(c: &'a [[f32; 3]; N]) -> Self {
        Centers::Given(c)
    }
}

/// `n_samples` points in 3-D around the given or random centres, each
/// coordinate drawn from N(centre, `std`²); the label of a point is the index
/// of its centre.
///
/// As in scikit-learn, the samples are divided as evenly as possible (the
/// first `n_samples % n_centres` centres get one more) and then shuffled. The
/// result depends only on the arguments: the random stream is ChaCha8 with
/// a Box-Muller normal written in this crate, so it will not change with a
/// library upgrade. Zero centres give an empty data set.
pub fn make_blobs<'a>(n_samples: usize, centers: impl Into<Centers<'a>>, std: f32, seed: u64) -> Dataset {
    let mut rng = Stream::new(seed);
    let random: Vec<[f32; 3]>;
    let centers = match centers.into() {
        Centers::Given(c) => c,
        Centers::Random(k) => {
            random = (0..k).map(|_| [0; 3].map(|_: u8| (rng.uniform() * 20.0 - 10.0) as f32)).collect();
            &random
        }
    };
    let k = centers.len();
    if k == 0 {
        return Dataset { x: Vec::new(), n: 0, dims: vec![3], labels: Some(Vec::new()) };
    }
    let mut labels: Vec<u32> = Vec::with_capacity(n_samples);
    for (c, _) in centers.iter().enumerate() {
        let count = n_samples / k + usize::from(c < n_samples % k);
        labels.extend(std::iter::repeat_n(c as u32, count));
    }
    // Fisher-Yates shuffle of the labels, then draw each point around its centre.
    for i in (1..labels.len()).rev() {
        let j = rng.below(i + 1);
        labels.swap(i, j);
    }
    let mut x = Vec::with_capacity(n_samples * 3);
    for &l in &labels {
        let centre = centers[l as usize];
        for c in centre {
            x.push((f64::from(c) + f64::from(std) * rng.normal()) as f32);
        }
    }
    Dataset { x, n: n_samples, dims: vec![3], labels: Some(labels) }
}
