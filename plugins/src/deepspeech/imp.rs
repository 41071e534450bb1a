//! Implementation of the `deepspeech` element.
//!
//! SECTION:element-deepspeech
//!
//! Transcribes speech in raw audio to text.
//!
//! ## Example launch line
//! ```sh
//! gst-launch-1.0 -m filesrc location=speech.wav ! wavparse ! audioconvert ! deepspeech ! fakesink
//! ```
//!
//! Not yet functional: going to READY fails with a "not implemented yet" error until the
//! acoustic model and streaming engine land.

use std::sync::LazyLock;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "deepspeech",
        gst::DebugColorFlags::empty(),
        Some("DeepSpeech speech-to-text"),
    )
});

/// The element's instance data.
pub struct DeepSpeech {
    sinkpad: gst::Pad,
    srcpad: gst::Pad,
}

impl DeepSpeech {
    fn sink_chain(
        &self,
        _pad: &gst::Pad,
        _buffer: gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        gst::element_imp_error!(
            self,
            gst::CoreError::NotImplemented,
            ["transcription is not implemented yet"]
        );
        Err(gst::FlowError::NotSupported)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for DeepSpeech {
    const NAME: &'static str = "GstDeepSpeech";
    type Type = super::DeepSpeech;
    type ParentType = gst::Element;

    fn with_class(klass: &Self::Class) -> Self {
        let templ = klass.pad_template("sink").expect("sink template");
        let sinkpad = gst::Pad::builder_from_template(&templ)
            .chain_function(|pad, parent, buffer| {
                DeepSpeech::catch_panic_pad_function(
                    parent,
                    || Err(gst::FlowError::Error),
                    |this| this.sink_chain(pad, buffer),
                )
            })
            .build();
        let templ = klass.pad_template("src").expect("src template");
        let srcpad = gst::Pad::builder_from_template(&templ).build();
        Self { sinkpad, srcpad }
    }
}

impl ObjectImpl for DeepSpeech {
    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.add_pad(&self.sinkpad).expect("adding the sink pad");
        obj.add_pad(&self.srcpad).expect("adding the src pad");
    }
}

impl GstObjectImpl for DeepSpeech {}

impl ElementImpl for DeepSpeech {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "DeepSpeech speech-to-text",
                "Audio/Text/Filter",
                "Transcribes speech to text with a DeepSpeech-style acoustic model and CTC decoder",
                "deepspeech-rs developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let sink_caps = gst_audio::AudioCapsBuilder::new_interleaved()
                .format_list([gst_audio::AudioFormat::S16le, gst_audio::AudioFormat::F32le])
                .build();
            let src_caps = gst::Caps::builder("text/x-raw")
                .field("format", "utf8")
                .build();
            vec![
                gst::PadTemplate::new(
                    "sink",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Always,
                    &sink_caps,
                )
                .expect("sink template"),
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &src_caps,
                )
                .expect("src template"),
            ]
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        gst::trace!(CAT, imp = self, "changing state: {transition:?}");
        if transition == gst::StateChange::NullToReady {
            gst::element_imp_error!(
                self,
                gst::CoreError::NotImplemented,
                ("deepspeech: transcription is not implemented yet"),
                ["the acoustic model and streaming engine are still being built"]
            );
            return Err(gst::StateChangeError);
        }
        self.parent_change_state(transition)
    }
}
