//! The `deepspeech` element: raw audio in, `text/x-raw` transcripts out.
//!
//! Status: pads, caps and registration are in place; transcription arrives with the acoustic
//! model and streaming engine. Until then the element refuses to leave the NULL state with an
//! error that says so, rather than silently passing nothing through.

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
