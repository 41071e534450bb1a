//! What DeepSpeech's exported graphs say about themselves: the `metadata_*` constants its
//! export writes (graph version, sample rate, feature window and step, default beam width,
//! alphabet, language) and the `input_node` placeholder's shape (chunk length, context, MFCC
//! coefficients). Both graph formats read these into [`GraphMetadata`]; [`GraphMetadata::config`]
//! turns them and the weights' geometry into our [`Config`].

use crate::features::FeatureConfig;
use crate::model::Config;

use super::tf_layout::Geometry;

/// The oldest graph version this reader accepts: DeepSpeech 0.7's (graph version 6), which
/// 0.8, 0.9 and Coqui STT keep.
pub const MIN_GRAPH_VERSION: i32 = 6;

/// Metadata read from a DeepSpeech graph; `None` where the graph does not say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphMetadata {
    /// `metadata_version`.
    pub version: Option<i32>,
    /// `metadata_sample_rate` (Hz).
    pub sample_rate: Option<i32>,
    /// `metadata_feature_win_len` (ms).
    pub win_len_ms: Option<i32>,
    /// `metadata_feature_win_step` (ms).
    pub win_step_ms: Option<i32>,
    /// `metadata_beam_width`: the default beam width.
    pub beam_width: Option<i32>,
    /// `metadata_alphabet`: the alphabet as DeepSpeech's `Alphabet::Serialize` writes it.
    pub alphabet: Option<Vec<u8>>,
    /// `metadata_language`.
    pub language: Option<String>,
    /// Time steps per call of the exported graph (`input_node`'s second dimension).
    pub n_steps: Option<usize>,
    /// Frames of context on each side (`input_node`'s third dimension is `2·n_context + 1`).
    pub n_context: Option<usize>,
    /// MFCC coefficients per frame (`input_node`'s fourth dimension).
    pub n_coefficients: Option<usize>,
}

/// Why a graph's metadata cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// No `metadata_version`: not an exported DeepSpeech graph, or one from before 0.7.
    #[error(
        "no `metadata_version` constant: not a DeepSpeech model exported by DeepSpeech 0.7–0.9 or Coqui STT"
    )]
    NoVersion,
    /// A graph version from before DeepSpeech 0.7.
    #[error(
        "graph version {0}: this is a DeepSpeech 0.6 or older model; versions {MIN_GRAPH_VERSION} and later (DeepSpeech 0.7–0.9, Coqui STT) are supported"
    )]
    TooOld(i32),
    /// A metadata value is missing or out of range.
    #[error("{0}")]
    Bad(String),
    /// The serialized alphabet cannot be read.
    #[error("metadata_alphabet: {0}")]
    Alphabet(String),
}

/// Parses DeepSpeech's serialized alphabet: a `u16` count, then per label a `u16` label, a `u16`
/// length and that many UTF-8 bytes (all little-endian). Returns the symbols in label order.
pub fn deserialize_alphabet(bytes: &[u8]) -> Result<Vec<String>, MetadataError> {
    let bad = |m: &str| MetadataError::Alphabet(m.to_owned());
    let mut pos = 0;
    let u16_at = |pos: &mut usize| -> Result<u16, MetadataError> {
        let b = bytes.get(*pos..*pos + 2).ok_or_else(|| bad("truncated"))?;
        *pos += 2;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    };
    let count = usize::from(u16_at(&mut pos)?);
    let mut labels: Vec<Option<String>> = vec![None; count];
    for _ in 0..count {
        let label = usize::from(u16_at(&mut pos)?);
        let len = usize::from(u16_at(&mut pos)?);
        let text = bytes.get(pos..pos + len).ok_or_else(|| bad("truncated"))?;
        pos += len;
        let text = String::from_utf8(text.to_vec()).map_err(|_| bad("a label is not UTF-8"))?;
        let slot = labels
            .get_mut(label)
            .ok_or_else(|| bad(&format!("label {label} is past the count {count}")))?;
        if slot.replace(text).is_some() {
            return Err(bad(&format!("label {label} appears twice")));
        }
    }
    labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| l.ok_or_else(|| bad(&format!("label {i} is missing"))))
        .collect()
}

/// DeepSpeech's `Alphabet::Serialize` of `symbols` (label order): the inverse of
/// [`deserialize_alphabet`].
pub fn serialize_alphabet(symbols: &[String]) -> Vec<u8> {
    let mut out = (symbols.len() as u16).to_le_bytes().to_vec();
    for (label, s) in symbols.iter().enumerate() {
        out.extend((label as u16).to_le_bytes());
        out.extend((s.len() as u16).to_le_bytes());
        out.extend(s.as_bytes());
    }
    out
}

fn positive(value: Option<i32>, what: &str) -> Result<u32, MetadataError> {
    match value {
        Some(v) if v > 0 => Ok(v as u32),
        Some(v) => Err(MetadataError::Bad(format!("{what} is {v}, expected > 0"))),
        None => Err(MetadataError::Bad(format!("the graph has no {what}"))),
    }
}

impl GraphMetadata {
    /// Checks the version and builds our [`Config`] for a network of `geometry` whose clipped
    /// ReLUs clip at `relu_clip`.
    pub fn config(&self, geometry: Geometry, relu_clip: f32) -> Result<Config, MetadataError> {
        match self.version {
            None => return Err(MetadataError::NoVersion),
            Some(v) if v < MIN_GRAPH_VERSION => return Err(MetadataError::TooOld(v)),
            Some(_) => {}
        }
        let sample_rate = positive(self.sample_rate, "metadata_sample_rate")?;
        let win_len = positive(self.win_len_ms, "metadata_feature_win_len")?;
        let win_step = positive(self.win_step_ms, "metadata_feature_win_step")?;
        // DeepSpeech: audio_win_len = sample_rate · (win_len_ms / 1000.0), truncated.
        let samples = |ms: u32| (f64::from(sample_rate) * (f64::from(ms) / 1000.0)) as usize;
        let n_context = self.n_context.filter(|&c| c <= 1000).ok_or_else(|| {
            MetadataError::Bad(format!(
                "input_node gives {:?} frames of context, expected 0 to 1000 each side",
                self.n_context
            ))
        })?;
        let coefficients = self.n_coefficients.unwrap_or(26);
        let features = FeatureConfig {
            sample_rate,
            window: samples(win_len),
            step: samples(win_step),
            coefficients,
            // DeepSpeech's Mfcc op: TensorFlow's defaults, the upper limit at Nyquist.
            upper_hz: f64::from(sample_rate) / 2.0,
            n_context,
            ..FeatureConfig::default()
        };
        features.validate().map_err(MetadataError::Bad)?;
        if !(relu_clip.is_finite() && relu_clip > 0.0) {
            return Err(MetadataError::Bad(format!(
                "the ReLU clip is {relu_clip}, expected a positive number"
            )));
        }
        if features.input_width() != geometry.n_input {
            return Err(MetadataError::Bad(format!(
                "input_node gives {} inputs per step ({} frames of {coefficients}), but layer_1 takes {}",
                features.input_width(),
                2 * n_context + 1,
                geometry.n_input
            )));
        }
        let alphabet = match &self.alphabet {
            Some(bytes) => deserialize_alphabet(bytes)?,
            // Graphs without an alphabet: DeepSpeech's English one, if the output fits it.
            None if geometry.n_classes == 29 => crate::alphabet::Alphabet::english()
                .symbols()
                .iter()
                .map(|c| c.to_string())
                .collect(),
            None => {
                return Err(MetadataError::Bad(format!(
                    "the graph has no metadata_alphabet and {} output classes, not DeepSpeech English's 29",
                    geometry.n_classes
                )));
            }
        };
        if alphabet.len() + 1 != geometry.n_classes {
            return Err(MetadataError::Bad(format!(
                "the alphabet has {} symbols but layer_6 has {} outputs (symbols + blank)",
                alphabet.len(),
                geometry.n_classes
            )));
        }
        let alphabet = alphabet
            .into_iter()
            .map(|s| {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Ok(c),
                    _ => Err(MetadataError::Alphabet(format!(
                        "label {s:?} is not one character; multi-character labels are not supported"
                    ))),
                }
            })
            .collect::<Result<Vec<char>, _>>()?;
        let mut config = Config::new(geometry.n_hidden, &crate::alphabet::Alphabet::english());
        config.alphabet = alphabet;
        config.features = features;
        config.relu_clip = relu_clip;
        config.beam_width = self.beam_width.filter(|&b| b > 0).map(|b| b as usize);
        config.language = self.language.clone().filter(|l| !l.is_empty());
        // Every importer's config passes the checks ours do, whichever path loads it (the int8
        // path builds its network from this config directly).
        config.validate().map_err(MetadataError::Bad)?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabets_deserialize_in_label_order() {
        // Labels out of order, as DeepSpeech's std::unordered_map writes them.
        let mut bytes = 3u16.to_le_bytes().to_vec();
        for (label, text) in [(2u16, "b"), (0, " "), (1, "é")] {
            bytes.extend(label.to_le_bytes());
            bytes.extend((text.len() as u16).to_le_bytes());
            bytes.extend(text.as_bytes());
        }
        let symbols = deserialize_alphabet(&bytes).unwrap();
        assert_eq!(symbols, vec![" ", "é", "b"]);
        assert_eq!(
            deserialize_alphabet(&serialize_alphabet(&symbols)).unwrap(),
            symbols
        );
        for cut in 0..bytes.len() {
            assert!(deserialize_alphabet(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn old_and_unversioned_graphs_are_refused() {
        let g = Geometry {
            n_input: 494,
            n_hidden: 8,
            n_classes: 29,
        };
        let mut m = GraphMetadata::default();
        assert_eq!(m.config(g, 20.0).unwrap_err(), MetadataError::NoVersion);
        m.version = Some(4);
        assert!(
            m.config(g, 20.0)
                .unwrap_err()
                .to_string()
                .contains("0.6 or older")
        );
        m = GraphMetadata {
            version: Some(6),
            sample_rate: Some(8000),
            win_len_ms: Some(32),
            win_step_ms: Some(20),
            n_context: Some(9),
            n_coefficients: Some(26),
            ..GraphMetadata::default()
        };
        let e = m.config(g, 20.0).unwrap_err().to_string();
        assert!(e.contains("8000 Hz") && e.contains("16000 Hz only"), "{e}");
        assert!(m.config(g, f32::NAN).is_err());
        m = GraphMetadata {
            version: Some(6),
            sample_rate: Some(16000),
            win_len_ms: Some(32),
            win_step_ms: Some(20),
            beam_width: Some(500),
            n_context: Some(9),
            n_coefficients: Some(26),
            ..GraphMetadata::default()
        };
        let c = m.config(g, 20.0).unwrap();
        assert_eq!((c.features.window, c.features.step), (512, 320));
        assert_eq!(c.features.upper_hz, 8000.0);
        assert_eq!(c.beam_width, Some(500));
    }
}
