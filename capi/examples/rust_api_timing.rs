//! The Rust side of `tools/bench/api-overhead.sh`: transcribes 16 kHz mono WAV files through the
//! Rust API (`Model`, `Stream::feed_audio_i16`, `finish`), `ROUNDS` times over, and prints the
//! process CPU seconds the transcription loop took (the load excluded) and the transcripts, for
//! comparison with the same loop through the C API and the Python module.
//!
//! Usage: rust_api_timing MODEL SCORER ROUNDS WAV...

use std::sync::Arc;

use deepspeech_core::engine::Model;
use deepspeech_core::lm::Scorer;

fn cpu_seconds() -> f64 {
    // SAFETY: clock_gettime with a valid clock id and out-pointer.
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, scorer, rounds, wavs @ ..] = &args[..] else {
        return Err("usage: rust_api_timing MODEL SCORER ROUNDS WAV...".into());
    };
    let mut model = Model::load(model)?;
    model.set_scorer(Some(Scorer::from_file(scorer)?));
    let model = Arc::new(model);
    let audio: Vec<Vec<i16>> = wavs
        .iter()
        .map(|w| {
            hound::WavReader::open(w).map(|r| r.into_samples::<i16>().map(Result::unwrap).collect())
        })
        .collect::<Result<_, _>>()?;
    let mut texts = Vec::new();
    let start = cpu_seconds();
    for _ in 0..rounds.parse::<usize>()? {
        texts.clear();
        for samples in &audio {
            let mut stream = model.create_stream();
            stream.feed_audio_i16(samples, 16_000, 1)?;
            texts.push(stream.finish()?.decoded_text());
        }
    }
    println!("cpu_seconds {:.3}", cpu_seconds() - start);
    for t in texts {
        println!("{t}");
    }
    Ok(())
}
