//! The acoustic model.

pub mod lstm;
