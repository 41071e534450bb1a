//! `ArpaModel` against KenLM: the fixtures in `tests/fixtures/lm/` (made by
//! `tools/reference/kenlm_scores.py`) hold ARPA models built by KenLM's `lmplz` and the scores
//! KenLM's Python module gives 328 sentences with each of them.

use std::path::PathBuf;
use std::sync::Arc;

use deepspeech_core::lm::{ArpaModel, LanguageModel, Scorer};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lm")
}

fn scores() -> Value {
    let text = std::fs::read_to_string(fixtures().join("scores.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f(v: &Value) -> f32 {
    v.as_f64().unwrap() as f32
}

#[test]
fn sentence_scores_equal_kenlm() {
    let all = scores();
    let models = all["models"].as_object().unwrap();
    assert_eq!(models.len(), 4);
    let mut checked = 0;
    for (name, model) in models {
        let lm = ArpaModel::from_file(fixtures().join(name)).unwrap();
        assert_eq!(
            lm.order() as u64,
            model["order"].as_u64().unwrap(),
            "{name}"
        );
        let rows = model["sentences"].as_array().unwrap();
        assert!(rows.len() >= 300);
        let mut max_diff = 0f32;
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
                let diff = (ours - theirs).abs();
                assert!(
                    diff < 1e-4,
                    "{name}, {key}, {sentence:?}: ours {ours}, KenLM {theirs}"
                );
                max_diff = max_diff.max(diff);
                checked += 1;
            }
            if let Some(per_word) = row.get("words") {
                let mut context = vec![lm.bos()];
                let ids = words
                    .iter()
                    .map(|w| lm.word_id(w))
                    .chain(std::iter::once(lm.eos()));
                for (i, (id, theirs)) in ids.zip(per_word.as_array().unwrap()).enumerate() {
                    let ours = lm.log10_prob(&context, id);
                    let diff = (ours - f(theirs)).abs();
                    assert!(
                        diff < 1e-5,
                        "{name}, {sentence:?}, word {i}: ours {ours}, KenLM {theirs}"
                    );
                    context.push(id);
                }
            }
        }
        println!(
            "{name}: {} sentences x 3 modes, max |ours - KenLM| = {max_diff:.2e}",
            rows.len()
        );
    }
    assert!(checked >= 4 * 300 * 3);
}

#[test]
fn missing_unk_gets_kenlm_default() {
    let lm = ArpaModel::from_file(fixtures().join("order2-nounk.arpa")).unwrap();
    assert!(lm.contains("<unk>"));
    assert_eq!(lm.log10_prob(&[], lm.unk()), -100.0);
}

#[test]
fn memory_against_file_size() {
    for name in [
        "order2-nounk.arpa",
        "order3.arpa",
        "order5.arpa",
        "order5-pruned.arpa",
    ] {
        let path = fixtures().join(name);
        let file = std::fs::metadata(&path).unwrap().len() as usize;
        let lm = ArpaModel::from_file(&path).unwrap();
        let mem = lm.memory();
        println!(
            "{name}: n-grams {:?}, file {file} B, loaded {} B ({:.0}% of the file, {:.1} B per \
             n-gram; tables {:?} B, vocabulary {} B)",
            mem.ngrams,
            mem.total(),
            100.0 * mem.total() as f64 / file as f64,
            mem.bytes_per_ngram(),
            mem.table_bytes,
            mem.vocabulary_bytes
        );
        assert!(mem.total() < 2 * file, "{name}");
    }
}

#[test]
fn scorer_vocabulary_comes_from_the_model() {
    let lm = Arc::new(ArpaModel::from_file(fixtures().join("order3.arpa")).unwrap());
    let vocabulary = lm.vocabulary_size();
    let scorer = Scorer::new(lm);
    let trie = scorer.vocabulary.as_ref().and_then(|v| v.trie()).unwrap();
    assert_eq!(trie.len(), vocabulary - 3);
    assert!(trie.contains("brought"));
    assert!(!trie.contains("<s>"));
}

/// Memory of any ARPA file: `LM_ARPA=path cargo test --release --test lm_reference -- --ignored
/// --nocapture`. With `LM_SCORES=file` (lines `KenLM score <TAB> sentence`, bos and eos on), the
/// sentences are checked too.
#[test]
#[ignore = "needs LM_ARPA=<file>"]
fn memory_of_the_arpa_file_in_lm_arpa() {
    let path = PathBuf::from(std::env::var("LM_ARPA").expect("set LM_ARPA"));
    let file = std::fs::metadata(&path).unwrap().len() as usize;
    let start = std::time::Instant::now();
    let lm = ArpaModel::from_file(&path).unwrap();
    let mem = lm.memory();
    println!(
        "{}: loaded in {:.2?}, n-grams {:?}, file {file} B, loaded {} B ({:.0}% of the file, \
         {:.1} B per n-gram; tables {:?} B, vocabulary {} B)",
        path.display(),
        start.elapsed(),
        mem.ngrams,
        mem.total(),
        100.0 * mem.total() as f64 / file as f64,
        mem.bytes_per_ngram(),
        mem.table_bytes,
        mem.vocabulary_bytes
    );
    if let Ok(scores) = std::env::var("LM_SCORES") {
        let text = std::fs::read_to_string(scores).unwrap();
        let mut max_diff = 0f32;
        let mut n = 0;
        for line in text.lines() {
            let (score, sentence) = line.split_once('\t').unwrap();
            let words: Vec<&str> = sentence.split_whitespace().collect();
            let ours = lm.sentence_log10(&words, true, true);
            let diff = (ours - score.parse::<f32>().unwrap()).abs();
            assert!(diff < 1e-3, "{sentence:?}: ours {ours}, KenLM {score}");
            max_diff = max_diff.max(diff);
            n += 1;
        }
        println!("{n} sentences, max |ours - KenLM| = {max_diff:.2e}");
    }
}
