//! Training checkpoints: model weights, Adam moments, and the trainer's state (epoch, step,
//! position in the epoch, learning rate, early-stopping counters, RNG, loss history) in one
//! safetensors file written atomically. `last.safetensors` is rewritten as training goes;
//! `best.safetensors` whenever the dev loss improves.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle::{Tensor, Var};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::CheckpointError;
use crate::model::Config;
use crate::model::io::{self, CONFIG_KEY, FORMAT_KEY};
use crate::train::optim::Adam;

/// Format name of a checkpoint.
pub const CHECKPOINT_FORMAT: &str = "deepspeech-rs-checkpoint-v1";
const STATE_KEY: &str = "train_state";

/// One finished epoch, for the summary, the plot and early stopping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 0-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Mean dev loss, when a dev set is given.
    pub dev_loss: Option<f64>,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Everything besides weights and moments that a resumed run needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainState {
    /// The epoch in progress (0-based).
    pub epoch: usize,
    /// Batches of `epoch` already trained.
    pub batch_in_epoch: usize,
    /// Optimiser steps taken in total.
    pub step: u64,
    /// Current learning rate.
    pub learning_rate: f64,
    /// Best dev loss so far.
    pub best_dev_loss: Option<f64>,
    /// Epochs since the dev loss last improved.
    pub epochs_without_improvement: usize,
    /// Sum of training losses over the batches of `epoch` done so far.
    pub epoch_loss_sum: f64,
    /// Samples trained in `epoch` so far.
    pub epoch_samples: usize,
    /// The RNG that draws dropout masks and batch order.
    pub rng: ChaCha8Rng,
    /// Finished epochs.
    pub history: Vec<EpochRecord>,
}

/// Path of the last checkpoint in `dir`.
pub fn last_path(dir: &Path) -> PathBuf {
    dir.join("last.safetensors")
}

/// Path of the best checkpoint in `dir`.
pub fn best_path(dir: &Path) -> PathBuf {
    dir.join("best.safetensors")
}

/// Writes a checkpoint atomically.
pub fn save(
    path: &Path,
    config: &Config,
    adam: &Adam,
    state: &TrainState,
) -> Result<(), CheckpointError> {
    let mut tensors: Vec<(String, Tensor)> = Vec::with_capacity(adam.slots.len() * 3);
    for slot in &adam.slots {
        tensors.push((format!("model.{}", slot.name), slot.var.as_tensor().clone()));
        tensors.push((format!("adam.m.{}", slot.name), slot.m.clone()));
        tensors.push((format!("adam.v.{}", slot.name), slot.v.clone()));
    }
    let metadata = HashMap::from([
        (FORMAT_KEY.to_owned(), CHECKPOINT_FORMAT.to_owned()),
        (
            CONFIG_KEY.to_owned(),
            serde_json::to_string(config).expect("a config serialises"),
        ),
        (
            STATE_KEY.to_owned(),
            serde_json::to_string(state).expect("a train state serialises"),
        ),
        ("adam_step".to_owned(), adam.step.to_string()),
    ]);
    io::write_atomic(path, &tensors, metadata)
}

/// A checkpoint read back.
pub struct Checkpoint {
    /// The model config stored in it.
    pub config: Config,
    /// The trainer's state.
    pub state: TrainState,
    /// Adam's step count.
    pub adam_step: u64,
    /// All tensors (`model.*`, `adam.m.*`, `adam.v.*`).
    pub tensors: HashMap<String, Tensor>,
}

/// Reads a checkpoint and checks it against the geometry of `expected` (the model about to be
/// trained): a mismatch names the tensor and both shapes.
pub fn load(path: &Path, expected: &Config) -> Result<Checkpoint, CheckpointError> {
    let file = io::read(path)?;
    let config = io::config_from_metadata(path, &file.metadata, CHECKPOINT_FORMAT)?;
    io::check_shapes(path, expected, &file.tensors, "model.")?;
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let state: TrainState = serde_json::from_str(
        file.metadata
            .get(STATE_KEY)
            .ok_or_else(|| corrupt("no training state".into()))?,
    )
    .map_err(|e| corrupt(format!("bad training state: {e}")))?;
    let adam_step = file
        .metadata
        .get("adam_step")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| corrupt("no optimiser step".into()))?;
    Ok(Checkpoint {
        config,
        state,
        adam_step,
        tensors: file.tensors,
    })
}

/// Copies a checkpoint's weights and moments into the optimiser's variables.
pub fn restore(
    checkpoint: &Checkpoint,
    adam: &mut Adam,
    path: &Path,
) -> Result<(), CheckpointError> {
    let get = |key: String| {
        checkpoint
            .tensors
            .get(&key)
            .cloned()
            .ok_or_else(|| CheckpointError::Corrupt {
                path: path.to_owned(),
                reason: format!("tensor `{key}` is missing"),
            })
    };
    let candle = |e: candle::Error| CheckpointError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    for slot in &mut adam.slots {
        let device = slot.var.device().clone();
        slot.var
            .set(
                &get(format!("model.{}", slot.name))?
                    .to_device(&device)
                    .map_err(candle)?,
            )
            .map_err(candle)?;
        slot.m = get(format!("adam.m.{}", slot.name))?
            .to_device(&device)
            .map_err(candle)?;
        slot.v = get(format!("adam.v.{}", slot.name))?
            .to_device(&device)
            .map_err(candle)?;
    }
    adam.step = checkpoint.adam_step;
    Ok(())
}

/// The weights of the optimiser's variables by name (for export).
pub fn weights(adam: &Adam) -> HashMap<String, Tensor> {
    adam.slots
        .iter()
        .map(|s| (s.name.clone(), s.var.as_tensor().clone()))
        .collect()
}

/// Named variables of a VarMap.
pub fn named_vars(varmap: &candle_nn::VarMap) -> Vec<(String, Var)> {
    let data = varmap.data().lock().expect("varmap lock");
    data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}
