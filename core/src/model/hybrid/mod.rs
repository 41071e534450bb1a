//! Inference with int8 weights as TensorFlow Lite runs them: DeepSpeech's and Coqui STT's
//! default `.tflite` export stores every weight matrix as int8 with one scale, and TensorFlow
//! Lite's "hybrid" FULLY_CONNECTED multiplies them with inputs quantised to int8 on the fly, one
//! scale per input row ([`quantize`], [`matmul`]). Its LOGISTIC and TANH are Eigen's rational
//! fits ([`eigen`]). This module computes exactly that, so that an int8 model gives
//! libdeepspeech-tflite's numbers (and transcripts), reading a quarter of the bytes a float
//! model reads per frame.
//!
//! The network is DeepSpeech's, in TensorFlow Lite's layouts: dense weights `[out, in]`, the
//! LSTM's kernel `[4·hidden, inputs + hidden]` applied to `concat(x_t, h)` with the gates in
//! TensorFlow's order i, j, f, o, and `c' = σ(f + forget_bias)·c + σ(i)·tanh(j)`,
//! `h' = σ(o)·tanh(c')`, each product and sum rounded on its own. Layers the file keeps in float
//! (small ones the converter leaves unquantised) run as plain float products.
//!
//! Only inference: training and every other path use the dequantised `f32` copy of the same
//! weights in [`crate::model::DeepSpeech`].

pub mod eigen;
pub mod matmul;
pub mod quantize;

pub use matmul::Int8Matrix;

use crate::model::Config;

/// One layer's weight matrix `[out, in]`.
#[derive(Debug, Clone)]
pub enum Weights {
    /// int8 with one scale: the hybrid product.
    Int8(Int8Matrix),
    /// float32, row-major `[rows, cols]`.
    Float {
        /// Output rows.
        rows: usize,
        /// Inputs per row.
        cols: usize,
        /// The values.
        data: Vec<f32>,
    },
}

impl Weights {
    fn rows(&self) -> usize {
        match self {
            Weights::Int8(m) => m.rows(),
            Weights::Float { rows, .. } => *rows,
        }
    }

    fn cols(&self) -> usize {
        match self {
            Weights::Int8(m) => m.cols(),
            Weights::Float { cols, .. } => *cols,
        }
    }
}

/// A fully connected layer: weights and bias.
#[derive(Debug, Clone)]
pub struct Layer {
    weights: Weights,
    bias: Vec<f32>,
}

impl Layer {
    /// A layer; `Err` when the bias does not have one value per output row.
    pub fn new(weights: Weights, bias: Vec<f32>) -> Result<Self, String> {
        if let Weights::Float { rows, cols, data } = &weights
            && rows.checked_mul(*cols) != Some(data.len())
        {
            return Err(format!(
                "{} float weights for a [{rows}, {cols}] matrix",
                data.len()
            ));
        }
        if bias.len() != weights.rows() {
            return Err(format!(
                "a bias of {} values for {} outputs",
                bias.len(),
                weights.rows()
            ));
        }
        Ok(Self { weights, bias })
    }

    /// Whether the weights are int8.
    pub fn is_int8(&self) -> bool {
        matches!(self.weights, Weights::Int8(_))
    }

    fn shape(&self) -> (usize, usize) {
        (self.weights.rows(), self.weights.cols())
    }

    /// `out = bias + W · x` for `batch` rows of `x` (`[batch, cols]`), as TensorFlow Lite's
    /// FULLY_CONNECTED computes it; `scratch` is reused between calls.
    fn forward(&self, x: &[f32], batch: usize, scratch: &mut Scratch, out: &mut Vec<f32>) {
        let (rows, cols) = self.shape();
        debug_assert_eq!(x.len(), batch * cols);
        out.clear();
        out.resize(batch * rows, 0.0);
        match &self.weights {
            Weights::Int8(m) => {
                let stride = m.stride();
                scratch.q.clear();
                scratch.q.resize(batch * stride, 0);
                scratch.scales.clear();
                for (xb, qb) in x.chunks_exact(cols).zip(scratch.q.chunks_exact_mut(stride)) {
                    let s = quantize::symmetric_row(xb, &mut qb[..cols]);
                    scratch.scales.push(s * m.scale());
                }
                m.hybrid_product(&scratch.q, &scratch.scales, &self.bias, out);
            }
            Weights::Float { data, .. } => {
                for (xb, ob) in x.chunks_exact(cols).zip(out.chunks_exact_mut(rows)) {
                    for ((o, w), &b) in ob.iter_mut().zip(data.chunks_exact(cols)).zip(&self.bias) {
                        let dot: f32 = w.iter().zip(xb).map(|(&w, &x)| w * x).sum();
                        *o = b + dot;
                    }
                }
            }
        }
    }
}

/// Buffers reused across layers and steps.
#[derive(Default)]
struct Scratch {
    q: Vec<i8>,
    scales: Vec<f32>,
}

/// DeepSpeech's network in TensorFlow Lite's layouts (see the module documentation).
#[derive(Debug, Clone)]
pub struct HybridNetwork {
    /// Layers 1–3 (clipped ReLU).
    pub dense_front: [Layer; 3],
    /// The LSTM's kernel `[4·hidden, inputs + hidden]` (gates i, j, f, o) and bias.
    pub lstm: Layer,
    /// The constant added to the forget gate's pre-activation.
    pub forget_bias: f32,
    /// Layer 5 (clipped ReLU).
    pub layer_5: Layer,
    /// Layer 6 (the logits).
    pub layer_6: Layer,
    /// The ReLU clip.
    pub relu_clip: f32,
}

impl HybridNetwork {
    /// Checks every layer's shape against `config`; `Err` names the first that does not fit.
    pub fn check(&self, config: &Config) -> Result<(), String> {
        let h = config.n_hidden;
        let expected = [
            ("layer_1", &self.dense_front[0], (h, config.n_input())),
            ("layer_2", &self.dense_front[1], (h, h)),
            ("layer_3", &self.dense_front[2], (h, h)),
            ("the LSTM kernel", &self.lstm, (4 * h, 2 * h)),
            ("layer_5", &self.layer_5, (h, h)),
            ("layer_6", &self.layer_6, (config.n_classes(), h)),
        ];
        for (name, layer, shape) in expected {
            if layer.shape() != shape {
                return Err(format!(
                    "{name} is {:?}, expected {shape:?} (rows, inputs)",
                    layer.shape()
                ));
            }
        }
        Ok(())
    }

    /// Inputs per time step (layer 1's width).
    pub fn n_input(&self) -> usize {
        self.dense_front[0].shape().1
    }

    /// The hidden width.
    pub fn hidden(&self) -> usize {
        self.layer_5.shape().0
    }

    /// Whether any layer runs on int8 weights.
    pub fn has_int8(&self) -> bool {
        self.dense_front.iter().any(Layer::is_int8)
            || self.lstm.is_int8()
            || self.layer_5.is_int8()
            || self.layer_6.is_int8()
    }

    /// Whether every float the network holds (biases, scales, float weights, forget bias and
    /// ReLU clip) is finite.
    pub fn is_finite(&self) -> bool {
        let layers = self
            .dense_front
            .iter()
            .chain([&self.lstm, &self.layer_5, &self.layer_6]);
        let finite = |v: &[f32]| v.iter().all(|v| v.is_finite());
        self.forget_bias.is_finite()
            && self.relu_clip.is_finite()
            && layers.into_iter().all(|l| {
                finite(&l.bias)
                    && match &l.weights {
                        Weights::Int8(m) => m.scale().is_finite(),
                        Weights::Float { data, .. } => finite(data),
                    }
            })
    }

    /// Bytes of weights held.
    pub fn weight_bytes(&self) -> usize {
        let layers = self
            .dense_front
            .iter()
            .chain([&self.lstm, &self.layer_5, &self.layer_6]);
        layers
            .map(|l| {
                4 * l.bias.len()
                    + match &l.weights {
                        Weights::Int8(m) => m.bytes(),
                        Weights::Float { data, .. } => 4 * data.len(),
                    }
            })
            .sum()
    }

    fn clipped_relu(&self, v: &mut [f32]) {
        let clip = self.relu_clip;
        for v in v {
            // TensorFlow Lite: the fused RELU (max(0, x)), then the MINIMUM op.
            let r = if *v > 0.0 { *v } else { 0.0 };
            *v = if r < clip { r } else { clip };
        }
    }

    /// Logits `[T, B, classes]` for context windows `x` (`[T, B, n_input]`, time-major) from
    /// the LSTM state `state` (`h`, `c`, each `[B, hidden]`; zeros when `None`), and the state
    /// after the last step.
    pub fn forward_chunk(
        &self,
        x: &[f32],
        steps: usize,
        batch: usize,
        state: Option<(&[f32], &[f32])>,
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let hsz = self.hidden();
        let rows = steps * batch;
        let mut scratch = Scratch::default();
        let (mut a, mut b) = (Vec::new(), x.to_vec());
        for layer in &self.dense_front {
            layer.forward(&b, rows, &mut scratch, &mut a);
            self.clipped_relu(&mut a);
            std::mem::swap(&mut a, &mut b);
        }
        let (mut h, mut c) = match state {
            Some((h, c)) => (h.to_vec(), c.to_vec()),
            None => (vec![0.0; batch * hsz], vec![0.0; batch * hsz]),
        };
        let mut outputs = vec![0f32; rows * hsz];
        let mut joined = vec![0f32; 2 * hsz];
        let mut gates = Vec::with_capacity(4 * hsz);
        for t in 0..steps {
            for s in 0..batch {
                let row = t * batch + s;
                joined[..hsz].copy_from_slice(&b[row * hsz..(row + 1) * hsz]);
                joined[hsz..].copy_from_slice(&h[s * hsz..(s + 1) * hsz]);
                self.lstm.forward(&joined, 1, &mut scratch, &mut gates);
                let (i, rest) = gates.split_at(hsz);
                let (j, rest) = rest.split_at(hsz);
                let (f, o) = rest.split_at(hsz);
                let c = &mut c[s * hsz..(s + 1) * hsz];
                let h = &mut h[s * hsz..(s + 1) * hsz];
                for u in 0..hsz {
                    let forget = eigen::logistic(f[u] + self.forget_bias) * c[u];
                    let input = eigen::logistic(i[u]) * eigen::tanh(j[u]);
                    c[u] = forget + input;
                    h[u] = eigen::logistic(o[u]) * eigen::tanh(c[u]);
                }
                outputs[row * hsz..(row + 1) * hsz].copy_from_slice(h);
            }
        }
        self.layer_5.forward(&outputs, rows, &mut scratch, &mut a);
        self.clipped_relu(&mut a);
        self.layer_6.forward(&a, rows, &mut scratch, &mut b);
        (b, h, c)
    }
}
