//! Typed errors for everything in `deepspeech-core` that takes user input.
//!
//! Binaries and the GStreamer element turn these into messages; the library never panics on
//! bad input.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any error `deepspeech-core` can return.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Audio could not be read or converted.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// An alphabet file or a transcript does not fit the alphabet.
    #[error(transparent)]
    Alphabet(#[from] AlphabetError),
    /// A dataset CSV could not be used.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// A checkpoint or exported model could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The CTC loss got inputs it cannot use (see [`CtcError`]).
    #[error(transparent)]
    Ctc(#[from] CtcError),
    /// The beam-search decoder got inputs or settings it cannot use (see [`DecoderError`]).
    #[error(transparent)]
    Decoder(#[from] DecoderError),
    /// An ARPA language model could not be loaded (see [`LmError`]).
    #[error(transparent)]
    Lm(#[from] LmError),
    /// A memory-mapped scorer or model changed on disk while in use (see
    /// [`FileChangedError`](crate::mapped_file::FileChangedError)).
    #[error(transparent)]
    FileChanged(#[from] crate::mapped_file::FileChangedError),
    /// A binary scorer file could not be written or read (see
    /// [`ScorerFileError`](crate::lm::binary::ScorerFileError)); the message names the file.
    #[error(transparent)]
    ScorerFile(#[from] crate::lm::binary::ScorerFileError),
    /// A DeepSpeech `.scorer` package or its KenLM model could not be read
    /// ([`ScorerPackageError`](crate::lm::formats::deepspeech_scorer::ScorerPackageError)); the
    /// message names the file.
    #[error(transparent)]
    ScorerPackage(#[from] crate::lm::formats::deepspeech_scorer::ScorerPackageError),
    /// A tensor operation failed in candle. Built by `From`, which drops the backtrace candle
    /// captures when `RUST_BACKTRACE` is set ([`without_backtrace`]): it would otherwise end up
    /// in the text of every message, the element's ERROR included.
    #[error("tensor error: {0}")]
    Candle(candle::Error),
    /// A training augmentation could not be parsed or set up.
    #[error(transparent)]
    Augment(#[from] AugmentError),
    /// The default model was asked for, but this build has none (feature `embedded-model` off).
    #[error(
        "no model given and this build has no embedded default model (built without the `embedded-model` feature): give a model path"
    )]
    NoEmbeddedModel,
    /// The ranks of a data-parallel run do not start from the same state.
    #[error("data-parallel training: {0}")]
    Distributed(String),
}

impl From<candle::Error> for Error {
    fn from(e: candle::Error) -> Self {
        Error::Candle(without_backtrace(e))
    }
}

/// `e` without the backtraces candle attaches to its errors when `RUST_BACKTRACE` or
/// `RUST_LIB_BACKTRACE` is set (its `Display` prints them after the message), at any depth of
/// context or path wrapping.
pub fn without_backtrace(e: candle::Error) -> candle::Error {
    match e {
        candle::Error::WithBacktrace { inner, .. } => without_backtrace(*inner),
        candle::Error::Context { inner, context } => candle::Error::Context {
            inner: Box::new(without_backtrace(*inner)),
            context,
        },
        candle::Error::WithPath { inner, path } => candle::Error::WithPath {
            inner: Box::new(without_backtrace(*inner)),
            path,
        },
        other => other,
    }
}

/// Why an `--augment` specification was refused.
#[derive(Debug, thiserror::Error)]
pub enum AugmentError {
    /// The specification does not parse or names an unknown augmentation, key or value.
    #[error("--augment {spec:?}: {reason}")]
    Spec {
        /// The specification as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An `overlay` source has no usable audio.
    #[error("--augment overlay source {path}: {reason}")]
    Source {
        /// The folder or CSV.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why a dataset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The CSV could not be opened or read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        reason: std::io::Error,
    },
    /// The header lacks a required column.
    #[error(
        "{path}: no `{column}` column in the header (expected wav_filename,wav_filesize,transcript)"
    )]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: &'static str,
    },
    /// No usable sample remains.
    #[error("the {what} set is empty: {detail}")]
    Empty {
        /// Which set (train, dev, test).
        what: String,
        /// Why (files given, rows skipped).
        detail: String,
    },
}

/// Why a checkpoint or exported model could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        reason: std::io::Error,
    },
    /// A model or checkpoint could not be written (a full disk, a read-only folder); written
    /// through a temporary file and a rename, so the file that was there before is unchanged.
    #[error(
        "could not write {path}: {reason} (the file that was there before, if any, is unchanged)"
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        reason: std::io::Error,
    },
    /// The file is not a valid checkpoint or model.
    #[error("{path}: not a valid deepspeech-rs model or checkpoint ({reason})")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A model file from another program (DeepSpeech, Coqui STT, TensorFlow) could not be used.
    #[error("{path}: cannot use this {format} as a DeepSpeech model: {reason}")]
    Import {
        /// The file or folder.
        path: PathBuf,
        /// The format it was recognised as.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A tensor's shape differs from the model's geometry.
    #[error("{path}: tensor `{tensor}` has shape {found:?} but the model needs {expected:?}")]
    ShapeMismatch {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// The shape the model needs.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
}

/// Why audio could not be read or converted.
///
/// File errors carry the path so that a message names the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error (shown in the message, so not chained as a source).
        reason: std::io::Error,
    },
    /// The file is zero bytes long.
    #[error("{path}: the file is empty (0 bytes)")]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// The file does not start with a RIFF/WAVE header.
    #[error("{path}: not a WAV file ({detail})")]
    NotWav {
        /// The file.
        path: PathBuf,
        /// What the parser found instead.
        detail: String,
    },
    /// The header promised more data than the file holds, or a chunk is cut short.
    #[error("{path}: truncated WAV file ({detail})")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where the data ran out.
        detail: String,
    },
    /// A valid WAV that holds no samples at all.
    #[error("{path}: the WAV file holds no audio samples")]
    NoSamples {
        /// The file.
        path: PathBuf,
    },
    /// The file is not audio in a format this crate reads; `what` says what it is instead.
    #[error("{path}: not an audio file this program reads: it is {what} (it reads {formats})", formats = crate::audio::compressed::FORMATS)]
    NotAudio {
        /// The file.
        path: PathBuf,
        /// What the file is, from its first bytes (see [`crate::sniff::describe`]).
        what: String,
    },
    /// A compressed or container audio file that could not be decoded.
    #[error("{path}: cannot decode the audio: {detail}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The decoder's complaint.
        detail: String,
    },
    /// A WAV encoding this crate does not decode (A-law, µ-law, ADPCM, 64-bit float, ...).
    #[error("{path}: unsupported WAV encoding ({detail}); convert it to PCM or 32-bit float")]
    UnsupportedEncoding {
        /// The file.
        path: PathBuf,
        /// The encoding found.
        detail: String,
    },
    /// The file holds more audio than the reader was allowed to take into memory.
    #[error(
        "{path}: {secs:.0} s of audio, more than the limit of {limit_secs:.0} s (the CLI's \
         --max_audio_secs); split the file or raise the limit"
    )]
    TooLong {
        /// The file.
        path: PathBuf,
        /// Its duration as far as known: the header's, or what was decoded before stopping.
        secs: f64,
        /// The limit.
        limit_secs: f64,
    },
    /// Raw PCM was described inconsistently (zero channels, zero rate, ragged buffer).
    #[error("invalid raw audio: {0}")]
    InvalidPcm(String),
    /// The resampler refused its configuration or input.
    #[error("resampling from {from} Hz to {to} Hz failed: {detail}")]
    Resample {
        /// Input rate.
        from: u32,
        /// Output rate.
        to: u32,
        /// The resampler's message.
        detail: String,
    },
}

/// Why an alphabet could not be loaded, or a transcript not encoded.
#[derive(Debug, thiserror::Error)]
pub enum AlphabetError {
    /// The alphabet file could not be read.
    #[error("cannot read alphabet {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error (shown in the message, so not chained as a source).
        reason: std::io::Error,
    },
    /// The alphabet has no symbols.
    #[error("the alphabet is empty")]
    Empty,
    /// A line holds more than one character.
    #[error("alphabet line {line}: {symbol:?} is not a single character")]
    NotOneCharacter {
        /// 1-based line number.
        line: usize,
        /// The line's content.
        symbol: String,
    },
    /// The same symbol appears twice.
    #[error("alphabet line {line}: symbol {symbol:?} already appears on line {first_line}")]
    Duplicate {
        /// 1-based line number of the repeat.
        line: usize,
        /// 1-based line number of the first occurrence.
        first_line: usize,
        /// The symbol.
        symbol: char,
    },
    /// A transcript holds a character that is not in the alphabet.
    #[error("character {character:?} at position {position} of {text:?} is not in the alphabet")]
    UnknownCharacter {
        /// The character.
        character: char,
        /// 0-based character position in the text.
        position: usize,
        /// The whole text.
        text: String,
    },
    /// A label index is outside the alphabet.
    #[error("label {label} is outside the alphabet of {size} symbols")]
    UnknownLabel {
        /// The label.
        label: usize,
        /// The alphabet's size.
        size: usize,
    },
}

/// Why the CTC loss refused its inputs.
#[derive(Debug, thiserror::Error)]
pub enum CtcError {
    /// The logits are not a rank-3 `[T, B, C]` tensor.
    #[error("CTC logits must have shape [T, B, C] (time-major), got shape {shape:?}")]
    Shape {
        /// The shape received.
        shape: Vec<usize>,
    },
    /// The logits are not `f32` on the CPU, the only combination implemented.
    #[error(
        "the CTC loss is implemented for f32 logits on the CPU only, got {dtype:?} on {device}"
    )]
    Unsupported {
        /// The logits' dtype.
        dtype: candle::DType,
        /// The logits' device.
        device: String,
    },
    /// The blank index is not one of the classes.
    #[error("CTC blank index {blank} is outside the {classes} classes of the logits")]
    BlankOutOfRange {
        /// The blank index.
        blank: usize,
        /// `C`.
        classes: usize,
    },
    /// `targets` or `input_lengths` does not have one entry per batch item.
    #[error("CTC {what} has {len} entries but the logits hold a batch of {batch}")]
    BatchMismatch {
        /// Which argument.
        what: &'static str,
        /// Its length.
        len: usize,
        /// `B`.
        batch: usize,
    },
    /// An input length exceeds the logits' frame count.
    #[error(
        "CTC batch item {item}: input length {length} exceeds the {frames} frames of the logits"
    )]
    InputTooLong {
        /// Batch index.
        item: usize,
        /// The input length given.
        length: usize,
        /// `T`.
        frames: usize,
    },
    /// A label is not a class, or is the blank.
    #[error(
        "CTC batch item {item}: label {label} at position {position} is not a non-blank class \
         (classes 0..{classes}, blank {blank})"
    )]
    InvalidLabel {
        /// Batch index.
        item: usize,
        /// 0-based position in the target.
        position: usize,
        /// The label.
        label: usize,
        /// `C`.
        classes: usize,
        /// The blank index.
        blank: usize,
    },
    /// A target needs more frames than its input has (labels plus a blank between repeats).
    #[error(
        "CTC batch item {item}: a target of {target_len} labels needs at least {required} frames \
         (one per label plus a blank between repeated labels) but only {available} are available"
    )]
    Impossible {
        /// Batch index.
        item: usize,
        /// Number of labels.
        target_len: usize,
        /// Frames required.
        required: usize,
        /// The item's input length.
        available: usize,
    },
}

/// Why the CTC beam-search decoder refused its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecoderError {
    /// The matrix width does not match the alphabet (its symbols plus the blank).
    #[error(
        "the acoustic model has {classes} output classes but the alphabet has {symbols} symbols \
         (expected {symbols} + 1 for the blank): use the alphabet the model was trained with"
    )]
    ClassesMismatch {
        /// Classes per frame given.
        classes: usize,
        /// Symbols in the alphabet.
        symbols: usize,
    },
    /// The slice is not a whole number of frames.
    #[error("{len} values are not a whole number of frames of {classes} classes")]
    Ragged {
        /// Number of values given.
        len: usize,
        /// Classes per frame.
        classes: usize,
    },
    /// A log-probability is NaN or +infinity (−infinity, probability 0, is allowed).
    #[error(
        "log-probability {value} at frame {frame}, class {class} (NaN and +inf are not allowed)"
    )]
    NotFinite {
        /// The frame.
        frame: usize,
        /// The class.
        class: usize,
        /// The value found.
        value: f32,
    },
    /// A setting is out of range.
    #[error("invalid beam-search setting: {0}")]
    Config(String),
    /// A hot-word or its boost cannot be used.
    #[error("invalid hot-word: {0}")]
    HotWord(String),
    /// The scorer spells words in bytes (a DeepSpeech package for "bytes output mode" models)
    /// but the model outputs characters.
    #[error(
        "the scorer is a bytes-output (UTF-8 mode) package, made for models that output bytes; \
         this model outputs the characters of its alphabet: use a package built with \
         `generate_scorer_package --alphabet ALPHABET --force_bytes_output_mode false`"
    )]
    Utf8Scorer,
}

/// Why an ARPA language model could not be loaded.
///
/// Errors about the content carry the 1-based line number; [`Error`] messages from
/// [`ArpaModel::from_file`](crate::lm::arpa::ArpaModel::from_file) also name the file.
#[derive(Debug, thiserror::Error)]
pub enum LmError {
    /// The file could not be read.
    #[error("cannot read language model {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        reason: std::io::Error,
    },
    /// An error inside a file, with the file named. (Not a `source`: the message already holds
    /// it, and an error chain would print it twice.)
    #[error("{path}: {error}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        error: Box<LmError>,
    },
    /// The file does not start with `\data\` (after blank and `#` comment lines, as KenLM).
    #[error("line {line}: expected the ARPA header \\data\\ but found {found:?}{hint}")]
    BadHeader {
        /// 1-based line number.
        line: usize,
        /// The line found.
        found: String,
        /// A hint when the file looks like a known other format.
        hint: &'static str,
    },
    /// A line of the `\data\` section is not `ngram N=COUNT`, or the orders are not 1, 2, 3...
    #[error("line {line}: bad n-gram count line {text:?}: {reason}")]
    BadCount {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// The model's order is 0 or above [`MAX_ORDER`](crate::lm::arpa::MAX_ORDER).
    #[error("line {line}: n-gram order {order} is not supported (orders 1 to {max})")]
    UnsupportedOrder {
        /// 1-based line number of the count line.
        line: usize,
        /// The order found.
        order: usize,
        /// The highest order supported.
        max: usize,
    },
    /// A section header is not the one expected next.
    #[error("line {line}: expected the section header {expected:?} but found {found:?}")]
    BadSection {
        /// 1-based line number.
        line: usize,
        /// The header expected (`\2-grams:`, `\end\`).
        expected: String,
        /// The line found.
        found: String,
    },
    /// A section holds fewer or more n-grams than the header announced.
    #[error(
        "line {line}: the header announces {announced} {order}-grams but the section holds {found}"
    )]
    CountMismatch {
        /// 1-based line number where the section ends.
        line: usize,
        /// The order.
        order: usize,
        /// The count in the `\data\` section.
        announced: u64,
        /// The n-grams found.
        found: u64,
    },
    /// An n-gram line cannot be parsed.
    #[error("line {line}: malformed {order}-gram line {text:?}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// The section's order.
        order: usize,
        /// The line.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// A higher-order n-gram uses a word that is not among the unigrams (KenLM refuses these too).
    #[error("line {line}: word {word:?} is not among the 1-grams but appears in a {order}-gram")]
    UnknownWord {
        /// 1-based line number.
        line: usize,
        /// The order.
        order: usize,
        /// The word.
        word: String,
    },
    /// The same n-gram appears twice.
    #[error("line {line}: duplicate {order}-gram {ngram:?} (first on line {first_line})")]
    Duplicate {
        /// 1-based line number of the repeat.
        line: usize,
        /// 1-based line number of the first occurrence (0 when unknown).
        first_line: usize,
        /// The order.
        order: usize,
        /// The n-gram's words.
        ngram: String,
    },
    /// `<s>` or `</s>` is not among the unigrams (KenLM refuses such models by default).
    #[error("the language model has no {word} among its 1-grams")]
    MissingSentenceMarker {
        /// `<s>` or `</s>`.
        word: &'static str,
    },
    /// The vocabulary is too large to pack this order's word ids into a 128-bit key.
    #[error(
        "the vocabulary of {words} words is too large for {order}-grams ({bits} bits per word id)"
    )]
    VocabularyTooLarge {
        /// Number of words.
        words: usize,
        /// The order.
        order: usize,
        /// Bits per word id.
        bits: u32,
    },
    /// The file is not UTF-8 text.
    #[error("line {line}: not valid UTF-8 text")]
    NotUtf8 {
        /// 1-based line number of the first invalid byte.
        line: usize,
    },
    /// Text follows `\end\`.
    #[error("line {line}: unexpected text {text:?} after \\end\\")]
    TrailingText {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// The file ends before the section expected.
    #[error("the file ends before {expected}")]
    UnexpectedEnd {
        /// What was expected.
        expected: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backtrace candle captured never reaches the message, however deep it is wrapped.
    #[test]
    fn candle_backtraces_stay_out_of_messages() {
        let traced = |e: candle::Error| candle::Error::WithBacktrace {
            inner: Box::new(e),
            backtrace: Box::new(std::backtrace::Backtrace::force_capture()),
        };
        let e = traced(candle::Error::Msg("shape mismatch".into()));
        assert!(
            e.to_string().lines().count() > 1,
            "the test error has a backtrace"
        );
        assert_eq!(Error::from(e).to_string(), "tensor error: shape mismatch");
        let wrapped = candle::Error::Context {
            inner: Box::new(traced(candle::Error::Msg("inner".into()))),
            context: Box::new("while loading"),
        };
        assert_eq!(
            Error::from(wrapped).to_string(),
            "tensor error: while loading\ninner"
        );
    }
}
