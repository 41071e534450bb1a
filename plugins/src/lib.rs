//! # gst-plugin-deepspeech
//!
//! The `deepspeech` GStreamer plugin: speech-to-text on the `deepspeech-core` engine.
//! This file only defines the plugin; each element lives in its own module.
#![allow(unused_doc_comments)]

use gst::glib;

mod deepspeech;
mod deepspeechoverlay;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    deepspeech::register(plugin)?;
    deepspeechoverlay::register(plugin)
}

gst::plugin_define!(
    deepspeech,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
    "MPL",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    "https://deepspeech-rs.invalid",
    env!("BUILD_REL_DATE")
);
