//! Typed layers. Each binds its tensors in place from a blob and implements
//! [`crate::Forward`] with const-generic sizes.

pub mod conv;
pub mod dense;
pub mod embedding;
pub mod entity;
pub mod flatten;
pub mod recurrent;
