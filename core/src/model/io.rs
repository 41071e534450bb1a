//! The one file format for models and checkpoints: safetensors, with the model's [`Config`]
//! (alphabet included) as JSON in the header metadata. Files are written atomically (temporary
//! file, fsync, rename, fsync of the folder), so a crash at any moment leaves either the old
//! file or the new one, never a torn one.

use crate::mapped_file::{FileBytes, MappedFile};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use candle::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use rayon::prelude::*;

use crate::error::CheckpointError;
use crate::model::deepspeech::{Config, DeepSpeech};
use crate::model::formats;
use crate::model::hybrid::HybridNetwork;
use crate::model::weight_buffer;

/// Metadata key holding the format name.
pub const FORMAT_KEY: &str = "format";
/// Format name of an exported model.
pub const MODEL_FORMAT: &str = "deepspeech-rs-model-v1";
/// Metadata key holding the model [`Config`] as JSON.
pub const CONFIG_KEY: &str = "config";

/// Tensors and header metadata read from a safetensors file.
pub struct SafetensorsFile {
    /// Tensors by name, converted to f32 on the CPU.
    pub tensors: HashMap<String, Tensor>,
    /// The header's `__metadata__`.
    pub metadata: HashMap<String, String>,
    /// For an imported int8 `.tflite`: the network as TensorFlow Lite's int8 kernels run it.
    pub hybrid: Option<HybridNetwork>,
}

/// Writes named tensors and metadata to `path` atomically.
pub fn write_atomic(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: HashMap<String, String>,
) -> Result<(), CheckpointError> {
    let io = |reason| CheckpointError::Write {
        path: path.to_owned(),
        reason,
    };
    let views: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(n, t)| Ok((n.clone(), t.contiguous()?)))
        .collect::<candle::Result<_>>()
        .map_err(|e| io(std::io::Error::other(e.to_string())))?;
    let bytes =
        safetensors::tensor::serialize(views.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata))
            .map_err(|e| io(std::io::Error::other(e.to_string())))?;
    write_file_atomic(path, &[&with_sorted_header(bytes)]).map_err(io)
}

/// Rewrites a safetensors file's JSON header with its keys sorted, so the same weights and
/// metadata always give the same bytes: `safetensors` writes the metadata from a `HashMap`,
/// whose order changes from run to run. Same keys and values, so the same length and offsets.
fn with_sorted_header(bytes: Vec<u8>) -> Vec<u8> {
    const LEN: usize = std::mem::size_of::<u64>();
    let header_len = u64::from_le_bytes(bytes[..LEN].try_into().expect("8 bytes")) as usize;
    let header = &bytes[LEN..LEN + header_len];
    let value: serde_json::Value =
        serde_json::from_slice(header).expect("safetensors wrote a valid JSON header");
    // serde_json's map (without the `preserve_order` feature) is a BTreeMap: sorted keys.
    let mut sorted = serde_json::to_vec(&sort_keys(value)).expect("a JSON value serialises");
    if sorted.len() > header_len {
        return bytes;
    }
    sorted.resize(header_len, b' ');
    let mut out = bytes;
    out[LEN..LEN + header_len].copy_from_slice(&sorted);
    out
}

/// `value` with every object's keys in sorted order, whatever map serde_json was built with.
fn sort_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        other => other,
    }
}

/// Writes `parts` to `path` atomically: a temporary file beside it, fsync, rename over the
/// target, fsync of the folder. A crash leaves the old file or the new one, never a torn one.
pub fn write_file_atomic(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    write_atomic_with(path, |out| {
        for part in parts {
            out.write_all(part)?;
        }
        Ok(())
    })
}

/// [`write_file_atomic`] for output written piece by piece (through a buffer) by `write`; on an
/// error the temporary file is removed and the old file, if any, stays as it was.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // Beside the target, named after all of it (`out.arpa.tmp`), so that two outputs that
    // differ only in extension never share a temporary file.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let written = (|| {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir).and_then(|d| d.sync_all())?;
    }
    Ok(())
}

/// Reads a model or checkpoint by memory map; every tensor is converted to f32. Besides our
/// safetensors files, any model [`formats::import`] reads (DeepSpeech's and Coqui STT's `.pb`,
/// `.pbmm`, `.tflite`) is accepted, the format sniffed from the bytes: its weights come back
/// under our names with a config in the metadata, as if it had been exported here.
pub fn read(path: &Path) -> Result<SafetensorsFile, CheckpointError> {
    if formats::is_tf_checkpoint(path) {
        return imported_file(formats::import_checkpoint(path)?, path);
    }
    if path.is_dir() {
        let exported = path.join("model.safetensors");
        if exported.is_file() {
            return parse_any(&map_file(&exported)?, &exported);
        }
        return Err(folder_without_model(path));
    }
    parse_any(&map_file(path)?, path)
}

/// Why a folder is not a model, and what to do: a ds-train checkpoint folder is exported first.
fn folder_without_model(path: &Path) -> CheckpointError {
    let training = ["best.safetensors", "last.safetensors"]
        .iter()
        .any(|f| path.join(f).is_file());
    let reason = if training {
        format!(
            "it is a ds-train checkpoint folder, which holds training state, not an exported \
             model: export it with `ds-train --checkpoint_dir {dir} --export_dir OUT` and use \
             OUT/model.safetensors",
            dir = path.display()
        )
    } else {
        "it holds no model: give a model file (.safetensors, .pb, .pbmm, .tflite), a folder \
         with model.safetensors (ds-train --export_dir), or a TensorFlow checkpoint folder"
            .into()
    };
    CheckpointError::Import {
        path: path.to_owned(),
        format: "folder",
        reason,
    }
}

/// An imported model as if read from one of our files: our tensors (checked finite), our config
/// in the metadata.
fn imported_file(
    imported: formats::Imported,
    path: &Path,
) -> Result<SafetensorsFile, CheckpointError> {
    check_finite(path, &imported.weights)?;
    Ok(SafetensorsFile {
        tensors: imported.weights,
        hybrid: imported.hybrid,
        metadata: HashMap::from([
            (FORMAT_KEY.to_owned(), MODEL_FORMAT.to_owned()),
            (
                CONFIG_KEY.to_owned(),
                serde_json::to_string(&imported.config).expect("a config serialises"),
            ),
        ]),
    })
}

/// [`parse`] for safetensors bytes, [`formats::import`] for anything else.
fn parse_any(bytes: &[u8], path: &Path) -> Result<SafetensorsFile, CheckpointError> {
    if formats::sniff(bytes) == Some(formats::ModelFormat::Safetensors) {
        return parse(bytes, path);
    }
    imported_file(formats::import(bytes, path)?, path)
}

/// Maps the file at `path` read-only, guarded against truncation underneath
/// ([`MappedFile`]).
fn map_file(path: &Path) -> Result<MappedFile, CheckpointError> {
    MappedFile::open(path).map_err(|reason| CheckpointError::Io {
        path: path.to_owned(),
        reason,
    })
}

/// The shape of tensor `name` in the model at `path`, read from a safetensors header alone
/// (`None` when the file has no such tensor); another program's model is read whole.
pub fn read_shape(path: &Path, name: &str) -> Result<Option<Vec<usize>>, CheckpointError> {
    if formats::is_tf_checkpoint(path) {
        return Ok(read(path)?.tensors.get(name).map(|t| t.dims().to_vec()));
    }
    let map = map_file(path)?;
    if formats::sniff(&map) != Some(formats::ModelFormat::Safetensors) {
        // Another program's model: its shapes are known once it is read.
        return Ok(parse_any(&map, path)?
            .tensors
            .get(name)
            .map(|t| t.dims().to_vec()));
    }
    let (_, header) =
        safetensors::SafeTensors::read_metadata(&map).map_err(|e| CheckpointError::Corrupt {
            path: path.to_owned(),
            reason: format!("bad header: {e}"),
        })?;
    Ok(header.info(name).map(|info| info.shape.clone()))
}

/// Parses safetensors bytes (a mapped file or bytes built into the program); `path` names
/// them in errors. Every tensor is converted to f32.
pub fn parse(bytes: &[u8], path: &Path) -> Result<SafetensorsFile, CheckpointError> {
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| corrupt(format!("bad header: {e}")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| corrupt(format!("bad tensor data: {e}")))?;
    // The copies are most of a load: the tensors are converted in parallel.
    let tensors = st
        .tensors()
        .into_par_iter()
        .map(|(name, view)| {
            let (tensor, finite) =
                tensor_from_view(&view).map_err(|e| corrupt(format!("tensor `{name}`: {e}")))?;
            if !finite {
                return Err(non_finite(path, &name));
            }
            Ok((name, tensor))
        })
        .collect::<Result<HashMap<_, _>, _>>()?;
    Ok(SafetensorsFile {
        tensors,
        metadata,
        hybrid: None,
    })
}

/// A tensor as f32 on the CPU, and whether all its values are finite. f32 data is copied once
/// (into huge pages, checked on the way); f16 and bf16 data is converted.
fn tensor_from_view(view: &safetensors::tensor::TensorView<'_>) -> candle::Result<(Tensor, bool)> {
    let dtype = match view.dtype() {
        safetensors::Dtype::F32 => {
            let (values, finite) = weight_buffer::f32_from_le_bytes(view.data());
            return Ok((
                Tensor::from_vec(values, view.shape(), &Device::Cpu)?,
                finite,
            ));
        }
        safetensors::Dtype::F16 => DType::F16,
        safetensors::Dtype::BF16 => DType::BF16,
        other => candle::bail!("unsupported dtype {other:?}"),
    };
    let tensor = Tensor::from_raw_buffer(view.data(), dtype, view.shape(), &Device::Cpu)?
        .to_dtype(DType::F32)?;
    let finite = all_finite(&tensor);
    Ok((tensor, finite))
}

/// Whether every value of a tensor is finite, read in place for f32 CPU tensors.
fn all_finite(tensor: &Tensor) -> bool {
    if let (candle::Storage::Cpu(candle::CpuStorage::F32(values)), true) = (
        &*tensor.storage_and_layout().0,
        tensor.is_contiguous() && tensor.device().is_cpu(),
    ) {
        let layout = tensor.layout();
        let start = layout.start_offset();
        // A fold, not `all`: no early exit, so the loop vectorises.
        return values[start..start + tensor.elem_count()]
            .iter()
            .fold(true, |finite, v| finite & v.is_finite());
    }
    // A sum is NaN or infinite when any element is (f32 weights are far from overflowing).
    tensor
        .to_dtype(DType::F32)
        .and_then(|t| t.abs()?.sum_all()?.to_scalar::<f32>())
        .map(f32::is_finite)
        .unwrap_or(false)
}

fn non_finite(path: &Path, name: &str) -> CheckpointError {
    CheckpointError::Corrupt {
        path: path.to_owned(),
        reason: format!("tensor `{name}` holds NaN or infinite values"),
    }
}

/// Parses the model config from a file's metadata, checking the format name.
pub fn config_from_metadata(
    path: &Path,
    metadata: &HashMap<String, String>,
    expected_format: &str,
) -> Result<Config, CheckpointError> {
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    match metadata.get(FORMAT_KEY) {
        Some(f) if f == expected_format => {}
        Some(f)
            if f == crate::train::checkpoint::CHECKPOINT_FORMAT
                && expected_format == MODEL_FORMAT =>
        {
            let dir = path
                .parent()
                .map_or(".".into(), |d| d.display().to_string());
            return Err(CheckpointError::Import {
                path: path.to_owned(),
                format: "ds-train training checkpoint",
                reason: format!(
                    "it holds training state, not an exported model: export it with \
                     `ds-train --checkpoint_dir {dir} --export_dir OUT` and use \
                     OUT/model.safetensors"
                ),
            });
        }
        Some(f) => {
            return Err(corrupt(format!(
                "format is {f:?}, expected {expected_format:?}"
            )));
        }
        None => return Err(corrupt("no format in the header metadata".into())),
    }
    let json = metadata
        .get(CONFIG_KEY)
        .ok_or_else(|| corrupt("no model config in the header metadata".into()))?;
    let config: Config =
        serde_json::from_str(json).map_err(|e| corrupt(format!("bad model config: {e}")))?;
    config
        .validate()
        .map_err(|e| corrupt(format!("bad model config: {e}")))?;
    Ok(config)
}

/// Refuses weights holding NaN or infinity, naming the first such tensor: such a model would
/// only produce NaN probabilities and an error far from its cause.
pub fn check_finite(path: &Path, tensors: &HashMap<String, Tensor>) -> Result<(), CheckpointError> {
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    match names.into_iter().find(|name| !all_finite(&tensors[*name])) {
        Some(name) => Err(non_finite(path, name)),
        None => Ok(()),
    }
}

/// Checks that `tensors` holds exactly the model's weights with the right shapes.
pub fn check_shapes(
    path: &Path,
    config: &Config,
    tensors: &HashMap<String, Tensor>,
    prefix: &str,
) -> Result<(), CheckpointError> {
    for (name, expected) in config.tensor_shapes() {
        let key = format!("{prefix}{name}");
        let tensor = tensors.get(&key).ok_or_else(|| CheckpointError::Corrupt {
            path: path.to_owned(),
            reason: format!("tensor `{key}` is missing"),
        })?;
        if tensor.dims() != expected.as_slice() {
            return Err(CheckpointError::ShapeMismatch {
                path: path.to_owned(),
                tensor: key,
                expected,
                found: tensor.dims().to_vec(),
            });
        }
    }
    Ok(())
}

/// Exports a model's weights (f32 or f16) with its config to one self-describing file.
pub fn export(
    path: &Path,
    config: &Config,
    weights: &HashMap<String, Tensor>,
    dtype: DType,
) -> Result<(), CheckpointError> {
    check_shapes(path, config, weights, "")?;
    let mut names: Vec<&String> = weights.keys().collect();
    names.sort();
    let tensors = names
        .into_iter()
        .map(|n| Ok((n.clone(), weights[n].to_dtype(dtype)?)))
        .collect::<candle::Result<Vec<_>>>()
        .map_err(|e| CheckpointError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let metadata = HashMap::from([
        (FORMAT_KEY.to_owned(), MODEL_FORMAT.to_owned()),
        (
            CONFIG_KEY.to_owned(),
            serde_json::to_string(config).expect("a config serialises"),
        ),
    ]);
    write_atomic(path, &tensors, metadata)
}

/// Loads an exported model (ours, or any format [`read`] accepts), validating its config and
/// every tensor's shape. An int8 `.tflite` loaded for the CPU keeps only its int8 weights; its
/// `f32` copy is built from the mapped file if a path that needs it runs.
pub fn load_model(path: &Path, device: &Device) -> Result<DeepSpeech, CheckpointError> {
    if device.is_cpu() && path.is_file() {
        let map = map_file(path)?;
        if let Some((config, hybrid)) = formats::import_int8(&map, path)? {
            return Ok(int8_model(
                config,
                hybrid,
                Arc::new(FileBytes::Mapped(map)),
                path,
            ));
        }
    }
    build_model(read(path)?, path, device)
}

/// Loads a model from safetensors bytes (e.g. built into the program) or any format
/// [`formats::import`] reads; `name` stands for the path in errors. Validates as
/// [`load_model`] does.
pub fn load_model_from_bytes(
    bytes: &[u8],
    name: &Path,
    device: &Device,
) -> Result<DeepSpeech, CheckpointError> {
    if device.is_cpu()
        && let Some((config, hybrid)) = formats::import_int8(bytes, name)?
    {
        return Ok(int8_model(
            config,
            hybrid,
            Arc::new(FileBytes::Owned(bytes.to_vec())),
            name,
        ));
    }
    build_model(parse_any(bytes, name)?, name, device)
}

/// An int8 model whose `f32` weights are imported from `bytes` when first needed.
fn int8_model(
    config: Config,
    hybrid: HybridNetwork,
    bytes: Arc<FileBytes>,
    path: &Path,
) -> DeepSpeech {
    let path = path.to_owned();
    let expected = config.clone();
    let source = move || {
        let float = || -> Result<HashMap<String, Tensor>, String> {
            // The file is read again: it must still be the one the int8 weights came from.
            bytes.check_unchanged().map_err(|e| e.to_string())?;
            let file = formats::import(&bytes, &path)
                .and_then(|imported| imported_file(imported, &path))
                .map_err(|e| e.to_string())?;
            check_shapes(&path, &expected, &file.tensors, "").map_err(|e| e.to_string())?;
            bytes.check_unchanged().map_err(|e| e.to_string())?;
            Ok(file.tensors)
        };
        float().map_err(candle::Error::Msg)
    };
    DeepSpeech::int8_with_lazy_float(config, hybrid, Box::new(source))
}

fn build_model(
    file: SafetensorsFile,
    path: &Path,
    device: &Device,
) -> Result<DeepSpeech, CheckpointError> {
    let config = config_from_metadata(path, &file.metadata, MODEL_FORMAT)?;
    check_shapes(path, &config, &file.tensors, "")?;
    let tensors = file
        .tensors
        .into_iter()
        .map(|(n, t)| Ok((n, t.to_device(device)?)))
        .collect::<candle::Result<HashMap<_, _>>>()
        .map_err(|e| CheckpointError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
    let mut net = DeepSpeech::new(config, vb).map_err(|e| CheckpointError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    net.set_hybrid(file.hybrid);
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alphabet::Alphabet;

    fn small_weights(config: &Config) -> HashMap<String, Tensor> {
        config
            .tensor_shapes()
            .into_iter()
            .map(|(name, shape)| {
                let t = Tensor::randn(0f32, 0.1, shape, &Device::Cpu).unwrap();
                (name, t)
            })
            .collect()
    }

    #[test]
    fn exporting_the_same_weights_twice_gives_the_same_bytes() {
        let dir = std::env::temp_dir().join(format!("ds-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config::new(6, &Alphabet::english());
        let weights = small_weights(&config);
        let first = dir.join("first.safetensors");
        export(&first, &config, &weights, DType::F16).unwrap();
        let expected = std::fs::read(&first).unwrap();
        // The header metadata comes from a HashMap with a fresh random order each time: eight
        // exports all agreeing with the first by chance would happen once in 256 runs without the sorting.
        for i in 0..8 {
            let path = dir.join(format!("again{i}.safetensors"));
            export(&path, &config, &weights, DType::F16).unwrap();
            assert!(
                std::fs::read(&path).unwrap() == expected,
                "export {i} differs"
            );
        }
        let model = load_model(&first, &Device::Cpu).unwrap();
        assert_eq!(model.config().n_hidden, 6);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_atomic_write_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("ds-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.arpa");
        std::fs::write(&path, b"the previous good file").unwrap();
        let failed = write_atomic_with(&path, |out| {
            out.write_all(&[b'x'; 100_000])?;
            Err(std::io::Error::other("killed halfway"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"the previous good file");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary left"
        );
        write_atomic_with(&path, |out| out.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A config a file could carry that used to pass the checks and then panic, abort or loop
    /// is refused on load with the field named.
    #[test]
    fn hostile_configs_are_refused_not_obeyed() {
        let dir = std::env::temp_dir().join(format!("ds-hostile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let base = Config::new(4, &Alphabet::english());
        type Damage = Box<dyn Fn(&mut Config)>;
        let cases: Vec<(&str, Damage, &str)> = vec![
            (
                "duplicate",
                Box::new(|c| c.alphabet[1] = c.alphabet[0]),
                "twice",
            ),
            (
                "newline",
                Box::new(|c| c.alphabet[1] = '\n'),
                "the alphabet:",
            ),
            (
                "mel",
                Box::new(|c| c.features.mel_channels = 1_000_000_000_000),
                "mel channels",
            ),
            (
                "window",
                Box::new(|c| c.features.window = 1_000_000_000_000),
                "window",
            ),
            ("step", Box::new(|c| c.features.step = 0), "hop"),
            ("rate", Box::new(|c| c.features.sample_rate = 0), "Hz"),
            (
                "band",
                Box::new(|c| c.features.lower_hz = 9000.0),
                "mel band",
            ),
            ("clip", Box::new(|c| c.relu_clip = -1.0), "ReLU clip"),
            ("beam", Box::new(|c| c.beam_width = Some(0)), "beam width"),
        ];
        let tensors: Vec<(String, Tensor)> = base
            .tensor_shapes()
            .into_iter()
            .map(|(n, shape)| (n, Tensor::zeros(shape, DType::F32, &Device::Cpu).unwrap()))
            .collect();
        for (name, damage, expected) in cases {
            let mut config = base.clone();
            damage(&mut config);
            let path = dir.join(format!("{name}.safetensors"));
            let metadata = HashMap::from([
                (FORMAT_KEY.to_owned(), MODEL_FORMAT.to_owned()),
                (
                    CONFIG_KEY.to_owned(),
                    serde_json::to_string(&config).unwrap(),
                ),
            ]);
            write_atomic(&path, &tensors, metadata).unwrap();
            let err = load_model(&path, &Device::Cpu).unwrap_err().to_string();
            assert!(
                err.contains(expected) && err.contains(name),
                "{name}: {err}"
            );
        }
        // A NaN weight is named on load, not met as NaN probabilities later.
        let mut poisoned = tensors.clone();
        poisoned[2].1 = Tensor::full(f32::NAN, poisoned[2].1.shape(), &Device::Cpu).unwrap();
        let path = dir.join("nan.safetensors");
        let metadata = HashMap::from([
            (FORMAT_KEY.to_owned(), MODEL_FORMAT.to_owned()),
            (CONFIG_KEY.to_owned(), serde_json::to_string(&base).unwrap()),
        ]);
        write_atomic(&path, &poisoned, metadata).unwrap();
        let err = load_model(&path, &Device::Cpu).unwrap_err().to_string();
        assert!(
            err.contains("holds NaN or infinite values") && err.contains(&poisoned[2].0),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
