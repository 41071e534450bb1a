//! Implementation of the `deepspeech` element.
//!
//! SECTION:element-deepspeech
//!
//! Transcribes speech in raw audio of any rate and channel count (the element mixes down and
//! resamples itself). Utterances are cut at silence (`silence-threshold`, `silence-length`) or
//! at `max-utterance-length`. Each finished utterance becomes one `text/x-raw, format=utf8`
//! buffer whose PTS is the start of its first word and whose duration runs to the end of its
//! last word, in the input's timeline; silence becomes GAP events, so subtitle elements
//! (`textoverlay`, `srtenc`, `webvttenc`) and muxers never stall.
//!
//! Each result is also posted as an element message named `deepspeech` with the fields
//! `text` (string), `final` (boolean: partial results while speaking every `partial-interval`
//! ms, then one final result per utterance), `timestamp`, `stream-time`, `running-time`,
//! `duration` (clock times), `confidence` (double) and `words` (a list of structures named
//! `word` with `word` (string), `start`, `duration` (clock times) and `confidence` (double)),
//! and, when the `candidates` property is above 1, `candidates` (a list of structures named
//! `candidate` with `text` and `confidence`, best first). Partial and final results come from
//! the same beam search (`beam-width`, the scorer, `hot-words`), fed as the audio arrives, as
//! DeepSpeech's `IntermediateDecode` does: a partial result costs only the audio since the last.
//! (With `beam-width=1`, no scorer and no hot-words, decoding is greedy.)
//!
//! Without the `model` property the element uses the default English model and scorer built
//! into the plugin (cargo feature `embedded-model`); `model` and `scorer` name files of one's own.
//!
//! ## Example launch lines
//! ```sh
//! gst-launch-1.0 -m filesrc location=speech.wav ! decodebin ! audioconvert ! deepspeech ! fakesink
//! gst-launch-1.0 -m pulsesrc ! audioconvert ! deepspeech ! fakesink
//! gst-launch-1.0 filesrc location=speech.wav ! decodebin ! audioconvert ! deepspeech model=model.safetensors scorer=none ! srtenc ! filesink location=speech.srt
//! ```

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use deepspeech_core::audio::{RawFormat, downmix_bytes_into};
use deepspeech_core::decoder::HotWords;
use deepspeech_core::embedded;
use deepspeech_core::engine::{Model, Stream, Transcript};
use deepspeech_core::lm::Scorer;
use deepspeech_core::vad::{Vad, VadConfig, VadEvent};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "deepspeech",
        gst::DebugColorFlags::empty(),
        Some("DeepSpeech speech-to-text"),
    )
});

const DEFAULT_SILENCE_THRESHOLD: f64 = -50.0;
const DEFAULT_SILENCE_LENGTH: u32 = 800;
const DEFAULT_MAX_UTTERANCE: u32 = 10_000;
const DEFAULT_PARTIAL_INTERVAL: u32 = 1000;
/// `beam-width` 0: the model's own default (a DeepSpeech export's `metadata_beam_width`, else
/// DeepSpeech's 1024), as the CLI, so that both give the same transcript. The network runs as
/// the audio arrives, so the final beam search is all that is left at an utterance's end: about
/// 80 ms for 10 s of speech at 1024 beams with the embedded scorer on one core.
const DEFAULT_BEAM_WIDTH: u32 = 0;
/// Processing time allowed on top of the segmentation delay.
const PROCESSING_MARGIN_MS: u32 = 300;
/// Timestamps this far from where the previous buffer ended are jitter, not a jump (GStreamer's
/// usual audio alignment threshold, as in `audiobasesink` and `audioaggregator`).
const PTS_TOLERANCE: gst::ClockTime = gst::ClockTime::from_mseconds(40);
/// The shortest utterance cap an explicit `latency` may impose.
const MIN_UTTERANCE_CAP_MS: u32 = 1000;

/// Properties, copied out of the lock before use.
#[derive(Debug, Clone)]
struct Settings {
    model: Option<String>,
    silence_threshold: f64,
    silence_length: u32,
    max_utterance_length: u32,
    partial_interval: u32,
    latency: u32,
    device: String,
    beam_width: u32,
    hot_words: Option<String>,
    candidates: u32,
    scorer: Option<String>,
    lm_alpha: f64,
    lm_beta: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            model: None,
            silence_threshold: DEFAULT_SILENCE_THRESHOLD,
            silence_length: DEFAULT_SILENCE_LENGTH,
            max_utterance_length: DEFAULT_MAX_UTTERANCE,
            partial_interval: DEFAULT_PARTIAL_INTERVAL,
            latency: 0,
            device: "cpu".into(),
            beam_width: DEFAULT_BEAM_WIDTH,
            hot_words: None,
            candidates: 1,
            scorer: None,
            lm_alpha: -1.0,
            lm_beta: -1.0,
        }
    }
}

impl Settings {
    /// The latency this element adds: the longest utterance (the silence that ends one counts
    /// in its length) plus processing time; with an explicit `latency`, that value, raised to
    /// what the shortest allowed utterance cap needs.
    fn latency_ms(&self) -> u32 {
        if self.latency > 0 {
            self.latency
                .max(MIN_UTTERANCE_CAP_MS + PROCESSING_MARGIN_MS)
        } else {
            self.max_utterance_length + PROCESSING_MARGIN_MS
        }
    }

    /// Segmentation, with utterances capped so results arrive within an explicit latency.
    fn vad_config(&self) -> VadConfig {
        let mut max = self.max_utterance_length;
        if self.latency > 0 {
            let budget = self.latency.saturating_sub(PROCESSING_MARGIN_MS);
            max = max.min(budget.max(MIN_UTTERANCE_CAP_MS));
        }
        VadConfig {
            threshold_db: self.silence_threshold,
            silence_ms: self.silence_length,
            max_utterance_ms: max,
            preroll_ms: 200,
        }
    }
}

/// The utterance being recognised.
struct Utterance {
    stream: Stream,
    /// First sample of the utterance (from the start of the run).
    start: u64,
    /// Samples fed to the stream so far, as an absolute position.
    fed_until: u64,
    /// Position at which the next partial result is due.
    next_partial: u64,
}

/// Streaming state, reset on flush and at each new run of audio.
struct State {
    info: Option<gst_audio::AudioInfo>,
    format: Option<RawFormat>,
    segment: gst::FormattedSegment<gst::ClockTime>,
    vad: Option<Vad>,
    /// PTS of sample 0 of the current run.
    base_pts: Option<gst::ClockTime>,
    /// Where the next buffer should start if there is no discontinuity.
    expected_pts: Option<gst::ClockTime>,
    /// Recent mono samples, for the pre-roll of an utterance; the last one is `vad.position − 1`.
    history: VecDeque<f32>,
    /// Where the last utterance ended (or the run started), in samples of the current run.
    quiet_since: u64,
    /// Whether the last buffer held non-finite samples (warned about once per run of them).
    bad_samples: bool,
    utterance: Option<Utterance>,
    /// Everything before this time is covered downstream by buffers or gaps.
    covered: Option<gst::ClockTime>,
    mono: Vec<f32>,
    /// The bytes of an incomplete frame at the end of the last buffer, completed by the next.
    partial_frame: Vec<u8>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            info: None,
            format: None,
            segment: gst::FormattedSegment::new(),
            vad: None,
            base_pts: None,
            expected_pts: None,
            history: VecDeque::new(),
            quiet_since: 0,
            bad_samples: false,
            utterance: None,
            covered: None,
            mono: Vec::new(),
            partial_frame: Vec::new(),
        }
    }
}

/// The settings a loaded model depends on.
#[derive(Debug, Clone, PartialEq)]
struct ModelKey {
    path: String,
    device: String,
    beam_width: u32,
    hot_words: Option<String>,
    scorer: Option<String>,
    weights: (u64, u64),
}

/// What a chain or event call produced, pushed after the state lock is released.
enum Output {
    Gap(gst::ClockTime, gst::ClockTime),
    /// A GAP event without a duration, at this time, with the seqnum of the one it passes on.
    OpenGap(gst::ClockTime, gst::Seqnum),
    Text(gst::Buffer),
    Message(gst::Structure),
}

/// The element's instance data.
pub struct DeepSpeech {
    sinkpad: gst::Pad,
    srcpad: gst::Pad,
    settings: Mutex<Settings>,
    state: Mutex<State>,
    /// The loaded model and the settings it was configured with; kept across
    /// PAUSED→READY→PAUSED and reloaded only when they change.
    model: Mutex<Option<(ModelKey, Arc<Model>)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn raw_format(format: gst_audio::AudioFormat) -> Option<RawFormat> {
    use gst_audio::AudioFormat as F;
    Some(match format {
        F::U8 => RawFormat::U8,
        F::S16le => RawFormat::S16LE,
        F::S24le => RawFormat::S24LE,
        F::S2432le => RawFormat::S24_32LE,
        F::S32le => RawFormat::S32LE,
        F::F32le => RawFormat::F32LE,
        F::F64le => RawFormat::F64LE,
        _ => return None,
    })
}

fn secs(s: f64) -> gst::ClockTime {
    gst::ClockTime::from_nseconds((s.max(0.0) * 1e9).round() as u64)
}

/// The shortest stretch of input samples (at `rate`) that is a whole number of the model's
/// feature steps both at `rate` and at the model's own rate: utterances start on this grid so
/// that, once resampled, their MFCC frames fall where a whole-file transcription puts them
/// (20 ms, 882 samples, at 44.1 kHz for a 16 kHz model; 40 ms at 11.025 kHz).
fn feature_grid(rate: u32, features: &deepspeech_core::features::FeatureConfig) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let model_rate = u64::from(features.sample_rate.max(1));
    let step_at_rate = u64::from(rate) * features.step as u64; // × 1/model_rate samples
    let steps = model_rate / gcd(step_at_rate, model_rate);
    (steps * step_at_rate / model_rate).max(1)
}

impl DeepSpeech {
    fn samples_to_time(rate: u32, samples: u64) -> gst::ClockTime {
        gst::ClockTime::from_nseconds(
            samples
                .mul_div_floor(gst::ClockTime::SECOND.nseconds(), u64::from(rate))
                .unwrap_or(0),
        )
    }

    /// Loads the model named by the settings (or reuses the loaded one).
    fn load_model(&self) -> Result<(), gst::ErrorMessage> {
        let settings = lock(&self.settings).clone();
        let (device, fell_back) = deepspeech_core::device::select_or_cpu(&settings.device);
        if let Some(why) = fell_back {
            gst::element_imp_warning!(self, gst::LibraryError::Settings, ("deepspeech: {why}"));
        }
        let embedded = settings.model.as_deref().is_none_or(str::is_empty);
        let path = match settings.model.as_deref() {
            Some(p) if !p.is_empty() => p.to_owned(),
            _ => embedded::MODEL_NAME.to_owned(),
        };
        let key = ModelKey {
            path: path.clone(),
            device: settings.device.clone(),
            beam_width: settings.beam_width,
            hot_words: settings.hot_words.clone(),
            scorer: settings.scorer.clone(),
            weights: (settings.lm_alpha.to_bits(), settings.lm_beta.to_bits()),
        };
        if let Some((loaded, _)) = lock(&self.model).as_ref()
            && *loaded == key
        {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let loaded = if embedded {
            embedded::model_on(&device)
        } else {
            Model::load_on(PathBuf::from(&path), &device)
        };
        let mut model = loaded.map_err(|e| {
            gst::error_msg!(
                gst::ResourceError::OpenRead,
                ("deepspeech: cannot load model: {e}")
            )
        })?;
        if settings.beam_width > 0 {
            model.set_beam_width(settings.beam_width as usize);
        }
        // Unset: the embedded scorer goes with the embedded model; a model of one's own gets
        // no scorer unless one is named. "none" always disables it.
        let scorer = match settings.scorer.as_deref() {
            Some("none") => None,
            Some(p) if !p.is_empty() => Some(Scorer::from_file(p)),
            _ if embedded => Some(embedded::scorer()),
            _ => None,
        };
        if let Some(scorer) = scorer {
            let scorer = scorer.map_err(|e| {
                gst::error_msg!(
                    gst::ResourceError::OpenRead,
                    ("deepspeech: cannot load scorer: {e}")
                )
            })?;
            let alpha = if settings.lm_alpha >= 0.0 {
                settings.lm_alpha as f32
            } else {
                scorer.alpha
            };
            let beta = if settings.lm_beta >= 0.0 {
                settings.lm_beta as f32
            } else {
                scorer.beta
            };
            model.set_scorer(Some(scorer));
            model.set_scorer_alpha_beta(alpha, beta);
        }
        if let Some(spec) = settings
            .hot_words
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            let hot_words = HotWords::parse(spec).map_err(|e| {
                gst::error_msg!(gst::LibraryError::Settings, ("deepspeech: hot-words: {e}"))
            })?;
            model.set_hot_words(Some(hot_words));
        }
        let needs_scorer =
            model.hot_words().is_some() || settings.lm_alpha >= 0.0 || settings.lm_beta >= 0.0;
        if model.scorer().is_none() && needs_scorer {
            gst::element_imp_warning!(
                self,
                gst::LibraryError::Settings,
                ("deepspeech: hot-words, lm-alpha and lm-beta act only through a scorer, and there is none: they are ignored")
            );
        }
        gst::info!(
            CAT,
            imp = self,
            "loaded model {path} ({} parameters) in {:?}",
            model.config().parameter_count(),
            started.elapsed()
        );
        *lock(&self.model) = Some((key, Arc::new(model)));
        Ok(())
    }

    fn current_model(&self) -> Option<Arc<Model>> {
        lock(&self.model).as_ref().map(|(_, m)| Arc::clone(m))
    }

    fn sink_chain(
        &self,
        _pad: &gst::Pad,
        buffer: gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let model = self.current_model().ok_or_else(|| {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ["no model loaded"]);
            gst::FlowError::Error
        })?;
        let settings = lock(&self.settings).clone();
        let mut outputs = Vec::new();
        {
            let mut state = lock(&self.state);
            let (Some(info), Some(format)) = (state.info.clone(), state.format) else {
                gst::element_imp_error!(self, gst::CoreError::Negotiation, ["buffer before caps"]);
                return Err(gst::FlowError::NotNegotiated);
            };
            let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
            let mut mono = std::mem::take(&mut state.mono);
            mono.clear();
            let frame_bytes = info.bpf() as usize;
            // Buffers that split a frame (which a well-behaved upstream never sends) are
            // joined: the incomplete frame's bytes wait for the rest in the next buffer.
            let joined;
            let bytes = if state.partial_frame.is_empty() {
                map.as_slice()
            } else {
                joined = [state.partial_frame.as_slice(), map.as_slice()].concat();
                state.partial_frame.clear();
                joined.as_slice()
            };
            let whole = bytes.len() - bytes.len() % frame_bytes.max(1);
            state.partial_frame.extend_from_slice(&bytes[whole..]);
            if let Err(e) =
                downmix_bytes_into(&bytes[..whole], format, info.channels() as usize, &mut mono)
            {
                gst::element_imp_error!(self, gst::StreamError::Format, ["{e}"]);
                return Err(gst::FlowError::Error);
            }
            drop(map);
            // A chunk with NaN or infinite samples is not fatal to a live transcriber: it is
            // heard as silence (its time stays in the timeline) and a WARNING says so, once
            // per run of bad chunks.
            if let Some(i) = mono.iter().position(|v| !v.is_finite()) {
                if !state.bad_samples {
                    gst::element_imp_warning!(
                        self,
                        gst::StreamError::Decode,
                        (
                            "deepspeech: sample {i} of a buffer at {} is {}: the buffer is treated as silence",
                            buffer.pts().display(),
                            mono[i]
                        )
                    );
                }
                state.bad_samples = true;
                mono.iter_mut().for_each(|v| *v = 0.0);
            } else {
                state.bad_samples = false;
            }
            self.handle_discont(&mut state, &buffer, &info, &model, &settings, &mut outputs)?;
            self.process(&mut state, &mono, &info, &model, &settings, &mut outputs)?;
            let end = state.base_pts.map(|b| {
                b + Self::samples_to_time(info.rate(), state.vad.as_ref().map_or(0, Vad::position))
            });
            state.expected_pts = end;
            state.mono = mono;
        }
        self.push_outputs(outputs)
    }

    /// A DISCONT buffer, a PTS jump, or the first buffer of a run: finish what was heard and
    /// restart the timeline at this buffer.
    fn handle_discont(
        &self,
        state: &mut State,
        buffer: &gst::Buffer,
        info: &gst_audio::AudioInfo,
        model: &Arc<Model>,
        settings: &Settings,
        outputs: &mut Vec<Output>,
    ) -> Result<(), gst::FlowError> {
        let pts = buffer.pts();
        let jumped = match (pts, state.expected_pts) {
            (Some(p), Some(e)) => p.nseconds().abs_diff(e.nseconds()) > PTS_TOLERANCE.nseconds(),
            _ => false,
        };
        if state.base_pts.is_some()
            && (jumped || buffer.flags().contains(gst::BufferFlags::DISCONT))
        {
            gst::debug!(
                CAT,
                imp = self,
                "discontinuity at {pts:?} (expected {:?}): draining",
                state.expected_pts
            );
            self.drain(state, model, outputs)?;
            state.base_pts = None;
        }
        if state.base_pts.is_none() {
            state.base_pts = Some(
                pts.unwrap_or(
                    state
                        .expected_pts
                        .unwrap_or(state.segment.start().unwrap_or(gst::ClockTime::ZERO)),
                ),
            );
            state.vad = Some(Vad::new(info.rate(), settings.vad_config()));
            state.history.clear();
            state.quiet_since = 0;
            if state.covered.is_none() {
                state.covered = state.base_pts;
            }
        }
        Ok(())
    }

    /// Runs segmentation over new mono samples, feeding utterances to streams and finishing them.
    fn process(
        &self,
        state: &mut State,
        mono: &[f32],
        info: &gst_audio::AudioInfo,
        model: &Arc<Model>,
        settings: &Settings,
        outputs: &mut Vec<Output>,
    ) -> Result<(), gst::FlowError> {
        let rate = info.rate();
        let vad = state.vad.as_mut().expect("set by handle_discont");
        let chunk_start = vad.position();
        let grid = feature_grid(rate, &model.config().features);
        let preroll = vad.preroll_samples();
        let history_len = (2 * preroll + grid) as usize;
        let mut events = Vec::new();
        vad.push(mono, &mut events);
        let chunk_end = chunk_start + mono.len() as u64;
        let sample = |state: &State, pos: u64| -> f32 {
            if pos >= chunk_start {
                mono[(pos - chunk_start) as usize]
            } else {
                let back = (chunk_start - pos) as usize;
                state
                    .history
                    .get(state.history.len() - back)
                    .copied()
                    .unwrap_or(0.0)
            }
        };
        for event in events {
            match event {
                VadEvent::Start(start) => {
                    // When the stream's start (or the previous utterance's end) lies less than
                    // another pre-roll before the pre-roll, the utterance starts there: a
                    // recording that starts with speech is heard from its first sample, as the
                    // CLI hears it. The start is on the model's feature grid counted from the
                    // stream's start, so that the utterance's frames are those of a whole-file
                    // transcription.
                    let start = if start < state.quiet_since + preroll {
                        state.quiet_since
                    } else {
                        start
                    };
                    let start = (start - start % grid)
                        .max(chunk_start.saturating_sub(state.history.len() as u64));
                    gst::debug!(CAT, imp = self, "utterance starts at sample {start}");
                    let mut stream = model.create_stream();
                    let preroll: Vec<f32> =
                        (start..chunk_start).map(|p| sample(state, p)).collect();
                    stream
                        .feed_audio(&preroll, rate, 1)
                        .map_err(|e| self.flow_error(e))?;
                    state.utterance = Some(Utterance {
                        stream,
                        start,
                        fed_until: start.max(chunk_start),
                        next_partial: start
                            + u64::from(rate) * u64::from(settings.partial_interval) / 1000,
                    });
                }
                VadEvent::End(end) => {
                    state.quiet_since = end;
                    if let Some(mut u) = state.utterance.take() {
                        let piece = &mono
                            [(u.fed_until - chunk_start) as usize..(end - chunk_start) as usize];
                        u.stream
                            .feed_audio(piece, rate, 1)
                            .map_err(|e| self.flow_error(e))?;
                        self.finish_utterance(state, u, end, rate, outputs)?;
                    }
                }
            }
        }
        if let Some(u) = state.utterance.as_mut() {
            let piece = &mono[(u.fed_until - chunk_start) as usize..];
            u.stream
                .feed_audio(piece, rate, 1)
                .map_err(|e| self.flow_error(e))?;
            u.fed_until = chunk_end;
            if settings.partial_interval > 0 && chunk_end >= u.next_partial {
                u.next_partial =
                    chunk_end + u64::from(rate) * u64::from(settings.partial_interval) / 1000;
                let partial = u
                    .stream
                    .intermediate_decode()
                    .map_err(|e| self.flow_error(e))?;
                let start = u.start;
                if !partial.text.is_empty() {
                    let s = self.result_structure(state, &partial, start, chunk_end, rate, false);
                    outputs.push(Output::Message(s));
                }
            }
        } else {
            // Silence: everything up to where a future utterance could start is covered.
            let safe = chunk_end.saturating_sub(history_len as u64);
            if let Some(base) = state.base_pts {
                let until = base + Self::samples_to_time(rate, safe);
                self.gap_until(state, until, outputs);
            }
        }
        state.history.extend(mono.iter().copied());
        let excess = state.history.len().saturating_sub(history_len);
        state.history.drain(..excess);
        Ok(())
    }

    fn gap_until(&self, state: &mut State, until: gst::ClockTime, outputs: &mut Vec<Output>) {
        if let Some(covered) = state.covered
            && until > covered
        {
            outputs.push(Output::Gap(covered, until - covered));
            state.covered = Some(until);
        }
    }

    fn flow_error(&self, e: deepspeech_core::Error) -> gst::FlowError {
        gst::element_imp_error!(self, gst::StreamError::Decode, ["deepspeech: {e}"]);
        gst::FlowError::Error
    }

    /// Finishes an utterance: a text buffer (or a gap when nothing was said) and a final message.
    fn finish_utterance(
        &self,
        state: &mut State,
        u: Utterance,
        end: u64,
        rate: u32,
        outputs: &mut Vec<Output>,
    ) -> Result<(), gst::FlowError> {
        let start = u.start;
        let candidates = lock(&self.settings).candidates.max(1) as usize;
        let mut results = u
            .stream
            .finish_with_metadata(candidates)
            .map_err(|e| self.flow_error(e))?;
        let transcript = if results.is_empty() {
            Transcript::default()
        } else {
            results.remove(0)
        };
        let alternatives = results;
        let Some(base) = state.base_pts else {
            return Ok(());
        };
        let utterance_pts = base + Self::samples_to_time(rate, start);
        let utterance_end = base + Self::samples_to_time(rate, end);
        gst::debug!(
            CAT,
            imp = self,
            "utterance {utterance_pts}..{utterance_end}: {:?}",
            transcript.text
        );
        match (transcript.words.first(), transcript.words.last()) {
            (Some(first), Some(last)) if !transcript.text.is_empty() => {
                let pts =
                    (utterance_pts + secs(first.start)).max(state.covered.unwrap_or(utterance_pts));
                let stop = (utterance_pts + secs(last.start + last.duration)).max(pts);
                self.gap_until(state, pts, outputs);
                let mut buffer = gst::Buffer::from_mut_slice(transcript.text.clone().into_bytes());
                {
                    let b = buffer.get_mut().expect("new buffer is writable");
                    b.set_pts(pts);
                    b.set_duration(stop - pts);
                }
                outputs.push(Output::Text(buffer));
                state.covered = Some(stop.max(state.covered.unwrap_or(stop)));
                let mut s = self.result_structure(state, &transcript, start, end, rate, true);
                if candidates > 1 {
                    let list: Vec<gst::Structure> = std::iter::once(&transcript)
                        .chain(&alternatives)
                        .map(|t| {
                            gst::Structure::builder("candidate")
                                .field("text", &t.text)
                                .field("confidence", t.confidence)
                                .build()
                        })
                        .collect();
                    s.set("candidates", gst::List::new(list));
                }
                outputs.push(Output::Message(s));
            }
            _ => {
                self.gap_until(state, utterance_end, outputs);
            }
        }
        Ok(())
    }

    /// The `deepspeech` message structure for a partial or final result.
    fn result_structure(
        &self,
        state: &State,
        t: &Transcript,
        start: u64,
        end: u64,
        rate: u32,
        is_final: bool,
    ) -> gst::Structure {
        let base =
            state.base_pts.unwrap_or(gst::ClockTime::ZERO) + Self::samples_to_time(rate, start);
        let (timestamp, duration) = match (t.words.first(), t.words.last()) {
            (Some(f), Some(l)) => (base + secs(f.start), secs(l.start + l.duration - f.start)),
            _ => (base, Self::samples_to_time(rate, end - start)),
        };
        let words: Vec<gst::Structure> = t
            .words
            .iter()
            .map(|w| {
                gst::Structure::builder("word")
                    .field("word", &w.word)
                    .field("start", base + secs(w.start))
                    .field("duration", secs(w.duration))
                    .field("confidence", w.confidence)
                    .build()
            })
            .collect();
        let mut builder = gst::Structure::builder("deepspeech")
            .field("text", &t.text)
            .field("final", is_final)
            .field("timestamp", timestamp)
            .field("duration", duration)
            .field("confidence", t.confidence)
            .field("words", gst::List::new(words));
        if let Some(st) = state.segment.to_stream_time(timestamp) {
            builder = builder.field("stream-time", st);
        }
        if let Some(rt) = state.segment.to_running_time(timestamp) {
            builder = builder.field("running-time", rt);
        }
        builder.build()
    }

    /// Finishes the utterance in progress (EOS, discontinuity, new segment).
    fn drain(
        &self,
        state: &mut State,
        _model: &Arc<Model>,
        outputs: &mut Vec<Output>,
    ) -> Result<(), gst::FlowError> {
        let Some(rate) = state.info.as_ref().map(|i| i.rate()) else {
            return Ok(());
        };
        let mut events = Vec::new();
        if let Some(vad) = state.vad.as_mut() {
            vad.finish(&mut events);
        }
        if let (Some(u), Some(VadEvent::End(end))) =
            (state.utterance.take(), events.first().copied())
        {
            self.finish_utterance(state, u, end, rate, outputs)?;
        }
        if let (Some(base), Some(vad)) = (state.base_pts, state.vad.as_ref()) {
            let until = base + Self::samples_to_time(rate, vad.position());
            self.gap_until(state, until, outputs);
        }
        Ok(())
    }

    fn push_outputs(&self, outputs: Vec<Output>) -> Result<gst::FlowSuccess, gst::FlowError> {
        for output in outputs {
            match output {
                Output::Gap(pts, duration) => {
                    gst::log!(CAT, imp = self, "gap {pts} + {duration}");
                    let _ = self
                        .srcpad
                        .push_event(gst::event::Gap::builder(pts).duration(duration).build());
                }
                Output::OpenGap(pts, seqnum) => {
                    gst::log!(CAT, imp = self, "gap {pts} of unknown length");
                    let _ = self
                        .srcpad
                        .push_event(gst::event::Gap::builder(pts).seqnum(seqnum).build());
                }
                Output::Text(buffer) => {
                    gst::debug!(CAT, imp = self, "pushing text at {:?}", buffer.pts());
                    self.srcpad.push(buffer)?;
                }
                Output::Message(s) => {
                    let msg = gst::message::Element::builder(s).src(&*self.obj()).build();
                    let _ = self.obj().post_message(msg);
                }
            }
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn sink_event(&self, pad: &gst::Pad, event: gst::Event) -> bool {
        use gst::EventView;
        gst::log!(CAT, obj = pad, "event {:?}", event.type_());
        match event.view() {
            EventView::Caps(c) => {
                let info = match gst_audio::AudioInfo::from_caps(c.caps()) {
                    Ok(info) => info,
                    Err(e) => {
                        gst::element_imp_error!(
                            self,
                            gst::CoreError::Negotiation,
                            ["bad caps: {e}"]
                        );
                        return false;
                    }
                };
                let Some(format) = raw_format(info.format()) else {
                    gst::element_imp_error!(
                        self,
                        gst::CoreError::Negotiation,
                        ["unsupported format {:?}", info.format()]
                    );
                    return false;
                };
                {
                    let mut state = lock(&self.state);
                    // Buffers are read with the current format and channels, so only a new
                    // rate (which the segmentation and the stream are built for) ends the
                    // utterance in progress; the same caps again (after a RECONFIGURE, say)
                    // change nothing.
                    let mut outputs = Vec::new();
                    if state
                        .info
                        .as_ref()
                        .is_some_and(|old| old.rate() != info.rate())
                    {
                        if let Some(model) = self.current_model() {
                            let _ = self.drain(&mut state, &model, &mut outputs);
                        }
                        state.base_pts = None;
                    }
                    state.info = Some(info);
                    state.format = Some(format);
                    state.partial_frame.clear();
                    drop(state);
                    let _ = self.push_outputs(outputs);
                }
                let caps = gst::Caps::builder("text/x-raw")
                    .field("format", "utf8")
                    .build();
                self.srcpad.push_event(
                    gst::event::Caps::builder(&caps)
                        .seqnum(event.seqnum())
                        .build(),
                )
            }
            EventView::Segment(s) => {
                let segment = match s.segment().clone().downcast::<gst::ClockTime>() {
                    Ok(segment) => segment,
                    Err(_) => {
                        gst::element_imp_error!(
                            self,
                            gst::StreamError::Format,
                            ["only time segments are supported"]
                        );
                        return false;
                    }
                };
                let mut outputs = Vec::new();
                {
                    let mut state = lock(&self.state);
                    if let Some(model) = self.current_model() {
                        let _ = self.drain(&mut state, &model, &mut outputs);
                    }
                    state.segment = segment;
                    state.base_pts = None;
                    state.expected_pts = None;
                    state.covered = None;
                }
                let _ = self.push_outputs(outputs);
                self.srcpad.push_event(event)
            }
            EventView::Eos(_) => {
                let mut outputs = Vec::new();
                {
                    let mut state = lock(&self.state);
                    if let Some(model) = self.current_model()
                        && let Err(e) = self.drain(&mut state, &model, &mut outputs)
                    {
                        gst::warning!(CAT, imp = self, "drain at EOS failed: {e:?}");
                    }
                }
                let _ = self.push_outputs(outputs);
                self.srcpad.push_event(event)
            }
            EventView::FlushStop(_) => {
                self.reset();
                self.srcpad.push_event(event)
            }
            EventView::Gap(g) => {
                // Upstream silence: finish any utterance and cover the gap downstream.
                let (pts, duration) = g.get();
                let mut outputs = Vec::new();
                {
                    let mut state = lock(&self.state);
                    if let Some(model) = self.current_model() {
                        let _ = self.drain(&mut state, &model, &mut outputs);
                    }
                    state.base_pts = None;
                    if state.covered.is_none() {
                        state.covered = Some(pts);
                    }
                    let end = pts + duration.unwrap_or(gst::ClockTime::ZERO);
                    self.gap_until(&mut state, end, &mut outputs);
                    // Never behind what was already covered downstream.
                    let end = state.covered.map_or(end, |c| c.max(end));
                    state.expected_pts = Some(end);
                    if duration.is_none() {
                        // No length to cover: pass the gap on, as it came.
                        outputs.push(Output::OpenGap(end, event.seqnum()));
                    }
                }
                let _ = self.push_outputs(outputs);
                true
            }
            _ => gst::Pad::event_default(pad, Some(&*self.obj()), event),
        }
    }

    fn src_query(&self, pad: &gst::Pad, query: &mut gst::QueryRef) -> bool {
        if let gst::QueryViewMut::Latency(q) = query.view_mut() {
            let mut upstream = gst::query::Latency::new();
            if !self.sinkpad.peer_query(&mut upstream) {
                return false;
            }
            let (live, min, max) = upstream.result();
            let ours = gst::ClockTime::from_mseconds(u64::from(lock(&self.settings).latency_ms()));
            gst::debug!(
                CAT,
                imp = self,
                "latency: upstream live={live} min={min} max={max:?}, ours {ours}"
            );
            if live {
                q.set(true, min + ours, max.map(|m| m + ours));
            } else {
                q.set(false, min, max);
            }
            return true;
        }
        gst::Pad::query_default(pad, Some(&*self.obj()), query)
    }

    fn reset(&self) {
        let mut state = lock(&self.state);
        let (info, format, segment) = (state.info.take(), state.format, state.segment.clone());
        *state = State {
            info,
            format,
            segment,
            ..State::default()
        };
    }
}

#[glib::object_subclass]
impl ObjectSubclass for DeepSpeech {
    const NAME: &'static str = "GstDeepSpeech";
    type Type = super::DeepSpeech;
    type ParentType = gst::Element;

    fn with_class(klass: &Self::Class) -> Self {
        let templ = klass.pad_template("sink").expect("sink template");
        let sinkpad = gst::Pad::builder_from_template(&templ)
            .chain_function(|pad, parent, buffer| {
                DeepSpeech::catch_panic_pad_function(
                    parent,
                    || Err(gst::FlowError::Error),
                    |this| this.sink_chain(pad, buffer),
                )
            })
            .event_function(|pad, parent, event| {
                DeepSpeech::catch_panic_pad_function(
                    parent,
                    || false,
                    |this| this.sink_event(pad, event),
                )
            })
            .build();
        let templ = klass.pad_template("src").expect("src template");
        let srcpad = gst::Pad::builder_from_template(&templ)
            .query_function(|pad, parent, query| {
                DeepSpeech::catch_panic_pad_function(
                    parent,
                    || false,
                    |this| this.src_query(pad, query),
                )
            })
            .build();
        Self {
            sinkpad,
            srcpad,
            settings: Mutex::new(Settings::default()),
            state: Mutex::new(State::default()),
            model: Mutex::new(None),
        }
    }
}

impl ObjectImpl for DeepSpeech {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("model")
                    .nick("Model")
                    .blurb("Exported acoustic model (.safetensors from ds-train); unset = the embedded default English model. Takes effect on the next NULL→READY")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("silence-threshold")
                    .nick("Silence threshold")
                    .blurb("Level (dBFS) of a 10 ms frame at or above which it counts as speech")
                    .minimum(-120.0)
                    .maximum(0.0)
                    .default_value(DEFAULT_SILENCE_THRESHOLD)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("silence-length")
                    .nick("Silence length")
                    .blurb("Quiet time (ms) that ends an utterance")
                    .minimum(10)
                    .maximum(60_000)
                    .default_value(DEFAULT_SILENCE_LENGTH)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("max-utterance-length")
                    .nick("Maximum utterance length")
                    .blurb("Longest utterance (ms); longer speech is cut into several results")
                    .minimum(500)
                    .maximum(600_000)
                    .default_value(DEFAULT_MAX_UTTERANCE)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("partial-interval")
                    .nick("Partial result interval")
                    .blurb("Audio time (ms) between partial results posted while speaking (0 = off)")
                    .maximum(600_000)
                    .default_value(DEFAULT_PARTIAL_INTERVAL)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("latency")
                    .nick("Latency")
                    .blurb("Latency (ms) this element adds in live pipelines, as it answers the latency query; utterances (the silence that ends them included) are cut to fit it. 0 = max-utterance-length + 300 ms of processing (10.3 s by default)")
                    .maximum(600_000)
                    .default_value(0)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("scorer")
                    .nick("Scorer")
                    .blurb("External scorer (binary from ds-lm --scorer, or an ARPA model); \"none\" decodes without a language model; unset = the embedded English scorer with the embedded model, none with a model of one's own. Takes effect on the next NULL→READY")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("lm-alpha")
                    .nick("LM alpha")
                    .blurb("Language model weight; negative = the scorer's own (DeepSpeech's 0.931289 for ARPA)")
                    .minimum(-1.0)
                    .maximum(100.0)
                    .default_value(-1.0)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("lm-beta")
                    .nick("LM beta")
                    .blurb("Word insertion bonus; negative = the scorer's own (DeepSpeech's 1.183414 for ARPA)")
                    .minimum(-1.0)
                    .maximum(100.0)
                    .default_value(-1.0)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("beam-width")
                    .nick("Beam width")
                    .blurb("Beam width of the CTC prefix beam search for final results (1 = greedy when no hot-words; 0 = the model's own default, else 1024, as the deepspeech CLI)")
                    .minimum(0)
                    .maximum(65_536)
                    .default_value(DEFAULT_BEAM_WIDTH)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("hot-words")
                    .nick("Hot-words")
                    .blurb("Boosted words, comma-separated word:boost pairs (e.g. \"nine:7.5,cancel:-2\"); they act through the scorer's word scoring, as in DeepSpeech 0.9")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("candidates")
                    .nick("Candidates")
                    .blurb("Candidate transcripts listed in final messages (field `candidates`: structures with text and confidence) when above 1")
                    .minimum(1)
                    .maximum(100)
                    .default_value(1)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecString::builder("device")
                    .nick("Device")
                    .blurb("Compute device of the acoustic model: cpu, cuda or cuda:N (a build with the cuda feature and an NVIDIA GPU; otherwise the CPU, with a warning)")
                    .default_value(Some("cpu"))
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = lock(&self.settings);
        match pspec.name() {
            "model" => s.model = value.get().expect("type checked upstream"),
            "silence-threshold" => {
                s.silence_threshold = value.get().expect("type checked upstream")
            }
            "silence-length" => s.silence_length = value.get().expect("type checked upstream"),
            "max-utterance-length" => {
                s.max_utterance_length = value.get().expect("type checked upstream")
            }
            "partial-interval" => s.partial_interval = value.get().expect("type checked upstream"),
            "latency" => s.latency = value.get().expect("type checked upstream"),
            "beam-width" => s.beam_width = value.get().expect("type checked upstream"),
            "scorer" => s.scorer = value.get().expect("type checked upstream"),
            "lm-alpha" => s.lm_alpha = value.get().expect("type checked upstream"),
            "lm-beta" => s.lm_beta = value.get().expect("type checked upstream"),
            "hot-words" => s.hot_words = value.get().expect("type checked upstream"),
            "candidates" => s.candidates = value.get().expect("type checked upstream"),
            "device" => {
                s.device = value
                    .get::<Option<String>>()
                    .expect("type checked upstream")
                    .unwrap_or_else(|| "cpu".into())
            }
            other => unreachable!("unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = lock(&self.settings);
        match pspec.name() {
            "model" => s.model.to_value(),
            "silence-threshold" => s.silence_threshold.to_value(),
            "silence-length" => s.silence_length.to_value(),
            "max-utterance-length" => s.max_utterance_length.to_value(),
            "partial-interval" => s.partial_interval.to_value(),
            "latency" => s.latency.to_value(),
            "beam-width" => s.beam_width.to_value(),
            "scorer" => s.scorer.to_value(),
            "lm-alpha" => s.lm_alpha.to_value(),
            "lm-beta" => s.lm_beta.to_value(),
            "hot-words" => s.hot_words.to_value(),
            "candidates" => s.candidates.to_value(),
            "device" => s.device.to_value(),
            other => unreachable!("unknown property {other}"),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.add_pad(&self.sinkpad).expect("adding the sink pad");
        obj.add_pad(&self.srcpad).expect("adding the src pad");
    }
}

impl GstObjectImpl for DeepSpeech {}

impl ElementImpl for DeepSpeech {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "DeepSpeech speech-to-text",
                "Audio/Text/Filter",
                "Transcribes speech to timed text with a DeepSpeech-style acoustic model and CTC decoder",
                "deepspeech-rs developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            use gst_audio::AudioFormat as F;
            let sink_caps = gst_audio::AudioCapsBuilder::new_interleaved()
                .format_list([
                    F::S16le,
                    F::F32le,
                    F::S32le,
                    F::S24le,
                    F::S2432le,
                    F::F64le,
                    F::U8,
                ])
                // Rates a real stream has: 1 Hz would resample to hours, 2^31 Hz to gigabytes.
                .rate_range(1_000..=384_000)
                .build();
            let src_caps = gst::Caps::builder("text/x-raw")
                .field("format", "utf8")
                .build();
            vec![
                gst::PadTemplate::new(
                    "sink",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Always,
                    &sink_caps,
                )
                .expect("sink template"),
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &src_caps,
                )
                .expect("src template"),
            ]
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        gst::trace!(CAT, imp = self, "changing state: {transition:?}");
        match transition {
            // The model loads on NULL→READY; settings changed in READY take effect on
            // READY→PAUSED (unchanged ones keep the loaded model).
            gst::StateChange::NullToReady | gst::StateChange::ReadyToPaused => {
                if let Err(e) = self.load_model() {
                    self.post_error_message(e);
                    return Err(gst::StateChangeError);
                }
                if transition == gst::StateChange::ReadyToPaused {
                    self.reset();
                }
            }
            _ => {}
        }
        let success = self.parent_change_state(transition)?;
        if transition == gst::StateChange::PausedToReady {
            *lock(&self.state) = State::default();
        }
        Ok(success)
    }
}

#[cfg(test)]
mod tests {
    use super::feature_grid;
    use deepspeech_core::features::FeatureConfig;

    #[test]
    fn the_feature_grid_is_whole_steps_at_both_rates() {
        let features = FeatureConfig::default(); // 16 kHz, 20 ms steps
        assert_eq!(feature_grid(16_000, &features), 320);
        assert_eq!(feature_grid(44_100, &features), 882);
        assert_eq!(feature_grid(8_000, &features), 160);
        assert_eq!(feature_grid(11_025, &features), 441); // 40 ms: 20 ms is 220.5 samples
        assert_eq!(feature_grid(48_000, &features), 960);
    }
}
