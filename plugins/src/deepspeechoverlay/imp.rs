//! Implementation of the `deepspeechoverlay` bin.
//!
//! SECTION:element-deepspeechoverlay
//!
//! Live subtitles on a video that plays with its sound: audio enters `sink_audio` and leaves
//! `src_audio` unchanged; a copy goes through `deepspeech`, whose timed text `textoverlay`
//! draws onto the video from `sink_video`, which leaves `src_video`.
//!
//! `deepspeech` knows an utterance's words only after the utterance ends, while `textoverlay`
//! must have the text for a frame before that frame may go on. So both paths hold up to
//! `latency` of media in queues: when playing a file (not live), the transcription reads that far
//! ahead of what is shown, and every frame is on time; in a live pipeline, `deepspeech` reports
//! `latency` in the latency query, so the sinks play that much later. `latency` also caps
//! utterances (as `deepspeech`'s own `latency` does), which keeps the subtitles short enough to
//! read. The queues hold decoded video: about 75 MB per second of 1080p30, 8 MB per second of
//! 480p25 (I420), so lower `latency` for large videos.
//!
//! The children are named `deepspeech` and `overlay` (a `textoverlay`): set any of their
//! properties through the bin, e.g. `deepspeech::hot-words="nine:5"` or
//! `overlay::font-desc="Sans 24"`.
//!
//! ## Example launch line
//! ```sh
//! gst-launch-1.0 filesrc location=talk.mkv ! decodebin name=d \
//!     deepspeechoverlay name=s \
//!     d. ! queue ! videoconvert ! s.sink_video  s.src_video ! videoconvert ! autovideosink \
//!     d. ! queue ! audioconvert ! s.sink_audio  s.src_audio ! audioconvert ! autoaudiosink
//! ```

use std::sync::{LazyLock, Mutex, MutexGuard};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "deepspeechoverlay",
        gst::DebugColorFlags::empty(),
        Some("DeepSpeech subtitles burned into video"),
    )
});

/// Default `latency` (ms): short enough for the queued video of an HD stream, long enough for
/// a subtitle's worth of speech.
const DEFAULT_LATENCY_MS: u32 = 5000;
/// The lowest `latency` `deepspeech` accepts (its shortest utterance cap and processing time).
const MIN_LATENCY_MS: u32 = 1300;
/// Queue room beyond `latency`, for the time the network and decoder take.
const QUEUE_MARGIN_MS: u64 = 2000;

/// The children, once built.
struct Parts {
    deepspeech: gst::Element,
    queues: [gst::Element; 3],
}

/// The bin's state: its children (or why they could not be made) and its properties.
#[derive(Default)]
pub struct DeepSpeechOverlay {
    parts: Mutex<Option<Parts>>,
    missing: Mutex<Option<String>>,
    latency: Mutex<u32>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl DeepSpeechOverlay {
    /// Makes and links the children, and points the ghost pads at them.
    fn build(&self) -> Result<Parts, String> {
        let bin = self.obj();
        let make = |factory: &str, name: &str| {
            gst::ElementFactory::make(factory)
                .name(name)
                .build()
                .map_err(|_| {
                    let hint = match factory {
                        "textoverlay" => "GStreamer's pango plugin; Debian: gstreamer1.0-x",
                        "deepspeech" => "this plugin, libgstdeepspeech.so",
                        _ => "GStreamer's base plugins; Debian: gstreamer1.0-plugins-base",
                    };
                    format!("the GStreamer element `{factory}` is missing ({hint})")
                })
        };
        let tee = make("tee", "tee")?;
        let audio_queue = make("queue", "audio_queue")?;
        let text_queue = make("queue", "text_queue")?;
        let convert = make("audioconvert", "convert")?;
        let deepspeech = make("deepspeech", "deepspeech")?;
        let video_queue = make("queue", "video_queue")?;
        let overlay = make("textoverlay", "overlay")?;
        overlay.set_property_from_str("valignment", "bottom");
        let elements = [
            &tee,
            &audio_queue,
            &text_queue,
            &convert,
            &deepspeech,
            &video_queue,
            &overlay,
        ];
        let failed = |what: &str| format!("cannot {what} inside deepspeechoverlay");
        bin.add_many(elements)
            .map_err(|_| failed("add the children"))?;
        tee.link(&audio_queue)
            .and_then(|_| gst::Element::link_many([&tee, &text_queue, &convert, &deepspeech]))
            .and_then(|_| deepspeech.link_pads(Some("src"), &overlay, Some("text_sink")))
            .and_then(|_| video_queue.link_pads(Some("src"), &overlay, Some("video_sink")))
            .map_err(|_| failed("link the children"))?;
        let target = |ghost: &str, element: &gst::Element, pad: &str| -> Result<(), String> {
            let ghost = bin
                .static_pad(ghost)
                .and_then(|p| p.downcast::<gst::GhostPad>().ok())
                .ok_or_else(|| failed("find its pads"))?;
            let pad = element
                .static_pad(pad)
                .ok_or_else(|| failed("find its children's pads"))?;
            ghost
                .set_target(Some(&pad))
                .map_err(|_| failed("connect its pads"))
        };
        target("sink_audio", &tee, "sink")?;
        target("src_audio", &audio_queue, "src")?;
        target("sink_video", &video_queue, "sink")?;
        target("src_video", &overlay, "src")?;
        Ok(Parts {
            deepspeech,
            queues: [audio_queue, text_queue, video_queue],
        })
    }

    /// Gives `deepspeech` the latency and sizes the queues to hold that much media and more.
    fn apply_latency(&self, parts: &Parts, latency_ms: u32) {
        parts.deepspeech.set_property("latency", latency_ms);
        let room = gst::ClockTime::from_mseconds(u64::from(latency_ms) + QUEUE_MARGIN_MS);
        for queue in &parts.queues {
            queue.set_property("max-size-time", room.nseconds());
            queue.set_property("max-size-bytes", 0u32);
            queue.set_property("max-size-buffers", 0u32);
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for DeepSpeechOverlay {
    const NAME: &'static str = "GstDeepSpeechOverlay";
    type Type = super::DeepSpeechOverlay;
    type ParentType = gst::Bin;
}

impl ObjectImpl for DeepSpeechOverlay {
    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        for name in ["sink_audio", "src_audio", "sink_video", "src_video"] {
            let Some(template) = obj.pad_template(name) else {
                continue;
            };
            let pad = gst::GhostPad::builder_from_template(&template)
                .name(name)
                .build();
            if obj.add_pad(&pad).is_err() {
                gst::error!(CAT, imp = self, "cannot add pad {name}");
            }
        }
        *lock(&self.latency) = DEFAULT_LATENCY_MS;
        match self.build() {
            Ok(parts) => {
                self.apply_latency(&parts, DEFAULT_LATENCY_MS);
                *lock(&self.parts) = Some(parts);
            }
            Err(e) => {
                gst::error!(CAT, imp = self, "{e}");
                *lock(&self.missing) = Some(e);
            }
        }
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecUInt::builder("latency")
                    .nick("Latency")
                    .blurb("How far (ms) the subtitles may trail the speech: utterances are cut to fit, and the audio and video queues hold this much media plus 2 s (decoded video: mind the memory)")
                    .minimum(MIN_LATENCY_MS)
                    .default_value(DEFAULT_LATENCY_MS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("model")
                    .nick("Model")
                    .blurb("The deepspeech child's model (any format it reads; unset: the embedded English model)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("scorer")
                    .nick("Scorer")
                    .blurb("The deepspeech child's scorer (a .scorer package, a ds-lm scorer, an ARPA file, or none)")
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let parts = lock(&self.parts);
        match pspec.name() {
            "latency" => {
                let latency = value.get().expect("type checked upstream");
                *lock(&self.latency) = latency;
                if let Some(parts) = parts.as_ref() {
                    self.apply_latency(parts, latency);
                }
            }
            name @ ("model" | "scorer") => {
                if let Some(parts) = parts.as_ref() {
                    parts.deepspeech.set_property_from_value(name, value);
                }
            }
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let parts = lock(&self.parts);
        match pspec.name() {
            "latency" => lock(&self.latency).to_value(),
            name @ ("model" | "scorer") => match parts.as_ref() {
                Some(parts) => parts.deepspeech.property_value(name),
                None => None::<String>.to_value(),
            },
            _ => unimplemented!(),
        }
    }
}

impl GstObjectImpl for DeepSpeechOverlay {}

impl ElementImpl for DeepSpeechOverlay {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "DeepSpeech subtitle overlay",
                "Filter/Editor/Video/Audio/Text",
                "Burns live speech-to-text subtitles into a video as it plays with its sound",
                "deepspeech-rs developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let audio = gst::Caps::builder("audio/x-raw").build();
            let video = "video/x-raw(ANY)".parse::<gst::Caps>().expect("valid caps");
            let template = |name: &str, direction, caps: &gst::Caps| {
                gst::PadTemplate::new(name, direction, gst::PadPresence::Always, caps)
                    .expect("valid pad template")
            };
            vec![
                template("sink_audio", gst::PadDirection::Sink, &audio),
                template("src_audio", gst::PadDirection::Src, &audio),
                template("sink_video", gst::PadDirection::Sink, &video),
                template("src_video", gst::PadDirection::Src, &video),
            ]
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::NullToReady
            && let Some(missing) = lock(&self.missing).as_ref()
        {
            gst::element_imp_error!(self, gst::CoreError::MissingPlugin, ["{missing}"]);
            return Err(gst::StateChangeError);
        }
        self.parent_change_state(transition)
    }
}

impl BinImpl for DeepSpeechOverlay {}
