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

/// A transcript that exists but cannot be used is reported as unreadable, not as missing: one
/// that cannot be read (here a folder named like it), one that is not UTF-8, and one larger
/// than any transcript (refused before it is read into memory).
#[test]
fn unusable_transcripts_are_reported_as_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("rec");
    for name in ["folder", "latin1", "huge", "fine"] {
        speak(
            "a short clip",
            &source.join(format!("{name}.wav")),
            Format::Wav,
        );
    }
    std::fs::create_dir(source.join("folder.txt")).unwrap();
    std::fs::write(source.join("latin1.txt"), b"caf\xe9 au lait").unwrap();
    let huge = std::fs::File::create(source.join("huge.txt")).unwrap();
    huge.set_len(deepspeech_importers::corpus::folder::MAX_TRANSCRIPT_BYTES + 1)
        .unwrap();
    std::fs::write(source.join("fine.txt"), "a short clip").unwrap();
    let target = dir.path().join("out");
    import(Corpus::Folder, &source, &target, &Options::default()).unwrap();
    assert_eq!(
        csv_pairs(&target.join("rec.csv")),
        pairs(&[("clips/fine.wav", "a short clip")])
    );
    let mut reasons = skipped(&target);
    reasons.sort();
    assert_eq!(
        reasons,
        pairs(&[
            ("folder.wav", "unreadable transcript"),
            ("huge.wav", "unreadable transcript"),
            ("latin1.wav", "unreadable transcript"),
        ])
    );
    let details = std::fs::read_to_string(target.join("skipped.tsv")).unwrap();
    for detail in [
        "cannot read",
        "is larger than 1048576 bytes",
        "is not UTF-8",
    ] {
        assert!(details.contains(detail), "{detail}: {details}");
    }
}
