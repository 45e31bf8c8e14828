//! The data of classifiers and regressors on features, images and time
//! series: built-in generated sets, the bundled MNIST sample, a CSV file with
//! a label or target column, a folder per class, or an IDX images file with
//! its labels; checked against (and shaped as) the model's input.

use std::path::Path;

use ember_data::generated;
use ember_data::{self as data, Dataset, Labeled, Targets};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::config::ModelConfig;
use crate::error::{Result, invalid};

/// Seed of the fixed shuffle of files, folders and the bundled digits
/// (which come sorted by class), so that the validation tail holds every class.
pub const SHUFFLE_SEED: u64 = 2024;
/// Points of the generated `sine` data.
pub const SINE_SAMPLES: usize = 1000;
/// Maps of the generated `kws` data (300 per class).
pub const KWS_SAMPLES: usize = 1800;
/// Windows of the generated `gestures` data (200 per class).
pub const GESTURE_SAMPLES: usize = 1000;
/// Windows of the generated `sensor-windows` data.
pub const SENSOR_SAMPLES: usize = 2000;

fn shuffled(ds: &Dataset) -> Dataset {
    let mut order: Vec<usize> = (0..ds.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(SHUFFLE_SEED));
    ds.select(&order)
}

/// The labelled data a classifier config names (or `path`): `mnist` (the
/// bundled digits), `kws` ([`KWS_SAMPLES`] generated 49×10 feature maps),
/// `gestures` ([`GESTURE_SAMPLES`] generated 64×3 accelerometer windows), a
/// folder per class, a CSV file with a label column (`[columns] label`), or
/// an IDX images file with its labels beside it. The labels are checked
/// against a network of `width` outputs ([`check_labels`], naming samples in
/// file order); then files, folders and the bundled digits are shuffled
/// once ([`SHUFFLE_SEED`]) and the samples shaped as the input.
pub fn load_labeled(cfg: &ModelConfig, path: Option<&Path>, width: usize) -> Result<Labeled> {
    let seed = cfg.train.seed;
    let (labeled, shuffle) = match (path, cfg.data.as_deref()) {
        (None, Some("kws")) => (generated::kws_features(KWS_SAMPLES, seed), false),
        (None, Some("gestures")) => (generated::gesture_windows(GESTURE_SAMPLES, seed), false),
        (None, Some("mnist")) => (generated::mnist_images()?, true),
        (Some(p), _) => (labeled_file(cfg, p)?, true),
        (None, Some(other)) => (labeled_file(cfg, Path::new(other))?, true),
        (None, None) => invalid!("model {} names no default data: pass --data PATH", cfg.name),
    };
    check_labels(labeled.data.labels.as_deref().unwrap_or_default(), &labeled.classes, width)?;
    let data = if shuffle { shuffled(&labeled.data) } else { labeled.data };
    Ok(Labeled { data: shaped(cfg, data)?, classes: labeled.classes })
}

/// Every label is a class a network of `width` outputs can give: below
/// `width` for a softmax, 0 or 1 for one sigmoid unit. The error names the
/// first sample (0-based, in file order) that is not, and its class.
pub fn check_labels(labels: &[u32], classes: &[String], width: usize) -> Result<()> {
    let limit = if width == 1 { 2 } else { width };
    if let Some((i, &l)) = labels.iter().enumerate().find(|&(_, &l)| l as usize >= limit) {
        let name = classes.get(l as usize).map_or(String::new(), |n| format!(" ({n:?})"));
        let what = if width == 1 {
            "one sigmoid unit classifies 2 classes".to_string()
        } else {
            format!("the last layer has {width} units")
        };
        invalid!("sample {i} has label {l}{name}, outside the model's {limit} classes ({what})");
    }
    Ok(())
}

fn labeled_file(cfg: &ModelConfig, p: &Path) -> Result<Labeled> {
    let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let label = cfg.columns.as_ref().and_then(|c| c.label.as_deref());
    let l = if p.is_dir() {
        data::load_class_folders(p)?
    } else if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        data::load_labeled_csv(p, label)?
    } else if !p.exists() {
        invalid!("{}: no such file or folder", p.display());
    } else {
        let ds = data::load_auto(p)?;
        let Some(labels) = &ds.labels else {
            invalid!(
                "{}: a classifier needs labels (an IDX images file with its labels-idx1 file beside it)",
                p.display()
            );
        };
        let k = labels.iter().max().map_or(0, |&m| m as usize + 1);
        Labeled { classes: (0..k).map(|i| i.to_string()).collect(), data: ds }
    };
    Ok(l)
}

/// The data a regressor config names (or `path`): `sine` ([`SINE_SAMPLES`]
/// points of the TFLM hello-world data) or a CSV file with target columns
/// (`[columns] targets`), shuffled once ([`SHUFFLE_SEED`]).
pub fn load_targets(cfg: &ModelConfig, path: Option<&Path>) -> Result<Targets> {
    let t = match (path, cfg.data.as_deref()) {
        (None, Some("sine")) => generated::sine(SINE_SAMPLES, cfg.train.seed),
        (Some(p), _) => targets_file(cfg, p)?,
        (None, Some(other)) => targets_file(cfg, Path::new(other))?,
        (None, None) => invalid!("model {} names no default data: pass --data PATH", cfg.name),
    };
    let x = shaped(cfg, t.x)?;
    Ok(Targets { y: t.y[..x.len() * t.names.len()].to_vec(), x, names: t.names })
}

fn targets_file(cfg: &ModelConfig, p: &Path) -> Result<Targets> {
    let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if !(name.ends_with(".csv") || name.ends_with(".csv.gz")) {
        invalid!("{}: regression data must be a .csv file with target columns", p.display());
    }
    let targets = cfg.columns.as_ref().map(|c| c.targets.clone()).unwrap_or_default();
    let t = data::load_regression_csv(p, &targets)?;
    let mut order: Vec<usize> = (0..t.x.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(SHUFFLE_SEED));
    let w = t.names.len();
    let y = order.iter().flat_map(|&i| t.y[i * w..(i + 1) * w].iter().copied()).collect();
    Ok(Targets { x: t.x.select(&order), y, names: t.names })
}

/// The generated data sets' sample shapes, for error messages.
fn known_shape(cfg: &ModelConfig) -> &'static str {
    match cfg.data.as_deref() {
        Some("kws") => "kws maps are [49, 10, 1]",
        Some("gestures") => "gesture windows are [64, 3]",
        _ => "",
    }
}

/// `ds` seen with the model's input shape (the same number of values per
/// sample), its values checked to be finite and within the input range, cut
/// to `train.max_samples`.
pub fn shaped(cfg: &ModelConfig, ds: Dataset) -> Result<Dataset> {
    let want: usize = cfg.input.iter().map(|&d| d as usize).product();
    if ds.sample_len() != want {
        let hint = match known_shape(cfg) {
            "" => String::new(),
            h => format!(" ({h})"),
        };
        invalid!(
            "the data's samples have shape {:?} ({} values) but model {} takes input {:?} ({want} values){hint}",
            ds.dims,
            ds.sample_len(),
            cfg.name,
            cfg.input
        );
    }
    if let Some(i) = ds.x.iter().position(|v| !v.is_finite()) {
        invalid!("the data holds a NaN or infinite value (sample {}, value {})", i / want, i % want);
    }
    if let Some([lo, hi]) = cfg.input_range
        && let Some(i) = ds.x.iter().position(|v| *v < lo || *v > hi)
    {
        invalid!("sample {} value {} is {}, outside the model's input range [{lo}, {hi}]", i / want, i % want, ds.x[i]);
    }
    let ds = ds.reshaped(cfg.input.iter().map(|&d| d as usize).collect())?;
    Ok(match cfg.train.max_samples {
        Some(n) if n < ds.len() => ds.take(n),
        _ => ds,
    })
}
