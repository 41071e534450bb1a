//! LibriSpeech's `*.trans.txt` + FLAC layout, two splits, upper-case transcripts, a corrupt and
//! a missing FLAC; then one split folder given directly as the source.

mod common;

use std::collections::HashMap;

use common::{Format, check_wavs, csv_files, csv_pairs, garbage, mtimes, skipped, speak};
use deepspeech_core::Alphabet;
use deepspeech_core::train::dataset::Dataset;
use deepspeech_importers::{Corpus, Options, import};

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn trans_txt_and_flac_to_one_csv_per_split() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("LibriSpeech");
    let mut durations: HashMap<String, f64> = HashMap::new();
    let mut utterance = |split: &str, id: &str, text: &str, audio: bool| {
        let parts: Vec<&str> = id.split('-').collect();
        let folder = root.join(split).join(parts[0]).join(parts[1]);
        let flac = folder.join(format!("{id}.flac"));
        if audio {
            let secs = speak(&text.to_lowercase(), &flac, Format::Flac);
            let clip = format!("clips/{split}/{}/{}/{id}.wav", parts[0], parts[1]);
            durations.insert(clip, secs);
        }
        let trans = folder.join(format!("{}-{}.trans.txt", parts[0], parts[1]));
        let mut text_file = std::fs::read_to_string(&trans).unwrap_or_default();
        text_file.push_str(&format!("{id} {text}\n"));
        std::fs::write(trans, text_file).unwrap();
    };
    utterance(
        "dev-clean",
        "84-121123-0000",
        "GO DO YOU HEAR WHAT I SAY",
        true,
    );
    utterance(
        "dev-clean",
        "84-121123-0001",
        "BUT IN LESS THAN FIVE MINUTES THE STAIRCASE GROANED",
        true,
    );
    utterance("dev-clean", "84-121123-0002", "A CORRUPT FILE", false);
    utterance(
        "dev-clean",
        "174-50561-0000",
        "FORGOTTEN TOO THE NAME OF GILLIAN",
        true,
    );
    utterance(
        "test-clean",
        "1089-134686-0000",
        "HE HOPED THERE WOULD BE STEW FOR DINNER",
        true,
    );
    utterance(
        "test-clean",
        "1089-134686-0001",
        "THIS ONE HAS NO FLAC",
        false,
    );
    garbage(&root.join("dev-clean/84/121123/84-121123-0002.flac"));
    std::fs::write(root.join("README.TXT"), "LibriSpeech ASR corpus\n").unwrap();

    let target = dir.path().join("librispeech-csv");
    let options = Options {
        jobs: 2,
        ..Options::default()
    };
    let summary = import(Corpus::LibriSpeech, &root, &target, &options).unwrap();
    assert_eq!(
        csv_pairs(&target.join("dev-clean.csv")),
        pairs(&[
            (
                "clips/dev-clean/174/50561/174-50561-0000.wav",
                "forgotten too the name of gillian"
            ),
            (
                "clips/dev-clean/84/121123/84-121123-0000.wav",
                "go do you hear what i say"
            ),
            (
                "clips/dev-clean/84/121123/84-121123-0001.wav",
                "but in less than five minutes the staircase groaned"
            ),
        ])
    );
    assert_eq!(
        csv_pairs(&target.join("test-clean.csv")),
        pairs(&[(
            "clips/test-clean/1089/134686/1089-134686-0000.wav",
            "he hoped there would be stew for dinner"
        )])
    );
    assert_eq!(
        skipped(&target),
        pairs(&[
            (
                "dev-clean/84/121123/84-121123.trans.txt:3",
                "unreadable audio"
            ),
            (
                "test-clean/1089/134686/1089-134686.trans.txt:2",
                "missing audio file"
            ),
        ])
    );
    assert_eq!(summary.decoded, 4);
    let mut wavs = check_wavs(&target.join("dev-clean.csv"), |w| durations[w]);
    wavs.extend(check_wavs(&target.join("test-clean.csv"), |w| durations[w]));
    Dataset::load(&[target.join("dev-clean.csv")], &Alphabet::english(), "dev").unwrap();

    let csvs = csv_files(&target);
    let before = mtimes(&wavs);
    let again = import(Corpus::LibriSpeech, &root, &target, &options).unwrap();
    assert_eq!((again.decoded, again.reused), (0, 4));
    assert_eq!(mtimes(&wavs), before);
    assert_eq!(csv_files(&target), csvs);

    // One split folder as the source: its name names the CSV.
    let single = dir.path().join("single");
    import(
        Corpus::LibriSpeech,
        &root.join("test-clean"),
        &single,
        &options,
    )
    .unwrap();
    assert_eq!(
        csv_pairs(&single.join("test-clean.csv")),
        pairs(&[(
            "clips/1089/134686/1089-134686-0000.wav",
            "he hoped there would be stew for dinner"
        )])
    );
}
