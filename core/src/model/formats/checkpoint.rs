//! TensorFlow's training checkpoints (the "tensor bundle" of `tf.compat.v1.train.Saver`, format
//! V2), read and written by hand: what DeepSpeech's and Coqui STT's training leave in their
//! checkpoint folder.
//!
//! A checkpoint `PREFIX` is two files:
//!
//! - `PREFIX.index`, a LevelDB-style sorted string table (see `checkpoint/sstable.rs`): the
//!   empty key holds a `BundleHeaderProto` (shard count, endianness, format version); every other
//!   key is a variable's name (`layer_1/weights`, `layer_1/weights/Adam`, `global_step`, …)
//!   holding a `BundleEntryProto`: its dtype, shape, shard, byte offset and size in the data
//!   file, and the masked CRC-32C of those bytes;
//! - `PREFIX.data-00000-of-00001`, the tensors' raw little-endian bytes, back to back.
//!
//! The folder's `checkpoint` text file (a `CheckpointState` in protobuf text format) names the
//! latest prefix; DeepSpeech keeps its best-on-dev checkpoint's name in `best_dev_checkpoint`
//! (same format) and loads that one first ([`resolve_prefix`]).
//!
//! [`read_variables`] reads every float32 variable; [`Checkpoint`] lists the entries and reads
//! any of them; [`write_checkpoint`] writes float32 variables and int64 scalars in the bytes
//! TensorFlow's own `BundleWriter` writes, data file first, then the index, then the state file,
//! each under a temporary name renamed into place once complete. Every length, offset and checksum
//! read is checked: a truncated or corrupt file is an error naming the file, never a panic.

mod crc32c;
mod entry;
mod sstable;
mod state;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::protobuf::ProtobufError;
use super::tf_layout::TfTensor;
use entry::{BundleEntry, EntryError, HeaderError, parse_entry, parse_header};
use state::CheckpointState;

pub use sstable::TableError;

/// The data file's suffix of a single-shard checkpoint (the only kind `Saver` writes).
pub const DATA_SUFFIX: &str = ".data-00000-of-00001";
/// The index file's suffix.
pub const INDEX_SUFFIX: &str = ".index";

/// A TensorFlow `DataType` enum value, as a checkpoint entry stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataType(pub u64);

impl DataType {
    /// `DT_FLOAT`: float32, the dtype of every DeepSpeech weight and Adam slot.
    pub const FLOAT: Self = Self(1);
    /// `DT_DOUBLE`: float64.
    pub const DOUBLE: Self = Self(2);
    /// `DT_INT32`.
    pub const INT32: Self = Self(3);
    /// `DT_INT64`: `global_step`'s dtype.
    pub const INT64: Self = Self(9);

    /// The dtype's name (as numpy spells it), if TensorFlow defines it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "float32",
            2 => "float64",
            3 => "int32",
            4 => "uint8",
            5 => "int16",
            6 => "int8",
            7 => "string",
            8 => "complex64",
            9 => "int64",
            10 => "bool",
            14 => "bfloat16",
            17 => "uint16",
            18 => "complex128",
            19 => "float16",
            20 => "resource",
            21 => "variant",
            22 => "uint32",
            23 => "uint64",
            _ => return None,
        })
    }

    /// Bytes per element of a fixed-size dtype; `None` for strings, resources and variants,
    /// whose data files hold an encoding of their own.
    pub fn element_size(self) -> Option<usize> {
        Some(match self.0 {
            4 | 6 | 10 => 1,
            5 | 14 | 17 | 19 => 2,
            1 | 3 | 22 => 4,
            2 | 8 | 9 | 23 => 8,
            18 => 16,
            _ => return None,
        })
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "DataType {}", self.0),
        }
    }
}

/// Why a checkpoint could not be found, read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointFormatError {
    /// A file could not be read, written or renamed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The index file is not a sorted string table this reader can read.
    #[error("{}: not a TensorFlow checkpoint index: {source}", .path.display())]
    Index {
        /// The `.index` file.
        path: PathBuf,
        /// What is wrong with the table.
        #[source]
        source: TableError,
    },
    /// An index entry's protobuf message does not parse.
    #[error("{}: the index entry of `{name}` is not a valid {message}: {source}", .path.display())]
    Proto {
        /// The `.index` file.
        path: PathBuf,
        /// The entry's key (empty for the header).
        name: String,
        /// The message type expected there.
        message: &'static str,
        /// What is wrong with it.
        #[source]
        source: ProtobufError,
    },
    /// The header entry is missing or describes a checkpoint this reader cannot read.
    #[error("{}: {what}", .path.display())]
    Header {
        /// The `.index` file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// An entry cannot be read as it is (shape, size, shard or slicing).
    #[error("{}: variable `{name}` {what}", .path.display())]
    Entry {
        /// The `.index` file.
        path: PathBuf,
        /// The variable.
        name: String,
        /// What is wrong.
        what: String,
    },
    /// No entry has the name asked for.
    #[error(
        "{}: no variable `{name}` in this checkpoint (it has {count} variables)",
        .path.display()
    )]
    NotFound {
        /// The `.index` file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// How many variables there are.
        count: usize,
    },
    /// The entry has another dtype than the one asked for.
    #[error("{}: variable `{name}` holds {found}, not {expected}", .path.display())]
    DType {
        /// The `.index` file.
        path: PathBuf,
        /// The variable.
        name: String,
        /// Its dtype.
        found: DataType,
        /// The dtype asked for.
        expected: DataType,
    },
    /// The entry's bytes lie (partly) past the end of the data file.
    #[error(
        "{}: the {size} bytes of variable `{name}` at offset {offset} run past the end of the \
         file ({file_len} bytes): it is truncated or belongs to another checkpoint",
        .path.display()
    )]
    DataRange {
        /// The data file.
        path: PathBuf,
        /// The variable.
        name: String,
        /// Where the index says its bytes start.
        offset: u64,
        /// How many bytes the index says it has.
        size: u64,
        /// The data file's size.
        file_len: u64,
    },
    /// The entry's bytes do not match the checksum the index stores.
    #[error(
        "{}: variable `{name}` fails its checksum (stored {stored:#010x}, computed \
         {computed:#010x}): the file is corrupt or belongs to another checkpoint",
        .path.display()
    )]
    DataChecksum {
        /// The data file.
        path: PathBuf,
        /// The variable.
        name: String,
        /// The checksum in the index (unmasked).
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// A `checkpoint`/`best_dev_checkpoint` state file does not parse or names no checkpoint
    /// that exists.
    #[error("{}: {what}", .path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The path is neither a checkpoint folder, a prefix, nor one of a checkpoint's files.
    #[error(
        "{}: no TensorFlow checkpoint there (expected a folder with a `best_dev_checkpoint` or \
         `checkpoint` file, a checkpoint prefix with its `.index` file beside it, or that \
         `.index` file)",
        .path.display()
    )]
    NotACheckpoint {
        /// The path given.
        path: PathBuf,
    },
    /// The variables given to the writer cannot be written.
    #[error("cannot write checkpoint {}: {what}", .path.display())]
    InvalidInput {
        /// The checkpoint prefix.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

type Result<T, E = CheckpointFormatError> = std::result::Result<T, E>;

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> CheckpointFormatError + '_ {
    move |source| CheckpointFormatError::Io {
        path: path.to_owned(),
        source,
    }
}

/// `prefix` with `suffix` appended to its last component.
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(prefix.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

/// The index file of checkpoint `prefix`: `PREFIX.index`.
pub fn index_path(prefix: &Path) -> PathBuf {
    with_suffix(prefix, INDEX_SUFFIX)
}

/// The data file of single-shard checkpoint `prefix`: `PREFIX.data-00000-of-00001`.
pub fn data_path(prefix: &Path) -> PathBuf {
    with_suffix(prefix, DATA_SUFFIX)
}

/// Shard `shard` of `num_shards`'s data file.
fn shard_path(prefix: &Path, shard: u64, num_shards: u64) -> PathBuf {
    with_suffix(prefix, &format!(".data-{shard:05}-of-{num_shards:05}"))
}

/// A variable as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    /// Its TensorFlow name (`layer_1/weights`, `layer_1/weights/Adam`, `global_step`).
    pub name: String,
    /// Its dtype.
    pub dtype: DataType,
    /// Its shape (empty for a scalar).
    pub shape: Vec<usize>,
}

/// A checkpoint's index, opened: its entries, and the way to each one's bytes.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    prefix: PathBuf,
    index: PathBuf,
    num_shards: u64,
    /// By raw key: the keys of a partitioned variable's slices are not UTF-8.
    entries: BTreeMap<Vec<u8>, BundleEntry>,
}

impl Checkpoint {
    /// Reads and checks `PREFIX.index` (the data files are opened as variables are read).
    pub fn open(prefix: &Path) -> Result<Self> {
        let index = index_path(prefix);
        let bytes = fs::read(&index).map_err(io_error(&index))?;
        let table = sstable::read_table(&bytes).map_err(|source| CheckpointFormatError::Index {
            path: index.clone(),
            source,
        })?;
        let mut rows = table.into_iter();
        let header_error = |what: String| CheckpointFormatError::Header {
            path: index.clone(),
            what,
        };
        let (key, header) = rows
            .next()
            .ok_or_else(|| header_error("the index is empty: it has no header entry".into()))?;
        if !key.is_empty() {
            return Err(header_error(format!(
                "the first entry is `{}`, not the header (the empty key)",
                key.escape_ascii()
            )));
        }
        let num_shards = parse_header(&header).map_err(|e| match e {
            HeaderError::Proto(source) => CheckpointFormatError::Proto {
                path: index.clone(),
                name: String::new(),
                message: "BundleHeaderProto",
                source,
            },
            HeaderError::Unsupported(what) => header_error(what),
        })?;
        let mut entries = BTreeMap::new();
        for (key, value) in rows {
            let entry = parse_entry(&value).map_err(|e| {
                let name = String::from_utf8_lossy(&key).into_owned();
                match e {
                    EntryError::Proto(source) => CheckpointFormatError::Proto {
                        path: index.clone(),
                        name,
                        message: "BundleEntryProto",
                        source,
                    },
                    EntryError::Shape(what) => CheckpointFormatError::Entry {
                        path: index.clone(),
                        name,
                        what,
                    },
                }
            })?;
            entries.insert(key, entry);
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            index,
            num_shards,
            entries,
        })
    }

    /// The checkpoint's prefix.
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// Every variable, in the index's (byte-wise) name order.
    pub fn entries(&self) -> Vec<EntryInfo> {
        self.entries
            .iter()
            .map(|(key, e)| EntryInfo {
                name: String::from_utf8_lossy(key).into_owned(),
                dtype: e.dtype,
                shape: e.shape.clone(),
            })
            .collect()
    }

    /// A float32 variable.
    pub fn read_f32(&self, name: &str) -> Result<TfTensor> {
        let (entry, bytes) = self.read_typed(name, DataType::FLOAT)?;
        let data = super::numeric::le_f32s(&bytes);
        Ok(TfTensor {
            shape: entry.shape.clone(),
            data,
        })
    }

    /// An int64 variable (such as `global_step`): its shape and values.
    pub fn read_i64(&self, name: &str) -> Result<(Vec<usize>, Vec<i64>)> {
        let (entry, bytes) = self.read_typed(name, DataType::INT64)?;
        let data = bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        Ok((entry.shape.clone(), data))
    }

    /// A variable's bytes as the data file holds them (little-endian values, row-major for
    /// fixed-size dtypes), after checking their range, size and checksum.
    pub fn read_bytes(&self, name: &str) -> Result<Vec<u8>> {
        let entry = self.entry(name)?;
        self.read_entry(name, entry)
    }

    fn entry(&self, name: &str) -> Result<&BundleEntry> {
        self.entries
            .get(name.as_bytes())
            .ok_or_else(|| CheckpointFormatError::NotFound {
                path: self.index.clone(),
                name: name.to_owned(),
                count: self.entries.len(),
            })
    }

    fn read_typed(&self, name: &str, dtype: DataType) -> Result<(&BundleEntry, Vec<u8>)> {
        let entry = self.entry(name)?;
        if entry.dtype != dtype {
            return Err(CheckpointFormatError::DType {
                path: self.index.clone(),
                name: name.to_owned(),
                found: entry.dtype,
                expected: dtype,
            });
        }
        Ok((entry, self.read_entry(name, entry)?))
    }

    fn entry_error(&self, name: &str, what: String) -> CheckpointFormatError {
        CheckpointFormatError::Entry {
            path: self.index.clone(),
            name: name.to_owned(),
            what,
        }
    }

    /// Checks an entry's size against its shape and dtype and its shard against the header.
    fn check_entry(&self, name: &str, entry: &BundleEntry) -> Result<()> {
        if entry.sliced {
            return Err(self.entry_error(
                name,
                "is stored in slices (a partitioned variable), which this reader does not read"
                    .into(),
            ));
        }
        if let Some(element) = entry.dtype.element_size() {
            let expected = entry
                .shape
                .iter()
                .try_fold(element, |acc, &d| acc.checked_mul(d));
            if expected.map(|e| e as u64) != Some(entry.size) {
                return Err(self.entry_error(
                    name,
                    format!(
                        "has shape {:?} of {} but {} bytes in the data file",
                        entry.shape, entry.dtype, entry.size
                    ),
                ));
            }
        }
        if entry.shard_id >= self.num_shards {
            return Err(self.entry_error(
                name,
                format!(
                    "is in data shard {} but the header counts {} shards",
                    entry.shard_id, self.num_shards
                ),
            ));
        }
        Ok(())
    }

    fn read_entry(&self, name: &str, entry: &BundleEntry) -> Result<Vec<u8>> {
        self.check_entry(name, entry)?;
        let path = shard_path(&self.prefix, entry.shard_id, self.num_shards);
        let mut file = File::open(&path).map_err(io_error(&path))?;
        let file_len = file.metadata().map_err(io_error(&path))?.len();
        if entry
            .offset
            .checked_add(entry.size)
            .is_none_or(|end| end > file_len)
        {
            return Err(CheckpointFormatError::DataRange {
                path,
                name: name.to_owned(),
                offset: entry.offset,
                size: entry.size,
                file_len,
            });
        }
        // The size is at most the file's: allocating it cannot be a denial of service.
        let size = usize::try_from(entry.size).map_err(|_| {
            self.entry_error(
                name,
                format!("has {} bytes, more than memory holds", entry.size),
            )
        })?;
        let mut bytes = vec![0u8; size];
        file.seek(SeekFrom::Start(entry.offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(io_error(&path))?;
        let stored = crc32c::unmask(entry.crc32c);
        let computed = crc32c::value(&bytes);
        if stored != computed {
            return Err(CheckpointFormatError::DataChecksum {
                path,
                name: name.to_owned(),
                stored,
                computed,
            });
        }
        Ok(bytes)
    }
}

/// Every float32 variable of the checkpoint `prefix`, by TensorFlow name (`layer_1/weights`,
/// `layer_1/weights/Adam`, `learning_rate`, …); other dtypes (`global_step`) are left out.
/// [`resolve_prefix`] finds the prefix of a folder.
pub fn read_variables(prefix: &Path) -> Result<HashMap<String, TfTensor>> {
    read_variables_where(prefix, |_| true)
}

/// The float32 variables of the checkpoint `prefix` whose names `wanted` accepts (so that a
/// model's weights are read without its optimiser slots, which are twice their size).
pub fn read_variables_where(
    prefix: &Path,
    wanted: impl Fn(&str) -> bool,
) -> Result<HashMap<String, TfTensor>> {
    let checkpoint = Checkpoint::open(prefix)?;
    checkpoint
        .entries()
        .into_iter()
        .filter(|e| e.dtype == DataType::FLOAT && wanted(&e.name))
        .map(|e| Ok((e.name.clone(), checkpoint.read_f32(&e.name)?)))
        .collect()
}

/// The name, dtype and shape of every variable of the checkpoint `prefix`, in name order.
pub fn list_entries(prefix: &Path) -> Result<Vec<EntryInfo>> {
    Ok(Checkpoint::open(prefix)?.entries())
}

/// The state file that names a folder's checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFile {
    /// `checkpoint`: TensorFlow's, naming the latest checkpoint (DeepSpeech's `train-N`).
    Latest,
    /// `best_dev_checkpoint`: DeepSpeech's, naming the checkpoint with the best dev-set loss
    /// (`best_dev-N`).
    BestDev,
}

impl StateFile {
    /// The file's name in the checkpoint folder.
    pub fn file_name(self) -> &'static str {
        match self {
            StateFile::Latest => "checkpoint",
            StateFile::BestDev => "best_dev_checkpoint",
        }
    }

    /// The state file DeepSpeech records a checkpoint named `name` in: [`StateFile::BestDev`] for
    /// `best_dev…`, [`StateFile::Latest`] for anything else.
    pub fn for_checkpoint_name(name: &str) -> Self {
        if name.starts_with("best_dev") {
            StateFile::BestDev
        } else {
            StateFile::Latest
        }
    }
}

/// The checkpoint prefix `path` stands for:
///
/// - a folder: the checkpoint its `best_dev_checkpoint` file names, else the one its
///   `checkpoint` file names (DeepSpeech's loader prefers them in that order);
/// - a prefix (`…/train-400`), or one of its files (`.index`, `.data-…`, `.meta`): that prefix;
/// - a `checkpoint` or `best_dev_checkpoint` file: the checkpoint it names.
///
/// A state file's path is taken relative to its folder unless absolute; an absolute path that
/// no longer exists (the folder was moved) falls back to the same name in the state file's
/// folder. The prefix returned has an `.index` file.
pub fn resolve_prefix(path: &Path) -> Result<PathBuf> {
    if path.is_dir() {
        for state in [StateFile::BestDev, StateFile::Latest] {
            let file = path.join(state.file_name());
            if file.is_file() {
                return prefix_from_state_file(&file);
            }
        }
    } else if index_path(path).is_file() {
        return Ok(path.to_owned());
    } else if path.is_file() {
        if let Some(prefix) = strip_checkpoint_suffix(path)
            && index_path(&prefix).is_file()
        {
            return Ok(prefix);
        }
        let name = path.file_name().and_then(|n| n.to_str());
        if [StateFile::Latest, StateFile::BestDev]
            .iter()
            .any(|s| Some(s.file_name()) == name)
        {
            return prefix_from_state_file(path);
        }
    }
    Err(CheckpointFormatError::NotACheckpoint {
        path: path.to_owned(),
    })
}

/// `PREFIX` of `PREFIX.index`, `PREFIX.meta` or `PREFIX.data-NNNNN-of-NNNNN`.
fn strip_checkpoint_suffix(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = if let Some(stem) = name.strip_suffix(INDEX_SUFFIX) {
        stem
    } else if let Some(stem) = name.strip_suffix(".meta") {
        stem
    } else {
        let (stem, shard) = name.rsplit_once(".data-")?;
        let (a, b) = shard.split_once("-of-")?;
        let digits = |s: &str| s.len() == 5 && s.bytes().all(|c| c.is_ascii_digit());
        if !(digits(a) && digits(b)) {
            return None;
        }
        stem
    };
    (!stem.is_empty()).then(|| path.with_file_name(stem))
}

/// A state file's folder ("." for a bare file name).
fn folder_of(file: &Path) -> &Path {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The checkpoint the state file `file` names.
fn prefix_from_state_file(file: &Path) -> Result<PathBuf> {
    let state_error = |what: String| CheckpointFormatError::State {
        path: file.to_owned(),
        what,
    };
    let text = fs::read_to_string(file).map_err(io_error(file))?;
    let state = CheckpointState::parse(&text).map_err(state_error)?;
    let target = state
        .model_checkpoint_path
        .filter(|p| !p.is_empty())
        .ok_or_else(|| state_error("names no checkpoint (no `model_checkpoint_path`)".into()))?;
    let dir = folder_of(file);
    let prefix = dir.join(&target); // `join` keeps an absolute `target` as it is.
    if index_path(&prefix).is_file() {
        return Ok(prefix);
    }
    if let Some(name) = Path::new(&target).file_name() {
        let moved = dir.join(name);
        if index_path(&moved).is_file() {
            return Ok(moved);
        }
    }
    Err(state_error(format!(
        "names checkpoint `{target}`, but {} does not exist",
        index_path(&prefix).display()
    )))
}

/// Writes checkpoint `dir/name` (`name` such as `train-400` or `best_dev-1200`) holding the
/// float32 variables `floats` and the int64 scalars `int64s` (such as `global_step`), in the
/// bytes TensorFlow's `BundleWriter` writes, and records it in the folder's state file
/// ([`StateFile::for_checkpoint_name`]: `best_dev_checkpoint` for `best_dev…`, else
/// `checkpoint`). Returns the prefix.
///
/// Each file is written under a temporary name and renamed into place once complete: the data
/// file, then the index, then the state file, so that a failure never leaves a half-written file
/// under a checkpoint's name, and the state file names only complete checkpoints.
pub fn write_checkpoint(
    dir: &Path,
    name: &str,
    floats: &[(String, TfTensor)],
    int64s: &[(String, i64)],
) -> Result<PathBuf> {
    write_checkpoint_with_state(
        dir,
        name,
        floats,
        int64s,
        StateFile::for_checkpoint_name(name),
    )
}

/// [`write_checkpoint`], recording the checkpoint in the state file `state`.
pub fn write_checkpoint_with_state(
    dir: &Path,
    name: &str,
    floats: &[(String, TfTensor)],
    int64s: &[(String, i64)],
    state: StateFile,
) -> Result<PathBuf> {
    let tensors = writer::collect(dir, name, floats, int64s)?;
    let prefix = dir.join(name);
    writer::write_bundle(&prefix, &tensors, sstable::DEFAULT_BLOCK_SIZE)?;
    writer::record_in_state_file(dir, name, state)?;
    Ok(prefix)
}

#[cfg(test)]
mod tests;
