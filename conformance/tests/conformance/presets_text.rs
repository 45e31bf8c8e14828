//! Every text preset: its model (fresh seeded weights) gives the same outputs
//! on the trainer, the host runtime, the runtime after a blob round trip,
//! tract and ONNX Runtime (`ember_verify`, within `F32_PARITY`), and
//! exports a typed Rust model; the classification report matches values
//! worked out by hand from scikit-learn's definitions.

use ember_nn::metrics::ClassificationReport;
use ember_nn::network::Network;
use ember_train::presets;
use ember_verify::{format_report, sample_inputs, verify};

const TEXT_PRESETS: [&str; 7] = ["bag-of-embeddings", "rnn", "rnn-dense", "rnn2", "birnn", "lstm", "gru"];

#[test]
fn every_text_preset_agrees_on_every_backend() {
    for name in TEXT_PRESETS {
        let cfg = presets::preset(name).expect("preset");
        let specs = cfg.layer_specs().expect("specs");
        let net = Network::init(cfg.name.clone(), cfg.input_spec().expect("input"), &specs, 5);
        let model = net.to_model().expect("model");
        let (blob, onnx) = (model.to_blob().expect("blob"), model.to_onnx().expect("onnx"));
        let x = sample_inputs(&model, 3, 9);
        assert!(x.iter().all(|v| v.fract() == 0.0 && *v >= 0.0), "{name}: inputs are token ids");
        let report = verify(&blob, &onnx, &x).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        println!("{}", format_report(&report));
        assert!(report.ok(), "{name}:\n{}", format_report(&report));
        assert_eq!(report.comparisons.len(), 4, "{name}: trainer, round trip, tract, ORT");
        let rust = model.to_rust("model.emb").expect("rust type");
        assert!(rust.contains("ember_runtime::Embedding<"), "{name}: {rust}");
    }
}

#[test]
fn classification_report_matches_hand_computed_values() {
    // truth 0 0 1 1 1, predicted 0 1 1 1 0:
    // class a: tp 1, predicted 2, support 2 -> P 1/2, R 1/2, F1 1/2
    // class b: tp 2, predicted 3, support 3 -> P 2/3, R 2/3, F1 2/3
    // class c: no sample, never predicted -> 0, 0, 0 (scikit-learn's zero_division=0)
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let r = ClassificationReport::new(&[0, 0, 1, 1, 1], &[0, 1, 1, 1, 0], &names);
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    close(r.classes[0].precision, 0.5);
    close(r.classes[1].recall, 2.0 / 3.0);
    close(r.classes[1].f1, 2.0 / 3.0);
    assert_eq!((r.classes[0].support, r.classes[1].support, r.classes[2].support), (2, 3, 0));
    close(r.classes[2].f1, 0.0);
    close(r.accuracy, 0.6);
    close(r.macro_avg.precision, (0.5 + 2.0 / 3.0) / 3.0);
    close(r.weighted_avg.precision, (0.5 * 2.0 + 2.0 / 3.0 * 3.0) / 5.0);
    close(r.weighted_avg.f1, 0.6);
    assert_eq!(r.confusion, vec![vec![1, 1, 0], vec![1, 2, 0], vec![0, 0, 0]]);
    let text = r.to_string();
    assert!(text.contains("precision") && text.contains("weighted avg") && text.contains("0.60"), "{text}");
    assert_eq!(ClassificationReport::predictions(&[0.2, 0.5, 0.9], 1), vec![0, 1, 1]);
    assert_eq!(ClassificationReport::predictions(&[0.1, 0.7, 0.2, 0.5, 0.3, 0.2], 3), vec![1, 0]);
}
