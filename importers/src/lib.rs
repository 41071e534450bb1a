//! `ds-import`: converts speech corpora (Common Voice, LibriSpeech, a plain folder of audio
//! files with `.txt` transcripts, the voice acting of the game Drascula) into DeepSpeech
//! training CSVs (`wav_filename,wav_filesize,transcript`) and 16 kHz mono 16-bit WAVs, the input
//! of `ds-train`.
//!
//! Compressed audio is decoded by GStreamer (`uridecodebin`), so any format GStreamer plays
//! can be imported. Rows that cannot be used are skipped with a reason (see
//! [`report::SkipReason`]) and listed in `skipped.tsv`; imports are resumable, since every file
//! is written atomically and complete WAVs are reused.
//!
//! ```no_run
//! use deepspeech_importers::{Corpus, Options, import};
//! let summary = import(
//!     Corpus::CommonVoice,
//!     "cv-corpus/en".as_ref(),
//!     "data/cv".as_ref(),
//!     &Options::default(),
//! )?;
//! print!("{summary}");
//! # Ok::<(), deepspeech_importers::ImportError>(())
//! ```

pub mod corpus;
pub mod decode;
pub mod import;
pub mod normalise;
pub mod numbers;
pub mod report;
pub mod writer;

pub use corpus::Corpus;
pub use import::{ImportError, Options, import};
pub use report::{SkipReason, Summary};
