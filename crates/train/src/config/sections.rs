//! The optional sections of a model file: `[words]`, `[entity]`, `[text]`,
//! `[columns]` and `[noise]`.

use ember_runtime::spec::{Side, TokenizerKind, TokenizerSpec};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError, bad_config};

/// Settings of a word-embedding model (`task = "ngram"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WordsConfig {
    /// Most words in the vocabulary (the most frequent ones of a text corpus).
    /// A corpus with fewer distinct words gives a smaller model.
    pub vocab: u32,
    /// Words of context that predict the next one.
    pub context: u32,
}

impl Default for WordsConfig {
    fn default() -> Self {
        WordsConfig { vocab: 250, context: 3 }
    }
}

/// Settings of an entity-embedding model (`task = "entity"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntityConfig {
    /// The categorical columns, in input order.
    pub columns: Vec<String>,
    /// The numeric target column.
    pub target: String,
    /// Fraction of the records held out as the test set (before the validation split).
    pub test_split: f32,
    /// Categories per column, known once the data is loaded (not part of a
    /// model file). Until then each column counts one category, which is
    /// enough to check the layer list.
    #[serde(skip)]
    pub categories: Vec<u32>,
}

impl Default for EntityConfig {
    fn default() -> Self {
        EntityConfig { columns: Vec::new(), target: String::new(), test_split: 0.2, categories: Vec::new() }
    }
}

/// The columns of a CSV file that a classifier or regressor of features
/// learns from (`[columns]`); every other column is a feature.
///
/// ```toml
/// [columns]
/// label = "species"           # classify: the label column (a name or 0-based index; default: the last)
/// targets = ["y1", "y2"]      # regress: the target columns (default: the last column)
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnsConfig {
    /// `classify`: the label column, by header name or 0-based index
    /// (negative counts from the end); the last column if absent.
    pub label: Option<String>,
    /// `regress`: the target columns, by header name or index; the last column if empty.
    pub targets: Vec<String>,
}

/// How a text model turns text into token ids (see `ember_runtime::text`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextConfig {
    /// `hashing` (stable FNV-1a, no word list) or `vocabulary` (the most frequent words).
    pub tokenizer: String,
    /// Vocabulary size, reserved ids 0 (padding), 1 (start), 2 (out of vocabulary) included.
    pub vocab: u32,
    /// Ids per sequence after padding and truncation.
    pub max_len: u32,
    /// `pre` or `post`.
    pub padding: String,
    /// `pre` or `post`.
    pub truncating: String,
    /// Put the start id 1 first (Keras IMDB convention).
    pub start_token: bool,
    /// Lower-case ASCII letters.
    pub lowercase: bool,
    /// CSV data: the column holding the text.
    pub text_column: Option<String>,
    /// CSV data: the column holding the label.
    pub label_column: Option<String>,
}

impl Default for TextConfig {
    fn default() -> Self {
        TextConfig {
            tokenizer: "vocabulary".into(),
            vocab: 5000,
            max_len: 400,
            padding: "pre".into(),
            truncating: "pre".into(),
            start_token: true,
            lowercase: true,
            text_column: None,
            label_column: None,
        }
    }
}

fn side(s: &str) -> Result<Side> {
    match s {
        "pre" => Ok(Side::Pre),
        "post" => Ok(Side::Post),
        _ => bad_config!("padding/truncating must be \"pre\" or \"post\", not {s:?}"),
    }
}

impl TextConfig {
    /// The tokenizer settings.
    pub fn tokenizer_spec(&self) -> Result<TokenizerSpec> {
        let kind = match self.tokenizer.as_str() {
            "hashing" => TokenizerKind::Hashing,
            "vocabulary" => TokenizerKind::Vocabulary,
            t => bad_config!("unknown tokenizer {t:?} (hashing, vocabulary)"),
        };
        if self.vocab <= 3 || self.max_len == 0 {
            bad_config!("a text model needs vocab > 3 (3 ids are reserved) and max_len > 0");
        }
        Ok(TokenizerSpec {
            kind,
            vocab: self.vocab,
            reserved: 3,
            lowercase: self.lowercase,
            start_token: self.start_token,
            max_len: self.max_len,
            padding: side(&self.padding)?,
            truncating: side(&self.truncating)?,
        })
    }
}

/// Noise added to the inputs of a denoising autoencoder.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoiseConfig {
    /// `x + level · N(0, 1)`, clipped to the input range.
    Gaussian {
        /// Noise factor.
        level: f32,
    },
    /// A fraction `level` of the values set to 0 or 1 at random.
    SaltPepper {
        /// Fraction of values replaced.
        level: f32,
    },
}

impl NoiseConfig {
    /// Parses `gaussian:0.5` or `salt-pepper:0.2` (level defaults to 0.5 / 0.2).
    pub fn parse(s: &str) -> Result<Self> {
        let (kind, level) = s.split_once(':').map_or((s, None), |(k, l)| (k, Some(l)));
        let level = level
            .map(|l| l.parse::<f32>().map_err(|_| TrainError::config(format!("noise level {l:?} is not a number"))))
            .transpose()?;
        if let Some(l) = level
            && !(0.0..=10.0).contains(&l)
        {
            bad_config!("noise level {l} is outside [0, 10]");
        }
        match kind {
            "gaussian" => Ok(NoiseConfig::Gaussian { level: level.unwrap_or(0.5) }),
            "salt-pepper" | "salt_pepper" | "saltpepper" => Ok(NoiseConfig::SaltPepper { level: level.unwrap_or(0.2) }),
            _ => bad_config!("unknown noise {kind:?}: use gaussian:LEVEL or salt-pepper:FRACTION"),
        }
    }
}
