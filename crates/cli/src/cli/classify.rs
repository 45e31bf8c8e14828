//! `ember classify MODEL.emb "some text" ...`: raw text through the model's
//! own tokenizer (the same no_std code a board runs) and the host runtime.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use ember_export::AlignedBytes;
use ember_runtime::{Blob, Tokenizer};
use ember_verify as verify;

/// Arguments of `ember classify`.
#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// The blob of a text classifier.
    model: PathBuf,
    /// One or more texts to classify.
    #[arg(required = true)]
    texts: Vec<String>,
    /// Also print the token ids.
    #[arg(long)]
    ids: bool,
}

/// Classifies each text and prints the class probabilities.
pub fn cmd_classify(a: ClassifyArgs) -> anyhow::Result<ExitCode> {
    let raw = std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let bytes = AlignedBytes::new(&raw);
    let blob =
        Blob::parse(&bytes).map_err(|e| anyhow::anyhow!("{} is not a valid ember blob: {e}", a.model.display()))?;
    let tok = Tokenizer::from_blob(&blob)
        .map_err(|e| anyhow::anyhow!("{}: {e}: it cannot classify raw text", a.model.display()))?;
    let classes: Vec<String> = match blob.header().meta("classes") {
        Some(c) => c.split('\n').map(str::to_string).collect(),
        None => Vec::new(),
    };
    let mut inputs = Vec::new();
    for (i, text) in a.texts.iter().enumerate() {
        let mut ids = vec![0u32; tok.spec().max_len as usize];
        let words = tok.encode(text, &mut ids).map_err(|e| anyhow::anyhow!("text {} ({text:?}): {e}", i + 1))?;
        if a.ids {
            println!("ids of text {}: {ids:?} ({words} words)", i + 1);
        }
        inputs.extend(ids.iter().map(|&id| id as f32));
    }
    let outputs = verify::run_runtime(&raw, &inputs)?;
    let width = outputs.len() / a.texts.len();
    let name = |k: usize| classes.get(k).cloned().unwrap_or_else(|| format!("class {k}"));
    for (text, out) in a.texts.iter().zip(outputs.chunks(width)) {
        let line = if width == 1 {
            let (k, p) = if out[0] >= 0.5 { (1, out[0]) } else { (0, 1.0 - out[0]) };
            format!("{} (p = {p:.3}; output {:.6})", name(k), out[0])
        } else {
            let k = ember_nn::metrics::argmax(out);
            format!("{} (p = {:.3})", name(k), out[k])
        };
        println!("{line}\t{text}");
    }
    if outputs.iter().any(|v| !v.is_finite()) {
        bail!("the model produced a non-finite output");
    }
    Ok(ExitCode::SUCCESS)
}
