//! ONNX conformance: the backend node tests of the `onnx` Python package,
//! for every operator `ember import` supports, run through the importer
//! (`ember_export::import`) and the host runtime, compared with the tests'
//! own expected outputs.
//!
//! The `onnx` wheel ships the generators, not the data: the test first runs
//! `conformance/onnx_node/generate.py`, which writes the official layout
//! (`<case>/model.onnx`, `<case>/test_data_set_0/input_<j>.pb`,
//! `output_<j>.pb`) into the target folder.
//!
//! Node tests feed weights as graph inputs; ember imports constant weights.
//! So every input but the data is folded into an initializer, from the
//! test's own `input_<j>.pb`: the data is input 0, except for `Gather`, where
//! it is the indices (input 1) and the table is folded. A leading batch
//! dimension N runs as N samples. The recurrent tests' time-major data
//! `[T, N, I]` enters through a `Transpose` from `[N, T, I]` added in front
//! (ember samples are `[T, I]`).
//!
//! `conformance/onnx_node/allowlist.txt` lists every case of the supported
//! operators: `pass <case>` or `skip <case> <reason>`. The test fails if a
//! `pass` case fails, a `skip` case passes (move it to `pass`), or a case is
//! missing from the list. It prints the counts per operator and writes them
//! to `target/onnx-node-summary.txt` (`cargo xtask test` prints that file).
//! Tolerance: the node tests' own, `|got - want| <= 1e-7 + 1e-3 · |want|`
//! (`onnx.backend.test.case.node.expect`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ember_export::AlignedBytes;
use ember_export::import::{ImportOptions, import_onnx, split_batch};
use ember_export::onnx::proto::tensor_proto::DataType;
use ember_export::onnx::proto::{AttributeProto, ModelProto, NodeProto, TensorProto};
use ember_runtime::format::Blob;
use prost::Message;

/// The node tests' tolerances (`onnx.backend.test.case.node.expect`).
const RTOL: f64 = 1e-3;
const ATOL: f64 = 1e-7;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("conformance/ is in the workspace").to_path_buf()
}

/// Runs the generator into the target folder; returns `(case, op)` pairs.
fn generate() -> anyhow::Result<(PathBuf, Vec<(String, String)>)> {
    let python = ember_verify::backends::python()
        .map_err(|e| anyhow::anyhow!("{e}\n(the node tests need the `onnx` Python package: cargo xtask setup)"))?;
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("onnx-node");
    let script = workspace().join("conformance/onnx_node/generate.py");
    let status = std::process::Command::new(&python)
        .arg(&script)
        .arg(&out)
        .status()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !status.success() {
        bail!("{} {} failed", python.display(), script.display());
    }
    let index = std::fs::read_to_string(out.join("cases.txt"))?;
    let cases = index.lines().filter_map(|l| l.split_once(' ')).map(|(c, o)| (c.to_string(), o.to_string())).collect();
    Ok((out, cases))
}

fn tensor(path: &Path) -> anyhow::Result<TensorProto> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(TensorProto::decode(&bytes[..])?)
}

/// A tensor's values as `f32` (integers converted) and its dimensions.
fn values(t: &TensorProto) -> anyhow::Result<(Vec<usize>, Vec<f32>)> {
    let dims: Vec<usize> = t.dims.iter().map(|&d| d as usize).collect();
    let raw = &t.raw_data;
    let v: Vec<f32> = match DataType::try_from(t.data_type) {
        Ok(DataType::Float) if raw.is_empty() => t.float_data.clone(),
        Ok(DataType::Float) => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        Ok(DataType::Int64) if raw.is_empty() => t.int64_data.iter().map(|&x| x as f32).collect(),
        Ok(DataType::Int64) => {
            raw.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as f32).collect()
        }
        Ok(DataType::Int32) if raw.is_empty() => t.int32_data.iter().map(|&x| x as f32).collect(),
        Ok(DataType::Int32) => {
            raw.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32).collect()
        }
        other => bail!("element type {other:?}"),
    };
    Ok((dims, v))
}

/// Runs one case; `Err` says why it does not pass.
fn run_case(dir: &Path) -> anyhow::Result<()> {
    let mut model = ModelProto::decode(&std::fs::read(dir.join("model.onnx"))?[..])?;
    let data_dir = dir.join("test_data_set_0");
    let graph = model.graph.as_mut().context("no graph")?;
    let op = graph.node.first().map(|n| n.op_type.clone()).unwrap_or_default();
    let data = usize::from(op == "Gather" && graph.node.len() == 1);
    let mut data_input = None;
    let names: Vec<String> = graph.input.iter().map(|i| i.name.clone()).collect();
    for (j, name) in names.iter().enumerate() {
        let mut t = tensor(&data_dir.join(format!("input_{j}.pb")))?;
        if j == data {
            data_input = Some(t);
        } else {
            t.name = name.clone();
            graph.initializer.push(t);
        }
    }
    graph.input.retain(|i| !graph.initializer.iter().any(|t| t.name == i.name));
    let x = data_input.context("no data input")?;
    let (mut xd, mut xv) = values(&x)?;
    // Recurrent nodes read time-major [T, N, I]: feed [N, T, I] through a Transpose.
    let recurrent = matches!(op.as_str(), "RNN" | "LSTM" | "GRU") && graph.node.len() == 1;
    let layout0 = graph.node.first().is_some_and(|n| !n.attribute.iter().any(|a| a.name == "layout" && a.i == 1));
    if recurrent && layout0 && xd.len() == 3 {
        let (t, n, i) = (xd[0], xd[1], xd[2]);
        let input = &mut graph.input[0];
        let orig = input.name.clone();
        input.name = format!("{orig}.batch_first");
        if let Some(ember_export::onnx::proto::TypeProto {
            value: Some(ember_export::onnx::proto::type_proto::Value::TensorType(tt)),
            ..
        }) = input.r#type.as_mut()
            && let Some(s) = tt.shape.as_mut()
        {
            s.dim.swap(0, 1);
        }
        let perm = AttributeProto { name: "perm".into(), ints: vec![1, 0, 2], r#type: 7, ..Default::default() };
        let tr = NodeProto {
            input: vec![input.name.clone()],
            output: vec![orig],
            name: "to_time_major".into(),
            op_type: "Transpose".into(),
            attribute: vec![perm],
            ..Default::default()
        };
        graph.node.insert(0, tr);
        let mut v = vec![0f32; xv.len()];
        for tt in 0..t {
            for b in 0..n {
                let (src, dst) = ((tt * n + b) * i, (b * t + tt) * i);
                v[dst..dst + i].copy_from_slice(&xv[src..src + i]);
            }
        }
        (xd, xv) = (vec![n, t, i], v);
    }
    let imp = import_onnx(&model.encode_to_vec(), &ImportOptions { name: "case".into(), input_shape: None })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let blob = imp.model.to_blob()?;
    let aligned = AlignedBytes::new(&blob);
    let blob = Blob::parse(&aligned).map_err(|e| anyhow::anyhow!("blob: {e}"))?;
    let n = xd.first().copied().unwrap_or(1);
    let per = xv.len() / n.max(1);
    let (od, ov) = values(&tensor(&data_dir.join("output_0.pb"))?)?;
    let want = split_batch(&ov, &od, imp.output_batch_axis);
    if want.len() != n {
        bail!("expected output {od:?} does not split into {n} samples");
    }
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&blob)];
    for (s, w) in want.iter().enumerate() {
        let x = imp.from_onnx_input(&xv[s * per..(s + 1) * per]);
        let mut y = vec![0f32; imp.output_order.len()];
        ember_runtime::dynamic::forward(&blob, &x, &mut scratch, &mut y)
            .map_err(|e| anyhow::anyhow!("runtime: {e}"))?;
        let w = imp.from_onnx_output(w);
        for (k, (&g, &e)) in y.iter().zip(&w).enumerate() {
            let (g, e) = (g as f64, e as f64);
            if (g - e).abs().is_nan() || (g - e).abs() > ATOL + RTOL * e.abs() {
                bail!("sample {s} output {k}: {g} != expected {e}");
            }
        }
    }
    Ok(())
}

#[test]
fn onnx_node_tests_of_the_supported_operators() -> anyhow::Result<()> {
    let (dir, cases) = generate()?;
    let list_path = workspace().join("conformance/onnx_node/allowlist.txt");
    let list = std::fs::read_to_string(&list_path).unwrap_or_default();
    let mut allow: BTreeMap<String, Option<String>> = BTreeMap::new();
    for line in list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        match line.split_once(' ') {
            Some(("pass", case)) => allow.insert(case.trim().to_string(), None),
            Some(("skip", rest)) => {
                let (case, why) = rest.split_once(' ').unwrap_or((rest, ""));
                allow.insert(case.to_string(), Some(why.trim().to_string()))
            }
            _ => bail!("{}: bad line {line:?}", list_path.display()),
        };
    }
    let mut per_op: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut suggested = Vec::new();
    for (case, op) in &cases {
        let result = run_case(&dir.join(case));
        let counts = per_op.entry(op.clone()).or_default();
        counts[2] += 1;
        match (&result, allow.get(case)) {
            (Ok(()), Some(None)) => counts[0] += 1,
            (Err(_), Some(Some(_))) => counts[1] += 1,
            (Err(e), Some(None)) => problems.push(format!("{case} ({op}) is listed `pass` but fails: {e:#}")),
            (Ok(()), Some(Some(_))) => {
                problems.push(format!("{case} ({op}) is listed `skip` but passes: list it `pass`"))
            }
            (_, None) => problems.push(format!("{case} ({op}) is missing from {}", list_path.display())),
        }
        suggested.push(match result {
            Ok(()) => format!("pass {case}"),
            Err(e) => format!("skip {case} {}", format!("{e:#}").replace('\n', " ")),
        });
    }
    let mut summary =
        String::from("ONNX node tests (ember import + host runtime), per operator: passing / skipped / total\n");
    let (mut p, mut s, mut t) = (0, 0, 0);
    for (op, [pass, skip, total]) in &per_op {
        summary += &format!("  {op:<20} {pass:>3} / {skip:>3} / {total:>3}\n");
        (p, s, t) = (p + pass, s + skip, t + total);
    }
    summary += &format!("  {:<20} {p:>3} / {s:>3} / {t:>3}\n", "all");
    print!("{summary}");
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::write(target.join("onnx-node-summary.txt"), &summary)?;
    std::fs::write(target.join("onnx-node-allowlist.suggested.txt"), suggested.join("\n") + "\n")?;
    if !problems.is_empty() {
        bail!(
            "{} problem(s) (a suggested list is in target/onnx-node-allowlist.suggested.txt):\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
    Ok(())
}
