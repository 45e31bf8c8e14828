//! Range observers over calibration data and the activation parameters they
//! give (TFLite's asymmetric int8 scheme).

use ember_runtime::quant::QuantParams;

/// Why calibration statistics could not be formed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    /// No value was observed for a tensor.
    #[error("calibration data is empty: no value observed for {0}")]
    Empty(String),
    /// A NaN or infinite value was observed.
    #[error("calibration data holds a non-finite value ({value}) for {tensor}")]
    NonFinite {
        /// The tensor's name.
        tensor: String,
        /// The offending value, as text.
        value: String,
    },
    /// A percentile outside `(50, 100]`.
    #[error("percentile {0} is outside (50, 100]")]
    BadPercentile(f32),
}

/// How an observer turns the values it saw into a range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeMode {
    /// The smallest and largest value seen.
    MinMax,
    /// The `p`-th and `(100 − p)`-th percentiles (`p` in `(50, 100]`, e.g.
    /// 99.99): ignores rare outliers, which would otherwise stretch the scale
    /// of every other value.
    Percentile(f32),
}

/// Statistics of one tensor over a calibration set.
#[derive(Debug, Clone)]
pub struct Observer {
    name: String,
    mode: RangeMode,
    min: f32,
    max: f32,
    /// Every value seen, kept only for [`RangeMode::Percentile`].
    values: Vec<f32>,
    non_finite: Option<f32>,
}

impl Observer {
    /// An observer for the tensor `name` (used in error messages).
    pub fn new(name: impl Into<String>, mode: RangeMode) -> Self {
        Self {
            name: name.into(),
            mode,
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            values: Vec::new(),
            non_finite: None,
        }
    }

    /// Records the values of one sample (or a batch).
    pub fn observe(&mut self, xs: &[f32]) {
        for &x in xs {
            if !x.is_finite() {
                self.non_finite.get_or_insert(x);
                continue;
            }
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        if matches!(self.mode, RangeMode::Percentile(_)) {
            self.values.extend(xs.iter().copied().filter(|x| x.is_finite()));
        }
    }

    /// The observed range `(lo, hi)`.
    ///
    /// # Errors
    /// [`CalibrationError::Empty`] if nothing was observed,
    /// [`CalibrationError::NonFinite`] if a NaN or ±∞ was,
    /// [`CalibrationError::BadPercentile`] for a percentile outside `(50, 100]`.
    pub fn range(&self) -> Result<(f32, f32), CalibrationError> {
        if let Some(v) = self.non_finite {
            return Err(CalibrationError::NonFinite { tensor: self.name.clone(), value: v.to_string() });
        }
        if self.min > self.max {
            return Err(CalibrationError::Empty(self.name.clone()));
        }
        match self.mode {
            RangeMode::MinMax => Ok((self.min, self.max)),
            RangeMode::Percentile(p) => {
                if !(p > 50.0 && p <= 100.0) {
                    return Err(CalibrationError::BadPercentile(p));
                }
                let mut v = self.values.clone();
                let last = v.len() - 1;
                // nearest-rank percentiles, symmetric in the two tails
                let k = ((p as f64 / 100.0) * last as f64).round() as usize;
                let hi = *v.select_nth_unstable_by(k, f32::total_cmp).1;
                let lo = *v.select_nth_unstable_by(last - k, f32::total_cmp).1;
                Ok((lo, hi))
            }
        }
    }

    /// The activation parameters of the observed range ([`activation_params`]).
    ///
    /// # Errors
    /// As [`Observer::range`].
    pub fn params(&self) -> Result<QuantParams, CalibrationError> {
        let (lo, hi) = self.range()?;
        Ok(activation_params(lo, hi))
    }
}

/// Asymmetric int8 parameters for the real range `[lo, hi]`, TFLite's way:
/// the range is widened to contain 0.0, `scale = (hi − lo) / 255`, and the
/// zero point is the nearest integer to `−128 − lo / scale`, clamped to
/// `[−128, 127]` ("nudging"), so that the real 0.0 is exactly the integer
/// `zero_point` (zero padding and ReLU's floor are then exact). A range of
/// zero width gets `scale = 1` (every value is 0).
pub fn activation_params(lo: f32, hi: f32) -> QuantParams {
    let (lo, hi) = (lo.min(0.0) as f64, hi.max(0.0) as f64);
    if hi - lo <= 0.0 {
        return QuantParams { scale: 1.0, zero_point: 0 };
    }
    let scale = (hi - lo) / 255.0;
    let zp_from_min = -128.0 - lo / scale;
    let zero_point = if zp_from_min <= -128.0 {
        -128
    } else if zp_from_min >= 127.0 {
        127
    } else {
        zp_from_min.round() as i32
    };
    QuantParams { scale: scale as f32, zero_point }
}
