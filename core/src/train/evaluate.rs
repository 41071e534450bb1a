//! Evaluation as DeepSpeech reports it: loss, WER and CER over a set, then the best, median and
//! worst samples with their reference and hypothesis.

use std::path::PathBuf;

use candle::{D, Device, Tensor};

use crate::alphabet::Alphabet;
use crate::ctc::{CtcOptions, Impossible, ctc_loss};
use crate::decoder::greedy_decode;
use crate::error::Result;
use crate::features::FeatureMatrix;
use crate::metrics::{char_errors, rate, word_errors};
use crate::model::DeepSpeech;
use crate::train::batch;

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
    let (sum, n) = for_each_batch(model, set, batch_size, device, |_, _, losses| {
        Ok(losses.iter().sum::<f64>())
    })?;
    Ok(sum / n.max(1) as f64)
}

/// Loss, WER and CER of a set, decoding greedily.
pub fn evaluate(
    model: &DeepSpeech,
    set: &EvalSet,
    alphabet: &Alphabet,
    batch_size: usize,
    device: &Device,
) -> Result<Report> {
    let mut samples = Vec::new();
    let blank = alphabet.blank();
    let classes = alphabet.len() + 1;
    for_each_batch(
        model,
        set,
        batch_size,
        device,
        |batch, log_probs, losses| {
            // [T, B, C] → per sample [len, C]
            let lp: Vec<Vec<Vec<f32>>> = log_probs.transpose(0, 1)?.to_vec3()?;
            for (j, &i) in batch.indices.iter().enumerate() {
                let rows: Vec<f32> = lp[j][..batch.lengths[j]].concat();
                let labels: Vec<usize> = greedy_decode(&rows, classes, blank)
                    .into_iter()
                    .map(|t| t.label)
                    .collect();
                let hypothesis = alphabet.decode(&labels)?;
                let reference = set.transcripts[i].clone();
                let (we, wn) = word_errors(&reference, &hypothesis);
                let (ce, cn) = char_errors(&reference, &hypothesis);
                samples.push(SampleResult {
                    wav: set.wavs[i].clone(),
                    reference,
                    hypothesis,
                    loss: losses[j],
                    wer: rate(we, wn),
                    cer: rate(ce, cn),
                });
            }
            Ok(0.0)
        },
    )?;
    let (mut we, mut wn, mut ce, mut cn) = (0, 0, 0, 0);
    for s in &samples {
        let (e, n) = word_errors(&s.reference, &s.hypothesis);
        we += e;
        wn += n;
        let (e, n) = char_errors(&s.reference, &s.hypothesis);
        ce += e;
        cn += n;
    }
    let loss = samples.iter().map(|s| s.loss).sum::<f64>() / samples.len().max(1) as f64;
    samples.sort_by(|a, b| a.wer.total_cmp(&b.wer).then(a.loss.total_cmp(&b.loss)));
    Ok(Report {
        loss,
        wer: rate(we, wn),
        cer: rate(ce, cn),
        samples,
    })
}

/// Runs the model over a set in batches; `f` gets the batch, its log-probabilities and the
/// per-sample losses, and returns a value that is summed. Returns (sum, samples).
fn for_each_batch(
    model: &DeepSpeech,
    set: &EvalSet,
    batch_size: usize,
    device: &Device,
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
    for indices in batch::plan(&lengths, batch_size) {
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
    /// The report as DeepSpeech prints it: totals, then `count` best, median and worst samples.
    pub fn render(&self, name: &str, count: usize) -> String {
        let mut out = format!(
            "Test on {name} - WER: {:.6}, CER: {:.6}, loss: {:.6}\n",
            self.wer, self.cer, self.loss
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
