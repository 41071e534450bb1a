//! `libdeepspeech.so`: DeepSpeech 0.9's C API on deepspeech-rs.
//!
//! Every function of DeepSpeech 0.9.3's `deepspeech.h` (`capi/include/deepspeech.h` here), with
//! the same names, signatures, struct layouts, error codes and semantics, so that programs and
//! bindings built for DeepSpeech (its C client, its Python and Node.js packages, .NET, Java)
//! run on this engine by loading this library instead of DeepSpeech's. The semantics live in
//! [`api`] (shared with the Python module); this file is the boundary.
//!
//! Across the boundary: a null pointer is an error (an error code, or a null result), never a
//! crash; a panic inside is caught and reported the same way; details of every failure go to
//! stderr, as DeepSpeech's do. Returned strings and metadata come from `malloc`.

#![allow(non_snake_case)] // DeepSpeech's function names

pub mod api;
pub mod errors;
pub mod metadata;

use std::ffi::{CStr, c_char, c_float, c_int, c_short, c_uint};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use api::{Candidate, Code, DsModel, DsStream};
use errors::*;
use metadata::{Metadata, c_string};

/// What `DS_Version` reports: the DeepSpeech API implemented, then this library's version.
pub const VERSION: &str = concat!("0.9.3+deepspeech-rs.", env!("CARGO_PKG_VERSION"));

/// A model and its decoder settings (`ModelState`).
pub struct ModelState(DsModel);

/// A stream (`StreamingState`).
pub struct StreamingState(DsStream);

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

/// A result as a DeepSpeech status code.
fn status(result: Result<(), Code>) -> c_int {
    result.err().unwrap_or(DS_ERR_OK)
}

/// A text result as a `malloc`ed C string, or null.
fn text(result: Option<String>) -> *mut c_char {
    result.map_or(std::ptr::null_mut(), |t| c_string(&t))
}

/// Candidates as `malloc`ed C metadata, or null.
fn metadata(result: Option<Vec<Candidate>>) -> *mut Metadata {
    result.map_or(std::ptr::null_mut(), |c| metadata::to_c(&c))
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
    let path = unsafe { str_arg(aModelPath) }.map_or(Path::new(""), path_of);
    guarded(DS_ERR_FAIL_CREATE_MODEL, || match DsModel::load(path) {
        Ok(model) => {
            // SAFETY: checked non-null above.
            unsafe { *retval = Box::into_raw(Box::new(ModelState(model))) };
            DS_ERR_OK
        }
        Err(code) => code,
    })
}

/// The model behind `ctx`, or `Err(DS_ERR_NO_MODEL)` for a null pointer.
///
/// # Safety
/// `ctx` is null or from `DS_CreateModel`, not used elsewhere at the same time.
unsafe fn model_mut<'a>(ctx: *mut ModelState) -> Result<&'a mut DsModel, Code> {
    // SAFETY: per the caller.
    unsafe { ctx.as_mut() }
        .map(|m| &mut m.0)
        .ok_or(DS_ERR_NO_MODEL)
}

/// Runs a setting change on the model at `ctx` as a status code.
///
/// # Safety
/// As [`model_mut`].
unsafe fn change(ctx: *mut ModelState, f: impl FnOnce(&mut DsModel) -> Result<(), Code>) -> c_int {
    // SAFETY: per the caller.
    let model = match unsafe { model_mut(ctx) } {
        Ok(model) => model,
        Err(code) => return code,
    };
    guarded(DS_ERR_FAIL_CREATE_MODEL, || status(f(model)))
}

/// The beam width streams created from now on use.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_GetModelBeamWidth(aCtx: *const ModelState) -> c_uint {
    // SAFETY: per the caller.
    unsafe { aCtx.as_ref() }.map_or(0, |ctx| ctx.0.beam_width())
}

/// Sets the beam width for streams created from now on.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_SetModelBeamWidth(aCtx: *mut ModelState, aBeamWidth: c_uint) -> c_int {
    // SAFETY: per the caller.
    unsafe {
        change(aCtx, |m| {
            m.set_beam_width(aBeamWidth);
            Ok(())
        })
    }
}

/// The sample rate of the audio this model takes.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_GetModelSampleRate(aCtx: *const ModelState) -> c_int {
    // SAFETY: per the caller.
    unsafe { aCtx.as_ref() }.map_or(0, |ctx| c_int::try_from(ctx.0.sample_rate()).unwrap_or(0))
}

/// Frees a model (streams created from it keep what they need).
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
    let path = unsafe { str_arg(aScorerPath) };
    // SAFETY: per the caller.
    unsafe {
        change(aCtx, |m| match path {
            Some(path) => m.enable_scorer(path_of(path)),
            None => Err(DS_ERR_INVALID_SCORER),
        })
    }
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
    let word = unsafe { str_arg(word) }.map(CStr::to_string_lossy);
    // SAFETY: per the caller.
    unsafe {
        change(aCtx, |m| match &word {
            Some(word) => m.add_hot_word(word, boost),
            None => Err(DS_ERR_FAIL_INSERT_HOTWORD),
        })
    }
}

/// Removes a hot-word.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`; `word` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_EraseHotWord(aCtx: *mut ModelState, word: *const c_char) -> c_int {
    // SAFETY: per the caller.
    let word = unsafe { str_arg(word) }.map(CStr::to_string_lossy);
    // SAFETY: per the caller.
    unsafe {
        change(aCtx, |m| match &word {
            Some(word) => m.erase_hot_word(word),
            None => Err(DS_ERR_FAIL_ERASE_HOTWORD),
        })
    }
}

/// Removes every hot-word.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_ClearHotWords(aCtx: *mut ModelState) -> c_int {
    // SAFETY: per the caller.
    unsafe { change(aCtx, DsModel::clear_hot_words) }
}

/// Stops using the scorer.
///
/// # Safety
/// `aCtx` is null or from `DS_CreateModel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DS_DisableExternalScorer(aCtx: *mut ModelState) -> c_int {
    // SAFETY: per the caller.
    unsafe { change(aCtx, DsModel::disable_scorer) }
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
    unsafe { change(aCtx, |m| m.set_alpha_beta(aAlpha, aBeta)) }
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
        let stream = Box::new(StreamingState(ctx.0.create_stream()));
        // SAFETY: checked non-null above.
        unsafe { *retval = Box::into_raw(stream) };
        DS_ERR_OK
    })
}

/// Feeds 16-bit mono samples at the model's sample rate (a failure goes to stderr: the
/// function returns nothing, as DeepSpeech's).
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
    match unsafe { samples(aBuffer, aBufferSize) } {
        Some(audio) => guarded((), || state.0.feed(audio)),
        None => {
            eprintln!("DS_FeedAudioContent: aBuffer is NULL with a non-zero aBufferSize; ignored")
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
    guarded(std::ptr::null_mut(), || text(state.0.intermediate_text()))
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
        metadata(state.0.intermediate_candidates(aNumResults))
    })
}

/// Takes ownership of a stream for finishing or freeing it.
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
    guarded(std::ptr::null_mut(), || text(state.0.finish_text()))
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
        metadata(state.0.finish_candidates(aNumResults))
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
    guarded(std::ptr::null_mut(), || text(ctx.0.speech_to_text(audio)))
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
        metadata(ctx.0.speech_to_text_with_metadata(audio, aNumResults))
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
