//! Inference: a loaded [`Model`] shared read-only by any number of [`Stream`]s on any threads,
//! shaped like DeepSpeech's C API (`create_stream` → `feed_audio` → `intermediate_decode` →
//! `finish`).

pub mod stream;
pub mod transcript;

use std::path::Path;
use std::sync::Arc;

use candle::Device;

use crate::error::Result;
use crate::lm::Scorer;
use crate::model::{Config, DeepSpeech, load_model};

pub use stream::Stream;
pub use transcript::{Transcript, WordTiming};

/// A loaded acoustic model with its optional scorer. `Send + Sync`: share it in an `Arc`.
pub struct Model {
    net: DeepSpeech,
    scorer: Option<Scorer>,
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
    /// Loads an exported `.safetensors` model by memory map, validating its format, config and
    /// every tensor's shape.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let device = Device::Cpu;
        Ok(Self {
            net: load_model(path.as_ref(), &device)?,
            scorer: None,
            device,
        })
    }

    /// Wraps an already built network.
    pub fn from_network(net: DeepSpeech) -> Self {
        Self {
            net,
            scorer: None,
            device: Device::Cpu,
        }
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
