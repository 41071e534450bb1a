//! TensorFlow's `GraphDef` (a frozen `.pb`, or the graph inside a `.pbmm`): the nodes, their
//! inputs and attributes, and the constant tensors they hold. Only what reading a DeepSpeech
//! graph needs is decoded; everything is borrowed from the file's bytes until asked for.
//!
//! Field numbers are those of TensorFlow's `graph.proto`, `node_def.proto`, `attr_value.proto`,
//! `tensor.proto` and `tensor_shape.proto`.

use std::collections::HashMap;

use super::protobuf::{ProtobufError, Reader};

/// TensorFlow's `DataType` values this reader decodes.
pub mod dtype {
    /// `DT_FLOAT`.
    pub const FLOAT: u64 = 1;
    /// `DT_INT32`.
    pub const INT32: u64 = 3;
    /// `DT_STRING`.
    pub const STRING: u64 = 7;
    /// `DT_HALF`.
    pub const HALF: u64 = 19;
}

/// Why a graph could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphDefError {
    /// The bytes are not a protobuf message.
    #[error("not a TensorFlow GraphDef: {0}")]
    Protobuf(#[from] ProtobufError),
    /// A constant's value cannot be decoded.
    #[error("node `{node}`: {reason}")]
    Tensor {
        /// The node.
        node: String,
        /// What is wrong.
        reason: String,
    },
}

/// One node of the graph.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The node's name.
    pub name: &'a str,
    /// The operation (`Const`, `MatMul`, `BlockLSTM`, …).
    pub op: &'a str,
    /// Input tensor names (`node`, `node:1`, or `^node` for control inputs).
    pub inputs: Vec<&'a str>,
    /// Attributes, each an undecoded `AttrValue`.
    attrs: HashMap<&'a str, &'a [u8]>,
}

/// A decoded attribute value (the `AttrValue` cases DeepSpeech's graphs use).
#[derive(Debug, Clone, PartialEq)]
pub enum Attr<'a> {
    /// `s`: bytes.
    Bytes(&'a [u8]),
    /// `i`: an integer.
    Int(i64),
    /// `f`: a float.
    Float(f32),
    /// `b`: a boolean.
    Bool(bool),
    /// `type`: a `DataType`.
    Type(u64),
    /// `shape`: dimensions (−1 where unknown).
    Shape(Vec<i64>),
    /// `tensor`: an undecoded `TensorProto`.
    Tensor(&'a [u8]),
    /// Anything else (lists, functions, placeholders).
    Other,
}

/// A constant tensor's contents.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorValue {
    /// `DT_FLOAT` or `DT_HALF`, as `f32`.
    Float(Vec<f32>),
    /// `DT_INT32`.
    Int(Vec<i32>),
    /// `DT_STRING`: each element's bytes.
    Strings(Vec<Vec<u8>>),
}

/// A decoded constant: its shape and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Constant {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub value: TensorValue,
}

/// A parsed graph.
#[derive(Debug, Clone)]
pub struct GraphDef<'a> {
    /// The nodes in file order.
    pub nodes: Vec<Node<'a>>,
    by_name: HashMap<&'a str, usize>,
}

const GRAPH: &str = "GraphDef";
const NODE: &str = "NodeDef";
const ATTR: &str = "AttrValue";
const TENSOR: &str = "TensorProto";
const SHAPE: &str = "TensorShapeProto";

impl<'a> GraphDef<'a> {
    /// Parses a serialized `GraphDef`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, GraphDefError> {
        let mut nodes = Vec::new();
        for field in Reader::new(bytes) {
            let field = field?;
            if field.number == 1 {
                nodes.push(parse_node(field.bytes(GRAPH)?)?);
            }
        }
        let by_name = nodes.iter().enumerate().map(|(i, n)| (n.name, i)).collect();
        Ok(Self { nodes, by_name })
    }

    /// The node called `name` (a tensor name `node:1` or control input `^node` names its node).
    pub fn node(&self, name: &str) -> Option<&Node<'a>> {
        let name = name.strip_prefix('^').unwrap_or(name);
        let name = name.split(':').next().unwrap_or(name);
        self.by_name.get(name).map(|&i| &self.nodes[i])
    }

    /// The nodes reading an output of the node `name`.
    pub fn consumers<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Node<'a>> + 's {
        self.nodes.iter().filter(move |n| {
            n.inputs
                .iter()
                .any(|i| !i.starts_with('^') && i.split(':').next() == Some(name))
        })
    }

    /// Follows `Identity` nodes from the tensor `name` to the node that produces its value.
    pub fn source(&self, name: &str) -> Option<&Node<'a>> {
        let mut node = self.node(name)?;
        for _ in 0..self.nodes.len() {
            if node.op != "Identity" {
                return Some(node);
            }
            node = self.node(node.inputs.first()?)?;
        }
        None
    }
}

impl<'a> Node<'a> {
    /// The attribute `key`, decoded.
    pub fn attr(&self, key: &str) -> Result<Option<Attr<'a>>, GraphDefError> {
        self.attrs.get(key).map(|b| parse_attr(b)).transpose()
    }

    /// The tensor of a `Const` node (its `value` attribute), decoded.
    pub fn constant(&self) -> Result<Constant, GraphDefError> {
        match self.attr("value")? {
            Some(Attr::Tensor(bytes)) => {
                parse_tensor(bytes).map_err(|reason| GraphDefError::Tensor {
                    node: self.name.to_owned(),
                    reason,
                })
            }
            _ => Err(GraphDefError::Tensor {
                node: self.name.to_owned(),
                reason: format!("a {} node has no tensor value", self.op),
            }),
        }
    }
}

fn parse_node(bytes: &[u8]) -> Result<Node<'_>, GraphDefError> {
    let mut node = Node {
        name: "",
        op: "",
        inputs: Vec::new(),
        attrs: HashMap::new(),
    };
    for field in Reader::new(bytes) {
        let field = field?;
        match field.number {
            1 => node.name = field.string(NODE)?,
            2 => node.op = field.string(NODE)?,
            3 => node.inputs.push(field.string(NODE)?),
            5 => {
                // map<string, AttrValue> entry: key = 1, value = 2.
                let (mut key, mut value) = ("", &[][..]);
                for entry in Reader::new(field.bytes(NODE)?) {
                    let entry = entry?;
                    match entry.number {
                        1 => key = entry.string(NODE)?,
                        2 => value = entry.bytes(NODE)?,
                        _ => {}
                    }
                }
                node.attrs.insert(key, value);
            }
            _ => {}
        }
    }
    Ok(node)
}

fn parse_attr(bytes: &[u8]) -> Result<Attr<'_>, GraphDefError> {
    let mut attr = Attr::Other;
    for field in Reader::new(bytes) {
        let field = field?;
        attr = match field.number {
            2 => Attr::Bytes(field.bytes(ATTR)?),
            3 => Attr::Int(field.varint(ATTR)? as i64),
            4 => match field.value {
                super::protobuf::Value::Fixed32(bits) => Attr::Float(f32::from_bits(bits)),
                _ => {
                    return Err(ProtobufError::UnexpectedType {
                        field: 4,
                        message: ATTR,
                    }
                    .into());
                }
            },
            5 => Attr::Bool(field.varint(ATTR)? != 0),
            6 => Attr::Type(field.varint(ATTR)?),
            7 => Attr::Shape(parse_shape(field.bytes(ATTR)?)?),
            8 => Attr::Tensor(field.bytes(ATTR)?),
            _ => Attr::Other,
        };
    }
    Ok(attr)
}

/// Parses a `TensorShapeProto` into dimensions (−1 for unknown).
pub fn parse_shape(bytes: &[u8]) -> Result<Vec<i64>, ProtobufError> {
    let mut dims = Vec::new();
    for field in Reader::new(bytes) {
        let field = field?;
        if field.number == 2 {
            let mut size = 0;
            for dim in Reader::new(field.bytes(SHAPE)?) {
                let dim = dim?;
                if dim.number == 1 {
                    size = dim.varint(SHAPE)? as i64;
                }
            }
            dims.push(size);
        }
    }
    Ok(dims)
}

/// Decodes a `TensorProto` of a type [`dtype`] lists. Values given once for a larger shape are
/// repeated, as TensorFlow does.
pub fn parse_tensor(bytes: &[u8]) -> Result<Constant, String> {
    let mut dt = 0;
    let mut dims = Vec::new();
    let mut content: &[u8] = &[];
    let mut floats = Vec::new();
    let mut ints = Vec::new();
    let mut halves = Vec::new();
    let mut strings = Vec::new();
    for field in Reader::new(bytes) {
        let field = field.map_err(|e| e.to_string())?;
        let err = |e: ProtobufError| e.to_string();
        match field.number {
            1 => dt = field.varint(TENSOR).map_err(err)?,
            2 => dims = parse_shape(field.bytes(TENSOR).map_err(err)?).map_err(err)?,
            4 => content = field.bytes(TENSOR).map_err(err)?,
            5 => floats.extend(
                field
                    .packed_fixed32(TENSOR)
                    .map_err(err)?
                    .into_iter()
                    .map(f32::from_bits),
            ),
            7 => ints.extend(
                field
                    .packed_varints(TENSOR)
                    .map_err(err)?
                    .into_iter()
                    .map(|v| v as i32),
            ),
            8 => strings.push(field.bytes(TENSOR).map_err(err)?.to_vec()),
            13 => halves.extend(field.packed_varints(TENSOR).map_err(err)?),
            _ => {}
        }
    }
    if dims.iter().any(|&d| d < 0) {
        return Err(format!("constant with unknown dimensions {dims:?}"));
    }
    let shape: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    let count = element_count(&shape)
        .ok_or_else(|| format!("constant of shape {shape:?} has too many elements"))?;
    // Values given once may fill a shape (TensorFlow's zeros and fills), but a file may not make
    // us allocate far more than it holds.
    let stored = content.len() + 4 * (floats.len() + ints.len() + halves.len()) + strings.len();
    if count > MAX_BROADCAST && count > stored {
        return Err(format!(
            "constant of shape {shape:?} ({count} elements) from {stored} bytes of values"
        ));
    }
    let value = match dt {
        dtype::FLOAT if !content.is_empty() => TensorValue::Float(le_words(content, count, |b| {
            f32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })?),
        dtype::FLOAT => TensorValue::Float(broadcast(floats, count)?),
        dtype::HALF if !content.is_empty() => TensorValue::Float(le_words(content, count, |b| {
            half_to_f32(u16::from_le_bytes([b[0], b[1]]))
        })?),
        dtype::HALF => TensorValue::Float(
            broadcast(halves, count)?
                .into_iter()
                .map(|h| half_to_f32(h as u16))
                .collect(),
        ),
        dtype::INT32 if !content.is_empty() => TensorValue::Int(le_words(content, count, |b| {
            i32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })?),
        dtype::INT32 => TensorValue::Int(broadcast(ints, count)?),
        dtype::STRING => TensorValue::Strings(broadcast(strings, count)?),
        other => return Err(format!("unsupported tensor type {other}")),
    };
    Ok(Constant { shape, value })
}

/// The most elements a constant may fill from fewer stored values (DeepSpeech's largest fill is
/// one LSTM-width vector).
const MAX_BROADCAST: usize = 1 << 24;

/// The number of elements of `shape`, `None` on overflow.
pub fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// Reads `count` little-endian words of `size_of::<T>()` bytes.
fn le_words<T>(bytes: &[u8], count: usize, f: impl Fn(&[u8]) -> T) -> Result<Vec<T>, String> {
    let size = std::mem::size_of::<T>();
    if count.checked_mul(size) != Some(bytes.len()) {
        return Err(format!(
            "{} bytes of data for {count} values of {size} bytes",
            bytes.len()
        ));
    }
    Ok(bytes.chunks_exact(size).map(f).collect())
}

/// TensorFlow's repeated-field rule: one value fills the shape; fewer than the shape repeats
/// the last; none is zeros (empty for strings).
fn broadcast<T: Clone + Default>(mut values: Vec<T>, count: usize) -> Result<Vec<T>, String> {
    if values.len() > count {
        return Err(format!("{} values for {count} elements", values.len()));
    }
    let last = values.last().cloned().unwrap_or_default();
    values.resize(count, last);
    Ok(values)
}

pub use super::numeric::f16_to_f32 as half_to_f32;

#[cfg(test)]
mod tests {
    use super::super::protobuf::Writer;
    use super::*;

    fn tensor(dtype: u64, dims: &[u64], fill: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut shape = Writer::new();
        for &d in dims {
            let mut dim = Writer::new();
            dim.varint(1, d);
            shape.bytes(2, &dim.into_bytes());
        }
        let mut t = Writer::new();
        t.varint(1, dtype).bytes(2, &shape.into_bytes());
        fill(&mut t);
        t.into_bytes()
    }

    #[test]
    fn tensors_decode_from_content_and_from_repeated_values() {
        let content: Vec<u8> = [1.0f32, -2.5, 3.0, 4.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let t = parse_tensor(&tensor(dtype::FLOAT, &[2, 2], |w| {
            w.bytes(4, &content);
        }))
        .unwrap();
        assert_eq!(t.shape, vec![2, 2]);
        assert_eq!(t.value, TensorValue::Float(vec![1.0, -2.5, 3.0, 4.0]));
        // One float_val fills the shape (TensorFlow's zeros/ones constants).
        let t = parse_tensor(&tensor(dtype::FLOAT, &[3], |w| {
            w.fixed32(5, 0.5f32.to_bits());
        }))
        .unwrap();
        assert_eq!(t.value, TensorValue::Float(vec![0.5; 3]));
        let t = parse_tensor(&tensor(dtype::STRING, &[1], |w| {
            w.bytes(8, b"en");
        }))
        .unwrap();
        assert_eq!(t.value, TensorValue::Strings(vec![b"en".to_vec()]));
        // Content that does not fill the shape is an error.
        assert!(
            parse_tensor(&tensor(dtype::FLOAT, &[5], |w| {
                w.bytes(4, &content);
            }))
            .is_err()
        );
    }
}
