//! # deepspeech-core
//!
//! The engine of deepspeech-rs, a speech-to-text system in the spirit of Mozilla DeepSpeech.
//! This crate knows nothing of GStreamer: it works on sample slices and files.
//!
//! Data flows one way:
//! [`audio`] (WAV / raw PCM → 16 kHz mono `f32`) → [`features`] (DeepSpeech-exact MFCC and
//! context windows) → acoustic model → CTC decoder; [`ctc`] is the training loss.
//!
//! ```
//! use deepspeech_core::features::{mfcc, FeatureConfig};
//! let samples = vec![0.0f32; 16_000]; // one second of 16 kHz silence
//! let m = mfcc(&samples).with_context(FeatureConfig::default().n_context);
//! assert_eq!((m.frames, m.width), (49, 494));
//! ```

pub mod alphabet;
pub mod audio;
pub mod cli;
pub mod ctc;
pub mod decoder;
pub mod device;
pub mod embedded;
pub mod engine;
pub mod error;
pub mod features;
pub mod lm;
pub mod mapped_file;
pub mod metrics;
pub mod model;
pub mod sniff;
pub mod train;
pub mod vad;

pub use alphabet::Alphabet;
pub use error::{
    AlphabetError, AudioError, AugmentError, CheckpointError, CtcError, DatasetError, DecoderError,
    Error, Result,
};
