//! A bounds-checked reader of FlatBuffers tables, the encoding of TensorFlow Lite's `.tflite`
//! files: enough of the format to walk a schema by hand, no code generator.
//!
//! A FlatBuffer starts with a `u32` offset to its root table. A table starts with an `i32`
//! pointing back (`table - soffset`) to its vtable: a `u16` vtable size, a `u16` table size,
//! then one `u16` per field giving the field's offset inside the table (0: absent, use the
//! default). Scalars are stored inline; strings, vectors and sub-tables as a `u32` offset
//! relative to where that offset is stored. A vector (and a string) is a `u32` element count
//! followed by the elements; a vector of tables holds one `u32` offset per element. Everything
//! is little-endian. Every read here is checked against the buffer: a truncated or corrupted
//! file gives a [`FlatbufferError`], never a panic.

/// Where and why a FlatBuffer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed flatbuffer: {what} (at byte {at})")]
pub struct FlatbufferError {
    /// Where in the buffer.
    pub at: usize,
    /// What was wrong.
    pub what: String,
}

fn error(at: usize, what: impl Into<String>) -> FlatbufferError {
    FlatbufferError {
        at,
        what: what.into(),
    }
}

/// `N` bytes at `pos`, checked.
fn array<const N: usize>(buf: &[u8], pos: usize) -> Result<[u8; N], FlatbufferError> {
    pos.checked_add(N)
        .and_then(|end| buf.get(pos..end))
        .map(|s| s.try_into().expect("N bytes"))
        .ok_or_else(|| {
            error(
                pos,
                format!("{N} bytes run past the end ({} bytes)", buf.len()),
            )
        })
}

fn read_u16(buf: &[u8], pos: usize) -> Result<u16, FlatbufferError> {
    array(buf, pos).map(u16::from_le_bytes)
}

fn read_u32(buf: &[u8], pos: usize) -> Result<u32, FlatbufferError> {
    array(buf, pos).map(u32::from_le_bytes)
}

/// Follows the `u32` offset stored at `pos`.
fn follow(buf: &[u8], pos: usize) -> Result<usize, FlatbufferError> {
    let offset = read_u32(buf, pos)? as usize;
    match pos.checked_add(offset) {
        Some(target) if target < buf.len() => Ok(target),
        _ => Err(error(pos, format!("offset {offset} points past the end"))),
    }
}

/// The table the buffer's root offset points to.
pub fn root(buf: &[u8]) -> Result<Table<'_>, FlatbufferError> {
    Table::at(buf, follow(buf, 0)?)
}

/// One table: its position and its vtable, both checked to lie inside the buffer.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

/// A vector's elements: where they start and how many there are (already checked to fit).
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    len: usize,
}

impl<'a> Table<'a> {
    /// The table at `pos`.
    pub fn at(buf: &'a [u8], pos: usize) -> Result<Self, FlatbufferError> {
        let soffset = i64::from(i32::from_le_bytes(array(buf, pos)?));
        let vtable = usize::try_from(pos as i64 - soffset)
            .map_err(|_| error(pos, "the vtable lies before the buffer"))?;
        let vtable_len = usize::from(read_u16(buf, vtable)?);
        if vtable_len < 4 || vtable_len % 2 != 0 || vtable + vtable_len > buf.len() {
            return Err(error(vtable, format!("bad vtable size {vtable_len}")));
        }
        Ok(Self {
            buf,
            pos,
            vtable,
            vtable_len,
        })
    }

    /// Where the table starts in the buffer.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Where field `id`'s value is stored, if the table has it.
    pub fn field_position(&self, id: usize) -> Result<Option<usize>, FlatbufferError> {
        let entry = 4 + 2 * id;
        if entry + 2 > self.vtable_len {
            return Ok(None);
        }
        match read_u16(self.buf, self.vtable + entry)? {
            0 => Ok(None),
            offset => Ok(Some(self.pos + usize::from(offset))),
        }
    }

    fn scalar<const N: usize>(&self, id: usize) -> Result<Option<[u8; N]>, FlatbufferError> {
        self.field_position(id)?
            .map(|p| array(self.buf, p))
            .transpose()
    }

    /// A `ubyte`/`bool`/`ubyte` enum field, or `default`.
    pub fn u8(&self, id: usize, default: u8) -> Result<u8, FlatbufferError> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0]))
    }

    /// A `byte` field (or a `byte` enum), or `default`.
    pub fn i8(&self, id: usize, default: i8) -> Result<i8, FlatbufferError> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0] as i8))
    }

    /// An `int` field (or an `int` enum), or `default`.
    pub fn i32(&self, id: usize, default: i32) -> Result<i32, FlatbufferError> {
        Ok(self.scalar(id)?.map_or(default, i32::from_le_bytes))
    }

    /// A `uint` field, or `default`.
    pub fn u32(&self, id: usize, default: u32) -> Result<u32, FlatbufferError> {
        Ok(self.scalar(id)?.map_or(default, u32::from_le_bytes))
    }

    /// A `ulong` field, or `default`.
    pub fn u64(&self, id: usize, default: u64) -> Result<u64, FlatbufferError> {
        Ok(self.scalar(id)?.map_or(default, u64::from_le_bytes))
    }

    /// A `float` field, or `default`.
    pub fn f32(&self, id: usize, default: f32) -> Result<f32, FlatbufferError> {
        Ok(self.scalar(id)?.map_or(default, f32::from_le_bytes))
    }

    /// A sub-table field (or a union's value).
    pub fn table(&self, id: usize) -> Result<Option<Table<'a>>, FlatbufferError> {
        match self.field_position(id)? {
            None => Ok(None),
            Some(p) => Table::at(self.buf, follow(self.buf, p)?).map(Some),
        }
    }

    /// A vector field of `elem`-byte elements.
    fn span(&self, id: usize, elem: usize) -> Result<Option<Span>, FlatbufferError> {
        let Some(p) = self.field_position(id)? else {
            return Ok(None);
        };
        let at = follow(self.buf, p)?;
        let len = read_u32(self.buf, at)? as usize;
        let start = at + 4;
        match len
            .checked_mul(elem)
            .and_then(|bytes| start.checked_add(bytes))
        {
            Some(end) if end <= self.buf.len() => Ok(Some(Span { start, len })),
            _ => Err(error(
                at,
                format!("a vector of {len} elements runs past the end"),
            )),
        }
    }

    /// A `[ubyte]` field or a `string` field's bytes.
    pub fn bytes(&self, id: usize) -> Result<Option<&'a [u8]>, FlatbufferError> {
        Ok(self
            .span(id, 1)?
            .map(|s| &self.buf[s.start..s.start + s.len]))
    }

    /// A `string` field (invalid UTF-8 replaced, as names are only for messages and lookups).
    pub fn string(&self, id: usize) -> Result<Option<String>, FlatbufferError> {
        Ok(self
            .bytes(id)?
            .map(|b| String::from_utf8_lossy(b).into_owned()))
    }

    fn vector<T, const N: usize>(
        &self,
        id: usize,
        convert: fn([u8; N]) -> T,
    ) -> Result<Option<Vec<T>>, FlatbufferError> {
        Ok(self.span(id, N)?.map(|s| {
            self.buf[s.start..s.start + s.len * N]
                .chunks_exact(N)
                .map(|c| convert(c.try_into().expect("N bytes")))
                .collect()
        }))
    }

    /// An `[int]` field.
    pub fn i32s(&self, id: usize) -> Result<Option<Vec<i32>>, FlatbufferError> {
        self.vector(id, i32::from_le_bytes)
    }

    /// A `[long]` field.
    pub fn i64s(&self, id: usize) -> Result<Option<Vec<i64>>, FlatbufferError> {
        self.vector(id, i64::from_le_bytes)
    }

    /// A `[float]` field.
    pub fn f32s(&self, id: usize) -> Result<Option<Vec<f32>>, FlatbufferError> {
        self.vector(id, f32::from_le_bytes)
    }

    /// A vector-of-tables field.
    pub fn tables(&self, id: usize) -> Result<Option<Vec<Table<'a>>>, FlatbufferError> {
        let Some(s) = self.span(id, 4)? else {
            return Ok(None);
        };
        (0..s.len)
            .map(|i| Table::at(self.buf, follow(self.buf, s.start + 4 * i)?))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// root → table { 0: i32 = -7, 1: absent, 2: [int] = [1, 2], 3: string "hi" }.
    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(16u32.to_le_bytes()); // 0: root offset → the table at 16
        // 4: vtable: its size 12, the table's size 16, fields 0..4 at table + 4, -, 8, 12.
        for v in [12u16, 16, 4, 0, 8, 12] {
            b.extend(v.to_le_bytes());
        }
        b.extend(12i32.to_le_bytes()); // 16: the table; its vtable at 16 - 12
        b.extend((-7i32).to_le_bytes()); // 20: field 0
        b.extend(8u32.to_le_bytes()); // 24: field 2 → 32
        b.extend(16u32.to_le_bytes()); // 28: field 3 → 44
        b.extend(2u32.to_le_bytes()); // 32: the vector's length, then its elements
        b.extend(1i32.to_le_bytes());
        b.extend(2i32.to_le_bytes());
        b.extend(2u32.to_le_bytes()); // 44: the string's length, then its bytes
        b.extend(b"hi");
        b
    }

    #[test]
    fn reads_fields_and_defaults() {
        let b = sample();
        let t = root(&b).unwrap();
        assert_eq!(t.i32(0, 0).unwrap(), -7);
        assert_eq!(t.i32(1, 5).unwrap(), 5);
        assert_eq!(t.i32s(2).unwrap(), Some(vec![1, 2]));
        assert_eq!(t.string(3).unwrap().as_deref(), Some("hi"));
        // Past the vtable's end: absent.
        assert_eq!(t.u8(9, 3).unwrap(), 3);
        assert!(t.tables(1).unwrap().is_none());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let b = sample();
        for cut in 0..b.len() {
            let all = root(&b[..cut]).and_then(|t| {
                t.i32(0, 0)?;
                t.i32s(2)?;
                t.string(3)
            });
            assert!(all.is_err(), "{cut}");
        }
        // A vector that claims more elements than there are bytes.
        let mut bad = b.clone();
        bad[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(root(&bad).unwrap().i32s(2).is_err());
        // A vtable offset pointing before the buffer.
        let mut bad = b;
        bad[16..20].copy_from_slice(&1000i32.to_le_bytes());
        assert!(root(&bad).is_err());
    }
}
