//! Beam-search speed without a language model, comparable with `tools/bench/beam_ds.py`.
//!
//! `cargo bench -p deepspeech-core --bench beam` decodes a 10 s (500 frames, 50 frames/s)
//! acoustic-model-like matrix (the `peaky_*` and `lead_*` fixtures of
//! `core/tests/fixtures/beam/`, concatenated and repeated) at beam 100 and 1024 and prints the
//! best of several runs as milliseconds per second of audio.

use std::path::Path;
use std::time::Instant;

use deepspeech_core::Alphabet;
use deepspeech_core::decoder::{BeamConfig, beam_search};

const FRAMES: usize = 500;
const PARTS: [&str; 4] = ["peaky_t150", "peaky_t100", "peaky_t40", "lead_t30"];

fn matrix() -> Vec<f32> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/beam");
    let parts: Vec<Vec<f32>> = PARTS
        .iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join(format!("{name}.npy"))).unwrap();
            npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap()
        })
        .collect();
    let mut out = Vec::with_capacity(FRAMES * 29);
    while out.len() < FRAMES * 29 {
        for p in &parts {
            out.extend_from_slice(p);
        }
    }
    out.truncate(FRAMES * 29);
    out
}

fn main() {
    let lp = matrix();
    let alphabet = Alphabet::english();
    let seconds = FRAMES as f64 / 50.0;
    for beam in [100, 1024] {
        let config = BeamConfig {
            beam_width: beam,
            ..BeamConfig::default()
        };
        let runs = if beam > 100 { 5 } else { 20 };
        let mut best = f64::INFINITY;
        let mut text = String::new();
        for _ in 0..runs {
            let t0 = Instant::now();
            let out = beam_search(&lp, 29, &alphabet, &config, None, None).unwrap();
            best = best.min(t0.elapsed().as_secs_f64());
            text = out[0].text.clone();
        }
        println!(
            "deepspeech-rs  beam {beam:5}: {:7.2} ms per audio second ({:.1} ms for {seconds} s), top: {:?}",
            best * 1e3 / seconds,
            best * 1e3,
            &text[..text.len().min(40)]
        );
    }
}
