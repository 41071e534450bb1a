//! `libdeepspeech.so`: DeepSpeech 0.9's C API on deepspeech-rs.
//!
//! Every function of DeepSpeech 0.9.3's `deepspeech.h` (`capi/include/deepspeech.h` here), with
//! the same names, signatures, struct layouts, error codes and semantics, so that programs and
//! bindings built for DeepSpeech (its C client, its Python and Node.js packages, .NET, Java)
//! run on this engine by loading this library instead of DeepSpeech's.
//!
//! Across the boundary: a null pointer is an error (an error code, or a null result), never a
//! crash; a panic inside is caught and reported the same way; details of every failure go to
//! stderr, as DeepSpeech's do. Returned strings and metadata come from `malloc`.

#![allow(non_snake_case)] // DeepSpeech's function names

pub mod errors;
pub mod metadata;

use std::ffi::{CStr, c_char, c_float, c_int, c_short, c_uint};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use deepspeech_core::decoder::HotWords;
use deepspeech_core::engine::{Model, Stream, Transcript};
use deepspeech_core::lm::Scorer;

use errors::*;
use metadata::{Metadata, c_string};

/// What `DS_Version` reports: the DeepSpeech API implemented, then this library's version.
pub const VERSION: &str = concat!("0.9.3+deepspeech-rs.", env!("CARGO_PKG_VERSION"));

/// A model and its decoder settings (`ModelState`). Streams hold the `Arc`; changing a setting
/// while streams run gives the model a copy of its own (the network stays shared), so running
/// streams keep the settings they were created with, as DeepSpeech's do.
pub struct ModelState {
    model: Arc<Model>,
}

/// A stream (`StreamingState`).
pub struct StreamingState {
    stream: Stream,
    sample_rate: u32,
    /// The feature step in seconds, for the tokens' start times.
    step: f32,
    /// Whether feeding failed (reported once on stderr); the stream still finishes.
    failed: bool,
}

/// Runs `f`, turning a panic into `fallback` (the panic's message is printed by the panic hook).
fn guarded<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        eprintln!("deepspeech-rs: internal error, reported to the caller as a failure");
        fallback
    })
}

/// The string at `p`, or `None` for a null pointer.
///
/// # Safety
/// `p` is null or a NUL-terminated string.
unsafe fn str_arg<'a>(p: *const c_char) -> Option<&'a CStr> {
    // SAFETY: per the caller.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) })
}

/// The path at `p` (any bytes, as Unix paths are).
fn path_of(s: &CStr) -> &Path {
    use std::os::unix::ffi::OsStrExt;
    Path::new(std::ffi::OsStr::from_bytes(s.to_bytes()))
}

/// The samples at `buffer`: empty for a null pointer with no samples, `None` for a null pointer
/// with samples.
///
/// # Safety
/// `buffer` is null or points to `size` samples.
unsafe fn samples<'a>(buffer: *const c_short, size: c_uint) -> Option<&'a [i16]> {
    if buffer.is_null() {
        return (size == 0).then_some(&[][..]);
    }
    // SAFETY: per the caller.
    Some(unsafe { std::slice::from_raw_parts(buffer, size as usize) })
}

/// The model's settings to change: a copy of its own if streams share it.
fn settings(ctx: &mut ModelState) -> &mut Model {
    Arc::make_mut(&mut ctx.model)
}

/// Loads the model at `aModelPath` (every format deepspeech-rs reads) into `*retval`.
///
/// # Safety
/// `aModelPath` is null or a NUL-terminated string; `retval` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_CreateModel(
    aModelPath: *const c_char,
    retval: *mut *mut ModelState,
) -> c_int {
    if retval.is_null() {
        eprintln!("DS_CreateModel: retval is NULL");
        return DS_ERR_FAIL_CREATE_MODEL;
    }
    // SAFETY: checked non-null; writable per the caller.
    unsafe { *retval = std::ptr::null_mut() };
    // SAFETY: per the caller.
    let Some(path) = (unsafe { str_arg(aModelPath) }).filter(|p| !p.is_empty()) else {
        eprintln!("No model specified, cannot continue.");
        return DS_ERR_NO_MODEL;
    };
    guarded(DS_ERR_FAIL_CREATE_MODEL, || {
        match Model::load(path_of(path)) {
            Ok(model) => {
                let state = Box::new(ModelState {
                    model: Arc::new(model),
                });
                // SAFETY: checked non-null above.
                unsafe { *retval = Box::into_raw(state) };
                DS_ERR_OK
            }
            Err(e) => {
                eprintln!("{e}");
                model_load_code(&e)
            }
        }
    })
}

/// The beam width streams created from now on use.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_GetModelBeamWidth(aCtx: *const ModelState) -> c_uint {
    // SAFETY: per the caller.
    unsafe { aCtx.as_ref() }.map_or(0, |ctx| {
        c_uint::try_from(ctx.model.beam_config().beam_width).unwrap_or(c_uint::MAX)
    })
}

/// Sets the beam width for streams created from now on.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_SetModelBeamWidth(aCtx: *mut ModelState, aBeamWidth: c_uint) -> c_int {
    // SAFETY: per the caller.
    let Some(ctx) = (unsafe { aCtx.as_mut() }) else {
        return DS_ERR_NO_MODEL;
    };
    guarded(DS_ERR_FAIL_CREATE_MODEL, || {
        settings(ctx).set_beam_width(aBeamWidth as usize);
        DS_ERR_OK
    })
}

/// The sample rate of the audio this model takes.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_GetModelSampleRate(aCtx: *const ModelState) -> c_int {
    // SAFETY: per the caller.
    unsafe { aCtx.as_ref() }.map_or(0, |ctx| {
        c_int::try_from(ctx.model.config().features.sample_rate).unwrap_or(0)
    })
}

/// Frees a model.
///
/// # Safety
/// `ctx` is null or from `DS_CreateModel`, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_FreeModel(ctx: *mut ModelState) {
    if !ctx.is_null() {
        // SAFETY: per the caller, a Box from DS_CreateModel.
        guarded((), || drop(unsafe { Box::from_raw(ctx) }));
    }
}

/// Loads a scorer for streams created from now on.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`; `aScorerPath` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_EnableExternalScorer(
    aCtx: *mut ModelState,
    aScorerPath: *const c_char,
) -> c_int {
    // SAFETY: per the caller.
    let Some(ctx) = (unsafe { aCtx.as_mut() }) else {
        return DS_ERR_NO_MODEL;
    };
    // SAFETY: per the caller.
    let Some(path) = (unsafe { str_arg(aScorerPath) }) else {
        eprintln!("DS_EnableExternalScorer: no scorer path");
        return DS_ERR_INVALID_SCORER;
    };
    guarded(DS_ERR_INVALID_SCORER, || {
        match Scorer::from_file(path_of(path)) {
            Ok(scorer) => {
                settings(ctx).set_scorer(Some(scorer));
                DS_ERR_OK
            }
            Err(e) => {
                eprintln!("{e}");
                scorer_load_code(&e)
            }
        }
    })
}

/// Runs `f` on the model's hot-words if a scorer is enabled (hot-words act through it), as
/// DeepSpeech's hot-word functions do.
fn with_hot_words(ctx: &mut ModelState, f: impl FnOnce(&mut HotWords) -> c_int) -> c_int {
    if ctx.model.scorer().is_none() {
        return DS_ERR_SCORER_NOT_ENABLED;
    }
    let model = settings(ctx);
    let mut hot_words = model.hot_words().cloned().unwrap_or_default();
    let code = f(&mut hot_words);
    model.set_hot_words(Some(hot_words));
    code
}

/// Adds a hot-word (an existing one is an error, as in DeepSpeech).
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`; `word` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_AddHotWord(
    aCtx: *mut ModelState,
    word: *const c_char,
    boost: c_float,
) -> c_int {
    // SAFETY: per the caller.
    let Some(ctx) = (unsafe { aCtx.as_mut() }) else {
        return DS_ERR_NO_MODEL;
    };
    // SAFETY: per the caller.
    let Some(word) = (unsafe { str_arg(word) }) else {
        return DS_ERR_FAIL_INSERT_HOTWORD;
    };
    let word = word.to_string_lossy();
    guarded(DS_ERR_FAIL_INSERT_HOTWORD, || {
        with_hot_words(ctx, |hot_words| {
            if hot_words.boost(&word).is_some() {
                return DS_ERR_FAIL_INSERT_HOTWORD;
            }
            match hot_words.add(&word, boost) {
                Ok(()) => DS_ERR_OK,
                Err(e) => {
                    eprintln!("{e}");
                    DS_ERR_FAIL_INSERT_HOTWORD
                }
            }
        })
    })
}

/// Removes a hot-word.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`; `word` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_EraseHotWord(aCtx: *mut ModelState, word: *const c_char) -> c_int {
    // SAFETY: per the caller.
    let Some(ctx) = (unsafe { aCtx.as_mut() }) else {
        return DS_ERR_NO_MODEL;
    };
    // SAFETY: per the caller.
    let Some(word) = (unsafe { str_arg(word) }) else {
        return DS_ERR_FAIL_ERASE_HOTWORD;
    };
    let word = word.to_string_lossy();
    guarded(DS_ERR_FAIL_ERASE_HOTWORD, || {
        with_hot_words(ctx, |hot_words| match hot_words.remove(&word) {
            Some(_) => DS_ERR_OK,
            None => DS_ERR_FAIL_ERASE_HOTWORD,
        })
    })
}

/// Removes every hot-word.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_ClearHotWords(aCtx: *mut ModelState) -> c_int {
    // SAFETY: per the caller.
    let Some(ctx) = (unsafe { aCtx.as_mut() }) else {
        return DS_ERR_NO_MODEL;
    };
    guarded(DS_ERR_FAIL_CLEAR_HOTWORD, || {
        with_hot_words(ctx, |hot_words| {
            hot_words.clear();
            DS_ERR_OK
        })
    })
}

/// Stops using the scorer.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_DisableExternalScorer(aCtx: *mut ModelState) -> c_int {
    // SAFETY: per the caller.
    let Some(ctx) = (unsafe { aCtx.as_mut() }) else {
        return DS_ERR_NO_MODEL;
    };
    if ctx.model.scorer().is_none() {
        return DS_ERR_SCORER_NOT_ENABLED;
    }
    guarded(DS_ERR_SCORER_NOT_ENABLED, || {
        settings(ctx).set_scorer(None);
        DS_ERR_OK
    })
}

/// Sets the scorer's weights.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_SetScorerAlphaBeta(
    aCtx: *mut ModelState,
    aAlpha: c_float,
    aBeta: c_float,
) -> c_int {
    // SAFETY: per the caller.
    let Some(ctx) = (unsafe { aCtx.as_mut() }) else {
        return DS_ERR_NO_MODEL;
    };
    if ctx.model.scorer().is_none() {
        return DS_ERR_SCORER_NOT_ENABLED;
    }
    guarded(DS_ERR_SCORER_NOT_ENABLED, || {
        settings(ctx).set_scorer_alpha_beta(aAlpha, aBeta);
        DS_ERR_OK
    })
}

/// A new stream on `ctx`'s model as it is now.
fn new_stream(ctx: &ModelState) -> StreamingState {
    StreamingState {
        stream: ctx.model.create_stream(),
        sample_rate: ctx.model.config().features.sample_rate,
        step: ctx.model.config().features.frame_secs() as f32,
        failed: false,
    }
}

/// Creates a stream into `*retval`.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`; `retval` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_CreateStream(
    aCtx: *mut ModelState,
    retval: *mut *mut StreamingState,
) -> c_int {
    if retval.is_null() {
        return DS_ERR_FAIL_CREATE_STREAM;
    }
    // SAFETY: checked non-null; writable per the caller.
    unsafe { *retval = std::ptr::null_mut() };
    // SAFETY: per the caller.
    let Some(ctx) = (unsafe { aCtx.as_ref() }) else {
        return DS_ERR_NO_MODEL;
    };
    guarded(DS_ERR_FAIL_CREATE_STREAM, || {
        // SAFETY: checked non-null above.
        unsafe { *retval = Box::into_raw(Box::new(new_stream(ctx))) };
        DS_ERR_OK
    })
}

/// Feeds samples to `state`; a failure is reported on stderr (the function returns nothing, as
/// DeepSpeech's) and the stream keeps what it had.
fn feed(state: &mut StreamingState, audio: Option<&[i16]>) {
    let Some(audio) = audio else {
        eprintln!("DS_FeedAudioContent: aBuffer is NULL with a non-zero aBufferSize; ignored");
        return;
    };
    if let Err(e) = state.stream.feed_audio_i16(audio, state.sample_rate, 1)
        && !state.failed
    {
        eprintln!("DS_FeedAudioContent: {e}");
        state.failed = true;
    }
}

/// Feeds 16-bit mono samples at the model's sample rate.
///
/// # Safety
/// `aSctx` is null or a live stream; `aBuffer` is null or points to `aBufferSize` samples.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_FeedAudioContent(
    aSctx: *mut StreamingState,
    aBuffer: *const c_short,
    aBufferSize: c_uint,
) {
    // SAFETY: per the caller.
    let Some(state) = (unsafe { aSctx.as_mut() }) else {
        return;
    };
    // SAFETY: per the caller.
    let audio = unsafe { samples(aBuffer, aBufferSize) };
    guarded((), || feed(state, audio));
}

/// The best transcript's text as a C string, or null (with the reason on stderr).
fn text_of(result: deepspeech_core::Result<Transcript>) -> *mut c_char {
    match result {
        Ok(t) => c_string(&t.decoded_text()),
        Err(e) => {
            eprintln!("{e}");
            std::ptr::null_mut()
        }
    }
}

/// Up to `n` candidates as C metadata, or null (with the reason on stderr).
fn metadata_of(
    result: deepspeech_core::Result<Vec<Transcript>>,
    n: c_uint,
    step: f32,
) -> *mut Metadata {
    match result {
        Ok(mut transcripts) => {
            transcripts.truncate(n as usize);
            metadata::to_c(&transcripts, step)
        }
        Err(e) => {
            eprintln!("{e}");
            std::ptr::null_mut()
        }
    }
}

/// The transcript so far.
///
/// # Safety
/// `aSctx` is null or a live stream.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_IntermediateDecode(aSctx: *const StreamingState) -> *mut c_char {
    // SAFETY: per the caller.
    let Some(state) = (unsafe { aSctx.as_ref() }) else {
        return std::ptr::null_mut();
    };
    guarded(std::ptr::null_mut(), || {
        text_of(state.stream.intermediate_decode())
    })
}

/// The candidates so far.
///
/// # Safety
/// `aSctx` is null or a live stream.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_IntermediateDecodeWithMetadata(
    aSctx: *const StreamingState,
    aNumResults: c_uint,
) -> *mut Metadata {
    // SAFETY: per the caller.
    let Some(state) = (unsafe { aSctx.as_ref() }) else {
        return std::ptr::null_mut();
    };
    guarded(std::ptr::null_mut(), || {
        metadata_of(
            state
                .stream
                .intermediate_decode_with_metadata(aNumResults as usize),
            aNumResults,
            state.step,
        )
    })
}

/// Takes ownership of a stream for finishing it.
///
/// # Safety
/// `aSctx` is null or a live stream, which the caller gives up.
unsafe fn take(aSctx: *mut StreamingState) -> Option<Box<StreamingState>> {
    // SAFETY: per the caller, a Box from DS_CreateStream.
    (!aSctx.is_null()).then(|| unsafe { Box::from_raw(aSctx) })
}

/// Finishes (and frees) a stream: its transcript.
///
/// # Safety
/// `aSctx` is null or a live stream, freed by this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_FinishStream(aSctx: *mut StreamingState) -> *mut c_char {
    // SAFETY: per the caller.
    let Some(state) = (unsafe { take(aSctx) }) else {
        return std::ptr::null_mut();
    };
    guarded(std::ptr::null_mut(), || text_of(state.stream.finish()))
}

/// Finishes (and frees) a stream: up to `aNumResults` candidates.
///
/// # Safety
/// `aSctx` is null or a live stream, freed by this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_FinishStreamWithMetadata(
    aSctx: *mut StreamingState,
    aNumResults: c_uint,
) -> *mut Metadata {
    // SAFETY: per the caller.
    let Some(state) = (unsafe { take(aSctx) }) else {
        return std::ptr::null_mut();
    };
    guarded(std::ptr::null_mut(), || {
        metadata_of(
            state.stream.finish_with_metadata(aNumResults as usize),
            aNumResults,
            state.step,
        )
    })
}

/// Transcribes a whole buffer.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`; `aBuffer` is null or points to `aBufferSize` samples.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_SpeechToText(
    aCtx: *mut ModelState,
    aBuffer: *const c_short,
    aBufferSize: c_uint,
) -> *mut c_char {
    // SAFETY: per the caller.
    let (Some(ctx), Some(audio)) = (unsafe { aCtx.as_ref() }, unsafe {
        samples(aBuffer, aBufferSize)
    }) else {
        return std::ptr::null_mut();
    };
    guarded(std::ptr::null_mut(), || {
        let mut state = new_stream(ctx);
        feed(&mut state, Some(audio));
        text_of(state.stream.finish())
    })
}

/// Transcribes a whole buffer: up to `aNumResults` candidates.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`; `aBuffer` is null or points to `aBufferSize` samples.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_SpeechToTextWithMetadata(
    aCtx: *mut ModelState,
    aBuffer: *const c_short,
    aBufferSize: c_uint,
    aNumResults: c_uint,
) -> *mut Metadata {
    // SAFETY: per the caller.
    let (Some(ctx), Some(audio)) = (unsafe { aCtx.as_ref() }, unsafe {
        samples(aBuffer, aBufferSize)
    }) else {
        return std::ptr::null_mut();
    };
    guarded(std::ptr::null_mut(), || {
        let mut state = new_stream(ctx);
        feed(&mut state, Some(audio));
        metadata_of(
            state.stream.finish_with_metadata(aNumResults as usize),
            aNumResults,
            state.step,
        )
    })
}

/// Frees a stream without finishing it.
///
/// # Safety
/// `aSctx` is null or a live stream, freed by this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_FreeStream(aSctx: *mut StreamingState) {
    // SAFETY: per the caller.
    if let Some(state) = unsafe { take(aSctx) } {
        guarded((), || drop(state));
    }
}

/// Frees metadata.
///
/// # Safety
/// `m` is null or metadata from this library, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_FreeMetadata(m: *mut Metadata) {
    // SAFETY: per the caller.
    unsafe { metadata::free(m) }
}

/// Frees a string.
///
/// # Safety
/// `str` is null or a string from this library, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_FreeString(str: *mut c_char) {
    // SAFETY: per the caller, from malloc (c_string).
    unsafe { libc::free(str.cast()) }
}

/// The version.
#[unsafe(no_mangle)]
pub extern "C" fn DS_Version() -> *mut c_char {
    c_string(VERSION)
}

/// DeepSpeech's message for an error code.
#[unsafe(no_mangle)]
pub extern "C" fn DS_ErrorCodeToErrorMessage(aErrorCode: c_int) -> *mut c_char {
    c_string(message(aErrorCode))
}
