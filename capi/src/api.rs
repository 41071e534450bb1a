//! DeepSpeech 0.9's API semantics on our engine, in safe Rust: what each `DS_*` function does
//! (which settings need a scorer, what a duplicate hot-word is, which error code a failure is,
//! how results are spelled and timed), shared by the C functions ([`crate`]) and the Python
//! module (`python/`), so that both behave exactly alike.

use std::path::Path;
use std::sync::Arc;

use deepspeech_core::decoder::HotWords;
use deepspeech_core::engine::{Model, Stream, Transcript};
use deepspeech_core::lm::Scorer;

use crate::errors::*;

/// A DeepSpeech error code (`DS_ERR_*`).
pub type Code = i32;

/// A model and its decoder settings. Streams hold the `Arc`; changing a setting while streams
/// run gives the model a copy of its own (the network stays shared), so running streams keep the
/// settings they were created with, as DeepSpeech's do.
pub struct DsModel {
    model: Arc<Model>,
}

impl DsModel {
    /// Loads a model (every format deepspeech-rs reads); the reason for a failure goes to
    /// stderr, as DeepSpeech's details do, and the code is returned.
    pub fn load(path: &Path) -> Result<Self, Code> {
        if path.as_os_str().is_empty() {
            eprintln!("No model specified, cannot continue.");
            return Err(DS_ERR_NO_MODEL);
        }
        Model::load(path)
            .map(|model| Self {
                model: Arc::new(model),
            })
            .map_err(|e| {
                eprintln!("{e}");
                model_load_code(&e)
            })
    }

    /// The model's settings to change: a copy of its own if streams share it.
    fn settings(&mut self) -> &mut Model {
        Arc::make_mut(&mut self.model)
    }

    /// The beam width new streams use.
    pub fn beam_width(&self) -> u32 {
        u32::try_from(self.model.beam_config().beam_width).unwrap_or(u32::MAX)
    }

    /// Sets the beam width for new streams.
    pub fn set_beam_width(&mut self, width: u32) {
        self.settings().set_beam_width(width as usize);
    }

    /// The sample rate the audio must have.
    pub fn sample_rate(&self) -> u32 {
        self.model.config().features.sample_rate
    }

    /// Loads a scorer for new streams; DeepSpeech reports every failure as an invalid scorer.
    pub fn enable_scorer(&mut self, path: &Path) -> Result<(), Code> {
        let scorer = Scorer::from_file(path).map_err(|e| {
            eprintln!("{e}");
            scorer_load_code(&e)
        })?;
        self.settings().set_scorer(Some(scorer));
        Ok(())
    }

    fn need_scorer(&self) -> Result<(), Code> {
        match self.model.scorer() {
            Some(_) => Ok(()),
            None => Err(DS_ERR_SCORER_NOT_ENABLED),
        }
    }

    /// Stops using the scorer.
    pub fn disable_scorer(&mut self) -> Result<(), Code> {
        self.need_scorer()?;
        self.settings().set_scorer(None);
        Ok(())
    }

    /// Sets the scorer's weights.
    pub fn set_alpha_beta(&mut self, alpha: f32, beta: f32) -> Result<(), Code> {
        self.need_scorer()?;
        self.settings().set_scorer_alpha_beta(alpha, beta);
        Ok(())
    }

    /// Changes the hot-words with `f` (they act through the scorer, so one must be enabled).
    fn edit_hot_words(
        &mut self,
        f: impl FnOnce(&mut HotWords) -> Result<(), Code>,
    ) -> Result<(), Code> {
        self.need_scorer()?;
        let mut hot_words = self.model.hot_words().cloned().unwrap_or_default();
        f(&mut hot_words)?;
        self.settings().set_hot_words(Some(hot_words));
        Ok(())
    }

    /// Adds a hot-word; one already there is an error, as in DeepSpeech (not a new boost).
    pub fn add_hot_word(&mut self, word: &str, boost: f32) -> Result<(), Code> {
        self.edit_hot_words(|hot_words| {
            if hot_words.boost(word).is_some() {
                return Err(DS_ERR_FAIL_INSERT_HOTWORD);
            }
            hot_words.add(word, boost).map_err(|e| {
                eprintln!("{e}");
                DS_ERR_FAIL_INSERT_HOTWORD
            })
        })
    }

    /// Removes a hot-word.
    pub fn erase_hot_word(&mut self, word: &str) -> Result<(), Code> {
        self.edit_hot_words(|hot_words| {
            hot_words
                .remove(word)
                .map(|_| ())
                .ok_or(DS_ERR_FAIL_ERASE_HOTWORD)
        })
    }

    /// Removes every hot-word.
    pub fn clear_hot_words(&mut self) -> Result<(), Code> {
        self.edit_hot_words(|hot_words| {
            hot_words.clear();
            Ok(())
        })
    }

    /// A new stream with the settings as they are now.
    pub fn create_stream(&self) -> DsStream {
        DsStream {
            stream: self.model.create_stream(),
            sample_rate: self.sample_rate(),
            step: self.model.config().features.frame_secs() as f32,
            failed: false,
        }
    }

    /// Transcribes a whole buffer: its text.
    pub fn speech_to_text(&self, audio: &[i16]) -> Option<String> {
        let mut stream = self.create_stream();
        stream.feed(audio);
        stream.finish_text()
    }

    /// Transcribes a whole buffer: up to `n` candidates.
    pub fn speech_to_text_with_metadata(&self, audio: &[i16], n: u32) -> Option<Vec<Candidate>> {
        let mut stream = self.create_stream();
        stream.feed(audio);
        stream.finish_candidates(n)
    }
}

/// One character of a candidate (`TokenMetadata`).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The character.
    pub text: String,
    /// Its position in feature steps.
    pub timestep: u32,
    /// Its position in seconds, computed as DeepSpeech computes it (`timestep × step` in single
    /// precision), so that it and what clients compute from it are the same to the last bit.
    pub start_time: f32,
}

/// One candidate transcript (`CandidateTranscript`).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Its characters, spaces included.
    pub tokens: Vec<Token>,
    /// The decoder's score.
    pub confidence: f64,
}

/// A stream being fed.
pub struct DsStream {
    stream: Stream,
    sample_rate: u32,
    /// The feature step in seconds, for the tokens' start times.
    step: f32,
    /// Whether feeding failed (reported once on stderr); the stream still finishes.
    failed: bool,
}

impl DsStream {
    /// Feeds 16-bit mono samples at the model's rate. DeepSpeech's feeding returns nothing, so a
    /// failure goes to stderr (once) and the stream keeps what it had.
    pub fn feed(&mut self, audio: &[i16]) {
        if let Err(e) = self.stream.feed_audio_i16(audio, self.sample_rate, 1)
            && !self.failed
        {
            eprintln!("DS_FeedAudioContent: {e}");
            self.failed = true;
        }
    }

    /// The text so far, as DeepSpeech spells it (spaces at the ends kept); `None` on failure.
    pub fn intermediate_text(&self) -> Option<String> {
        report(self.stream.intermediate_decode()).map(|t| t.decoded_text())
    }

    /// Up to `n` candidates so far.
    pub fn intermediate_candidates(&self, n: u32) -> Option<Vec<Candidate>> {
        let found = report(self.stream.intermediate_decode_with_metadata(n as usize))?;
        Some(candidates(found, n, self.step))
    }

    /// Ends the stream: its text.
    pub fn finish_text(self) -> Option<String> {
        report(self.stream.finish()).map(|t| t.decoded_text())
    }

    /// Ends the stream: up to `n` candidates.
    pub fn finish_candidates(self, n: u32) -> Option<Vec<Candidate>> {
        let step = self.step;
        let found = report(self.stream.finish_with_metadata(n as usize))?;
        Some(candidates(found, n, step))
    }
}

/// The value, or `None` with the reason on stderr.
fn report<T>(result: deepspeech_core::Result<T>) -> Option<T> {
    result.map_err(|e| eprintln!("{e}")).ok()
}

/// At most `n` of `transcripts` as DeepSpeech's candidates.
fn candidates(transcripts: Vec<Transcript>, n: u32, step: f32) -> Vec<Candidate> {
    transcripts
        .into_iter()
        .take(n as usize)
        .map(|t| Candidate {
            confidence: t.confidence,
            tokens: t
                .tokens
                .into_iter()
                .map(|token| Token {
                    timestep: u32::try_from(token.frame).unwrap_or(u32::MAX),
                    start_time: token.frame as f32 * step,
                    text: token.text,
                })
                .collect(),
        })
        .collect()
}
