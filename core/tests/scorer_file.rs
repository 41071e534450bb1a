//! The binary scorer file end to end: every lmplz fixture of `tests/fixtures/lm/` converted to a
//! scorer file must score the fixture sentences exactly as KenLM recorded them (the same checks
//! `lm_reference.rs` makes on `ArpaModel`), damaged files must be refused with the file named,
//! and a scorer written straight from an `EstimatedModel` must score as the model does.

use std::path::{Path, PathBuf};
use std::time::Instant;

use deepspeech_core::Error;
use deepspeech_core::lm::binary::{ScorerContents, ScorerFile};
use deepspeech_core::lm::kneser_ney::{Corpus, DEFAULT_FALLBACK, KnConfig, estimate};
use deepspeech_core::lm::{ArpaModel, DEFAULT_ALPHA, DEFAULT_BETA, LanguageModel, Scorer};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fresh directory for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ds-scorer-file-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn f(v: &Value) -> f32 {
    v.as_f64().unwrap() as f32
}

/// Converts an ARPA fixture into a scorer file in `dir`.
fn convert(dir: &Path, name: &str, alpha: f32, beta: f32) -> (ArpaModel, PathBuf) {
    let arpa = ArpaModel::from_file(fixtures().join("lm").join(name)).unwrap();
    let path = dir.join(format!("{name}.scorer"));
    ScorerContents::from_arpa(&arpa, alpha, beta)
        .write(&path)
        .unwrap();
    (arpa, path)
}

#[test]
fn scorer_files_score_as_kenlm() {
    let text = std::fs::read_to_string(fixtures().join("lm/scores.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let models = all["models"].as_object().unwrap();
    assert_eq!(models.len(), 4);
    let dir = scratch("kenlm");
    let mut checked = 0;
    for (name, model) in models {
        let (arpa, path) = convert(&dir, name, 0.5, 2.25);
        let lm = ScorerFile::open(&path).unwrap();
        assert_eq!(
            lm.order() as u64,
            model["order"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!((lm.alpha(), lm.beta()), (0.5, 2.25));
        assert_eq!(lm.words(), arpa.words(), "{name}");
        assert_eq!(
            (lm.bos(), lm.eos(), lm.unk()),
            (arpa.bos(), arpa.eos(), arpa.unk())
        );
        let rows = model["sentences"].as_array().unwrap();
        assert!(rows.len() >= 300);
        let (mut max_kenlm, mut max_arpa) = (0f32, 0f32);
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
                    "{name}, {key}, {sentence:?}: scorer {ours}, KenLM {theirs}"
                );
                max_kenlm = max_kenlm.max(diff);
                checked += 1;
            }
            // Every word, with the full sentence context: the same ids, the same log10 prob.
            let mut context = vec![lm.bos()];
            let ids = words
                .iter()
                .map(|w| {
                    assert_eq!(lm.word_id(w), arpa.word_id(w), "{name}: {w:?}");
                    assert_eq!(lm.contains(w), arpa.contains(w), "{name}: {w:?}");
                    lm.word_id(w)
                })
                .chain(std::iter::once(lm.eos()));
            for id in ids {
                let (ours, theirs) = (lm.log10_prob(&context, id), arpa.log10_prob(&context, id));
                let diff = (ours - theirs).abs();
                assert!(
                    diff < 1e-6,
                    "{name}, {sentence:?}, id {id}: scorer {ours}, ArpaModel {theirs}"
                );
                max_arpa = max_arpa.max(diff);
                context.push(id);
            }
            if let Some(per_word) = row.get("words") {
                let mut context = vec![lm.bos()];
                let ids = words
                    .iter()
                    .map(|w| lm.word_id(w))
                    .chain(std::iter::once(lm.eos()));
                for (id, theirs) in ids.zip(per_word.as_array().unwrap()) {
                    let ours = lm.log10_prob(&context, id);
                    assert!((ours - f(theirs)).abs() < 1e-5, "{name}, {sentence:?}");
                    context.push(id);
                }
            }
        }
        println!(
            "{name}: {} sentences x 3 modes, max |scorer - KenLM| = {max_kenlm:.2e}, max |scorer \
             - ArpaModel| per word = {max_arpa:.2e}; ARPA {} B, scorer {} B",
            rows.len(),
            std::fs::metadata(fixtures().join("lm").join(name))
                .unwrap()
                .len(),
            lm.size_bytes()
        );
    }
    assert!(checked >= 4 * 300 * 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_unk_is_kept_in_the_scorer() {
    let dir = scratch("nounk");
    let (_, path) = convert(&dir, "order2-nounk.arpa", DEFAULT_ALPHA, DEFAULT_BETA);
    let lm = ScorerFile::open(&path).unwrap();
    assert!(lm.contains("<unk>"));
    assert_eq!(lm.log10_prob(&[], lm.unk()), -100.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn scorer_from_file_reads_both_formats() {
    let dir = scratch("from-file");
    let (arpa, path) = convert(&dir, "order3.arpa", 0.75, 1.5);
    let binary = Scorer::from_file(&path).unwrap();
    assert_eq!((binary.alpha, binary.beta), (0.75, 1.5));
    let trie = binary.vocabulary.as_ref().and_then(|v| v.trie()).unwrap();
    assert_eq!(trie.len(), arpa.words().len());
    assert!(arpa.words().iter().all(|w| trie.contains(w)));
    assert!(!trie.contains("<s>") && !trie.contains("<unk>"));

    let text = Scorer::from_file(fixtures().join("lm/order3.arpa")).unwrap();
    assert_eq!((text.alpha, text.beta), (DEFAULT_ALPHA, DEFAULT_BETA));
    assert_eq!(text.vocabulary.as_ref().and_then(|v| v.trie()), Some(trie));
    let words = ["and", "the", "lord", "said", "unto", "zzyzx"];
    let ids = |s: &Scorer| words.map(|w| s.lm.word_id(w));
    for i in 0..words.len() {
        let (a, b) = (ids(&binary), ids(&text));
        let ours = binary.ln_cond_prob(&a[..i], a[i]);
        let theirs = text.ln_cond_prob(&b[..i], b[i]);
        assert!(
            (ours - theirs).abs() < 1e-6,
            "{}: {ours} {theirs}",
            words[i]
        );
    }

    // Comments before \data\ are ARPA too (KenLM allows them).
    let commented = dir.join("commented.arpa");
    let body = std::fs::read_to_string(fixtures().join("lm/order2-nounk.arpa")).unwrap();
    std::fs::write(&commented, format!("# made by lmplz\n\n{body}")).unwrap();
    assert_eq!(Scorer::from_file(&commented).unwrap().lm.order(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `Scorer::from_file`'s message for `path`, checking it names the file.
fn refused(path: &Path) -> String {
    let e = Scorer::from_file(path).unwrap_err();
    let message = e.to_string();
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(message.contains(name), "{message}");
    message
}

#[test]
fn damaged_and_foreign_files_are_refused_naming_the_file() {
    let dir = scratch("damaged");
    let (_, path) = convert(&dir, "order5.arpa", DEFAULT_ALPHA, DEFAULT_BETA);
    let bytes = std::fs::read(&path).unwrap();

    let truncated = dir.join("truncated.scorer");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = refused(&truncated);
    assert!(
        e.contains("not a valid scorer file") && e.contains("truncated"),
        "{e}"
    );
    assert!(matches!(
        ScorerFile::open(&truncated),
        Err(deepspeech_core::lm::binary::ScorerFileError::Invalid { .. })
    ));

    // One bit flipped in an n-gram's probability, in the middle of the payload.
    let flipped = dir.join("flipped.scorer");
    let mut copy = bytes.clone();
    copy[bytes.len() / 3] ^= 0x10;
    std::fs::write(&flipped, &copy).unwrap();
    let e = refused(&flipped);
    assert!(e.contains("checksum mismatch"), "{e}");

    let missing = dir.join("missing.scorer");
    let e = Scorer::from_file(&missing).unwrap_err();
    assert!(matches!(e, Error::ScorerFile(_)), "{e:?}");
    assert!(e.to_string().contains("missing.scorer"), "{e}");

    let empty = dir.join("empty.scorer");
    std::fs::write(&empty, b"").unwrap();
    assert!(refused(&empty).contains("empty"));

    let kenlm = dir.join("kenlm.binary");
    std::fs::write(
        &kenlm,
        b"mmap lm http://kheafield.com/code format version 5\n\0\0",
    )
    .unwrap();
    assert!(refused(&kenlm).contains("KenLM binary"));

    let other = dir.join("notes.txt");
    std::fs::write(&other, "hello world\n").unwrap();
    assert!(refused(&other).contains("neither a scorer"));

    // A broken ARPA file goes to the ARPA parser, whose errors give the line.
    let broken = dir.join("broken.arpa");
    std::fs::write(&broken, "\\data\\\nngram 1=x\n").unwrap();
    assert!(refused(&broken).contains("line 2"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn scorer_from_estimated_model_scores_as_the_model() {
    let read = |name: &str| std::fs::read_to_string(fixtures().join("kn").join(name)).unwrap();
    let mut corpus = Corpus::new();
    for line in read("train.txt").lines() {
        corpus.add_sentence(line);
    }
    let model = estimate(
        &corpus,
        &KnConfig {
            order: 3,
            prune: vec![],
            discount_fallback: Some(DEFAULT_FALLBACK),
        },
    )
    .unwrap();
    let dir = scratch("estimated");
    let path = dir.join("kjv3.scorer");
    ScorerContents::from_estimated(&model, DEFAULT_ALPHA, DEFAULT_BETA)
        .write(&path)
        .unwrap();
    let lm = ScorerFile::open(&path).unwrap();
    assert_eq!(lm.order(), 3);
    assert_eq!(
        (lm.bos(), lm.eos(), lm.unk()),
        (model.bos(), model.eos(), model.unk())
    );
    assert_eq!(lm.words(), LanguageModel::words(&model));
    let heldout = read("heldout.txt");
    let (mut scored, mut max_diff) = (0, 0f32);
    for sentence in heldout.lines() {
        let words: Vec<&str> = sentence.split_whitespace().collect();
        let mut context = vec![model.bos()];
        for id in words
            .iter()
            .map(|w| model.id(w))
            .chain(std::iter::once(model.eos()))
        {
            let (ours, theirs) = (lm.log10_prob(&context, id), model.log10_prob(&context, id));
            assert!(
                (ours - theirs).abs() < 1e-6,
                "{sentence:?}: scorer {ours}, model {theirs}"
            );
            max_diff = max_diff.max((ours - theirs).abs());
            context.push(id);
            scored += 1;
        }
        let (a, b) = (
            lm.sentence_log10(&words, true, true),
            model.sentence_log10(&words, true, true),
        );
        assert!((a - b).abs() < 1e-4, "{sentence:?}: {a} {b}");
    }
    assert!(scored > 1000);
    println!(
        "{} held-out words: max |scorer - EstimatedModel| = {max_diff:.2e}",
        scored
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Sizes and load time: `cargo test --release --test scorer_file -- --ignored --nocapture`;
/// `DS_SCORER_ARPA=/path/model.arpa` measures that file instead of the largest fixture.
#[test]
#[ignore = "measurement, prints figures"]
fn size_memory_and_load_time() {
    let arpa_path = std::env::var_os("DS_SCORER_ARPA")
        .map(PathBuf::from)
        .unwrap_or_else(|| fixtures().join("lm/order3.arpa"));
    let arpa_bytes = std::fs::metadata(&arpa_path).unwrap().len();
    let t = Instant::now();
    let arpa = ArpaModel::from_file(&arpa_path).unwrap();
    let arpa_load = t.elapsed();
    let memory = arpa.memory();
    let dir = scratch("measure");
    let path = dir.join("model.scorer");
    let t = Instant::now();
    ScorerContents::from_arpa(&arpa, DEFAULT_ALPHA, DEFAULT_BETA)
        .write(&path)
        .unwrap();
    let convert = t.elapsed();
    let scorer_bytes = std::fs::metadata(&path).unwrap().len();
    // Best of 5 opens (the file is in the page cache after the first).
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        let lm = ScorerFile::open(&path).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(lm.order(), arpa.order());
    }
    println!("{}: n-grams {:?}", arpa_path.display(), memory.ngrams);
    println!(
        "ARPA file {arpa_bytes} B; ArpaModel in memory {} B ({:.1} B/n-gram), load {:.3} s",
        memory.total(),
        memory.bytes_per_ngram(),
        arpa_load.as_secs_f64()
    );
    println!(
        "scorer file {scorer_bytes} B ({:.0}% of the ARPA, {:.1} B/n-gram), conversion {:.3} s, \
         open (mmap + CRC + trie) {:.2} ms",
        100.0 * scorer_bytes as f64 / arpa_bytes as f64,
        scorer_bytes as f64 / memory.ngrams.iter().sum::<usize>() as f64,
        convert.as_secs_f64(),
        best * 1e3
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
