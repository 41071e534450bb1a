//! TensorFlow's memory-mapped package (DeepSpeech's `.pbmm`, made by TensorFlow's
//! `convert_graphdef_memmapped_format`): regions of bytes, then a `MemmappedFileSystemDirectory`
//! naming each region, then the directory's offset as a little-endian `u64`. The region
//! `memmapped_package://.` is the `GraphDef`, in which each large constant has become an
//! `ImmutableConst` node whose `memory_region_name` names the region holding its raw data.
//!
//! The package is read in place: the regions are slices of the mapped file.

use std::collections::HashMap;

use super::protobuf::{ProtobufError, Reader};

/// The region name prefix every element carries.
pub const PREFIX: &str = "memmapped_package://";
/// The region holding the `GraphDef`.
pub const GRAPH_REGION: &str = "memmapped_package://.";

/// Why a memory-mapped package could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemmappedError {
    /// Too short to hold the directory offset.
    #[error("{0} bytes is too short for a memory-mapped package")]
    TooShort(usize),
    /// The directory offset points outside the file.
    #[error("the directory offset {offset} is past the end of the {len}-byte file")]
    BadOffset {
        /// The offset in the trailer.
        offset: u64,
        /// The file's length.
        len: usize,
    },
    /// The directory is not a protobuf message.
    #[error("the directory is unreadable: {0}")]
    Directory(#[from] ProtobufError),
    /// A region lies outside the file or overlaps the directory.
    #[error("region `{name}` ({offset}+{length}) lies outside the data")]
    BadRegion {
        /// The region's name.
        name: String,
        /// Its offset.
        offset: u64,
        /// Its length.
        length: u64,
    },
    /// Two regions share a name.
    #[error("region `{0}` appears twice")]
    Duplicate(String),
    /// No `GraphDef` region.
    #[error("no `{GRAPH_REGION}` region: a memory-mapped package, but not of a graph")]
    NoGraph,
}

/// A parsed package: its regions by name.
#[derive(Debug, Clone)]
pub struct Package<'a> {
    regions: HashMap<String, &'a [u8]>,
}

impl<'a> Package<'a> {
    /// Reads the directory of a package (the whole file's bytes).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, MemmappedError> {
        const TRAILER: usize = std::mem::size_of::<u64>();
        if bytes.len() <= TRAILER {
            return Err(MemmappedError::TooShort(bytes.len()));
        }
        let end = bytes.len() - TRAILER;
        let offset = u64::from_le_bytes(bytes[end..].try_into().expect("8 bytes"));
        let dir_start = usize::try_from(offset).ok().filter(|&o| o <= end).ok_or(
            MemmappedError::BadOffset {
                offset,
                len: bytes.len(),
            },
        )?;
        let mut elements = Vec::new();
        for field in Reader::new(&bytes[dir_start..end]) {
            let field = field?;
            if field.number != 1 {
                continue;
            }
            let (mut off, mut name, mut length) = (0u64, String::new(), None);
            for f in Reader::new(field.bytes("MemmappedFileSystemDirectory")?) {
                let f = f?;
                match f.number {
                    1 => off = f.varint("MemmappedFileSystemDirectoryElement")?,
                    2 => name = f.string("MemmappedFileSystemDirectoryElement")?.to_owned(),
                    3 => length = Some(f.varint("MemmappedFileSystemDirectoryElement")?),
                    _ => {}
                }
            }
            elements.push((off, name, length));
        }
        // Old writers left out `length`: a region then runs to the next one (or the directory).
        let mut regions = HashMap::new();
        let mut next = dir_start as u64;
        for (off, name, length) in elements.into_iter().rev() {
            let length = length.unwrap_or(next.saturating_sub(off));
            let region = off
                .checked_add(length)
                .filter(|&e| e <= dir_start as u64)
                .map(|e| &bytes[off as usize..e as usize])
                .ok_or_else(|| MemmappedError::BadRegion {
                    name: name.clone(),
                    offset: off,
                    length,
                })?;
            if regions.insert(name.clone(), region).is_some() {
                return Err(MemmappedError::Duplicate(name));
            }
            next = off;
        }
        if !regions.contains_key(GRAPH_REGION) {
            return Err(MemmappedError::NoGraph);
        }
        Ok(Self { regions })
    }

    /// The serialized `GraphDef`.
    pub fn graph(&self) -> &'a [u8] {
        self.regions[GRAPH_REGION]
    }

    /// The bytes of the region `name` (a full `memmapped_package://…` name).
    pub fn region(&self, name: &str) -> Option<&'a [u8]> {
        self.regions.get(name).copied()
    }
}

/// Whether `bytes` end in a directory offset that points at a readable directory naming a graph.
pub fn sniff(bytes: &[u8]) -> bool {
    Package::parse(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::protobuf::Writer;
    use super::*;

    fn package(regions: &[(&str, &[u8])], with_length: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut dir = Writer::new();
        for (name, data) in regions {
            let mut e = Writer::new();
            e.varint(1, out.len() as u64).bytes(2, name.as_bytes());
            if with_length {
                e.varint(3, data.len() as u64);
            }
            dir.bytes(1, &e.into_bytes());
            out.extend_from_slice(data);
        }
        let offset = out.len() as u64;
        out.extend(dir.into_bytes());
        out.extend(offset.to_le_bytes());
        out
    }

    #[test]
    fn regions_are_found_with_and_without_lengths() {
        for with_length in [true, false] {
            let bytes = package(
                &[
                    ("memmapped_package://w", b"12345678"),
                    (GRAPH_REGION, b"graph"),
                ],
                with_length,
            );
            let p = Package::parse(&bytes).unwrap();
            assert_eq!(p.graph(), b"graph");
            assert_eq!(p.region("memmapped_package://w").unwrap(), b"12345678");
        }
    }

    #[test]
    fn damaged_packages_are_refused() {
        let bytes = package(&[("memmapped_package://w", b"12345678")], true);
        assert_eq!(Package::parse(&bytes).unwrap_err(), MemmappedError::NoGraph);
        assert!(matches!(
            Package::parse(&[1, 2, 3]),
            Err(MemmappedError::TooShort(3))
        ));
        let mut bad = package(&[(GRAPH_REGION, b"graph")], true);
        let n = bad.len();
        bad[n - 8..].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            Package::parse(&bad),
            Err(MemmappedError::BadOffset { .. })
        ));
        for cut in 0..bytes.len() {
            let _ = Package::parse(&bytes[..cut]);
        }
    }
}
