//! The checkpoint writer's steps: the data file, the index, the state file, each under a
//! temporary name renamed into place once complete.

use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::fs::{self, File};
use std::hash::{BuildHasher, Hasher};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::entry::BUNDLE_VERSION;
use super::state::CheckpointState;
use super::{
    CheckpointFormatError, DataType, Result, StateFile, crc32c, data_path, index_path, io_error,
    sstable, with_suffix,
};
use crate::model::formats::protobuf::Writer;
use crate::model::formats::tf_layout::TfTensor;

/// A tensor's values, as the writer streams them into the data file.
pub(super) enum Values<'a> {
    F32(&'a [f32]),
    I64(i64),
    /// Bytes already encoded (tests write other dtypes with it).
    #[cfg(test)]
    Raw(&'a [u8]),
}

/// A variable to write.
pub(super) struct Tensor<'a> {
    pub name: &'a str,
    pub dtype: DataType,
    pub shape: &'a [usize],
    pub values: Values<'a>,
}

/// The variables, checked (names unique and non-empty, sizes matching shapes) and sorted by
/// name, as the index stores them.
pub(super) fn collect<'a>(
    dir: &Path,
    name: &str,
    floats: &'a [(String, TfTensor)],
    int64s: &'a [(String, i64)],
) -> Result<Vec<Tensor<'a>>> {
    let invalid = |what: String| CheckpointFormatError::InvalidInput {
        path: dir.join(name),
        what,
    };
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
        return Err(invalid(format!(
            "`{name}` is not a checkpoint name (such as `train-400`)"
        )));
    }
    let mut tensors = Vec::with_capacity(floats.len() + int64s.len());
    for (n, t) in floats {
        let count = t.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if count != Some(t.data.len()) {
            return Err(invalid(format!(
                "variable `{n}` has shape {:?} but {} values",
                t.shape,
                t.data.len()
            )));
        }
        tensors.push(Tensor {
            name: n,
            dtype: DataType::FLOAT,
            shape: &t.shape,
            values: Values::F32(&t.data),
        });
    }
    for (n, v) in int64s {
        tensors.push(Tensor {
            name: n,
            dtype: DataType::INT64,
            shape: &[],
            values: Values::I64(*v),
        });
    }
    check_names(&mut tensors).map_err(invalid)?;
    Ok(tensors)
}

/// Sorts `tensors` by name; an empty or repeated name is an error.
pub(super) fn check_names(tensors: &mut [Tensor<'_>]) -> Result<(), String> {
    tensors.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    if tensors.first().is_some_and(|t| t.name.is_empty()) {
        return Err("a variable has an empty name (the key of the index's header)".into());
    }
    if let Some(w) = tensors.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!("variable `{}` is given twice", w[0].name));
    }
    Ok(())
}

/// A file being written under a temporary name, removed unless [`TempFile::persist`]ed.
struct TempFile {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl TempFile {
    /// A new temporary file beside `target` (TensorFlow's naming: `TARGET.tempstateN`).
    fn create(target: &Path) -> Result<Self> {
        let random = RandomState::new().build_hasher().finish();
        let path = with_suffix(target, &format!(".tempstate{random}"));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io_error(&path))?;
        Ok(Self {
            path,
            file: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    fn writer(&mut self) -> &mut BufWriter<File> {
        self.file.as_mut().expect("open until persisted")
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let path = self.path.clone();
        self.writer().write_all(bytes).map_err(io_error(&path))
    }

    /// Flushes the file to disk and renames it to `target`.
    fn persist(mut self, target: &Path) -> Result<()> {
        let writer = self.file.take().expect("open until persisted");
        let file = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .map_err(io_error(&self.path))?;
        file.sync_all().map_err(io_error(&self.path))?;
        drop(file);
        fs::rename(&self.path, target).map_err(io_error(target))?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.file = None;
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Streams one tensor's bytes into `out`: returns their size and CRC-32C.
fn write_values(out: &mut TempFile, values: &Values<'_>) -> Result<(u64, u32)> {
    let mut crc = 0;
    let mut size = 0u64;
    let mut put = |out: &mut TempFile, bytes: &[u8]| -> Result<()> {
        crc = crc32c::extend(crc, bytes);
        size += bytes.len() as u64;
        out.write_all(bytes)
    };
    match values {
        Values::F32(data) => {
            let mut buf = Vec::with_capacity(64 * 1024);
            for chunk in data.chunks(16 * 1024) {
                buf.clear();
                buf.extend(chunk.iter().flat_map(|v| v.to_le_bytes()));
                put(out, &buf)?;
            }
        }
        Values::I64(v) => put(out, &v.to_le_bytes())?,
        #[cfg(test)]
        Values::Raw(bytes) => put(out, bytes)?,
    }
    Ok((size, crc))
}

/// A `TensorShapeProto`.
fn shape_proto(shape: &[usize]) -> Vec<u8> {
    let mut w = Writer::new();
    for &d in shape {
        let mut dim = Writer::new();
        if d != 0 {
            dim.varint(1, d as u64);
        }
        w.bytes(2, &dim.into_bytes());
    }
    w.into_bytes()
}

/// A `BundleEntryProto`, with proto3's defaults left out as TensorFlow leaves them.
fn entry_proto(t: &Tensor<'_>, offset: u64, size: u64, crc: u32) -> Vec<u8> {
    let mut w = Writer::new();
    w.varint(1, t.dtype.0).bytes(2, &shape_proto(t.shape));
    if offset != 0 {
        w.varint(4, offset);
    }
    if size != 0 {
        w.varint(5, size);
    }
    w.fixed32(6, crc32c::mask(crc));
    w.into_bytes()
}

/// The header: one shard, little-endian, format version 1.
fn header_proto() -> Vec<u8> {
    let mut version = Writer::new();
    version.varint(1, BUNDLE_VERSION);
    let mut w = Writer::new();
    w.varint(1, 1).bytes(3, &version.into_bytes());
    w.into_bytes()
}

/// Writes `PREFIX.data-00000-of-00001`, then `PREFIX.index` (data blocks of `block_size`).
pub(super) fn write_bundle(prefix: &Path, tensors: &[Tensor<'_>], block_size: usize) -> Result<()> {
    if let Some(dir) = prefix.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
    }
    let data_target = data_path(prefix);
    let mut data = TempFile::create(&data_target)?;
    let mut entries = Vec::with_capacity(tensors.len());
    let mut offset = 0u64;
    for t in tensors {
        let (size, crc) = write_values(&mut data, &t.values)?;
        entries.push(entry_proto(t, offset, size, crc));
        offset += size;
    }
    data.persist(&data_target)?;

    let index_target = index_path(prefix);
    let mut table = sstable::TableBuilder::with_block_size(block_size);
    let sorted = |source| CheckpointFormatError::Index {
        path: index_target.clone(),
        source,
    };
    table.add(b"", &header_proto()).map_err(sorted)?;
    for (t, entry) in tensors.iter().zip(&entries) {
        table.add(t.name.as_bytes(), entry).map_err(sorted)?;
    }
    let mut index = TempFile::create(&index_target)?;
    index.write_all(&table.finish())?;
    index.persist(&index_target)
}

/// Makes `dir`'s state file name checkpoint `name` as the latest, keeping the other
/// checkpoints it lists that still exist.
pub(super) fn record_in_state_file(dir: &Path, name: &str, state: StateFile) -> Result<()> {
    let target = dir.join(state.file_name());
    let old = fs::read_to_string(&target)
        .ok()
        .and_then(|text| CheckpointState::parse(&text).ok())
        .unwrap_or_default();
    let this = dir.join(name);
    let mut seen = HashSet::new();
    let mut all: Vec<String> = old
        .all_model_checkpoint_paths
        .into_iter()
        .filter(|p| {
            let prefix = dir.join(p);
            prefix != this && index_path(&prefix).is_file() && seen.insert(p.clone())
        })
        .collect();
    all.push(name.to_owned());
    let text = CheckpointState {
        model_checkpoint_path: Some(name.to_owned()),
        all_model_checkpoint_paths: all,
    }
    .to_text();
    let mut file = TempFile::create(&target)?;
    file.write_all(text.as_bytes())?;
    file.persist(&target)
}
