//! Live subtitles on a video that plays with its sound, through `deepspeechoverlay`: a 60 s
//! Matroska file (LJSpeech sentences with pauses, over a black video) plays at real time to
//! synced sinks. At least 95 % of the frames must arrive on time, each subtitle must start
//! within 300 ms of its sentence, and the text must be on screen while the words are spoken and
//! gone in the pauses. The figures are printed for BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use deepspeech_integration_tests::{run_ok, shared_data, temp_dir};
use gst::prelude::*;

const WIDTH: usize = 160;
const HEIGHT: usize = 120;
const FPS: u64 = 25;
const SECONDS: u64 = 60;
const RATE: u32 = 22_050;

fn init() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        gst::init().unwrap();
        gstdeepspeech::plugin_register_static().unwrap();
    });
}

/// A sentence in the soundtrack: where it lies, and where its speech starts (first 10 ms
/// frame above -40 dBFS), in seconds.
#[derive(Debug, Clone, Copy)]
struct Sentence {
    start: f64,
    end: f64,
    onset: f64,
}

/// Writes the soundtrack (1 s of silence, then LJSpeech sentences each followed by 1.5 s of
/// silence, up to 60 s) and muxes it with a black 160x120 video into `talk.mkv`.
fn make_video(dir: &Path) -> (PathBuf, Vec<Sentence>) {
    let wav = dir.join("speech.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = hound::WavWriter::create(&wav, spec).unwrap();
    let silence = |out: &mut hound::WavWriter<_>, secs: f64| {
        for _ in 0..(secs * f64::from(RATE)) as usize {
            out.write_sample(0i16).unwrap();
        }
    };
    let mut sentences = Vec::new();
    let mut t = 1.0;
    silence(&mut out, t);
    for i in 1.. {
        let path = shared_data().join(format!("ljspeech/wavs/LJ001-{i:04}.wav"));
        let samples: Vec<i16> = hound::WavReader::open(&path)
            .unwrap()
            .into_samples::<i16>()
            .map(Result::unwrap)
            .collect();
        let secs = samples.len() as f64 / f64::from(RATE);
        if t + secs + 1.5 > SECONDS as f64 {
            break;
        }
        let frame = RATE as usize / 100;
        let loud = samples.chunks(frame).position(|f| {
            let power = f
                .iter()
                .map(|&s| (f64::from(s) / 32768.0).powi(2))
                .sum::<f64>();
            10.0 * (power / f.len() as f64).log10() > -40.0
        });
        sentences.push(Sentence {
            start: t,
            end: t + secs,
            onset: t + loud.unwrap_or(0) as f64 / 100.0,
        });
        for s in samples {
            out.write_sample(s).unwrap();
        }
        t += secs;
        silence(&mut out, 1.5);
        t += 1.5;
    }
    silence(&mut out, SECONDS as f64 - t);
    out.finalize().unwrap();
    let video = dir.join("talk.mkv");
    let pipeline = format!(
        "matroskamux name=m ! filesink location={video} \
         videotestsrc pattern=black num-buffers={frames} ! \
         video/x-raw,width={WIDTH},height={HEIGHT},framerate={FPS}/1,format=I420 ! m. \
         filesrc location={wav} ! wavparse ! audioconvert ! m.",
        video = video.display(),
        wav = wav.display(),
        frames = SECONDS * FPS
    );
    let mut c = Command::new("gst-launch-1.0");
    c.arg("-q").args(pipeline.split_whitespace());
    run_ok(c);
    (video, sentences)
}

/// One rendered frame: its time in the stream, how late the sink got it, whether text is drawn.
#[derive(Debug, Clone, Copy)]
struct Frame {
    time: f64,
    late: f64,
    text: bool,
}

/// A final result: when its subtitle starts and ends (s).
#[derive(Debug, Clone)]
struct Subtitle {
    start: f64,
    end: f64,
    text: String,
}

/// Plays the file through `deepspeechoverlay` to synced sinks, as a player would.
fn play(video: &Path) -> (Vec<Frame>, Vec<Subtitle>) {
    init();
    let pipeline = gst::parse::launch(&format!(
        "filesrc location=\"{}\" ! decodebin name=d deepspeechoverlay name=s \
         d. ! queue ! videoconvert ! s.sink_video \
         s.src_video ! videoconvert ! video/x-raw,format=I420 ! fakesink name=video sync=true signal-handoffs=true \
         d. ! queue ! audioconvert ! s.sink_audio s.src_audio ! audioconvert ! fakesink sync=true",
        video.display()
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let frames = Arc::new(Mutex::new(Vec::new()));
    let sink = pipeline.by_name("video").unwrap();
    let (seen, clock_of) = (frames.clone(), pipeline.clone());
    sink.connect("handoff", false, move |args| {
        let buffer = args[1].get::<gst::Buffer>().unwrap();
        let pad = args[2].get::<gst::Pad>().unwrap();
        let (Some(clock), Some(base), Some(pts)) =
            (clock_of.clock(), clock_of.base_time(), buffer.pts())
        else {
            return None;
        };
        let segment = pad
            .sticky_event::<gst::event::Segment>(0)
            .and_then(|e| e.segment().clone().downcast::<gst::format::Time>().ok())
            .unwrap();
        let running = segment.to_running_time(pts).unwrap();
        let now = clock.time() - base;
        let map = buffer.map_readable().unwrap();
        // Black is luma 16; drawn text is white with a dark outline.
        let text = map[..WIDTH * HEIGHT].iter().any(|&y| y > 100);
        seen.lock().unwrap().push(Frame {
            time: pts.seconds_f64(),
            late: now.seconds_f64() - running.seconds_f64(),
            text,
        });
        None
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut subtitles = Vec::new();
    for msg in pipeline
        .bus()
        .unwrap()
        .iter_timed(gst::ClockTime::from_seconds(180))
    {
        match msg.view() {
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure()
                    && s.name() == "deepspeech"
                    && s.get::<bool>("final").unwrap()
                {
                    let start = s.get::<gst::ClockTime>("timestamp").unwrap().seconds_f64();
                    let duration = s.get::<gst::ClockTime>("duration").unwrap().seconds_f64();
                    subtitles.push(Subtitle {
                        start,
                        end: start + duration,
                        text: s.get::<String>("text").unwrap(),
                    });
                }
            }
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => panic!("{}: {:?}", e.error(), e.debug()),
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let frames = frames.lock().unwrap().clone();
    (frames, subtitles)
}

#[test]
fn subtitles_show_while_the_words_are_spoken_and_every_frame_is_on_time() {
    let dir = temp_dir("playback");
    let (video, sentences) = make_video(&dir);
    let (frames, subtitles) = play(&video);
    assert_eq!(
        frames.len() as u64,
        SECONDS * FPS,
        "every frame reaches the sink"
    );

    let on_time = frames.iter().filter(|f| f.late < 0.040).count();
    let max_late = frames.iter().map(|f| f.late).fold(f64::MIN, f64::max);
    eprintln!(
        "frames on time (< 40 ms late): {on_time} of {} ({:.1} %), latest {max_late:.3} s",
        frames.len(),
        100.0 * on_time as f64 / frames.len() as f64
    );
    assert!(
        on_time * 100 >= frames.len() * 95,
        "{on_time} of {} on time",
        frames.len()
    );

    // Each sentence's first subtitle starts within 300 ms of its speech; every subtitle lies
    // within a sentence.
    let mut offsets = Vec::new();
    for s in &sentences {
        let first = subtitles
            .iter()
            .filter(|t| t.end > s.start && t.start < s.end)
            .map(|t| t.start)
            .fold(f64::MAX, f64::min);
        assert!(
            first < f64::MAX,
            "no subtitle for the sentence at {s:?}: {subtitles:?}"
        );
        offsets.push(first - s.onset);
    }
    eprintln!(
        "subtitle start - speech onset per sentence (s): {:?}",
        offsets
            .iter()
            .map(|o| (o * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
    for (s, o) in sentences.iter().zip(&offsets) {
        assert!(
            o.abs() <= 0.3,
            "subtitle starts {o:.3} s from the speech at {s:?}"
        );
    }
    for t in &subtitles {
        assert!(!t.text.trim().is_empty(), "{t:?}");
        assert!(
            sentences
                .iter()
                .any(|s| t.start >= s.start - 0.3 && t.end <= s.end + 0.3),
            "{t:?} is not within a sentence: {sentences:?}"
        );
    }

    // On screen: text in most frames while a sentence is spoken (a sentence longer than the
    // 5 s latency is two subtitles, with a short gap), none in the pauses.
    let speaking: Vec<&Frame> = frames
        .iter()
        .filter(|f| {
            sentences
                .iter()
                .any(|s| f.time > s.onset + 0.3 && f.time < s.end - 0.5)
        })
        .collect();
    let shown = speaking.iter().filter(|f| f.text).count();
    eprintln!(
        "text on screen in {shown} of {} frames of speech",
        speaking.len()
    );
    assert!(
        shown * 100 >= speaking.len() * 85,
        "{shown} of {}",
        speaking.len()
    );
    let pauses: Vec<&Frame> = frames
        .iter()
        .filter(|f| {
            sentences
                .iter()
                .all(|s| f.time < s.start - 0.5 || f.time > s.end + 0.5)
        })
        .collect();
    assert!(!pauses.is_empty());
    let stray = pauses.iter().filter(|f| f.text).count();
    assert_eq!(
        stray,
        0,
        "text in {stray} of {} frames of silence",
        pauses.len()
    );
    std::fs::remove_dir_all(dir).unwrap();
}
