//! CTC loss + gradient throughput on DeepSpeech-sized batches.
//!
//! `cargo bench -p deepspeech-core --bench ctc` times `ctc_loss` forward and backward on a batch
//! of 16 items × 300 frames × 29 classes with ~60-label targets (DeepSpeech English), on all
//! cores (rayon), and prints the best wall-clock time of 20 runs.

use std::time::Instant;

use candle::{Device, Tensor, Var};
use deepspeech_core::ctc::{CtcOptions, Impossible, ctc_loss};

fn main() {
    let (frames, batch, classes) = (300, 16, 29);
    let x = Var::from_tensor(
        &Tensor::randn(0f32, 3.0, (frames, batch, classes), &Device::Cpu).unwrap(),
    )
    .unwrap();
    // ~60 labels with some repeats, deterministic.
    let targets: Vec<Vec<u32>> = (0..batch)
        .map(|b| {
            (0..55 + b % 10)
                .map(|i| ((i * 7 + b * 3) / 2 % 28) as u32)
                .collect()
        })
        .collect();
    let lengths: Vec<usize> = (0..batch).map(|b| frames - 5 * (b % 4)).collect();
    let options = CtcOptions {
        blank: classes - 1,
        impossible: Impossible::Error,
    };
    let run = || {
        let loss = ctc_loss(x.as_tensor(), &targets, &lengths, &options).unwrap();
        let grads = loss.sum_all().unwrap().backward().unwrap();
        grads.get(x.as_tensor()).unwrap().dims().to_vec()
    };
    run();
    let best = (0..20)
        .map(|_| {
            let t0 = Instant::now();
            std::hint::black_box(run());
            t0.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    let forward_only = (0..20)
        .map(|_| {
            let t0 = Instant::now();
            std::hint::black_box(ctc_loss(x.as_tensor(), &targets, &lengths, &options).unwrap());
            t0.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    println!(
        "ctc_loss {batch}x{frames}x{classes}, targets {}..{} labels, {} threads: \
         loss+gradient op {:.2} ms, with backward {:.2} ms",
        targets.iter().map(Vec::len).min().unwrap(),
        targets.iter().map(Vec::len).max().unwrap(),
        rayon::current_num_threads(),
        forward_only * 1e3,
        best * 1e3
    );
}
