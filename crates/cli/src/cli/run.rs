//! `ember run MODEL.emb --input X.npy --output Y.npy`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use ember_data::npy;
use ember_export::Model;
use ember_verify as verify;

/// Arguments of `ember run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The blob.
    model: PathBuf,
    /// Inputs, `[batch, ...input dims]` (f32, f64 or integer .npy).
    #[arg(long)]
    input: PathBuf,
    /// Where to write the outputs, `[batch, outputs]` f32 .npy.
    #[arg(long)]
    output: PathBuf,
}

/// Runs the blob on every input sample with the host runtime.
pub fn cmd_run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let blob = std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let model = Model::from_blob(&blob).with_context(|| format!("{} is not a valid ember blob", a.model.display()))?;
    let (shape, data) = npy::read_npy(&a.input).with_context(|| format!("cannot read {}", a.input.display()))?;
    let in_dims: Vec<usize> = model.input.dims.as_slice().iter().map(|&d| d as usize).collect();
    let flat: usize = in_dims.iter().product();
    let ok = shape.len() >= 2
        && (shape[1..] == in_dims[..] || shape[1..].iter().product::<usize>() == flat && shape.len() == 2);
    if !ok {
        bail!(
            "input shape {shape:?} does not match the model: expected [batch, {}]",
            in_dims.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some([lo, hi]) = model.input.range
        && let Some(i) = data.iter().position(|v| !(lo..=hi).contains(v))
    {
        bail!(
            "input sample {} value {} is {}, outside the range [{lo}, {hi}] that model {} declares \
             (scale pixels to [0, 1] first)",
            i / flat,
            i % flat,
            data[i],
            model.name
        );
    }
    let out = verify::run_runtime(&blob, &data)?;
    let out_len = model.output().dims.elements();
    npy::write_npy(&a.output, &[shape[0], out_len], &out)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    println!(
        "ran {} samples through {}: wrote {} ([{}, {out_len}])",
        shape[0],
        model.name,
        a.output.display(),
        shape[0]
    );
    Ok(ExitCode::SUCCESS)
}
