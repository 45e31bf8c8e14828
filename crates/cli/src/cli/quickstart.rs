//! `ember quickstart`: the main job, end to end on built-in data.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use ember_board_host::{self as board, Board};
use ember_export::fsutil::write_bytes;
use ember_train::presets;
use ember_train::train::{TrainOptions, train};
use ember_verify as verify;

use super::{verify_all, verify_pairs};

/// Arguments of `ember quickstart`.
#[derive(clap::Args)]
pub struct QuickstartArgs {
    /// Output folder.
    #[arg(long, default_value = "out/quickstart")]
    out: PathBuf,
    /// Epochs of the MNIST autoencoder.
    #[arg(long, default_value_t = 20)]
    mnist_epochs: usize,
    /// Epochs of the convolutional autoencoder.
    #[arg(long, default_value_t = 5)]
    conv_epochs: usize,
    /// Do not build and run the QEMU boards.
    #[arg(long)]
    no_boards: bool,
}

/// Trains, exports, verifies and runs on the boards; prints a summary.
pub fn cmd_quickstart(a: QuickstartArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let mut summary = Vec::new();
    let mut dirs = Vec::new();
    let models = [
        ("blobs-ae", None),
        ("mnist-ae", Some(a.mnist_epochs)),
        ("bag-of-embeddings", None),
        ("conv-ae", Some(a.conv_epochs)),
        ("ngram-embedding", None),
        ("entity-embedding", None),
    ];
    for (name, epochs) in models {
        let mut cfg = presets::preset(name).context("built-in preset")?;
        if let Some(e) = epochs {
            cfg.train.epochs = e;
        }
        let out = a.out.join(name);
        println!("== training {name} ({} epochs) into {}", cfg.train.epochs, out.display());
        let t = Instant::now();
        let opts =
            TrainOptions { data: None, out: out.clone(), resume: false, observer: Some(super::progress::observer) };
        let s = train(&cfg, &opts)?;
        let secs = t.elapsed().as_secs_f64();
        let pca = s.pca_mse.map_or(String::new(), |p| format!(", PCA {p:.5}"));
        summary.push(match &s.classification {
            Some(c) => {
                format!("{name:<10} trained in {secs:5.1} s: accuracy {:.2} on its {} phrases", c.accuracy, c.samples)
            }
            None if !s.summary.is_empty() => format!("{name:<10} trained in {secs:5.1} s: {}", s.summary.join("; ")),
            None => format!("{name:<10} trained in {secs:5.1} s: validation MSE {:.5}{pca}", s.val_mse),
        });
        dirs.push(out);
    }

    println!("== verifying every exported model (ember runtime vs trainer, blob round trip, tract, ONNX Runtime)");
    let mut pairs = Vec::new();
    for d in &dirs {
        pairs.extend(verify_pairs(d, None)?);
    }
    let verified = verify_all(&pairs, 16, 7)?;
    summary.push(format!(
        "verify     {} models: {}",
        pairs.len(),
        if verified { "all within tolerance" } else { "MISMATCH" }
    ));

    if a.no_boards {
        summary.push("boards     skipped (--no-boards)".into());
    } else if let Err(why) = board::checkout_available() {
        // An installed `ember` without the source checkout: no board packages to build.
        summary.push(format!("boards     skipped: {why}"));
    } else {
        let enc_blob = dirs[1].join("mnist_ae_encoder.emb");
        let bag_blob = dirs[2].join("bag_of_embeddings.emb");
        let conv_blob = dirs[3].join("conv_ae_encoder.emb");
        for b in [Board::CortexM4, Board::Riscv32] {
            summary.push(run_on_board(b, "MNIST encoder", &enc_blob, &a.out)?);
            summary.push(run_on_board(b, "conv encoder", &conv_blob, &a.out)?);
            summary.push(classify_on_board(b, &bag_blob, &a.out)?);
            summary.push(embeddings_on_board(b, &dirs[4].join("ngram_embedding.emb"), &a.out)?);
            summary.push(embeddings_on_board(b, &dirs[5].join("entity_embedding.emb"), &a.out)?);
        }
    }
    println!("\n== summary ({:.1} s)", start.elapsed().as_secs_f64());
    for line in &summary {
        println!("{line}");
    }
    println!("outputs in {}", a.out.display());
    Ok(if verified { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Runs an image encoder (`what`) on four digits on board `b` and compares
/// with the host runtime.
fn run_on_board(b: Board, what: &str, blob_path: &std::path::Path, out: &std::path::Path) -> anyhow::Result<String> {
    if let Err(why) = board::qemu_available(b) {
        return Ok(format!("{:<10} skipped: {why}", b.name()));
    }
    println!("== building and running the {what} on {} under QEMU", b.name());
    let blob = std::fs::read(blob_path)?;
    let model = ember_export::Model::from_blob(&blob)?;
    let work = out.join("boards").join(b.name()).join(what.replace(' ', "_"));
    let model_rs = work.join("model.rs");
    write_bytes(&model_rs, model.to_rust("model.emb")?.as_bytes())?;
    let ds = ember_data::bundled_mnist()?;
    // One digit of each of four classes (the CSV holds 500 of each, in order).
    let inputs: Vec<f32> = [0, 1, 2, 3].iter().flat_map(|c| ds.sample(c * 500).to_vec()).collect();
    let run = board::run_board(b, blob_path, &model_rs, &inputs, &work)?;
    let host = verify::run_runtime(&blob, &inputs)?;
    let got: Vec<f32> = run.outputs.concat();
    let cmp = verify::compare("board", &got, &host);
    if !cmp.ok {
        anyhow::bail!("{} outputs differ from the host runtime (max abs {:.3e})", b.name(), cmp.max_abs);
    }
    let instr = run.instructions.iter().copied().max().unwrap_or(0);
    Ok(format!(
        "{:<10} {what}: 4 digits match the host (max abs {:.1e}); {} instructions per inference; flash {} B (.text {} + .rodata {}), RAM {} B (.data + .bss), activations {} B",
        b.name(),
        cmp.max_abs,
        instr,
        run.sizes.text + run.sizes.rodata,
        run.sizes.text,
        run.sizes.rodata,
        run.sizes.data + run.sizes.bss,
        run.activation_bytes
    ))
}

/// Phrases the quickstart classifies on the boards from raw text.
const PHRASES: [&str; 3] = ["Good work!", "poor effort", "Could have done better."];

fn classify_on_board(b: Board, blob_path: &std::path::Path, out: &std::path::Path) -> anyhow::Result<String> {
    if let Err(why) = board::qemu_available(b) {
        return Ok(format!("{:<10} skipped: {why}", b.name()));
    }
    println!("== classifying raw text with the bag-of-embeddings model on {} (tokenized on the device)", b.name());
    let blob = std::fs::read(blob_path)?;
    let model = ember_export::Model::from_blob(&blob)?;
    let work = out.join("boards").join(format!("{}-text", b.name()));
    let model_rs = work.join("model.rs");
    write_bytes(&model_rs, model.to_rust("model.emb")?.as_bytes())?;
    let texts: Vec<String> = PHRASES.iter().map(|t| t.to_string()).collect();
    let run = board::run_board_with_texts(b, blob_path, &model_rs, &[], &texts, &work)?;
    let aligned = ember_export::AlignedBytes::new(&blob);
    let parsed = ember_runtime::Blob::parse(&aligned).map_err(|e| anyhow::anyhow!("{e}"))?;
    let tok = ember_runtime::Tokenizer::from_blob(&parsed).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut lines = Vec::new();
    for (text, r) in PHRASES.iter().zip(&run.texts) {
        let mut ids = vec![0u32; tok.spec().max_len as usize];
        tok.encode(text, &mut ids).map_err(|e| anyhow::anyhow!("{e}"))?;
        let host = verify::run_runtime(&blob, &ids.iter().map(|&i| i as f32).collect::<Vec<_>>())?;
        if r.ids != ids || !verify::compare("board", &r.output, &host).ok {
            anyhow::bail!(
                "{}: {text:?} gives ids {:?} and {:?} on the board, {ids:?} and {host:?} on the host",
                b.name(),
                r.ids,
                r.output
            );
        }
        lines.push(format!("{text:?} p={:.2}", r.output[0]));
    }
    Ok(format!(
        "{:<10} raw text classified on the device, ids and outputs match the host: {}",
        b.name(),
        lines.join(", ")
    ))
}

/// Rows of `names` (the blob's `vocab` asset) as model inputs.
fn rows_of(names: &[String], wanted: &[&str]) -> anyhow::Result<Vec<f32>> {
    wanted
        .iter()
        .map(|w| {
            let r = names.iter().position(|n| n == w).with_context(|| format!("{w:?} is not in the model"))?;
            Ok(r as f32)
        })
        .collect()
}

/// Runs a word-embedding or entity model on board `b`: predictions (next
/// words, or masses from categories) and most-similar queries answered on
/// the device from the blob, compared bit for bit with the host.
fn embeddings_on_board(b: Board, blob_path: &std::path::Path, out: &std::path::Path) -> anyhow::Result<String> {
    if let Err(why) = board::qemu_available(b) {
        return Ok(format!("{:<10} skipped: {why}", b.name()));
    }
    let blob = std::fs::read(blob_path)?;
    let model = ember_export::Model::from_blob(&blob)?;
    let names = ember_train::embed::row_names(&model)?;
    let entity = matches!(model.layers.first(), Some(ember_runtime::LayerSpec::EntityDot { .. }));
    let (what, inputs, queries) = if entity {
        // Category names sit in column order: species, island, sex.
        let inputs = [["Adelie", "Dream", "female"], ["Gentoo", "Biscoe", "male"]]
            .iter()
            .map(|r| rows_of(&names, r))
            .collect::<anyhow::Result<Vec<_>>>()?
            .concat();
        (
            "entity model",
            inputs,
            vec!["species=Adelie".to_string(), "species=Gentoo island=Biscoe".into(), "sex=male -sex=female".into()],
        )
    } else {
        let inputs = [["the", "cat", "eats"], ["we", "found", "some"]]
            .iter()
            .map(|r| rows_of(&names, r))
            .collect::<anyhow::Result<Vec<_>>>()?
            .concat();
        ("word model", inputs, vec!["cat".to_string(), "bread".into(), "cat -dog bread".into()])
    };
    println!("== running the {what} on {} and answering most-similar queries there", b.name());
    let work = out.join("boards").join(b.name()).join(&model.name);
    let model_rs = work.join("model.rs");
    write_bytes(&model_rs, model.to_rust("model.emb")?.as_bytes())?;
    let load = board::Workload { inputs: &inputs, texts: &[], queries: &queries };
    let run = board::run_board_workload(b, blob_path, &model_rs, &load, &work)?;
    let host = verify::run_runtime(&blob, &inputs)?;
    let cmp = verify::compare("board", &run.outputs.concat(), &host);
    if !cmp.ok || cmp.max_abs != 0.0 {
        anyhow::bail!("{} {what} outputs differ from the host runtime (max abs {:.3e})", b.name(), cmp.max_abs);
    }
    let aligned = ember_export::AlignedBytes::new(&blob);
    let parsed = ember_runtime::Blob::parse(&aligned).map_err(|e| anyhow::anyhow!("{e}"))?;
    board::check_queries(&run, &queries, |q| ember_train::embed::answer_query(&parsed, q))?;
    let first = |k: usize| {
        run.queries[k].neighbours.iter().take(3).map(|&(r, _)| names[r as usize].as_str()).collect::<Vec<_>>().join(" ")
    };
    let per_query: Vec<String> = run.queries.iter().map(|q| q.instructions.to_string()).collect();
    Ok(format!(
        "{:<10} {what}: predictions and {} queries match the host bit for bit (`{}` -> {}); {} instructions per prediction, {} per query; flash {} B",
        b.name(),
        queries.len(),
        queries[0],
        first(0),
        run.instructions.iter().copied().max().unwrap_or(0),
        per_query.join("/"),
        run.sizes.flash()
    ))
}
