//! Beam-search speed without a language model, comparable with `tools/bench/beam_ds.py`.
//!
//! `cargo bench -p deepspeech-core --bench beam` decodes a 10 s (500 frames, 50 frames/s)
//! acoustic-model-like matrix (the `peaky_*` and `lead_*` fixtures of
//! `core/tests/fixtures/beam/`, concatenated and repeated) at beam 100 and 1024 and prints the
//! best of several runs as milliseconds per second of audio.
//!
//! Then, with the embedded default model and scorer on a real 9.7 s recording (LJSpeech
//! LJ001-0001 from `../shared/data`), the cost of a partial result every 16 frames (320 ms, the
//! streaming engine's chunk) at the element's beam width 256: a fresh search over everything
//! heard so far at each partial (what the stream did before `BeamDecoder`), against one
//! `BeamDecoder` fed each chunk and asked for its best transcript.

use std::path::Path;
use std::time::Instant;

use deepspeech_core::Alphabet;
use deepspeech_core::decoder::{BeamConfig, BeamDecoder, BeamLm, beam_search};
use deepspeech_core::{audio, embedded};

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
    partials();
}

/// Partial results every 16 frames on real speech: fresh searches against one fed decoder.
fn partials() {
    let wav = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/ljspeech/wavs/LJ001-0001.wav");
    let (Ok(model), Ok((clip, info))) = (embedded::model_with_scorer(), audio::read_wav(&wav))
    else {
        println!(
            "partials: skipped (needs the embedded model and {})",
            wav.display()
        );
        return;
    };
    let model = std::sync::Arc::new(model);
    let mut stream = model.create_stream();
    stream
        .feed_audio(&clip.samples, info.sample_rate, 1)
        .unwrap();
    let (_, lp) = stream.finish_with_log_probs().unwrap();
    let classes = model.config().n_classes();
    let alphabet = model.config().alphabet();
    let config = BeamConfig {
        beam_width: 256,
        ..model.beam_config().clone()
    };
    let lm = BeamLm {
        scorer: model.scorer(),
        hot_words: None,
    };
    let frames = lp.len() / classes;
    let seconds = clip.duration_secs();
    let step = 16 * classes;
    let borders: Vec<usize> = (step..lp.len()).step_by(step).chain([lp.len()]).collect();
    let time = |f: &dyn Fn() -> String| {
        let mut best = f64::INFINITY;
        let mut text = String::new();
        for _ in 0..3 {
            let t0 = Instant::now();
            text = f();
            best = best.min(t0.elapsed().as_secs_f64());
        }
        (best, text)
    };
    let (once, once_text) = time(&|| {
        beam_search(&lp, classes, &alphabet, &config, lm.scorer, None).unwrap()[0]
            .text
            .clone()
    });
    let (fresh, fresh_text) = time(&|| {
        let mut text = String::new();
        for &end in &borders {
            text = beam_search(&lp[..end], classes, &alphabet, &config, lm.scorer, None).unwrap()
                [0]
            .text
            .clone();
        }
        text
    });
    let (fed, fed_text) = time(&|| {
        let mut decoder = BeamDecoder::new(classes, &alphabet, config.clone()).unwrap();
        let mut text = String::new();
        let mut start = 0;
        for &end in &borders {
            decoder.next(&lp[start..end], lm).unwrap();
            start = end;
            text = decoder.decode(&lp[..end], lm, 1).unwrap()[0].text.clone();
        }
        text
    });
    assert_eq!(fresh_text, once_text);
    assert_eq!(fed_text, once_text);
    println!(
        "partials every 16 frames, beam 256 + embedded scorer, {seconds:.2} s of speech ({frames} frames, {} partials):",
        borders.len()
    );
    for (what, t) in [
        ("one search at the end only", once),
        ("fresh search at every partial", fresh),
        ("BeamDecoder fed every chunk", fed),
    ] {
        println!(
            "  {what:31}: {:8.2} ms per audio second ({:.0} ms)",
            t * 1e3 / seconds,
            t * 1e3
        );
    }
    println!("  top: {:?}", &once_text[..once_text.len().min(60)]);
}
