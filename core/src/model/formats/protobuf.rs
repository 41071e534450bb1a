//! The protocol-buffers wire format, read and written by hand: TensorFlow's `GraphDef`, the
//! memory-mapped package's directory and a checkpoint's index entries are all protobuf messages,
//! and we need a handful of their fields, not a code generator.
//!
//! A [`Reader`] walks a message's fields in order and hands each one out as a [`Field`]; a
//! [`Writer`] appends fields to a buffer. Both check every length against the bytes there are:
//! a truncated or foreign file is an error, never a panic.

/// Why a protobuf message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    /// The bytes end in the middle of a field.
    #[error("the message ends in the middle of a field (at byte {0})")]
    Truncated(usize),
    /// A varint runs longer than 10 bytes.
    #[error("a variable-length integer runs past 10 bytes (at byte {0})")]
    VarintTooLong(usize),
    /// A field has a wire type protobuf does not define (or the deprecated groups).
    #[error("unknown wire type {wire_type} for field {field} (at byte {at})")]
    WireType {
        /// The field number.
        field: u64,
        /// The wire type found.
        wire_type: u8,
        /// Where the field starts.
        at: usize,
    },
    /// A field had another wire type than the schema gives it.
    #[error("field {field} of {message} has the wrong wire type")]
    UnexpectedType {
        /// The field number.
        field: u64,
        /// The message being read.
        message: &'static str,
    },
    /// A string field is not UTF-8.
    #[error("field {field} of {message} is not UTF-8")]
    NotUtf8 {
        /// The field number.
        field: u64,
        /// The message being read.
        message: &'static str,
    },
}

/// One field's value, as the wire gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// Wire type 0: int32/64, uint32/64, sint, bool, enum.
    Varint(u64),
    /// Wire type 1: fixed64, sfixed64, double.
    Fixed64(u64),
    /// Wire type 2: bytes, strings, sub-messages, packed repeated scalars.
    Bytes(&'a [u8]),
    /// Wire type 5: fixed32, sfixed32, float.
    Fixed32(u32),
}

/// A field: its number and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field number from the schema.
    pub number: u64,
    /// The value.
    pub value: Value<'a>,
}

impl<'a> Field<'a> {
    /// The value as a varint, or an error naming `message`.
    pub fn varint(&self, message: &'static str) -> Result<u64, ProtobufError> {
        match self.value {
            Value::Varint(v) => Ok(v),
            _ => Err(self.unexpected(message)),
        }
    }

    /// The value as length-delimited bytes, or an error naming `message`.
    pub fn bytes(&self, message: &'static str) -> Result<&'a [u8], ProtobufError> {
        match self.value {
            Value::Bytes(b) => Ok(b),
            _ => Err(self.unexpected(message)),
        }
    }

    /// The value as a UTF-8 string, or an error naming `message`.
    pub fn string(&self, message: &'static str) -> Result<&'a str, ProtobufError> {
        std::str::from_utf8(self.bytes(message)?).map_err(|_| ProtobufError::NotUtf8 {
            field: self.number,
            message,
        })
    }

    /// A repeated varint field, packed (bytes) or not (one varint).
    pub fn packed_varints(&self, message: &'static str) -> Result<Vec<u64>, ProtobufError> {
        match self.value {
            Value::Varint(v) => Ok(vec![v]),
            Value::Bytes(b) => {
                let mut reader = Reader::new(b);
                let mut out = Vec::new();
                while !reader.is_empty() {
                    out.push(reader.varint()?);
                }
                Ok(out)
            }
            _ => Err(self.unexpected(message)),
        }
    }

    /// A repeated 32-bit field (float, fixed32), packed or not, as raw bits.
    pub fn packed_fixed32(&self, message: &'static str) -> Result<Vec<u32>, ProtobufError> {
        match self.value {
            Value::Fixed32(v) => Ok(vec![v]),
            Value::Bytes(b) if b.len() % 4 == 0 => Ok(b
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()),
            _ => Err(self.unexpected(message)),
        }
    }

    fn unexpected(&self, message: &'static str) -> ProtobufError {
        ProtobufError::UnexpectedType {
            field: self.number,
            message,
        }
    }
}

/// Walks the fields of one message.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over one message's bytes.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Reads a base-128 varint.
    pub fn varint(&mut self) -> Result<u64, ProtobufError> {
        let start = self.pos;
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let &byte = self
                .bytes
                .get(self.pos)
                .ok_or(ProtobufError::Truncated(start))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtobufError::VarintTooLong(start))
    }

    fn take(&mut self, n: usize, start: usize) -> Result<&'a [u8], ProtobufError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(ProtobufError::Truncated(start))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// The next field, or `None` at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<Field<'a>>, ProtobufError> {
        if self.is_empty() {
            return Ok(None);
        }
        let start = self.pos;
        let key = self.varint()?;
        let number = key >> 3;
        let value = match (key & 7) as u8 {
            0 => Value::Varint(self.varint()?),
            1 => {
                let b = self.take(8, start)?;
                Value::Fixed64(u64::from_le_bytes(b.try_into().expect("8 bytes")))
            }
            2 => {
                let len = self.varint()?;
                let len = usize::try_from(len).map_err(|_| ProtobufError::Truncated(start))?;
                Value::Bytes(self.take(len, start)?)
            }
            5 => {
                let b = self.take(4, start)?;
                Value::Fixed32(u32::from_le_bytes(b.try_into().expect("4 bytes")))
            }
            wire_type => {
                return Err(ProtobufError::WireType {
                    field: number,
                    wire_type,
                    at: start,
                });
            }
        };
        Ok(Some(Field { number, value }))
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Field<'a>, ProtobufError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_field() {
            Ok(Some(f)) => Some(Ok(f)),
            Ok(None) => None,
            Err(e) => {
                // Stop after the first error: the position is no longer trustworthy.
                self.pos = self.bytes.len();
                Some(Err(e))
            }
        }
    }
}

/// Appends protobuf fields to a buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// The message's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Appends a raw varint (no key).
    pub fn raw_varint(&mut self, mut v: u64) -> &mut Self {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
        self
    }

    fn key(&mut self, number: u64, wire_type: u8) -> &mut Self {
        self.raw_varint((number << 3) | u64::from(wire_type))
    }

    /// A varint field (ints, enums, bools).
    pub fn varint(&mut self, number: u64, v: u64) -> &mut Self {
        self.key(number, 0).raw_varint(v)
    }

    /// A length-delimited field (bytes, strings, sub-messages).
    pub fn bytes(&mut self, number: u64, b: &[u8]) -> &mut Self {
        self.key(number, 2).raw_varint(b.len() as u64);
        self.buf.extend_from_slice(b);
        self
    }

    /// A fixed32 field (float bits, fixed32).
    pub fn fixed32(&mut self, number: u64, v: u32) -> &mut Self {
        self.key(number, 5);
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A fixed64 field.
    pub fn fixed64(&mut self, number: u64, v: u64) -> &mut Self {
        self.key(number, 1);
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A packed repeated varint field.
    pub fn packed_varints(&mut self, number: u64, values: &[u64]) -> &mut Self {
        let mut inner = Writer::new();
        for &v in values {
            inner.raw_varint(v);
        }
        self.bytes(number, &inner.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_written_are_read_back() {
        let mut w = Writer::new();
        w.varint(1, 300)
            .bytes(2, b"layer_1/weights")
            .fixed32(3, 1.5f32.to_bits())
            .fixed64(4, u64::MAX)
            .packed_varints(5, &[1, 2, 2048]);
        let bytes = w.into_bytes();
        let fields: Vec<Field> = Reader::new(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(fields.len(), 5);
        assert_eq!(fields[0].varint("t").unwrap(), 300);
        assert_eq!(fields[1].string("t").unwrap(), "layer_1/weights");
        assert_eq!(
            fields[2].packed_fixed32("t").unwrap(),
            vec![1.5f32.to_bits()]
        );
        assert_eq!(fields[3].value, Value::Fixed64(u64::MAX));
        assert_eq!(fields[4].packed_varints("t").unwrap(), vec![1, 2, 2048]);
        assert!(fields[0].bytes("t").is_err());
    }

    #[test]
    fn truncated_and_foreign_bytes_are_errors() {
        let mut w = Writer::new();
        w.bytes(2, b"hello world");
        let bytes = w.into_bytes();
        for cut in 1..bytes.len() {
            let r: Result<Vec<Field>, _> = Reader::new(&bytes[..cut]).collect();
            assert!(r.is_err(), "cut at {cut} was accepted");
        }
        // Wire type 7 does not exist; a run of continuation bytes is not a varint.
        assert!(matches!(
            Reader::new(&[0x0f]).next_field(),
            Err(ProtobufError::WireType { wire_type: 7, .. })
        ));
        assert!(matches!(
            Reader::new(&[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ])
            .next_field(),
            Err(ProtobufError::VarintTooLong(1))
        ));
        // A length far past the end.
        assert!(
            Reader::new(&[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f])
                .next_field()
                .is_err()
        );
    }
}
