//! Training checkpoints: parameters, optimizer state, history and
//! early-stopping state, written atomically after every epoch.

use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::fit::{FitConfig, History};
use crate::network::Network;
use crate::optim::OptimizerState;
use ember_export::fsutil::write_bytes;

const MAGIC: &[u8; 8] = b"EMBCKPT1";

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
}

impl Checkpoint {
    /// Writes the checkpoint atomically.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend(postcard::to_allocvec(self).context("cannot encode checkpoint")?);
        Ok(write_bytes(path, &bytes)?)
    }

    /// Reads a checkpoint.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read checkpoint {}", path.display()))?;
        let body = bytes
            .strip_prefix(MAGIC.as_slice())
            .with_context(|| format!("{} is not an ember checkpoint", path.display()))?;
        postcard::from_bytes(body).with_context(|| format!("checkpoint {} is corrupt", path.display()))
    }

    /// Fails unless this checkpoint belongs to `net`'s architecture and the
    /// same training settings (the epoch count may grow).
    pub fn check_compatible(&self, net: &Network, cfg: &FitConfig) -> anyhow::Result<()> {
        let shapes: Vec<usize> = net.param_values().iter().map(Vec::len).collect();
        let saved: Vec<usize> = self.params.iter().map(Vec::len).collect();
        if shapes != saved {
            bail!("checkpoint was made for a different architecture ({saved:?} parameter sizes, model has {shapes:?})");
        }
        if let Some((_, best)) = &self.best
            && best.iter().map(Vec::len).ne(shapes.iter().copied())
        {
            bail!("checkpoint is inconsistent: its best weights do not match the architecture");
        }
        let slots_ok = |slots: &[Vec<f32>]| slots.is_empty() || slots.iter().map(Vec::len).eq(shapes.iter().copied());
        if !slots_ok(&self.optimizer.slot1) || !slots_ok(&self.optimizer.slot2) {
            bail!("checkpoint is inconsistent: its optimizer state does not match the architecture");
        }
        let mut a = self.config.clone();
        a.epochs = cfg.epochs;
        if &a != cfg {
            bail!(
                "checkpoint was made with different training settings; start without --resume or use the same settings"
            );
        }
        Ok(())
    }
}
