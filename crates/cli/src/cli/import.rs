//! `ember import MODEL.onnx --out DIR [--name NAME]`: a model from another
//! framework becomes DIR/NAME.emb (the blob), DIR/NAME.rs (the board's Rust
//! type, as `ember export --rust` writes it) and DIR/NAME.report.md (the
//! verification report). Before anything is written the imported model runs
//! on the host runtime and the ONNX file on ONNX Runtime, on the same
//! inputs; they must agree within `F32_PARITY`. On any error nothing is
//! written (all three files are written to temporary files and renamed at
//! the end).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use ember_data::npy;
use ember_export::fsutil::{commit, temp_path};
use ember_export::import::{ImportOptions, Imported, import_onnx, split_batch};
use ember_verify::{self as verify, F32_PARITY, backends::OrtModel};

/// Arguments of `ember import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// The ONNX model (from Keras through tf2onnx, PyTorch through torch.onnx, ...).
    model: PathBuf,
    /// Output folder: NAME.emb, NAME.rs and NAME.report.md are written there.
    #[arg(long)]
    out: PathBuf,
    /// Model name (default: the file stem of MODEL).
    #[arg(long)]
    name: Option<String>,
    /// Inputs to verify on, a .npy of [batch, ...sample] in ember's channels-last layout or in the ONNX input's own layout (default: seeded random inputs).
    #[arg(long)]
    input: Option<PathBuf>,
    /// The dimensions of one input sample (after the batch), comma-separated, for an input with dynamic dimensions.
    #[arg(long, value_delimiter = ',')]
    input_shape: Option<Vec<usize>>,
    /// Random samples to verify on (without --input).
    #[arg(long, default_value_t = 16)]
    samples: usize,
    /// Seed of the random inputs.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// Imports, verifies against ONNX Runtime, then writes the three files.
pub fn cmd_import(a: ImportArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let name = match &a.name {
        Some(n) => n.clone(),
        None => a.model.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
    };
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        bail!("model name {name:?} cannot name a file: give --name");
    }
    let opts = ImportOptions { name: name.clone(), input_shape: a.input_shape.clone() };
    let imp = import_onnx(&bytes, &opts).with_context(|| format!("cannot import {}", a.model.display()))?;
    let model = &imp.model;
    let blob = model.to_blob()?;
    let rust = model.to_rust(&format!("{name}.emb"))?;
    let in_len = model.input.dims.elements();
    let inputs = match &a.input {
        Some(p) => read_inputs(p, &imp)?,
        // A graph with a fixed batch runs whole batches of that size.
        None => verify::sample_inputs(model, a.samples.max(1).next_multiple_of(imp.fixed_batch.unwrap_or(1)), a.seed),
    };
    let ours = verify::run_runtime(&blob, &inputs)?;
    let want =
        run_ort(&bytes, &imp, &inputs).with_context(|| format!("ONNX Runtime could not run {}", a.model.display()))?;
    let cmp = verify::compare("onnxruntime", &ours, &want);
    let n = inputs.len() / in_len.max(1);
    if !cmp.ok {
        bail!(
            "the imported model differs from ONNX Runtime on {} (max abs {:.3e}, max rel {:.3e}, tolerance {:e} abs + rel) on {n} samples: nothing written",
            a.model.display(),
            cmp.max_abs,
            cmp.max_rel,
            F32_PARITY
        );
    }
    let report = report(&a, &imp, n, &cmp);
    let files = [
        (a.out.join(format!("{name}.emb")), blob),
        (a.out.join(format!("{name}.rs")), rust.into_bytes()),
        (a.out.join(format!("{name}.report.md")), report.into_bytes()),
    ];
    write_all(&a.out, &files)?;
    println!(
        "imported {} as {name}: {} layers, verified against ONNX Runtime on {n} samples (max abs {:.3e})",
        a.model.display(),
        model.layers.len(),
        cmp.max_abs
    );
    for (p, _) in &files {
        println!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads `--input`: ember's layout, or the ONNX input's (then reordered).
fn read_inputs(p: &Path, imp: &Imported) -> anyhow::Result<Vec<f32>> {
    let (shape, data) = npy::read_npy(p).with_context(|| format!("cannot read {}", p.display()))?;
    let ember: Vec<usize> = imp.model.input.dims.as_slice().iter().map(|&d| d as usize).collect();
    let in_len: usize = ember.iter().product();
    if shape.len() >= 2 && shape[1..] == ember[..]
        || shape.len() == 2 && shape[1] == in_len && imp.input_layout == "same"
    {
        return Ok(data);
    }
    if shape.len() >= 2 && shape[1..] == imp.onnx_input_dims[..] {
        return Ok(data.chunks(in_len).flat_map(|s| imp.from_onnx_input(s)).collect());
    }
    bail!(
        "{}: shape {shape:?} is neither [batch, {ember:?}] (ember's layout) nor [batch, {:?}] (the ONNX input's)",
        p.display(),
        imp.onnx_input_dims
    )
}

/// Runs the ONNX file on ONNX Runtime; returns its outputs in ember's order.
fn run_ort(onnx: &[u8], imp: &Imported, inputs: &[f32]) -> anyhow::Result<Vec<f32>> {
    let in_len = imp.model.input.dims.elements();
    let n = inputs.len() / in_len.max(1);
    let onnx_in: Vec<f32> = inputs.chunks(in_len).flat_map(|s| imp.to_onnx_input(s)).collect();
    // A model exported with a fixed batch runs in batches of that size.
    let fixed = imp.fixed_batch.unwrap_or(n);
    let fixed = if fixed == 0 || !n.is_multiple_of(fixed) { 1 } else { fixed };
    let mut ort = OrtModel::load(onnx, &imp.onnx_input_dims, fixed)?;
    let mut out = Vec::with_capacity(n * imp.output_order.len());
    for chunk in onnx_in.chunks(fixed * in_len) {
        let y = ort.run(chunk)?;
        let mut dims = imp.onnx_output_dims.clone();
        dims[imp.output_batch_axis] = fixed;
        if y.len() != dims.iter().product::<usize>() {
            bail!("ONNX Runtime gave {} values, expected {dims:?}", y.len());
        }
        for s in split_batch(&y, &dims, imp.output_batch_axis) {
            out.extend(imp.from_onnx_output(&s));
        }
    }
    Ok(out)
}

/// Writes every file to a temporary file first, then renames them all; on
/// any error removes what it wrote.
fn write_all(dir: &Path, files: &[(PathBuf, Vec<u8>)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut temps = Vec::new();
    let result = (|| {
        for (p, bytes) in files {
            let t = temp_path(p);
            temps.push(t.clone());
            std::fs::write(&t, bytes).with_context(|| format!("cannot write {}", p.display()))?;
        }
        let mut done = Vec::new();
        for ((p, _), t) in files.iter().zip(&temps) {
            if let Err(e) = commit(t, p) {
                for d in &done {
                    let _ = std::fs::remove_file(d);
                }
                return Err(anyhow::anyhow!("cannot write {}: {e}", p.display()));
            }
            done.push(p.clone());
        }
        Ok(())
    })();
    if result.is_err() {
        for t in &temps {
            let _ = std::fs::remove_file(t);
        }
    }
    result
}

/// The verification report, in Markdown.
fn report(a: &ImportArgs, imp: &Imported, n: usize, cmp: &verify::Comparison) -> String {
    let m = &imp.model;
    let mut s = format!("# Import of `{}`\n\n", a.model.display());
    let _ = writeln!(
        s,
        "Model `{}`: {} layers, {} parameters.\n",
        m.name,
        m.layers.len(),
        m.params.iter().map(|t| t.data.len()).sum::<usize>()
    );
    let _ = writeln!(
        s,
        "- ONNX input (one sample): {:?}; ember input: {:?} ({})",
        imp.onnx_input_dims,
        m.input.dims.as_slice(),
        match imp.input_layout.as_str() {
            "same" => "the same order".to_string(),
            "NCHW" =>
                "channels-last: the transpose of the ONNX NCHW input (`onnx_input_layout = NCHW` in the blob metadata)"
                    .to_string(),
            "NCL" => "channels-last: the transpose of the ONNX NCL input (`onnx_input_layout = NCL`)".to_string(),
            other => format!("`onnx_input_layout = {other}`"),
        }
    );
    let _ = writeln!(
        s,
        "- ember output: {:?} ({})",
        m.output().dims.as_slice(),
        if imp.output_layout == "same" {
            "the ONNX output's order".to_string()
        } else {
            format!("`onnx_output_layout = {}`", imp.output_layout)
        }
    );
    let _ = writeln!(s, "\n## Nodes\n");
    for step in &imp.steps {
        let _ = writeln!(s, "- {step}");
    }
    let _ = writeln!(s, "\n## Layers\n\n| # | kind | input | output |\n|---|---|---|---|");
    for (i, l) in m.layers.iter().enumerate() {
        let _ = writeln!(s, "| {i} | {} | {} | {:?} |", l.kind_name(), l.input_len(), l.output_dims().as_slice());
    }
    let inputs = match &a.input {
        Some(p) => format!("the samples of `{}`", p.display()),
        None => format!("{n} random samples (seed {}, uniform in [-2, 2] or below the vocabulary)", a.seed),
    };
    let _ = writeln!(
        s,
        "\n## Verification\n\nHost runtime on the blob against ONNX Runtime on the ONNX file, on {inputs}: \
         max abs {:.3e}, max rel {:.3e}, tolerance `F32_PARITY` = {:e} (abs + rel): **{}**.",
        cmp.max_abs,
        cmp.max_rel,
        F32_PARITY,
        if cmp.ok { "ok" } else { "FAIL" }
    );
    s
}
