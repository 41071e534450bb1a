//! The `deepspeechoverlay` bin: audio and video in, the same audio and the video with live
//! subtitles burned in out, wired so that playback stays smooth and each subtitle shows while
//! its words are spoken.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    /// The `deepspeechoverlay` bin (`deepspeech` feeding `textoverlay`, with the queues and
    /// latency that make it play in time).
    pub struct DeepSpeechOverlay(ObjectSubclass<imp::DeepSpeechOverlay>) @extends gst::Bin, gst::Element, gst::Object, @implements gst::ChildProxy;
}

/// Registers the `deepspeechoverlay` element with `plugin`.
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "deepspeechoverlay",
        gst::Rank::NONE,
        DeepSpeechOverlay::static_type(),
    )
}
