//! The DeepSpeech 0.9 acoustic model: three clipped-ReLU dense layers over context windows of
//! MFCC frames, a unidirectional LSTM (so it can stream), a dense layer, and an output layer
//! over the alphabet plus the CTC blank. Time-major throughout: `[T, B, features]`.
//!
//! Layer names (`vb.pp(...)`) are the safetensors keys: `layer_1` … `layer_3`, `lstm`,
//! `layer_5`, `layer_6`, as DeepSpeech names its layers.

use candle::{D, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;
use serde::{Deserialize, Serialize};

use crate::alphabet::Alphabet;
use crate::features::FeatureConfig;
use crate::model::lstm::{Lstm, LstmState};

/// The model's geometry and regularisation, stored with its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Width of the three dense layers, the LSTM and layer 5 (DeepSpeech's `--n_hidden`).
    pub n_hidden: usize,
    /// Dropout rates of layers 1, 2, 3 and 5 (DeepSpeech's `--dropout_rate`, `2`, `3`, `6`).
    pub dropout: [f32; 4],
    /// Upper clip of the ReLUs (DeepSpeech's `--relu_clip`, 20).
    pub relu_clip: f32,
    /// The output symbols, in label order; the CTC blank is one more class after them.
    pub alphabet: Vec<char>,
    /// Feature extraction the model was trained with.
    pub features: FeatureConfig,
}

impl Config {
    /// DeepSpeech's defaults with the given width and alphabet.
    pub fn new(n_hidden: usize, alphabet: &Alphabet) -> Self {
        Self {
            n_hidden,
            dropout: [0.05; 4],
            relu_clip: 20.0,
            alphabet: alphabet.symbols().to_vec(),
            features: FeatureConfig::default(),
        }
    }

    /// Inputs per time step (494 for DeepSpeech).
    pub fn n_input(&self) -> usize {
        self.features.input_width()
    }

    /// Output classes: the alphabet plus the blank.
    pub fn n_classes(&self) -> usize {
        self.alphabet.len() + 1
    }

    /// The alphabet as an [`Alphabet`].
    pub fn alphabet(&self) -> Alphabet {
        let text: String = self
            .alphabet
            .iter()
            .flat_map(|&c| {
                let escape = (c == '#').then_some('\\');
                escape.into_iter().chain([c, '\n'])
            })
            .collect();
        Alphabet::parse(&text).expect("a model's alphabet is valid")
    }

    /// Names and shapes of every weight, in the order they are created.
    pub fn tensor_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let h = self.n_hidden;
        let mut shapes = Vec::new();
        let mut dense = |name: &str, inputs: usize, outputs: usize| {
            shapes.push((format!("{name}.weight"), vec![outputs, inputs]));
            shapes.push((format!("{name}.bias"), vec![outputs]));
        };
        dense("layer_1", self.n_input(), h);
        dense("layer_2", h, h);
        dense("layer_3", h, h);
        shapes.push(("lstm.weight_ih_l0".into(), vec![4 * h, h]));
        shapes.push(("lstm.weight_hh_l0".into(), vec![4 * h, h]));
        shapes.push(("lstm.bias_ih_l0".into(), vec![4 * h]));
        shapes.push(("lstm.bias_hh_l0".into(), vec![4 * h]));
        let mut dense = |name: &str, inputs: usize, outputs: usize| {
            shapes.push((format!("{name}.weight"), vec![outputs, inputs]));
            shapes.push((format!("{name}.bias"), vec![outputs]));
        };
        dense("layer_5", h, h);
        dense("layer_6", h, self.n_classes());
        shapes
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.tensor_shapes()
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum()
    }
}

/// Dropout driven by the trainer's own RNG, so that a resumed run draws the same masks.
pub struct Dropout<'a> {
    /// The random source.
    pub rng: &'a mut ChaCha8Rng,
}

impl Dropout<'_> {
    fn apply(&mut self, x: &Tensor, rate: f32) -> candle::Result<Tensor> {
        if rate <= 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - rate;
        let scale = 1.0 / keep;
        let n = x.elem_count();
        let mask: Vec<f32> = (0..n)
            .map(|_| {
                let u = (self.rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
                if u < keep { scale } else { 0.0 }
            })
            .collect();
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?;
        x.mul(&mask)
    }
}

/// The DeepSpeech acoustic model.
pub struct DeepSpeech {
    config: Config,
    layer_1: Linear,
    layer_2: Linear,
    layer_3: Linear,
    lstm: Lstm,
    layer_5: Linear,
    layer_6: Linear,
}

impl std::fmt::Debug for DeepSpeech {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeepSpeech")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn dense(inputs: usize, outputs: usize, vb: VarBuilder) -> candle::Result<Linear> {
    // Glorot-uniform weights and zero biases, as DeepSpeech initialises its dense layers.
    let bound = (6.0 / (inputs + outputs) as f64).sqrt();
    let weight = vb.get_with_hints(
        (outputs, inputs),
        "weight",
        candle_nn::Init::Uniform {
            lo: -bound,
            up: bound,
        },
    )?;
    let bias = vb.get_with_hints(outputs, "bias", candle_nn::Init::Const(0.0))?;
    Ok(Linear::new(weight, Some(bias)))
}

impl DeepSpeech {
    /// Builds (or loads, depending on `vb`) the model for `config`.
    pub fn new(config: Config, vb: VarBuilder) -> candle::Result<Self> {
        let h = config.n_hidden;
        Ok(Self {
            layer_1: dense(config.n_input(), h, vb.pp("layer_1"))?,
            layer_2: dense(h, h, vb.pp("layer_2"))?,
            layer_3: dense(h, h, vb.pp("layer_3"))?,
            lstm: Lstm::new(h, h, vb.pp("lstm"))?,
            layer_5: dense(h, h, vb.pp("layer_5"))?,
            layer_6: dense(h, config.n_classes(), vb.pp("layer_6"))?,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn clipped_relu(&self, x: &Tensor) -> candle::Result<Tensor> {
        x.clamp(0f32, self.config.relu_clip)
    }

    /// Layers 1–3 on `[T, B, n_input]`, as one `[T·B, ·]` matmul each.
    fn front(&self, x: &Tensor, dropout: &mut Option<Dropout>) -> candle::Result<Tensor> {
        let (t, b, n) = x.dims3()?;
        let mut h = x.reshape((t * b, n))?;
        for (i, layer) in [&self.layer_1, &self.layer_2, &self.layer_3]
            .into_iter()
            .enumerate()
        {
            h = self.clipped_relu(&layer.forward(&h)?)?;
            if let Some(d) = dropout.as_mut() {
                h = d.apply(&h, self.config.dropout[i])?;
            }
        }
        h.reshape((t, b, self.config.n_hidden))
    }

    /// Layers 5–6 on the LSTM output `[T, B, H]`, giving logits `[T, B, classes]`.
    fn back(&self, h: &Tensor, dropout: &mut Option<Dropout>) -> candle::Result<Tensor> {
        let (t, b, n) = h.dims3()?;
        let mut h = self.clipped_relu(&self.layer_5.forward(&h.reshape((t * b, n))?)?)?;
        if let Some(d) = dropout.as_mut() {
            h = d.apply(&h, self.config.dropout[3])?;
        }
        self.layer_6
            .forward(&h)?
            .reshape((t, b, self.config.n_classes()))
    }

    /// Logits `[T, B, classes]` of context windows `[T, B, n_input]`, from a zero LSTM state.
    /// With `dropout`, applies the configured dropout (training).
    pub fn forward(&self, x: &Tensor, mut dropout: Option<Dropout>) -> candle::Result<Tensor> {
        let h = self.front(x, &mut dropout)?;
        let h = self.lstm.forward(&h)?;
        self.back(&h, &mut dropout)
    }

    /// Logits of one chunk of context windows continuing from `state` (streaming inference),
    /// and the LSTM state after it.
    pub fn forward_chunk(
        &self,
        x: &Tensor,
        state: Option<&LstmState>,
    ) -> candle::Result<(Tensor, LstmState)> {
        let h = self.front(x, &mut None)?;
        let (h, state) = self.lstm.forward_with_state(&h, state)?;
        Ok((self.back(&h, &mut None)?, state))
    }

    /// Log-probabilities `[T, B, classes]` (log-softmax over the last axis).
    pub fn log_probs(&self, x: &Tensor) -> candle::Result<Tensor> {
        candle_nn::ops::log_softmax(&self.forward(x, None)?, D::Minus1)
    }
}
