//! Training: dataset CSVs, features, on-the-fly augmentation, batches, the optimiser, checkpoints
//! and the training loop behind `ds-train`, alone or data-parallel across processes (MPI);
//! evaluation with greedy or beam-search decoding; language-model weight tuning behind `ds-tune`.

pub mod augment;
pub mod batch;
pub mod checkpoint;
pub mod dataset;
pub mod distributed;
pub mod evaluate;
pub mod features;
pub mod optim;
pub mod plot;
pub mod trainer;
pub mod tune;
pub mod widen;

pub use trainer::{TrainOptions, TrainSummary, run, run_with};
