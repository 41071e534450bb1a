//! The plugin registers its element with the documented pads; without a model it says so.

use gst::prelude::*;

fn init() {
    use std::sync::Once;
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().unwrap();
        gstdeepspeech::plugin_register_static().expect("deepspeech plugin registers");
    });
}

#[test]
fn element_is_registered_with_audio_in_and_text_out() {
    init();
    let factory = gst::ElementFactory::find("deepspeech").expect("deepspeech factory");
    assert_eq!(factory.metadata("klass"), Some("Audio/Text/Filter"));
    let templates = factory.static_pad_templates();
    let caps_of = |name: &str| {
        templates
            .iter()
            .find(|t| t.name_template() == name)
            .map(|t| t.caps())
            .unwrap_or_else(|| panic!("no {name} template"))
    };
    let sink = caps_of("sink");
    assert!(
        sink.can_intersect(
            &"audio/x-raw,format=S16LE,rate=8000,channels=2,layout=interleaved"
                .parse::<gst::Caps>()
                .unwrap()
        )
    );
    assert!(
        sink.can_intersect(
            &"audio/x-raw,format=F32LE,rate=44100,channels=1,layout=interleaved"
                .parse::<gst::Caps>()
                .unwrap()
        )
    );
    let src = caps_of("src");
    assert!(
        src.can_intersect(
            &gst::Caps::builder("text/x-raw")
                .field("format", "utf8")
                .build()
        )
    );
}

#[test]
fn without_a_model_the_element_fails_to_start_with_a_clear_error() {
    init();
    let pipeline =
        gst::parse::launch("audiotestsrc num-buffers=1 ! audioconvert ! deepspeech ! fakesink")
            .expect("pipeline parses")
            .downcast::<gst::Pipeline>()
            .unwrap();
    assert!(pipeline.set_state(gst::State::Playing).is_err());
    let bus = pipeline.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(gst::ClockTime::from_seconds(5), &[gst::MessageType::Error])
        .expect("an error message on the bus");
    let gst::MessageView::Error(err) = msg.view() else {
        unreachable!()
    };
    assert!(
        err.error()
            .to_string()
            .contains("no model: set the `model` property"),
        "{}",
        err.error()
    );
    pipeline.set_state(gst::State::Null).unwrap();
}
