//! The training loop behind `ds-train`: epochs over length-sorted batches, Adam, dev loss,
//! early stopping, learning-rate reduction on plateau, atomic checkpoints that resume exactly,
//! export and test evaluation; alone, or data-parallel across processes through a
//! [`Collective`] (see [`crate::train::distributed`]).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use indicatif::{ProgressBar, ProgressStyle};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::alphabet::Alphabet;
use crate::ctc::{CtcOptions, Impossible, ctc_loss};
use crate::error::{CheckpointError, Error, Result};
use crate::features::{FeatureConfig, FeatureMatrix, MfccExtractor};
use crate::model::{self, Config, DeepSpeech, Dropout};
use crate::train::augment::{self, Augmentation, Augmenter};
use crate::train::checkpoint::{self, EpochRecord, TrainState};
use crate::train::dataset::{Dataset, Skipped};
use crate::train::distributed::{self, Collective, Single};
use crate::train::evaluate::{self, DecodeOptions, EvalSet, Report};
use crate::train::optim::{Adam, AdamConfig};
use crate::train::{batch, features, plot, widen};

/// DeepSpeech's default width (`--n_hidden`), for a model started from scratch.
pub const DEFAULT_N_HIDDEN: usize = 2048;

/// The width to train or evaluate at when none is given: that of the checkpoint a run in
/// `checkpoint_dir` would resume, else that of the model `source` names (as
/// `--load_checkpoint_dir` takes it), else [`DEFAULT_N_HIDDEN`]. Reads headers only: the width is
/// the length of `layer_1.bias`, so any file `--load_checkpoint_dir` accepts will do.
pub fn stored_n_hidden(
    checkpoint_dir: Option<&Path>,
    source: Option<&Path>,
) -> Result<usize, CheckpointError> {
    match resumable(checkpoint_dir) {
        Some(last) => file_n_hidden(&last),
        None => match source {
            Some(source) => file_n_hidden(&model_file(source)?),
            None => Ok(DEFAULT_N_HIDDEN),
        },
    }
}

/// The checkpoint a run with this `checkpoint_dir` resumes, if there is one.
pub fn resumable(checkpoint_dir: Option<&Path>) -> Option<PathBuf> {
    checkpoint_dir
        .map(checkpoint::last_path)
        .filter(|last| last.is_file())
}

/// The width of the model or checkpoint in `file`: the length of its `layer_1.bias`.
fn file_n_hidden(file: &Path) -> Result<usize, CheckpointError> {
    for name in ["layer_1.bias", "model.layer_1.bias"] {
        if let Some(&width) = model::io::read_shape(file, name)?
            .as_deref()
            .and_then(<[usize]>::first)
        {
            return Ok(width);
        }
    }
    Err(CheckpointError::Corrupt {
        path: file.to_owned(),
        reason: "tensor `layer_1.bias` is missing".into(),
    })
}

/// Everything `ds-train` can be told.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Training CSVs (none: evaluate only).
    pub train_files: Vec<PathBuf>,
    /// Dev CSVs (dev loss per epoch, best checkpoint, early stopping).
    pub dev_files: Vec<PathBuf>,
    /// Test CSVs (evaluated after training).
    pub test_files: Vec<PathBuf>,
    /// Training batch size (per rank in a data-parallel run: N ranks train on batches of N × this).
    pub train_batch_size: usize,
    /// Dev batch size.
    pub dev_batch_size: usize,
    /// Test batch size.
    pub test_batch_size: usize,
    /// Epochs to train in total (a resumed run counts the epochs already done).
    pub epochs: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Dropout rate of layers 1, 2, 3 and 5.
    pub dropout_rate: f32,
    /// Width of the hidden layers and the LSTM.
    pub n_hidden: usize,
    /// Output alphabet.
    pub alphabet: Alphabet,
    /// Where checkpoints go; an existing `last.safetensors` there is resumed.
    pub checkpoint_dir: Option<PathBuf>,
    /// Seconds between mid-epoch checkpoints (0: after every step).
    pub checkpoint_secs: f64,
    /// Where to export the trained model (`model.safetensors`).
    pub export_dir: Option<PathBuf>,
    /// Export in f16 instead of f32.
    pub export_f16: bool,
    /// An exported model (file, or a folder holding `model.safetensors`) or a checkpoint folder
    /// to start from (fine-tuning).
    pub load_checkpoint_dir: Option<PathBuf>,
    /// Number of layers, counted from the output, to re-initialise instead of loading.
    pub drop_source_layers: usize,
    /// Load a source narrower than `n_hidden` by widening it without changing what it computes
    /// ([`crate::train::widen`]); otherwise a width mismatch is an error.
    pub widen_source: bool,
    /// Stop when the dev loss has not improved for this many epochs (0: never).
    pub es_epochs: usize,
    /// Smallest dev-loss decrease that counts as an improvement.
    pub es_min_delta: f64,
    /// Divide the learning rate on a dev-loss plateau.
    pub reduce_lr_on_plateau: bool,
    /// Epochs without improvement that make a plateau.
    pub plateau_epochs: usize,
    /// Factor applied to the learning rate on a plateau.
    pub plateau_reduction: f64,
    /// Seed of weight initialisation, dropout and batch shuffling.
    pub seed: u64,
    /// Folder for cached features.
    pub feature_cache: Option<PathBuf>,
    /// Shuffle the order of batches every epoch (otherwise shortest first, as DeepSpeech).
    pub shuffle_batches: bool,
    /// Stop after this many optimiser steps in this run (for tests and quick experiments).
    pub max_steps: Option<u64>,
    /// Samples per section in the test report.
    pub report_count: usize,
    /// How the test set is decoded (default: beam search of width 1024 without scorer, as
    /// DeepSpeech; greedy with [`DecodeOptions::greedy`]).
    pub decoder: DecodeOptions,
    /// On-the-fly augmentation of the training set (`--augment`), applied in order: signal
    /// augmentations, then feature augmentations. Dev and test sets are never augmented.
    pub augmentations: Vec<Augmentation>,
    /// Show progress bars (on a terminal), or progress lines (otherwise).
    pub progress: bool,
    /// When stderr is not a terminal (a log file, CI), a progress line after every this many
    /// steps, and at least once a minute.
    pub log_steps: u64,
    /// Compute device.
    pub device: Device,
}

impl TrainOptions {
    /// DeepSpeech's defaults with the given alphabet (CPU, no files).
    pub fn new(alphabet: Alphabet) -> Self {
        Self {
            train_files: vec![],
            dev_files: vec![],
            test_files: vec![],
            train_batch_size: 1,
            dev_batch_size: 1,
            test_batch_size: 1,
            epochs: 75,
            learning_rate: 1e-3,
            dropout_rate: 0.05,
            n_hidden: DEFAULT_N_HIDDEN,
            alphabet,
            checkpoint_dir: None,
            checkpoint_secs: 600.0,
            export_dir: None,
            export_f16: false,
            load_checkpoint_dir: None,
            drop_source_layers: 0,
            widen_source: false,
            es_epochs: 25,
            es_min_delta: 0.05,
            reduce_lr_on_plateau: false,
            plateau_epochs: 10,
            plateau_reduction: 0.1,
            seed: 4568,
            feature_cache: None,
            shuffle_batches: false,
            max_steps: None,
            report_count: 5,
            decoder: DecodeOptions::default(),
            augmentations: vec![],
            progress: true,
            log_steps: 100,
            device: Device::Cpu,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct TrainSummary {
    /// Finished epochs (including resumed ones).
    pub history: Vec<EpochRecord>,
    /// Optimiser steps taken in total.
    pub steps: u64,
    /// Optimiser steps taken by this run.
    pub steps_this_run: u64,
    /// Where `--max_steps` stopped the run, when it did: inside this epoch.
    pub stopped_early: Option<PartialEpoch>,
    /// The weights the export and the test report used: the best dev checkpoint, when the
    /// checkpoint folder has one, else `None` for the weights as training left them.
    pub evaluated: Option<PathBuf>,
    /// Whether this run resumed from a checkpoint.
    pub resumed: bool,
    /// Rows and samples left out, with reasons.
    pub skipped: Vec<Skipped>,
    /// The exported model, if any.
    pub exported: Option<PathBuf>,
    /// The test report, if a test set was given.
    pub test: Option<Report>,
}

/// An epoch that `--max_steps` interrupted.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialEpoch {
    /// 0-based epoch.
    pub epoch: usize,
    /// Batches of it trained.
    pub batches_done: usize,
    /// Batches in it.
    pub batches: usize,
    /// Mean training loss over the batches trained.
    pub train_loss: f64,
}

/// A dataset with its features.
pub(crate) struct Prepared {
    wavs: Vec<PathBuf>,
    transcripts: Vec<String>,
    labels: Vec<Vec<u32>>,
    features: Vec<Option<FeatureMatrix>>,
    /// 16 kHz audio of the usable samples (i16), kept only for signal augmentation.
    audio: Vec<Option<Vec<i16>>>,
    /// Augmentation of this set's batches (empty for dev and test).
    augmenter: Augmenter,
}

impl Prepared {
    /// Reads the CSVs and computes (or loads cached) features on all cores; uses the options'
    /// alphabet, feature cache and progress setting.
    pub(crate) fn load(
        files: &[PathBuf],
        what: &str,
        options: &TrainOptions,
        config: &FeatureConfig,
        skipped: &mut Vec<Skipped>,
    ) -> Result<Self> {
        let set = Dataset::load(files, &options.alphabet, what)?;
        skipped.extend(set.skipped.iter().cloned());
        let bar = progress_bar(
            options.progress,
            set.samples.len() as u64,
            &format!("{what} features"),
        );
        if let Some(dir) = &options.feature_cache {
            std::fs::create_dir_all(dir).map_err(|reason| CheckpointError::Io {
                path: dir.clone(),
                reason,
            })?;
        }
        let (features, bad) = features::compute(
            &set.samples,
            config,
            options.feature_cache.as_deref(),
            &|| bar.inc(1),
        );
        bar.finish_and_clear();
        skipped.extend(bad);
        if features.iter().all(Option::is_none) {
            return Err(crate::error::DatasetError::Empty {
                what: what.to_owned(),
                detail: "no sample has readable audio long enough for its transcript".into(),
            }
            .into());
        }
        Ok(Self {
            wavs: set.samples.iter().map(|s| s.wav.clone()).collect(),
            transcripts: set.samples.iter().map(|s| s.transcript.clone()).collect(),
            labels: set.samples.iter().map(|s| s.labels.clone()).collect(),
            features,
            audio: vec![],
            augmenter: Augmenter::default(),
        })
    }

    /// Augments this set's batches from now on; with signal augmentations, keeps the decoded
    /// audio of every usable sample in memory.
    fn augment(&mut self, augmenter: Augmenter, progress: bool) {
        self.augmenter = augmenter;
        if !self.augmenter.has_signal() {
            return;
        }
        let keep: Vec<bool> = self.features.iter().map(Option::is_some).collect();
        let bar = progress_bar(progress, keep.len() as u64, "train audio");
        self.audio = features::load_audio(&self.wavs, &keep, &|| bar.inc(1));
        bar.finish_and_clear();
    }

    /// The set as the evaluation takes it.
    pub(crate) fn eval_set(&self) -> EvalSet<'_> {
        EvalSet {
            wavs: &self.wavs,
            transcripts: &self.transcripts,
            labels: &self.labels,
            features: &self.features,
        }
    }

    /// Number of samples with features (the others were skipped).
    pub(crate) fn usable(&self) -> usize {
        self.features.iter().flatten().count()
    }

    fn lengths(&self) -> Vec<Option<usize>> {
        self.features
            .iter()
            .map(|m| m.as_ref().map(|m| m.frames))
            .collect()
    }
}

/// A progress bar on stderr (hidden when `show` is false).
pub(crate) fn progress_bar(show: bool, len: u64, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>14} {bar:40} {pos}/{len} {msg} [{elapsed_precise}<{eta}]",
        )
        .expect("valid template"),
    );
    bar.set_prefix(what.to_owned());
    bar
}

/// Draws the initial weights from the run's seed (candle's CPU RNG cannot be seeded), with
/// DeepSpeech's initialisers: Glorot-uniform dense weights, uniform(±1/√H) LSTM weights, zero
/// biases.
fn init_weights(varmap: &VarMap, config: &Config, seed: u64) -> candle::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x005E_ED0F_DEE9);
    let data = varmap.data().lock().expect("varmap lock");
    for (name, shape) in config.tensor_shapes() {
        let var = &data[&name];
        let n: usize = shape.iter().product();
        let bound = if name.ends_with("bias") || name.contains("bias_") {
            0.0
        } else if name.starts_with("lstm.") {
            1.0 / (config.n_hidden as f64).sqrt()
        } else {
            (6.0 / (shape[0] + shape[1]) as f64).sqrt()
        };
        let values: Vec<f32> = (0..n)
            .map(|_| {
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                ((2.0 * u - 1.0) * bound) as f32
            })
            .collect();
        var.set(&candle::Tensor::from_vec(values, shape, var.device())?)?;
    }
    Ok(())
}

/// Layer prefixes from the output backwards, for `--drop_source_layers`.
const LAYERS_FROM_OUTPUT: [&str; 6] = [
    "layer_6", "layer_5", "lstm", "layer_3", "layer_2", "layer_1",
];

/// Loads weights to fine-tune from: an exported model file, a folder holding
/// `model.safetensors`, or a checkpoint folder. The last `drop` layers keep their fresh
/// initialisation (so the output layer can change alphabet). With `widen`, a narrower source is
/// widened into the fresh weights ([`widen::widen`]).
fn load_source_weights(
    path: &Path,
    varmap: &VarMap,
    config: &Config,
    drop: usize,
    widen: bool,
) -> Result<()> {
    let file = model_file(path)?;
    let read = model::io::read(&file)?;
    let prefix = if read.tensors.keys().any(|k| k.starts_with("model.")) {
        "model."
    } else {
        ""
    };
    let dropped = &LAYERS_FROM_OUTPUT[..drop.min(LAYERS_FROM_OUTPUT.len())];
    // What the source's tensors must look like to be widened: this model at the source's width,
    // so that only hidden axes may differ (not the alphabet, nor the input features).
    let narrow_shapes: std::collections::HashMap<String, Vec<usize>> = if widen {
        let narrow = Config {
            n_hidden: file_n_hidden(&file)?,
            ..config.clone()
        };
        narrow.tensor_shapes().into_iter().collect()
    } else {
        Default::default()
    };
    let data = varmap.data().lock().expect("varmap lock");
    for (name, expected) in config.tensor_shapes() {
        if dropped
            .iter()
            .any(|layer| name.starts_with(&format!("{layer}.")))
        {
            continue;
        }
        let key = format!("{prefix}{name}");
        let tensor = read
            .tensors
            .get(&key)
            .ok_or_else(|| CheckpointError::Corrupt {
                path: file.clone(),
                reason: format!("tensor `{key}` is missing"),
            })?;
        if tensor.dims() != expected.as_slice() {
            if widen && narrow_shapes.get(&name).map(Vec::as_slice) == Some(tensor.dims()) {
                let widened =
                    widen::widen(&name, tensor, data[&name].as_tensor()).map_err(|error| {
                        CheckpointError::Corrupt {
                            path: file.clone(),
                            reason: error.to_string(),
                        }
                    })?;
                data[&name].set(&widened)?;
                continue;
            }
            return Err(CheckpointError::ShapeMismatch {
                path: file.clone(),
                tensor: key,
                expected,
                found: tensor.dims().to_vec(),
            }
            .into());
        }
        data[&name].set(&tensor.to_device(data[&name].device())?)?;
    }
    Ok(())
}

/// The weights file behind `path`: the path itself when it is a file, else the folder's
/// `model.safetensors`, `best.safetensors` or `last.safetensors`, the first that exists, else the
/// folder itself when it is a DeepSpeech / Coqui STT (TensorFlow) checkpoint folder.
pub(crate) fn model_file(path: &Path) -> Result<PathBuf, CheckpointError> {
    if !path.is_dir() {
        return Ok(path.to_owned());
    }
    let ours = [
        path.join("model.safetensors"),
        checkpoint::best_path(path),
        checkpoint::last_path(path),
    ];
    // A DeepSpeech / Coqui STT training checkpoint folder is read as a whole (model::io::read).
    if !ours.iter().any(|p| p.is_file()) && model::formats::is_tf_checkpoint(path) {
        return Ok(path.to_owned());
    }
    [
        path.join("model.safetensors"),
        checkpoint::best_path(path),
        checkpoint::last_path(path),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .ok_or_else(|| CheckpointError::Corrupt {
        path: path.to_owned(),
        reason: "no model.safetensors, best.safetensors or last.safetensors in it, and no \
                 TensorFlow checkpoint (a `checkpoint` or `best_dev_checkpoint` file)"
            .into(),
    })
}

/// Trains (and/or evaluates) as the options say, in this process alone.
pub fn run(options: &TrainOptions) -> Result<TrainSummary> {
    run_with(options, &Single)
}

/// Trains (and/or evaluates) as the options say, as one rank of a data-parallel run over `comm`
/// (with [`Single`], exactly [`run`]).
///
/// With N ranks, batches are planned with N × `train_batch_size` samples, exactly as one
/// process with that batch size would plan them, and each rank trains on its shard
/// ([`distributed::shard`]) of every batch. Each rank's loss is its shard's CTC loss sum divided
/// by the global batch size, so the gradients summed over ranks are those of the mean loss over
/// the global batch, and the same Adam update runs on every rank. Every rank starts from the same
/// weights: the same seed, the same `load_checkpoint_dir`, or the same `last.safetensors` in
/// `checkpoint_dir` (a folder all ranks can read); this is checked before training. Rank 0 alone
/// shows progress, writes checkpoints, exports and evaluates the test set; the other ranks
/// return a summary without export or test report. The dev loss is computed by all ranks, each
/// on every N-th dev batch ([`evaluate::loss_sum`]), and summed.
///
/// Augmentation draws its randomness per sample, so it does not depend on the split. Dropout
/// masks do: each rank draws them from its own stream, seeded per step from the shared RNG, so a
/// run with dropout matches a one-process run only in distribution.
pub fn run_with(options: &TrainOptions, comm: &dyn Collective) -> Result<TrainSummary> {
    let rank_options;
    let options = if comm.rank() == 0 {
        options
    } else {
        rank_options = TrainOptions {
            progress: false,
            ..options.clone()
        };
        &rank_options
    };
    let writer = comm.rank() == 0;
    if !options.test_files.is_empty() {
        // Refuse bad decoder settings before training, not after.
        options.decoder.validate()?;
    }
    let mut config = Config::new(options.n_hidden, &options.alphabet);
    config.dropout = [options.dropout_rate; 4];
    let mut summary = TrainSummary::default();

    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &options.device);
    let model = DeepSpeech::new(config.clone(), vb)?;
    init_weights(&varmap, &config, options.seed)?;
    let resume_from = resumable(options.checkpoint_dir.as_deref());
    // A resumed run restores its own weights: the source only starts a run.
    if let (Some(source), None) = (&options.load_checkpoint_dir, &resume_from) {
        load_source_weights(
            source,
            &varmap,
            &config,
            options.drop_source_layers,
            options.widen_source,
        )?;
    }
    let mut adam = Adam::new(
        checkpoint::named_vars(&varmap),
        AdamConfig {
            learning_rate: options.learning_rate,
            ..Default::default()
        },
    )?;
    let mut state = TrainState {
        epoch: 0,
        batch_in_epoch: 0,
        step: 0,
        learning_rate: options.learning_rate,
        best_dev_loss: None,
        epochs_without_improvement: 0,
        epoch_loss_sum: 0.0,
        epoch_samples: 0,
        rng: ChaCha8Rng::seed_from_u64(options.seed),
        history: vec![],
    };
    if let Some(dir) = &options.checkpoint_dir {
        std::fs::create_dir_all(dir).map_err(|reason| CheckpointError::Io {
            path: dir.clone(),
            reason,
        })?;
        if let Some(last) = resume_from {
            let ckpt = checkpoint::load(&last, &config)?;
            checkpoint::restore(&ckpt, &mut adam, &last)?;
            state = ckpt.state;
            adam.config.learning_rate = state.learning_rate;
            summary.resumed = true;
            if options.progress {
                eprintln!(
                    "Resuming from {} (epoch {}, batch {}, step {})",
                    last.display(),
                    state.epoch,
                    state.batch_in_epoch,
                    state.step
                );
            }
        }
    }

    if comm.size() > 1 {
        check_ranks_agree(comm, &adam, &state)?;
    }

    if options.train_files.is_empty() && !summary.resumed && options.load_checkpoint_dir.is_none() {
        return Err(CheckpointError::Corrupt {
            path: options.checkpoint_dir.clone().unwrap_or_default(),
            reason: "evaluating without training needs a model: give --checkpoint_dir with a \
                     checkpoint in it, or --load_checkpoint_dir"
                .into(),
        }
        .into());
    }
    if !options.train_files.is_empty() {
        let augmenter = Augmenter::new(options.augmentations.clone())?;
        if options.progress && !augmenter.is_empty() {
            eprintln!("Augmentation: {}", augmenter.specs().join(" "));
        }
        let mut train = Prepared::load(
            &options.train_files,
            "train",
            options,
            &config.features,
            &mut summary.skipped,
        )?;
        train.augment(augmenter, options.progress);
        let dev = if options.dev_files.is_empty() {
            None
        } else {
            Some(Prepared::load(
                &options.dev_files,
                "dev",
                options,
                &config.features,
                &mut summary.skipped,
            )?)
        };
        let (steps_this_run, stopped_early) = train_epochs(
            options,
            comm,
            &config,
            &model,
            &mut adam,
            &mut state,
            &train,
            dev.as_ref(),
        )?;
        summary.history = state.history.clone();
        summary.steps = state.step;
        summary.steps_this_run = steps_this_run;
        summary.stopped_early = stopped_early;
    }
    // One rule for what is exported and tested: the best dev checkpoint when the folder has one
    // (as ds-tune reads), else the weights as training left them.
    let evaluates = options.export_dir.is_some() || !options.test_files.is_empty();
    if writer && evaluates {
        let best = options
            .checkpoint_dir
            .as_ref()
            .map(|d| checkpoint::best_path(d))
            .filter(|p| p.is_file());
        if let Some(best) = best {
            let ckpt = checkpoint::load(&best, &config)?;
            checkpoint::restore(&ckpt, &mut adam, &best)?;
            summary.evaluated = Some(best);
        }
    }
    // Also without training files: `--checkpoint_dir X --export_dir Y` exports a checkpoint, as
    // DeepSpeech did.
    if let Some(dir) = options.export_dir.as_ref().filter(|_| writer) {
        summary.exported = Some(export(options, dir, &config, &adam)?);
    }

    if !options.test_files.is_empty() && writer {
        let test = Prepared::load(
            &options.test_files,
            "test",
            options,
            &config.features,
            &mut summary.skipped,
        )?;
        summary.test = Some(test_report(options, &model, &test)?);
    }
    Ok(summary)
}

/// Evaluates the test set with the options' decoder, with a progress bar (model, then decoder).
fn test_report(options: &TrainOptions, model: &DeepSpeech, test: &Prepared) -> Result<Report> {
    let bar = progress_bar(options.progress, 2 * test.usable() as u64, "test");
    let report = evaluate::evaluate(
        model,
        &test.eval_set(),
        &options.alphabet,
        options.test_batch_size,
        &options.device,
        &options.decoder,
        &bar,
    );
    bar.finish_and_clear();
    report
}

/// Exports the model's current weights (those [`run_with`] chose to evaluate).
fn export(options: &TrainOptions, dir: &Path, config: &Config, adam: &Adam) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|reason| CheckpointError::Io {
        path: dir.to_owned(),
        reason,
    })?;
    let path = dir.join("model.safetensors");
    let weights = checkpoint::weights(adam);
    let dtype = if options.export_f16 {
        DType::F16
    } else {
        DType::F32
    };
    model::io::export(&path, config, &weights, dtype)?;
    Ok(path)
}

/// Fails unless every rank starts at the same step with the same weights (a checkpoint folder
/// that not all ranks can read, or different flags, would make them train apart).
fn check_ranks_agree(comm: &dyn Collective, adam: &Adam, state: &TrainState) -> Result<()> {
    let mut checksum = 0f64;
    for slot in &adam.slots {
        checksum += slot
            .var
            .as_tensor()
            .to_dtype(DType::F64)?
            .sum_all()?
            .to_scalar::<f64>()?;
    }
    let own = [
        state.epoch as f64,
        state.batch_in_epoch as f64,
        state.step as f64,
        checksum,
    ];
    let mut first = own;
    comm.broadcast_f64(&mut first);
    if own != first {
        return Err(Error::Distributed(format!(
            "rank {} starts at epoch {}, batch {}, step {} with weight sum {} but rank 0 at epoch \
             {}, batch {}, step {} with weight sum {}: every rank needs the same flags and must \
             read the same checkpoint folder",
            comm.rank(),
            own[0],
            own[1],
            own[2],
            own[3],
            first[0],
            first[1],
            first[2],
            first[3]
        )));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn train_epochs(
    options: &TrainOptions,
    comm: &dyn Collective,
    config: &Config,
    model: &DeepSpeech,
    adam: &mut Adam,
    state: &mut TrainState,
    train: &Prepared,
    dev: Option<&Prepared>,
) -> Result<(u64, Option<PartialEpoch>)> {
    let ctc = CtcOptions {
        blank: options.alphabet.blank(),
        impossible: Impossible::ZeroLoss,
    };
    // Global batches: what one process with N × the batch size would train on.
    let plan = batch::plan(&train.lengths(), options.train_batch_size * comm.size());
    let checkpoint_dir = options.checkpoint_dir.as_ref().filter(|_| comm.rank() == 0);
    let mut last_checkpoint = Instant::now();
    let mut steps_this_run = 0u64;
    let mut log = StepLog::new(options.progress, options.log_steps);
    while state.epoch < options.epochs {
        let started = Instant::now();
        let batch_at_start = state.batch_in_epoch;
        let order = epoch_order(options, state.epoch, plan.len());
        let bar = progress_bar(
            options.progress,
            plan.len() as u64,
            &format!("epoch {}", state.epoch),
        );
        bar.set_position(state.batch_in_epoch as u64);
        for &b in &order[state.batch_in_epoch..] {
            if options.max_steps.is_some_and(|m| steps_this_run >= m) {
                bar.abandon();
                if let Some(dir) = checkpoint_dir {
                    checkpoint::save(&checkpoint::last_path(dir), config, adam, state)?;
                }
                let partial = PartialEpoch {
                    epoch: state.epoch,
                    batches_done: state.batch_in_epoch,
                    batches: order.len(),
                    train_loss: state.epoch_loss_sum / state.epoch_samples.max(1) as f64,
                };
                return Ok((steps_this_run, Some(partial)));
            }
            let batch_loss = if comm.size() == 1 {
                let batch = train_batch(train, &plan[b], options, state.epoch, config)?;
                let logits = model.forward(
                    &batch.x,
                    Some(Dropout {
                        rng: &mut state.rng,
                    }),
                )?;
                let losses = ctc_loss(&logits, &batch.targets, &batch.lengths, &ctc)?;
                let loss = losses.mean_all()?;
                adam.backward_step(&loss)?;
                f64::from(loss.to_scalar::<f32>()?)
            } else {
                distributed_step(comm, options, config, model, adam, state, train, &plan[b])?
            };
            state.step += 1;
            steps_this_run += 1;
            state.batch_in_epoch += 1;
            state.epoch_loss_sum += batch_loss * plan[b].len() as f64;
            state.epoch_samples += plan[b].len();
            bar.inc(1);
            log.step(state, order.len(), batch_at_start, started);
            bar.set_message(format!(
                "loss {:.3} | {:.1} samples/s",
                state.epoch_loss_sum / state.epoch_samples.max(1) as f64,
                state.epoch_samples as f64 / started.elapsed().as_secs_f64().max(1e-9)
            ));
            if let Some(dir) = checkpoint_dir
                && last_checkpoint.elapsed().as_secs_f64() >= options.checkpoint_secs
                && state.batch_in_epoch < order.len()
            {
                checkpoint::save(&checkpoint::last_path(dir), config, adam, state)?;
                last_checkpoint = Instant::now();
            }
        }
        bar.finish_and_clear();
        let stop = finish_epoch(options, comm, config, model, adam, state, dev, started)?;
        last_checkpoint = Instant::now();
        if stop {
            break;
        }
    }
    Ok((steps_this_run, None))
}

/// Progress as lines on stderr when it is not a terminal (where the bars do not show): after
/// every `every` steps and at least once a minute.
struct StepLog {
    enabled: bool,
    every: u64,
    last: Instant,
    steps: u64,
}

impl StepLog {
    fn new(progress: bool, every: u64) -> Self {
        Self {
            enabled: progress && !std::io::stderr().is_terminal(),
            every: every.max(1),
            last: Instant::now(),
            steps: 0,
        }
    }

    /// Called after each step of an epoch of `batches` batches that this run entered at
    /// `batch_at_start` at the time `started`.
    fn step(
        &mut self,
        state: &TrainState,
        batches: usize,
        batch_at_start: usize,
        started: Instant,
    ) {
        self.steps += 1;
        if !self.enabled
            || (!self.steps.is_multiple_of(self.every) && self.last.elapsed().as_secs() < 60)
        {
            return;
        }
        self.last = Instant::now();
        let done = state.batch_in_epoch.saturating_sub(batch_at_start).max(1);
        let secs = started.elapsed().as_secs_f64();
        let per_step = secs / done as f64;
        let eta = per_step * batches.saturating_sub(state.batch_in_epoch) as f64;
        eprintln!(
            "epoch {} | batch {}/{} | step {} | loss {:.3} | {:.2} steps/s | epoch ends in {}",
            state.epoch,
            state.batch_in_epoch,
            batches,
            state.step,
            state.epoch_loss_sum / state.epoch_samples.max(1) as f64,
            1.0 / per_step.max(1e-9),
            clock(eta)
        );
    }
}

/// Seconds as `h:mm:ss`.
fn clock(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The batch of the training samples `indices`, augmented if the set is.
fn train_batch(
    train: &Prepared,
    indices: &[usize],
    options: &TrainOptions,
    epoch: usize,
    config: &Config,
) -> Result<batch::Batch> {
    let n_context = config.features.n_context;
    Ok(if train.augmenter.is_empty() {
        batch::build(
            &train.features,
            &train.labels,
            indices,
            n_context,
            &options.device,
        )?
    } else {
        let mats = augmented_batch(train, indices, options.seed, epoch, &config.features);
        let refs: Vec<&FeatureMatrix> = mats.iter().collect();
        batch::assemble(&refs, &train.labels, indices, n_context, &options.device)?
    })
}

/// One data-parallel step on the global batch `indices`: this rank's shard, its loss sum divided
/// by the global batch size, backpropagation, gradients (and loss) summed over the ranks, then
/// the same Adam update on every rank. Returns the global batch's mean loss.
#[allow(clippy::too_many_arguments)]
fn distributed_step(
    comm: &dyn Collective,
    options: &TrainOptions,
    config: &Config,
    model: &DeepSpeech,
    adam: &mut Adam,
    state: &mut TrainState,
    train: &Prepared,
    indices: &[usize],
) -> Result<f64> {
    let ctc = CtcOptions {
        blank: options.alphabet.blank(),
        impossible: Impossible::ZeroLoss,
    };
    let n = indices.len();
    let mine = distributed::shard(indices, comm.rank(), comm.size());
    // Each rank draws its dropout masks from its own stream, seeded from the shared RNG (which
    // thus advances alike on every rank and resumes from rank 0's checkpoint).
    let mut dropout_rng = ChaCha8Rng::seed_from_u64(
        state.rng.next_u64() ^ (comm.rank() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let mut loss_sum = [0f64];
    let grads = if mine.is_empty() {
        None
    } else {
        let batch = train_batch(train, mine, options, state.epoch, config)?;
        if !options.device.is_cpu() {
            // A GPU draws its dropout masks from its own generator: seeded from the same
            // stream, so a resumed run draws the same masks there too.
            options.device.set_seed(dropout_rng.next_u64())?;
        }
        let logits = model.forward(
            &batch.x,
            Some(Dropout {
                rng: &mut dropout_rng,
            }),
        )?;
        let losses = ctc_loss(&logits, &batch.targets, &batch.lengths, &ctc)?;
        let sum = losses.sum_all()?;
        loss_sum[0] = f64::from(sum.to_scalar::<f32>()?);
        Some((sum / n as f64)?.backward()?)
    };
    let total: usize = adam.slots.iter().map(|s| s.var.elem_count()).sum();
    let mut flat = Vec::with_capacity(total);
    for slot in &adam.slots {
        match grads.as_ref().and_then(|g| g.get(slot.var.as_tensor())) {
            Some(g) => flat.extend(g.flatten_all()?.to_vec1::<f32>()?),
            None => flat.extend(std::iter::repeat_n(0f32, slot.var.elem_count())),
        }
    }
    comm.sum_f32(&mut flat);
    comm.sum_f64(&mut loss_sum);
    let mut offset = 0;
    let mut summed = Vec::with_capacity(adam.slots.len());
    for slot in &adam.slots {
        let len = slot.var.elem_count();
        let g = Tensor::from_slice(
            &flat[offset..offset + len],
            slot.var.shape(),
            slot.var.device(),
        )?;
        summed.push(Some(g));
        offset += len;
    }
    adam.update_slots(&summed)?;
    Ok(loss_sum[0] / n as f64)
}

/// The augmented features of a batch's samples, computed on all cores; each sample's
/// randomness depends only on (seed, epoch, sample index), so resuming changes nothing.
fn augmented_batch(
    train: &Prepared,
    indices: &[usize],
    seed: u64,
    epoch: usize,
    config: &FeatureConfig,
) -> Vec<FeatureMatrix> {
    indices
        .par_iter()
        .map_init(
            || MfccExtractor::new(config.clone()),
            |extractor, &i| {
                let cached = train.features[i]
                    .as_ref()
                    .expect("planned samples have features");
                train.augmenter.augment_sample(
                    extractor,
                    train.audio.get(i).and_then(Option::as_deref),
                    cached,
                    features::required_frames(&train.labels[i]),
                    &mut augment::sample_rng(seed, epoch, i),
                )
            },
        )
        .collect()
}

/// The order of batches in an epoch: shortest first, or shuffled from the seed and epoch.
fn epoch_order(options: &TrainOptions, epoch: usize, batches: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..batches).collect();
    if options.shuffle_batches {
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed.wrapping_add(epoch as u64 + 1));
        for i in (1..order.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
    }
    order
}

/// Dev loss, history, best/last checkpoints, plateau and early stopping. Returns whether to
/// stop.
#[allow(clippy::too_many_arguments)]
fn finish_epoch(
    options: &TrainOptions,
    comm: &dyn Collective,
    config: &Config,
    model: &DeepSpeech,
    adam: &mut Adam,
    state: &mut TrainState,
    dev: Option<&Prepared>,
    started: Instant,
) -> Result<bool> {
    let train_loss = state.epoch_loss_sum / state.epoch_samples.max(1) as f64;
    let dev_loss = match dev {
        Some(dev) if comm.size() == 1 => Some(evaluate::mean_loss(
            model,
            &dev.eval_set(),
            options.dev_batch_size,
            &options.device,
        )?),
        Some(dev) => {
            // Each rank takes every N-th dev batch; the sums make the same dev loss on every
            // rank, so that all take the same plateau and early-stopping decisions.
            let (sum, n) = evaluate::loss_sum(
                model,
                &dev.eval_set(),
                options.dev_batch_size,
                &options.device,
                comm.rank(),
                comm.size(),
            )?;
            let mut totals = [sum, n as f64];
            comm.sum_f64(&mut totals);
            Some(totals[0] / totals[1].max(1.0))
        }
        None => None,
    };
    state.history.push(EpochRecord {
        epoch: state.epoch,
        train_loss,
        dev_loss,
        learning_rate: state.learning_rate,
        seconds: started.elapsed().as_secs_f64(),
    });
    if options.progress {
        let dev_text = dev_loss.map_or(String::new(), |d| format!(" | dev loss {d:.6}"));
        eprintln!(
            "Epoch {:>3} | train loss {train_loss:.6}{dev_text} | lr {:.2e} | {:.1} s",
            state.epoch,
            state.learning_rate,
            started.elapsed().as_secs_f64()
        );
    }
    let mut improved = false;
    if let Some(d) = dev_loss {
        improved = state
            .best_dev_loss
            .is_none_or(|best| d < best - options.es_min_delta);
        if improved {
            state.best_dev_loss = Some(d);
            state.epochs_without_improvement = 0;
        } else {
            state.epochs_without_improvement += 1;
        }
    }
    state.epoch += 1;
    state.batch_in_epoch = 0;
    state.epoch_loss_sum = 0.0;
    state.epoch_samples = 0;
    let mut stop = false;
    if dev_loss.is_some() {
        if options.reduce_lr_on_plateau
            && state.epochs_without_improvement > 0
            && state
                .epochs_without_improvement
                .is_multiple_of(options.plateau_epochs.max(1))
        {
            state.learning_rate *= options.plateau_reduction;
            adam.config.learning_rate = state.learning_rate;
            if options.progress {
                eprintln!(
                    "Dev loss plateaued: learning rate reduced to {:.2e}",
                    state.learning_rate
                );
            }
        }
        if options.es_epochs > 0 && state.epochs_without_improvement >= options.es_epochs {
            if options.progress {
                eprintln!(
                    "Early stop: no dev-loss improvement of {} for {} epochs",
                    options.es_min_delta, options.es_epochs
                );
            }
            stop = true;
        }
    }
    if let Some(dir) = options.checkpoint_dir.as_ref().filter(|_| comm.rank() == 0) {
        checkpoint::save(&checkpoint::last_path(dir), config, adam, state)?;
        if improved {
            checkpoint::save(&checkpoint::best_path(dir), config, adam, state)?;
        }
        write_history(dir, &state.history)?;
        match plot::plot_losses(&dir.join("loss.png"), &state.history) {
            Ok(true) => {}
            Ok(false) if state.history.len() == 1 => {
                eprintln!(
                    "ds-train: no TrueType font installed (fonts-dejavu-core): loss.png skipped"
                )
            }
            Ok(false) => {}
            Err(e) => eprintln!("ds-train: cannot draw loss.png: {e}"),
        }
    }
    Ok(stop)
}

/// `history.csv` in the checkpoint folder: one line per epoch.
fn write_history(dir: &Path, history: &[EpochRecord]) -> Result<()> {
    let mut text = String::from("epoch,train_loss,dev_loss,learning_rate,seconds\n");
    for r in history {
        text.push_str(&format!(
            "{},{},{},{},{:.3}\n",
            r.epoch,
            r.train_loss,
            r.dev_loss.map_or(String::new(), |d| d.to_string()),
            r.learning_rate,
            r.seconds
        ));
    }
    let path = dir.join("history.csv");
    std::fs::write(&path, text).map_err(|reason| CheckpointError::Io { path, reason })?;
    Ok(())
}
