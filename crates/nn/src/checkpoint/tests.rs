//! Checkpoint files: round trip, and refusal of damaged, cut or old files.

use std::path::{Path, PathBuf};

use super::*;
use crate::history::EpochRecord;
use crate::loss::Loss;
use crate::optim::OptimizerConfig;
use crate::schedule::ScheduleState;

fn sample() -> Checkpoint {
    let config = FitConfig {
        epochs: 3,
        batch_size: 4,
        validation_split: 0.25,
        loss: Loss::Mse,
        optimizer: OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: false },
        l2: 0.0,
        seed: 7,
        early_stopping: None,
        accuracy: false,
        lr_schedule: None,
        class_weights: None,
    };
    let record = EpochRecord {
        epoch: 1,
        loss: 0.5,
        val_loss: Some(0.6),
        accuracy: None,
        val_accuracy: None,
        seconds: 0.1,
        lr: 0.1,
    };
    Checkpoint {
        config,
        params: vec![vec![0.25, -1.5, 3.0], vec![0.125]],
        optimizer: OptimizerState { step: 9, slot1: vec![vec![0.1, 0.2, 0.3], vec![0.4]], slot2: Vec::new() },
        history: History { epochs: vec![record], best_epoch: Some(1), stopped_early: false },
        best: Some((0.6, vec![vec![0.5, -1.0, 2.0], vec![0.0]])),
        wait: 0,
        schedule: ScheduleState::new(0.1),
    }
}

/// A fresh folder for this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ember-nn-checkpoint-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn load_err(bytes: &[u8]) -> String {
    Checkpoint::from_bytes(bytes, Path::new("ck.bin")).expect_err("a damaged checkpoint is refused").to_string()
}

#[test]
fn round_trip() {
    let dir = scratch("round-trip");
    let path = dir.join("checkpoint.bin");
    let ck = sample();
    ck.save(&path).unwrap();
    assert_eq!(Checkpoint::load(&path).unwrap(), ck);
    assert_eq!(std::fs::read(&path).unwrap(), ck.to_bytes().unwrap());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn flipped_byte_is_a_checksum_error() {
    let good = sample().to_bytes().unwrap();
    // Every byte of the payload and of the CRC, each bit pattern of a flip.
    for i in HEAD_LEN..good.len() {
        for flip in [0x01, 0x80, 0xFF] {
            let mut b = good.clone();
            b[i] ^= flip;
            let msg = load_err(&b);
            assert!(msg.contains("checksum") && msg.contains("ck.bin"), "byte {i}: {msg}");
        }
    }
}

#[test]
fn truncated_file_is_an_error() {
    let good = sample().to_bytes().unwrap();
    for n in 0..good.len() {
        let msg = load_err(&good[..n]);
        assert!(msg.contains("checkpoint"), "{n} bytes: {msg}");
        if n >= 8 {
            assert!(msg.contains("truncated"), "{n} bytes: {msg}");
        }
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(load_err(&longer).contains("damaged"));
}

#[test]
fn damaged_header_is_an_error() {
    let good = sample().to_bytes().unwrap();
    let mut b = good.clone();
    b[0] ^= 0xFF;
    assert!(load_err(&b).contains("not an ember checkpoint"));
    // A wrong payload length.
    for i in 8..HEAD_LEN {
        let mut b = good.clone();
        b[i] ^= 0x01;
        let msg = load_err(&b);
        assert!(msg.contains("truncated") || msg.contains("damaged"), "length byte {i}: {msg}");
    }
}

#[test]
fn old_format_names_the_version() {
    let mut old = b"EMBCKPT1".to_vec();
    old.extend(postcard::to_allocvec(&sample()).unwrap());
    let msg = load_err(&old);
    assert!(msg.contains("older ember") && msg.contains("--resume"), "{msg}");
    let mut newer = sample().to_bytes().unwrap();
    newer[7] = b'9';
    assert!(load_err(&newer).contains("newer ember"));
}

#[test]
fn missing_file_names_the_path() {
    let path = std::env::temp_dir().join(format!("ember-nn-no-such-folder-{}", std::process::id())).join("absent.bin");
    let err = Checkpoint::load(&path).unwrap_err();
    assert!(err.to_string().contains("cannot read checkpoint") && err.to_string().contains("absent.bin"), "{err}");
}
