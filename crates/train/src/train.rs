//! `ember train`: runs the task a model config names (see [`crate::tasks`]).

use crate::config::{ModelConfig, Task};
use crate::error::Result;
use crate::tasks::{autoencoder, classify, entity, ngram, regress};

pub use crate::output::{ObserverFactory, TrainOptions, TrainSummary, write_model};
pub use crate::tasks::autoencoder::{BUNDLED_SHUFFLE_SEED, load_data};

/// Trains the model of `cfg` and writes everything into `opts.out`; the
/// report ends with the model summary.
pub fn train(cfg: &ModelConfig, opts: &TrainOptions) -> Result<TrainSummary> {
    let summary = match cfg.task {
        Task::Autoencoder | Task::Denoise => autoencoder::train(cfg, opts),
        Task::Classify => classify::train(cfg, opts),
        Task::Ngram => ngram::train(cfg, opts),
        Task::Entity => entity::train(cfg, opts),
        Task::Regress => regress::train(cfg, opts),
    }?;
    crate::output::append_model_summary(&summary)?;
    Ok(summary)
}
