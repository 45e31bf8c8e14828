//! PNG plots.
