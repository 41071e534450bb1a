//! Training: dataset CSVs, features, batches, the optimiser, checkpoints and the training loop
//! behind `ds-train`.

pub mod batch;
pub mod checkpoint;
pub mod dataset;
pub mod evaluate;
pub mod features;
pub mod optim;
pub mod plot;
pub mod trainer;

pub use trainer::{TrainOptions, TrainSummary, run};
