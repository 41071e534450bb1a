//! Evaluation as DeepSpeech reports it: loss, WER and CER over a set, then the best, median and
//! worst samples with their reference and hypothesis.
//!
//! The acoustic model runs once per set ([`acoustic_outputs`]); decoding
//! ([`decode_all`], greedy or DeepSpeech's beam search with an optional scorer and hot-words, as
//! [`DecodeOptions`] say) then runs on every core, one sample per task, since the beam search
//! dominates the time.

use std::path::{Path, PathBuf};

use candle::{D, Device, Tensor};
use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::alphabet::Alphabet;
use crate::ctc::{CtcOptions, Impossible, ctc_loss};
use crate::decoder::{BeamConfig, HotWords, beam_search, greedy_decode};
use crate::error::{DecoderError, Result};
use crate::features::FeatureMatrix;
use crate::lm::Scorer;
use crate::metrics::{char_errors, rate, word_errors};
use crate::model::DeepSpeech;
use crate::train::batch;

/// Loads the external scorer at `path` with DeepSpeech's default weights and the model's
/// vocabulary restriction. For now an ARPA file; the one place to change when other scorer
/// formats arrive.
pub fn load_scorer(path: &Path) -> Result<Scorer> {
    Scorer::from_file(path)
}

/// How transcripts are decoded from the acoustic model's log-probabilities.
///
/// Greedy (best path) when there is no scorer and `beam.beam_width` is 0 or 1; otherwise
/// DeepSpeech 0.9's prefix beam search ([`beam_search`], best candidate), with the scorer's
/// language model and vocabulary when given. Hot-words act only with a scorer, as in
/// DeepSpeech.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Beam width and class pruning (`candidates` is ignored: the best one is used).
    pub beam: BeamConfig,
    /// Language model with its weights (`alpha`, `beta`).
    pub scorer: Option<Scorer>,
    /// Word boosts (only with a scorer).
    pub hot_words: HotWords,
}

impl Default for DecodeOptions {
    /// DeepSpeech's: beam search of width 1024, no scorer, no hot-words.
    fn default() -> Self {
        Self {
            beam: BeamConfig::default(),
            scorer: None,
            hot_words: HotWords::new(),
        }
    }
}

impl DecodeOptions {
    /// Greedy decoding (no scorer, width 1).
    pub fn greedy() -> Self {
        let mut out = Self::default();
        out.beam.beam_width = 1;
        out
    }

    /// Whether decoding is greedy: no scorer and a beam width of 0 or 1.
    pub fn is_greedy(&self) -> bool {
        self.scorer.is_none() && self.beam.beam_width <= 1
    }

    /// Refuses settings the beam search cannot use (a width of 0 with a scorer, bad cutoffs).
    pub fn validate(&self) -> Result<()> {
        if self.is_greedy() {
            return Ok(());
        }
        if self.beam.beam_width == 0 {
            return Err(
                DecoderError::Config("beam_width must be at least 1 with a scorer".into()).into(),
            );
        }
        if self.beam.cutoff_top_n == 0 {
            return Err(DecoderError::Config("cutoff_top_n must be at least 1".into()).into());
        }
        if !(self.beam.cutoff_prob > 0.0 && self.beam.cutoff_prob <= 1.0) {
            return Err(DecoderError::Config(format!(
                "cutoff_prob is {}, not in (0, 1]",
                self.beam.cutoff_prob
            ))
            .into());
        }
        Ok(())
    }

    /// One line saying which decoder runs, for reports.
    pub fn describe(&self) -> String {
        if self.is_greedy() {
            return "greedy (best path)".into();
        }
        let mut out = format!("beam search, width {}", self.beam.beam_width);
        if self.beam.cutoff_prob < 1.0 {
            out.push_str(&format!(
                ", cutoff_prob {}, cutoff_top_n {}",
                self.beam.cutoff_prob, self.beam.cutoff_top_n
            ));
        }
        match &self.scorer {
            Some(s) => out.push_str(&format!(
                ", scorer (order {}, alpha {}, beta {})",
                s.lm.order(),
                s.alpha,
                s.beta
            )),
            None => out.push_str(", no scorer"),
        }
        if !self.hot_words.is_empty() {
            let state = if self.scorer.is_some() {
                ""
            } else {
                ", ignored without a scorer"
            };
            out.push_str(&format!(", {} hot-word(s){state}", self.hot_words.len()));
        }
        out
    }

    /// Decodes one sample's `[frames, classes]` natural-log probabilities (blank last).
    pub fn decode(&self, log_probs: &[f32], alphabet: &Alphabet) -> Result<String> {
        if self.is_greedy() {
            let labels: Vec<usize> = greedy_decode(log_probs, alphabet.len() + 1, alphabet.blank())
                .into_iter()
                .map(|t| t.label)
                .collect();
            return Ok(alphabet.decode(&labels)?);
        }
        let hot_words = (!self.hot_words.is_empty()).then_some(&self.hot_words);
        let best = beam_search(
            log_probs,
            alphabet.len() + 1,
            alphabet,
            &self.beam,
            self.scorer.as_ref(),
            hot_words,
        )?
        .into_iter()
        .next();
        Ok(best.map(|c| c.text).unwrap_or_default())
    }
}

/// The acoustic model's output for one sample of a set.
#[derive(Debug, Clone)]
pub struct AcousticOutput {
    /// Index of the sample in the set.
    pub index: usize,
    /// Row-major `[frames, classes]` log-softmax (natural log) probabilities, blank last.
    pub log_probs: Vec<f32>,
    /// CTC loss.
    pub loss: f64,
}

/// One evaluated sample.
#[derive(Debug, Clone)]
pub struct SampleResult {
    /// The audio file.
    pub wav: PathBuf,
    /// Reference transcript.
    pub reference: String,
    /// Decoded transcript.
    pub hypothesis: String,
    /// CTC loss.
    pub loss: f64,
    /// Word error rate of this sample.
    pub wer: f64,
    /// Character error rate of this sample.
    pub cer: f64,
}

/// Results over a whole set.
#[derive(Debug, Clone)]
pub struct Report {
    /// Mean CTC loss.
    pub loss: f64,
    /// Word error rate (total word edits / total reference words).
    pub wer: f64,
    /// Character error rate.
    pub cer: f64,
    /// The decoder used ([`DecodeOptions::describe`]).
    pub decoder: String,
    /// Per-sample results, sorted from best to worst (WER, then loss).
    pub samples: Vec<SampleResult>,
}

/// What the evaluation needs of a set.
pub struct EvalSet<'a> {
    /// Audio files.
    pub wavs: &'a [PathBuf],
    /// Reference transcripts.
    pub transcripts: &'a [String],
    /// Label sequences.
    pub labels: &'a [Vec<u32>],
    /// Features (None for skipped samples).
    pub features: &'a [Option<FeatureMatrix>],
}

/// Mean CTC loss of a set, without decoding (for dev loss during training).
pub fn mean_loss(
    model: &DeepSpeech,
    set: &EvalSet,
    batch_size: usize,
    device: &Device,
) -> Result<f64> {
    let (sum, n) = loss_sum(model, set, batch_size, device, 0, 1)?;
    Ok(sum / n.max(1) as f64)
}

/// CTC loss sum and sample count over the batches of a set that fall to `rank` of `size` (batch
/// i of [`mean_loss`]'s plan goes to rank i mod `size`): summed over all ranks, the dev loss of a
/// data-parallel run, with the same batches as one process.
pub fn loss_sum(
    model: &DeepSpeech,
    set: &EvalSet,
    batch_size: usize,
    device: &Device,
    rank: usize,
    size: usize,
) -> Result<(f64, usize)> {
    for_each_batch_of(
        model,
        set,
        batch_size,
        device,
        (rank, size),
        |_, _, losses| Ok(losses.iter().sum::<f64>()),
    )
}

/// Runs the model once over a set (in batches of `batch_size`) and keeps each sample's
/// log-probabilities and loss, in batch order; `progress` advances by one per sample.
pub fn acoustic_outputs(
    model: &DeepSpeech,
    set: &EvalSet,
    batch_size: usize,
    device: &Device,
    progress: &ProgressBar,
) -> Result<Vec<AcousticOutput>> {
    let mut out = Vec::new();
    for_each_batch(
        model,
        set,
        batch_size,
        device,
        |batch, log_probs, losses| {
            // [T, B, C] → per sample [len, C]
            let lp: Vec<Vec<Vec<f32>>> = log_probs.transpose(0, 1)?.to_vec3()?;
            for (j, &index) in batch.indices.iter().enumerate() {
                out.push(AcousticOutput {
                    index,
                    log_probs: lp[j][..batch.lengths[j]].concat(),
                    loss: losses[j],
                });
                progress.inc(1);
            }
            Ok(0.0)
        },
    )?;
    Ok(out)
}

/// Decodes every output on all cores (rayon, one sample per task), in the order given;
/// `progress` advances by one per sample.
pub fn decode_all(
    outputs: &[AcousticOutput],
    alphabet: &Alphabet,
    decoder: &DecodeOptions,
    progress: &ProgressBar,
) -> Result<Vec<String>> {
    decoder.validate()?;
    outputs
        .par_iter()
        .map(|o| {
            let text = decoder.decode(&o.log_probs, alphabet);
            progress.inc(1);
            text
        })
        .collect()
}

/// Corpus-level (WER, CER) of hypotheses against references: total edits over total
/// reference words (characters), as DeepSpeech computes them.
pub fn error_rates<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> (f64, f64) {
    let (mut we, mut wn, mut ce, mut cn) = (0, 0, 0, 0);
    for (reference, hypothesis) in pairs {
        let (e, n) = word_errors(reference, hypothesis);
        we += e;
        wn += n;
        let (e, n) = char_errors(reference, hypothesis);
        ce += e;
        cn += n;
    }
    (rate(we, wn), rate(ce, cn))
}

/// Loss, WER and CER of a set, decoding as `decoder` says (the model runs in batches, the
/// decoding on every core); `progress` advances twice per sample (model, then decoder).
pub fn evaluate(
    model: &DeepSpeech,
    set: &EvalSet,
    alphabet: &Alphabet,
    batch_size: usize,
    device: &Device,
    decoder: &DecodeOptions,
    progress: &ProgressBar,
) -> Result<Report> {
    decoder.validate()?;
    let outputs = acoustic_outputs(model, set, batch_size, device, progress)?;
    let hypotheses = decode_all(&outputs, alphabet, decoder, progress)?;
    let mut samples: Vec<SampleResult> = outputs
        .iter()
        .zip(hypotheses)
        .map(|(o, hypothesis)| sample_result(set, o, hypothesis))
        .collect();
    let (wer, cer) = error_rates(
        samples
            .iter()
            .map(|s| (s.reference.as_str(), s.hypothesis.as_str())),
    );
    let loss = samples.iter().map(|s| s.loss).sum::<f64>() / samples.len().max(1) as f64;
    samples.sort_by(|a, b| a.wer.total_cmp(&b.wer).then(a.loss.total_cmp(&b.loss)));
    Ok(Report {
        loss,
        wer,
        cer,
        decoder: decoder.describe(),
        samples,
    })
}

fn sample_result(set: &EvalSet, output: &AcousticOutput, hypothesis: String) -> SampleResult {
    let reference = set.transcripts[output.index].clone();
    let (we, wn) = word_errors(&reference, &hypothesis);
    let (ce, cn) = char_errors(&reference, &hypothesis);
    SampleResult {
        wav: set.wavs[output.index].clone(),
        reference,
        hypothesis,
        loss: output.loss,
        wer: rate(we, wn),
        cer: rate(ce, cn),
    }
}

/// Runs the model over a set in batches; `f` gets the batch, its log-probabilities and the
/// per-sample losses, and returns a value that is summed. Returns (sum, samples).
fn for_each_batch(
    model: &DeepSpeech,
    set: &EvalSet,
    batch_size: usize,
    device: &Device,
    f: impl FnMut(&batch::Batch, &Tensor, &[f64]) -> Result<f64>,
) -> Result<(f64, usize)> {
    for_each_batch_of(model, set, batch_size, device, (0, 1), f)
}

/// [`for_each_batch`] over the batches i with i mod `size` = `rank` only.
fn for_each_batch_of(
    model: &DeepSpeech,
    set: &EvalSet,
    batch_size: usize,
    device: &Device,
    (rank, size): (usize, usize),
    mut f: impl FnMut(&batch::Batch, &Tensor, &[f64]) -> Result<f64>,
) -> Result<(f64, usize)> {
    let lengths: Vec<Option<usize>> = set
        .features
        .iter()
        .map(|m| m.as_ref().map(|m| m.frames))
        .collect();
    let options = CtcOptions {
        blank: model.config().alphabet.len(),
        impossible: Impossible::ZeroLoss,
    };
    let n_context = model.config().features.n_context;
    let (mut total, mut count) = (0.0, 0);
    let plan = batch::plan(&lengths, batch_size);
    for indices in plan.into_iter().skip(rank).step_by(size.max(1)) {
        let batch = batch::build(set.features, set.labels, &indices, n_context, device)?;
        let logits = model.forward(&batch.x, None)?;
        let losses: Vec<f64> = ctc_loss(&logits, &batch.targets, &batch.lengths, &options)?
            .to_vec1::<f32>()?
            .into_iter()
            .map(f64::from)
            .collect();
        let log_probs = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
        total += f(&batch, &log_probs, &losses)?;
        count += indices.len();
    }
    Ok((total, count))
}

impl Report {
    /// The report as DeepSpeech prints it: totals and the decoder, then `count` best, median
    /// and worst samples.
    pub fn render(&self, name: &str, count: usize) -> String {
        let mut out = format!(
            "Test on {name} - WER: {:.6}, CER: {:.6}, loss: {:.6}\nDecoder: {}\n",
            self.wer, self.cer, self.loss, self.decoder
        );
        let line = "-".repeat(80);
        let n = self.samples.len();
        let median_start = n.saturating_sub(count) / 2;
        let sections = [
            ("Best WER", 0..count.min(n)),
            ("Median WER", median_start..(median_start + count).min(n)),
            ("Worst WER", n.saturating_sub(count)..n),
        ];
        for (title, range) in sections {
            out.push_str(&format!("{line}\n{title}: \n{line}\n"));
            for s in &self.samples[range] {
                out.push_str(&format!(
                    "WER: {:.6}, CER: {:.6}, loss: {:.6}\n - wav: file://{}\n - src: \"{}\"\n - res: \"{}\"\n{line}\n",
                    s.wer,
                    s.cer,
                    s.loss,
                    s.wav.display(),
                    s.reference,
                    s.hypothesis
                ));
            }
        }
        out
    }
}
