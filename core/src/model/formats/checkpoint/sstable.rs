//! LevelDB's sorted string table, as TensorFlow's `tensorflow/core/lib/io/table*.cc` writes it:
//! the container of a checkpoint's `.index` file.
//!
//! A table is a run of blocks, then a 48-byte footer:
//!
//! - **Data blocks** hold the key/value pairs in increasing key order. Each entry is
//!   `varint shared, varint unshared, varint value_len, key[shared..], value`: a key shares its
//!   first `shared` bytes with the previous key, except at a *restart point* (every 16th entry)
//!   where it is written whole. The block ends with the restart offsets (`u32` each) and their
//!   count (`u32`). A new block starts once one reaches `block_size` bytes (256 KiB).
//! - Every block is followed by a 5-byte trailer: the compression type (0 = none, 1 = Snappy)
//!   and the masked CRC-32C of the block and that type byte.
//! - The **metaindex block** (empty: TensorFlow writes no filters or statistics).
//! - The **index block** (a restart at every entry) maps, for each data block, a key `>=` its
//!   last key and `<` the next block's first key to the block's handle (`varint offset,
//!   varint size`).
//! - The **footer**: the metaindex and index handles, zero-padded to 40 bytes, and the magic
//!   number `0xdb4775248b80fb57` (little-endian).
//!
//! [`read_table`] checks every length, offset and checksum, so a truncated or corrupt file is an
//! error, never a panic; [`TableBuilder`] writes the same bytes TensorFlow's `TableBuilder` does
//! for the same entries and options.

use super::crc32c;

/// The table's magic number, the footer's last 8 bytes.
pub const MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// The footer's size: two block handles padded to 20 bytes each, and the magic number.
pub const FOOTER_LEN: usize = 48;
/// The compression type, then the masked CRC-32C.
const TRAILER_LEN: usize = 5;
/// TensorFlow's (and LevelDB's) default target size of a data block.
pub const DEFAULT_BLOCK_SIZE: usize = 256 * 1024;
/// Keys between restart points in a data block.
pub const RESTART_INTERVAL: usize = 16;
/// The trailer's type byte of an uncompressed block.
const NO_COMPRESSION: u8 = 0;

/// Why the bytes are not a table this reader can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The file cannot even hold the footer.
    #[error("the file is {0} bytes long, shorter than a table's {FOOTER_LEN}-byte footer")]
    TooShort(usize),
    /// The footer ends in another number than a table's.
    #[error("the footer's magic number is {0:#018x}, not a table's ({MAGIC:#018x})")]
    BadMagic(u64),
    /// A block handle (in the footer or the index) does not decode.
    #[error("the {0} block handle does not decode")]
    BadHandle(&'static str),
    /// A block handle points outside the file.
    #[error(
        "a block at byte {offset} of {size} bytes (plus its {TRAILER_LEN}-byte trailer) runs \
         past the end of the file ({file_len} bytes)"
    )]
    BlockOutOfRange {
        /// Where the block starts.
        offset: u64,
        /// Its size, without the trailer.
        size: u64,
        /// The file's size.
        file_len: usize,
    },
    /// A block's stored checksum does not match its bytes.
    #[error(
        "the block at byte {offset} fails its checksum (stored {stored:#010x}, computed \
         {computed:#010x})"
    )]
    Checksum {
        /// Where the block starts.
        offset: u64,
        /// The masked checksum in the trailer.
        stored: u32,
        /// The masked checksum of the bytes there.
        computed: u32,
    },
    /// A block is compressed; TensorFlow writes checkpoint indexes uncompressed.
    #[error(
        "the block at byte {offset} is compressed (type {kind}; 1 is Snappy): TensorFlow writes \
         checkpoint indexes uncompressed and this reader does not decompress"
    )]
    Compressed {
        /// Where the block starts.
        offset: u64,
        /// The compression type byte.
        kind: u8,
    },
    /// A block's entries or restart array do not parse.
    #[error("the block at byte {offset} is malformed: {what}")]
    BadBlock {
        /// Where the block starts.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// A key is not greater than the one before it.
    #[error("key `{0}` is out of order (keys must increase strictly)")]
    Unsorted(String),
}

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Where a block lies in the file (its size excludes the trailer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BlockHandle {
    offset: u64,
    size: u64,
}

impl BlockHandle {
    /// Decodes a handle from the start of `bytes`; `None` if the varints do not parse.
    fn decode(bytes: &[u8]) -> Option<(Self, usize)> {
        let (offset, a) = varint(bytes)?;
        let (size, b) = varint(&bytes[a..])?;
        Some((Self { offset, size }, a + b))
    }

    fn encode_to(self, out: &mut Vec<u8>) {
        put_varint(out, self.offset);
        put_varint(out, self.size);
    }
}

/// A base-128 varint (at most 10 bytes) from the start of `bytes`: the value and its length.
fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// A key for messages: UTF-8 where it is, escaped where not.
fn printable(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

/// Every key/value pair of the table in `file`, in order.
pub fn read_table(file: &[u8]) -> Result<Vec<Entry>, TableError> {
    let index_handle = read_footer(file)?;
    let index = read_block(file, index_handle)?;
    let mut out: Vec<Entry> = Vec::new();
    for (_, handle_bytes) in parse_block(index, index_handle.offset)? {
        let (handle, _) =
            BlockHandle::decode(&handle_bytes).ok_or(TableError::BadHandle("index entry's"))?;
        for (key, value) in parse_block(read_block(file, handle)?, handle.offset)? {
            if out.last().is_some_and(|(last, _)| *last >= key) {
                return Err(TableError::Unsorted(printable(&key)));
            }
            out.push((key, value));
        }
    }
    Ok(out)
}

/// Checks the footer and returns the index block's handle.
fn read_footer(file: &[u8]) -> Result<BlockHandle, TableError> {
    if file.len() < FOOTER_LEN {
        return Err(TableError::TooShort(file.len()));
    }
    let footer = &file[file.len() - FOOTER_LEN..];
    let magic = u64::from_le_bytes(footer[40..].try_into().expect("8 bytes"));
    if magic != MAGIC {
        return Err(TableError::BadMagic(magic));
    }
    let (_metaindex, used) =
        BlockHandle::decode(&footer[..40]).ok_or(TableError::BadHandle("footer's metaindex"))?;
    let (index, _) =
        BlockHandle::decode(&footer[used..40]).ok_or(TableError::BadHandle("footer's index"))?;
    Ok(index)
}

/// The contents of the block at `handle`, after checking its trailer.
fn read_block(file: &[u8], handle: BlockHandle) -> Result<&[u8], TableError> {
    let out_of_range = TableError::BlockOutOfRange {
        offset: handle.offset,
        size: handle.size,
        file_len: file.len(),
    };
    let start = usize::try_from(handle.offset).map_err(|_| out_of_range.clone())?;
    let end = usize::try_from(handle.size)
        .ok()
        .and_then(|size| start.checked_add(size))
        .filter(|&end| {
            end.checked_add(TRAILER_LEN)
                .is_some_and(|e| e <= file.len())
        })
        .ok_or(out_of_range)?;
    let contents = &file[start..end];
    let kind = file[end];
    let stored = u32_at(file, end + 1);
    let computed = crc32c::mask(crc32c::extend(crc32c::value(contents), &[kind]));
    if stored != computed {
        return Err(TableError::Checksum {
            offset: handle.offset,
            stored,
            computed,
        });
    }
    if kind != NO_COMPRESSION {
        return Err(TableError::Compressed {
            offset: handle.offset,
            kind,
        });
    }
    Ok(contents)
}

/// The entries of one block (`offset` names it in errors).
fn parse_block(block: &[u8], offset: u64) -> Result<Vec<Entry>, TableError> {
    let bad = |what| TableError::BadBlock { offset, what };
    if block.len() < 4 {
        return Err(bad("shorter than its restart count"));
    }
    let num_restarts = u32_at(block, block.len() - 4) as usize;
    let entries_end = num_restarts
        .checked_mul(4)
        .and_then(|r| (block.len() - 4).checked_sub(r))
        .ok_or_else(|| bad("more restart points than the block has room for"))?;
    /// Longer than any TensorFlow variable name.
    const MAX_KEY_LEN: usize = 64 * 1024;
    let region = &block[..entries_end];
    let mut pos = 0;
    let mut key: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    while pos < region.len() {
        let mut field = || -> Result<usize, TableError> {
            let (v, n) = varint(&region[pos..]).ok_or_else(|| bad("an entry header is cut off"))?;
            pos += n;
            usize::try_from(v).map_err(|_| bad("an entry length does not fit in memory"))
        };
        let (shared, unshared, value_len) = (field()?, field()?, field()?);
        if shared > key.len() {
            return Err(bad("an entry shares more bytes than the previous key has"));
        }
        let key_end = pos
            .checked_add(unshared)
            .filter(|&e| e <= region.len())
            .ok_or_else(|| bad("a key runs past the entries"))?;
        let value_end = key_end
            .checked_add(value_len)
            .filter(|&e| e <= region.len())
            .ok_or_else(|| bad("a value runs past the entries"))?;
        key.truncate(shared);
        key.extend_from_slice(&region[pos..key_end]);
        // Keys share prefixes, so a small block could otherwise spell out gigabytes of keys.
        if key.len() > MAX_KEY_LEN {
            return Err(bad("a key is longer than 64 KiB"));
        }
        out.push((key.clone(), region[key_end..value_end].to_vec()));
        pos = value_end;
    }
    Ok(out)
}

/// Builds one block: prefix-compressed entries and their restart points.
#[derive(Debug)]
struct BlockBuilder {
    restart_interval: usize,
    buf: Vec<u8>,
    restarts: Vec<u32>,
    counter: usize,
    last_key: Vec<u8>,
}

impl BlockBuilder {
    fn new(restart_interval: usize) -> Self {
        Self {
            restart_interval,
            buf: Vec::new(),
            restarts: vec![0],
            counter: 0,
            last_key: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The block's size if it were finished now.
    fn size_estimate(&self) -> usize {
        self.buf.len() + 4 * self.restarts.len() + 4
    }

    fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = if self.counter < self.restart_interval {
            key.iter()
                .zip(&self.last_key)
                .take_while(|(a, b)| a == b)
                .count()
        } else {
            // Blocks stay far below 4 GiB: one is cut as soon as it passes `block_size`.
            self.restarts.push(self.buf.len() as u32);
            self.counter = 0;
            0
        };
        put_varint(&mut self.buf, shared as u64);
        put_varint(&mut self.buf, (key.len() - shared) as u64);
        put_varint(&mut self.buf, value.len() as u64);
        self.buf.extend_from_slice(&key[shared..]);
        self.buf.extend_from_slice(value);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.counter += 1;
    }

    /// The finished block; the builder starts over empty.
    fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        for r in &self.restarts {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        *self = Self::new(self.restart_interval);
        out
    }
}

/// Shortens `start` to a key `>= start` and `< limit` where one exists (TensorFlow's
/// `FindShortestSeparator`), for the index block.
fn shortest_separator(start: &mut Vec<u8>, limit: &[u8]) {
    let common = start.iter().zip(limit).take_while(|(a, b)| a == b).count();
    if common >= start.len().min(limit.len()) {
        return; // One is a prefix of the other.
    }
    let byte = start[common];
    if byte < 0xff && byte + 1 < limit[common] {
        start[common] = byte + 1;
        start.truncate(common + 1);
    }
}

/// Shortens `key` to a short key `>=` it (TensorFlow's `FindShortSuccessor`).
fn short_successor(key: &mut Vec<u8>) {
    if let Some(i) = key.iter().position(|&b| b != 0xff) {
        key[i] += 1;
        key.truncate(i + 1);
    }
}

/// Writes a table, block by block, the way TensorFlow's `table::TableBuilder` does with
/// compression off.
#[derive(Debug)]
pub struct TableBuilder {
    block_size: usize,
    out: Vec<u8>,
    data: BlockBuilder,
    index: BlockBuilder,
    last_key: Vec<u8>,
    entries: usize,
    /// The last data block written, whose index entry waits for the next key.
    pending: Option<BlockHandle>,
}

impl Default for TableBuilder {
    fn default() -> Self {
        Self::with_block_size(DEFAULT_BLOCK_SIZE)
    }
}

impl TableBuilder {
    /// A builder whose data blocks are cut at about `block_size` bytes (TensorFlow's default is
    /// [`DEFAULT_BLOCK_SIZE`]; smaller sizes exercise multi-block tables in tests).
    pub fn with_block_size(block_size: usize) -> Self {
        Self {
            block_size: block_size.max(1),
            out: Vec::new(),
            data: BlockBuilder::new(RESTART_INTERVAL),
            index: BlockBuilder::new(1),
            last_key: Vec::new(),
            entries: 0,
            pending: None,
        }
    }

    /// Appends an entry; keys must increase strictly.
    pub fn add(&mut self, key: &[u8], value: &[u8]) -> Result<(), TableError> {
        if self.entries > 0 {
            if key <= self.last_key.as_slice() {
                return Err(TableError::Unsorted(printable(key)));
            }
            if key.len() + value.len() >= 2 * self.block_size {
                self.flush();
            }
        }
        if let Some(handle) = self.pending.take() {
            shortest_separator(&mut self.last_key, key);
            self.add_index_entry(handle);
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.entries += 1;
        self.data.add(key, value);
        if self.data.size_estimate() >= self.block_size {
            self.flush();
        }
        Ok(())
    }

    /// The finished table's bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.flush();
        let metaindex = self.write_block(&mut BlockBuilder::new(RESTART_INTERVAL));
        if let Some(handle) = self.pending.take() {
            short_successor(&mut self.last_key);
            self.add_index_entry(handle);
        }
        let mut index_block = std::mem::replace(&mut self.index, BlockBuilder::new(1));
        let index = self.write_block(&mut index_block);
        let footer_start = self.out.len();
        metaindex.encode_to(&mut self.out);
        index.encode_to(&mut self.out);
        self.out.resize(footer_start + FOOTER_LEN - 8, 0);
        self.out.extend_from_slice(&MAGIC.to_le_bytes());
        self.out
    }

    fn add_index_entry(&mut self, handle: BlockHandle) {
        let mut encoded = Vec::with_capacity(20);
        handle.encode_to(&mut encoded);
        self.index.add(&self.last_key, &encoded);
    }

    /// Writes the current data block, if it holds anything.
    fn flush(&mut self) {
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::replace(&mut self.data, BlockBuilder::new(RESTART_INTERVAL));
        self.pending = Some(self.write_block(&mut data));
    }

    fn write_block(&mut self, block: &mut BlockBuilder) -> BlockHandle {
        let contents = block.finish();
        let handle = BlockHandle {
            offset: self.out.len() as u64,
            size: contents.len() as u64,
        };
        let crc = crc32c::mask(crc32c::extend(crc32c::value(&contents), &[NO_COMPRESSION]));
        self.out.extend_from_slice(&contents);
        self.out.push(NO_COMPRESSION);
        self.out.extend_from_slice(&crc.to_le_bytes());
        handle
    }
}

/// The number of data blocks the index block of `file` lists (for tests of multi-block tables).
#[cfg(test)]
pub fn data_block_count(file: &[u8]) -> Result<usize, TableError> {
    let index = read_footer(file)?;
    Ok(parse_block(read_block(file, index)?, index.offset)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize) -> Vec<Entry> {
        (0..n)
            .map(|i| {
                let key = format!("scope/block_{:04}/variable_{}", i / 3, i % 3).into_bytes();
                (key, vec![i as u8; i % 7])
            })
            .collect()
    }

    fn build(entries: &[Entry], block_size: usize) -> Vec<u8> {
        let mut b = TableBuilder::with_block_size(block_size);
        for (k, v) in entries {
            b.add(k, v).unwrap();
        }
        b.finish()
    }

    fn data_blocks(file: &[u8]) -> usize {
        data_block_count(file).unwrap()
    }

    #[test]
    fn tables_round_trip_with_one_and_many_blocks() {
        for (n, block_size, blocks) in [(0, DEFAULT_BLOCK_SIZE, 0), (1, DEFAULT_BLOCK_SIZE, 1)] {
            let e = entries(n);
            let file = build(&e, block_size);
            assert_eq!(read_table(&file).unwrap(), e);
            assert_eq!(data_blocks(&file), blocks);
        }
        let e = entries(500);
        for block_size in [1, 64, 300, 4096, DEFAULT_BLOCK_SIZE] {
            let file = build(&e, block_size);
            assert_eq!(read_table(&file).unwrap(), e, "block size {block_size}");
        }
        assert_eq!(data_blocks(&build(&e, 4096)), 2);
        assert_eq!(data_blocks(&build(&e, 1)), 500);
    }

    #[test]
    fn an_empty_table_is_the_bytes_tensorflow_writes() {
        // An empty data section, the empty metaindex and index blocks (a lone restart point at
        // 0), then the footer.
        let file = TableBuilder::default().finish();
        assert_eq!(file.len(), 2 * (8 + TRAILER_LEN) + FOOTER_LEN);
        assert_eq!(&file[..8], &[0, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&file[file.len() - 8..], &MAGIC.to_le_bytes());
        assert!(read_table(&file).unwrap().is_empty());
    }

    #[test]
    fn index_keys_are_shortened_like_tensorflow() {
        let mut k = b"the quick brown fox".to_vec();
        shortest_separator(&mut k, b"the who");
        assert_eq!(k, b"the r");
        let mut k = b"abc".to_vec();
        shortest_separator(&mut k, b"abcd");
        assert_eq!(k, b"abc");
        let mut k = b"abc".to_vec();
        shortest_separator(&mut k, b"abd");
        assert_eq!(k, b"abc");
        let mut k = vec![0xff, 0xff, 3];
        short_successor(&mut k);
        assert_eq!(k, vec![0xff, 0xff, 4]);
        let mut k = vec![0xff, 0xff];
        short_successor(&mut k);
        assert_eq!(k, vec![0xff, 0xff]);
    }

    #[test]
    fn unsorted_keys_are_refused() {
        let mut b = TableBuilder::default();
        b.add(b"b", b"").unwrap();
        assert!(matches!(b.add(b"a", b""), Err(TableError::Unsorted(_))));
        assert!(matches!(b.add(b"b", b""), Err(TableError::Unsorted(_))));
    }

    #[test]
    fn corrupt_tables_are_errors_not_panics() {
        let e = entries(60);
        let file = build(&e, 256);
        assert!(data_blocks(&file) > 1);
        for cut in 0..file.len() {
            assert!(read_table(&file[..cut]).is_err(), "cut at {cut}");
        }
        // Every byte but the footer's padding and the empty metaindex block is checked.
        let mut flipped_ok = 0;
        for at in 0..file.len() {
            let mut bad = file.clone();
            bad[at] ^= 0x41;
            if read_table(&bad).is_ok() {
                flipped_ok += 1;
            }
        }
        assert!(
            flipped_ok <= 40 + 8 + TRAILER_LEN,
            "{flipped_ok} flips went unnoticed"
        );
        let mut bad = file.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert!(matches!(read_table(&bad), Err(TableError::BadMagic(_))));
        assert_eq!(read_table(&[0; 10]), Err(TableError::TooShort(10)));
    }

    #[test]
    fn compressed_and_malformed_blocks_are_named() {
        // A hand-made file: one block, marked Snappy, with a valid checksum.
        let contents = [0u8, 0, 0, 0, 1, 0, 0, 0];
        let mut file = contents.to_vec();
        file.push(1);
        let crc = crc32c::mask(crc32c::extend(crc32c::value(&contents), &[1]));
        file.extend_from_slice(&crc.to_le_bytes());
        let mut footer = Vec::new();
        BlockHandle { offset: 0, size: 8 }.encode_to(&mut footer);
        BlockHandle { offset: 0, size: 8 }.encode_to(&mut footer);
        footer.resize(40, 0);
        footer.extend_from_slice(&MAGIC.to_le_bytes());
        file.extend_from_slice(&footer);
        assert_eq!(
            read_table(&file),
            Err(TableError::Compressed { offset: 0, kind: 1 })
        );
        // Restart count larger than the block.
        assert!(matches!(
            parse_block(&[0, 0, 0, 0, 9, 0, 0, 0], 0),
            Err(TableError::BadBlock { .. })
        ));
        // An entry sharing bytes with a key that is not there.
        assert!(matches!(
            parse_block(&[3, 1, 0, b'a', 0, 0, 0, 0, 1, 0, 0, 0], 0),
            Err(TableError::BadBlock { .. })
        ));
        // A value longer than the block.
        assert!(matches!(
            parse_block(&[0, 1, 200, b'a', 0, 0, 0, 0, 1, 0, 0, 0], 0),
            Err(TableError::BadBlock { .. })
        ));
    }
}
