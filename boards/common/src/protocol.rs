//! The protocol between a board's firmware, its build script and the host
//! runner (`ember_board_host`), defined once: the environment variables that
//! name the model files, their names in `OUT_DIR`, the tags of the lines the
//! firmware prints, the grammar of a similarity query and the number of
//! neighbours it answers with.

/// Environment variable naming the `.emb` blob (required).
pub const ENV_BLOB: &str = "EMBER_BLOB";
/// Environment variable naming the generated Rust type file (required).
pub const ENV_MODEL_RS: &str = "EMBER_MODEL_RS";
/// Environment variable naming the little-endian `f32` samples (required).
pub const ENV_INPUTS: &str = "EMBER_INPUTS";
/// Environment variable naming raw texts, one per line (optional).
pub const ENV_TEXTS: &str = "EMBER_TEXTS";
/// Environment variable naming similarity queries, one per line (optional).
pub const ENV_QUERIES: &str = "EMBER_QUERIES";

/// The blob's file name in `OUT_DIR`.
pub const FILE_BLOB: &str = "model.emb";
/// The Rust type file's name in `OUT_DIR`.
pub const FILE_MODEL_RS: &str = "model.rs";
/// The samples' file name in `OUT_DIR`.
pub const FILE_INPUTS: &str = "inputs.bin";
/// The texts' file name in `OUT_DIR` (empty when [`ENV_TEXTS`] is unset).
pub const FILE_TEXTS: &str = "texts.txt";
/// The queries' file name in `OUT_DIR` (empty when [`ENV_QUERIES`] is unset).
pub const FILE_QUERIES: &str = "queries.txt";

/// The required model files: (environment variable, name in `OUT_DIR`).
pub const REQUIRED_FILES: [(&str, &str); 3] =
    [(ENV_BLOB, FILE_BLOB), (ENV_MODEL_RS, FILE_MODEL_RS), (ENV_INPUTS, FILE_INPUTS)];
/// The optional model files: (environment variable, name in `OUT_DIR`).
pub const OPTIONAL_FILES: [(&str, &str); 2] = [(ENV_TEXTS, FILE_TEXTS), (ENV_QUERIES, FILE_QUERIES)];

/// `out <sample> <output f32 bits as 8 hex digits, space separated>`.
pub const TAG_OUT: &str = "out";
/// `instret <sample> <instructions for that inference>`.
pub const TAG_INSTRET: &str = "instret";
/// `text_ids <line> <token ids, space separated>`.
pub const TAG_TEXT_IDS: &str = "text_ids";
/// `text_out <line> <output f32 bits>`.
pub const TAG_TEXT_OUT: &str = "text_out";
/// `text_instret <line> <instructions to tokenize> <instructions for the inference>`.
pub const TAG_TEXT_INSTRET: &str = "text_instret";
/// `similar <line> <row> <score f32 bits> <row> <score bits> ...`.
pub const TAG_SIMILAR: &str = "similar";
/// `similar_instret <line> <instructions for the whole query>`.
pub const TAG_SIMILAR_INSTRET: &str = "similar_instret";
/// `ram_activation_bytes <bytes>`.
pub const TAG_RAM: &str = "ram_activation_bytes";
/// `stack_peak_bytes <peak bytes> <stack region bytes>`: the deepest the
/// stack went during the whole run (painted before the model runs, see
/// `ember_board_stack`), and the size of the stack region it may use.
pub const TAG_STACK: &str = "stack_peak_bytes";
/// `done`: the last line of a successful run.
pub const TAG_DONE: &str = "done";

/// Neighbours answered per similarity query (`K` of `search::nearest`).
pub const NEIGHBOURS: usize = 10;

/// The terms of a similarity query: words separated by whitespace; a word
/// `-name` (with a non-empty name) subtracts the row of `name` (weight `-1`),
/// any other word adds its row (weight `1`). For entity models a name is
/// `column=value`.
pub fn query_terms(line: &str) -> impl Iterator<Item = (&str, f32)> {
    line.split_whitespace().map(|w| match w.strip_prefix('-') {
        Some(rest) if !rest.is_empty() => (rest, -1.0),
        _ => (w, 1.0),
    })
}
