//! On-the-fly training augmentation, after DeepSpeech 0.9's `--augment NAME[KEY=VALUE,...]`.
//!
//! Signal augmentations (`volume`, `noise`, `overlay`, `reverb`, `resample`, `tempo`/`speed`,
//! `pitch`) change the 16 kHz samples before the MFCC front-end; feature augmentations
//! (`frequency_mask`, `time_mask`, `add`, `multiply`) change the MFCC matrix. Every augmentation
//! has `p`, the probability of applying it to a sample (default 1). A value is a number, a
//! uniform range `a:b`, or a normal `mean~stddev` (clipped to mean ± 2 stddev, then to the
//! parameter's valid range). Differences from DeepSpeech: `a:b` is a uniform draw, not a ramp
//! over training, and `~` gives a normal, not a uniform radius.
//!
//! All randomness of a sample comes from [`sample_rng`] (run seed, epoch, sample index), so an
//! epoch's augmented data does not depend on batch order, threads or where a run was resumed.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::audio::{MODEL_SAMPLE_RATE, load_wav_16k, resample};
use crate::error::AugmentError;
use crate::features::{FeatureMatrix, MfccExtractor};

/// Every augmentation with the value each parameter takes when the spec leaves it out (`p`
/// defaults to 1 for all), as `ds-train --help` lists them; a unit test keeps this list and the
/// parser's defaults equal.
pub const DEFAULT_SPECS: [&str; 12] = [
    "volume[dbfs=3.0103]",
    "noise[snr=10,color=white]",
    "overlay[source=(required),snr=3,layers=1]",
    "reverb[delay=20,decay=10]",
    "resample[rate=8000]",
    "tempo[factor=1.1]",
    "speed[factor=1.1]",
    "pitch[pitch=1.1]",
    "frequency_mask[n=3,size=2]",
    "time_mask[n=3,size=2]",
    "add[stddev=1]",
    "multiply[stddev=0.1]",
];

/// How a parameter's value is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// Always this value (`3.5`).
    Fixed(f64),
    /// Uniform between the two (`a:b`).
    Uniform(f64, f64),
    /// Normal (`mean~stddev`), clipped to mean ± 2 stddev.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
}

impl Value {
    /// Parses `x`, `a:b` or `mean~stddev`.
    pub fn parse(text: &str) -> Option<Self> {
        let num = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
        if let Some((a, b)) = text.split_once(':') {
            Some(Value::Uniform(num(a)?, num(b)?))
        } else if let Some((m, s)) = text.split_once('~') {
            Some(Value::Normal {
                mean: num(m)?,
                stddev: num(s)?,
            })
        } else {
            Some(Value::Fixed(num(text)?))
        }
    }
}

/// A parameter: how it is drawn and the range it is clamped to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    /// How the value is drawn.
    pub value: Value,
    /// Smallest valid value.
    pub min: f64,
    /// Largest valid value.
    pub max: f64,
}

impl Param {
    /// Draws a value.
    pub fn pick(&self, rng: &mut ChaCha8Rng) -> f64 {
        let v = match self.value {
            Value::Fixed(v) => v,
            Value::Uniform(a, b) => a + (b - a) * uniform(rng),
            Value::Normal { mean, stddev } => mean + stddev * gaussian(rng).clamp(-2.0, 2.0),
        };
        v.clamp(self.min, self.max)
    }
}

/// A uniform draw in [0, 1).
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - uniform(rng); // (0, 1]
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A uniform index below `n` (n > 0).
fn index(rng: &mut ChaCha8Rng, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

/// The colour of generated noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseColor {
    /// Flat spectrum.
    White,
    /// −3 dB per octave (Paul Kellet's filter).
    Pink,
    /// −6 dB per octave (leaky integrator).
    Brown,
    /// One of the three, drawn per sample.
    Any,
}

/// An augmentation and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Normalise the RMS level to `dbfs` (a full-scale sine is 0 dBFS, as DeepSpeech).
    Volume {
        /// Target level.
        dbfs: Param,
    },
    /// Add generated noise at `snr` dB.
    Noise {
        /// Signal-to-noise ratio in dB.
        snr: Param,
        /// Noise colour.
        color: NoiseColor,
    },
    /// Add `layers` random excerpts of the `source` recordings at `snr` dB.
    Overlay {
        /// A folder of WAVs (searched recursively) or a DeepSpeech CSV.
        source: PathBuf,
        /// Signal-to-noise ratio in dB.
        snr: Param,
        /// Recordings mixed together.
        layers: Param,
    },
    /// DeepSpeech's reverb: five feedback echoes at `delay` ms × 17/17…31/17, each `decay` dB
    /// quieter per repeat; the level is restored afterwards.
    Reverb {
        /// First echo delay in ms.
        delay: Param,
        /// Attenuation per repeat in dB.
        decay: Param,
    },
    /// Down to `rate` Hz and back up (band-limits to rate/2: telephone audio at 8000).
    Resample {
        /// Intermediate sample rate (rounded to 100 Hz).
        rate: Param,
    },
    /// Speed change by `factor` (> 1: faster and shorter; pitch moves with it).
    Tempo {
        /// Speed factor (rounded to 1/160).
        factor: Param,
    },
    /// Pitch change by `pitch` at constant duration: a speed change of the signal, whose
    /// feature frames are then stretched back to the original duration.
    Pitch {
        /// Pitch factor (rounded to 1/160).
        pitch: Param,
    },
    /// SpecAugment frequency masks: `n` bands of `size` coefficients set to their mean.
    FrequencyMask {
        /// Number of masks.
        n: Param,
        /// Coefficients per mask.
        size: Param,
    },
    /// SpecAugment time masks: `n` spans of `size` frames set to the mean frame.
    TimeMask {
        /// Number of masks.
        n: Param,
        /// Frames per mask.
        size: Param,
    },
    /// Add normal noise of `stddev` to every feature.
    Add {
        /// Standard deviation.
        stddev: Param,
    },
    /// Multiply every feature by a normal draw of mean 1 and `stddev`.
    Multiply {
        /// Standard deviation.
        stddev: Param,
    },
}

/// One `--augment` specification.
#[derive(Debug, Clone, PartialEq)]
pub struct Augmentation {
    /// The specification as given (for logs).
    pub spec: String,
    /// Probability of applying it to a sample.
    pub p: Param,
    /// What it does.
    pub kind: Kind,
}

impl Augmentation {
    /// Whether it works on the audio signal (so features must be recomputed).
    pub fn is_signal(&self) -> bool {
        !matches!(
            self.kind,
            Kind::FrequencyMask { .. }
                | Kind::TimeMask { .. }
                | Kind::Add { .. }
                | Kind::Multiply { .. }
        )
    }
}

/// The `key=value` pairs of a specification, consumed as the parser asks for them.
struct Params<'a> {
    spec: &'a str,
    entries: Vec<(String, String)>,
}

impl Params<'_> {
    fn error(&self, reason: impl Into<String>) -> AugmentError {
        AugmentError::Spec {
            spec: self.spec.to_owned(),
            reason: reason.into(),
        }
    }

    fn text(&mut self, key: &str) -> Option<String> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }

    fn param(
        &mut self,
        key: &str,
        default: f64,
        min: f64,
        max: f64,
    ) -> Result<Param, AugmentError> {
        let value = match self.text(key) {
            None => Value::Fixed(default),
            Some(text) => Value::parse(&text).ok_or_else(|| {
                self.error(format!(
                    "`{key}={text}` is not a number, a range `a:b` or a normal `mean~stddev`"
                ))
            })?,
        };
        let inside = |v: f64| (min..=max).contains(&v);
        let ok = match value {
            Value::Fixed(v) => inside(v),
            Value::Uniform(a, b) => a <= b && inside(a) && inside(b),
            Value::Normal { mean, stddev } => stddev >= 0.0 && inside(mean),
        };
        if !ok {
            return Err(self.error(format!(
                "`{key}` must lie in [{min}, {max}] (ranges low:high)"
            )));
        }
        Ok(Param { value, min, max })
    }

    fn finish(self) -> Result<(), AugmentError> {
        match self.entries.first() {
            Some((k, _)) => Err(self.error(format!("unknown key `{k}`"))),
            None => Ok(()),
        }
    }
}

impl FromStr for Augmentation {
    type Err = AugmentError;

    fn from_str(spec: &str) -> Result<Self, AugmentError> {
        let trimmed = spec.trim();
        let mut params = Params {
            spec,
            entries: vec![],
        };
        let (name, body) = match trimmed.split_once('[') {
            Some((name, rest)) => match rest.strip_suffix(']') {
                Some(body) => (name.trim(), body),
                None => return Err(params.error("missing the closing `]`")),
            },
            None => (trimmed, ""),
        };
        for item in body.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((k, v)) = item.split_once('=') else {
                return Err(params.error(format!("`{item}` is not key=value")));
            };
            let k = k.trim().to_owned();
            if params.entries.iter().any(|(seen, _)| *seen == k) {
                return Err(params.error(format!("`{k}` is given twice")));
            }
            params.entries.push((k, v.trim().to_owned()));
        }
        let p = params.param("p", 1.0, 0.0, 1.0)?;
        let kind = match name {
            "volume" => Kind::Volume {
                dbfs: params.param("dbfs", 3.0103, -100.0, 10.0)?,
            },
            "noise" => Kind::Noise {
                snr: params.param("snr", 10.0, -30.0, 100.0)?,
                color: match params.text("color").as_deref() {
                    None | Some("white") => NoiseColor::White,
                    Some("pink") => NoiseColor::Pink,
                    Some("brown") => NoiseColor::Brown,
                    Some("any") => NoiseColor::Any,
                    Some(other) => {
                        return Err(params.error(format!(
                            "color `{other}`: expected white, pink, brown or any"
                        )));
                    }
                },
            },
            "overlay" => Kind::Overlay {
                source: params
                    .text("source")
                    .map(PathBuf::from)
                    .ok_or_else(|| params.error("overlay needs source=DIR_OR_CSV"))?,
                snr: params.param("snr", 3.0, -30.0, 100.0)?,
                layers: params.param("layers", 1.0, 1.0, 16.0)?,
            },
            "reverb" => Kind::Reverb {
                delay: params.param("delay", 20.0, 1.0, 1000.0)?,
                decay: params.param("decay", 10.0, 0.0, 100.0)?,
            },
            "resample" => Kind::Resample {
                rate: params.param("rate", 8000.0, 1000.0, 16000.0)?,
            },
            "tempo" | "speed" => Kind::Tempo {
                factor: params.param("factor", 1.1, 0.5, 2.0)?,
            },
            "pitch" => Kind::Pitch {
                pitch: params.param("pitch", 1.1, 0.5, 2.0)?,
            },
            "frequency_mask" => Kind::FrequencyMask {
                n: params.param("n", 3.0, 0.0, 100.0)?,
                size: params.param("size", 2.0, 0.0, 1000.0)?,
            },
            "time_mask" => {
                match params.text("domain").as_deref() {
                    None | Some("spectrogram") | Some("features") => {}
                    Some(other) => {
                        return Err(params.error(format!(
                            "domain `{other}`: time masks work on features (spectrogram|features)"
                        )));
                    }
                }
                Kind::TimeMask {
                    n: params.param("n", 3.0, 0.0, 100.0)?,
                    size: params.param("size", 2.0, 0.0, 10000.0)?,
                }
            }
            "add" | "multiply" => {
                match params.text("domain").as_deref() {
                    None | Some("features") => {}
                    Some(other) => {
                        return Err(params
                            .error(format!("domain `{other}`: {name} works on features only")));
                    }
                }
                let stddev =
                    params.param("stddev", if name == "add" { 1.0 } else { 0.1 }, 0.0, 1e3)?;
                if name == "add" {
                    Kind::Add { stddev }
                } else {
                    Kind::Multiply { stddev }
                }
            }
            other => {
                return Err(params.error(format!(
                    "unknown augmentation `{other}` (volume, noise, overlay, reverb, resample, \
                     tempo, speed, pitch, frequency_mask, time_mask, add, multiply)"
                )));
            }
        };
        params.finish()?;
        Ok(Augmentation {
            spec: trimmed.to_owned(),
            p,
            kind,
        })
    }
}

/// The random stream of one sample in one epoch: a pure function of its arguments.
pub fn sample_rng(seed: u64, epoch: usize, index: usize) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(epoch as u64).to_le_bytes());
    key[16..24].copy_from_slice(&(index as u64).to_le_bytes());
    key[24..].copy_from_slice(b"augment!");
    ChaCha8Rng::from_seed(key)
}

/// A list of augmentations ready to apply (overlay recordings loaded).
#[derive(Debug, Clone, Default)]
pub struct Augmenter {
    augmentations: Vec<Augmentation>,
    /// The recordings of each `overlay`, by position in `augmentations`.
    pools: Vec<Vec<Vec<f32>>>,
}

impl Augmenter {
    /// Prepares the augmentations, loading every `overlay` source into memory.
    pub fn new(augmentations: Vec<Augmentation>) -> Result<Self, AugmentError> {
        let pools = augmentations
            .iter()
            .map(|a| match &a.kind {
                Kind::Overlay { source, .. } => load_pool(source),
                _ => Ok(vec![]),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            augmentations,
            pools,
        })
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.augmentations.is_empty()
    }

    /// Whether any augmentation works on the signal (the audio must then be kept).
    pub fn has_signal(&self) -> bool {
        self.augmentations.iter().any(Augmentation::is_signal)
    }

    /// The specifications, for the log.
    pub fn specs(&self) -> Vec<&str> {
        self.augmentations.iter().map(|a| a.spec.as_str()).collect()
    }

    /// Applies the signal augmentations in order. Returns the audio and the factor by which
    /// feature frames must be stretched afterwards (from `pitch`).
    pub fn augment_signal(&self, audio: &[f32], rng: &mut ChaCha8Rng) -> (Vec<f32>, f64) {
        let mut x = audio.to_vec();
        let mut stretch = 1.0;
        for (a, pool) in self.augmentations.iter().zip(&self.pools) {
            if !a.is_signal() || uniform(rng) >= a.p.pick(rng) {
                continue;
            }
            match &a.kind {
                Kind::Volume { dbfs } => normalize(&mut x, dbfs.pick(rng)),
                Kind::Noise { snr, color } => {
                    let noise = colored_noise(x.len(), *color, rng);
                    mix_at_snr(&mut x, &noise, snr.pick(rng));
                }
                Kind::Overlay { snr, layers, .. } => {
                    let mut mix = vec![0f32; x.len()];
                    for _ in 0..layers.pick(rng).round() as usize {
                        let rec = &pool[index(rng, pool.len())];
                        let start = index(rng, rec.len());
                        for (i, m) in mix.iter_mut().enumerate() {
                            *m += rec[(start + i) % rec.len()];
                        }
                    }
                    mix_at_snr(&mut x, &mix, snr.pick(rng));
                }
                Kind::Reverb { delay, decay } => reverb(&mut x, delay.pick(rng), decay.pick(rng)),
                Kind::Resample { rate } => {
                    let rate = quantize_rate(rate.pick(rng));
                    if rate < MODEL_SAMPLE_RATE {
                        let back = resample(&x, MODEL_SAMPLE_RATE, rate)
                            .and_then(|low| resample(&low, rate, MODEL_SAMPLE_RATE));
                        if let Ok(mut y) = back {
                            y.resize(x.len(), 0.0);
                            x = y;
                        }
                    }
                }
                Kind::Tempo { factor } => {
                    let from = quantize_rate(factor.pick(rng) * f64::from(MODEL_SAMPLE_RATE));
                    if let Ok(y) = resample(&x, from, MODEL_SAMPLE_RATE) {
                        x = y;
                    }
                }
                Kind::Pitch { pitch } => {
                    let from = quantize_rate(pitch.pick(rng) * f64::from(MODEL_SAMPLE_RATE));
                    if let Ok(y) = resample(&x, from, MODEL_SAMPLE_RATE) {
                        x = y;
                        stretch *= f64::from(from) / f64::from(MODEL_SAMPLE_RATE);
                    }
                }
                _ => {}
            }
        }
        (x, stretch)
    }

    /// Applies the feature augmentations in order.
    pub fn augment_features(&self, m: &mut FeatureMatrix, rng: &mut ChaCha8Rng) {
        for a in &self.augmentations {
            if a.is_signal() || uniform(rng) >= a.p.pick(rng) || m.frames == 0 {
                continue;
            }
            match &a.kind {
                Kind::FrequencyMask { n, size } => {
                    let means = column_means(m);
                    for _ in 0..n.pick(rng).round() as usize {
                        let s = (size.pick(rng).round() as usize).min(m.width);
                        let start = index(rng, m.width - s + 1);
                        for row in m.data.chunks_exact_mut(m.width) {
                            row[start..start + s].copy_from_slice(&means[start..start + s]);
                        }
                    }
                }
                Kind::TimeMask { n, size } => {
                    let means = column_means(m);
                    for _ in 0..n.pick(rng).round() as usize {
                        let s = (size.pick(rng).round() as usize).min(m.frames);
                        let start = index(rng, m.frames - s + 1);
                        for row in
                            m.data[start * m.width..(start + s) * m.width].chunks_exact_mut(m.width)
                        {
                            row.copy_from_slice(&means);
                        }
                    }
                }
                Kind::Add { stddev } => {
                    let s = stddev.pick(rng);
                    for v in &mut m.data {
                        *v += (s * gaussian(rng)) as f32;
                    }
                }
                Kind::Multiply { stddev } => {
                    let s = stddev.pick(rng);
                    for v in &mut m.data {
                        *v *= (1.0 + s * gaussian(rng)) as f32;
                    }
                }
                _ => {}
            }
        }
    }

    /// The augmented features of one training sample. `audio` (16 kHz, i16 scale) is needed
    /// for signal augmentations; `cached` are its plain features. When the signal-augmented
    /// audio gives fewer than `required` frames (too short for CTC), the signal augmentations
    /// are dropped for this sample.
    pub fn augment_sample(
        &self,
        extractor: &mut MfccExtractor,
        audio: Option<&[i16]>,
        cached: &FeatureMatrix,
        required: usize,
        rng: &mut ChaCha8Rng,
    ) -> FeatureMatrix {
        let mut m = None;
        if let Some(audio) = audio.filter(|_| self.has_signal()) {
            let x: Vec<f32> = audio.iter().map(|&s| f32::from(s) / 32768.0).collect();
            let (y, stretch) = self.augment_signal(&x, rng);
            let mut f = extractor.compute(&y);
            if stretch != 1.0 {
                f = stretch_frames(&f, (f.frames as f64 * stretch).round() as usize);
            }
            if f.frames >= required {
                m = Some(f);
            }
        }
        let mut m = m.unwrap_or_else(|| cached.clone());
        self.augment_features(&mut m, rng);
        m
    }
}

/// Audio as i16 (the scale WAVs are read at: s / 32768), to halve the memory kept for
/// signal augmentation.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Sample rates are rounded to 100 Hz so the FFT resampler's ratio stays small.
fn quantize_rate(hz: f64) -> u32 {
    ((hz / 100.0).round() as u32).max(1) * 100
}

/// Level in dBFS from the RMS (a full-scale sine is 0 dBFS).
pub fn dbfs(x: &[f32]) -> f64 {
    let power = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len().max(1) as f64;
    10.0 * power.max(1e-32).log10() + 3.0103
}

/// Scales to `target` dBFS and clips to [-1, 1] (silence stays silent).
fn normalize(x: &mut [f32], target: f64) {
    let current = dbfs(x);
    if current <= -300.0 {
        return;
    }
    let gain = 10f64.powf((target - current) / 20.0) as f32;
    for v in x {
        *v = (*v * gain).clamp(-1.0, 1.0);
    }
}

/// Adds `noise`, scaled so that signal power / noise power is `snr` dB.
fn mix_at_snr(x: &mut [f32], noise: &[f32], snr: f64) {
    let power = |s: &[f32]| s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
    let (ps, pn) = (power(x), power(noise));
    if ps <= 0.0 || pn <= 0.0 {
        return;
    }
    let gain = (ps / (pn * 10f64.powf(snr / 10.0))).sqrt() as f32;
    for (v, n) in x.iter_mut().zip(noise) {
        *v += gain * n;
    }
}

/// Zero-mean noise of a colour (unscaled).
fn colored_noise(len: usize, color: NoiseColor, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let color = match color {
        NoiseColor::Any => [NoiseColor::White, NoiseColor::Pink, NoiseColor::Brown][index(rng, 3)],
        c => c,
    };
    // Box–Muller pairs: both outputs used.
    let mut white = Vec::with_capacity(len + 1);
    while white.len() < len {
        let r = (-2.0 * (1.0 - uniform(rng)).ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * uniform(rng)).sin_cos();
        white.extend([r * cos, r * sin]);
    }
    white.truncate(len);
    let (mut b0, mut b1, mut b2) = (0f64, 0f64, 0f64);
    let mut out: Vec<f64> = white
        .into_iter()
        .map(|w| match color {
            NoiseColor::Pink => {
                b0 = 0.99765 * b0 + w * 0.0990460;
                b1 = 0.96300 * b1 + w * 0.2965164;
                b2 = 0.57000 * b2 + w * 1.0526913;
                b0 + b1 + b2 + w * 0.1848
            }
            NoiseColor::Brown => {
                b0 = 0.998 * b0 + w;
                b0
            }
            _ => w,
        })
        .collect();
    let mean = out.iter().sum::<f64>() / len.max(1) as f64;
    out.iter_mut().for_each(|v| *v -= mean);
    out.into_iter().map(|v| v as f32).collect()
}

/// DeepSpeech 0.9's `Reverb`: for each prime 17, 19, 23, 29, 31, a feedback comb
/// `y[i] = x[i] + g·y[i − d]` with `d = delay·prime/17` ms and `g = −decay` dB, all summed with
/// the dry signal, then brought back to the input's level.
fn reverb(x: &mut [f32], delay_ms: f64, decay_db: f64) {
    let level = dbfs(x);
    let g = 10f64.powf(-decay_db / 20.0);
    let dry: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let mut out = dry.clone();
    for prime in [17.0, 19.0, 23.0, 29.0, 31.0] {
        let d =
            ((delay_ms * prime / 17.0 * f64::from(MODEL_SAMPLE_RATE) / 1000.0) as usize).max(16);
        let mut layer = dry.clone();
        for i in d..layer.len() {
            layer[i] += g * layer[i - d];
        }
        out.iter_mut().zip(&layer).for_each(|(o, l)| *o += l);
    }
    for (v, o) in x.iter_mut().zip(&out) {
        *v = *o as f32;
    }
    normalize(x, level);
}

fn column_means(m: &FeatureMatrix) -> Vec<f32> {
    let mut means = vec![0f64; m.width];
    for row in m.data.chunks_exact(m.width) {
        means
            .iter_mut()
            .zip(row)
            .for_each(|(s, &v)| *s += f64::from(v));
    }
    means
        .iter()
        .map(|s| (s / m.frames.max(1) as f64) as f32)
        .collect()
}

/// Resizes the time axis to `frames` by linear interpolation.
pub fn stretch_frames(m: &FeatureMatrix, frames: usize) -> FeatureMatrix {
    if m.frames < 2 || frames == m.frames {
        return m.clone();
    }
    let mut data = Vec::with_capacity(frames * m.width);
    let scale = (m.frames - 1) as f64 / (frames.max(2) - 1) as f64;
    for t in 0..frames {
        let pos = t as f64 * scale;
        let i = (pos as usize).min(m.frames - 2);
        let w = (pos - i as f64) as f32;
        let (a, b) = (m.row(i), m.row(i + 1));
        data.extend(a.iter().zip(b).map(|(&a, &b)| a + w * (b - a)));
    }
    FeatureMatrix {
        frames,
        width: m.width,
        data,
    }
}

/// The recordings of an overlay source: every `.wav` under a folder, or the `wav_filename`
/// column of a CSV (relative to the CSV's folder), at 16 kHz.
fn load_pool(source: &Path) -> Result<Vec<Vec<f32>>, AugmentError> {
    let error = |reason: String| AugmentError::Source {
        path: source.to_owned(),
        reason,
    };
    let mut wavs = Vec::new();
    if source.is_dir() {
        let mut stack = vec![source.to_owned()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| error(e.to_string()))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
                {
                    wavs.push(path);
                }
            }
        }
        wavs.sort();
    } else {
        let mut reader = csv::Reader::from_path(source).map_err(|e| error(e.to_string()))?;
        let column = reader
            .headers()
            .map_err(|e| error(e.to_string()))?
            .iter()
            .position(|h| h == "wav_filename")
            .ok_or_else(|| error("no wav_filename column".into()))?;
        let base = source.parent().unwrap_or(Path::new("."));
        for record in reader.records() {
            let record = record.map_err(|e| error(e.to_string()))?;
            if let Some(name) = record.get(column) {
                wavs.push(base.join(name));
            }
        }
    }
    let pool: Vec<Vec<f32>> = wavs
        .iter()
        .filter_map(|w| load_wav_16k(w).ok().map(|(s, _)| s))
        .filter(|s| !s.is_empty())
        .collect();
    if pool.is_empty() {
        return Err(error("no readable, non-empty WAV file".into()));
    }
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Augmentation {
        spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    fn rng() -> ChaCha8Rng {
        sample_rng(1, 2, 3)
    }

    /// One second of a speech-like test signal: three tones and white noise, at about −20 dBFS.
    fn signal() -> Vec<f32> {
        let mut r = sample_rng(9, 9, 9);
        (0..16_000)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                let tones = (std::f64::consts::TAU * 220.0 * t).sin()
                    + 0.5 * (std::f64::consts::TAU * 1230.0 * t).sin()
                    + 0.3 * (std::f64::consts::TAU * 5100.0 * t).sin();
                (0.05 * tones + 0.02 * gaussian(&mut r)) as f32
            })
            .collect()
    }

    fn kind_of(a: &Augmentation) -> &Kind {
        &a.kind
    }

    #[test]
    fn specs_parse_with_defaults_ranges_and_normals() {
        let a = parse("noise[p=0.5,snr=5:15,color=pink]");
        assert_eq!(a.p.value, Value::Fixed(0.5));
        assert_eq!(
            kind_of(&a),
            &Kind::Noise {
                snr: Param {
                    value: Value::Uniform(5.0, 15.0),
                    min: -30.0,
                    max: 100.0
                },
                color: NoiseColor::Pink
            }
        );
        let a = parse("tempo[factor=1~0.05]");
        assert!(matches!(
            a.kind,
            Kind::Tempo { factor } if factor.value == Value::Normal { mean: 1.0, stddev: 0.05 }
        ));
        assert_eq!(a.p.value, Value::Fixed(1.0));
        let a = parse("resample");
        assert!(matches!(a.kind, Kind::Resample { rate } if rate.value == Value::Fixed(8000.0)));
        assert!(parse("speed[factor=0.9:1.1]").is_signal());
        assert!(!parse("time_mask[domain=spectrogram,n=2,size=5]").is_signal());
        for spec in [
            "volume[dbfs=-30:-10]",
            "reverb[p=0.3,delay=20:60,decay=5:15]",
            "pitch[pitch=0.9:1.1]",
            "frequency_mask[n=1:3,size=1:4]",
            "add[stddev=0.5]",
            "multiply[stddev=0.1]",
        ] {
            parse(spec);
        }
    }

    #[test]
    fn bad_specs_are_errors_naming_the_spec() {
        for (spec, needle) in [
            ("echo[p=1]", "unknown augmentation `echo`"),
            ("noise[snr=10", "closing `]`"),
            ("noise[snr=loud]", "`snr=loud` is not a number"),
            ("noise[snr]", "not key=value"),
            ("noise[colour=pink]", "unknown key `colour`"),
            ("noise[color=blue]", "color `blue`"),
            ("noise[p=1.5]", "`p` must lie in [0, 1]"),
            ("tempo[factor=1.2:0.8]", "`factor` must lie"),
            ("overlay[snr=3]", "needs source="),
            ("volume[dbfs=1,dbfs=2]", "given twice"),
            ("time_mask[domain=signal]", "domain `signal`"),
        ] {
            let e = spec.parse::<Augmentation>().unwrap_err().to_string();
            assert!(e.contains(spec) && e.contains(needle), "{spec}: {e}");
        }
    }

    #[test]
    fn values_stay_in_their_ranges() {
        let mut r = rng();
        let p = |value| Param {
            value,
            min: 0.0,
            max: 10.0,
        };
        for _ in 0..1000 {
            let u = p(Value::Uniform(2.0, 3.0)).pick(&mut r);
            assert!((2.0..3.0).contains(&u));
            let n = p(Value::Normal {
                mean: 1.0,
                stddev: 1.0,
            })
            .pick(&mut r);
            assert!((0.0..=3.0).contains(&n), "{n}");
        }
    }

    #[test]
    fn noise_is_added_at_the_requested_snr() {
        for color in ["white", "pink", "brown", "any"] {
            let x = signal();
            let aug = Augmenter::new(vec![parse(&format!("noise[snr=10,color={color}]"))]).unwrap();
            let (y, _) = aug.augment_signal(&x, &mut rng());
            let ps: f64 = x.iter().map(|&v| f64::from(v).powi(2)).sum();
            let pn: f64 = x
                .iter()
                .zip(&y)
                .map(|(&a, &b)| f64::from(b - a).powi(2))
                .sum();
            let snr = 10.0 * (ps / pn).log10();
            assert!((snr - 10.0).abs() < 0.01, "{color}: {snr} dB");
        }
    }

    #[test]
    fn noise_colours_have_falling_spectra() {
        // Power of the first difference over power: 2 for white noise, less the redder it is.
        let slope = |c| {
            let n = colored_noise(32_000, c, &mut rng());
            let p: f64 = n.iter().map(|&v| f64::from(v).powi(2)).sum();
            let d: f64 = n.windows(2).map(|w| f64::from(w[1] - w[0]).powi(2)).sum();
            d / p
        };
        let (w, p, b) = (
            slope(NoiseColor::White),
            slope(NoiseColor::Pink),
            slope(NoiseColor::Brown),
        );
        assert!(
            (w - 2.0).abs() < 0.05 && p < 0.5 * w && b < 0.1 * p,
            "{w} {p} {b}"
        );
    }

    #[test]
    fn volume_hits_the_target_level() {
        let aug = Augmenter::new(vec![parse("volume[dbfs=-12]")]).unwrap();
        let (y, _) = aug.augment_signal(&signal(), &mut rng());
        assert!((dbfs(&y) + 12.0).abs() < 0.01, "{}", dbfs(&y));
        let sine: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.1).sin()).collect();
        assert!(dbfs(&sine).abs() < 0.01, "a full-scale sine is 0 dBFS");
    }

    /// Fraction of the power above `hz` (whole-signal FFT).
    fn power_above(x: &[f32], hz: f64) -> f64 {
        let mut planner = realfft::RealFftPlanner::<f64>::new();
        let fft = planner.plan_fft_forward(x.len());
        let mut input: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let mut spectrum = fft.make_output_vec();
        fft.process(&mut input, &mut spectrum).unwrap();
        let bin_hz = 16_000.0 / x.len() as f64;
        let power: Vec<f64> = spectrum.iter().map(|c| c.norm_sqr()).collect();
        let above: f64 = power
            .iter()
            .enumerate()
            .filter(|(i, _)| *i as f64 * bin_hz > hz)
            .map(|(_, p)| p)
            .sum();
        above / power.iter().sum::<f64>()
    }

    #[test]
    fn resample_to_8k_removes_the_band_above_4k() {
        let x = signal();
        assert!(power_above(&x, 4100.0) > 0.1);
        let aug = Augmenter::new(vec![parse("resample[rate=8000]")]).unwrap();
        let (y, _) = aug.augment_signal(&x, &mut rng());
        assert_eq!(y.len(), x.len());
        assert!(
            power_above(&y, 4100.0) < 1e-4,
            "{}",
            power_above(&y, 4100.0)
        );
        // The band below is kept.
        let low = |s: &[f32]| 1.0 - power_above(s, 3000.0);
        let ratio = low(&y) * y.iter().map(|v| v * v).sum::<f32>() as f64
            / (low(&x) * x.iter().map(|v| v * v).sum::<f32>() as f64);
        assert!((ratio - 1.0).abs() < 0.05, "{ratio}");
    }

    #[test]
    fn tempo_changes_the_length_and_pitch_keeps_the_frame_count() {
        let x = signal();
        let aug = Augmenter::new(vec![parse("tempo[factor=1.25]")]).unwrap();
        let (y, stretch) = aug.augment_signal(&x, &mut rng());
        assert_eq!(stretch, 1.0);
        assert!(
            (y.len() as f64 / x.len() as f64 - 0.8).abs() < 0.001,
            "{}",
            y.len()
        );
        let aug = Augmenter::new(vec![parse("speed[factor=0.8]")]).unwrap();
        assert_eq!(aug.augment_signal(&x, &mut rng()).0.len(), 20_000);

        let aug = Augmenter::new(vec![parse("pitch[pitch=1.25]")]).unwrap();
        let mut ex = MfccExtractor::new(Default::default());
        let plain = ex.compute(&x);
        let shifted = aug.augment_sample(&mut ex, Some(&to_i16(&x)), &plain, 0, &mut rng());
        assert_eq!(shifted.frames, plain.frames);
        assert_ne!(shifted, plain);
    }

    #[test]
    fn too_short_results_fall_back_to_the_plain_features() {
        let x = signal();
        let mut ex = MfccExtractor::new(Default::default());
        let plain = ex.compute(&x);
        let aug = Augmenter::new(vec![parse("tempo[factor=2]")]).unwrap();
        let m = aug.augment_sample(&mut ex, Some(&to_i16(&x)), &plain, plain.frames, &mut rng());
        assert_eq!(m, plain);
        let m = aug.augment_sample(&mut ex, Some(&to_i16(&x)), &plain, 10, &mut rng());
        assert!(m.frames < plain.frames * 6 / 10);
    }

    #[test]
    fn reverb_adds_echoes_at_the_same_level() {
        let mut x = vec![0f32; 16_000];
        x[100] = 0.5;
        let level = dbfs(&x);
        let aug = Augmenter::new(vec![parse("reverb[delay=20,decay=6]")]).unwrap();
        let (y, _) = aug.augment_signal(&x, &mut rng());
        assert!((dbfs(&y) - level).abs() < 0.01);
        // First echo 20 ms (320 samples) later, 6 dB down relative to the impulse.
        assert!(
            y[420] > 0.0 && (y[420] / y[100] - 0.5 / 6.0).abs() < 0.01,
            "{}",
            y[420] / y[100]
        );
    }

    #[test]
    fn overlay_mixes_recordings_at_the_snr() {
        let csv =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ldc93s1/ldc93s1.csv");
        let aug = Augmenter::new(vec![parse(&format!(
            "overlay[source={},snr=5,layers=2]",
            csv.display()
        ))])
        .unwrap();
        let x = signal();
        let (y, _) = aug.augment_signal(&x, &mut rng());
        let ps: f64 = x.iter().map(|&v| f64::from(v).powi(2)).sum();
        let pn: f64 = x
            .iter()
            .zip(&y)
            .map(|(&a, &b)| f64::from(b - a).powi(2))
            .sum();
        assert!((10.0 * (ps / pn).log10() - 5.0).abs() < 0.01);
        let e = Augmenter::new(vec![parse("overlay[source=/nonexistent.csv]")]).unwrap_err();
        assert!(e.to_string().contains("/nonexistent.csv"), "{e}");
    }

    fn ramp(frames: usize, width: usize) -> FeatureMatrix {
        FeatureMatrix {
            frames,
            width,
            data: (0..frames * width)
                .map(|i| (i % 7) as f32 + (i / width) as f32)
                .collect(),
        }
    }

    #[test]
    fn masks_cover_the_expected_counts() {
        let m = ramp(50, 26);
        let means = column_means(&m);
        let changed_columns = |a: &FeatureMatrix| {
            (0..26)
                .filter(|&c| {
                    (0..50).all(|t| a.row(t)[c] == means[c])
                        && (0..50).any(|t| m.row(t)[c] != means[c])
                })
                .count()
        };
        let aug = Augmenter::new(vec![parse("frequency_mask[n=1,size=4]")]).unwrap();
        let mut a = m.clone();
        aug.augment_features(&mut a, &mut rng());
        assert_eq!(changed_columns(&a), 4);
        let aug = Augmenter::new(vec![parse("frequency_mask[n=3,size=2]")]).unwrap();
        let mut a = m.clone();
        aug.augment_features(&mut a, &mut rng());
        assert!((2..=6).contains(&changed_columns(&a)));

        let aug = Augmenter::new(vec![parse("time_mask[n=1,size=7]")]).unwrap();
        let mut a = m.clone();
        aug.augment_features(&mut a, &mut rng());
        let masked = (0..50).filter(|&t| a.row(t) == means.as_slice()).count();
        let differ = (0..50).filter(|&t| a.row(t) != m.row(t)).count();
        assert_eq!((masked, differ), (7, 7));

        // p = 0 never applies; add and multiply change every value.
        let aug = Augmenter::new(vec![parse("time_mask[p=0,n=5,size=5]")]).unwrap();
        let mut a = m.clone();
        aug.augment_features(&mut a, &mut rng());
        assert_eq!(a, m);
        let aug =
            Augmenter::new(vec![parse("add[stddev=1]"), parse("multiply[stddev=0.1]")]).unwrap();
        let mut a = m.clone();
        aug.augment_features(&mut a, &mut rng());
        assert!(a.data.iter().zip(&m.data).all(|(x, y)| x != y));
    }

    #[test]
    fn the_same_seed_epoch_and_index_give_the_same_result() {
        let aug = Augmenter::new(vec![
            parse("noise[snr=0:20,color=any]"),
            parse("tempo[factor=0.9:1.1]"),
        ])
        .unwrap();
        let x = signal();
        let a = aug.augment_signal(&x, &mut sample_rng(5, 1, 7)).0;
        assert_eq!(a, aug.augment_signal(&x, &mut sample_rng(5, 1, 7)).0);
        assert_ne!(a, aug.augment_signal(&x, &mut sample_rng(5, 2, 7)).0);
    }

    #[test]
    fn stretching_interpolates_linearly() {
        let m = FeatureMatrix {
            frames: 3,
            width: 1,
            data: vec![0.0, 2.0, 4.0],
        };
        assert_eq!(stretch_frames(&m, 5).data, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn the_listed_defaults_are_the_parsers() {
        for listed in DEFAULT_SPECS {
            let name = &listed[..listed.find('[').unwrap()];
            let explicit = listed.replace("source=(required)", "source=/tmp");
            let bare = if name == "overlay" {
                "overlay[source=/tmp]".to_owned()
            } else {
                name.to_owned()
            };
            assert_eq!(parse(&bare).kind, parse(&explicit).kind, "{listed}");
            assert_eq!(parse(&bare).p, parse("volume[p=1]").p, "{listed}");
        }
    }
}
