//! The `deepspeech` element: raw audio in, one `text/x-raw` buffer per utterance out (timed to
//! the audio), and `deepspeech` element messages on the bus with partial and final results.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    /// The `deepspeech` speech-to-text element.
    pub struct DeepSpeech(ObjectSubclass<imp::DeepSpeech>) @extends gst::Element, gst::Object;
}

/// Registers the `deepspeech` element with `plugin`.
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "deepspeech",
        gst::Rank::NONE,
        DeepSpeech::static_type(),
    )
}
