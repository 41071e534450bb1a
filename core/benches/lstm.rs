//! Forward + backward of one LSTM layer: the fused [`Lstm`] against candle_nn's step-by-step LSTM.
//!
//! `cargo bench -p deepspeech-core --bench lstm [-- T B I H REF_T]` (default 300 16 512 512 30;
//! `REF_T = 0` skips the reference, e.g. for profiling).
//! The loss is `Σ h_seq ⊙ r`; gradients flow to the input and all four weights, as in training.
//! The reference runs only `REF_T` steps (its backward grows quadratically with T) and its time is
//! scaled linearly to `T`, which flatters it. Wall-clock time, median of 5 runs after a warm-up;
//! GFLOP/s counts the matmul work only: `2·T·B·4H·(I+H)` forward, twice that backward.

use std::time::Instant;

use candle::{DType, Device, Tensor, Var};
use candle_nn::rnn::{LSTMConfig, RNN};
use candle_nn::{VarBuilder, VarMap};
use deepspeech_core::model::lstm::Lstm;

/// Median wall-clock seconds of `runs` calls of `f`, after one warm-up call.
fn median_seconds(runs: usize, mut f: impl FnMut() -> candle::Result<()>) -> candle::Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t0 = Instant::now();
        f()?;
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[runs / 2])
}

/// Forward + backward of `layer` over `x`, which returns `[T, B, H]`.
fn train_step(
    x: &Var,
    r: &Tensor,
    layer: impl Fn(&Tensor) -> candle::Result<Tensor>,
) -> candle::Result<()> {
    let h = layer(x.as_tensor())?;
    let grads = (&h * r)?.sum_all()?.backward()?;
    assert!(grads.get(x).is_some());
    Ok(())
}

/// Random input and loss weights for `t` steps.
fn data(t: usize, b: usize, i: usize, h: usize) -> candle::Result<(Var, Tensor)> {
    let dev = Device::Cpu;
    let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (t, b, i), &dev)?)?;
    Ok((x, Tensor::randn(0f32, 1.0, (t, b, h), &dev)?))
}

fn main() -> candle::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let arg = |k: usize, default: usize| args.get(k).copied().unwrap_or(default);
    let (t, b, i, h, ref_t) = (
        arg(0, 300),
        arg(1, 16),
        arg(2, 512),
        arg(3, 512),
        arg(4, 30),
    );

    let map = VarMap::new();
    let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
    let fused = Lstm::new(i, h, vb.pp("lstm"))?;
    let reference = candle_nn::lstm(i, h, LSTMConfig::default(), vb.pp("lstm"))?;

    let (x, r) = data(t, b, i, h)?;
    let fused_s = median_seconds(5, || train_step(&x, &r, |x| fused.forward(x)))?;
    let ref_s = if ref_t == 0 {
        f64::NAN
    } else {
        let (xr, rr) = data(ref_t, b, i, h)?;
        let step_by_step = |x: &Tensor| {
            let states = reference.seq(&x.transpose(0, 1)?.contiguous()?)?;
            reference.states_to_tensor(&states)?.transpose(0, 1)
        };
        median_seconds(5, || train_step(&xr, &rr, step_by_step))? * t as f64 / ref_t as f64
    };

    let gflop = 6.0 * (t * b * 4 * h * (i + h)) as f64 * 1e-9;
    println!(
        "LSTM forward+backward, T={t} B={b} I={i} H={h}, {} threads, {gflop:.1} GFLOP of matmuls",
        candle::utils::get_num_threads()
    );
    println!("| implementation | ms per forward+backward | GFLOP/s |");
    println!("| --- | ---: | ---: |");
    println!(
        "| fused (this crate) | {:.1} | {:.1} |",
        fused_s * 1e3,
        gflop / fused_s
    );
    println!(
        "| candle_nn step by step ({ref_t} steps, scaled to {t}) | {:.1} | {:.1} |",
        ref_s * 1e3,
        gflop / ref_s
    );
    println!("speed-up: {:.1}×", ref_s / fused_s);
    Ok(())
}
