//! Decoding any audio file GStreamer can play to 16 kHz mono 16-bit samples:
//! `uridecodebin ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! appsink`.
//!
//! Headerless PCM (which no decoder can recognise by itself, e.g. the `.ALS` speech of the game
//! Drascula) is described by a [`SourceFormat`] and pushed through `appsrc` instead of
//! `uridecodebin`, so that it is converted and resampled by the same elements.

use std::path::Path;
use std::sync::{Arc, Mutex};

use gst::prelude::*;

/// The sample rate every imported clip is converted to.
pub const SAMPLE_RATE: u32 = 16_000;

/// Longest time one file may take to decode before it is given up on.
const TIMEOUT_SECS: u64 = 300;

/// How the audio of a source file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceFormat {
    /// A file GStreamer recognises by itself (WAV, MP3, FLAC, Ogg, ...).
    #[default]
    Detect,
    /// Headerless unsigned 8-bit mono PCM at `rate` Hz. The first `skip_start` and the last
    /// `skip_end` bytes of the file are not imported (a header, a trailer, or silence).
    RawU8Mono {
        /// Samples per second.
        rate: u32,
        /// Bytes left out at the start of the file.
        skip_start: u64,
        /// Bytes left out at the end of the file.
        skip_end: u64,
    },
}

/// Initialises GStreamer (once per process; later calls are cheap).
pub fn init() -> Result<(), String> {
    gst::init().map_err(|e| format!("GStreamer cannot be initialised: {e}"))?;
    for element in [
        "uridecodebin",
        "appsrc",
        "audioconvert",
        "audioresample",
        "appsink",
    ] {
        if gst::ElementFactory::find(element).is_none() {
            return Err(format!(
                "the GStreamer element `{element}` is missing (install gstreamer1.0-plugins-base)"
            ));
        }
    }
    Ok(())
}

/// Decodes `path`, stored as `format`, to 16 kHz mono S16 samples. Every failure is returned
/// as a message, never a panic.
pub fn decode_file(path: &Path, format: SourceFormat) -> Result<Vec<i16>, String> {
    match format {
        SourceFormat::Detect => decode_to_16k_mono(path),
        SourceFormat::RawU8Mono {
            rate,
            skip_start,
            skip_end,
        } => {
            let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
            let size = bytes.len() as u64;
            // Both bounds are at most `size`, so they fit in `usize`.
            let kept = size
                .checked_sub(skip_start.saturating_add(skip_end))
                .filter(|&kept| kept > 0)
                .ok_or_else(|| {
                    format!(
                        "{size} bytes: no audio left after skipping {skip_start} at the start and \
                         {skip_end} at the end"
                    )
                })?;
            let (start, end) = (skip_start as usize, (skip_start + kept) as usize);
            raw_u8_to_16k_mono(&bytes[start..end], rate)
        }
    }
}

/// Decodes `path` to 16 kHz mono S16 samples. Every failure (no such file, unknown or corrupt
/// format, no audio stream, no samples) is returned as a message, never a panic.
pub fn decode_to_16k_mono(path: &Path) -> Result<Vec<i16>, String> {
    let absolute = std::path::absolute(path).map_err(|e| e.to_string())?;
    if !absolute.is_file() {
        return Err("no such file".into());
    }
    let uri = gst::glib::filename_to_uri(&absolute, None).map_err(|e| e.to_string())?;
    let pipeline = gst::Pipeline::new();
    let source = gst::ElementFactory::make("uridecodebin")
        .property("uri", uri.as_str())
        .build()
        .map_err(|e| format!("cannot create uridecodebin: {e}"))?;
    pipeline.add(&source).map_err(|e| e.to_string())?;
    let (convert, samples) = add_converting_sink(&pipeline)?;

    // The first audio pad of uridecodebin goes to audioconvert; other streams are ignored.
    let convert_sink = convert
        .static_pad("sink")
        .ok_or("audioconvert has no sink pad")?;
    source.connect_pad_added(move |_, pad| {
        let is_audio = pad
            .current_caps()
            .or_else(|| Some(pad.query_caps(None)))
            .and_then(|caps| caps.structure(0).map(|s| s.name().starts_with("audio/")))
            .unwrap_or(false);
        if is_audio && !convert_sink.is_linked() {
            let _ = pad.link(&convert_sink);
        }
    });
    finish(&pipeline, &samples)
}

/// Converts unsigned 8-bit mono PCM at `rate` Hz to 16 kHz mono S16 samples.
pub fn raw_u8_to_16k_mono(pcm: &[u8], rate: u32) -> Result<Vec<i16>, String> {
    if pcm.is_empty() {
        return Err("no audio samples".into());
    }
    let rate = i32::try_from(rate)
        .ok()
        .filter(|&r| r > 0)
        .ok_or_else(|| format!("unusable sample rate {rate}"))?;
    let caps = gst_audio::AudioCapsBuilder::new_interleaved()
        .format(gst_audio::AudioFormat::U8)
        .rate(rate)
        .channels(1)
        .build();
    let source = gst_app::AppSrc::builder()
        .caps(&caps)
        .format(gst::Format::Time)
        .build();
    let pipeline = gst::Pipeline::new();
    pipeline.add(&source).map_err(|e| e.to_string())?;
    let (convert, samples) = add_converting_sink(&pipeline)?;
    source.link(&convert).map_err(|e| e.to_string())?;

    let mut buffer = gst::Buffer::from_slice(pcm.to_vec());
    if let Some(buffer) = buffer.get_mut() {
        buffer.set_pts(gst::ClockTime::ZERO);
        let nanos = (pcm.len() as u64).saturating_mul(1_000_000_000) / rate as u64;
        buffer.set_duration(gst::ClockTime::from_nseconds(nanos));
    }
    source
        .push_buffer(buffer)
        .map_err(|e| format!("cannot queue the samples: {e}"))?;
    source
        .end_of_stream()
        .map_err(|e| format!("cannot end the stream: {e}"))?;
    finish(&pipeline, &samples)
}

/// Collected S16 samples, shared with the appsink callback.
type Samples = Arc<Mutex<Vec<i16>>>;

/// Adds `audioconvert ! audioresample ! appsink` (16 kHz mono S16) to `pipeline`; returns the
/// `audioconvert` to link the source to and the samples the sink collects.
fn add_converting_sink(pipeline: &gst::Pipeline) -> Result<(gst::Element, Samples), String> {
    let make = |name: &str| {
        gst::ElementFactory::make(name)
            .build()
            .map_err(|e| format!("cannot create {name}: {e}"))
    };
    let convert = make("audioconvert")?;
    let resample = make("audioresample")?;
    let caps = gst_audio::AudioCapsBuilder::new_interleaved()
        .format(gst_audio::AudioFormat::S16le)
        .rate(SAMPLE_RATE as i32)
        .channels(1)
        .build();
    let sink = gst_app::AppSink::builder().caps(&caps).sync(false).build();
    pipeline
        .add_many([&convert, &resample, sink.upcast_ref()])
        .map_err(|e| e.to_string())?;
    gst::Element::link_many([&convert, &resample, sink.upcast_ref()]).map_err(|e| e.to_string())?;

    let samples = Samples::default();
    let collected = samples.clone();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                let mut out = collected.lock().map_err(|_| gst::FlowError::Error)?;
                out.extend(
                    map.as_slice()
                        .chunks_exact(2)
                        .map(|b| i16::from_le_bytes([b[0], b[1]])),
                );
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    Ok((convert, samples))
}

/// Runs `pipeline` to its end and takes the samples it collected.
fn finish(pipeline: &gst::Pipeline, samples: &Samples) -> Result<Vec<i16>, String> {
    let result = run_to_eos(pipeline);
    let _ = pipeline.set_state(gst::State::Null);
    result?;
    let samples = std::mem::take(&mut *samples.lock().map_err(|_| "poisoned sample buffer")?);
    if samples.is_empty() {
        return Err("no audio samples (no audio stream?)".into());
    }
    Ok(samples)
}

fn run_to_eos(pipeline: &gst::Pipeline) -> Result<(), String> {
    let bus = pipeline.bus().ok_or("pipeline has no bus")?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| error_on_bus(&bus).unwrap_or_else(|| "cannot start decoding".into()))?;
    let message = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(TIMEOUT_SECS),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .ok_or_else(|| format!("decoding took more than {TIMEOUT_SECS} s"))?;
    match message.view() {
        gst::MessageView::Error(e) => Err(error_text(e)),
        _ => Ok(()),
    }
}

fn error_on_bus(bus: &gst::Bus) -> Option<String> {
    let message = bus.timed_pop_filtered(
        gst::ClockTime::from_mseconds(100),
        &[gst::MessageType::Error],
    )?;
    match message.view() {
        gst::MessageView::Error(e) => Some(error_text(e)),
        _ => None,
    }
}

fn error_text(e: &gst::message::Error) -> String {
    let text = e.error().to_string();
    // The debug string names the element and the cause ("not-linked" when no audio stream).
    match e.debug() {
        Some(debug) if text.contains("Internal data stream error") => {
            let first = debug.lines().last().unwrap_or_default().trim().to_owned();
            format!("{text} ({first})")
        }
        _ => text,
    }
}
