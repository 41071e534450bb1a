//! The part of TensorFlow Lite's schema (`tensorflow/lite/schema/schema.fbs`) a DeepSpeech model
//! needs, read from the flatbuffer into plain structs: the operator codes, the main subgraph's
//! tensors and operators, and the buffers; and the decoding of a constant tensor's bytes to
//! `f32` (float32, float16, and int8/uint8 with per-tensor or per-channel scales).
//!
//! Field numbers (the order of the fields in `schema.fbs`):
//! - `Model`: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers.
//! - `OperatorCode`: 0 deprecated_builtin_code (byte), 1 custom_code, 2 version,
//!   3 builtin_code (int, schema 3a and later); the code is the larger of the two.
//! - `SubGraph`: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name.
//! - `Tensor`: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization, 5 is_variable, 6 sparsity.
//! - `QuantizationParameters`: 0 min, 1 max, 2 scale, 3 zero_point, 4/5 details,
//!   6 quantized_dimension.
//! - `Operator`: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options.
//! - `Buffer`: 0 data, 1 offset, 2 size (offset and size: data outside the flatbuffer, from the
//!   start of the file, for models over 2 GB).

use super::flatbuffer::{self, FlatbufferError, Table};

/// `BuiltinOperator` codes this reader names.
pub mod op {
    pub const ADD: i32 = 0;
    pub const CONCATENATION: i32 = 2;
    pub const DEQUANTIZE: i32 = 6;
    pub const FULLY_CONNECTED: i32 = 9;
    pub const LOGISTIC: i32 = 14;
    pub const LSTM: i32 = 16;
    pub const MUL: i32 = 18;
    pub const RELU: i32 = 19;
    pub const RESHAPE: i32 = 22;
    pub const SOFTMAX: i32 = 25;
    pub const TANH: i32 = 28;
    pub const CUSTOM: i32 = 32;
    pub const SQUEEZE: i32 = 43;
    pub const UNIDIRECTIONAL_SEQUENCE_LSTM: i32 = 44;
    pub const STRIDED_SLICE: i32 = 45;
    pub const BIDIRECTIONAL_SEQUENCE_RNN: i32 = 46;
    pub const SPLIT: i32 = 49;
    pub const BIDIRECTIONAL_SEQUENCE_LSTM: i32 = 52;
    pub const MINIMUM: i32 = 57;
    pub const EXPAND_DIMS: i32 = 70;
    pub const PACK: i32 = 83;
    pub const UNPACK: i32 = 88;
}

/// The `BuiltinOperator` name of `code`, for messages.
pub fn op_name(code: i32) -> String {
    const NAMES: &[&str] = &[
        "ADD",
        "AVERAGE_POOL_2D",
        "CONCATENATION",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "DEPTH_TO_SPACE",
        "DEQUANTIZE",
        "EMBEDDING_LOOKUP",
        "FLOOR",
        "FULLY_CONNECTED",
        "HASHTABLE_LOOKUP",
        "L2_NORMALIZATION",
        "L2_POOL_2D",
        "LOCAL_RESPONSE_NORMALIZATION",
        "LOGISTIC",
        "LSH_PROJECTION",
        "LSTM",
        "MAX_POOL_2D",
        "MUL",
        "RELU",
        "RELU_N1_TO_1",
        "RELU6",
        "RESHAPE",
        "RESIZE_BILINEAR",
        "RNN",
        "SOFTMAX",
        "SPACE_TO_DEPTH",
        "SVDF",
        "TANH",
        "CONCAT_EMBEDDINGS",
        "SKIP_GRAM",
        "CALL",
        "CUSTOM",
        "EMBEDDING_LOOKUP_SPARSE",
        "PAD",
        "UNIDIRECTIONAL_SEQUENCE_RNN",
        "GATHER",
        "BATCH_TO_SPACE_ND",
        "SPACE_TO_BATCH_ND",
        "TRANSPOSE",
        "MEAN",
        "SUB",
        "DIV",
        "SQUEEZE",
        "UNIDIRECTIONAL_SEQUENCE_LSTM",
        "STRIDED_SLICE",
        "BIDIRECTIONAL_SEQUENCE_RNN",
        "EXP",
        "TOPK_V2",
        "SPLIT",
        "LOG_SOFTMAX",
        "DELEGATE",
        "BIDIRECTIONAL_SEQUENCE_LSTM",
        "CAST",
        "PRELU",
        "MAXIMUM",
        "ARG_MAX",
        "MINIMUM",
        "LESS",
        "NEG",
        "PADV2",
        "GREATER",
        "GREATER_EQUAL",
        "LESS_EQUAL",
        "SELECT",
        "SLICE",
        "SIN",
        "TRANSPOSE_CONV",
        "SPARSE_TO_DENSE",
        "TILE",
        "EXPAND_DIMS",
        "EQUAL",
        "NOT_EQUAL",
        "LOG",
        "SUM",
        "SQRT",
        "RSQRT",
        "SHAPE",
        "POW",
        "ARG_MIN",
        "FAKE_QUANT",
        "REDUCE_PROD",
        "REDUCE_MAX",
        "PACK",
        "LOGICAL_OR",
        "ONE_HOT",
        "LOGICAL_AND",
        "LOGICAL_NOT",
        "UNPACK",
        "REDUCE_MIN",
        "FLOOR_DIV",
        "REDUCE_ANY",
        "SQUARE",
        "ZEROS_LIKE",
        "FILL",
        "FLOOR_MOD",
        "RANGE",
        "RESIZE_NEAREST_NEIGHBOR",
        "LEAKY_RELU",
        "SQUARED_DIFFERENCE",
        "MIRROR_PAD",
        "ABS",
        "SPLIT_V",
        "UNIQUE",
        "CEIL",
        "REVERSE_V2",
        "ADD_N",
        "GATHER_ND",
        "COS",
        "WHERE",
        "RANK",
        "ELU",
        "REVERSE_SEQUENCE",
        "MATRIX_DIAG",
        "QUANTIZE",
        "MATRIX_SET_DIAG",
        "ROUND",
        "HARD_SWISH",
        "IF",
        "WHILE",
        "NON_MAX_SUPPRESSION_V4",
        "NON_MAX_SUPPRESSION_V5",
        "SCATTER_ND",
        "SELECT_V2",
        "DENSIFY",
        "SEGMENT_SUM",
        "BATCH_MATMUL",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|c| NAMES.get(c))
        .map_or_else(|| format!("builtin operator {code}"), |n| (*n).to_owned())
}

/// `TensorType` codes.
pub mod dtype {
    pub const FLOAT32: i8 = 0;
    pub const FLOAT16: i8 = 1;
    pub const INT32: i8 = 2;
    pub const UINT8: i8 = 3;
    pub const STRING: i8 = 5;
    pub const INT8: i8 = 9;
}

/// The `TensorType` name of `code`, for messages.
pub fn dtype_name(code: i8) -> String {
    const NAMES: &[&str] = &[
        "float32",
        "float16",
        "int32",
        "uint8",
        "int64",
        "string",
        "bool",
        "int16",
        "complex64",
        "int8",
        "float64",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|c| NAMES.get(c))
        .map_or_else(|| format!("tensor type {code}"), |n| (*n).to_owned())
}

/// An operator code: a builtin operator, or a custom one by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpCode {
    /// The `BuiltinOperator`.
    pub builtin: i32,
    /// The custom operator's name, for `CUSTOM`.
    pub custom: Option<String>,
}

impl OpCode {
    /// The operator's name, for messages.
    pub fn name(&self) -> String {
        match &self.custom {
            Some(c) if self.builtin == op::CUSTOM => format!("custom op {c}"),
            _ => op_name(self.builtin),
        }
    }
}

/// A tensor's quantisation: `real = scale · (q − zero_point)`, one scale per tensor or one per
/// slice along `dimension`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Quantisation {
    /// The scales.
    pub scale: Vec<f32>,
    /// The zero points (as many as the scales, or none for 0).
    pub zero_point: Vec<i64>,
    /// The axis of a per-channel quantisation.
    pub dimension: usize,
}

/// A tensor's description.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Its name.
    pub name: String,
    /// Its shape (dimensions may be -1 for unknown ones).
    pub shape: Vec<i32>,
    /// Its `TensorType`.
    pub dtype: i8,
    /// The index of its buffer (0: the empty buffer).
    pub buffer: usize,
    /// Its quantisation, if it has scales.
    pub quantisation: Option<Quantisation>,
    /// Whether it is stored sparse (not supported for weights).
    pub sparse: bool,
}

impl Tensor {
    /// The number of elements, when every dimension is known.
    pub fn elements(&self) -> Option<usize> {
        self.shape.iter().try_fold(1usize, |n, &d| {
            usize::try_from(d).ok().and_then(|d| n.checked_mul(d))
        })
    }

    /// The shape and type, for messages: `float32[16, 64]`.
    pub fn describe(&self) -> String {
        format!("`{}` {}{:?}", self.name, dtype_name(self.dtype), self.shape)
    }
}

/// An operator in the graph.
#[derive(Debug, Clone)]
pub struct Operator<'a> {
    /// The index into [`Model::opcodes`].
    pub opcode: usize,
    /// Input tensors (-1: an omitted optional input).
    pub inputs: Vec<i32>,
    /// Output tensors.
    pub outputs: Vec<i32>,
    /// The builtin options table, if any.
    pub options: Option<Table<'a>>,
}

/// A `.tflite` file's main subgraph and everything it refers to.
#[derive(Debug, Clone)]
pub struct Model<'a> {
    /// The schema version.
    pub version: u32,
    /// The operator codes that operators index.
    pub opcodes: Vec<OpCode>,
    /// The main subgraph's tensors.
    pub tensors: Vec<Tensor>,
    /// The main subgraph's inputs.
    pub inputs: Vec<i32>,
    /// The main subgraph's outputs.
    pub outputs: Vec<i32>,
    /// The main subgraph's operators, in execution order.
    pub operators: Vec<Operator<'a>>,
    /// The buffers' bytes.
    pub buffers: Vec<&'a [u8]>,
}

fn required<T>(value: Option<T>, what: &str, table: &Table) -> Result<T, FlatbufferError> {
    value.ok_or_else(|| FlatbufferError {
        at: table.position(),
        what: format!("no {what}"),
    })
}

fn index(value: i64, what: &str, table: &Table) -> Result<usize, FlatbufferError> {
    usize::try_from(value).map_err(|_| FlatbufferError {
        at: table.position(),
        what: format!("{what} {value} is negative"),
    })
}

fn tensor(t: &Table) -> Result<Tensor, FlatbufferError> {
    let quantisation = match t.table(4)? {
        None => None,
        Some(q) => {
            let scale = q.f32s(2)?.unwrap_or_default();
            let zero_point = q.i64s(3)?.unwrap_or_default();
            let dimension = index(i64::from(q.i32(6, 0)?), "quantized_dimension", &q)?;
            (!scale.is_empty()).then_some(Quantisation {
                scale,
                zero_point,
                dimension,
            })
        }
    };
    Ok(Tensor {
        name: t.string(3)?.unwrap_or_default(),
        shape: t.i32s(0)?.unwrap_or_default(),
        dtype: t.i8(1, dtype::FLOAT32)?,
        buffer: t.u32(2, 0)? as usize,
        quantisation,
        sparse: t.table(6)?.is_some(),
    })
}

fn operator<'a>(t: &Table<'a>) -> Result<Operator<'a>, FlatbufferError> {
    Ok(Operator {
        opcode: t.u32(0, 0)? as usize,
        inputs: t.i32s(1)?.unwrap_or_default(),
        outputs: t.i32s(2)?.unwrap_or_default(),
        options: t.table(4)?,
    })
}

fn buffer<'a>(bytes: &'a [u8], t: &Table<'a>) -> Result<&'a [u8], FlatbufferError> {
    if let Some(data) = t.bytes(0)? {
        return Ok(data);
    }
    let (offset, size) = (t.u64(1, 0)?, t.u64(2, 0)?);
    if offset <= 1 || size == 0 {
        // 0 (and the converter's placeholder 1): no data outside the flatbuffer.
        return Ok(&[]);
    }
    usize::try_from(offset)
        .ok()
        .zip(usize::try_from(size).ok())
        .and_then(|(o, s)| bytes.get(o..o.checked_add(s)?))
        .ok_or_else(|| FlatbufferError {
            at: t.position(),
            what: format!("buffer data at {offset} + {size} lies past the end of the file"),
        })
}

/// Reads the model's operator codes, its first (main) subgraph and its buffers.
pub fn parse(bytes: &[u8]) -> Result<Model<'_>, FlatbufferError> {
    let root = flatbuffer::root(bytes)?;
    let opcodes = root
        .tables(1)?
        .unwrap_or_default()
        .iter()
        .map(|c| {
            Ok(OpCode {
                builtin: i32::from(c.i8(0, 0)?).max(c.i32(3, 0)?),
                custom: c.string(1)?,
            })
        })
        .collect::<Result<Vec<_>, FlatbufferError>>()?;
    let subgraphs = required(root.tables(2)?, "subgraphs", &root)?;
    let main = *required(subgraphs.first(), "subgraph", &root)?;
    let tensors = main
        .tables(0)?
        .unwrap_or_default()
        .iter()
        .map(tensor)
        .collect::<Result<Vec<_>, _>>()?;
    let operators = main
        .tables(3)?
        .unwrap_or_default()
        .iter()
        .map(operator)
        .collect::<Result<Vec<_>, _>>()?;
    let buffers = root
        .tables(4)?
        .unwrap_or_default()
        .iter()
        .map(|b| buffer(bytes, b))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Model {
        version: root.u32(0, 0)?,
        opcodes,
        tensors,
        inputs: main.i32s(1)?.unwrap_or_default(),
        outputs: main.i32s(2)?.unwrap_or_default(),
        operators,
        buffers,
    })
}

use crate::model::formats::numeric;
pub use crate::model::formats::numeric::f16_to_f32;

/// How a constant was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// float32.
    Float32,
    /// float16.
    Float16,
    /// int8 with one scale.
    Int8PerTensor,
    /// int8 with one scale per channel.
    Int8PerChannel,
    /// uint8 with one scale (or one per channel).
    Uint8,
}

/// How a tensor's values are stored, from its type and quantisation alone (no data read).
pub fn storage(tensor: &Tensor) -> Result<Storage, String> {
    match tensor.dtype {
        dtype::FLOAT32 => Ok(Storage::Float32),
        dtype::FLOAT16 => Ok(Storage::Float16),
        dtype::INT8 | dtype::UINT8 => {
            let q = tensor
                .quantisation
                .as_ref()
                .ok_or("it is an integer tensor without quantisation scales")?;
            Ok(match (tensor.dtype == dtype::INT8, q.scale.len()) {
                (false, _) => Storage::Uint8,
                (true, 1) => Storage::Int8PerTensor,
                (true, _) => Storage::Int8PerChannel,
            })
        }
        other => Err(format!("its type is {}", dtype_name(other))),
    }
}

/// Decodes a constant tensor's `data` to `f32`, dequantising int8/uint8 (`scale · (q − zero
/// point)`, per channel along the quantised dimension when there are several scales). `Err`
/// says why it cannot be decoded.
pub fn decode(tensor: &Tensor, data: &[u8]) -> Result<(Vec<f32>, Storage), String> {
    if tensor.sparse {
        return Err("it is stored sparse".into());
    }
    let n = tensor
        .elements()
        .ok_or_else(|| format!("its shape {:?} is not fully known", tensor.shape))?;
    let width = match tensor.dtype {
        dtype::FLOAT32 => 4,
        dtype::FLOAT16 => 2,
        dtype::INT8 | dtype::UINT8 => 1,
        other => return Err(format!("its type is {}", dtype_name(other))),
    };
    if n.checked_mul(width) != Some(data.len()) {
        return Err(format!(
            "it has {} bytes of data for {n} {} values",
            data.len(),
            dtype_name(tensor.dtype)
        ));
    }
    match tensor.dtype {
        dtype::FLOAT32 => Ok((numeric::le_f32s(data), Storage::Float32)),
        dtype::FLOAT16 => Ok((numeric::le_f16s(data), Storage::Float16)),
        _ => dequantise(tensor, data),
    }
}

fn dequantise(tensor: &Tensor, data: &[u8]) -> Result<(Vec<f32>, Storage), String> {
    let q = tensor
        .quantisation
        .as_ref()
        .ok_or("it is an integer tensor without quantisation scales")?;
    let signed = tensor.dtype == dtype::INT8;
    let channels = q.scale.len();
    // Elements per step of the quantised dimension (the product of the dimensions after it),
    // and that dimension's size.
    let (inner, size) = if channels == 1 {
        (data.len().max(1), 1)
    } else {
        let dim = *tensor.shape.get(q.dimension).ok_or_else(|| {
            format!(
                "its quantised dimension {} is past its shape {:?}",
                q.dimension, tensor.shape
            )
        })?;
        let inner = tensor.shape[q.dimension + 1..]
            .iter()
            .map(|&d| d as usize)
            .product::<usize>();
        (inner.max(1), dim as usize)
    };
    if size != channels {
        return Err(format!(
            "it has {channels} scales for {size} channels along dimension {}",
            q.dimension
        ));
    }
    if !(q.zero_point.is_empty() || q.zero_point.len() == channels || q.zero_point.len() == 1) {
        return Err(format!(
            "it has {} zero points for {channels} scales",
            q.zero_point.len()
        ));
    }
    let zero = |c: usize| {
        q.zero_point
            .get(c)
            .or_else(|| q.zero_point.first())
            .copied()
            .unwrap_or(0)
    };
    let values = data
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let c = (i / inner) % channels;
            let v = if signed {
                i64::from(b as i8)
            } else {
                i64::from(b)
            };
            q.scale[c] * (v - zero(c)) as f32
        })
        .collect();
    Ok((values, storage(tensor)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int8(shape: Vec<i32>, scale: Vec<f32>, zero_point: Vec<i64>, dimension: usize) -> Tensor {
        Tensor {
            name: "w".into(),
            shape,
            dtype: dtype::INT8,
            buffer: 1,
            quantisation: Some(Quantisation {
                scale,
                zero_point,
                dimension,
            }),
            sparse: false,
        }
    }

    #[test]
    fn halves_decode_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), f32::powi(2.0, -24));
        assert_eq!(f16_to_f32(0x8001), -f32::powi(2.0, -24));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * f32::powi(2.0, -24));
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn int8_dequantises_per_tensor_and_per_channel() {
        let data: Vec<u8> = [1i8, -2, 3, 127, -128, 0]
            .iter()
            .map(|&v| v as u8)
            .collect();
        let t = int8(vec![2, 3], vec![0.5], vec![0], 0);
        let (v, s) = decode(&t, &data).unwrap();
        assert_eq!(v, vec![0.5, -1.0, 1.5, 63.5, -64.0, 0.0]);
        assert_eq!(s, Storage::Int8PerTensor);
        // Per channel along dimension 0 (rows), with zero points.
        let t = int8(vec![2, 3], vec![1.0, 0.25], vec![1, -4], 0);
        let (v, s) = decode(&t, &data).unwrap();
        assert_eq!(v, vec![0.0, -3.0, 2.0, 32.75, -31.0, 1.0]);
        assert_eq!(s, Storage::Int8PerChannel);
        // Per channel along dimension 1 (columns).
        let t = int8(vec![2, 3], vec![1.0, 2.0, 3.0], vec![], 1);
        let (v, _) = decode(&t, &data).unwrap();
        assert_eq!(v, vec![1.0, -4.0, 9.0, 127.0, -256.0, 0.0]);
        // Mismatches are errors.
        assert!(decode(&int8(vec![2, 3], vec![1.0, 2.0], vec![], 1), &data).is_err());
        assert!(decode(&int8(vec![2, 3], vec![1.0], vec![], 0), &data[..5]).is_err());
        assert!(decode(&int8(vec![2, 3], vec![1.0, 2.0], vec![], 5), &data).is_err());
        assert!(decode(&int8(vec![2, -1], vec![1.0], vec![], 0), &data).is_err());
        let mut t = int8(vec![6], vec![1.0], vec![], 0);
        t.quantisation = None;
        assert!(decode(&t, &data).is_err());
    }
}
