//! A streaming recognition session. Audio of any rate and channel count goes in, in chunks of
//! any size; the acoustic model runs incrementally (MFCC context carried across chunk borders,
//! LSTM state carried across model chunks), so that the result equals a whole-file run exactly.
//!
//! Timeline: MFCC frame `f` covers 16 kHz samples `[320 f, 320 f + 512)`; as in TensorFlow's
//! spectrogram, only whole windows make frames, except that [`Stream::finish`] adds one last
//! frame of the samples after the last whole window, zero-padded, as DeepSpeech's runtime does. The model's input at frame `t` is frames
//! `t − 9 … t + 9` (zeros outside the signal), so frame `t` can run once frame `t + 9` exists, or
//! at [`Stream::finish`].

use std::collections::VecDeque;
use std::sync::Arc;

use candle::{D, Tensor};

use crate::Alphabet;
use crate::audio::{MODEL_SAMPLE_RATE, StreamResampler, downmix_into};
use crate::decoder::{BeamDecoder, BeamLm, greedy_decode};
use crate::engine::Model;
use crate::engine::transcript::{TokenTiming, Transcript, words_from_tokens};
use crate::error::{AudioError, Result};
use crate::features::MfccExtractor;
use crate::model::lstm::LstmState;

/// Model frames run together in one forward pass (larger is faster, smaller lowers latency).
pub const DEFAULT_CHUNK_FRAMES: usize = 16;

/// One recognition session over a shared [`Model`].
pub struct Stream {
    model: Arc<Model>,
    input_rate: Option<u32>,
    resampler: Option<StreamResampler>,
    mono: Vec<f32>,
    /// 16 kHz samples not yet fully consumed; `samples[0]` is sample `sample_base`.
    samples: Vec<f32>,
    sample_base: usize,
    extractor: MfccExtractor,
    /// Recent MFCC frames; `mfcc[0]` is frame `mfcc_base`.
    mfcc: VecDeque<Vec<f32>>,
    mfcc_base: usize,
    mfcc_count: usize,
    /// Model frames already run.
    model_frames: usize,
    pending: Vec<f32>,
    state: Option<LstmState>,
    /// Log-probabilities of every frame run so far, `[frames × classes]`.
    log_probs: Vec<f32>,
    /// The model's alphabet, parsed once.
    alphabet: Alphabet,
    /// The beam search over every frame run so far, when the model decodes with one: fed as
    /// frames come, so intermediate and final results cost only the new frames.
    beam: Option<BeamDecoder>,
    chunk_frames: usize,
    /// Whether the last frame is made as libdeepspeech-tflite makes it (see [`Stream::advance`]):
    /// for models run on TensorFlow Lite's int8 kernels, whose runtime that is.
    stale_last_window: bool,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("input_rate", &self.input_rate)
            .field("frames", &self.model_frames)
            .finish_non_exhaustive()
    }
}

impl Stream {
    pub(crate) fn new(model: Arc<Model>) -> Self {
        let features = model.config().features.clone();
        Self {
            extractor: MfccExtractor::new(features),
            alphabet: model.config().alphabet(),
            // The int8 network runs only on the CPU; on a GPU the f32 one runs, as TensorFlow.
            stale_last_window: model.network().hybrid().is_some() && model.device().is_cpu(),
            beam: None,
            model,
            input_rate: None,
            resampler: None,
            mono: Vec::new(),
            samples: Vec::new(),
            sample_base: 0,
            mfcc: VecDeque::new(),
            mfcc_base: 0,
            mfcc_count: 0,
            model_frames: 0,
            pending: Vec::new(),
            state: None,
            log_probs: Vec::new(),
            chunk_frames: DEFAULT_CHUNK_FRAMES,
        }
    }

    /// Sets how many model frames run per forward pass (at least 1).
    pub fn set_chunk_frames(&mut self, frames: usize) {
        self.chunk_frames = frames.max(1);
    }

    /// Seconds of 16 kHz audio consumed so far.
    pub fn audio_secs(&self) -> f64 {
        (self.sample_base + self.samples.len()) as f64 / f64::from(MODEL_SAMPLE_RATE)
    }

    /// Feeds interleaved float samples in [-1, 1]. The rate and channel count may be anything
    /// but must stay the same for the whole stream.
    pub fn feed_audio(&mut self, samples: &[f32], sample_rate: u32, channels: usize) -> Result<()> {
        self.feed_with(sample_rate, |mono| downmix_into(samples, channels, mono))
    }

    /// Feeds interleaved 16-bit samples.
    pub fn feed_audio_i16(
        &mut self,
        samples: &[i16],
        sample_rate: u32,
        channels: usize,
    ) -> Result<()> {
        self.feed_with(sample_rate, |mono| downmix_into(samples, channels, mono))
    }

    fn feed_with(
        &mut self,
        sample_rate: u32,
        downmix: impl FnOnce(&mut Vec<f32>) -> std::result::Result<(), AudioError>,
    ) -> Result<()> {
        self.set_rate(sample_rate)?;
        let mut mono = std::mem::take(&mut self.mono);
        mono.clear();
        downmix(&mut mono)?;
        if let Some(i) = mono.iter().position(|v| !v.is_finite()) {
            let value = mono[i];
            self.mono = mono;
            return Err(AudioError::InvalidPcm(format!(
                "sample {i} of this chunk is {value}: audio must be finite"
            ))
            .into());
        }
        match self.resampler.as_mut() {
            Some(r) => r.push(&mono, &mut self.samples)?,
            None => self.samples.extend_from_slice(&mono),
        }
        self.mono = mono;
        self.advance(false)
    }

    fn set_rate(&mut self, rate: u32) -> Result<()> {
        match self.input_rate {
            Some(r) if r == rate => Ok(()),
            Some(r) => Err(AudioError::InvalidPcm(format!(
                "the sample rate changed from {r} Hz to {rate} Hz within one stream"
            ))
            .into()),
            None => {
                if rate == 0 {
                    return Err(AudioError::InvalidPcm("sample rate is 0".into()).into());
                }
                self.input_rate = Some(rate);
                if rate != MODEL_SAMPLE_RATE {
                    self.resampler = Some(StreamResampler::new(rate, MODEL_SAMPLE_RATE)?);
                }
                Ok(())
            }
        }
    }

    /// Computes every MFCC frame the buffered audio allows, then runs the model over every
    /// frame whose right context is complete (all frames when `last`).
    fn advance(&mut self, last: bool) -> Result<()> {
        let (window, step, context, coeffs) = {
            let c = &self.model.config().features;
            (c.window, c.step, c.n_context, c.coefficients)
        };
        // 1. MFCC frames from whole windows.
        loop {
            let start = self.mfcc_count * step;
            let offset = start - self.sample_base;
            if offset + window > self.samples.len() {
                break;
            }
            let mut frame = vec![0f32; coeffs];
            self.extractor
                .frame(&self.samples[offset..offset + window], &mut frame);
            self.mfcc.push_back(frame);
            self.mfcc_count += 1;
        }
        // At the end, DeepSpeech's runtime makes one more frame of whatever audio follows the
        // last whole window (fewer than `window` samples, possibly none), zero-padded
        // (`StreamingState::finalizeStream`); so do we, so that transcripts match its own.
        //
        // libdeepspeech-tflite pads that last window not with zeros but with what its input
        // tensor still holds from the window before (`copy_vector_to_tensor` copies only the
        // remaining samples): for a model run as TensorFlow Lite runs it, we do the same.
        if last {
            let offset = (self.mfcc_count * step - self.sample_base).min(self.samples.len());
            let rest = &self.samples[offset..];
            let mut frame = vec![0f32; coeffs];
            if self.stale_last_window && self.mfcc_count > 0 {
                let previous = (self.mfcc_count - 1) * step - self.sample_base;
                let mut window_samples = rest.to_vec();
                window_samples.extend_from_slice(
                    &self.samples[previous + rest.len().min(window)..previous + window],
                );
                self.extractor.frame(&window_samples, &mut frame);
            } else {
                self.extractor.padded_frame(rest, &mut frame);
            }
            self.mfcc.push_back(frame);
            self.mfcc_count += 1;
        }
        // Drop samples no later frame needs (with a stale last window, the last whole window's).
        let keep_windows = if self.stale_last_window && !last {
            self.mfcc_count.saturating_sub(1)
        } else {
            self.mfcc_count
        };
        let keep_from = keep_windows * step;
        if keep_from > self.sample_base {
            let drop = (keep_from - self.sample_base).min(self.samples.len());
            self.samples.drain(..drop);
            self.sample_base += drop;
        }
        // 2. Model inputs whose context is complete.
        let ready_until = if last {
            self.mfcc_count
        } else {
            self.mfcc_count.saturating_sub(context)
        };
        let width = (2 * context + 1) * coeffs;
        let first_pending = self.model_frames + self.pending.len() / width;
        for t in first_pending..ready_until {
            for k in 0..2 * context + 1 {
                let source = t as isize + k as isize - context as isize;
                if source >= 0 && (source as usize) < self.mfcc_count {
                    self.pending
                        .extend_from_slice(&self.mfcc[source as usize - self.mfcc_base]);
                } else {
                    self.pending.extend(std::iter::repeat_n(0.0, coeffs));
                }
            }
        }
        // Drop MFCC frames no later input needs (frame t needs t − context).
        let needed_from = (self.model_frames + self.pending.len() / width).saturating_sub(context);
        while self.mfcc_base < needed_from && !self.mfcc.is_empty() {
            self.mfcc.pop_front();
            self.mfcc_base += 1;
        }
        // 3. Run the model in chunks.
        while self.pending.len() / width >= self.chunk_frames || (last && !self.pending.is_empty())
        {
            let n = (self.pending.len() / width).min(self.chunk_frames);
            self.run_model(n, width)?;
        }
        Ok(())
    }

    /// Runs the model over the first `frames` pending inputs and searches their frames. They
    /// leave `pending` only when all of that succeeded, so an error leaves the stream as it was.
    fn run_model(&mut self, frames: usize, width: usize) -> Result<()> {
        let inputs = self.pending[..frames * width].to_vec();
        let x = Tensor::from_vec(inputs, (frames, 1, width), self.model.device())?;
        let (logits, state) = self
            .model
            .network()
            .forward_chunk(&x, self.state.as_ref())?;
        let lp = candle_nn::ops::log_softmax(&logits, D::Minus1)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        if self.model.uses_beam_search() {
            if self.beam.is_none() {
                self.beam = Some(BeamDecoder::new(
                    self.model.config().n_classes(),
                    &self.alphabet,
                    self.model.beam_config().clone(),
                )?);
            }
            if let Some(beam) = self.beam.as_mut() {
                beam.next(&lp, beam_lm(&self.model))?;
            }
        }
        self.pending.drain(..frames * width);
        self.log_probs.extend(lp);
        self.state = Some(state);
        self.model_frames += frames;
        Ok(())
    }

    /// Decodes what has been heard so far without changing the stream (DeepSpeech's
    /// `IntermediateDecode`): the model's decoder, beam search included, over every frame run so
    /// far. Neither the acoustic model nor the beam search re-runs over frames already seen, so
    /// frequent calls stay cheap however long the stream is.
    pub fn intermediate_decode(&self) -> Result<Transcript> {
        self.decode()
    }

    /// Up to `n` candidates for what has been heard so far, best first, each with its words and
    /// characters timed (DeepSpeech's `IntermediateDecodeWithMetadata`); the stream goes on.
    pub fn intermediate_decode_with_metadata(&self, n: usize) -> Result<Vec<Transcript>> {
        self.decode_n(n)
    }

    /// Flushes the audio, runs the model over the last frames and returns the final transcript.
    pub fn finish(self) -> Result<Transcript> {
        Ok(self.finish_with_log_probs()?.0)
    }

    /// As [`finish`](Self::finish), also returning every frame's log-probabilities
    /// (`[frames × classes]`), for tools that rescore or inspect them.
    pub fn finish_with_log_probs(mut self) -> Result<(Transcript, Vec<f32>)> {
        self.flush()?;
        let transcript = self.decode()?;
        Ok((transcript, self.log_probs))
    }

    /// Drains the resampler's delay line and runs the model over every remaining frame.
    fn flush(&mut self) -> Result<()> {
        if let Some(r) = self.resampler.as_mut() {
            r.finish(&mut self.samples)?;
        }
        self.advance(true)
    }

    /// Audio samples, MFCC frames and model inputs held in buffers right now (diagnostics:
    /// these stay bounded however long the stream runs).
    pub fn buffered(&self) -> (usize, usize, usize) {
        (self.samples.len(), self.mfcc.len(), self.pending.len())
    }

    /// Per-frame log-probabilities computed so far, `[frames × classes]`.
    pub fn log_probs(&self) -> &[f32] {
        &self.log_probs
    }

    /// The most likely transcript: the model's decoder (beam search with scorer and hot-words
    /// when configured, else greedy).
    fn decode(&self) -> Result<Transcript> {
        Ok(self.decode_n(1)?.into_iter().next().unwrap_or_default())
    }

    /// Up to `n` candidate transcripts, best first.
    fn decode_n(&self, n: usize) -> Result<Vec<Transcript>> {
        if !self.model.uses_beam_search() {
            return Ok(vec![self.greedy()?]);
        }
        let Some(beam) = &self.beam else {
            // No frame has run yet: what a search over nothing gives.
            return Ok(vec![Transcript::default()]);
        };
        let candidates = beam.decode(&self.log_probs, beam_lm(&self.model), n)?;
        Ok(candidates.into_iter().map(Transcript::from).collect())
    }

    /// Greedy decoding of what has been heard so far: far cheaper than a wide beam, for
    /// frequent partial results.
    pub fn greedy_decode(&self) -> Result<Transcript> {
        self.greedy()
    }

    /// Flushes the audio and returns up to `n` candidate transcripts, best first, each with
    /// per-word timings and its confidence (DeepSpeech's `FinishStreamWithMetadata`).
    pub fn finish_with_metadata(mut self, n: usize) -> Result<Vec<Transcript>> {
        self.flush()?;
        self.decode_n(n)
    }

    /// As [`finish_with_metadata`](Self::finish_with_metadata), also returning every frame's
    /// natural-log probabilities (`[frames × classes]`, blank last), the input of the decoder.
    pub fn finish_with_metadata_and_log_probs(
        mut self,
        n: usize,
    ) -> Result<(Vec<Transcript>, Vec<f32>)> {
        self.flush()?;
        let transcripts = self.decode_n(n)?;
        Ok((transcripts, self.log_probs))
    }

    fn greedy(&self) -> Result<Transcript> {
        let config = self.model.config();
        let alphabet = &self.alphabet;
        let classes = config.n_classes();
        let tokens = greedy_decode(&self.log_probs, classes, alphabet.blank());
        let scores: Vec<f32> = tokens
            .iter()
            .map(|t| self.log_probs[t.frame * classes + t.label])
            .collect();
        let labels: Vec<usize> = tokens.iter().map(|t| t.label).collect();
        let text = alphabet.decode(&labels)?;
        let frame_secs = config.features.frame_secs();
        let words = words_from_tokens(&tokens, &scores, alphabet, frame_secs);
        let tokens = tokens
            .iter()
            .filter_map(|t| {
                Some(TokenTiming {
                    text: alphabet.symbols().get(t.label)?.to_string(),
                    frame: t.frame,
                    start: t.frame as f64 * frame_secs,
                })
            })
            .collect();
        Ok(Transcript {
            text: text.trim().to_owned(),
            confidence: scores.iter().map(|&s| f64::from(s)).sum(),
            words,
            tokens,
        })
    }
}

/// The model's language model and hot-words, as the beam search borrows them.
fn beam_lm(model: &Model) -> BeamLm<'_> {
    BeamLm {
        scorer: model.scorer(),
        hot_words: model.hot_words(),
    }
}
