//! MFCC throughput on one thread: seconds of audio per CPU second.
//!
//! `cargo bench -p deepspeech-core --bench mfcc -- A.wav [B.wav ...]` prints one tab-separated
//! line per file in the format of `tools/bench/mfcc_python.py`
//! (`tool  file  audio_seconds  cpu_seconds  audio_s_per_cpu_s`), so `tools/bench/mfcc.sh`
//! can put both in one table. Timing starts from 16 kHz samples in memory (file reading and
//! resampling excluded, as in the Python script); the best of 5 repeats is reported, each
//! repeat running enough iterations to last at least 0.3 CPU seconds.

use std::path::PathBuf;

use deepspeech_core::audio::load_wav_16k;
use deepspeech_core::features::{FeatureConfig, MfccExtractor};

/// CPU time of this process (user + system), in seconds.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the pointer we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn best_cpu_seconds(mut f: impl FnMut()) -> f64 {
    f();
    let t0 = cpu_seconds();
    f();
    let once = (cpu_seconds() - t0).max(1e-6);
    let iterations = (0.3 / once).ceil().max(1.0) as usize;
    (0..5)
        .map(|_| {
            let t0 = cpu_seconds();
            for _ in 0..iterations {
                f();
            }
            (cpu_seconds() - t0) / iterations as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let files: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if files.is_empty() {
        eprintln!("usage: cargo bench -p deepspeech-core --bench mfcc -- A.wav [B.wav ...]");
        return;
    }
    let mut extractor = MfccExtractor::new(FeatureConfig::default());
    for file in files {
        let (samples, _) = match load_wav_16k(&file) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let audio_seconds = samples.len() as f64 / 16_000.0;
        let cpu = best_cpu_seconds(|| {
            std::hint::black_box(extractor.compute(std::hint::black_box(&samples)));
        });
        println!(
            "deepspeech-rs\t{}\t{audio_seconds:.3}\t{cpu:.6}\t{:.1}",
            file.display(),
            audio_seconds / cpu
        );
    }
}
