//! One module per training task beyond the autoencoders of [`crate::train`]:
//! text classifiers, classifiers and regressors of features, images and time
//! series, word embeddings from n-gram windows and entity embeddings of
//! table columns; with the data loading and target scaling they share.

pub mod anomaly;
pub mod autoencoder;
pub mod classify;
pub mod classify_features;
pub mod entity;
pub mod features;
pub mod ngram;
pub mod regress;
pub mod scale;
