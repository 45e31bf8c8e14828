//! Keras's `fit` extras seen from outside: the model summary against the
//! typed runtime's `ACTIVATION_BYTES` and the trainer's own parameter
//! tensors, `history.csv` against the history of the run (also across a
//! resume), and the summary at the end of `report.md`.

use std::path::PathBuf;

use ember_export::ModelSummary;
use ember_export::summary::activation_floats;
use ember_nn::checkpoint::Checkpoint;
use ember_nn::fit::History;
use ember_nn::network::Network;
use ember_runtime::{
    Bidirectional, Chain, Dense, Embedding, EntityDot, Gru, Last, Lstm, Recurrent, Relu, Sequences, Sigmoid, SimpleRnn,
    Tanh, TypedModel,
};
use ember_train::config::ModelConfig;
use ember_train::presets;
use ember_train::train::{TrainOptions, train};

fn specs(name: &str) -> Vec<ember_runtime::LayerSpec> {
    presets::preset(name).expect("a preset").layer_specs().expect("its layers")
}

fn summary_bytes(specs: &[ember_runtime::LayerSpec]) -> usize {
    4 * specs.iter().map(activation_floats).max().unwrap_or(0)
}

type LstmPreset = Chain<Embedding<5000, 32, 400>, Chain<Recurrent<Lstm<32, 100>, 400, Last>, Dense<100, 1, Sigmoid>>>;
type GruPreset = Chain<Embedding<5000, 32, 400>, Chain<Recurrent<Gru<32, 100>, 400, Last>, Dense<100, 1, Sigmoid>>>;
type BirnnPreset = Chain<
    Embedding<5000, 32, 400>,
    Chain<
        Bidirectional<SimpleRnn<32, 100>, 400, Sequences, 200>,
        Chain<Recurrent<SimpleRnn<200, 50>, 400, Last>, Dense<50, 1, Sigmoid>>,
    >,
>;
type RnnDensePreset = Chain<
    Embedding<5000, 32, 400>,
    Chain<Recurrent<SimpleRnn<32, 100>, 400, Last>, Chain<Dense<100, 50, Tanh>, Dense<50, 1, Sigmoid>>>,
>;
/// The entity preset with one category per column (as before data is loaded).
type EntityPreset = Chain<EntityDot<3, 3, 10>, Dense<1, 1, Relu>>;

#[test]
fn activation_ram_is_the_typed_runtimes() {
    let cases = [
        ("lstm", LstmPreset::ACTIVATION_BYTES),
        ("gru", GruPreset::ACTIVATION_BYTES),
        ("birnn", BirnnPreset::ACTIVATION_BYTES),
        ("rnn-dense", RnnDensePreset::ACTIVATION_BYTES),
        ("entity-embedding", EntityPreset::ACTIVATION_BYTES),
    ];
    for (name, typed) in cases {
        assert_eq!(summary_bytes(&specs(name)), typed, "{name}");
    }
    let conv = specs("conv-ae");
    let k = presets::preset("conv-ae").unwrap().encoder_layers.expect("an encoder");
    assert_eq!(summary_bytes(&conv[..k]), ember_conformance::ConvAeEncoder::ACTIVATION_BYTES, "conv-ae encoder");
}

#[test]
fn parameter_counts_are_the_trainers_for_every_preset() {
    for p in presets::PRESETS {
        let cfg = presets::preset(p.name).unwrap();
        let specs = cfg.layer_specs().unwrap();
        let net = Network::init(&cfg.name, cfg.input_spec().unwrap(), &specs, 1);
        let model = net.to_model().unwrap();
        let s = ModelSummary::of(&model).unwrap();
        let tensors: Vec<usize> = net.param_values().iter().map(Vec::len).collect();
        assert_eq!(s.params, tensors.iter().sum::<usize>(), "{}", p.name);
        let per_layer: Vec<usize> = net.layers.iter().map(|l| l.params().iter().map(|p| p.len()).sum()).collect();
        assert_eq!(s.layers.iter().map(|l| l.params).collect::<Vec<_>>(), per_layer, "{}", p.name);
        assert_eq!(s.blob_bytes, model.to_blob().unwrap().len(), "{}", p.name);
        assert!(s.blob_bytes > 4 * s.params, "{}: the blob holds every weight", p.name);
        let table = s.table();
        assert!(table.contains(&format!("Total params: {}", s.params)), "{table}");
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fit-extras").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Parses `history.csv` back, checking the header, every value exactly.
fn assert_csv_is(path: &std::path::Path, h: &History) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("epoch,loss,val_loss,accuracy,val_accuracy,lr,seconds"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), h.epochs.len());
    let opt = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
    for (r, e) in rows.iter().zip(&h.epochs) {
        assert_eq!(r.len(), 7);
        assert_eq!(r[0].parse::<usize>().unwrap(), e.epoch);
        assert_eq!(r[1].parse::<f64>().unwrap(), e.loss);
        assert_eq!(opt(&r[2]), e.val_loss);
        assert_eq!(opt(&r[3]), e.accuracy);
        assert_eq!(opt(&r[4]), e.val_accuracy);
        assert_eq!(r[5].parse::<f64>().unwrap(), e.lr);
        assert_eq!(r[6].parse::<f64>().unwrap(), e.seconds);
    }
}

#[test]
fn history_csv_matches_the_history_across_a_resume() {
    let out = scratch("blobs");
    let mut cfg: ModelConfig = presets::preset("blobs-ae").unwrap();
    cfg.train.epochs = 2;
    cfg.train.lr_schedule =
        Some(ember_train::config::LrScheduleConfig { kind: "step".into(), every: Some(1), ..Default::default() });
    let opts = TrainOptions { out: out.clone(), ..TrainOptions::default() };
    let first = train(&cfg, &opts).unwrap();
    assert_csv_is(&out.join("history.csv"), &first.history);
    assert!(first.files.contains(&out.join("history.csv")));

    cfg.train.epochs = 4;
    let resumed = train(&cfg, &TrainOptions { resume: true, ..opts }).unwrap();
    assert_eq!(resumed.history.epochs.len(), 4);
    assert_eq!(resumed.history.epochs[..2], first.history.epochs[..]);
    assert_csv_is(&out.join("history.csv"), &resumed.history);
    let lrs: Vec<f64> = resumed.history.epochs.iter().map(|e| e.lr).collect();
    let want: Vec<f64> = (0..4).map(|e| (0.01f64 * 0.5f64.powi(e)) as f32 as f64).collect();
    for (g, w) in lrs.iter().zip(&want) {
        assert!((g - w).abs() < 1e-9, "{lrs:?} vs {want:?}");
    }

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let table = ModelSummary::of(&resumed.model).unwrap().table();
    assert!(report.ends_with(&format!("## Model summary\n\n```text\n{table}```\n")), "{report}");
}

/// A format 2 checkpoint (before schedules): `ember train blobs-ae --epochs 3`
/// at commit bb52709, the last ember writing format 2.
const V2_CHECKPOINT: &[u8] = include_bytes!("../../fixtures/blobs_ae_3_epochs.v2.ckpt");

#[test]
fn a_format_2_checkpoint_resumes_exactly() {
    assert!(V2_CHECKPOINT.starts_with(b"EMBCKPT2"));
    let mut cfg = presets::preset("blobs-ae").unwrap();
    cfg.train.epochs = 5;
    let out = scratch("v2");
    std::fs::write(out.join("checkpoint.bin"), V2_CHECKPOINT).unwrap();
    let resumed = train(&cfg, &TrainOptions { out: out.clone(), resume: true, ..TrainOptions::default() }).unwrap();
    let straight_out = scratch("v2-straight");
    let straight = train(&cfg, &TrainOptions { out: straight_out.clone(), ..TrainOptions::default() }).unwrap();
    let losses = |h: &History| h.epochs.iter().map(|e| (e.loss, e.val_loss, e.lr)).collect::<Vec<_>>();
    assert_eq!(losses(&resumed.history), losses(&straight.history));
    for f in ["blobs_ae.emb", "blobs_ae_encoder.emb"] {
        assert_eq!(std::fs::read(out.join(f)).unwrap(), std::fs::read(straight_out.join(f)).unwrap(), "{f}");
    }
    // Today's trainer gives the previous ember's weights: a straight 3-epoch
    // run ends with the best weights that ember saved.
    let ck = Checkpoint::from_bytes(V2_CHECKPOINT, std::path::Path::new("v2")).unwrap();
    let (_, saved_best) = ck.best.expect("best weights");
    cfg.train.epochs = 3;
    let three = train(&cfg, &TrainOptions { out: scratch("v2-three"), ..TrainOptions::default() }).unwrap();
    let params: Vec<Vec<f32>> = three.model.params.iter().map(|t| t.data.clone()).collect();
    assert_eq!(params, saved_best, "the same weights, bit for bit");
    // The checkpoint written after the resume is of today's format.
    assert!(std::fs::read(out.join("checkpoint.bin")).unwrap().starts_with(b"EMBCKPT3"));
}

#[test]
fn min_delta_from_the_model_file_stops_early() {
    // blobs-ae's validation loss falls every epoch for its first epochs, by
    // far less than 1000: with min_delta = 1000 no epoch after the first
    // counts as an improvement, and patience 2 ends the run after epoch 3.
    let mut cfg = presets::preset("blobs-ae").unwrap();
    cfg.train.epochs = 6;
    cfg.train.patience = Some(2);
    let plain = train(&cfg, &TrainOptions { out: scratch("min-delta-0"), ..TrainOptions::default() }).unwrap();
    assert_eq!(plain.history.epochs.len(), 6);
    assert!(!plain.history.stopped_early);
    let vals: Vec<f64> = plain.history.epochs.iter().filter_map(|e| e.val_loss).collect();
    assert!(vals.windows(2).all(|w| w[1] < w[0] && w[0] - w[1] < 1000.0), "{vals:?}");
    cfg.train.min_delta = 1000.0;
    let h = train(&cfg, &TrainOptions { out: scratch("min-delta-1000"), ..TrainOptions::default() }).unwrap().history;
    assert!(h.stopped_early && h.epochs.len() == 3, "{h:?}");
    assert_eq!(h.best_epoch, Some(1), "restore_best puts back epoch 1");
}
