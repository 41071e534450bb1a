//! `deepspeech_rs`: DeepSpeech 0.9's Python API on deepspeech-rs.
//!
//! The same classes, methods, attribute names, return values and exceptions as the `deepspeech`
//! package (0.9.3), so that `import deepspeech_rs as deepspeech` is the only change an
//! application needs. Built on the C API's safe layer (`deepspeech::api`), so both behave alike.
//! Audio is any int16 array: numpy arrays are read in place (through `__array_interface__`),
//! other buffers (`array.array('h')`, a `memoryview` of format `h`) are copied once; the GIL is
//! released while the model runs.

#![allow(non_snake_case)] // DeepSpeech's method names

use std::path::Path;

use deepspeech::api::{self, DsModel, DsStream};
use deepspeech::errors::message;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// DeepSpeech's exception for a failed call: `"<What> failed with '<message>' (0x<code>)"`.
fn failed(what: &str, code: i32) -> PyErr {
    PyRuntimeError::new_err(format!(
        "{what} failed with '{}' (0x{code:X})",
        message(code)
    ))
}

/// Runs `f` on the int16 samples of `audio` with the GIL released: a numpy array in place, any
/// other buffer of 16-bit integers copied once.
fn with_samples<R: Send>(
    py: Python<'_>,
    audio: &Bound<'_, PyAny>,
    f: impl FnOnce(&[i16]) -> R + Send,
) -> PyResult<R> {
    if let Ok(interface) = audio.getattr("__array_interface__") {
        let interface = interface.cast_into::<PyDict>()?;
        let get = |key: &str| -> PyResult<Bound<'_, PyAny>> {
            interface
                .get_item(key)?
                .ok_or_else(|| PyTypeError::new_err(format!("__array_interface__ has no {key}")))
        };
        let typestr: String = get("typestr")?.extract()?;
        if typestr != "<i2" {
            return Err(PyTypeError::new_err(format!(
                "audio must be 16-bit signed integers (numpy.int16), not {typestr}"
            )));
        }
        let shape: Vec<usize> = get("shape")?.extract()?;
        let [len] = shape[..] else {
            return Err(PyTypeError::new_err(format!(
                "audio must be a one-dimensional array, not of shape {shape:?}"
            )));
        };
        let contiguous = interface
            .get_item("strides")?
            .is_none_or(|s| s.is_none() || s.extract::<Vec<isize>>().is_ok_and(|s| s == [2]));
        if contiguous {
            let data = get("data")?.cast_into::<PyTuple>()?;
            let address: usize = data.get_item(0)?.extract()?;
            if len == 0 || address == 0 {
                return Ok(py.detach(|| f(&[])));
            }
            // SAFETY: numpy's array interface: `len` contiguous int16 at `address`, alive while
            // `audio` (held by our caller) is.
            let samples = unsafe { std::slice::from_raw_parts(address as *const i16, len) };
            return Ok(py.detach(|| f(samples)));
        }
        let copy: Vec<i16> = audio.call_method0("tolist")?.extract()?;
        return Ok(py.detach(|| f(&copy)));
    }
    let view = py
        .import("builtins")?
        .getattr("memoryview")?
        .call1((audio,))
        .map_err(|_| {
            PyTypeError::new_err("audio must be a numpy.int16 array or an int16 buffer")
        })?;
    let format: String = view.getattr("format")?.extract()?;
    if format != "h" {
        return Err(PyTypeError::new_err(format!(
            "audio must be 16-bit signed integers, not buffer format {format:?}"
        )));
    }
    let bytes: Vec<u8> = view.call_method0("tobytes")?.extract()?;
    let samples: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_ne_bytes([b[0], b[1]]))
        .collect();
    Ok(py.detach(|| f(&samples)))
}

/// One character of a transcript and where it was placed.
#[pyclass(frozen, get_all, module = "deepspeech_rs")]
#[derive(Clone)]
pub struct TokenMetadata {
    /// The character.
    text: String,
    /// Its position in feature steps (20 ms for DeepSpeech's models).
    timestep: u32,
    /// Its position in seconds.
    start_time: f32,
}

/// One candidate transcript.
#[pyclass(frozen, get_all, module = "deepspeech_rs")]
#[derive(Clone)]
pub struct CandidateTranscript {
    /// Its characters, spaces included.
    tokens: Vec<TokenMetadata>,
    /// The decoder's score (higher is better).
    confidence: f64,
}

/// Candidate transcripts, best first.
#[pyclass(frozen, get_all, module = "deepspeech_rs")]
pub struct Metadata {
    /// The candidates.
    transcripts: Vec<CandidateTranscript>,
}

impl From<Vec<api::Candidate>> for Metadata {
    fn from(candidates: Vec<api::Candidate>) -> Self {
        Self {
            transcripts: candidates
                .into_iter()
                .map(|c| CandidateTranscript {
                    confidence: c.confidence,
                    tokens: c
                        .tokens
                        .into_iter()
                        .map(|t| TokenMetadata {
                            text: t.text,
                            timestep: t.timestep,
                            start_time: t.start_time,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A DeepSpeech model.
#[pyclass(module = "deepspeech_rs")]
pub struct Model {
    inner: DsModel,
}

#[pymethods]
impl Model {
    /// Loads a model: any format deepspeech-rs reads (DeepSpeech's and Coqui STT's `.pb`,
    /// `.pbmm`, `.tflite`, checkpoints, and deepspeech-rs `.safetensors`).
    #[new]
    fn new(py: Python<'_>, model_path: &str) -> PyResult<Self> {
        py.detach(|| DsModel::load(Path::new(model_path)))
            .map(|inner| Self { inner })
            .map_err(|code| failed("CreateModel", code))
    }

    /// The beam width new streams use.
    fn beamWidth(&self) -> u32 {
        self.inner.beam_width()
    }

    /// Sets the beam width; 0 (DeepSpeech's status for success).
    fn setBeamWidth(&mut self, beam_width: u32) -> i32 {
        self.inner.set_beam_width(beam_width);
        0
    }

    /// The sample rate the audio must have.
    fn sampleRate(&self) -> u32 {
        self.inner.sample_rate()
    }

    /// Loads a scorer.
    fn enableExternalScorer(&mut self, py: Python<'_>, scorer_path: &str) -> PyResult<()> {
        let inner = &mut self.inner;
        py.detach(|| inner.enable_scorer(Path::new(scorer_path)))
            .map_err(|code| failed("EnableExternalScorer", code))
    }

    /// Stops using the scorer; 0 on success, else DeepSpeech's error code.
    fn disableExternalScorer(&mut self) -> i32 {
        self.inner.disable_scorer().err().unwrap_or(0)
    }

    /// Adds a hot-word and its boost.
    fn addHotWord(&mut self, word: &str, boost: f32) -> PyResult<()> {
        self.inner
            .add_hot_word(word, boost)
            .map_err(|code| failed("AddHotWord", code))
    }

    /// Removes a hot-word.
    fn eraseHotWord(&mut self, word: &str) -> PyResult<()> {
        self.inner
            .erase_hot_word(word)
            .map_err(|code| failed("EraseHotWord", code))
    }

    /// Removes every hot-word.
    fn clearHotWords(&mut self) -> PyResult<()> {
        self.inner
            .clear_hot_words()
            .map_err(|code| failed("ClearHotWords", code))
    }

    /// Sets the scorer's weights; 0 on success, else DeepSpeech's error code.
    fn setScorerAlphaBeta(&mut self, alpha: f32, beta: f32) -> i32 {
        self.inner.set_alpha_beta(alpha, beta).err().unwrap_or(0)
    }

    /// Transcribes int16 mono audio at the model's sample rate (None on failure, as
    /// DeepSpeech's).
    fn stt(&self, py: Python<'_>, audio_buffer: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        let inner = &self.inner;
        with_samples(py, audio_buffer, |audio| inner.speech_to_text(audio))
    }

    /// Transcribes audio: up to `num_results` candidates with their tokens.
    #[pyo3(signature = (audio_buffer, num_results = 1))]
    fn sttWithMetadata(
        &self,
        py: Python<'_>,
        audio_buffer: &Bound<'_, PyAny>,
        num_results: u32,
    ) -> PyResult<Option<Metadata>> {
        let inner = &self.inner;
        let found = with_samples(py, audio_buffer, |audio| {
            inner.speech_to_text_with_metadata(audio, num_results)
        })?;
        Ok(found.map(Metadata::from))
    }

    /// A new stream.
    fn createStream(&self) -> Stream {
        Stream {
            inner: Some(self.inner.create_stream()),
        }
    }
}

/// A stream of audio being transcribed (from `Model.createStream()`).
#[pyclass(module = "deepspeech_rs")]
pub struct Stream {
    inner: Option<DsStream>,
}

impl Stream {
    fn live(&mut self, doing: &str) -> PyResult<&mut DsStream> {
        self.inner.as_mut().ok_or_else(|| {
            PyRuntimeError::new_err(format!(
                "Stream object is not valid. Trying to {doing} an already finished stream?"
            ))
        })
    }

    fn take(&mut self, doing: &str) -> PyResult<DsStream> {
        self.live(doing)?;
        Ok(self.inner.take().expect("checked live"))
    }
}

#[pymethods]
impl Stream {
    /// Feeds int16 mono audio at the model's sample rate.
    fn feedAudioContent(
        &mut self,
        py: Python<'_>,
        audio_buffer: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let stream = self.live("feed")?;
        with_samples(py, audio_buffer, |audio| stream.feed(audio))
    }

    /// The transcript so far.
    fn intermediateDecode(&mut self, py: Python<'_>) -> PyResult<Option<String>> {
        let stream = self.live("decode")?;
        Ok(py.detach(|| stream.intermediate_text()))
    }

    /// Up to `num_results` candidates so far.
    #[pyo3(signature = (num_results = 1))]
    fn intermediateDecodeWithMetadata(
        &mut self,
        py: Python<'_>,
        num_results: u32,
    ) -> PyResult<Option<Metadata>> {
        let stream = self.live("decode")?;
        Ok(py
            .detach(|| stream.intermediate_candidates(num_results))
            .map(Metadata::from))
    }

    /// Ends the stream: its transcript.
    fn finishStream(&mut self, py: Python<'_>) -> PyResult<Option<String>> {
        let stream = self.take("finish")?;
        Ok(py.detach(|| stream.finish_text()))
    }

    /// Ends the stream: up to `num_results` candidates.
    #[pyo3(signature = (num_results = 1))]
    fn finishStreamWithMetadata(
        &mut self,
        py: Python<'_>,
        num_results: u32,
    ) -> PyResult<Option<Metadata>> {
        let stream = self.take("finish")?;
        Ok(py
            .detach(|| stream.finish_candidates(num_results))
            .map(Metadata::from))
    }

    /// Drops the stream without decoding.
    fn freeStream(&mut self) -> PyResult<()> {
        self.take("free").map(drop)
    }
}

/// The version: DeepSpeech's API version and this library's.
#[pyfunction]
fn version() -> &'static str {
    deepspeech::VERSION
}

/// The module.
#[pymodule]
fn deepspeech_rs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_class::<Stream>()?;
    m.add_class::<Metadata>()?;
    m.add_class::<CandidateTranscript>()?;
    m.add_class::<TokenMetadata>()?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add("__version__", deepspeech::VERSION)?;
    Ok(())
}
