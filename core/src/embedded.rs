//! The default English model and its scorer, built into the program (cargo feature
//! `embedded-model`, on by default) from `models/en/`, so that the `deepspeech` CLI and the
//! GStreamer element transcribe with no model path. `docs/model.md` says how they were made.

use crate::engine::Model;
use crate::error::{Error, Result};
use crate::lm::Scorer;

/// The name that stands for the embedded model's path in messages and errors.
pub const MODEL_NAME: &str = "<embedded default English model>";

/// The name that stands for the embedded scorer's path in messages and errors.
pub const SCORER_NAME: &str = "<embedded default English scorer>";

#[cfg(feature = "embedded-model")]
static MODEL: Option<&[u8]> = Some(include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/en/model.safetensors"
)));
#[cfg(not(feature = "embedded-model"))]
static MODEL: Option<&[u8]> = None;

#[cfg(feature = "embedded-model")]
static SCORER: Option<&[u8]> = Some(include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/en/en.scorer"
)));
#[cfg(not(feature = "embedded-model"))]
static SCORER: Option<&[u8]> = None;

/// Whether this build carries the default model.
pub fn available() -> bool {
    MODEL.is_some()
}

/// The embedded model's safetensors bytes, if this build has them.
pub fn model_bytes() -> Option<&'static [u8]> {
    MODEL
}

/// The embedded scorer's bytes, if this build has them.
pub fn scorer_bytes() -> Option<&'static [u8]> {
    SCORER
}

/// Loads the embedded acoustic model (without scorer: see [`scorer`] and
/// [`model_with_scorer`]).
pub fn model() -> Result<Model> {
    model_on(&candle::Device::Cpu)
}

/// Loads the embedded model onto `device`.
pub fn model_on(device: &candle::Device) -> Result<Model> {
    let bytes = MODEL.ok_or(Error::NoEmbeddedModel)?;
    Model::from_bytes_on(bytes, MODEL_NAME, device)
}

/// Loads the embedded scorer (with the alpha and beta tuned for the embedded model).
pub fn scorer() -> Result<Scorer> {
    let bytes = SCORER.ok_or(Error::NoEmbeddedModel)?;
    Scorer::from_static(bytes, SCORER_NAME)
}

/// The embedded model with the embedded scorer attached: what `deepspeech` uses by default.
pub fn model_with_scorer() -> Result<Model> {
    let mut model = model()?;
    model.set_scorer(Some(scorer()?));
    Ok(model)
}

#[cfg(all(test, feature = "embedded-model"))]
mod tests {
    use super::*;

    #[test]
    fn embedded_model_and_scorer_load_and_fit_together() {
        let model = model_with_scorer().expect("the embedded model and scorer load");
        let scorer = model.scorer().expect("scorer attached");
        assert!(scorer.alpha > 0.0, "a tuned, positive LM weight");
        assert_eq!(
            model.config().alphabet.len(),
            28,
            "DeepSpeech's English alphabet"
        );
        let total = MODEL.unwrap().len() + SCORER.unwrap().len();
        assert!(
            total < 25 << 20,
            "model + scorer must stay under 25 MB, are {total} bytes"
        );
    }

    #[test]
    fn a_corrupt_copy_of_the_embedded_model_is_refused_with_its_name() {
        let mut bytes = MODEL.unwrap().to_vec();
        bytes.truncate(bytes.len() / 2);
        let err = Model::from_bytes(&bytes, MODEL_NAME)
            .unwrap_err()
            .to_string();
        assert!(err.contains(MODEL_NAME), "{err}");
    }
}
