//! DeepSpeech and Coqui STT TensorFlow Lite models (`.tflite`, from `--export_tflite`), read by
//! hand: the file is a FlatBuffer ([`flatbuffer`]) holding TensorFlow Lite's schema
//! ([`schema`]); the network's weights are found by walking the graph from `input_node`
//! ([`graph`]), never by name or size, and come out under DeepSpeech's checkpoint names and
//! layouts ([`super::tf_layout`]) as `f32`, whatever they were stored as (float32, float16,
//! int8 with per-tensor or per-channel scales).
//!
//! The metadata are the constants DeepSpeech's export adds as graph outputs (`metadata_version`,
//! `metadata_sample_rate`, `metadata_feature_win_len`, `metadata_feature_win_step`,
//! `metadata_beam_width`, `metadata_alphabet`, `metadata_language`) plus `input_node`'s shape
//! `[1, n_steps, 2·n_context + 1, n_coefficients]`. Coqui STT 1.x exports the same names, the
//! same graph (TensorFlow 1.15, `static_rnn` over `LSTMCell` with `forget_bias=0`) and the same
//! serialized alphabet (`Alphabet::Serialize`); it only makes the int8 weights optional
//! (`--export_quantize`, on by default), which gives a float32 file.

pub mod flatbuffer;
pub mod graph;
pub mod schema;

use std::collections::HashMap;

use super::metadata::{GraphMetadata, MIN_GRAPH_VERSION};
use super::tf_layout::{self, LayoutError, TfTensor};
use crate::model::hybrid::HybridNetwork;
use flatbuffer::FlatbufferError;

/// How a model's weight matrices were stored in the file (all are `f32` once read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantisation {
    /// float32: no quantisation (Coqui STT's `--export_quantize false`).
    Float32,
    /// float16, widened by DEQUANTIZE ops.
    Float16,
    /// int8 with one scale per weight matrix: TensorFlow 1.15's dynamic-range quantisation
    /// (`Optimize.DEFAULT`), what DeepSpeech's and Coqui STT's export write by default.
    Int8PerTensor,
    /// int8 with one scale per output channel (newer converters' dynamic-range quantisation).
    Int8PerChannel,
    /// uint8 with a zero point (older converters' `post_training_quantize`).
    Uint8,
}

impl std::fmt::Display for Quantisation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Quantisation::Float32 => "float32",
            Quantisation::Float16 => "float16",
            Quantisation::Int8PerTensor => "int8 (per-tensor scales)",
            Quantisation::Int8PerChannel => "int8 (per-channel scales)",
            Quantisation::Uint8 => "uint8",
        })
    }
}

/// What a DeepSpeech .tflite holds.
#[derive(Debug, Clone)]
pub struct TfliteModel {
    /// The network's variables under DeepSpeech's checkpoint names (`layer_1/weights`
    /// `[in, out]`, `layer_1/bias`, …, `{LSTM_SCOPE}/kernel` `[in + hidden, 4·hidden]`,
    /// `{LSTM_SCOPE}/bias`), dequantised to `f32`: ready for [`tf_layout::to_ours`].
    pub variables: HashMap<String, TfTensor>,
    /// The constant the graph adds to the LSTM's forget gate (0 in DeepSpeech's graphs, where
    /// `forget_bias=0` leaves no add).
    pub forget_bias: f32,
    /// The clipped ReLU's bound, the constant of its MINIMUM (20 in DeepSpeech).
    pub relu_clip: f32,
    /// The metadata constants and `input_node`'s shape.
    pub metadata: GraphMetadata,
    /// What the weight matrices were stored as.
    pub quantisation: Quantisation,
    /// The network as TensorFlow Lite's int8 ("hybrid") kernels run it, when the file stores
    /// int8 weights they read directly (DeepSpeech's and Coqui STT's default export).
    pub hybrid: Option<HybridNetwork>,
}

/// Why a file is not a DeepSpeech TensorFlow Lite model this reader can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TfliteError {
    /// The bytes are not a TensorFlow Lite flatbuffer.
    #[error("not a TensorFlow Lite model: {0}")]
    NotTflite(String),
    /// An offset or length in the flatbuffer points outside the file.
    #[error("the TensorFlow Lite file is truncated or corrupted: {0}")]
    Malformed(#[from] FlatbufferError),
    /// The graph is not DeepSpeech's (no `input_node`, no metadata, …).
    #[error("not a DeepSpeech/Coqui STT graph: {0}")]
    NotDeepSpeech(String),
    /// The graph departs from DeepSpeech's at some point of the walk.
    #[error("not a DeepSpeech/Coqui STT graph: at {at}, found {found}; expected {expected}")]
    Unexpected {
        /// Where in the network (a layer, an LSTM step).
        at: String,
        /// What the graph has there.
        found: String,
        /// What DeepSpeech's graph has there.
        expected: String,
    },
    /// A weight or constant cannot be decoded.
    #[error("tensor `{tensor}` ({role}) cannot be read: {reason}")]
    Weight {
        /// The tensor's name.
        tensor: String,
        /// What it is in the network.
        role: String,
        /// Why.
        reason: String,
    },
    /// A metadata constant has the wrong type or cannot be decoded.
    #[error("metadata `{name}`: {reason}")]
    Metadata {
        /// The tensor's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A graph from DeepSpeech 0.6 or older.
    #[error(
        "graph version {0}: a DeepSpeech 0.6 or older model; versions {MIN_GRAPH_VERSION} and \
         later (DeepSpeech 0.7–0.9, Coqui STT) are supported"
    )]
    TooOld(i32),
    /// The weights found do not fit together.
    #[error("the weights do not fit together: {0}")]
    Layout(#[from] LayoutError),
}

/// True when the bytes look like a TFLite flatbuffer (file identifier "TFL3" at bytes 4..8).
pub fn sniff(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(b"TFL3")
}

/// Reads a DeepSpeech/Coqui STT `.tflite` model: its variables (see [`TfliteModel`]), the ReLU
/// clip and forget bias read from the graph, and the metadata.
pub fn read(bytes: &[u8]) -> Result<TfliteModel, TfliteError> {
    read_with(bytes, true)
}

/// [`read`] for inference on the int8 weights: the int8 matrices TensorFlow Lite's hybrid
/// kernel reads are kept in [`TfliteModel::hybrid`] only, and their `f32` variables keep their
/// shapes but hold no values. Much faster, and a quarter of the memory; a file without such
/// matrices reads as with [`read`].
pub fn read_int8_only(bytes: &[u8]) -> Result<TfliteModel, TfliteError> {
    read_with(bytes, false)
}

fn read_with(bytes: &[u8], dequantise_int8: bool) -> Result<TfliteModel, TfliteError> {
    if !sniff(bytes) {
        return Err(TfliteError::NotTflite(match bytes.get(4..8) {
            None => format!("only {} bytes", bytes.len()),
            Some(id) => format!(
                "file identifier {:?}, expected \"TFL3\"",
                String::from_utf8_lossy(id)
            ),
        }));
    }
    let model = schema::parse(bytes)?;
    let mut graph = graph::Graph::new(&model)?;
    if !dequantise_int8 {
        graph.skip_dequantising_int8();
    }
    let Some(input) = graph.graph_input("input_node") else {
        let inputs: Vec<String> = model
            .inputs
            .iter()
            .map(|&t| model.tensors[t as usize].describe())
            .collect();
        return Err(TfliteError::NotDeepSpeech(format!(
            "no input tensor `input_node` (the graph's inputs are {}); DeepSpeech's graph takes \
             its features there",
            if inputs.is_empty() {
                "none".into()
            } else {
                inputs.join(", ")
            }
        )));
    };
    let mut metadata = read_metadata(&graph)?;
    match metadata.version {
        None => {
            return Err(TfliteError::NotDeepSpeech(
                "no `metadata_version` output; DeepSpeech 0.7–0.9 and Coqui STT exports have one"
                    .into(),
            ));
        }
        Some(v) if v < MIN_GRAPH_VERSION => return Err(TfliteError::TooOld(v)),
        Some(_) => {}
    }
    let input_tensor = &model.tensors[input];
    let dims: Option<Vec<usize>> = input_tensor
        .shape
        .iter()
        .map(|&d| usize::try_from(d).ok().filter(|&d| d > 0))
        .collect();
    match dims.as_deref() {
        Some(&[_, steps, window, coefficients]) if window % 2 == 1 => {
            metadata.n_steps = Some(steps);
            metadata.n_context = Some(window / 2);
            metadata.n_coefficients = Some(coefficients);
        }
        _ => {
            return Err(TfliteError::Unexpected {
                at: "input_node".into(),
                found: input_tensor.describe(),
                expected: "[1, n_steps, 2·n_context + 1, n_coefficients]".into(),
            });
        }
    }
    let network = graph.deepspeech(input)?;
    if Some(network.steps) != metadata.n_steps {
        return Err(TfliteError::Unexpected {
            at: "the LSTM".into(),
            found: format!("{} unrolled steps", network.steps),
            expected: format!("input_node's {} time steps", metadata.n_steps.unwrap_or(0)),
        });
    }
    let geometry = tf_layout::geometry(&network.variables)?;
    let width = metadata.n_coefficients.unwrap_or(0) * (2 * metadata.n_context.unwrap_or(0) + 1);
    if geometry.n_input != width {
        return Err(TfliteError::Unexpected {
            at: "layer_1".into(),
            found: format!("{} inputs", geometry.n_input),
            expected: format!("input_node's {width} features per step"),
        });
    }
    Ok(TfliteModel {
        variables: network.variables,
        forget_bias: network.forget_bias,
        relu_clip: network.relu_clip,
        metadata,
        quantisation: network.quantisation,
        hybrid: network.hybrid,
    })
}

/// The `metadata_*` constants; `None` for those the graph lacks.
fn read_metadata(graph: &graph::Graph) -> Result<GraphMetadata, TfliteError> {
    let bytes = |name: &str| -> Result<Option<(&[u8], i8)>, TfliteError> {
        let Some(t) = graph.tensor_named(name) else {
            return Ok(None);
        };
        let dtype = graph.tensor(t).dtype;
        graph
            .constant_bytes(t)
            .map(|b| Some((b, dtype)))
            .map_err(|reason| TfliteError::Metadata {
                name: name.to_owned(),
                reason,
            })
    };
    let int = |name: &str| -> Result<Option<i32>, TfliteError> {
        match bytes(name)? {
            None => Ok(None),
            Some((b, schema::dtype::INT32)) if b.len() >= 4 => {
                Ok(Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            Some((b, dtype)) => Err(TfliteError::Metadata {
                name: name.to_owned(),
                reason: format!(
                    "expected an int32, found {} bytes of {}",
                    b.len(),
                    schema::dtype_name(dtype)
                ),
            }),
        }
    };
    let string =
        |name: &str| -> Result<Option<Vec<u8>>, TfliteError> {
            match bytes(name)? {
                None => Ok(None),
                Some((b, schema::dtype::STRING)) => first_string(b)
                    .map(|s| Some(s.to_vec()))
                    .map_err(|reason| TfliteError::Metadata {
                        name: name.to_owned(),
                        reason,
                    }),
                Some((_, dtype)) => Err(TfliteError::Metadata {
                    name: name.to_owned(),
                    reason: format!("expected a string, found {}", schema::dtype_name(dtype)),
                }),
            }
        };
    let language = string("metadata_language")?
        .map(|l| {
            String::from_utf8(l).map_err(|_| TfliteError::Metadata {
                name: "metadata_language".into(),
                reason: "not UTF-8".into(),
            })
        })
        .transpose()?;
    Ok(GraphMetadata {
        version: int("metadata_version")?,
        sample_rate: int("metadata_sample_rate")?,
        win_len_ms: int("metadata_feature_win_len")?,
        win_step_ms: int("metadata_feature_win_step")?,
        beam_width: int("metadata_beam_width")?,
        alphabet: string("metadata_alphabet")?,
        language,
        n_steps: None,
        n_context: None,
        n_coefficients: None,
    })
}

/// The first string of a TensorFlow Lite string tensor's buffer: an `i32` count, `count + 1`
/// `i32` offsets from the buffer's start, then the bytes.
fn first_string(b: &[u8]) -> Result<&[u8], String> {
    let i32_at = |pos: usize| {
        b.get(pos..pos + 4)
            .map(|s| i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
            .ok_or_else(|| format!("the string buffer ends at byte {}", b.len()))
    };
    let count = i32_at(0)?;
    if count < 1 {
        return Err(format!("the string tensor holds {count} strings"));
    }
    let (start, end) = (i32_at(4)?, i32_at(8)?);
    usize::try_from(start)
        .ok()
        .zip(usize::try_from(end).ok())
        .and_then(|(s, e)| b.get(s..e))
        .ok_or_else(|| {
            format!(
                "string offsets {start}..{end} lie outside its {} bytes",
                b.len()
            )
        })
}

#[cfg(test)]
mod tests;
