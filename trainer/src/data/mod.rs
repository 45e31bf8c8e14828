//! Data loaders.
