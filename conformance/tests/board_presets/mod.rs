//! The models of the classifier, regressor and sensor presets on the boards:
//! `mnist-cnn`, `kws-dscnn`, `gesture-conv1d`, `sine`, `sensor-ae` (the whole
//! autoencoder, whose reconstruction error flags an anomaly) and
//! `digits-dense`, each the preset's own model file trained briefly through
//! `ember_train::train` (real, non-random weights), run on inputs of the
//! preset's own data; every output must have the host runtime's exact bits.

use anyhow::{Context, Result};
use ember_board_host::Board;
use ember_data::generated;
use ember_export::Model;
use ember_runtime::{
    Chain, Conv1d, Conv2d, Conv2dStrided, Dense, DepthwiseConv2d, Flatten, GlobalAveragePool, Linear, MaxPool1d,
    MaxPool2d, Relu, Same, Softmax, Valid,
};
use ember_train::presets;
use ember_train::train::{TrainOptions, train};

use super::{SAMPLES, check_bits};

pub mod cores;
pub mod int8;
pub mod quant;

/// The presets whose trained models run here (f32 and int8); [`int8`] runs
/// every other preset in int8.
pub const TRAINED: [&str; 6] = ["mnist-cnn", "kws-dscnn", "gesture-conv1d", "sine", "sensor-ae", "digits-dense"];

/// The preset `name` trained for `epochs` on at most `max_samples` of its data.
fn trained(name: &str, epochs: usize, max_samples: usize) -> Result<Model> {
    let mut cfg = presets::preset(name).context("preset")?;
    cfg.train.epochs = epochs;
    cfg.train.max_samples = Some(max_samples);
    let dir = tempfile::tempdir()?;
    let opts = TrainOptions { out: dir.path().to_path_buf(), ..Default::default() };
    Ok(train(&cfg, &opts)?.model)
}

/// The first [`SAMPLES`] samples of `ds`.
fn first(ds: &ember_data::Dataset) -> Vec<f32> {
    (0..SAMPLES).flat_map(|i| ds.sample(i).to_vec()).collect()
}

/// The typed form of the `mnist-cnn` preset.
pub type MnistCnn = Chain<
    Conv2d<28, 28, 1, 8, 3, 3, Valid, Relu, 784, 676>,
    Chain<
        MaxPool2d<26, 26, 8, 2, Valid, 676, 169>,
        Chain<
            Conv2d<13, 13, 8, 16, 3, 3, Valid, Relu, 169, 121>,
            Chain<MaxPool2d<11, 11, 16, 2, Valid, 121, 25>, Chain<Flatten<16, 25, 400>, Dense<400, 10, Softmax>>>,
        >,
    >,
>;

/// `mnist-cnn`, one epoch on 600 digits, on four real digits.
pub fn mnist_cnn() -> Result<(Model, Vec<f32>)> {
    let digits = generated::mnist_images()?.data;
    Ok((trained("mnist-cnn", 1, 600)?, first(&digits.select(&[7, 507, 1007, 1507]))))
}

/// A depthwise-separable block of the `kws-dscnn` preset on 25x5x16 maps.
type DsBlock<Rest> = Chain<
    DepthwiseConv2d<25, 5, 16, 3, 3, 1, 1, 1, 1, Same, Relu, 125, 125>,
    Chain<Conv2d<25, 5, 16, 16, 1, 1, Same, Relu, 125, 125>, Rest>,
>;

/// The typed form of the `kws-dscnn` preset.
pub type KwsDsCnn = Chain<
    Conv2dStrided<49, 10, 1, 16, 10, 4, 2, 2, 1, 1, Same, Relu, 490, 125>,
    DsBlock<DsBlock<DsBlock<Chain<GlobalAveragePool<16, 125>, Dense<16, 6, Softmax>>>>>,
>;

/// `kws-dscnn`, one epoch on 600 maps, on four generated maps.
pub fn kws_dscnn() -> Result<(Model, Vec<f32>)> {
    Ok((trained("kws-dscnn", 1, 600)?, first(&generated::kws_features(SAMPLES, 8).data)))
}

/// The typed form of the `gesture-conv1d` preset.
pub type GestureConv1d = Chain<
    Conv1d<64, 3, 16, 5, 1, 1, Same, Relu, 64>,
    Chain<
        MaxPool1d<64, 16, 2, 2, Valid, 32>,
        Chain<Conv1d<32, 16, 32, 3, 1, 1, Same, Relu, 32>, Chain<GlobalAveragePool<32, 32>, Dense<32, 5, Softmax>>>,
    >,
>;

/// `gesture-conv1d`, two epochs on 500 windows, on four generated windows.
pub fn gesture_conv1d() -> Result<(Model, Vec<f32>)> {
    Ok((trained("gesture-conv1d", 2, 500)?, first(&generated::gesture_windows(SAMPLES, 8).data)))
}

/// The typed form of the `sine` preset.
pub type Sine = Chain<Dense<1, 16, Relu>, Chain<Dense<16, 16, Relu>, Dense<16, 1, Linear>>>;

/// `sine`, 20 epochs on its 1000 points, at four values of x.
pub fn sine() -> Result<(Model, Vec<f32>)> {
    Ok((trained("sine", 20, 1000)?, vec![0.1, 1.6, 3.3, 5.9]))
}

/// The typed form of the `sensor-ae` preset (the whole autoencoder).
pub type SensorAe = Chain<
    Flatten<3, 32, 96>,
    Chain<Dense<96, 48, Relu>, Chain<Dense<48, 12, Linear>, Chain<Dense<12, 48, Relu>, Dense<48, 96, Linear>>>>,
>;

/// `sensor-ae`, three epochs on 500 windows, on four fresh windows.
pub fn sensor_ae() -> Result<(Model, Vec<f32>)> {
    Ok((trained("sensor-ae", 3, 500)?, first(&generated::sensor_windows(SAMPLES, 8))))
}

/// The typed form of the `digits-dense` preset.
pub type DigitsDense = Chain<Dense<784, 64, Relu>, Dense<64, 10, Softmax>>;

/// `digits-dense`, one epoch on 1000 digits, on four real digits.
pub fn digits_dense() -> Result<(Model, Vec<f32>)> {
    let digits = generated::mnist_images()?.data;
    Ok((trained("digits-dense", 1, 1000)?, first(&digits.select(&[2007, 2507, 3007, 4507]))))
}

/// Every preset model above on `board`, bit for bit.
///
/// Each is then quantized (`ember_export::quant::quantize`, int8 scheme,
/// calibrated on its board inputs) and run again: the int8 firmware's outputs
/// must have the exact bits of the host interpreter on the same int8 blob.
pub fn check_all(board: Board) -> Result<()> {
    let (mnist, digits, kws, gesture, sine, sensor) =
        (mnist_cnn()?, digits_dense()?, kws_dscnn()?, gesture_conv1d()?, sine()?, sensor_ae()?);
    for (name, (model, x)) in [
        ("mnist_cnn", &mnist),
        ("kws_dscnn", &kws),
        ("gesture_conv1d_preset", &gesture),
        ("sine", &sine),
        ("sensor_ae", &sensor),
        ("digits_dense", &digits),
    ] {
        quant::check_int8_preset(board, model, x, &format!("{name}_int8"))?;
    }
    check_bits::<MnistCnn>(board, mnist, "mnist_cnn")?;
    check_bits::<KwsDsCnn>(board, kws, "kws_dscnn")?;
    check_bits::<GestureConv1d>(board, gesture, "gesture_conv1d_preset")?;
    check_bits::<Sine>(board, sine, "sine")?;
    check_bits::<SensorAe>(board, sensor, "sensor_ae")?;
    check_bits::<DigitsDense>(board, digits, "digits_dense")
}
