//! Decoding with a DeepSpeech `.scorer` package, comparable with `tools/bench/scorer_ds.py`
//! (ds_ctcdecoder 0.9.3 on the same files); `tools/bench/scorer-packages.sh` runs both.
//!
//! `cargo bench -p deepspeech-core --bench scorer_package -- SCORER LOG_PROBS_DIR BEAM OUT.json`
//!
//! Opens the package (wall-clock milliseconds), decodes every `.npy` log-probability matrix in
//! the folder (float32 `[frames, 29]`, as `deepspeech --log_probs` writes them) one by one with
//! the package's alpha and beta and DeepSpeech's defaults (cutoff_prob 1, cutoff_top_n 40), and
//! writes the CPU seconds of decoding per second of audio (50 frames), the process's RSS after
//! decoding (`VmRSS`) and the best transcript of every file to OUT.json.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use deepspeech_core::Alphabet;
use deepspeech_core::decoder::{BeamConfig, beam_search};
use deepspeech_core::lm::Scorer;

/// CPU seconds this process has used (user + system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// A `/proc/self/status` field in MB.
fn status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    let kb: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [scorer, dir, beam, out] = &args[..] else {
        eprintln!("usage: scorer_package SCORER LOG_PROBS_DIR BEAM OUT.json");
        std::process::exit(2);
    };
    let beam: usize = beam.parse().unwrap();
    let t0 = Instant::now();
    let scorer = Scorer::from_file(scorer).unwrap();
    let open_ms = t0.elapsed().as_secs_f64() * 1e3;
    let rss_open = status_mb("VmRSS:");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "npy"))
        .collect();
    files.sort();
    let matrices: Vec<(String, Vec<f32>)> = files
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap();
            let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
            (name(p), npy.into_vec().unwrap())
        })
        .collect();
    let frames: usize = matrices.iter().map(|(_, m)| m.len() / 29).sum();
    let alphabet = Alphabet::english();
    let config = BeamConfig {
        beam_width: beam,
        candidates: 1,
        ..BeamConfig::default()
    };
    let mut transcripts = BTreeMap::new();
    let c0 = cpu_seconds();
    for (name, m) in &matrices {
        let best = beam_search(m, 29, &alphabet, &config, Some(&scorer), None).unwrap();
        transcripts.insert(name.clone(), best[0].text.clone());
    }
    let cpu = cpu_seconds() - c0;
    let audio_s = frames as f64 / 50.0;
    let report = serde_json::json!({
        "decoder": "deepspeech-rs",
        "beam": beam,
        "open_ms": open_ms,
        "rss_after_open_mb": rss_open,
        "rss_mb": status_mb("VmRSS:"),
        "audio_s": audio_s,
        "cpu_s_per_audio_s": cpu / audio_s,
        "transcripts": transcripts,
    });
    std::fs::write(out, report.to_string()).unwrap();
    if std::env::var_os("SMAPS").is_some() {
        let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap();
        eprintln!("{rollup}");
    }
    println!(
        "ours  beam {beam}: open {open_ms:.1} ms, {:.4} CPU s per audio s over {audio_s:.0} s, \
         RSS {:.0} MB",
        cpu / audio_s,
        status_mb("VmRSS:")
    );
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}
