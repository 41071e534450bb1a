//! Training throughput of the full DeepSpeech model (issue 3): one optimiser step on a
//! DeepSpeech-sized batch, against the FLOP floor of this machine.
//!
//! `cargo bench -p deepspeech-core --bench train [-- STEPS N_HIDDEN BATCH FRAMES]`
//! (default 7 512 16 300: warm-up 2 steps, then the median of `STEPS` steps).
//!
//! The model, the optimiser and the step are the trainer's (`train::trainer`): [`DeepSpeech`]
//! built through a [`VarMap`] with the English alphabet (28 symbols + blank) and 494 inputs,
//! dropout 0.05 through [`Dropout`], [`ctc_loss`] with [`Impossible::ZeroLoss`], `mean_all`,
//! [`Adam::backward_step`]. Batches are random but realistic: features ~N(0, 1), `FRAMES` frames
//! of 20 ms per sample, targets of ~12.5 labels per second of audio.
//!
//! The FLOP floor is `3 × forward matmul FLOPs / measured matmul rate`, where the forward FLOPs
//! count `2·m·n·k` for every dense layer and for the LSTM's input and recurrent matmuls, and the
//! rate is candle's on the dominant shape (`T·B × H` by `H × 4H`, the LSTM input projection).
//!
//! Besides the Markdown tables, prints one tab-separated line for `tools/bench/train.sh`:
//! `deepspeech-rs  ms/batch  audio-s/s  forward-GFLOP  matmul-GFLOP/s  parameters`.

use std::time::Instant;

use candle::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use deepspeech_core::Alphabet;
use deepspeech_core::ctc::{CtcOptions, Impossible, ctc_loss};
use deepspeech_core::model::{Config, DeepSpeech, Dropout};
use deepspeech_core::train::checkpoint::named_vars;
use deepspeech_core::train::optim::{Adam, AdamConfig};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// Seconds of audio per frame (DeepSpeech's 20 ms step).
const FRAME_SECONDS: f64 = 0.02;
/// Target labels per second of audio (read English speech).
const LABELS_PER_SECOND: f64 = 12.5;

/// Median of `xs` (sorted in place).
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// A uniform `f32` in `[0, 1)`.
fn uniform(rng: &mut ChaCha8Rng) -> f32 {
    (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32
}

/// A random batch: features `[T, B, n_input]` ~N(0, 1) (Box–Muller), targets of about
/// `LABELS_PER_SECOND` labels per second drawn from the alphabet (never the blank), every sample
/// `frames` long.
fn batch(
    rng: &mut ChaCha8Rng,
    frames: usize,
    batch: usize,
    config: &Config,
) -> candle::Result<(Tensor, Vec<Vec<u32>>, Vec<usize>)> {
    let n = frames * batch * config.n_input();
    let x: Vec<f32> = (0..n)
        .map(|_| {
            let (u, v) = (uniform(rng).max(1e-7), uniform(rng));
            (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
        })
        .collect();
    let x = Tensor::from_vec(x, (frames, batch, config.n_input()), &Device::Cpu)?;
    let mean_labels = frames as f64 * FRAME_SECONDS * LABELS_PER_SECOND;
    let symbols = config.alphabet.len() as u32;
    let targets = (0..batch)
        .map(|_| {
            // ±10 % around the mean length.
            let len = (mean_labels * (0.9 + 0.2 * f64::from(uniform(rng)))).round() as usize;
            (0..len).map(|_| rng.next_u32() % symbols).collect()
        })
        .collect();
    Ok((x, targets, vec![frames; batch]))
}

/// Forward matmul FLOPs of one batch of `rows = T·B` frames: `2·m·n·k` per dense layer, plus
/// the LSTM's input projection and recurrent matmuls.
fn forward_flops(config: &Config, rows: usize) -> f64 {
    let h = config.n_hidden;
    let mk = |inputs: usize, outputs: usize| 2.0 * rows as f64 * inputs as f64 * outputs as f64;
    mk(config.n_input(), h)   // layer 1
        + 2.0 * mk(h, h)      // layers 2, 3
        + mk(h, 4 * h)        // LSTM input projection
        + mk(h, 4 * h)        // LSTM recurrence (T steps of [B, H]·[H, 4H])
        + mk(h, h)            // layer 5
        + mk(h, config.n_classes()) // layer 6
}

/// Candle's matmul rate (GFLOP/s) on `[m, k]·[k, n]`, median of 7 after a warm-up, with the
/// right operand stored as `Linear` stores its weight (`[n, k]`, transposed view).
fn matmul_gflops(m: usize, k: usize, n: usize) -> candle::Result<f64> {
    let a = Tensor::randn(0f32, 1.0, (m, k), &Device::Cpu)?;
    let w = Tensor::randn(0f32, 1.0, (n, k), &Device::Cpu)?;
    let mut times = Vec::new();
    for i in 0..8 {
        let t0 = Instant::now();
        let c = a.matmul(&w.t()?)?;
        let dt = t0.elapsed().as_secs_f64();
        std::hint::black_box(c);
        if i > 0 {
            times.push(dt);
        }
    }
    Ok(2.0 * (m * k * n) as f64 / median(&mut times) * 1e-9)
}

/// Wall-clock seconds of each phase of one step, split as [`Adam::backward_step`] runs them.
#[derive(Default, Clone, Copy)]
struct Phases {
    forward: f64,
    ctc: f64,
    backward: f64,
    update: f64,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let arg = |k: usize, default: usize| args.get(k).copied().unwrap_or(default);
    let (steps, n_hidden, b, frames) = (arg(0, 7).max(1), arg(1, 512), arg(2, 16), arg(3, 300));
    let warmup = 2;

    // The model and optimiser, built as `train::trainer::run` builds them.
    let alphabet = Alphabet::english();
    let config = Config::new(n_hidden, &alphabet);
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = DeepSpeech::new(config.clone(), vb)?;
    let mut adam = Adam::new(named_vars(&varmap), AdamConfig::default())?;
    let ctc = CtcOptions {
        blank: alphabet.blank(),
        impossible: Impossible::ZeroLoss,
    };

    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let batches = (0..4)
        .map(|_| batch(&mut rng, frames, b, &config))
        .collect::<candle::Result<Vec<_>>>()?;

    // Whole steps, exactly as the trainer runs them.
    let mut totals = Vec::new();
    for step in 0..warmup + steps {
        let (x, targets, lengths) = &batches[step % batches.len()];
        let t0 = Instant::now();
        let logits = model.forward(x, Some(Dropout { rng: &mut rng }))?;
        let loss = ctc_loss(&logits, targets, lengths, &ctc)?.mean_all()?;
        adam.backward_step(&loss)?;
        let loss_value = loss.to_scalar::<f32>()?;
        let dt = t0.elapsed().as_secs_f64();
        assert!(loss_value.is_finite(), "loss {loss_value}");
        if step >= warmup {
            totals.push(dt);
        }
    }
    // The same steps again, timed phase by phase (`backward_step` = `backward` + `update`).
    let mut phases = Vec::new();
    for step in 0..steps {
        let (x, targets, lengths) = &batches[step % batches.len()];
        let t0 = Instant::now();
        let logits = model.forward(x, Some(Dropout { rng: &mut rng }))?;
        let t1 = Instant::now();
        let loss = ctc_loss(&logits, targets, lengths, &ctc)?.mean_all()?;
        let t2 = Instant::now();
        let grads = loss.backward()?;
        let t3 = Instant::now();
        adam.update(&grads)?;
        let t4 = Instant::now();
        phases.push(Phases {
            forward: (t1 - t0).as_secs_f64(),
            ctc: (t2 - t1).as_secs_f64(),
            backward: (t3 - t2).as_secs_f64(),
            update: (t4 - t3).as_secs_f64(),
        });
    }
    let total = median(&mut totals);
    let med = |f: fn(&Phases) -> f64| median(&mut phases.iter().map(f).collect::<Vec<_>>());

    let rows = frames * b;
    let fwd_flops = forward_flops(&config, rows);
    let rate = matmul_gflops(rows, n_hidden, 4 * n_hidden)?;
    let floor = 3.0 * fwd_flops * 1e-9 / rate;
    let audio = rows as f64 * FRAME_SECONDS;
    let threads = candle::utils::get_num_threads();

    println!(
        "DeepSpeech training step, n_hidden {n_hidden}, batch {b} × {frames} frames ({:.1} s of \
         audio each), {} parameters, {threads} threads, median of {steps} steps after {warmup} \
         warm-up steps",
        frames as f64 * FRAME_SECONDS,
        config.parameter_count()
    );
    println!(
        "matmul {rows}×{n_hidden} · {n_hidden}×{}: {rate:.1} GFLOP/s; model: {:.2} GFLOP forward, \
         {:.2} GFLOP forward+backward",
        4 * n_hidden,
        fwd_flops * 1e-9,
        3.0 * fwd_flops * 1e-9
    );
    println!();
    println!("| ms per batch | audio s / wall s | FLOP floor ms | ratio to floor |");
    println!("| ---: | ---: | ---: | ---: |");
    println!(
        "| {:.0} | {:.1} | {:.0} | {:.1}× |",
        total * 1e3,
        audio / total,
        floor * 1e3,
        total / floor
    );
    println!();
    println!("| phase | ms | share |");
    println!("| --- | ---: | ---: |");
    for (name, s) in [
        ("forward (with dropout masks)", med(|p| p.forward)),
        ("CTC loss + gradient", med(|p| p.ctc)),
        ("backward", med(|p| p.backward)),
        ("Adam update", med(|p| p.update)),
    ] {
        println!("| {name} | {:.0} | {:.0} % |", s * 1e3, 100.0 * s / total);
    }
    println!("(medians of each phase over {steps} more steps; shares of the whole-step median)");
    println!();
    println!(
        "deepspeech-rs\t{:.1}\t{:.2}\t{:.4}\t{rate:.1}\t{}",
        total * 1e3,
        audio / total,
        fwd_flops * 1e-9,
        config.parameter_count()
    );
    Ok(())
}
