//! The autoencoder and denoising-autoencoder task: data, network, fit,
//! export of the model and its encoder, the PCA baseline, pictures and report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ember_data::{self as data, Dataset};
use ember_export::Model;
use ember_nn::fit::{self, FitOptions, TrainData};
use ember_nn::network::Network;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::config::{ModelConfig, NoiseConfig, Task};
use crate::error::{Result, invalid};
use crate::output::{RunData, TrainOptions, TrainSummary, Truth, prepare_out, run_lines, write_history, write_model};
use crate::pca::Pca;
use crate::plot;
use crate::runlog::RunObserver;
use crate::tasks::anomaly::{self, AnomalyReport};

/// Seed of the fixed shuffle of the bundled MNIST digits.
pub const BUNDLED_SHUFFLE_SEED: u64 = 2024;

/// Loads the data a config names (or `path`), checked against the model input.
pub fn load_data(cfg: &ModelConfig, path: Option<&Path>) -> Result<Dataset> {
    let ds = match (path, cfg.data.as_deref()) {
        (Some(p), _) => data::load_auto(p)?,
        // The bundled CSV is sorted by digit: shuffle it once, with a fixed
        // seed, so that the validation tail holds every digit.
        (None, Some("mnist")) => {
            let ds = data::bundled_mnist()?;
            let mut order: Vec<usize> = (0..ds.len()).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(BUNDLED_SHUFFLE_SEED));
            ds.select(&order)
        }
        (None, Some("blobs")) => data::make_blobs(600, 3, 1.0, cfg.train.seed),
        (None, Some("sensor-windows")) => {
            data::generated::sensor_windows(crate::tasks::features::SENSOR_SAMPLES, cfg.train.seed)
        }
        (None, Some(other)) => data::load_auto(Path::new(other))?,
        (None, None) => invalid!("model {} names no default data: pass --data PATH", cfg.name),
    };
    let want: usize = cfg.input.iter().map(|&d| d as usize).product();
    if ds.sample_len() != want {
        invalid!(
            "the data has {} values per sample but model {} takes {want} (input {:?})",
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
    Ok(match cfg.train.max_samples {
        Some(n) if n < ds.len() => ds.take(n),
        _ => ds,
    })
}

fn apply_noise(noise: NoiseConfig, x: &mut [f32], seed: u64) {
    let noisy = match noise {
        NoiseConfig::Gaussian { level } => data::noise::gaussian(x, level, seed),
        NoiseConfig::SaltPepper { level } => data::noise::salt_and_pepper(x, level, seed),
    };
    x.copy_from_slice(&noisy);
}

/// Trains the autoencoder (or denoising autoencoder) of `cfg` and writes
/// everything into `opts.out`.
pub fn train(cfg: &ModelConfig, opts: &TrainOptions) -> Result<TrainSummary> {
    let ds = load_data(cfg, opts.data.as_deref())?;
    let specs = cfg.layer_specs()?;
    let fit_cfg = cfg.fit_config()?;
    let mut net = Network::init(cfg.name.clone(), cfg.input_spec()?, &specs, cfg.train.seed);
    if net.output_len() != ds.sample_len() {
        invalid!(
            "an autoencoder's last layer must have {} units (the input size), not {}",
            ds.sample_len(),
            net.output_len()
        );
    }
    let (ck_path, resume) = prepare_out(opts)?;
    let noise = match cfg.task {
        Task::Denoise => Some(cfg.noise.unwrap_or(NoiseConfig::Gaussian { level: 0.5 })),
        _ => None,
    };
    let transform = noise.map(|n| move |x: &mut [f32], seed: u64| apply_noise(n, x, seed));
    let mut observer = RunObserver::new(opts, &net, resume.as_ref())?;
    let fit_opts = FitOptions {
        checkpoint: Some(ck_path.clone()),
        resume,
        observer: observer.as_dyn(),
        input_transform: transform.as_ref().map(|t| t as fit::InputTransform<'_>),
    };
    let history = fit::fit(&mut net, TrainData { x: &ds.x, y: &ds.x }, &fit_cfg, fit_opts)?;
    observer.finish()?;

    let mut model = net.to_model()?;
    model.set_meta("producer", crate::PRODUCER);
    model.set_meta("task", format!("{:?}", cfg.task).to_lowercase());
    model.set_meta("loss", cfg.train.loss.clone());
    if let Some(k) = cfg.encoder_layers {
        model.set_meta("encoder_layers", k.to_string());
    }
    let n_val = fit::validation_count(ds.len(), fit_cfg.validation_split);
    let n_train = ds.len() - n_val;
    let val_ds = if n_val > 0 { ds.select(&(n_train..ds.len()).collect::<Vec<_>>()) } else { ds.clone() };
    // Generated sensor windows: the anomaly threshold (kept in the model for
    // `ember evaluate` and `ember predict`) and its detection rates.
    let anomaly = (opts.data.is_none() && cfg.data.as_deref() == Some("sensor-windows"))
        .then(|| anomaly::sensor_report(&mut net, &val_ds, cfg.train.seed));
    if let Some(a) = &anomaly {
        model.set_meta("anomaly_threshold", format!("{}", a.threshold));
    }
    let encoder = cfg.encoder_layers.map(|k| model.sub_model(format!("{}_encoder", cfg.name), 0..k)).transpose()?;
    let mut files = Vec::new();
    for m in std::iter::once(&model).chain(encoder.as_ref()) {
        files.extend(write_model(m, &opts.out)?);
    }

    // Validation reconstruction error, and PCA with as many components as the code.
    let train_ds = ds.take(n_train);
    let mut val_in = val_ds.x.clone();
    if let Some(n) = noise {
        apply_noise(n, &mut val_in, cfg.train.seed ^ fit::VALIDATION_NOISE_SEED);
    }
    let recon = net.predict(&val_in);
    let val_mse = mse(&recon, &val_ds.x);
    let code_len = encoder.as_ref().map(|e| e.output().dims.elements());
    let pca = code_len.map(|k| Pca::fit(&train_ds.x, train_ds.len(), ds.sample_len(), k));
    // PCA sees what the autoencoder sees (the noisy inputs when denoising) and
    // is scored against the clean data.
    let pca_mse = pca.as_ref().map(|p| mse(&p.inverse_transform(&p.transform(&val_in)), &val_ds.x));

    files.extend(write_history(cfg, &history, &opts.out)?);
    files.extend(pictures(cfg, encoder.as_ref(), pca.as_ref(), &val_ds, &val_in, &recon, &opts.out)?);

    let lines = anomaly.as_ref().map(AnomalyReport::lines).unwrap_or_default();
    let d = ds.sample_len();
    let mut data = RunData::new(&ds.x, d, n_train, 0..0, Truth::Values(val_ds.x.clone()));
    data.validation = val_in;
    let summary = TrainSummary {
        model,
        encoder,
        history,
        val_mse,
        pca_mse,
        classification: None,
        summary: lines,
        files,
        data: Some(data),
    };
    let report_path = opts.out.join("report.md");
    let mut text = report(cfg, &summary, &ds);
    if anomaly.is_some() {
        let mut section = "\n## Anomaly detection (reconstruction MSE per window)\n\n".to_string();
        for l in &summary.summary {
            section += &format!("- {l}\n");
        }
        let at = text.find("\n## Files").unwrap_or(text.len());
        text.insert_str(at, &section);
    }
    crate::write_file(&report_path, text.as_bytes())?;
    let mut summary = summary;
    summary.files.push(report_path);
    Ok(summary)
}

fn mse(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| ((x - y) as f64).powi(2)).sum::<f64>() / a.len().max(1) as f64
}

fn pictures(
    cfg: &ModelConfig,
    encoder: Option<&Model>,
    pca: Option<&Pca>,
    val: &Dataset,
    val_in: &[f32],
    recon: &[f32],
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let d = val.sample_len();
    let code_len = encoder.map(|e| e.output().dims.elements());
    if code_len == Some(2) && d <= 3 {
        let mut enc = Network::from_model(encoder.expect("code_len implies an encoder"));
        let codes = enc.predict(&val.x);
        let points: Vec<[f32; 2]> = codes.chunks(2).map(|c| [c[0], c[1]]).collect();
        let path = out.join("codes.png");
        plot::scatter_2d(
            &path,
            &format!("{}: 2-D codes of validation points", cfg.name),
            &points,
            val.labels.as_deref(),
            None,
        )?;
        files.push(path);
        if let Some(p) = pca {
            let proj = p.transform(&val.x);
            let points: Vec<[f32; 2]> = proj.chunks(2).map(|c| [c[0], c[1]]).collect();
            let path = out.join("pca.png");
            plot::scatter_2d(&path, "PCA projection of validation points", &points, val.labels.as_deref(), None)?;
            files.push(path);
        }
    }
    if d == 784 {
        let k = val.len().min(10);
        let path = out.join(if cfg.task == Task::Denoise { "denoising.png" } else { "reconstructions.png" });
        let clean = &val.x[..k * d];
        let out_imgs = &recon[..k * d];
        let rows: Vec<(&str, &[f32])> = match cfg.task {
            Task::Denoise => vec![("noisy", &val_in[..k * d]), ("denoised", out_imgs), ("clean", clean)],
            _ => vec![("original", clean), ("reconstruction", out_imgs)],
        };
        plot::image_grid(&path, &format!("{} (validation digits)", cfg.name), &rows, 28, 28, k)?;
        files.push(path);
    }
    Ok(files)
}

fn report(cfg: &ModelConfig, s: &TrainSummary, ds: &Dataset) -> String {
    let mut r = String::new();
    let _ = writeln!(r, "# {}\n", cfg.name);
    let _ = writeln!(
        r,
        "- task: {:?}, {} samples of {:?}, validation split {}",
        cfg.task,
        ds.len(),
        ds.dims,
        cfg.train.validation_split
    );
    r += &run_lines(&cfg.train, &s.history);
    if let Some(last) = s.history.epochs.last() {
        let _ = writeln!(
            r,
            "- final loss {:.6}, val_loss {}",
            last.loss,
            last.val_loss.map_or("-".into(), |v| format!("{v:.6}"))
        );
    }
    let _ = writeln!(r, "\n## Reconstruction error on the validation data (MSE)\n");
    let _ = writeln!(r, "| method | MSE |\n|---|---|");
    let _ = writeln!(r, "| autoencoder | {:.6} |", s.val_mse);
    if let Some(p) = s.pca_mse {
        let k = s.encoder.as_ref().map_or(0, |e| e.output().dims.elements());
        let _ = writeln!(r, "| PCA ({k} components) | {p:.6} |");
    }
    let _ = writeln!(r, "\n## Files\n");
    for f in &s.files {
        let _ = writeln!(r, "- {}", f.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    }
    r
}
