//! Inference: a loaded [`Model`] shared read-only by any number of [`Stream`]s on any threads,
//! shaped like DeepSpeech's C API (`create_stream` → `feed_audio` → `intermediate_decode` →
//! `finish`).

pub mod stream;
pub mod transcript;

use std::path::Path;
use std::sync::Arc;

use candle::Device;

use crate::decoder::{BeamConfig, HotWords};
use crate::error::Result;
use crate::lm::Scorer;
use crate::model::{Config, DeepSpeech, load_model, load_model_from_bytes};

pub use stream::Stream;
pub use transcript::{TokenTiming, Transcript, WordTiming};

/// A loaded acoustic model with its decoder settings: an optional scorer (language model),
/// beam search parameters and hot-words. Configure it, then share it in an `Arc` (`Send +
/// Sync`): streams read it, never change it. Cloning is cheap (the network is shared), so
/// changing the settings of a model that streams are using (`Arc::make_mut`) leaves those
/// streams with the settings they started with, as DeepSpeech's streams keep theirs.
#[derive(Clone)]
pub struct Model {
    net: Arc<DeepSpeech>,
    scorer: Option<Scorer>,
    beam: BeamConfig,
    hot_words: Option<HotWords>,
    device: Device,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("config", self.net.config())
            .field("scorer", &self.scorer)
            .finish()
    }
}

impl Model {
    /// Loads a model (any format [`crate::model::io::read`] accepts) onto the CPU, validating
    /// its format, config and every tensor's shape.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_on(path, &Device::Cpu)
    }

    /// [`Self::load`] onto `device` (a GPU from [`crate::device::select`]): the network runs
    /// there, decoding stays on the CPU.
    pub fn load_on(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        Ok(Self::with_device(
            load_model(path.as_ref(), device)?,
            device.clone(),
        ))
    }

    /// Loads a model from safetensors bytes built into the program (`include_bytes!`),
    /// validated as [`Self::load`] validates a file; `name` stands for the path in errors.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Self> {
        Self::from_bytes_on(bytes, name, &Device::Cpu)
    }

    /// [`Self::from_bytes`] onto `device`.
    pub fn from_bytes_on(bytes: &[u8], name: &str, device: &Device) -> Result<Self> {
        let net = load_model_from_bytes(bytes, Path::new(name), device)?;
        Ok(Self::with_device(net, device.clone()))
    }

    /// Wraps an already built network.
    pub fn from_network(net: DeepSpeech) -> Self {
        Self::with_device(net, Device::Cpu)
    }

    fn with_device(net: DeepSpeech, device: Device) -> Self {
        let defaults = BeamConfig::default();
        let beam = BeamConfig {
            frame_secs: net.config().features.frame_secs(),
            // An imported model's author may have chosen a width (`metadata_beam_width`).
            beam_width: net
                .config()
                .beam_width
                .filter(|&w| w > 0)
                .unwrap_or(defaults.beam_width),
            ..defaults
        };
        Self {
            net: Arc::new(net),
            scorer: None,
            beam,
            hot_words: None,
            device,
        }
    }

    /// The beam search settings (beam width 1 without scorer or hot-words decodes greedily).
    pub fn beam_config(&self) -> &BeamConfig {
        &self.beam
    }

    /// Sets the beam width (DeepSpeech's default is 1024; a model exported by DeepSpeech brings
    /// its own default, `metadata_beam_width`, which this replaces).
    pub fn set_beam_width(&mut self, width: usize) {
        self.beam.beam_width = width.max(1);
    }

    /// Sets the scorer's language model weight and word insertion bonus (no-op without one).
    pub fn set_scorer_alpha_beta(&mut self, alpha: f32, beta: f32) {
        if let Some(s) = self.scorer.as_mut() {
            s.alpha = alpha;
            s.beta = beta;
        }
    }

    /// The hot-words (boosted words) applied while decoding.
    pub fn hot_words(&self) -> Option<&HotWords> {
        self.hot_words.as_ref()
    }

    /// Replaces the hot-words (`None` or an empty set removes them).
    pub fn set_hot_words(&mut self, hot_words: Option<HotWords>) {
        self.hot_words = hot_words.filter(|h| !h.is_empty());
    }

    /// Whether decoding needs the beam search (a scorer, hot-words or a beam wider than 1).
    pub fn uses_beam_search(&self) -> bool {
        self.scorer.is_some() || self.hot_words.is_some() || self.beam.beam_width > 1
    }

    /// Attaches (or, with `None`, removes) the language-model scorer used by decoding.
    pub fn set_scorer(&mut self, scorer: Option<Scorer>) {
        self.scorer = scorer;
    }

    /// The attached scorer.
    pub fn scorer(&self) -> Option<&Scorer> {
        self.scorer.as_ref()
    }

    /// The model's configuration (geometry, alphabet, features).
    pub fn config(&self) -> &Config {
        self.net.config()
    }

    /// The network.
    pub fn network(&self) -> &DeepSpeech {
        &self.net
    }

    /// The device inference runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Starts a new stream on this model.
    pub fn create_stream(self: &Arc<Self>) -> Stream {
        Stream::new(Arc::clone(self))
    }

    /// Transcribes a whole buffer of interleaved samples in one go.
    pub fn transcribe(
        self: &Arc<Self>,
        samples: &[f32],
        sample_rate: u32,
        channels: usize,
    ) -> Result<Transcript> {
        let mut stream = self.create_stream();
        stream.feed_audio(samples, sample_rate, channels)?;
        stream.finish()
    }
}
