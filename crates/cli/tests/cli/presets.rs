//! `ember presets`: the list, a preset's file printed as it is written, and
//! a clear error for an unknown name.

use std::path::Path;

use super::{fails, succeeds};

#[test]
fn presets_lists_every_preset_with_its_description() {
    let out = succeeds(&["presets"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), ember_train::presets::PRESETS.len(), "{out}");
    for (line, p) in lines.iter().zip(ember_train::presets::PRESETS) {
        let (name, description) = line.split_once(' ').expect("name, then description");
        assert_eq!((name, description.trim_start()), (p.name, p.description), "{out}");
    }
}

#[test]
fn presets_name_prints_the_file_verbatim() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../train/presets");
    for name in ["conv-ae", "lstm", "gru", "entity-embedding", "mnist-cnn", "kws-dscnn", "gesture-conv1d"] {
        let file = std::fs::read_to_string(dir.join(format!("{name}.toml"))).expect("the preset file");
        let out = succeeds(&["presets", name]);
        assert_eq!(out, file, "ember presets {name}");
        assert!(out.starts_with(&format!("# {name}: ")), "{out}");
    }
}

#[test]
fn presets_rejects_an_unknown_name_listing_the_names() {
    fails(&["presets", "no-such-preset"], &["no-such-preset", "blobs-ae", "mnist-ae", "lstm"]);
}
