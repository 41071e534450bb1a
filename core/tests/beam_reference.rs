//! The beam search against DeepSpeech 0.9's own decoder.
//!
//! Fixtures: `core/tests/fixtures/beam/` made by `tools/reference/ctc_decoder_ds.py` with
//! `ds-ctcdecoder` 0.9.3 (numpy 1.26, Python 3.9), no language model: for each matrix and
//! configuration, the top-5 texts, scores (`Output.confidence`) and per-character timesteps.
//! Texts and timesteps must match exactly, scores to 1e-4.

use std::path::{Path, PathBuf};

use deepspeech_core::Alphabet;
use deepspeech_core::decoder::{BeamConfig, HotWords, beam_search};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/beam")
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
fn matches_ds_ctcdecoder_without_lm() {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest["ds_ctcdecoder"], "0.9.3");
    let alphabet = Alphabet::english();
    let cases = manifest["cases"].as_array().unwrap();
    assert!(cases.len() >= 30);
    let mut worst = 0.0f64;
    for case in cases {
        let matrix = case["matrix"].as_str().unwrap();
        let (classes, log_probs) = read_npy(&fixtures().join(matrix));
        let config = BeamConfig {
            beam_width: case["beam"].as_u64().unwrap() as usize,
            cutoff_prob: case["cutoff_prob"].as_f64().unwrap(),
            cutoff_top_n: case["cutoff_top_n"].as_u64().unwrap() as usize,
            candidates: 5,
            ..BeamConfig::default()
        };
        let hot = hot_words(case);
        let got = beam_search(&log_probs, classes, &alphabet, &config, None, hot.as_ref())
            .unwrap_or_else(|e| panic!("{matrix}: {e}"));
        let expected = case["expected"].as_array().unwrap();
        let label = format!(
            "{matrix} beam {} cutoff {}/{}",
            config.beam_width, config.cutoff_prob, config.cutoff_top_n
        );
        assert_eq!(got.len(), expected.len(), "{label}: number of candidates");
        for (rank, (g, e)) in got.iter().zip(expected).enumerate() {
            assert_eq!(g.text, e["text"].as_str().unwrap(), "{label}: text #{rank}");
            let score = e["score"].as_f64().unwrap();
            let diff = (g.score - score).abs();
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
        "{} cases: top-5 texts and timesteps identical, largest score difference {worst:.2e}",
        cases.len()
    );
}
