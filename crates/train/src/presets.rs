//! The built-in presets: TOML model files in `crates/train/presets/`,
//! compiled in, in exactly the format `ember train model.toml` reads.
//!
//! `ember presets` lists them; `ember presets NAME` prints a file as it is
//! written (with its comments on what the preset is and where its data comes
//! from), a model file to start from.

use crate::config::ModelConfig;

/// One built-in preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// Name (`ember train NAME`); the file is `presets/NAME.toml`.
    pub name: &'static str,
    /// One line on what it is (the file's first comment line after `NAME: `).
    pub description: &'static str,
    /// The TOML model file, comments included.
    pub text: &'static str,
}

/// A [`Preset`] whose file is `presets/$name.toml`.
macro_rules! preset {
    ($name:literal, $description:literal) => {
        Preset { name: $name, description: $description, text: include_str!(concat!("../presets/", $name, ".toml")) }
    };
}

/// Every preset, in the order `ember presets` lists them.
pub const PRESETS: &[Preset] = &[
    preset!("blobs-ae", "a linear autoencoder of 3-D points to 2-D codes"),
    preset!("mnist-ae", "a dense autoencoder of MNIST digits, 784 -> 128 -> 32 -> 128 -> 784"),
    preset!("mnist-denoise", "the mnist-ae network trained from noisy digits to clean ones"),
    preset!("conv-ae", "a convolutional autoencoder of 28x28x1 MNIST digits, 4x4x8 codes"),
    preset!("conv-denoise", "the conv-ae network trained from noisy digits to clean ones"),
    preset!("bag-of-embeddings", "Keras's one_hot example, a logistic unit on word embeddings"),
    preset!("ngram-embedding", "word embeddings that predict a word from the 3 before it"),
    preset!("entity-embedding", "entity embeddings of categorical columns predicting a number"),
    preset!("rnn", "an IMDB-shaped text classifier with a SimpleRNN"),
    preset!("rnn-dense", "an IMDB-shaped text classifier with a SimpleRNN and a dense layer"),
    preset!("rnn2", "an IMDB-shaped text classifier with two stacked SimpleRNNs"),
    preset!("birnn", "an IMDB-shaped text classifier with a bidirectional SimpleRNN"),
    preset!("lstm", "an IMDB-shaped text classifier with an LSTM"),
    preset!("gru", "an IMDB-shaped text classifier with a GRU"),
    preset!("sine", "the TFLM hello-world regressor, x in [0, 2π) -> sin(x), 1 -> 16 -> 16 -> 1"),
    preset!("digits-dense", "a dense classifier of MNIST digits, 784 -> 64 -> 10 softmax"),
    preset!("sensor-ae", "a dense anomaly-detection autoencoder of 3-channel sensor windows"),
    preset!("mnist-cnn", "a small CNN classifier of 28x28x1 MNIST digits, two conv + max-pool stages"),
    preset!("kws-dscnn", "a keyword-spotting DS-CNN on 49x10 feature maps, 6 classes"),
    preset!("gesture-conv1d", "a 1-D CNN classifier of 3-axis accelerometer gestures, 64x3 windows"),
];

/// The names of every preset, in [`PRESETS`] order.
pub fn names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|p| p.name)
}

/// The preset named `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The text of the preset file `name` (comments included), if there is one.
pub fn text(name: &str) -> Option<&'static str> {
    find(name).map(|p| p.text)
}

/// The preset `name` parsed into a [`ModelConfig`], if there is one.
///
/// # Panics
///
/// If a built-in file does not parse, which the tests rule out.
pub fn preset(name: &str) -> Option<ModelConfig> {
    let p = find(name)?;
    Some(ModelConfig::from_toml(p.text).unwrap_or_else(|e| panic!("built-in preset {}: {e}", p.name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_file_parses_and_validates() {
        for p in PRESETS {
            let cfg = ModelConfig::from_toml(p.text).unwrap_or_else(|e| panic!("{}: {e}", p.name));
            cfg.layer_specs().unwrap_or_else(|e| panic!("{}: {e}", p.name));
            cfg.fit_config().unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert_eq!(cfg.name, p.name.replace('-', "_"), "the model name of {}", p.name);
            assert_eq!(preset(p.name), Some(cfg));
        }
    }

    #[test]
    fn every_preset_file_starts_with_its_name_and_description() {
        for p in PRESETS {
            let first = p.text.lines().next().unwrap_or_default();
            assert_eq!(first, format!("# {}: {}", p.name, p.description));
        }
    }

    #[test]
    fn every_preset_file_is_listed_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("the presets folder")
            .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut listed: Vec<String> = names().map(|n| format!("{n}.toml")).collect();
        listed.sort();
        listed.dedup();
        assert_eq!(listed.len(), PRESETS.len(), "a name is listed twice");
        assert_eq!(files, listed);
    }

    #[test]
    fn every_preset_round_trips_through_toml() {
        for p in PRESETS {
            let cfg = preset(p.name).expect("listed");
            assert_eq!(ModelConfig::from_toml(&cfg.to_toml()).expect("serialised"), cfg, "{}", p.name);
        }
    }

    #[test]
    fn unknown_names_are_none() {
        assert!(find("no-such-preset").is_none() && text("").is_none() && preset("mnist_ae").is_none());
    }
}
