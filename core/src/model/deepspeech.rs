//! The DeepSpeech 0.9 acoustic model: three clipped-ReLU dense layers over context windows of
//! MFCC frames, a unidirectional LSTM (so it can stream), a dense layer, and an output layer
//! over the alphabet plus the CTC blank. Time-major throughout: `[T, B, features]`.
//!
//! Layer names (`vb.pp(...)`) are the safetensors keys: `layer_1` … `layer_3`, `lstm`,
//! `layer_5`, `layer_6`, as DeepSpeech names its layers.

use std::sync::Arc;

use candle::{CpuStorage, CustomOp1, D, DType, Layout, Module, Shape, Storage, Tensor};
use candle_nn::{Linear, VarBuilder};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;
use serde::{Deserialize, Serialize};

use crate::alphabet::Alphabet;
use crate::features::FeatureConfig;
use crate::model::hybrid::HybridNetwork;
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
    /// The default beam width the model's author chose (DeepSpeech's `metadata_beam_width`);
    /// `None` leaves the decoder's own default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beam_width: Option<usize>,
    /// The language the model transcribes (DeepSpeech's `metadata_language`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
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
            beam_width: None,
            language: None,
        }
    }

    /// Checks every value a file may have set: feature geometry, an alphabet [`Self::alphabet`]
    /// can build (no duplicate, no line break, not empty), a width, ReLU clip, dropout rates and
    /// beam width in range. A config read from a file must pass before a network is built.
    pub fn validate(&self) -> Result<(), String> {
        self.features.validate()?;
        if self.alphabet.is_empty() || self.alphabet.len() > 65_535 {
            return Err(format!(
                "an alphabet of {} symbols (expected 1 to 65535)",
                self.alphabet.len()
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(c) = self.alphabet.iter().find(|c| !seen.insert(**c)) {
            return Err(format!("the alphabet holds {c:?} twice"));
        }
        self.try_alphabet()?;
        if !(1..=16_384).contains(&self.n_hidden) {
            return Err(format!("n_hidden {} (expected 1 to 16384)", self.n_hidden));
        }
        if !(self.relu_clip.is_finite() && self.relu_clip > 0.0) {
            return Err(format!("a ReLU clip of {}", self.relu_clip));
        }
        if let Some(d) = self.dropout.iter().find(|d| !(0.0..1.0).contains(*d)) {
            return Err(format!("a dropout rate of {d} (expected 0 to below 1)"));
        }
        // DeepSpeech's and Coqui's exports write 500 or 1024; wider beams cost time and memory in
        // proportion (16384 takes 140 MB and 3 s of CPU per second of audio), so a file may not
        // choose more than MAX_MODEL_BEAM_WIDTH for every user of the model (a user still can).
        if let Some(width) = self
            .beam_width
            .filter(|w| !(1..=MAX_MODEL_BEAM_WIDTH).contains(w))
        {
            return Err(format!(
                "a default beam width of {width} (expected 1 to {MAX_MODEL_BEAM_WIDTH})"
            ));
        }
        Ok(())
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
        self.try_alphabet()
            .expect("a model's alphabet is valid (Config::validate checks it)")
    }

    /// The alphabet, or why these symbols do not make one (a line break, a duplicate, ...).
    fn try_alphabet(&self) -> Result<Alphabet, String> {
        let text: String = self
            .alphabet
            .iter()
            .flat_map(|&c| {
                let escape = (c == '#').then_some('\\');
                escape.into_iter().chain([c, '\n'])
            })
            .collect();
        match Alphabet::parse(&text) {
            Ok(a) if a.len() == self.alphabet.len() => Ok(a),
            Ok(a) => Err(format!(
                "the alphabet's {} symbols read back as {}",
                self.alphabet.len(),
                a.len()
            )),
            Err(e) => Err(format!("the alphabet: {e}")),
        }
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
    /// The mask of one dropout layer over `n` values: `1 / (1 − rate)` where kept, 0 where
    /// dropped; `None` (no dropout) when `rate <= 0`.
    fn mask(&mut self, n: usize, rate: f32) -> Option<Vec<f32>> {
        if rate <= 0.0 {
            return None;
        }
        let keep = 1.0 - rate;
        let scale = 1.0 / keep;
        Some(
            (0..n)
                .map(|_| {
                    let u = (self.rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
                    if u < keep { scale } else { 0.0 }
                })
                .collect(),
        )
    }
}

/// `min(max(x, 0), clip) · mask` (clipped ReLU, then dropout) as one candle op: one pass forward
/// and one pass backward, where candle's `clamp` and `mul` build eight ops whose backward makes
/// some twenty full-size temporaries (masks, divisions and the unused gradients of the constant
/// operands).
///
/// The numbers are candle's: the forward pass uses candle's `maximum`/`minimum` comparisons and
/// the same product, and the backward pass candle's gradient, `grad · mask` where `0 < x < clip`,
/// half of it where `x` equals a bound (candle splits the gradient of `maximum`/`minimum` ties),
/// zero elsewhere.
struct ClippedReluDropout {
    clip: f32,
    mask: Option<Vec<f32>>,
}

impl ClippedReluDropout {
    /// The contiguous `f32` contents of a CPU tensor (copied to contiguous first if needed).
    fn with_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> candle::Result<R> {
        let t = t.contiguous()?;
        let (storage, layout) = t.storage_and_layout();
        let (Storage::Cpu(CpuStorage::F32(data)), Some((start, end))) =
            (&*storage, layout.contiguous_offsets())
        else {
            candle::bail!("clipped ReLU: expected a contiguous f32 CPU tensor");
        };
        Ok(f(&data[start..end]))
    }
}

impl CustomOp1 for ClippedReluDropout {
    fn name(&self) -> &'static str {
        "clipped-relu-dropout"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle::Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(data), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            candle::bail!("clipped ReLU: expected a contiguous f32 CPU tensor");
        };
        let clip = self.clip;
        // candle's `maximum` and `minimum` kernels, so NaN and −0 pass through as they do there.
        let relu = |x: f32| {
            let y = if x < 0.0 { 0.0 } else { x };
            if y > clip { clip } else { y }
        };
        let x = &data[start..end];
        let y: Vec<f32> = match &self.mask {
            Some(mask) => x.iter().zip(mask).map(|(&x, &m)| relu(x) * m).collect(),
            None => x.iter().map(|&x| relu(x)).collect(),
        };
        Ok((CpuStorage::F32(y), layout.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> candle::Result<Option<Tensor>> {
        let clip = self.clip;
        let dx = Self::with_f32(arg, |x| {
            Self::with_f32(grad, |g| {
                x.iter()
                    .zip(g)
                    .enumerate()
                    .map(|(k, (&x, &g))| {
                        let g = self.mask.as_ref().map_or(g, |m| g * m[k]);
                        if x > 0.0 && x < clip {
                            g
                        } else if x == 0.0 || x == clip {
                            g / 2.0
                        } else {
                            0.0
                        }
                    })
                    .collect::<Vec<f32>>()
            })
        })??;
        Ok(Some(Tensor::from_vec(dx, arg.shape(), arg.device())?))
    }
}

/// The network's `f32` layers.
struct FloatLayers {
    layer_1: Linear,
    layer_2: Linear,
    layer_3: Linear,
    lstm: Lstm,
    layer_5: Linear,
    layer_6: Linear,
}

impl FloatLayers {
    fn new(config: &Config, vb: VarBuilder) -> candle::Result<Self> {
        let h = config.n_hidden;
        Ok(Self {
            layer_1: dense(config.n_input(), h, vb.pp("layer_1"))?,
            layer_2: dense(h, h, vb.pp("layer_2"))?,
            layer_3: dense(h, h, vb.pp("layer_3"))?,
            lstm: Lstm::new(h, h, vb.pp("lstm"))?,
            layer_5: dense(h, h, vb.pp("layer_5"))?,
            layer_6: dense(h, config.n_classes(), vb.pp("layer_6"))?,
        })
    }
}

/// Builds a model's `f32` weights (names and shapes of [`Config::tensor_shapes`], on the CPU)
/// when a path that needs them first runs: see [`DeepSpeech::int8_with_lazy_float`].
pub type FloatWeightsSource =
    Box<dyn Fn() -> candle::Result<std::collections::HashMap<String, Tensor>> + Send + Sync>;

/// The widest default beam a model file may set (`metadata_beam_width`).
pub const MAX_MODEL_BEAM_WIDTH: usize = 4096;

/// The DeepSpeech acoustic model.
pub struct DeepSpeech {
    config: Config,
    /// The `f32` layers: built with the model, or on first use from `float_source`.
    float: std::sync::OnceLock<FloatLayers>,
    float_source: Option<FloatWeightsSource>,
    /// The same weights as int8, for streaming inference as TensorFlow Lite runs them (an
    /// imported int8 `.tflite`).
    hybrid: Option<Arc<HybridNetwork>>,
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
        let float = FloatLayers::new(&config, vb)?;
        Ok(Self {
            config,
            float: std::sync::OnceLock::from(float),
            float_source: None,
            hybrid: None,
        })
    }

    /// A model that runs streaming inference on the CPU on `hybrid`'s int8 weights (see
    /// [`Self::set_hybrid`]) and builds its `f32` weights with `float_source` only when a path
    /// that needs them first runs ([`Self::forward`], inference on another device): an int8
    /// `.tflite` then loads in milliseconds, holding its int8 weights only.
    pub fn int8_with_lazy_float(
        config: Config,
        hybrid: HybridNetwork,
        float_source: FloatWeightsSource,
    ) -> Self {
        Self {
            config,
            float: std::sync::OnceLock::new(),
            float_source: Some(float_source),
            hybrid: Some(Arc::new(hybrid)),
        }
    }

    /// The `f32` layers, built from the source on first use.
    fn float(&self) -> candle::Result<&FloatLayers> {
        if let Some(layers) = self.float.get() {
            return Ok(layers);
        }
        let Some(source) = &self.float_source else {
            candle::bail!("the model has no f32 weights");
        };
        let tensors = source()?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &candle::Device::Cpu);
        let layers = FloatLayers::new(&self.config, vb)?;
        // Two threads may race here; both built the same layers, and the first one set is kept.
        let _ = self.float.set(layers);
        Ok(self.float.get().expect("set just above"))
    }

    /// Runs streaming inference ([`Self::forward_chunk`] on the CPU) on `hybrid`'s int8 weights
    /// exactly as TensorFlow Lite does, or (with `None`) on this model's `f32` weights. Training
    /// and [`Self::forward`] always use the `f32` weights.
    pub fn set_hybrid(&mut self, hybrid: Option<HybridNetwork>) {
        self.hybrid = hybrid.map(Arc::new);
    }

    /// The int8 network streaming inference runs on, if any (see [`Self::set_hybrid`]).
    pub fn hybrid(&self) -> Option<&HybridNetwork> {
        self.hybrid.as_deref()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Clipped ReLU then, when training, dropout at `rate`. One fused op on `f32` CPU tensors;
    /// candle's `clamp` and `mul` elsewhere.
    fn clipped_relu_dropout(
        &self,
        x: &Tensor,
        dropout: &mut Option<Dropout>,
        rate: f32,
    ) -> candle::Result<Tensor> {
        let clip = self.config.relu_clip;
        if x.device().is_cpu() && x.dtype() == DType::F32 {
            let mask = dropout.as_mut().and_then(|d| d.mask(x.elem_count(), rate));
            return x
                .contiguous()?
                .apply_op1_arc(Arc::new(Box::new(ClippedReluDropout { clip, mask })));
        }
        let y = x.clamp(0f32, clip)?;
        if dropout.is_none() || rate <= 0.0 {
            return Ok(y);
        }
        // On a GPU the mask is drawn there (the device's cuRAND generator, which the trainer
        // seeds): drawing it on the CPU and copying it would cost more than the whole layer.
        let keep = 1.0 - rate;
        let mask = Tensor::rand(0f32, 1f32, x.shape(), x.device())?
            .lt(keep)?
            .to_dtype(x.dtype())?
            .affine(1.0 / f64::from(keep), 0.0)?;
        y.mul(&mask)
    }

    /// Layers 1–3 on `[T, B, n_input]`, as one `[T·B, ·]` matmul each.
    fn front(&self, x: &Tensor, dropout: &mut Option<Dropout>) -> candle::Result<Tensor> {
        let (t, b, n) = x.dims3()?;
        let mut h = x.reshape((t * b, n))?;
        let f = self.float()?;
        for (i, layer) in [&f.layer_1, &f.layer_2, &f.layer_3].into_iter().enumerate() {
            h = self.clipped_relu_dropout(&layer.forward(&h)?, dropout, self.config.dropout[i])?;
        }
        h.reshape((t, b, self.config.n_hidden))
    }

    /// Layers 5–6 on the LSTM output `[T, B, H]`, giving logits `[T, B, classes]`.
    fn back(&self, h: &Tensor, dropout: &mut Option<Dropout>) -> candle::Result<Tensor> {
        let (t, b, n) = h.dims3()?;
        let f = self.float()?;
        let h = f.layer_5.forward(&h.reshape((t * b, n))?)?;
        let h = self.clipped_relu_dropout(&h, dropout, self.config.dropout[3])?;
        f.layer_6
            .forward(&h)?
            .reshape((t, b, self.config.n_classes()))
    }

    /// Logits `[T, B, classes]` of context windows `[T, B, n_input]`, from a zero LSTM state.
    /// With `dropout`, applies the configured dropout (training).
    pub fn forward(&self, x: &Tensor, mut dropout: Option<Dropout>) -> candle::Result<Tensor> {
        let h = self.front(x, &mut dropout)?;
        let h = self.float()?.lstm.forward(&h)?;
        self.back(&h, &mut dropout)
    }

    /// Logits of one chunk of context windows continuing from `state` (streaming inference),
    /// and the LSTM state after it.
    pub fn forward_chunk(
        &self,
        x: &Tensor,
        state: Option<&LstmState>,
    ) -> candle::Result<(Tensor, LstmState)> {
        if let Some(hybrid) = &self.hybrid
            && x.device().is_cpu()
        {
            return Self::forward_chunk_hybrid(hybrid, x, state);
        }
        let h = self.front(x, &mut None)?;
        let (h, state) = self.float()?.lstm.forward_with_state(&h, state)?;
        Ok((self.back(&h, &mut None)?, state))
    }

    /// [`Self::forward_chunk`] on the int8 network.
    fn forward_chunk_hybrid(
        hybrid: &HybridNetwork,
        x: &Tensor,
        state: Option<&LstmState>,
    ) -> candle::Result<(Tensor, LstmState)> {
        let (steps, batch, width) = x.dims3()?;
        if width != hybrid.n_input() {
            candle::bail!(
                "{width} inputs per step, the model takes {}",
                hybrid.n_input()
            );
        }
        let inputs = x.flatten_all()?.to_vec1::<f32>()?;
        let state = match state {
            Some(s) => Some((
                s.h.flatten_all()?.to_vec1::<f32>()?,
                s.c.flatten_all()?.to_vec1::<f32>()?,
            )),
            None => None,
        };
        let hidden = hybrid.hidden();
        if let Some((h, c)) = &state
            && (h.len() != batch * hidden || c.len() != batch * hidden)
        {
            candle::bail!("the LSTM state does not hold {batch} × {hidden} values");
        }
        let (logits, h, c) = hybrid.forward_chunk(
            &inputs,
            steps,
            batch,
            state.as_ref().map(|(h, c)| (&h[..], &c[..])),
        );
        let dev = x.device();
        let classes = logits.len() / (steps * batch).max(1);
        Ok((
            Tensor::from_vec(logits, (steps, batch, classes), dev)?,
            LstmState {
                h: Tensor::from_vec(h, (batch, hidden), dev)?,
                c: Tensor::from_vec(c, (batch, hidden), dev)?,
            },
        ))
    }

    /// Log-probabilities `[T, B, classes]` (log-softmax over the last axis).
    pub fn log_probs(&self, x: &Tensor) -> candle::Result<Tensor> {
        candle_nn::ops::log_softmax(&self.forward(x, None)?, D::Minus1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle::{Device, Var};
    use rand_chacha::rand_core::SeedableRng;

    /// The fused op gives candle's `clamp` + `mul` forward values and gradients bit for bit,
    /// including the ties at 0 and at the clip where candle halves the gradient.
    #[test]
    fn fused_clipped_relu_dropout_equals_candle_ops() {
        let dev = Device::Cpu;
        let mut values: Vec<f32> = Tensor::randn(0f32, 15.0, 4000, &dev)
            .unwrap()
            .to_vec1()
            .unwrap();
        values[..6].copy_from_slice(&[0.0, -0.0, 20.0, -3.0, 25.0, 7.5]);
        let x = Var::new(values.as_slice(), &dev).unwrap();
        let r = Tensor::randn(0f32, 1.0, 4000, &dev).unwrap();
        let model = DeepSpeech::new(
            Config::new(4, &Alphabet::english()),
            VarBuilder::zeros(DType::F32, &dev),
        )
        .unwrap();
        for rate in [0.0, 0.3] {
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut dropout = Some(Dropout { rng: &mut rng });
            let fused = model
                .clipped_relu_dropout(x.as_tensor(), &mut dropout, rate)
                .unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut reference = x.as_tensor().clamp(0f32, 20f32).unwrap();
            if let Some(mask) = (Dropout { rng: &mut rng }).mask(4000, rate) {
                reference = reference
                    .mul(&Tensor::from_vec(mask, 4000, &dev).unwrap())
                    .unwrap();
            }
            let grad = |y: &Tensor| -> Vec<f32> {
                let g = (y * &r).unwrap().sum_all().unwrap().backward().unwrap();
                g.get(&x).unwrap().to_vec1().unwrap()
            };
            let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
            assert_eq!(
                bits(fused.to_vec1().unwrap()),
                bits(reference.to_vec1().unwrap()),
                "forward, rate {rate}"
            );
            let (gf, gr) = (grad(&fused), grad(&reference));
            // candle's gradient of 0 + (−0) is +0; compare values, not the sign of zero.
            assert_eq!(gf, gr, "gradient, rate {rate}");
            if rate == 0.0 {
                // The ties were exercised: half the gradient at 0 and at the clip.
                let r: Vec<f32> = r.to_vec1().unwrap();
                assert_eq!(
                    (gf[0], gf[2], gf[3], gf[4]),
                    (r[0] / 2.0, r[2] / 2.0, 0.0, 0.0)
                );
            }
        }
    }
}
