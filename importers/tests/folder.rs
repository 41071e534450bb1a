//! A plain folder, recursively: MP3, FLAC, Ogg Vorbis and WAV files with same-stem `.txt`
//! transcripts, an audio file without one, a transcript with digits (skipped, then spelled out
//! with `spell_numbers` on a resumed run into the same target).

mod common;

use std::collections::HashMap;

use common::{Format, check_wavs, csv_pairs, skipped, speak};
use deepspeech_core::Alphabet;
use deepspeech_core::train::dataset::Dataset;
use deepspeech_importers::{Corpus, Options, import};

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn audio_files_with_txt_transcripts() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("my-recordings");
    let mut durations: HashMap<String, f64> = HashMap::new();
    let mut add =
        |name: &str, format: Format, ext: &str, spoken: &str, transcript: Option<&str>| {
            let audio = source.join(format!("{name}.{ext}"));
            durations.insert(format!("clips/{name}.wav"), speak(spoken, &audio, format));
            if let Some(text) = transcript {
                std::fs::write(source.join(format!("{name}.txt")), text).unwrap();
            }
        };
    add(
        "a",
        Format::Mp3,
        "mp3",
        "first line, second line",
        Some("First line,\nsecond line.\n"),
    );
    add(
        "sub/b",
        Format::Flac,
        "flac",
        "a flac file in a sub folder",
        Some("A FLAC file in a sub-folder"),
    );
    add(
        "sub/deeper/c",
        Format::Ogg,
        "ogg",
        "and an ogg vorbis one further down",
        Some("And an Ogg Vorbis one, further down"),
    );
    add(
        "d",
        Format::Wav,
        "wav",
        "chapter three begins here",
        Some("Chapter 3 begins here"),
    );
    add("e", Format::Mp3, "mp3", "nobody wrote this down", None);
    std::fs::write(source.join("notes.txt"), "not a transcript of anything").unwrap();

    let target = dir.path().join("out");
    let options = Options {
        jobs: 2,
        ..Options::default()
    };
    let summary = import(Corpus::Folder, &source, &target, &options).unwrap();
    let csv = target.join("my-recordings.csv");
    assert_eq!(
        csv_pairs(&csv),
        pairs(&[
            ("clips/a.wav", "first line second line"),
            ("clips/sub/b.wav", "a flac file in a sub folder"),
            (
                "clips/sub/deeper/c.wav",
                "and an ogg vorbis one further down"
            ),
        ])
    );
    assert_eq!(
        skipped(&target),
        pairs(&[
            ("e.mp3", "no transcript"),
            ("d.wav", "digits in transcript"),
        ])
    );
    assert_eq!(summary.decoded, 3);
    check_wavs(&csv, |w| durations[w]);

    // Resumed with numbers spelled out: only d.wav is new.
    let spelled = Options {
        spell_numbers: true,
        ..options
    };
    let again = import(Corpus::Folder, &source, &target, &spelled).unwrap();
    assert_eq!((again.decoded, again.reused), (1, 3), "{again}");
    assert_eq!(
        csv_pairs(&csv),
        pairs(&[
            ("clips/a.wav", "first line second line"),
            ("clips/d.wav", "chapter three begins here"),
            ("clips/sub/b.wav", "a flac file in a sub folder"),
            (
                "clips/sub/deeper/c.wav",
                "and an ogg vorbis one further down"
            ),
        ])
    );
    assert_eq!(skipped(&target), pairs(&[("e.mp3", "no transcript")]));
    check_wavs(&csv, |w| durations[w]);
    let set = Dataset::load(&[csv], &Alphabet::english(), "train").unwrap();
    assert_eq!(set.samples.len(), 4);
}
