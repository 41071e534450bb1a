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
fn without_a_model_property_the_element_runs_the_embedded_default_model() {
    init();
    let pipeline = gst::parse::launch(
        "audiotestsrc num-buffers=20 wave=silence ! audioconvert ! deepspeech name=ds ! fakesink",
    )
    .expect("pipeline parses")
    .downcast::<gst::Pipeline>()
    .unwrap();
    let ds = pipeline.by_name("ds").unwrap();
    assert_eq!(ds.property::<Option<String>>("model"), None);
    pipeline
        .set_state(gst::State::Playing)
        .expect("starts with the embedded model");
    let bus = pipeline.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(30),
            &[gst::MessageType::Error, gst::MessageType::Eos],
        )
        .expect("EOS");
    assert!(matches!(msg.view(), gst::MessageView::Eos(_)), "{msg:?}");
    pipeline.set_state(gst::State::Null).unwrap();
}
