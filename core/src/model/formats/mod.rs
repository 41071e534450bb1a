//! Model files from other programs, each read by its own module into our types, so that the
//! engine never knows where a model came from:
//!
//! | format | module | made by |
//! | --- | --- | --- |
//! | frozen graph `.pb` | [`tensorflow`] ([`graph_def`]) | DeepSpeech 0.7–0.9 and Coqui STT's export |
//! | memory-mapped graph `.pbmm` | [`tensorflow`] ([`memmapped`]) | TensorFlow's `convert_graphdef_memmapped_format` |
//! | TensorFlow Lite `.tflite` | [`tflite`] | DeepSpeech's and Coqui STT's `--export_tflite` |
//! | training checkpoint | [`checkpoint`] | DeepSpeech's and Coqui STT's training |
//!
//! Each reader yields DeepSpeech's TensorFlow variables ([`tf_layout`]) and, for exported
//! graphs, their metadata ([`metadata`]); [`import`] turns them into our [`Config`] and weights.
//! The format is sniffed from the bytes, never from the file name.

pub mod checkpoint;
pub mod graph_def;
pub mod memmapped;
pub mod metadata;
pub mod numeric;
pub mod protobuf;
pub mod tensorflow;
pub mod tf_layout;
pub mod tflite;
pub mod training_flags;

use std::collections::HashMap;
use std::path::Path;

use candle::Tensor;

use crate::error::CheckpointError;
use crate::model::Config;
use crate::model::hybrid::HybridNetwork;

/// The model file formats [`sniff`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFormat {
    /// Our own `.safetensors` (header length, then a JSON header).
    Safetensors,
    /// A frozen TensorFlow `GraphDef` (`.pb`).
    FrozenGraph,
    /// TensorFlow's memory-mapped package (`.pbmm`).
    MemmappedGraph,
    /// A TensorFlow Lite flatbuffer (`.tflite`).
    TfLite,
    /// A TensorFlow training checkpoint (a folder, not sniffed from bytes).
    Checkpoint,
}

impl ModelFormat {
    /// The format's usual name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            ModelFormat::Safetensors => "safetensors model",
            ModelFormat::FrozenGraph => "TensorFlow frozen graph (.pb)",
            ModelFormat::MemmappedGraph => "TensorFlow memory-mapped graph (.pbmm)",
            ModelFormat::TfLite => "TensorFlow Lite model (.tflite)",
            ModelFormat::Checkpoint => "TensorFlow checkpoint",
        }
    }
}

/// Which format `bytes` are in, judged by their content alone.
pub fn sniff(bytes: &[u8]) -> Option<ModelFormat> {
    if is_safetensors(bytes) {
        Some(ModelFormat::Safetensors)
    } else if tflite::sniff(bytes) {
        Some(ModelFormat::TfLite)
    } else if memmapped::sniff(bytes) {
        Some(ModelFormat::MemmappedGraph)
    } else if tensorflow::sniff_frozen(bytes) {
        Some(ModelFormat::FrozenGraph)
    } else {
        None
    }
}

/// safetensors: a little-endian `u64` header length, then a JSON object.
fn is_safetensors(bytes: &[u8]) -> bool {
    let Some(len) = bytes.get(..8) else {
        return false;
    };
    let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    len >= 2 && len <= (bytes.len() as u64).saturating_sub(8) && bytes.get(8) == Some(&b'{')
}

/// A model read from another program's file: our config and weights (names and layouts of
/// [`Config::tensor_shapes`], `f32` on the CPU).
#[derive(Debug)]
pub struct Imported {
    /// The configuration, from the file's metadata.
    pub config: Config,
    /// The weights.
    pub weights: HashMap<String, Tensor>,
    /// The format it was read from.
    pub format: ModelFormat,
    /// The network for int8 inference as TensorFlow Lite runs it, when the file holds int8
    /// weights its runtime reads directly (`.tflite`).
    pub hybrid: Option<HybridNetwork>,
}

/// Reads a DeepSpeech or Coqui STT exported model (`.pb`, `.pbmm`, `.tflite`) from its bytes;
/// `path` names it in errors. Our own safetensors files are not handled here.
pub fn import(bytes: &[u8], path: &Path) -> Result<Imported, CheckpointError> {
    let Some(format) = sniff(bytes) else {
        return Err(CheckpointError::Import {
            path: path.to_owned(),
            format: "file",
            reason: unknown_format(bytes),
        });
    };
    let fail = |reason: String| CheckpointError::Import {
        path: path.to_owned(),
        format: format.name(),
        reason,
    };
    let (variables, forget_bias, relu_clip, metadata, hybrid) = match format {
        ModelFormat::Safetensors | ModelFormat::Checkpoint => {
            return Err(fail("not an exported graph".into()));
        }
        ModelFormat::FrozenGraph | ModelFormat::MemmappedGraph => {
            let m = if format == ModelFormat::FrozenGraph {
                tensorflow::read_frozen(bytes)
            } else {
                tensorflow::read_memmapped(bytes)
            }
            .map_err(|e| fail(e.to_string()))?;
            (m.variables, m.forget_bias, m.relu_clip, m.metadata, None)
        }
        ModelFormat::TfLite => {
            let m = tflite::read(bytes).map_err(|e| fail(e.to_string()))?;
            (
                m.variables,
                m.forget_bias,
                m.relu_clip,
                m.metadata,
                m.hybrid,
            )
        }
    };
    let (geometry, weights) =
        tf_layout::to_ours(&variables, forget_bias).map_err(|e| fail(e.to_string()))?;
    let config = metadata
        .config(geometry, relu_clip)
        .map_err(|e| fail(e.to_string()))?;
    if let Some(h) = &hybrid {
        h.check(&config).map_err(fail)?;
    }
    Ok(Imported {
        config,
        weights,
        format,
        hybrid,
    })
}

/// An int8 `.tflite` read for inference only: its config and the network TensorFlow Lite's
/// int8 kernels run, without the dequantised `f32` weights [`import`] also builds (those can
/// be had later from the same bytes with [`import`]). `Ok(None)` when the bytes are not a
/// `.tflite` with int8 matrices.
pub fn import_int8(
    bytes: &[u8],
    path: &Path,
) -> Result<Option<(Config, HybridNetwork)>, CheckpointError> {
    if sniff(bytes) != Some(ModelFormat::TfLite) {
        return Ok(None);
    }
    let fail = |reason: String| CheckpointError::Import {
        path: path.to_owned(),
        format: ModelFormat::TfLite.name(),
        reason,
    };
    let m = tflite::read_int8_only(bytes).map_err(|e| fail(e.to_string()))?;
    let Some(hybrid) = m.hybrid.filter(HybridNetwork::has_int8) else {
        return Ok(None);
    };
    // The shapes are all there even where the values were left out.
    let geometry = tf_layout::geometry(&m.variables).map_err(|e| fail(e.to_string()))?;
    let config = m
        .metadata
        .config(geometry, m.relu_clip)
        .map_err(|e| fail(e.to_string()))?;
    hybrid.check(&config).map_err(fail)?;
    if !hybrid.is_finite() {
        return Err(fail(
            "a bias, scale or float weight is NaN or infinite".into(),
        ));
    }
    Ok(Some((config, hybrid)))
}

/// Whether `path` names a TensorFlow training checkpoint: a folder with a `checkpoint` or
/// `best_dev_checkpoint` state file, a checkpoint prefix (`…/best_dev-1234`), or one of its files.
pub fn is_tf_checkpoint(path: &Path) -> bool {
    if path.is_dir() {
        return ["checkpoint", "best_dev_checkpoint"]
            .iter()
            .any(|f| path.join(f).is_file());
    }
    checkpoint::resolve_prefix(path).is_ok()
}

/// Reads a DeepSpeech or Coqui STT training checkpoint (see [`checkpoint::resolve_prefix`] for
/// what `path` may name) into our config and weights. The Adam moments, learning rate and step
/// in it are not used: fine-tuning starts a fresh optimiser, as DeepSpeech does with
/// `--drop_source_layers` or a new learning rate. A checkpoint has no metadata of its own: the
/// sample rate, window, step, ReLU clip and alphabet come from the `flags.txt` DeepSpeech writes
/// beside it, then from an `alphabet.txt` beside it, then DeepSpeech's defaults (English, when
/// the output layer has its 29 classes).
pub fn import_checkpoint(path: &Path) -> Result<Imported, CheckpointError> {
    let fail = |reason: String| CheckpointError::Import {
        path: path.to_owned(),
        format: "TensorFlow checkpoint",
        reason,
    };
    let prefix = checkpoint::resolve_prefix(path).map_err(|e| fail(e.to_string()))?;
    let variables = checkpoint::read_variables_where(&prefix, tf_layout::is_network_variable)
        .map_err(|e| fail(e.to_string()))?;
    // Training uses LSTMBlockFusedCell with forget_bias 0, as the export does.
    let (geometry, weights) =
        tf_layout::to_ours(&variables, 0.0).map_err(|e| fail(e.to_string()))?;
    let folder = prefix.parent().unwrap_or(Path::new("."));
    let flags = training_flags::TrainingFlags::read(folder).unwrap_or_default();
    if flags.is_set("bytes_output_mode") {
        return Err(fail(
            "it was trained in bytes output (UTF-8) mode, which is not supported".into(),
        ));
    }
    let alphabet_file = flags
        .alphabet_path()
        .or_else(|| Some(folder.join("alphabet.txt")).filter(|p| p.is_file()));
    let alphabet = match &alphabet_file {
        Some(file) => Some(
            crate::alphabet::Alphabet::from_file(file)
                .map_err(|e| fail(e.to_string()))?
                .symbols()
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>(),
        ),
        None => None,
    };
    let meta = metadata::GraphMetadata {
        version: Some(metadata::MIN_GRAPH_VERSION),
        sample_rate: Some(flags.parse_value("audio_sample_rate").unwrap_or(16_000)),
        win_len_ms: Some(flags.parse_value("feature_win_len").unwrap_or(32)),
        win_step_ms: Some(flags.parse_value("feature_win_step").unwrap_or(20)),
        alphabet: alphabet.as_deref().map(metadata::serialize_alphabet),
        n_context: Some(9),
        n_coefficients: Some(26),
        ..metadata::GraphMetadata::default()
    };
    let relu_clip = flags.parse_value("relu_clip").unwrap_or(20.0);
    let config = meta
        .config(geometry, relu_clip)
        .map_err(|e| fail(e.to_string()))?;
    Ok(Imported {
        config,
        weights,
        format: ModelFormat::Checkpoint,
        hybrid: None,
    })
}

/// What a file that no reader recognises looks like, for the error message.
fn unknown_format(bytes: &[u8]) -> String {
    let what = match bytes {
        [] => "it is empty".to_owned(),
        [b'P', b'K', 3, 4, ..] => "it is a ZIP archive (a PyTorch or Keras model?)".to_owned(),
        [0x89, b'H', b'D', b'F', ..] => "it is an HDF5 file (a Keras .h5 model?)".to_owned(),
        [0x08, ..] => {
            "it looks like an ONNX or other protobuf model, not a TensorFlow graph".to_owned()
        }
        _ => format!("it is {}", crate::sniff::describe(bytes)),
    };
    format!(
        "not a model format this program reads (deepspeech-rs .safetensors, DeepSpeech/Coqui STT \
         .pb, .pbmm or .tflite, or a TensorFlow checkpoint folder): {what}"
    )
}
