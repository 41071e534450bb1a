//! DeepSpeech `.scorer` packages against the real tools: the packages in
//! `tests/fixtures/scorer/` were made by KenLM's `build_binary` and DeepSpeech 0.9.3's
//! `generate_scorer_package` (`tools/reference/scorer_packages.py`), and `scores.json` holds the
//! scores the PyPI `kenlm` module gives on the same files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use deepspeech_core::lm::formats::FileBytes;
use deepspeech_core::lm::formats::deepspeech_scorer::ScorerPackage;
use deepspeech_core::lm::formats::kenlm::ModelType;
use deepspeech_core::lm::{LanguageModel, Scorer, Vocabulary};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scorer")
}

fn lm_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lm")
}

fn scores() -> Value {
    let text = std::fs::read_to_string(fixtures().join("scores.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f(v: &Value) -> f32 {
    v.as_f64().unwrap() as f32
}

/// The English alphabet's labels: space 0, a–z 1–26, apostrophe 27.
fn label(c: char) -> Option<usize> {
    " abcdefghijklmnopqrstuvwxyz'".chars().position(|s| s == c)
}

/// The unigrams of an ARPA fixture.
fn arpa_words(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(lm_fixtures().join(name)).unwrap();
    text.split("\\1-grams:")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split('\t').nth(1).unwrap().to_string())
        .collect()
}

#[test]
fn package_scores_equal_kenlms_own() {
    let all = scores();
    let packages = all["packages"].as_object().unwrap();
    assert_eq!(packages.len(), 11);
    let mut checked = 0;
    for (name, expected) in packages {
        let package = ScorerPackage::open(&fixtures().join(name)).unwrap();
        assert_eq!(package.utf8, expected["utf8"].as_bool().unwrap(), "{name}");
        assert_eq!(package.alpha as f32, 0.931_289, "{name}");
        assert_eq!(package.beta as f32, 1.183_414, "{name}");
        if name.starts_with("ours-") {
            assert_eq!(package.lm.model_type(), ModelType::Probing);
        }
        let kind = match package.lm.model_type() {
            ModelType::QuantArrayTrie => "trie-q",
            ModelType::Trie => "trie.",
            ModelType::Probing => "probing",
            other => panic!("{name}: {other:?}"),
        };
        assert!(name.contains(kind), "{name} read as {kind}");
        let lm = &package.lm;
        assert_eq!(lm.order() as u64, expected["order"].as_u64().unwrap());
        let rows = expected["sentences"].as_array().unwrap();
        assert!(rows.len() >= 40, "{name}");
        for row in rows {
            let sentence = row["sentence"].as_str().unwrap();
            let words: Vec<&str> = sentence.split_whitespace().collect();
            for (key, bos, eos) in [
                ("bos_eos", true, true),
                ("no_bos_eos", false, false),
                ("bos_only", true, false),
            ] {
                let ours = lm.sentence_log10(&words, bos, eos);
                let theirs = f(&row[key]);
                assert!(
                    (ours - theirs).abs() <= 2e-6 * theirs.abs().max(1.0),
                    "{name}, {key}, {sentence:?}: ours {ours}, KenLM {theirs}"
                );
                checked += 1;
            }
            // Per word, with state, exactly: the same floats summed in the same order.
            let mut state = lm.begin_sentence();
            let ids = words
                .iter()
                .map(|w| lm.word_id(w))
                .chain([lm.eos()])
                .collect::<Vec<_>>();
            let theirs = row["words"].as_array().unwrap();
            assert_eq!(ids.len(), theirs.len(), "{name}, {sentence:?}");
            for (i, (&id, t)) in ids.iter().zip(theirs).enumerate() {
                let (p, next) = lm.score(&state, id);
                assert_eq!(p, f(t), "{name}, {sentence:?}, word {i}");
                state = next;
                checked += 1;
            }
        }
    }
    assert!(checked > 25_000, "{checked}");
}

/// Walks a word through the dictionary as the decoder does (labels + 1; a final state goes
/// back to the start): whether every step is allowed, and whether it ends back at the start.
fn spell(package: &ScorerPackage, labels: &[i32]) -> Option<bool> {
    let fst = &package.dictionary;
    let mut state = fst.start();
    let mut restarted = false;
    for &l in labels {
        let next = fst.next(state, l)?;
        restarted = fst.is_final(next);
        state = if restarted { fst.start() } else { next };
    }
    Some(restarted)
}

#[test]
fn dictionaries_hold_exactly_the_vocabulary() {
    for (arpa, package) in [
        ("order5.arpa", "word-order5-trie-q8-a255.scorer"),
        ("order3.arpa", "word-order3-probing.scorer"),
        ("order2-nounk.arpa", "word-order2-nounk-trie.scorer"),
    ] {
        let package = ScorerPackage::open(&fixtures().join(package)).unwrap();
        let words = arpa_words(arpa);
        let mut spelled = 0;
        for word in &words {
            let labels: Option<Vec<i32>> = word
                .chars()
                .map(|c| label(c).map(|l| l as i32 + 1))
                .collect();
            let special = matches!(word.as_str(), "<s>" | "</s>" | "<unk>");
            match labels {
                Some(mut labels) if !special => {
                    labels.push(1); // the space label (0) + 1
                    assert_eq!(spell(&package, &labels), Some(true), "{word:?}");
                    // Without its space the word is incomplete, never a complete word.
                    labels.pop();
                    assert_ne!(spell(&package, &labels), Some(true), "{word:?}");
                    spelled += 1;
                }
                _ => {}
            }
        }
        assert!(spelled > 100, "{spelled}");
        for non_word in ["zzqx", "shex", "qqq"] {
            let labels: Vec<i32> = non_word
                .chars()
                .map(|c| label(c).unwrap() as i32 + 1)
                .chain([1])
                .collect();
            assert_eq!(spell(&package, &labels), None, "{non_word}");
        }
    }
}

#[test]
fn utf8_dictionaries_spell_bytes() {
    let package = ScorerPackage::open(&fixtures().join("utf8-order4-trie-q8-a255.scorer")).unwrap();
    assert!(package.utf8);
    // Every character is a word: its UTF-8 bytes lead to a final state (and back to the start).
    for c in ['a', 'é', 'ö', 'ß', 'œ', 'ñ'] {
        let mut buf = [0u8; 4];
        let bytes: Vec<i32> = c.encode_utf8(&mut buf).bytes().map(i32::from).collect();
        assert_eq!(spell(&package, &bytes), Some(true), "{c}");
        if bytes.len() > 1 {
            assert_eq!(
                spell(&package, &bytes[..1]),
                Some(false),
                "{c}: a lead byte alone is allowed but incomplete"
            );
        }
    }
    assert_eq!(
        spell(&package, &[i32::from(b'Q')]),
        None,
        "not in the corpus"
    );
}

#[test]
fn scorer_from_file_reads_packages_with_their_weights_and_dictionary() {
    let scorer = Scorer::from_file(fixtures().join("word-order5-trie-q8-a255.scorer")).unwrap();
    assert_eq!(scorer.alpha, 0.931_289);
    assert_eq!(scorer.beta, 1.183_414);
    assert_eq!(scorer.lm.order(), 5);
    assert!(matches!(
        scorer.vocabulary.as_deref(),
        Some(Vocabulary::Fst { utf8: false, .. })
    ));
    assert!(scorer.lm.contains("she") && !scorer.lm.contains("zzqx"));
}

/// Every way a package can be broken gives an error naming the file, never a panic.
#[test]
fn broken_packages_are_refused_with_the_reason() {
    let good_path = fixtures().join("word-order5-trie-q8-a255.scorer");
    let good = std::fs::read(&good_path).unwrap();
    let package = ScorerPackage::open(&good_path).unwrap();
    let end = package.lm.end_of_search();
    let dir = std::env::temp_dir().join(format!("ds-scorer-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let check = |name: &str, bytes: &[u8], reason: &str| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = Scorer::from_file(&path).unwrap_err().to_string();
        assert!(err.contains(name), "{name}: {err}");
        assert!(
            err.contains(reason),
            "{name}: {err:?} should say {reason:?}"
        );
    };
    check(
        "kenlm-only.binary",
        &good[..end],
        "without DeepSpeech's dictionary",
    );
    check("in-header.scorer", &good[..100], "ends inside its header");
    check(
        "in-search.scorer",
        &good[..end - 10],
        "header says the model takes",
    );
    check("in-trie-header.scorer", &good[..end + 12], "cut short");
    check("in-fst.scorer", &good[..good.len() - 100], "dictionary");
    let mut magic = good.clone();
    magic[end..end + 4].copy_from_slice(b"ABCD");
    check("magic.scorer", &magic, "no 'TRIE' header");
    let mut version = good.clone();
    version[end + 4..end + 8].copy_from_slice(&5i32.to_le_bytes());
    check("version.scorer", &version, "package version 5");
    let mut fst = good.clone();
    fst[end + 25..end + 29].copy_from_slice(&[0, 0, 0, 0]);
    check("fst-magic.scorer", &fst, "no OpenFST magic");
    let mut fst_type = good.clone();
    fst_type[end + 33..end + 38].copy_from_slice(b"vectr");
    check("fst-type.scorer", &fst_type, "\"vectr\"");
    let mut kenlm_type = good.clone();
    kenlm_type[96..100].copy_from_slice(&1u32.to_le_bytes());
    check("rest.scorer", &kenlm_type, "rest costs");
    let mut counts = good.clone();
    counts[108..116].copy_from_slice(&(1u64 << 40).to_le_bytes());
    check("counts.scorer", &counts, "KenLM");
    std::fs::remove_dir_all(&dir).ok();
}

/// Damaged bytes anywhere: opening and scoring must not panic or hang (they may succeed).
#[test]
fn damaged_packages_never_panic() {
    let path = fixtures().join("word-order5-trie-q8-a255.scorer");
    let good = std::fs::read(&path).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let words = ["she", "had", "your", "dark", "suit", "in", "zzqx"];
    for _ in 0..300 {
        let mut bytes = good.clone();
        for _ in 0..8 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        let Ok(package) =
            ScorerPackage::from_bytes(Arc::new(FileBytes::Owned(bytes)), Path::new("x"))
        else {
            continue;
        };
        let _ = package.lm.sentence_log10(&words, true, true);
        let fst = &package.dictionary;
        let mut state = fst.start();
        for l in [19, 8, 5, 1] {
            match fst.next(state, l) {
                Some(s) => state = s,
                None => break,
            }
            let _ = fst.is_final(state);
        }
    }
}

/// `ds-lm --scorer_out_deepspeech` (core's package writer) writes, from the 5-gram ARPA
/// fixture, exactly the package that KenLM scored (`package_scores_equal_kenlms_own`),
/// ds_ctcdecoder decoded (core/tests/scorer_decoding.rs) and libdeepspeech transcribed with
/// (core/tests/deepspeech_models.rs) when the fixtures were made.
#[test]
fn our_writer_makes_the_package_the_real_programs_checked() {
    use deepspeech_core::lm::ArpaModel;
    use deepspeech_core::lm::binary::ScorerContents;
    use deepspeech_core::lm::formats::deepspeech_scorer::package_bytes;
    use deepspeech_core::lm::formats::kenlm::write::NgramTables;
    let arpa = ArpaModel::from_file(lm_fixtures().join("order5.arpa")).unwrap();
    let contents = ScorerContents::from_arpa(&arpa, 0.931_289, 1.183_414);
    let tables = NgramTables {
        vocab: &contents.vocab,
        ngrams: &contents.ngrams,
    };
    let ours = package_bytes(
        &tables,
        &deepspeech_core::Alphabet::english(),
        0.931_289,
        1.183_414,
    )
    .unwrap();
    let checked = std::fs::read(fixtures().join("ours-order5-probing.scorer")).unwrap();
    assert!(
        ours == checked,
        "the writer's output changed since the reference run"
    );
}

#[test]
fn unclosed_models_are_refused_by_the_writer() {
    use deepspeech_core::lm::formats::kenlm::write::{NgramTables, probing_binary};
    let vocab: Vec<String> = ["<unk>", "<s>", "</s>", "a", "b"]
        .map(String::from)
        .to_vec();
    let unigrams = (0..5).map(|i| (vec![i], -1.0, 0.0)).collect::<Vec<_>>();
    // The trigram "a b a" has no bigram "a b" (its context).
    let bigrams = vec![(vec![4, 3], -0.5, 0.0)];
    let trigrams = vec![(vec![3, 4, 3], -0.2, 0.0)];
    let ngrams = vec![unigrams, bigrams, trigrams];
    let err = probing_binary(&NgramTables {
        vocab: &vocab,
        ngrams: &ngrams,
    })
    .err()
    .unwrap();
    assert!(err.contains("no context"), "{err}");
}
