//! The index's protobuf messages, read: the header entry's `BundleHeaderProto` and every
//! variable's `BundleEntryProto` (with its `TensorShapeProto`), as
//! `tensorflow/core/protobuf/tensor_bundle.proto` defines them.

use super::DataType;
use crate::model::formats::protobuf::{ProtobufError, Reader, Value};

/// The tensor-bundle format version TensorFlow 1.x and 2.x write and read.
pub(super) const BUNDLE_VERSION: u64 = 1;

/// One `BundleEntryProto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BundleEntry {
    pub(super) dtype: DataType,
    pub(super) shape: Vec<usize>,
    pub(super) shard_id: u64,
    pub(super) offset: u64,
    pub(super) size: u64,
    /// The masked CRC-32C of the bytes.
    pub(super) crc32c: u32,
    /// Whether the variable is stored as slices (a partitioned variable) under other keys.
    pub(super) sliced: bool,
}

/// Why the header entry is unusable.
pub(super) enum HeaderError {
    Proto(ProtobufError),
    Unsupported(String),
}

impl From<ProtobufError> for HeaderError {
    fn from(e: ProtobufError) -> Self {
        Self::Proto(e)
    }
}

/// Reads a `BundleHeaderProto` and checks that this reader can read the bundle: returns the
/// number of data shards.
pub(super) fn parse_header(bytes: &[u8]) -> Result<u64, HeaderError> {
    const MESSAGE: &str = "BundleHeaderProto";
    let (mut num_shards, mut endianness) = (0, 0);
    let (mut min_consumer, mut bad_consumers) = (0, Vec::new());
    for field in Reader::new(bytes) {
        let field = field?;
        match field.number {
            1 => num_shards = field.varint(MESSAGE)?,
            2 => endianness = field.varint(MESSAGE)?,
            3 => {
                for f in Reader::new(field.bytes(MESSAGE)?) {
                    let f = f?;
                    match f.number {
                        2 => min_consumer = f.varint("VersionDef")?,
                        3 => bad_consumers.extend(f.packed_varints("VersionDef")?),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if endianness != 0 {
        return Err(HeaderError::Unsupported(
            "the checkpoint was written on a big-endian machine; this reader reads little-endian \
             checkpoints only"
                .into(),
        ));
    }
    if min_consumer > BUNDLE_VERSION || bad_consumers.contains(&BUNDLE_VERSION) {
        return Err(HeaderError::Unsupported(format!(
            "the checkpoint needs a reader of tensor-bundle version {min_consumer} or later \
             (this one reads version {BUNDLE_VERSION})"
        )));
    }
    Ok(num_shards)
}

/// Why an entry is unusable.
pub(super) enum EntryError {
    Proto(ProtobufError),
    Shape(String),
}

impl From<ProtobufError> for EntryError {
    fn from(e: ProtobufError) -> Self {
        Self::Proto(e)
    }
}

/// Reads a `BundleEntryProto`.
pub(super) fn parse_entry(bytes: &[u8]) -> Result<BundleEntry, EntryError> {
    const MESSAGE: &str = "BundleEntryProto";
    let mut e = BundleEntry {
        dtype: DataType(0),
        shape: Vec::new(),
        shard_id: 0,
        offset: 0,
        size: 0,
        crc32c: 0,
        sliced: false,
    };
    for field in Reader::new(bytes) {
        let field = field?;
        match field.number {
            1 => e.dtype = DataType(field.varint(MESSAGE)?),
            2 => e.shape = parse_shape(field.bytes(MESSAGE)?)?,
            3 => e.shard_id = field.varint(MESSAGE)?,
            4 => e.offset = field.varint(MESSAGE)?,
            5 => e.size = field.varint(MESSAGE)?,
            6 => match field.value {
                Value::Fixed32(v) => e.crc32c = v,
                _ => {
                    return Err(ProtobufError::UnexpectedType {
                        field: 6,
                        message: MESSAGE,
                    }
                    .into());
                }
            },
            7 => e.sliced = true,
            _ => {}
        }
    }
    Ok(e)
}

/// Reads a `TensorShapeProto` of known rank and sizes.
fn parse_shape(bytes: &[u8]) -> Result<Vec<usize>, EntryError> {
    const MESSAGE: &str = "TensorShapeProto";
    let mut shape = Vec::new();
    for field in Reader::new(bytes) {
        let field = field?;
        match field.number {
            2 => {
                let mut size = 0u64;
                for f in Reader::new(field.bytes(MESSAGE)?) {
                    let f = f?;
                    if f.number == 1 {
                        size = f.varint("TensorShapeProto.Dim")?;
                    }
                }
                // int64 on the wire: a negative size (-1, unknown) reads as a huge one.
                let size = usize::try_from(size)
                    .ok()
                    .filter(|&s| (s as u64) < (1 << 62))
                    .ok_or_else(|| {
                        EntryError::Shape(format!("has a dimension of size {}", size as i64))
                    })?;
                shape.push(size);
            }
            3 if field.varint(MESSAGE)? != 0 => {
                return Err(EntryError::Shape("has a shape of unknown rank".into()));
            }
            _ => {}
        }
    }
    Ok(shape)
}
