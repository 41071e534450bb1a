//! DeepSpeech's exported TensorFlow graphs: the frozen `.pb` and the memory-mapped `.pbmm`.
//!
//! The network is found by reading the graph, not by names or sizes: the dense layers are the
//! `MatMul`s whose weights are constants, the recurrent layer is the `BlockLSTM` op
//! (`LSTMBlockFusedCell`), and their order is their depth in the data flow (how many of the
//! others each one depends on). DeepSpeech's graph must read dense, dense, dense, LSTM, dense,
//! dense; anything else (a bidirectional LSTM, a missing layer, peepholes, a clipped cell) is
//! refused with what was found. The clipped ReLU's bound and the LSTM's forget bias are read
//! from the graph too.

use std::collections::HashMap;

use super::graph_def::{Attr, Constant, GraphDef, GraphDefError, Node, TensorValue, dtype};
use super::memmapped::{MemmappedError, Package};
use super::metadata::GraphMetadata;
use rayon::prelude::*;

use super::numeric::{le_f16s, le_f32s};
use super::tf_layout::{LSTM_SCOPE, TfTensor};

/// Why a TensorFlow graph is not a DeepSpeech model we can run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TensorflowError {
    /// The memory-mapped package is damaged.
    #[error("memory-mapped package: {0}")]
    Memmapped(#[from] MemmappedError),
    /// The graph cannot be parsed.
    #[error(transparent)]
    Graph(#[from] GraphDefError),
    /// The graph is not DeepSpeech's network.
    #[error("not a DeepSpeech network: {0}")]
    NotDeepSpeech(String),
}

/// The network and metadata read from a DeepSpeech graph.
#[derive(Debug, Clone)]
pub struct TensorflowModel {
    /// DeepSpeech's variables under their checkpoint names (see [`super::tf_layout`]).
    pub variables: HashMap<String, TfTensor>,
    /// The LSTM's forget bias (0 in DeepSpeech's export).
    pub forget_bias: f32,
    /// The clipped ReLU's upper bound (`--relu_clip`, 20).
    pub relu_clip: f32,
    /// The `metadata_*` constants and the input shape.
    pub metadata: GraphMetadata,
}

/// Reads a frozen graph (`.pb`).
pub fn read_frozen(bytes: &[u8]) -> Result<TensorflowModel, TensorflowError> {
    let graph = GraphDef::parse(bytes)?;
    read_graph(&graph, None)
}

/// Reads a memory-mapped graph (`.pbmm`); the weights are read from their regions in place.
pub fn read_memmapped(bytes: &[u8]) -> Result<TensorflowModel, TensorflowError> {
    let package = Package::parse(bytes)?;
    let graph = GraphDef::parse(package.graph())?;
    read_graph(&graph, Some(&package))
}

/// Whether `bytes` parse as a `GraphDef` with at least one node (a cheap check: nodes only).
pub fn sniff_frozen(bytes: &[u8]) -> bool {
    // A GraphDef starts with its nodes (field 1, length-delimited: key 0x0a).
    bytes.first() == Some(&0x0a)
        && GraphDef::parse(bytes).is_ok_and(|g| g.nodes.iter().any(|n| !n.op.is_empty()))
}

fn not_ds(reason: impl Into<String>) -> TensorflowError {
    TensorflowError::NotDeepSpeech(reason.into())
}

/// Reads the constant behind the tensor `name`: a `Const` node, or an `ImmutableConst` whose
/// data is a region of `package`.
fn constant(
    graph: &GraphDef,
    package: Option<&Package>,
    name: &str,
) -> Result<(String, Constant), TensorflowError> {
    let node = graph
        .source(name)
        .ok_or_else(|| not_ds(format!("input `{name}` names no node")))?;
    let value = match node.op {
        "Const" => node.constant()?,
        "ImmutableConst" => immutable_constant(node, package)?,
        op => {
            return Err(not_ds(format!(
                "`{name}` comes from a {op} node, expected a constant (a frozen graph)"
            )));
        }
    };
    Ok((node.name.to_owned(), value))
}

fn immutable_constant(node: &Node, package: Option<&Package>) -> Result<Constant, TensorflowError> {
    let bad = |reason: String| {
        TensorflowError::Graph(GraphDefError::Tensor {
            node: node.name.to_owned(),
            reason,
        })
    };
    let package =
        package.ok_or_else(|| bad("an ImmutableConst outside a memory-mapped package".into()))?;
    let Some(Attr::Bytes(region)) = node.attr("memory_region_name")? else {
        return Err(bad("no memory_region_name".into()));
    };
    let region = std::str::from_utf8(region).map_err(|_| bad("region name is not UTF-8".into()))?;
    let data = package
        .region(region)
        .ok_or_else(|| bad(format!("region `{region}` is not in the package")))?;
    let Some(Attr::Shape(dims)) = node.attr("shape")? else {
        return Err(bad("no shape".into()));
    };
    let shape = dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| bad(format!("unknown dimension in {dims:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let count = super::graph_def::element_count(&shape)
        .ok_or_else(|| bad(format!("shape {shape:?} has too many elements")))?;
    let value = match node.attr("dtype")? {
        Some(Attr::Type(dtype::FLOAT)) if count.checked_mul(4) == Some(data.len()) => {
            TensorValue::Float(le_f32s(data))
        }
        Some(Attr::Type(dtype::HALF)) if count.checked_mul(2) == Some(data.len()) => {
            TensorValue::Float(le_f16s(data))
        }
        other => {
            return Err(bad(format!(
                "type {other:?} with {} bytes for shape {shape:?}",
                data.len()
            )));
        }
    };
    Ok(Constant { shape, value })
}

fn float_tensor(name: &str, c: Constant) -> Result<TfTensor, TensorflowError> {
    match c.value {
        TensorValue::Float(data) => {
            let shape = c.shape.clone();
            let values = data.len();
            TfTensor::new(c.shape, data)
                .ok_or_else(|| not_ds(format!("`{name}` has shape {shape:?} but {values} values")))
        }
        _ => Err(not_ds(format!("`{name}` is not a float tensor"))),
    }
}

/// A layer of the network as found in the graph.
enum Layer<'g, 'a> {
    /// A `MatMul` by a constant matrix.
    Dense(&'g Node<'a>),
    /// A `BlockLSTM`.
    Lstm(&'g Node<'a>),
}

impl Layer<'_, '_> {
    fn node(&self) -> &Node<'_> {
        match self {
            Layer::Dense(n) | Layer::Lstm(n) => n,
        }
    }
}

fn is_lstm_op(op: &str) -> bool {
    op == "BlockLSTM"
}

fn read_graph(
    graph: &GraphDef,
    package: Option<&Package>,
) -> Result<TensorflowModel, TensorflowError> {
    let metadata = read_metadata(graph)?;
    let other_rnn = graph.nodes.iter().find(|n| {
        matches!(
            n.op,
            "CudnnRNN"
                | "CudnnRNNV2"
                | "CudnnRNNV3"
                | "LSTMBlockCell"
                | "GRUBlockCell"
                | "BlockLSTMV2"
        )
    });
    if let Some(n) = other_rnn {
        return Err(not_ds(format!(
            "a {} op (`{}`): DeepSpeech's exported graph uses one BlockLSTM (LSTMBlockFusedCell)",
            n.op, n.name
        )));
    }
    let mut layers = Vec::new();
    for node in &graph.nodes {
        if is_lstm_op(node.op) {
            layers.push(Layer::Lstm(node));
        } else if node.op == "MatMul" {
            let weights = node.inputs.get(1).and_then(|i| graph.source(i));
            if weights.is_some_and(|w| matches!(w.op, "Const" | "ImmutableConst")) {
                layers.push(Layer::Dense(node));
            }
        }
    }
    if layers.len() != 6 {
        let lstms = layers
            .iter()
            .filter(|l| matches!(l, Layer::Lstm(_)))
            .count();
        return Err(not_ds(format!(
            "found {} matrix products by constant weights and {lstms} LSTM op(s); DeepSpeech's \
             network is [dense, dense, dense, LSTM, dense, dense]",
            layers.len() - lstms
        )));
    }
    // Order by depth: how many other layers each one (transitively) reads from.
    let names: Vec<&str> = layers.iter().map(|l| l.node().name).collect();
    let mut depth: Vec<(usize, usize)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (ancestors_among(graph, name, &names), i))
        .collect();
    depth.sort();
    let kinds: String = depth
        .iter()
        .map(|&(_, i)| match layers[i] {
            Layer::Dense(_) => 'D',
            Layer::Lstm(_) => 'L',
        })
        .collect();
    if kinds != "DDDLDD" || depth.iter().enumerate().any(|(k, &(d, _))| d != k) {
        let describe = |k: char| if k == 'D' { "dense" } else { "LSTM" };
        let found: Vec<&str> = kinds.chars().map(describe).collect();
        return Err(not_ds(format!(
            "found the layers [{}] in data-flow order; DeepSpeech's network is \
             [dense, dense, dense, LSTM, dense, dense], one after the other",
            found.join(", ")
        )));
    }
    let ordered: Vec<&Layer> = depth.iter().map(|&(_, i)| &layers[i]).collect();
    // The weights are decoded after the walk, in parallel: (variable, constant's input, role).
    let mut weights: Vec<(String, &str, &str)> = Vec::new();
    let mut clips = Vec::new();
    let dense_names = ["layer_1", "layer_2", "layer_3", "", "layer_5", "layer_6"];
    let mut forget_bias = 0.0;
    for (layer, name) in ordered.into_iter().zip(dense_names) {
        match layer {
            Layer::Dense(matmul) => {
                for flag in ["transpose_a", "transpose_b"] {
                    if matches!(matmul.attr(flag)?, Some(Attr::Bool(true))) {
                        return Err(not_ds(format!("{name}'s MatMul has {flag} set")));
                    }
                }
                weights.push((format!("{name}/weights"), matmul.inputs[1], name));
                let bias_add = graph
                    .consumers(matmul.name)
                    .find(|n| matches!(n.op, "BiasAdd" | "Add" | "AddV2"))
                    .ok_or_else(|| not_ds(format!("{name}'s MatMul has no bias added")))?;
                let bias_input = bias_add
                    .inputs
                    .iter()
                    .find(|i| graph.source(i).is_some_and(|n| n.name != matmul.name))
                    .ok_or_else(|| not_ds(format!("{name}'s bias has no input")))?;
                weights.push((format!("{name}/bias"), bias_input, name));
                if name != "layer_6" {
                    clips.push((name, relu_clip(graph, package, bias_add.name)?));
                }
            }
            Layer::Lstm(lstm) => {
                if matches!(lstm.attr("use_peephole")?, Some(Attr::Bool(true))) {
                    return Err(not_ds("the LSTM uses peepholes; DeepSpeech's does not"));
                }
                // Attributes left out take the op's defaults (forget_bias 1, cell_clip 3).
                let float_attr = |name: &str, default: f32| match lstm.attr(name) {
                    Ok(Some(Attr::Float(v))) => Ok(v),
                    Ok(_) => Ok(default),
                    Err(e) => Err(e),
                };
                let clip = float_attr("cell_clip", 3.0)?;
                if clip > 0.0 {
                    return Err(not_ds(format!(
                        "the LSTM clips its cell at {clip}; DeepSpeech's does not"
                    )));
                }
                forget_bias = float_attr("forget_bias", 1.0)?;
                // BlockLSTM inputs: seq_len_max, x, cs_prev, h_prev, w, wci, wcf, wco, b.
                let (w_name, b_name) = match (lstm.inputs.get(4), lstm.inputs.get(8)) {
                    (Some(w), Some(b)) => (*w, *b),
                    _ => return Err(not_ds("the BlockLSTM has fewer than 9 inputs")),
                };
                weights.push((format!("{LSTM_SCOPE}/kernel"), w_name, "LSTM kernel"));
                weights.push((format!("{LSTM_SCOPE}/bias"), b_name, "LSTM bias"));
            }
        }
    }
    let variables = weights
        .into_par_iter()
        .map(|(key, input, role)| {
            let (_, c) = constant(graph, package, input)?;
            Ok((key, float_tensor(role, c)?))
        })
        .collect::<Result<HashMap<_, _>, TensorflowError>>()?;
    let relu_clip = clips[0].1;
    if let Some((name, clip)) = clips.iter().find(|(_, c)| *c != relu_clip) {
        return Err(not_ds(format!(
            "{name} clips its ReLU at {clip}, layer_1 at {relu_clip}: one clip is expected"
        )));
    }
    Ok(TensorflowModel {
        variables,
        forget_bias,
        relu_clip,
        metadata,
    })
}

/// How many of `names` the node `name` depends on, through any path of inputs.
fn ancestors_among(graph: &GraphDef, name: &str, names: &[&str]) -> usize {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![name];
    let mut count = 0;
    while let Some(n) = stack.pop() {
        let Some(node) = graph.node(n) else { continue };
        for input in &node.inputs {
            let Some(src) = graph.node(input) else {
                continue;
            };
            if seen.insert(src.name) {
                if names.contains(&src.name) {
                    count += 1;
                }
                stack.push(src.name);
            }
        }
    }
    count
}

/// The bound of the clipped ReLU after `bias_add`: `Minimum(Relu(x), clip)`.
fn relu_clip(
    graph: &GraphDef,
    package: Option<&Package>,
    bias_add: &str,
) -> Result<f32, TensorflowError> {
    let relu = graph
        .consumers(bias_add)
        .find(|n| n.op == "Relu")
        .ok_or_else(|| not_ds(format!("`{bias_add}` is not followed by a ReLU")))?;
    let minimum = graph
        .consumers(relu.name)
        .find(|n| n.op == "Minimum")
        .ok_or_else(|| {
            not_ds(format!(
                "the ReLU `{}` is not clipped by a Minimum",
                relu.name
            ))
        })?;
    let clip_input = minimum
        .inputs
        .iter()
        .find(|i| graph.source(i).is_some_and(|n| n.name != relu.name))
        .ok_or_else(|| not_ds("the Minimum has no bound"))?;
    let (name, c) = constant(graph, package, clip_input)?;
    match c.value {
        TensorValue::Float(v) if v.len() == 1 => Ok(v[0]),
        _ => Err(not_ds(format!("the clip `{name}` is not one float"))),
    }
}

fn read_metadata(graph: &GraphDef) -> Result<GraphMetadata, TensorflowError> {
    let int = |name: &str| -> Result<Option<i32>, TensorflowError> {
        let Some(node) = graph.node(name) else {
            return Ok(None);
        };
        match node.constant()?.value {
            TensorValue::Int(v) if !v.is_empty() => Ok(Some(v[0])),
            _ => Err(not_ds(format!("`{name}` is not an integer constant"))),
        }
    };
    let bytes = |name: &str| -> Result<Option<Vec<u8>>, TensorflowError> {
        let Some(node) = graph.node(name) else {
            return Ok(None);
        };
        match node.constant()?.value {
            TensorValue::Strings(mut v) if !v.is_empty() => Ok(Some(v.swap_remove(0))),
            _ => Err(not_ds(format!("`{name}` is not a string constant"))),
        }
    };
    let mut m = GraphMetadata {
        version: int("metadata_version")?,
        sample_rate: int("metadata_sample_rate")?,
        win_len_ms: int("metadata_feature_win_len")?,
        win_step_ms: int("metadata_feature_win_step")?,
        beam_width: int("metadata_beam_width")?,
        alphabet: bytes("metadata_alphabet")?,
        language: bytes("metadata_language")?.map(|b| String::from_utf8_lossy(&b).into_owned()),
        ..GraphMetadata::default()
    };
    if let Some(input) = graph.node("input_node")
        && let Some(Attr::Shape(dims)) = input.attr("shape")?
    {
        if let [_, steps, window, coefficients] = dims[..] {
            m.n_steps = usize::try_from(steps).ok();
            m.n_context = usize::try_from((window - 1) / 2)
                .ok()
                .filter(|_| window % 2 == 1);
            m.n_coefficients = usize::try_from(coefficients).ok();
        } else {
            return Err(not_ds(format!(
                "input_node has shape {dims:?}, expected [batch, steps, 2·context+1, coefficients]"
            )));
        }
    }
    Ok(m)
}
