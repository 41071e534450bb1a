//! Builds small corpora in their real layouts: speech from `espeak-ng -w`, encoded by
//! GStreamer's own encoders (`lamemp3enc`, `flacenc`, `vorbisenc`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::SystemTime;

use gst::prelude::*;

/// Initialises GStreamer once.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| gst::init().expect("GStreamer initialises"));
}

/// The compressed formats the tests make.
#[derive(Clone, Copy, Debug)]
pub enum Format {
    Mp3,
    Flac,
    Ogg,
    Wav,
}

/// Speaks `text` with espeak-ng into `out` (encoded as `format`); returns the speech's duration
/// in seconds, measured on espeak's own WAV.
pub fn speak(text: &str, out: &Path, format: Format) -> f64 {
    init();
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let wav = out.with_extension("espeak.wav");
    let status = Command::new("espeak-ng")
        .args(["-s", "200", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng runs (apt-get install espeak-ng)");
    assert!(status.success(), "espeak-ng failed on {text:?}");
    let reader = hound::WavReader::open(&wav).unwrap();
    let secs = f64::from(reader.duration()) / f64::from(reader.spec().sample_rate);
    let encoder = match format {
        Format::Mp3 => "lamemp3enc",
        Format::Flac => "flacenc",
        Format::Ogg => "vorbisenc ! oggmux",
        Format::Wav => "wavenc",
    };
    let description = format!(
        "filesrc location=\"{}\" ! wavparse ! audioconvert ! audioresample ! {encoder} ! filesink location=\"{}\"",
        wav.display(),
        out.display()
    );
    run_pipeline(&description);
    std::fs::remove_file(&wav).unwrap();
    secs
}

fn run_pipeline(description: &str) {
    let pipeline = gst::parse::launch(description).expect("the encoding pipeline parses");
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let message = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("encoding finishes");
    pipeline.set_state(gst::State::Null).unwrap();
    if let gst::MessageView::Error(e) = message.view() {
        panic!("encoding failed: {} ({:?})", e.error(), e.debug());
    }
}

/// Writes random bytes under an audio file name (a "corrupt" clip).
pub fn garbage(out: &Path) {
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    // A fixed xorshift sequence: reproducible noise with no MP3 frame sync pattern to speak of.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..6000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(out, bytes).unwrap();
}

/// Reads a CSV's rows (header included) as vectors of fields.
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// `(wav_filename, transcript)` of a CSV's rows, header excluded.
pub fn csv_pairs(path: &Path) -> Vec<(String, String)> {
    let rows = csv_rows(path);
    assert_eq!(rows[0], ["wav_filename", "wav_filesize", "transcript"]);
    rows[1..]
        .iter()
        .map(|r| (r[0].clone(), r[2].clone()))
        .collect()
}

/// `skipped.tsv` as `(origin, reason)` pairs, in file order.
pub fn skipped(target: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(target.join("skipped.tsv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("split\torigin\taudio\ttranscript\treason\tdetail")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "{l:?}");
            (f[1].to_owned(), f[4].to_owned())
        })
        .collect()
}

/// Checks every WAV a CSV lists: 16 kHz mono 16-bit, `wav_filesize` right, and the duration
/// within 10 % of `expected(wav_filename)` seconds. Returns the WAV paths.
pub fn check_wavs(csv: &Path, expected: impl Fn(&str) -> f64) -> Vec<PathBuf> {
    let base = csv.parent().unwrap();
    csv_rows(csv)[1..]
        .iter()
        .map(|row| {
            let path = base.join(&row[0]);
            let reader = hound::WavReader::open(&path).unwrap();
            let spec = reader.spec();
            assert_eq!(
                (spec.sample_rate, spec.channels, spec.bits_per_sample),
                (16_000, 1, 16),
                "{}",
                path.display()
            );
            assert_eq!(spec.sample_format, hound::SampleFormat::Int);
            assert_eq!(
                row[1].parse::<u64>().unwrap(),
                std::fs::metadata(&path).unwrap().len()
            );
            let secs = f64::from(reader.duration()) / 16_000.0;
            let want = expected(&row[0]);
            assert!(
                (secs - want).abs() <= 0.1 * want,
                "{}: {secs:.3} s, source {want:.3} s",
                path.display()
            );
            path
        })
        .collect()
}

/// Modification times of files.
pub fn mtimes(paths: &[PathBuf]) -> Vec<SystemTime> {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect()
}

/// Every `*.csv` in `dir` with its bytes, sorted by name.
pub fn csv_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}
