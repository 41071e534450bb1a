//! The acoustic model: the DeepSpeech network, its fused LSTM, and its file format.

pub mod deepspeech;
pub mod formats;
pub mod hybrid;
pub mod io;
pub mod lstm;
pub mod weight_buffer;

pub use deepspeech::{Config, DeepSpeech, Dropout};
pub use io::{export, load_model, load_model_from_bytes};
