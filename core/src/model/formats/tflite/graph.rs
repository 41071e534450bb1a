//! DeepSpeech's network found by walking a `.tflite` graph from `input_node`, the way DeepSpeech
//! 0.7–0.9's and Coqui STT's `--export_tflite` (TensorFlow 1.15's TOCO) lays it out:
//!
//! ```text
//! input_node [1, n_steps, 2·n_context+1, n_coefficients]
//!   → FULLY_CONNECTED(layer_1, fused RELU) → MINIMUM(relu_clip)      (×3: layers 1, 2, 3)
//!   → RESHAPE [n_steps, 1, n_hidden] → one STRIDED_SLICE per step (static_rnn, unrolled):
//!       CONCATENATION(x_t, h) → FULLY_CONNECTED(kernel, bias) → SPLIT into i, j, f, o
//!       c' = σ(f [+ forget_bias])·c + σ(i)·tanh(j);  h' = σ(o)·tanh(c')
//!   → CONCATENATION of every step's h (axis 0)
//!   → FULLY_CONNECTED(layer_5, RELU) → MINIMUM → FULLY_CONNECTED(layer_6) → SOFTMAX (`logits`)
//! ```
//!
//! Weights are FULLY_CONNECTED's constant inputs 1 (`[out, in]`) and 2 (`[out]`), stored as
//! float32, as float16 or int8 behind a DEQUANTIZE op, or as int8 read directly by a "hybrid"
//! FULLY_CONNECTED; RESHAPE, SQUEEZE and EXPAND_DIMS between the layers are passed through. The
//! LSTM's gates are identified by what the graph does with them (σ(i) multiplies tanh(j), σ(f)
//! the previous cell state, σ(o) tanh of the new one), so the kernel's gate order is read, not
//! assumed.

use std::collections::{HashMap, HashSet};

use super::schema::{self, Model, Operator, Storage, op};
use super::{Quantisation, TfliteError};
use crate::model::formats::tf_layout::{LSTM_SCOPE, TfTensor, transpose};
use crate::model::hybrid::{HybridNetwork, Int8Matrix, Layer, Weights};

mod lstm;

/// DeepSpeech's variables and constants as found in the graph.
#[derive(Debug)]
pub struct Network {
    /// The variables under their checkpoint names, TensorFlow's layouts.
    pub variables: HashMap<String, TfTensor>,
    /// The constant added to the forget gate (0 when the graph adds none).
    pub forget_bias: f32,
    /// The clipped ReLU's bound.
    pub relu_clip: f32,
    /// How the weight matrices were stored.
    pub quantisation: Quantisation,
    /// How many time steps the LSTM is unrolled for.
    pub steps: usize,
    /// The network as TensorFlow Lite runs it, when some FULLY_CONNECTED reads int8 weights
    /// directly (its "hybrid" kernel): the int8 matrices as stored, for exact int8 inference.
    pub hybrid: Option<HybridNetwork>,
}

/// The graph with each tensor's producer and consumers.
pub struct Graph<'m, 'a> {
    model: &'m Model<'a>,
    producer: Vec<Option<usize>>,
    consumers: Vec<Vec<usize>>,
    /// Whether int8 matrices that TensorFlow Lite's hybrid kernel reads are also dequantised
    /// to `f32` variables (see [`Graph::skip_dequantising_int8`]).
    dequantise_int8: bool,
}

/// A constant decoded to `f32`.
struct Constant {
    shape: Vec<usize>,
    data: Vec<f32>,
    storage: Storage,
    /// The int8 values and scale, when a FULLY_CONNECTED reads them as they are (no DEQUANTIZE
    /// in between) with one scale and no zero point: TensorFlow Lite's hybrid kernel.
    int8: Option<Int8Matrix>,
}

/// What the walk has collected so far.
#[derive(Default)]
struct Found {
    variables: HashMap<String, TfTensor>,
    storages: Vec<Storage>,
    clips: Vec<(String, f32)>,
    fully_connected: HashSet<usize>,
    /// The int8 matrices of hybrid FULLY_CONNECTED ops, by weights key, TFLite's `[out, in]`.
    int8: HashMap<String, Int8Matrix>,
}

impl Found {
    /// Records a FULLY_CONNECTED layer's weights (TFLite's `[out, in]`, stored under
    /// `weights_key` in TensorFlow's `[in, out]`) and bias, and how the weights were stored.
    fn insert_fully_connected(
        &mut self,
        weights_key: String,
        bias_key: String,
        w: Constant,
        b: Constant,
    ) {
        let (out, inputs) = (w.shape[0], w.shape[1]);
        if let Some(m) = w.int8 {
            self.int8.insert(weights_key.clone(), m);
        }
        // Without values when only the int8 copy was kept (Graph::skip_dequantising_int8).
        let data = if w.data.is_empty() {
            Vec::new()
        } else {
            transpose(&w.data, out, inputs)
        };
        self.variables.insert(
            weights_key,
            TfTensor {
                shape: vec![inputs, out],
                data,
            },
        );
        self.variables.insert(
            bias_key,
            TfTensor {
                shape: b.shape,
                data: b.data,
            },
        );
        self.storages.push(w.storage);
    }

    /// The network in TensorFlow Lite's layouts for hybrid inference: int8 layers as stored,
    /// float ones from the variables; `None` when no layer is int8 (a float file runs the
    /// ordinary way).
    fn hybrid(&mut self, forget_bias: f32, relu_clip: f32) -> Option<HybridNetwork> {
        if self.int8.is_empty() {
            return None;
        }
        let mut layer = |scope: &str, leaf: &str| -> Option<Layer> {
            let key = format!("{scope}/{leaf}");
            let weights = match self.int8.remove(&key) {
                Some(m) => Weights::Int8(m),
                None => {
                    let w = self.variables.get(&key)?;
                    let (inputs, rows) = (w.shape[0], w.shape[1]);
                    Weights::Float {
                        rows,
                        cols: inputs,
                        data: transpose(&w.data, inputs, rows),
                    }
                }
            };
            let bias = self.variables.get(&format!("{scope}/bias"))?.data.clone();
            Layer::new(weights, bias).ok()
        };
        Some(HybridNetwork {
            dense_front: [
                layer("layer_1", "weights")?,
                layer("layer_2", "weights")?,
                layer("layer_3", "weights")?,
            ],
            lstm: layer(LSTM_SCOPE, "kernel")?,
            forget_bias,
            layer_5: layer("layer_5", "weights")?,
            layer_6: layer("layer_6", "weights")?,
            relu_clip,
        })
    }
}

fn unexpected(
    at: impl Into<String>,
    found: impl Into<String>,
    expected: impl Into<String>,
) -> TfliteError {
    TfliteError::Unexpected {
        at: at.into(),
        found: found.into(),
        expected: expected.into(),
    }
}

/// Fused activations of FULLY_CONNECTED (`ActivationFunctionType`).
const ACT_NONE: i8 = 0;
const ACT_RELU: i8 = 1;

/// Ops that only change a tensor's shape, passed through between layers.
const LAYOUT: [i32; 3] = [op::RESHAPE, op::SQUEEZE, op::EXPAND_DIMS];

impl<'m, 'a> Graph<'m, 'a> {
    /// Indexes the graph, checking every operator's tensor and opcode indices.
    pub fn new(model: &'m Model<'a>) -> Result<Self, TfliteError> {
        let n = model.tensors.len();
        let mut producer = vec![None; n];
        let mut consumers = vec![Vec::new(); n];
        let bad =
            |what: String| TfliteError::NotDeepSpeech(format!("the graph is inconsistent: {what}"));
        for (i, o) in model.operators.iter().enumerate() {
            if o.opcode >= model.opcodes.len() {
                return Err(bad(format!(
                    "op {i} has opcode index {} of {}",
                    o.opcode,
                    model.opcodes.len()
                )));
            }
            for &t in &o.inputs {
                match usize::try_from(t) {
                    Ok(t) if t < n => {
                        // Ops are visited in order: a repeat input is the last one pushed.
                        if consumers[t].last() != Some(&i) {
                            consumers[t].push(i);
                        }
                    }
                    _ if t == -1 => {}
                    _ => return Err(bad(format!("op {i} reads tensor {t} of {n}"))),
                }
            }
            for &t in &o.outputs {
                match usize::try_from(t) {
                    Ok(t) if t < n => {
                        if producer[t].replace(i).is_some() {
                            return Err(bad(format!("tensor {t} is written by two ops")));
                        }
                    }
                    _ => return Err(bad(format!("op {i} writes tensor {t} of {n}"))),
                }
            }
        }
        for &t in model.inputs.iter().chain(&model.outputs) {
            if usize::try_from(t).map_or(true, |t| t >= n) {
                return Err(bad(format!(
                    "the subgraph's inputs or outputs name tensor {t} of {n}"
                )));
            }
        }
        Ok(Self {
            model,
            producer,
            consumers,
            dequantise_int8: true,
        })
    }

    /// Leaves the int8 matrices that TensorFlow Lite's hybrid kernel reads out of the `f32`
    /// variables: their [`TfTensor`]s keep their shapes but hold no values, and only
    /// [`Network::hybrid`] has them. For inference on the int8 weights, which then loads
    /// without building (and holding) a dequantised copy four times their size.
    pub fn skip_dequantising_int8(&mut self) {
        self.dequantise_int8 = false;
    }

    fn op(&self, i: usize) -> &Operator<'a> {
        &self.model.operators[i]
    }

    /// The op's builtin code.
    fn code(&self, i: usize) -> i32 {
        self.model.opcodes[self.op(i).opcode].builtin
    }

    /// The op for messages: `MINIMUM (op 5, writing `Minimum`)`.
    fn describe(&self, i: usize) -> String {
        let name = self.model.opcodes[self.op(i).opcode].name();
        match self.output(i, 0) {
            Some(t) => format!("{name} (op {i}, writing `{}`)", self.model.tensors[t].name),
            None => format!("{name} (op {i})"),
        }
    }

    fn describe_all(&self, ops: &[usize]) -> String {
        match ops {
            [] => "nothing".into(),
            [one] => self.describe(*one),
            many => {
                let mut listed: Vec<String> =
                    many.iter().take(6).map(|&o| self.describe(o)).collect();
                if many.len() > 6 {
                    listed.push("…".into());
                }
                format!("{} ops: {}", many.len(), listed.join(", "))
            }
        }
    }

    /// The tensor `t`'s description.
    pub fn tensor(&self, t: usize) -> &schema::Tensor {
        &self.model.tensors[t]
    }

    fn name(&self, t: usize) -> &str {
        &self.model.tensors[t].name
    }

    fn input(&self, i: usize, k: usize) -> Option<usize> {
        self.op(i)
            .inputs
            .get(k)
            .and_then(|&t| usize::try_from(t).ok())
    }

    fn output(&self, i: usize, k: usize) -> Option<usize> {
        self.op(i)
            .outputs
            .get(k)
            .and_then(|&t| usize::try_from(t).ok())
    }

    /// Output 0 of an op that must have one.
    fn output0(&self, i: usize, at: &str) -> Result<usize, TfliteError> {
        self.output(i, 0).ok_or_else(|| {
            unexpected(
                at,
                format!("{} without outputs", self.describe(i)),
                "an output",
            )
        })
    }

    /// The tensor's bytes, if it is a constant stored in the file.
    fn data(&self, t: usize) -> Option<&'a [u8]> {
        let buffer = self.model.tensors[t].buffer;
        self.model
            .buffers
            .get(buffer)
            .copied()
            .filter(|d| !d.is_empty())
    }

    /// The subgraph input named `name`.
    pub fn graph_input(&self, name: &str) -> Option<usize> {
        self.model
            .inputs
            .iter()
            .filter_map(|&t| usize::try_from(t).ok())
            .find(|&t| self.name(t) == name)
    }

    /// The tensor named `name`, a subgraph output if there are several.
    pub fn tensor_named(&self, name: &str) -> Option<usize> {
        let outputs = self
            .model
            .outputs
            .iter()
            .filter_map(|&t| usize::try_from(t).ok());
        outputs
            .clone()
            .find(|&t| self.name(t) == name)
            .or_else(|| (0..self.model.tensors.len()).find(|&t| self.name(t) == name))
    }

    /// A constant's bytes: stored in the file, or behind one shape-only op (the converter keeps
    /// constant graph outputs as `RESHAPE(name_copy, shape)`).
    pub fn constant_bytes(&self, t: usize) -> Result<&'a [u8], String> {
        if let Some(d) = self.data(t) {
            return Ok(d);
        }
        match self.producer[t] {
            Some(p) if LAYOUT.contains(&self.code(p)) => self
                .input(p, 0)
                .and_then(|s| self.data(s))
                .ok_or_else(|| format!("it is computed by {}, not a constant", self.describe(p))),
            Some(p) => Err(format!(
                "it is computed by {}, not a constant",
                self.describe(p)
            )),
            None => Err("it has no data".into()),
        }
    }

    /// A constant decoded to `f32`: stored in the file (float32, float16, int8), or behind a
    /// DEQUANTIZE op.
    fn constant(&self, t: usize, role: &str) -> Result<Constant, TfliteError> {
        let error = |reason: String| TfliteError::Weight {
            tensor: self.name(t).to_owned(),
            role: role.to_owned(),
            reason,
        };
        let source = match (self.data(t), self.producer[t]) {
            (Some(_), _) => t,
            (None, Some(p)) if self.code(p) == op::DEQUANTIZE => match self.input(p, 0) {
                Some(s) if self.data(s).is_some() => s,
                _ => return Err(error("its DEQUANTIZE op reads no constant".into())),
            },
            (None, Some(p)) => {
                return Err(error(format!(
                    "it is computed by {}, not a constant",
                    self.describe(p)
                )));
            }
            (None, None) => return Err(error("it has no data".into())),
        };
        let tensor = &self.model.tensors[source];
        let bytes = self.data(source).unwrap_or_default();
        if tensor.sparse {
            return Err(error("it is stored sparse".into()));
        }
        let storage = schema::storage(tensor).map_err(error)?;
        let shape: Vec<usize> = tensor.shape.iter().map(|&d| d as usize).collect();
        let int8 = match (&shape[..], &tensor.quantisation) {
            ([rows, cols], Some(q))
                if source == t
                    && storage == Storage::Int8PerTensor
                    && q.zero_point.iter().all(|&z| z == 0) =>
            {
                // SAFETY: i8 and u8 have the same size and alignment, and every bit pattern is
                // a valid i8.
                let values: &[i8] =
                    unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<i8>(), bytes.len()) };
                // A matrix hybrid inference cannot use (a −128) runs dequantised instead.
                Int8Matrix::new(*rows, *cols, values, q.scale[0]).ok()
            }
            _ => None,
        };
        let data = if int8.is_some() && !self.dequantise_int8 {
            Vec::new()
        } else {
            schema::decode(tensor, bytes).map_err(error)?.0
        };
        Ok(Constant {
            shape,
            data,
            storage,
            int8,
        })
    }

    /// A constant that must hold one number (the ReLU clip, a forget bias).
    fn scalar(&self, t: usize, role: &str) -> Result<f32, TfliteError> {
        let c = self.constant(t, role)?;
        match c.data[..] {
            [v] => Ok(v),
            _ => Err(TfliteError::Weight {
                tensor: self.name(t).to_owned(),
                role: role.to_owned(),
                reason: format!("it has shape {:?}, expected one value", c.shape),
            }),
        }
    }

    /// An int32 constant's first value (a split axis, a slice's start).
    fn first_i32(&self, t: usize, role: &str) -> Result<i32, TfliteError> {
        let tensor = &self.model.tensors[t];
        let bytes = self
            .constant_bytes(t)
            .map_err(|reason| TfliteError::Weight {
                tensor: tensor.name.clone(),
                role: role.to_owned(),
                reason,
            })?;
        match (tensor.dtype, bytes.get(..4)) {
            (schema::dtype::INT32, Some(b)) => Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => Err(TfliteError::Weight {
                tensor: tensor.name.clone(),
                role: role.to_owned(),
                reason: format!("expected an int32 constant, found {}", tensor.describe()),
            }),
        }
    }

    /// Follows `t` through shape-only ops that are its only reader.
    fn skip_layout(&self, mut t: usize) -> usize {
        for _ in 0..=self.model.operators.len() {
            match self.consumers[t][..] {
                [o] if LAYOUT.contains(&self.code(o)) && self.input(o, 0) == Some(t) => {
                    match self.output(o, 0) {
                        Some(next) if next != t => t = next,
                        _ => break,
                    }
                }
                _ => break,
            }
        }
        t
    }

    /// The one op reading `t`, which must be a `code`.
    fn only_reader(
        &self,
        t: usize,
        code: i32,
        at: &str,
        expected: &str,
    ) -> Result<usize, TfliteError> {
        let readers = &self.consumers[t];
        match readers[..] {
            [o] if self.code(o) == code => Ok(o),
            _ => Err(unexpected(
                at,
                format!("`{}` read by {}", self.name(t), self.describe_all(readers)),
                expected,
            )),
        }
    }

    /// The one `code` op among the readers of `t` (others may read it too).
    fn reader_of_kind(
        &self,
        t: usize,
        code: i32,
        at: &str,
        expected: &str,
    ) -> Result<usize, TfliteError> {
        let readers = &self.consumers[t];
        let of_kind: Vec<usize> = readers
            .iter()
            .copied()
            .filter(|&o| self.code(o) == code)
            .collect();
        match of_kind[..] {
            [o] => Ok(o),
            _ => Err(unexpected(
                at,
                format!("`{}` read by {}", self.name(t), self.describe_all(readers)),
                expected,
            )),
        }
    }

    /// The other input of a two-input op that reads `t`.
    fn other_input(&self, o: usize, t: usize, at: &str) -> Result<usize, TfliteError> {
        match (self.input(o, 0), self.input(o, 1), self.op(o).inputs.len()) {
            (Some(a), Some(b), 2) if a == t => Ok(b),
            (Some(a), Some(b), 2) if b == t => Ok(a),
            _ => Err(unexpected(at, self.describe(o), "an op with two inputs")),
        }
    }

    /// Walks the network from `input` (the `input_node` tensor).
    pub fn deepspeech(&self, input: usize) -> Result<Network, TfliteError> {
        self.refuse_fused_rnns()?;
        let mut found = Found::default();
        let mut x = input;
        for layer in ["layer_1", "layer_2", "layer_3"] {
            x = self.dense(x, layer, true, &mut found)?;
        }
        let (after_lstm, forget_bias, steps) = self.lstm(x, &mut found)?;
        x = self.dense(after_lstm, "layer_5", true, &mut found)?;
        x = self.dense(x, "layer_6", false, &mut found)?;
        let x = self.skip_layout(x);
        self.only_reader(
            x,
            op::SOFTMAX,
            "the output (after layer_6)",
            "SOFTMAX (DeepSpeech's `logits`)",
        )?;
        self.refuse_other_fully_connected(&found.fully_connected)?;

        let (first, relu_clip) = found.clips[0].clone();
        if let Some((other, clip)) = found
            .clips
            .iter()
            .find(|(_, c)| c.to_bits() != relu_clip.to_bits())
        {
            return Err(unexpected(
                format!("{other}'s clipped ReLU"),
                format!("a bound of {clip}"),
                format!("the same bound as {first}'s ({relu_clip})"),
            ));
        }
        let has = |s: Storage| found.storages.contains(&s);
        let quantisation = if has(Storage::Int8PerChannel) {
            Quantisation::Int8PerChannel
        } else if has(Storage::Int8PerTensor) {
            Quantisation::Int8PerTensor
        } else if has(Storage::Uint8) {
            Quantisation::Uint8
        } else if has(Storage::Float16) {
            Quantisation::Float16
        } else {
            Quantisation::Float32
        };
        let hybrid = found.hybrid(forget_bias, relu_clip);
        Ok(Network {
            variables: found.variables,
            forget_bias,
            relu_clip,
            quantisation,
            steps,
            hybrid,
        })
    }

    fn refuse_fused_rnns(&self) -> Result<(), TfliteError> {
        const FUSED: [i32; 6] = [
            op::LSTM,
            op::UNIDIRECTIONAL_SEQUENCE_LSTM,
            op::BIDIRECTIONAL_SEQUENCE_LSTM,
            op::BIDIRECTIONAL_SEQUENCE_RNN,
            24, // RNN
            35, // UNIDIRECTIONAL_SEQUENCE_RNN
        ];
        let fused: Vec<usize> = (0..self.model.operators.len())
            .filter(|&o| FUSED.contains(&self.code(o)))
            .collect();
        if fused.is_empty() {
            Ok(())
        } else {
            Err(unexpected(
                "the recurrent layer",
                format!(
                    "converter-fused recurrent ops: {}",
                    self.describe_all(&fused)
                ),
                "DeepSpeech's unrolled LSTM (FULLY_CONNECTED on CONCATENATION(x, h) per step, as \
                 DeepSpeech's and Coqui STT's export write it; fused LSTM ops are not supported)",
            ))
        }
    }

    fn refuse_other_fully_connected(&self, seen: &HashSet<usize>) -> Result<(), TfliteError> {
        let others: Vec<usize> = (0..self.model.operators.len())
            .filter(|&o| self.code(o) == op::FULLY_CONNECTED && !seen.contains(&o))
            .collect();
        if others.is_empty() {
            Ok(())
        } else {
            Err(unexpected(
                "the graph",
                format!(
                    "FULLY_CONNECTED ops off the path from input_node: {}",
                    self.describe_all(&others)
                ),
                "DeepSpeech's 5 dense layers and one unidirectional LSTM only (a second, \
                 backward LSTM or extra layers are not DeepSpeech 0.7–0.9's network)",
            ))
        }
    }

    /// Checks that `fc` is a FULLY_CONNECTED reading `x` and returns its weights (`[out, in]`),
    /// bias and fused activation.
    fn fully_connected(
        &self,
        fc: usize,
        x: usize,
        at: &str,
    ) -> Result<(Constant, Constant, i8), TfliteError> {
        if self.input(fc, 0) != Some(x) {
            return Err(unexpected(
                at,
                format!(
                    "{} reading `{}` as its weights",
                    self.describe(fc),
                    self.name(x)
                ),
                "FULLY_CONNECTED with the activations as its input 0",
            ));
        }
        let (Some(w), Some(b)) = (self.input(fc, 1), self.input(fc, 2)) else {
            return Err(unexpected(
                at,
                format!("{} without weights or bias", self.describe(fc)),
                "FULLY_CONNECTED(x, weights, bias)",
            ));
        };
        let weights = self.constant(w, &format!("{at}'s weights"))?;
        let bias = self.constant(b, &format!("{at}'s bias"))?;
        let (activation, format) = match &self.op(fc).options {
            Some(o) => (o.i8(0, ACT_NONE)?, o.i8(1, 0)?),
            None => (ACT_NONE, 0),
        };
        if format != 0 {
            return Err(unexpected(
                at,
                format!("weights in format {format} (shuffled)"),
                "the default weights format",
            ));
        }
        let [out, _] = weights.shape[..] else {
            return Err(unexpected(
                at,
                format!("weights of shape {:?}", weights.shape),
                "[outputs, inputs]",
            ));
        };
        if bias.shape != [out] {
            return Err(unexpected(
                at,
                format!("a bias of shape {:?}", bias.shape),
                format!("[{out}]"),
            ));
        }
        Ok((weights, bias, activation))
    }

    /// One dense layer from its input `x`; returns its (clipped) output.
    fn dense(
        &self,
        x: usize,
        layer: &str,
        clipped: bool,
        found: &mut Found,
    ) -> Result<usize, TfliteError> {
        let x = self.skip_layout(x);
        let fc = self.only_reader(x, op::FULLY_CONNECTED, layer, "FULLY_CONNECTED")?;
        let (w, b, activation) = self.fully_connected(fc, x, layer)?;
        let mut y = self.output0(fc, layer)?;
        if clipped {
            match activation {
                ACT_RELU => {}
                ACT_NONE => {
                    let relu = self.only_reader(
                        y,
                        op::RELU,
                        layer,
                        "RELU (or one fused into FULLY_CONNECTED)",
                    )?;
                    y = self.output0(relu, layer)?;
                }
                other => {
                    return Err(unexpected(
                        layer,
                        format!("fused activation {other}"),
                        "RELU then MINIMUM (the clipped ReLU)",
                    ));
                }
            }
            let min = self.only_reader(
                y,
                op::MINIMUM,
                layer,
                "MINIMUM with a constant (the clipped ReLU)",
            )?;
            let bound = self.other_input(min, y, layer)?;
            found.clips.push((
                layer.to_owned(),
                self.scalar(bound, &format!("{layer}'s ReLU clip"))?,
            ));
            y = self.output0(min, layer)?;
        } else if activation != ACT_NONE {
            return Err(unexpected(
                layer,
                format!("fused activation {activation}"),
                "no activation before SOFTMAX",
            ));
        }
        found.insert_fully_connected(format!("{layer}/weights"), format!("{layer}/bias"), w, b);
        found.fully_connected.insert(fc);
        Ok(y)
    }
}
