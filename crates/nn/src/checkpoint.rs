//! Training checkpoints: parameters, optimizer state, history and
//! early-stopping state, written atomically after every epoch.
//!
//! File layout: the 8-byte magic `EMBCKPT` + format version digit, the
//! payload length (`u64` little-endian), the postcard payload, and the
//! CRC-32 (IEEE, as the blob's, little-endian) of the payload. A flipped
//! byte or a cut file is refused on load instead of resuming a different
//! model.

use std::path::Path;

use ember_export::fsutil::write_bytes;
use ember_runtime::crc::crc32;
use serde::{Deserialize, Serialize};

use crate::error::NnError;
use crate::history::{FitConfig, History};
use crate::network::Network;
use crate::optim::OptimizerState;
use crate::schedule::ScheduleState;

/// The magic without its version digit.
const MAGIC_STEM: &[u8; 7] = b"EMBCKPT";
/// Format version: 1 had no length and no CRC; 2 adds both; 3 adds the
/// learning-rate schedule and class weights to the configuration, the
/// learning rate to each epoch's record and the schedule's state. Format 2
/// is still read (see `v2.rs`).
const VERSION: u8 = 3;
/// The oldest format still read.
const OLDEST: u8 = 2;
/// Bytes before the payload: magic, version digit, payload length.
const HEAD_LEN: usize = 8 + 8;
/// Bytes after the payload: the CRC-32.
const CRC_LEN: usize = 4;

/// Everything needed to continue a run exactly where it stopped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The configuration of the run.
    pub config: FitConfig,
    /// Parameters after the last completed epoch.
    pub params: Vec<Vec<f32>>,
    /// Optimizer slots and step count.
    pub optimizer: OptimizerState,
    /// History so far.
    pub history: History,
    /// Best monitored loss and its parameters.
    pub best: Option<(f64, Vec<Vec<f32>>)>,
    /// Epochs since the last improvement.
    pub wait: usize,
    /// The learning-rate schedule's state (learning rate, plateau counters).
    pub schedule: ScheduleState,
}

impl Checkpoint {
    /// The file's bytes: header, payload and CRC-32.
    pub fn to_bytes(&self) -> Result<Vec<u8>, NnError> {
        let payload = postcard::to_allocvec(self).map_err(NnError::CheckpointEncode)?;
        let mut bytes = Vec::with_capacity(HEAD_LEN + payload.len() + CRC_LEN);
        bytes.extend_from_slice(MAGIC_STEM);
        bytes.push(b'0' + VERSION);
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&payload);
        bytes.extend_from_slice(&crc32(&payload).to_le_bytes());
        Ok(bytes)
    }

    /// Decodes the bytes of a checkpoint file (`path` only names it in errors).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, NnError> {
        let owned = || path.to_path_buf();
        let version = match bytes.strip_prefix(MAGIC_STEM.as_slice()) {
            Some([v, ..]) if v.is_ascii_digit() => v - b'0',
            _ => return Err(NnError::NotACheckpoint { path: owned() }),
        };
        if !(OLDEST..=VERSION).contains(&version) {
            return Err(NnError::CheckpointVersion { path: owned(), found: version, expected: VERSION });
        }
        let actual = bytes.len() as u64;
        let Some(len) = bytes.get(8..HEAD_LEN) else {
            let expected = (HEAD_LEN + CRC_LEN) as u64;
            return Err(NnError::CheckpointTruncated { path: owned(), expected, actual });
        };
        let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
        let expected = len.saturating_add((HEAD_LEN + CRC_LEN) as u64);
        if actual < expected {
            return Err(NnError::CheckpointTruncated { path: owned(), expected, actual });
        }
        if actual > expected {
            return Err(NnError::CheckpointTrailing { path: owned(), expected, actual });
        }
        let (payload, crc) = bytes[HEAD_LEN..].split_at(bytes.len() - HEAD_LEN - CRC_LEN);
        let stored = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
        let computed = crc32(payload);
        if stored != computed {
            return Err(NnError::CheckpointChecksum { path: owned(), stored, computed });
        }
        let decode_err = |source| NnError::CheckpointDecode { path: owned(), source };
        if version == 2 {
            return postcard::from_bytes::<v2::CheckpointV2>(payload).map(Checkpoint::from).map_err(decode_err);
        }
        postcard::from_bytes(payload).map_err(decode_err)
    }

    /// Writes the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<(), NnError> {
        write_bytes(path, &self.to_bytes()?).map_err(|source| NnError::CheckpointWrite { path: path.into(), source })
    }

    /// Reads and verifies a checkpoint.
    pub fn load(path: &Path) -> Result<Self, NnError> {
        let bytes = std::fs::read(path).map_err(|source| NnError::CheckpointRead { path: path.into(), source })?;
        Self::from_bytes(&bytes, path)
    }

    /// Fails unless this checkpoint belongs to `net`'s architecture and the
    /// same training settings (the epoch count may grow).
    pub fn check_compatible(&self, net: &Network, cfg: &FitConfig) -> Result<(), NnError> {
        let shapes: Vec<usize> = net.param_values().iter().map(Vec::len).collect();
        let saved: Vec<usize> = self.params.iter().map(Vec::len).collect();
        if shapes != saved {
            return Err(NnError::CheckpointArchitecture { saved, model: shapes });
        }
        if let Some((_, best)) = &self.best
            && best.iter().map(Vec::len).ne(shapes.iter().copied())
        {
            return Err(NnError::CheckpointInconsistent("its best weights do not match the architecture"));
        }
        let slots_ok = |slots: &[Vec<f32>]| slots.is_empty() || slots.iter().map(Vec::len).eq(shapes.iter().copied());
        if !slots_ok(&self.optimizer.slot1) || !slots_ok(&self.optimizer.slot2) {
            return Err(NnError::CheckpointInconsistent("its optimizer state does not match the architecture"));
        }
        let mut a = self.config.clone();
        a.epochs = cfg.epochs;
        if &a != cfg {
            return Err(NnError::CheckpointSettings);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
mod v2;
