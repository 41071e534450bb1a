//! The game Drascula's layout, built small: a `drascula.dat` written the way ScummVM's
//! `devtools/create_drascula/create_drascula.cpp` writes it (two languages, English first), raw
//! unsigned 8-bit 11025 Hz `.ALS` clips and a dialogue menu `OP_1.CAL`; then truncated and
//! corrupt `.dat` files.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{check_wavs, csv_pairs, skipped};
use deepspeech_core::Alphabet;
use deepspeech_core::train::dataset::Dataset;
use deepspeech_importers::corpus::ListError;
use deepspeech_importers::{Corpus, Options, import};

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// `drascula.dat` version 6 with the given English strings per table (a position in ScummVM's
/// order: 0 `_text`, 1 `_textd`, 2 `_textb`, ... 7 `_textp`, 8 `_textt`, 9 `_textvb`; 15
/// tables). The second language has `ES ` before every non-empty string.
fn dat(english: &HashMap<usize, Vec<&[u8]>>) -> Vec<u8> {
    let mut out = b"DRASCULA".to_vec();
    out.push(6);
    // The thirteen tables of numbers: two records each, of their record sizes.
    for record in [4, 4, 4, 2, 4, 2, 4, 2, 2, 20, 20, 10, 8] {
        out.extend(2u16.to_be_bytes());
        out.extend(std::iter::repeat_n(0x11, 2 * record));
    }
    let languages: u16 = 2;
    out.extend(languages.to_be_bytes());
    for table in 0..15 {
        let strings = english
            .get(&table)
            .cloned()
            .unwrap_or_else(|| vec![b"".as_slice()]);
        out.extend((strings.len() as u16).to_be_bytes());
        for language in 0..languages {
            // As create_drascula: a 2-byte length, the string, its NUL, then 1 to 4 zero bytes.
            let mut entries = Vec::new();
            for s in &strings {
                let mut text = s.to_vec();
                if language == 1 && !text.is_empty() {
                    text.splice(0..0, b"ES ".iter().copied());
                }
                let len = text.len() + 1;
                let pad = 4 - (len + 2) % 4;
                entries.extend(((len + pad + 2) as u16).to_be_bytes());
                entries.extend(&text);
                entries.extend(std::iter::repeat_n(0, 1 + pad));
            }
            out.extend(((entries.len() + 2) as u16).to_be_bytes());
            out.extend([0, 0]);
            out.extend(entries);
        }
    }
    out
}

/// `n` strings: `set` at their indices, empty elsewhere.
fn table<'a>(n: usize, set: &[(usize, &'a [u8])]) -> Vec<&'a [u8]> {
    let mut strings = vec![b"".as_slice(); n];
    for &(i, s) in set {
        strings[i] = s;
    }
    strings
}

/// A clip as the game stores it: 32 bytes of header, `secs` of a 220 Hz tone, 32 bytes of
/// trailer. Returns the seconds ScummVM plays.
fn als(path: &Path, secs: f64) -> f64 {
    let n = (secs * 11025.0) as usize;
    let mut bytes = vec![0x80u8; 32];
    bytes.extend((0..n).map(|i| {
        let phase = i as f64 * 220.0 * std::f64::consts::TAU / 11025.0;
        (128.0 + 60.0 * phase.sin()) as u8
    }));
    bytes.extend([0x80u8; 32]);
    std::fs::write(path, bytes).unwrap();
    n as f64 / 11025.0
}

/// A dialogue menu: four phrases (spaces as 0xA7), four clips, three answers; XOR 0xFF.
fn menu(path: &Path, phrases: [&str; 4], clips: [&str; 4]) {
    let mut text = String::new();
    for phrase in phrases {
        text.push_str(phrase);
        text.push('\n');
    }
    for clip in clips {
        text.push_str(clip);
        text.push('\n');
    }
    text.push_str("1\n2\n3\n");
    let bytes: Vec<u8> = text
        .bytes()
        .map(|b| if b == b' ' { 0xa7 } else { b })
        .map(|b| b ^ 0xff)
        .collect();
    std::fs::write(path, bytes).unwrap();
}

/// The English tables of the corpus below.
fn tables() -> HashMap<usize, Vec<&'static [u8]>> {
    HashMap::from([
        (
            0,
            table(
                8,
                &[
                    (1, b"THAT'S THE SECOND BIGGEST DOOR"),
                    (2, b"YOUUU...SKELETONNNN..!!!"),
                    (3, b"A VAMPIRE IN ROOM 501"),
                    (4, b"WELL GOODBYE, I HAVE TO KILL A VAMPIRE"),
                    (5, b"HOW DID YOU END UP HERE"),
                    (7, b"HE WEARS A TOUPE\x90"),
                ],
            ),
        ),
        (
            1,
            table(
                84,
                &[
                    (2, b"HEY IGOR, HOW IS EVERYTHING GOING?"),
                    (60, b"BUT YOU JUST TOLD ME YOU WEREN'T BLIND"),
                    (70, b"AND I'M NOT KIDDING YOU"),
                    (83, b"BLA, BLA, BLA."),
                ],
            ),
        ),
        (2, table(3, &[(1, b"I'M HERE, DRINKING")])),
        (7, table(2, &[(1, b"HI")])),
        (8, table(2, &[(1, b"WHAT HAPPENED? WHAT'S THE MATTER?")])),
        (
            9,
            table(2, &[(1, b"WHO THE HELL IS CALLING AT THIS TIME?")]),
        ),
    ])
}

#[test]
fn dat_and_als_clips_to_train_and_dev() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("en");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("drascula.dat"), dat(&tables())).unwrap();
    let mut durations: HashMap<String, f64> = HashMap::new();
    for (name, secs) in [
        ("1", 2.0),
        ("2", 1.5),
        ("3", 2.0),
        ("4", 2.5),
        ("5", 2.0),
        ("6", 1.0),
        ("7", 1.5),
        ("D2", 2.5),
        ("D60", 2.5),
        ("D70", 2.0),
        ("D83", 1.0),
        ("B9", 1.0),
        ("T1", 2.5),
        ("VB1", 2.5),
        ("S1", 1.0),
        ("F1", 1.0),
    ] {
        let played = als(&source.join(format!("{name}.ALS")), secs);
        durations.insert(format!("clips/{name}.wav"), played);
    }
    // Too short to hold anything but its header and trailer.
    std::fs::write(source.join("P1.ALS"), [0x80u8; 40]).unwrap();
    // 4.ALS: the menu shows _text[4]'s words; 5.ALS: other words than _text[5].
    menu(
        &source.join("OP_1.CAL"),
        [
            "Well. Goodbye, I have to kill a vampire.",
            "TELL HOW DID YOU GET TO END UP HERE.",
            "A",
            "B",
        ],
        ["4.als", "5.als", "98.als", "99.als"],
    );
    std::fs::write(source.join("1.ALD"), "room data, not speech").unwrap();

    let target = dir.path().join("out");
    let options = Options {
        jobs: 2,
        ..Options::default()
    };
    let summary = import(Corpus::Drascula, &source, &target, &options).unwrap();
    let train = target.join("train.csv");
    let dev = target.join("dev.csv");
    assert_eq!(
        csv_pairs(&train),
        pairs(&[
            ("clips/1.wav", "that's the second biggest door"),
            ("clips/2.wav", "you skeleton"),
            ("clips/4.wav", "well goodbye i have to kill a vampire"),
            ("clips/7.wav", "he wears a toupee"),
            ("clips/D2.wav", "hey igor how is everything going"),
            ("clips/D60.wav", "but you just told me you weren't blind"),
            ("clips/VB1.wav", "who the hell is calling at this time"),
        ])
    );
    assert_eq!(
        csv_pairs(&dev),
        pairs(&[
            ("clips/D70.wav", "and i'm not kidding you"),
            ("clips/T1.wav", "what happened what's the matter"),
        ])
    );
    assert_eq!(
        skipped(&target),
        pairs(&[
            ("_text[5]", "ambiguous transcript"),
            ("_text[6]", "no transcript"),
            ("_textb[9]", "no transcript"),
            ("D83.ALS", "ambiguous transcript"),
            ("F1.ALS", "no transcript"),
            ("S1.ALS", "no transcript"),
            ("_text[3]", "digits in transcript"),
            ("_textp[1]", "unreadable audio"),
        ])
    );
    let skipped_tsv = std::fs::read_to_string(target.join("skipped.tsv")).unwrap();
    assert!(skipped_tsv.contains("OP_1.CAL shows \"TELL HOW DID YOU GET TO END UP HERE.\""));
    assert!(skipped_tsv.contains("_textb has 3 entries"));
    assert!(skipped_tsv.contains("P1.ALS\tHI\tunreadable audio\t40 bytes"));
    assert_eq!(summary.decoded, 9, "{summary}");
    check_wavs(&train, |w| durations[w]);
    check_wavs(&dev, |w| durations[w]);
    let set = Dataset::load(&[train], &Alphabet::english(), "train").unwrap();
    assert_eq!(set.samples.len(), 7);

    // Only the dev split, resumed: its WAVs are reused.
    let again = import(
        Corpus::Drascula,
        &source,
        &target,
        &Options {
            splits: Some(vec!["dev".into()]),
            ..options
        },
    )
    .unwrap();
    assert_eq!((again.decoded, again.reused), (0, 2), "{again}");
}

#[test]
fn a_truncated_or_corrupt_dat_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("en");
    std::fs::create_dir_all(&source).unwrap();
    als(&source.join("1.ALS"), 1.0);
    let whole = dat(&tables());
    let dat_path = source.join("drascula.dat");
    let error = |bytes: &[u8]| {
        std::fs::write(&dat_path, bytes).unwrap();
        match Corpus::Drascula.list(&source, None) {
            Err(ListError::Layout(message)) => message,
            Err(other) => panic!("{} bytes: not a layout error: {other}", bytes.len()),
            Ok(_) => panic!("{} bytes: listed", bytes.len()),
        }
    };

    // Every cut, from the signature to the last string's padding, is reported, not a panic.
    for cut in 0..whole.len() {
        let message = error(&whole[..cut]);
        assert!(
            message.contains("drascula.dat: truncated:"),
            "{cut}: {message}"
        );
    }
    assert!(error(&whole[..5]).contains("the DRASCULA signature needs 8 bytes at offset 0"));
    assert!(error(&whole[..whole.len() - 3]).contains("_textd1 of language 1 needs"));

    let mut wrong = whole.clone();
    wrong[..8].copy_from_slice(b"DRACULA!");
    assert!(error(&wrong).contains("not a drascula.dat file"));
    wrong = whole.clone();
    wrong[8] = 5;
    assert!(error(&wrong).contains("version 5 of the format; only version 6"));
    // The first string of _text claims more bytes than its block holds.
    let numbers_end = 9 + (4 + 4 + 4 + 2 + 4 + 2 + 4 + 2 + 2 + 20 + 20 + 10 + 8) * 2 + 13 * 2;
    // Then: languages, _text's count, its English block length, 2 bytes of padding.
    let length_at = numbers_end + 2 + 2 + 2 + 2;
    wrong = whole.clone();
    wrong[length_at..length_at + 2].copy_from_slice(&999u16.to_be_bytes());
    let message = error(&wrong);
    assert!(
        message.contains("corrupt _text of language 0: string 0 claims 999 bytes"),
        "{message}"
    );

    std::fs::remove_file(&dat_path).unwrap();
    let target = dir.path().join("out");
    let failure = import(Corpus::Drascula, &source, &target, &Options::default()).unwrap_err();
    assert!(failure.to_string().contains("no drascula.dat"), "{failure}");
}
