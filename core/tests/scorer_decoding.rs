//! The beam search with DeepSpeech `.scorer` packages against DeepSpeech 0.9's own decoder.
//!
//! Fixtures: `core/tests/fixtures/scorer/decoding/`, made by
//! `tools/reference/scorer_decoder_ds.py` with `ds-ctcdecoder` 0.9.3 (`ctc_beam_search_decoder`
//! with its `Scorer`) on the packages of `core/tests/fixtures/scorer/` (made by KenLM's
//! `build_binary` and DeepSpeech's `generate_scorer_package`): for each matrix and configuration
//! (package, alpha, beta, beam 1–1024, cutoff, hot-words) the top-5 texts, scores and
//! per-character timesteps. Texts and timesteps must match exactly, scores to 1e-4 relative.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use deepspeech_core::Alphabet;
use deepspeech_core::decoder::{BeamConfig, HotWords, beam_search};
use deepspeech_core::lm::Scorer;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scorer")
}

/// Reads a float32 `[T, C]` `.npy` fixture as (C, values).
fn read_npy(path: &Path) -> (usize, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let classes = npy.shape()[1] as usize;
    (classes, npy.into_vec::<f32>().unwrap())
}

fn hot_words(case: &Value) -> Option<HotWords> {
    let map = case.get("hot_words")?.as_object()?;
    let mut h = HotWords::new();
    for (word, boost) in map {
        h.add(word, boost.as_f64().unwrap() as f32).unwrap();
    }
    Some(h)
}

#[test]
fn matches_ds_ctcdecoder_with_scorer_packages() {
    let dir = fixtures().join("decoding");
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest["ds_ctcdecoder"], "0.9.3");
    let alphabet = Alphabet::english();
    let cases = manifest["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    let mut scorers: HashMap<String, Scorer> = HashMap::new();
    let mut worst = 0.0f64;
    let mut dead_ranks = 0;
    let mut total = 0;
    for case in cases {
        let matrix = case["matrix"].as_str().unwrap();
        let package = case["package"].as_str().unwrap();
        let (classes, log_probs) = read_npy(&dir.join(matrix));
        let mut scorer = scorers
            .entry(package.to_string())
            .or_insert_with(|| Scorer::from_file(fixtures().join(package)).unwrap())
            .clone();
        scorer.alpha = case["alpha"].as_f64().unwrap() as f32;
        scorer.beta = case["beta"].as_f64().unwrap() as f32;
        let config = BeamConfig {
            beam_width: case["beam"].as_u64().unwrap() as usize,
            cutoff_prob: case["cutoff_prob"].as_f64().unwrap(),
            cutoff_top_n: case["cutoff_top_n"].as_u64().unwrap() as usize,
            candidates: 5,
            ..BeamConfig::default()
        };
        let hot = hot_words(case);
        let got = beam_search(
            &log_probs,
            classes,
            &alphabet,
            &config,
            Some(&scorer),
            hot.as_ref(),
        )
        .unwrap_or_else(|e| panic!("{matrix}: {e}"));
        let expected = case["expected"].as_array().unwrap();
        let label = format!(
            "{matrix} {package} alpha {} beta {} beam {} cutoff {}/{} hot {}",
            scorer.alpha,
            scorer.beta,
            config.beam_width,
            config.cutoff_prob,
            config.cutoff_top_n,
            hot.is_some()
        );
        assert_eq!(got.len(), expected.len(), "{label}: number of candidates");
        total += expected.len();
        // A dead prefix (a vocabulary that no class in the cut-off set can extend) is scored
        // −FLT_MAX; which dead prefixes DeepSpeech lists depends on libstdc++'s nth_element
        // among exact ties: at those ranks ours must be dead too.
        let dead = |score: f64| score <= f64::from(f32::MIN) * 0.5;
        for (rank, (g, e)) in got.iter().zip(expected).enumerate() {
            if dead(e["score"].as_f64().unwrap()) {
                assert!(dead(g.score), "{label} #{rank}: ours is alive");
                dead_ranks += 1;
                continue;
            }
            assert_eq!(g.text, e["text"].as_str().unwrap(), "{label}: text #{rank}");
            let score = e["score"].as_f64().unwrap();
            let diff = (g.score - score).abs() / score.abs().max(1.0);
            worst = worst.max(diff);
            assert!(diff < 1e-4, "{label} #{rank}: score {} vs {score}", g.score);
            let frames: Vec<u64> = g.tokens.iter().map(|t| t.frame as u64).collect();
            let want: Vec<u64> = e["timesteps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            assert_eq!(frames, want, "{label}: timesteps #{rank}");
        }
    }
    eprintln!(
        "{} cases: top-5 texts and timesteps identical ({dead_ranks} dead candidates), largest relative score difference \
         {worst:.2e}",
        cases.len()
    );
    assert!(
        dead_ranks * 10 < total,
        "{dead_ranks} of {total} candidates dead"
    );
}

#[test]
fn bytes_output_packages_are_refused_with_the_reason() {
    let scorer = Scorer::from_file(fixtures().join("utf8-order4-trie-q8-a255.scorer")).unwrap();
    let alphabet = Alphabet::english();
    let log_probs = vec![-(29f32.ln()); 29 * 4];
    let err = beam_search(
        &log_probs,
        29,
        &alphabet,
        &BeamConfig::default(),
        Some(&scorer),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("bytes-output (UTF-8 mode)"), "{err}");
}
