//! The seed models of our reference material, as [`ModelConfig`]s
//! (`ember presets NAME` prints one as a TOML model file to start from).

use crate::config::{LayerConfig, ModelConfig, NoiseConfig, Task, TrainConfig};

/// Names of every preset.
pub const NAMES: &[&str] = &["blobs-ae", "mnist-ae", "mnist-denoise"];

fn dense(units: u32, activation: &str) -> LayerConfig {
    LayerConfig::Dense { units, activation: activation.into() }
}

/// The preset `name`, if there is one.
pub fn preset(name: &str) -> Option<ModelConfig> {
    Some(match name {
        // 3-D points in three Gaussian clusters reduced to 2-D codes; linear
        // layers, so the optimum is the PCA plane, which the report compares.
        "blobs-ae" => ModelConfig {
            name: "blobs_ae".into(),
            task: Task::Autoencoder,
            input: vec![3],
            input_range: None,
            encoder_layers: Some(1),
            data: Some("blobs".into()),
            noise: None,
            layers: vec![dense(2, "linear"), dense(3, "linear")],
            train: TrainConfig {
                epochs: 60,
                batch_size: 16,
                validation_split: 0.2,
                loss: "mse".into(),
                optimizer: "adam".into(),
                learning_rate: Some(0.01),
                patience: Some(10),
                ..TrainConfig::default()
            },
        },
        // 784 -> 128 -> 32 -> 128 -> 784 on MNIST digits in [0, 1].
        "mnist-ae" => ModelConfig {
            name: "mnist_ae".into(),
            task: Task::Autoencoder,
            input: vec![784],
            input_range: Some([0.0, 1.0]),
            encoder_layers: Some(2),
            data: Some("mnist".into()),
            noise: None,
            layers: vec![dense(128, "relu"), dense(32, "relu"), dense(128, "relu"), dense(784, "sigmoid")],
            train: TrainConfig {
                epochs: 30,
                batch_size: 256,
                validation_split: 0.1,
                loss: "bce".into(),
                optimizer: "adam".into(),
                patience: Some(5),
                ..TrainConfig::default()
            },
        },
        // The same network from noisy inputs to clean targets.
        "mnist-denoise" => ModelConfig {
            name: "mnist_denoise".into(),
            task: Task::Denoise,
            noise: Some(NoiseConfig::Gaussian { level: 0.5 }),
            ..preset("mnist-ae")?
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_round_trips_through_toml() {
        for name in NAMES {
            let p = preset(name).unwrap();
            let back = ModelConfig::from_toml(&p.to_toml()).unwrap();
            assert_eq!(back, p, "{name}");
        }
    }
}
