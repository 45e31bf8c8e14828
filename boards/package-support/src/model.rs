//! The model files a package includes from its `model/` folder (written by
//! `cargo xtask board-packages` or `ember export --rust`), named by their
//! stem: `model/<stem>.rs`, `model/<stem>.emb`, `model/<stem>.inputs.bin`.
//! The paths are the package's own (`CARGO_MANIFEST_DIR` where the macro is
//! used).

/// Declares module `$name` holding the generated model file
/// `model/<stem>.rs` (`BoardModel`, `INPUT_LEN`, `OUTPUT_LEN`, ...), with
/// the attributes (doc comments) given before `mod`.
#[macro_export]
macro_rules! include_model {
    ($(#[$attr:meta])* mod $name:ident = $stem:literal) => {
        $(#[$attr])*
        #[allow(dead_code)]
        mod $name {
            include!(concat!(env!("CARGO_MANIFEST_DIR"), "/model/", $stem, ".rs"));
        }
    };
}

/// The blob `model/<stem>.emb`, 16-byte aligned in flash (read in place):
/// a `&'static Aligned16<[u8]>`.
#[macro_export]
macro_rules! model_blob {
    ($stem:literal) => {
        $crate::ember_runtime::include_aligned!(concat!(env!("CARGO_MANIFEST_DIR"), "/model/", $stem, ".emb"))
    };
}

/// The fixed inputs `model/<stem>.inputs.bin` (little-endian `f32`, whole
/// samples): a `&'static [u8; _]`.
#[macro_export]
macro_rules! model_inputs {
    ($stem:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/model/", $stem, ".inputs.bin"))
    };
}
