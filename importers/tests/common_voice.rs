//! Common Voice, both layouts, on corpora the test speaks itself: the TSV layout through the
//! library (rows, normalisation, every skip reason, reuse on a second run, recovery from a
//! damaged WAV, loading by ds-train's Dataset), the first release's CSV layout through the
//! `ds-import` binary.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{Format, check_wavs, csv_files, csv_pairs, garbage, mtimes, skipped, speak};
use deepspeech_core::Alphabet;
use deepspeech_core::train::dataset::Dataset;
use deepspeech_importers::{Corpus, Options, SkipReason, import};

fn options() -> Options {
    Options {
        max_secs: 4.0,
        jobs: 2,
        ..Options::default()
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn tsv_layout_imports_good_rows_skips_bad_ones_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("cv-corpus-en");
    let clips = source.join("clips");
    let mut durations: HashMap<String, f64> = HashMap::new();
    let mut say = |name: &str, text: &str| {
        let secs = speak(text, &clips.join(format!("{name}.mp3")), Format::Mp3);
        durations.insert(format!("clips/{name}.wav"), secs);
    };
    say("c1", "hello world, how are you today");
    say("c2", "a naive cafe, isn't it");
    say("c3", "room one hundred and one");
    say(
        "c5",
        "this sentence goes on and on for much longer than four seconds of speech, \
         which is the limit this test sets",
    );
    say("c6", "yes");
    say("c7", "moscow");
    say("d1", "good morning to all of you");
    say("t1", "the quick brown fox jumps over the lazy dog");
    say("t2", "what");
    garbage(&clips.join("c4.mp3"));
    let header = "client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccent\n";
    let tsv = |name: &str, rows: &[(&str, &str)]| {
        let mut text = header.to_owned();
        for (i, (path, sentence)) in rows.iter().enumerate() {
            text.push_str(&format!("id{i}\t{path}\t{sentence}\t2\t0\t\t\t\n"));
        }
        std::fs::write(source.join(name), text).unwrap();
    };
    tsv(
        "train.tsv",
        &[
            ("c1.mp3", "Hello world, how are you today?"),
            ("c2.mp3", "A \"naïve\" café, isn’t it…"),
            ("c3.mp3", "Room 101"),
            ("c4.mp3", "A broken clip"),
            ("c5.mp3", "This sentence goes on and on"),
            (
                "c6.mp3",
                "this transcript is far too long for such a short clip of audio to carry",
            ),
            ("c7.mp3", "Москва"),
            ("c8.mp3", "a clip that is not there"),
        ],
    );
    tsv("dev.tsv", &[("d1.mp3", "Good morning to all of you.")]);
    tsv(
        "test.tsv",
        &[
            ("t1.mp3", "The quick brown fox jumps over the lazy dog"),
            ("t2.mp3", " ?! "),
        ],
    );
    tsv(
        "validated.tsv",
        &[
            ("c1.mp3", "Hello world, how are you today?"),
            ("d1.mp3", "Good morning to all of you."),
        ],
    );
    tsv(
        "invalidated.tsv",
        &[("t2.mp3", "rejected by the community")],
    );

    let target = dir.path().join("imported");
    let summary = import(Corpus::CommonVoice, &source, &target, &options()).unwrap();

    assert_eq!(
        csv_pairs(&target.join("train.csv")),
        pairs(&[
            ("clips/c1.wav", "hello world how are you today"),
            ("clips/c2.wav", "a naive cafe isn't it"),
        ])
    );
    assert_eq!(
        csv_pairs(&target.join("dev.csv")),
        pairs(&[("clips/d1.wav", "good morning to all of you")])
    );
    assert_eq!(
        csv_pairs(&target.join("test.csv")),
        pairs(&[(
            "clips/t1.wav",
            "the quick brown fox jumps over the lazy dog"
        )])
    );
    assert_eq!(
        csv_pairs(&target.join("validated.csv")),
        pairs(&[
            ("clips/c1.wav", "hello world how are you today"),
            ("clips/d1.wav", "good morning to all of you"),
        ])
    );
    assert!(!target.join("invalidated.csv").exists());
    assert_eq!(
        skipped(&target),
        pairs(&[
            ("train.tsv:4", "digits in transcript"),
            ("train.tsv:5", "unreadable audio"),
            ("train.tsv:6", "too long"),
            ("train.tsv:7", "too short for its transcript"),
            ("train.tsv:8", "characters outside the alphabet"),
            ("train.tsv:9", "missing audio file"),
            ("test.tsv:3", "empty transcript"),
        ])
    );
    let by_reason = summary.skipped_by_reason();
    assert_eq!(by_reason.get(&SkipReason::TooLong), Some(&1));
    assert_eq!(by_reason.values().sum::<usize>(), 7);
    let rows: Vec<usize> = summary.csvs.iter().map(|c| c.rows).collect();
    assert_eq!(rows, [2, 1, 1, 2], "train, dev, test, validated");
    assert!(summary.seconds() > 5.0, "{summary}");
    // c1, c2, d1 and t1 are written once each, though c1 and d1 are listed twice; c6's WAV
    // (decodable, but too short for its transcript) is in no CSV, so it is removed, not counted.
    assert_eq!((summary.decoded, summary.reused), (4, 0), "{summary}");
    assert!(!target.join("clips/c6.wav").exists());

    let mut wavs = Vec::new();
    for csv in ["train", "dev", "test", "validated"] {
        wavs.extend(check_wavs(&target.join(format!("{csv}.csv")), |w| {
            durations[w]
        }));
    }

    // The CSVs load with ds-train's loader, every row usable.
    let set = Dataset::load(&[target.join("train.csv")], &Alphabet::english(), "train").unwrap();
    assert_eq!(set.samples.len(), 2);
    assert!(set.skipped.is_empty(), "{:?}", set.skipped);

    // A second run writes nothing new (c6 is decoded again, to measure it) and the same CSVs.
    let csvs = csv_files(&target);
    let skipped_tsv = std::fs::read(target.join("skipped.tsv")).unwrap();
    let before = mtimes(&wavs);
    let again = import(Corpus::CommonVoice, &source, &target, &options()).unwrap();
    assert_eq!((again.decoded, again.reused), (0, 4), "{again}");
    assert_eq!(mtimes(&wavs), before);
    assert_eq!(csv_files(&target), csvs);
    assert_eq!(
        std::fs::read(target.join("skipped.tsv")).unwrap(),
        skipped_tsv
    );

    // An interrupted run: a truncated WAV is decoded again, a stale temporary file removed.
    let damaged = target.join("clips/d1.wav");
    let bytes = std::fs::read(&damaged).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let partial = target.join("clips/t1.wav.partial-1");
    std::fs::write(&partial, b"RIFF").unwrap();
    let third = import(Corpus::CommonVoice, &source, &target, &options()).unwrap();
    assert_eq!((third.decoded, third.reused), (1, 3), "{third}");
    assert_eq!(std::fs::read(&damaged).unwrap(), bytes);
    assert!(!partial.exists());
    assert_eq!(csv_files(&target), csvs);
}

#[test]
fn first_release_layout_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("cv_corpus_v1");
    let mut durations: HashMap<String, f64> = HashMap::new();
    for (name, text) in [
        ("cv-valid-train/sample-000000", "learning to speak is fun"),
        ("cv-valid-train/sample-000002", "dogs are better than cats"),
        ("cv-other-dev/sample-000000", "well, that's it then"),
    ] {
        let secs = speak(text, &source.join(format!("{name}.mp3")), Format::Mp3);
        durations.insert(format!("clips/{name}.wav"), secs);
    }
    garbage(&source.join("cv-valid-train/sample-000001.mp3"));
    let header = "filename,text,up_votes,down_votes,age,gender,accent,duration\n";
    std::fs::write(
        source.join("cv-valid-train.csv"),
        format!(
            "{header}cv-valid-train/sample-000000.mp3,learning to speak is fun,1,0,,,,\n\
             cv-valid-train/sample-000001.mp3,corrupt audio,1,0,,,,\n\
             cv-valid-train/sample-000002.mp3,Dogs are better than cats!,1,0,twenties,male,us,\n\
             ../outside.mp3,escaping the folder,1,0,,,,\n"
        ),
    )
    .unwrap();
    std::fs::write(
        source.join("cv-other-dev.csv"),
        format!("{header}cv-other-dev/sample-000000.mp3,\"Well, that's it then.\",0,0,,,,\n"),
    )
    .unwrap();

    let target = dir.path().join("out");
    let binary = env!("CARGO_BIN_EXE_ds-import");
    let output = Command::new(binary)
        .args(["cv", "--max_secs", "5", "--jobs", "2"])
        .arg(&source)
        .arg(&target)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("cv-valid-train.csv"), "{stdout}");
    assert!(stdout.contains("skipped 2 row(s)"), "{stdout}");
    assert!(stdout.contains("unreadable audio"), "{stdout}");

    assert_eq!(
        csv_pairs(&target.join("cv-valid-train.csv")),
        pairs(&[
            (
                "clips/cv-valid-train/sample-000000.wav",
                "learning to speak is fun"
            ),
            (
                "clips/cv-valid-train/sample-000002.wav",
                "dogs are better than cats"
            ),
        ])
    );
    assert_eq!(
        csv_pairs(&target.join("cv-other-dev.csv")),
        pairs(&[(
            "clips/cv-other-dev/sample-000000.wav",
            "well that's it then"
        )])
    );
    assert_eq!(
        skipped(&target),
        pairs(&[
            ("cv-valid-train.csv:5", "unreadable row"),
            ("cv-valid-train.csv:3", "unreadable audio"),
        ])
    );
    check_wavs(&target.join("cv-valid-train.csv"), |w| durations[w]);
    check_wavs(&target.join("cv-other-dev.csv"), |w| durations[w]);
    Dataset::load(
        &[
            target.join("cv-valid-train.csv"),
            target.join("cv-other-dev.csv"),
        ],
        &Alphabet::english(),
        "train",
    )
    .unwrap();

    // Only the named split, quietly; a missing source is an error, not a panic.
    let output = Command::new(binary)
        .args(["cv", "--quiet", "--splits", "cv-other-dev"])
        .arg(&source)
        .arg(dir.path().join("dev-only"))
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    assert!(dir.path().join("dev-only/cv-other-dev.csv").exists());
    assert!(!dir.path().join("dev-only/cv-valid-train.csv").exists());
    let output = Command::new(binary)
        .args(["cv"])
        .arg(dir.path().join("nowhere"))
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a folder"));
}

#[test]
fn a_folder_without_common_voice_files_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = import(
        Corpus::CommonVoice,
        dir.path(),
        &dir.path().join("out"),
        &options(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("is not a Common Voice folder"), "{e}");
}
