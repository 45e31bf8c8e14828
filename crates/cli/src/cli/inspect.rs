//! `ember inspect MODEL.emb`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ember_export::AlignedBytes;
use ember_runtime::format::Blob;
use ember_runtime::qspec::QuantMode;

/// Arguments of `ember inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The blob.
    model: PathBuf,
}

/// Prints the header, tensor table, sizes and CRC of a blob.
pub fn cmd_inspect(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let aligned = AlignedBytes::new(&bytes);
    let blob = Blob::parse(&aligned).map_err(|e| anyhow::anyhow!("{}: {e}", a.model.display()))?;
    let h = blob.header();
    let crc = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().expect("4 bytes"));
    println!("file      {} ({} bytes)", a.model.display(), bytes.len());
    println!("format    EMBR version {} , CRC-32 {crc:08x} (ok)", blob.version());
    println!("model     {}", h.name);
    println!("input     {:?} {:?} range {:?}", h.input.kind, h.input.dims.as_slice(), h.input.range);
    println!("output    {:?} {:?}", h.output.kind, h.output.dims.as_slice());
    println!("layers    {}", h.layers.len());
    for (i, l) in h.layers.iter().enumerate() {
        let q = h.layer_quant(i);
        let mode = match q.mode {
            QuantMode::Float => String::new(),
            QuantMode::WeightsOnly => "  weights-only (int8 weights, f32 activations)".into(),
            QuantMode::Int8 => format!(
                "  int8 (in scale {} zp {}, out scale {} zp {})",
                q.input.scale, q.input.zero_point, q.output.scale, q.output.zero_point
            ),
        };
        println!(
            "  {i:>2}  {:<8} {:>6} -> {:<6} {}{mode}",
            l.kind_name(),
            l.input_len(),
            l.output_len(),
            l.activation().name()
        );
    }
    let mut weight_bytes = 0;
    println!("tensors   {}", h.tensors.len());
    for t in &h.tensors {
        weight_bytes += t.byte_len();
        println!(
            "  {:<24} {:?} {:<14} offset {:>8}  {:>8} bytes",
            t.name,
            t.dtype,
            format!("{:?}", t.dims.as_slice()),
            t.offset,
            t.byte_len()
        );
    }
    if let Some(t) = &h.tokenizer {
        println!("tokenizer {t:?}");
    }
    for (k, v) in &h.metadata {
        println!("meta      {k} = {v}");
    }
    println!(
        "sizes     weights {weight_bytes} bytes, header {} bytes, peak activations {} bytes (f32, in + out of the widest layer)",
        u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")),
        4 * h.layers.iter().map(|l| l.input_len() + l.output_len()).max().unwrap_or(0)
    );
    Ok(ExitCode::SUCCESS)
}
