//! Inference speed: real-time factor (CPU seconds per audio second) and peak memory of the
//! streaming API, model load time, and the FLOP floor, for DeepSpeech geometries.
//!
//! `cargo bench -p deepspeech-core --bench inference -- N_HIDDEN AUDIO.wav [SECONDS]` builds a model
//! of width N_HIDDEN with seeded random weights (speed does not depend on the values), exports
//! and reloads it (timed), streams the first SECONDS of the WAV (default: all) in 320 ms chunks,
//! greedy and with beam 100, and prints one Markdown table row. Run it once per width: peak RSS
//! (VmHWM) is per process.

use std::sync::Arc;
use std::time::Instant;

use candle::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use deepspeech_core::Alphabet;
use deepspeech_core::audio::read_wav;
use deepspeech_core::engine::Model;
use deepspeech_core::model::{Config, DeepSpeech, export};

fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the pointer we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Multiply-accumulates per model frame (dense layers, LSTM input and recurrent products).
fn macs_per_frame(c: &Config) -> f64 {
    let h = c.n_hidden as f64;
    let i = c.n_input() as f64;
    i * h + 2.0 * h * h + 4.0 * h * h * 2.0 + h * h + h * c.n_classes() as f64
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(width), Some(wav)) = (args.first(), args.get(1)) else {
        eprintln!("usage: cargo bench --bench inference -- N_HIDDEN AUDIO.wav [SECONDS]");
        return;
    };
    let width: usize = width.parse().expect("N_HIDDEN");
    let config = Config::new(width, &Alphabet::english());
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    DeepSpeech::new(config.clone(), vb).expect("model");
    let weights = varmap
        .data()
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect();
    let path = std::env::temp_dir().join(format!("ds-bench-{width}.safetensors"));
    export(&path, &config, &weights, DType::F32).expect("export");
    drop(varmap);

    let started = Instant::now();
    let model = Model::load(&path).expect("load");
    let load_ms = started.elapsed().as_secs_f64() * 1e3;

    let (audio, info) = read_wav(wav).expect("wav");
    let limit = args
        .get(2)
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(audio.samples.len(), |s| {
            ((s * f64::from(info.sample_rate)) as usize).min(audio.samples.len())
        });
    let samples = &audio.samples[..limit];
    let secs = samples.len() as f64 / f64::from(info.sample_rate);
    let chunk = info.sample_rate as usize * 320 / 1000;

    let mut rows = Vec::new();
    let mut model = model;
    for beam in [1usize, 100] {
        model.set_beam_width(beam);
        let shared = Arc::new(std::mem::replace(&mut model, Model::load(&path).unwrap()));
        let t0 = cpu_seconds();
        let w0 = Instant::now();
        let mut stream = shared.create_stream();
        for piece in samples.chunks(chunk) {
            stream.feed_audio(piece, info.sample_rate, 1).unwrap();
        }
        let text = stream.finish().unwrap().text;
        let cpu = cpu_seconds() - t0;
        rows.push((
            beam,
            cpu / secs,
            w0.elapsed().as_secs_f64() / secs,
            text.len(),
        ));
    }
    let frames_per_sec = 50.0;
    let gflop_per_audio_sec = 2.0 * macs_per_frame(&config) * frames_per_sec / 1e9;
    for (beam, rtf_cpu, rtf_wall, chars) in rows {
        println!(
            "| {width} | {} | {:.1} | {:.1} | {:.2} | {:.4} | {:.4} | {:.0} | {chars} |",
            config.parameter_count(),
            secs,
            load_ms,
            gflop_per_audio_sec,
            rtf_cpu,
            rtf_wall,
            peak_rss_mb(),
        );
        let _ = beam;
    }
}
