//! Anomaly detection with an autoencoder of sensor windows: a window whose
//! reconstruction error (per-window MSE) exceeds a threshold is an anomaly.
//!
//! The threshold is the 99th percentile of the errors on the validation
//! windows (normal data the model did not train on). The report scores it on
//! fresh generated windows: the false-positive rate on normal ones, and the
//! detection rate on windows with one planted anomaly each (spikes, drifts,
//! flat lines; `ember_data::generated::sensor_anomalies`).

use ember_data::Dataset;
use ember_data::generated;
use ember_nn::metrics;
use ember_nn::network::Network;

/// Percentile of the validation errors taken as the threshold.
pub const THRESHOLD_PERCENTILE: f64 = 99.0;
/// Fresh normal windows scored for the false-positive rate.
pub const NORMAL_TEST_WINDOWS: usize = 1000;
/// Windows with planted anomalies scored for the detection rate (a third of each kind).
pub const ANOMALY_TEST_WINDOWS: usize = 600;
/// Mixed into the seed of the fresh normal windows.
pub const NORMAL_TEST_SEED: u64 = 0xA11_0001;
/// Mixed into the seed of the windows with planted anomalies.
pub const ANOMALY_TEST_SEED: u64 = 0xA11_0002;

/// The threshold and how well it separates normal windows from anomalies.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyReport {
    /// Reconstruction MSE above which a window is an anomaly.
    pub threshold: f64,
    /// Fraction of fresh normal windows flagged.
    pub false_positive_rate: f64,
    /// Fraction of windows with a planted anomaly flagged.
    pub detection_rate: f64,
    /// Detection rate per kind of anomaly.
    pub per_kind: Vec<(String, f64)>,
}

impl AnomalyReport {
    /// The report's lines.
    pub fn lines(&self) -> Vec<String> {
        let mut l = vec![
            format!(
                "threshold {:.6} (the {THRESHOLD_PERCENTILE}th percentile of the validation reconstruction MSE)",
                self.threshold
            ),
            format!(
                "detection rate {:.3} on {ANOMALY_TEST_WINDOWS} windows with planted anomalies",
                self.detection_rate
            ),
            format!(
                "false-positive rate {:.3} on {NORMAL_TEST_WINDOWS} fresh normal windows",
                self.false_positive_rate
            ),
        ];
        l.extend(self.per_kind.iter().map(|(k, r)| format!("detection rate of {k}: {r:.3}")));
        l
    }
}

fn errors(net: &mut Network, ds: &Dataset) -> Vec<f64> {
    let recon = net.predict(&ds.x);
    metrics::per_sample_mse(&recon, &ds.x, ds.sample_len())
}

/// Scores the autoencoder `net` of generated sensor windows: the threshold
/// from `validation`, then fresh windows generated from `seed`.
pub fn sensor_report(net: &mut Network, validation: &Dataset, seed: u64) -> AnomalyReport {
    let threshold = metrics::percentile(&errors(net, validation), THRESHOLD_PERCENTILE);
    let rate = |e: &[f64]| e.iter().filter(|&&v| v > threshold).count() as f64 / e.len().max(1) as f64;
    let normal = generated::sensor_windows(NORMAL_TEST_WINDOWS, seed ^ NORMAL_TEST_SEED);
    let false_positive_rate = rate(&errors(net, &normal));
    let anomalies = generated::sensor_anomalies(ANOMALY_TEST_WINDOWS, seed ^ ANOMALY_TEST_SEED);
    let e = errors(net, &anomalies.data);
    let labels = anomalies.data.labels.unwrap_or_default();
    let per_kind = anomalies
        .classes
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let of_kind: Vec<f64> = e.iter().zip(&labels).filter(|(_, l)| **l as usize == k).map(|(v, _)| *v).collect();
            (name.clone(), rate(&of_kind))
        })
        .collect();
    AnomalyReport { threshold, false_positive_rate, detection_rate: rate(&e), per_kind }
}
