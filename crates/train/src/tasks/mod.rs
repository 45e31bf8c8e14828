//! One module per training task beyond the autoencoders of [`crate::train`]:
//! text classifiers, word embeddings from n-gram windows and entity
//! embeddings of table columns.

pub mod autoencoder;
pub mod classify;
pub mod entity;
pub mod ngram;
