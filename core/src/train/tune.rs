//! Language-model weight tuning behind `ds-tune`, DeepSpeech's `lm_optimizer.py`: the acoustic
//! model runs once over a dev set, then the beam search with the scorer decodes it again for
//! every trial `(alpha, beta)` (on all cores), and the pair with the lowest WER wins.
//!
//! DeepSpeech searches with Optuna's TPE sampler; here the trials are a regular grid or
//! uniformly random points in `[0, alpha_max] × [0, beta_max]` ([`trial_points`]), which needs
//! no state between trials and gives the same result on every run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::decoder::{BeamConfig, HotWords};
use crate::error::{CheckpointError, DecoderError, Result};
use crate::lm::Scorer;
use crate::model::DeepSpeech;
use crate::model::io::{self, FORMAT_KEY, MODEL_FORMAT};
use crate::train::TrainOptions;
use crate::train::checkpoint::CHECKPOINT_FORMAT;
use crate::train::dataset::Skipped;
use crate::train::evaluate::{self, AcousticOutput, DecodeOptions};
use crate::train::trainer::{Prepared, model_file, progress_bar};

/// How the trial points are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMethod {
    /// A regular grid including both ends of each range (see [`trial_points`]).
    Grid,
    /// Uniformly random points drawn from this seed.
    Random {
        /// Seed of the generator.
        seed: u64,
    },
}

/// Everything `ds-tune` can be told.
#[derive(Debug, Clone)]
pub struct TuneOptions {
    /// Dev-set CSVs (DeepSpeech CSVs, as for `ds-train`).
    pub files: Vec<PathBuf>,
    /// Samples per batch when running the acoustic model.
    pub batch_size: usize,
    /// The acoustic model: an exported model file, a folder holding `model.safetensors`, or a
    /// checkpoint folder (`best.safetensors`, else `last.safetensors`).
    pub model: PathBuf,
    /// The scorer to tune (its own alpha and beta are ignored).
    pub scorer: Scorer,
    /// Upper end of the alpha range (the lower end is 0).
    pub alpha_max: f32,
    /// Upper end of the beta range (the lower end is 0).
    pub beta_max: f32,
    /// Number of trials (a grid may use fewer, see [`trial_points`]).
    pub n_trials: usize,
    /// Grid or random search.
    pub search: SearchMethod,
    /// Beam width and class pruning of the decoding.
    pub beam: BeamConfig,
    /// Hot-words applied in every trial.
    pub hot_words: HotWords,
    /// Folder for cached features.
    pub feature_cache: Option<PathBuf>,
    /// Show progress bars.
    pub progress: bool,
    /// Device the acoustic model runs on.
    pub device: Device,
}

impl TuneOptions {
    /// DeepSpeech's `lm_optimizer` defaults (alpha and beta up to 5, beam 1024) with a 5 × 5
    /// grid, batch size 1, on the CPU.
    pub fn new(files: Vec<PathBuf>, model: PathBuf, scorer: Scorer) -> Self {
        Self {
            files,
            batch_size: 1,
            model,
            scorer,
            alpha_max: 5.0,
            beta_max: 5.0,
            n_trials: 25,
            search: SearchMethod::Grid,
            beam: BeamConfig::default(),
            hot_words: HotWords::new(),
            feature_cache: None,
            progress: true,
            device: Device::Cpu,
        }
    }
}

/// One decoded trial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// Language model weight.
    pub alpha: f32,
    /// Word insertion bonus.
    pub beta: f32,
    /// Word error rate over the set.
    pub wer: f64,
    /// Character error rate over the set.
    pub cer: f64,
}

/// What a tuning run found.
#[derive(Debug, Clone)]
pub struct TuneSummary {
    /// Every trial, in the order run.
    pub trials: Vec<Trial>,
    /// The trial with the lowest WER (ties: lowest CER, then the earliest).
    pub best: Trial,
    /// Samples decoded per trial.
    pub samples: usize,
    /// Rows and samples left out, with reasons.
    pub skipped: Vec<Skipped>,
}

/// `k` evenly spaced values from 0 to `max` inclusive; one value is the middle of the range.
fn linspace(k: usize, max: f32) -> Vec<f32> {
    match k {
        0 => vec![],
        1 => vec![max / 2.0],
        _ => (0..k)
            .map(|i| (f64::from(max) * i as f64 / (k - 1) as f64) as f32)
            .collect(),
    }
}

/// The `(alpha, beta)` points to try.
///
/// Grid: `a = ⌊√n⌋` alphas by `b = ⌊n / a⌋` betas, each evenly spaced over its range with
/// both ends included (a single value is the middle), alpha-major; at most `n` points (4 → 2 × 2,
/// 12 → 3 × 4, 25 → 5 × 5). Random: `n` points drawn uniformly from the seed.
pub fn trial_points(
    n: usize,
    alpha_max: f32,
    beta_max: f32,
    search: SearchMethod,
) -> Vec<(f32, f32)> {
    match search {
        SearchMethod::Grid => {
            let a = n.isqrt();
            let b = n.checked_div(a).unwrap_or(0);
            let betas = linspace(b, beta_max);
            linspace(a, alpha_max)
                .into_iter()
                .flat_map(|alpha| betas.iter().map(move |&beta| (alpha, beta)))
                .collect()
        }
        SearchMethod::Random { seed } => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut uniform = move |max: f32| {
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                (u * f64::from(max)) as f32
            };
            (0..n)
                .map(|_| (uniform(alpha_max), uniform(beta_max)))
                .collect()
        }
    }
}

/// Loads a model for inference from an exported model file, a folder holding
/// `model.safetensors`, or a checkpoint folder (`best.safetensors`, else `last.safetensors`;
/// only the weights are read).
pub fn load_inference_model(path: &Path, device: &Device) -> Result<DeepSpeech> {
    let file = model_file(path)?;
    let read = io::read(&file)?;
    let is_checkpoint =
        read.metadata.get(FORMAT_KEY).map(String::as_str) == Some(CHECKPOINT_FORMAT);
    let (format, prefix) = if is_checkpoint {
        (CHECKPOINT_FORMAT, "model.")
    } else {
        (MODEL_FORMAT, "")
    };
    let config = io::config_from_metadata(&file, &read.metadata, format)?;
    io::check_shapes(&file, &config, &read.tensors, prefix)?;
    let candle = |e: candle::Error| CheckpointError::Corrupt {
        path: file.clone(),
        reason: e.to_string(),
    };
    let tensors = read
        .tensors
        .into_iter()
        .filter_map(|(name, t)| Some((name.strip_prefix(prefix)?.to_owned(), t)))
        .map(|(name, t)| Ok((name, t.to_device(device)?)))
        .collect::<candle::Result<HashMap<String, Tensor>>>()
        .map_err(candle)?;
    let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
    Ok(DeepSpeech::new(config, vb).map_err(candle)?)
}

fn validate(options: &TuneOptions) -> Result<()> {
    let bad = |what: String| Err(DecoderError::Config(what).into());
    if options.n_trials == 0 {
        return bad("n_trials must be at least 1".into());
    }
    for (name, max) in [
        ("lm_alpha_max", options.alpha_max),
        ("lm_beta_max", options.beta_max),
    ] {
        if !(max.is_finite() && max >= 0.0) {
            return bad(format!("{name} is {max}, not a finite number ≥ 0"));
        }
    }
    if options.beam.beam_width == 0 {
        return bad("beam_width must be at least 1".into());
    }
    Ok(())
}

/// The decoder of one trial.
fn trial_decoder(options: &TuneOptions, alpha: f32, beta: f32) -> DecodeOptions {
    let mut scorer = options.scorer.clone();
    scorer.alpha = alpha;
    scorer.beta = beta;
    DecodeOptions {
        beam: options.beam.clone(),
        scorer: Some(scorer),
        hot_words: options.hot_words.clone(),
    }
}

/// Runs the acoustic model once over the set, then decodes it for every trial point;
/// `on_trial(i, trial)` sees each trial as it finishes (with the progress bar out of the way).
pub fn run(options: &TuneOptions, mut on_trial: impl FnMut(usize, &Trial)) -> Result<TuneSummary> {
    validate(options)?;
    let model = load_inference_model(&options.model, &options.device)?;
    let alphabet = model.config().alphabet();
    let mut data_options = TrainOptions::new(alphabet.clone());
    data_options.feature_cache = options.feature_cache.clone();
    data_options.progress = options.progress;
    let mut skipped = Vec::new();
    let set = Prepared::load(
        &options.files,
        "dev",
        &data_options,
        &model.config().features,
        &mut skipped,
    )?;
    let outputs = log_probs(options, &model, &set)?;
    let eval_set = set.eval_set();
    let references: Vec<&str> = outputs
        .iter()
        .map(|o| eval_set.transcripts[o.index].as_str())
        .collect();

    let points = trial_points(
        options.n_trials,
        options.alpha_max,
        options.beta_max,
        options.search,
    );
    let bar = progress_bar(
        options.progress,
        (points.len() * outputs.len()) as u64,
        "trials",
    );
    let mut trials = Vec::with_capacity(points.len());
    for (i, &(alpha, beta)) in points.iter().enumerate() {
        let decoder = trial_decoder(options, alpha, beta);
        let hypotheses = evaluate::decode_all(&outputs, &alphabet, &decoder, &bar)?;
        let (wer, cer) = evaluate::error_rates(
            references
                .iter()
                .copied()
                .zip(hypotheses.iter().map(String::as_str)),
        );
        let trial = Trial {
            alpha,
            beta,
            wer,
            cer,
        };
        bar.set_message(format!("best WER {:.4}", best_of(&trials, trial).wer));
        bar.suspend(|| on_trial(i, &trial));
        trials.push(trial);
    }
    bar.finish_and_clear();
    let best = trials
        .iter()
        .copied()
        .reduce(|best, t| best_of(&[best], t))
        .expect("at least one trial");
    Ok(TuneSummary {
        trials,
        best,
        samples: outputs.len(),
        skipped,
    })
}

/// The better of the best of `so_far` and `candidate`: lower WER, then lower CER, then earlier.
fn best_of(so_far: &[Trial], candidate: Trial) -> Trial {
    so_far
        .iter()
        .copied()
        .chain(std::iter::once(candidate))
        .reduce(|best, t| {
            if (t.wer, t.cer) < (best.wer, best.cer) {
                t
            } else {
                best
            }
        })
        .expect("one candidate at least")
}

/// The acoustic model's log-probabilities over the set, computed once.
fn log_probs(
    options: &TuneOptions,
    model: &DeepSpeech,
    set: &Prepared,
) -> Result<Vec<AcousticOutput>> {
    let bar = progress_bar(options.progress, set.usable() as u64, "dev log-probs");
    let outputs = evaluate::acoustic_outputs(
        model,
        &set.eval_set(),
        options.batch_size,
        &options.device,
        &bar,
    );
    bar.finish_and_clear();
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_covers_both_ends() {
        let p = trial_points(4, 5.0, 2.0, SearchMethod::Grid);
        assert_eq!(p, vec![(0.0, 0.0), (0.0, 2.0), (5.0, 0.0), (5.0, 2.0)]);
        assert_eq!(trial_points(12, 1.0, 1.0, SearchMethod::Grid).len(), 12);
        assert_eq!(trial_points(10, 1.0, 1.0, SearchMethod::Grid).len(), 9);
        assert_eq!(
            trial_points(25, 5.0, 5.0, SearchMethod::Grid)[6],
            (1.25, 1.25)
        );
        assert_eq!(
            trial_points(1, 4.0, 2.0, SearchMethod::Grid),
            vec![(2.0, 1.0)]
        );
    }

    #[test]
    fn random_points_are_seeded_and_in_range() {
        let a = trial_points(50, 5.0, 3.0, SearchMethod::Random { seed: 7 });
        assert_eq!(a.len(), 50);
        assert_eq!(
            a,
            trial_points(50, 5.0, 3.0, SearchMethod::Random { seed: 7 })
        );
        assert_ne!(
            a,
            trial_points(50, 5.0, 3.0, SearchMethod::Random { seed: 8 })
        );
        assert!(
            a.iter()
                .all(|&(x, y)| (0.0..=5.0).contains(&x) && (0.0..=3.0).contains(&y))
        );
    }

    #[test]
    fn best_prefers_lower_wer_then_cer_then_earlier() {
        let t = |wer, cer| Trial {
            alpha: wer as f32,
            beta: cer as f32,
            wer,
            cer,
        };
        assert_eq!(best_of(&[t(0.5, 0.2)], t(0.4, 0.3)), t(0.4, 0.3));
        assert_eq!(best_of(&[t(0.5, 0.2)], t(0.5, 0.1)), t(0.5, 0.1));
        let first = Trial {
            alpha: 9.0,
            ..t(0.5, 0.2)
        };
        assert_eq!(best_of(&[first], t(0.5, 0.2)), first);
    }
}
