//! Streaming inference of the whole network, chunk by chunk as a `Stream` runs it: the `f32`
//! network against the same weights run as TensorFlow Lite's int8 hybrid kernels
//! ([`deepspeech_core::model::hybrid`]).
//!
//! `cargo bench -p deepspeech-core --bench hybrid [-- N_HIDDEN FRAMES CHUNK]` (default 2048 500
//! 16). Random weights at DeepSpeech's geometry; wall-clock seconds per second of audio (50
//! frames), median of 3 runs after a warm-up, on however many threads candle uses
//! (`RAYON_NUM_THREADS`).

use std::time::Instant;

use candle::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use deepspeech_core::Alphabet;
use deepspeech_core::model::hybrid::{HybridNetwork, Int8Matrix, Layer, Weights};
use deepspeech_core::model::lstm::LstmState;
use deepspeech_core::model::{Config, DeepSpeech};

/// A dense layer's int8 form of `w` (`[out, in]`), one scale for the tensor as TensorFlow's
/// quantiser picks it.
fn int8_layer(w: &Tensor, b: &Tensor) -> candle::Result<Layer> {
    let (rows, cols) = w.dims2()?;
    let values: Vec<f32> = w.flatten_all()?.to_vec1()?;
    let scale = values.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
    let q: Vec<i8> = values.iter().map(|v| (v / scale).round() as i8).collect();
    let m = Int8Matrix::new(rows, cols, &q, scale).map_err(candle::Error::Msg)?;
    Layer::new(Weights::Int8(m), b.to_vec1()?).map_err(candle::Error::Msg)
}

fn median(mut f: impl FnMut() -> candle::Result<()>) -> candle::Result<f64> {
    f()?;
    let mut times = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        f()?;
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[1])
}

fn main() -> candle::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let arg = |k: usize, default: usize| args.get(k).copied().unwrap_or(default);
    let (hidden, frames, chunk) = (arg(0, 2048), arg(1, 500), arg(2, 16));
    let dev = Device::Cpu;
    let config = Config::new(hidden, &Alphabet::english());
    let varmap = candle_nn::VarMap::new();
    let mut net = DeepSpeech::new(
        config.clone(),
        VarBuilder::from_varmap(&varmap, DType::F32, &dev),
    )?;
    let vars = varmap.data().lock().unwrap().clone();
    let get = |name: &str| vars[name].as_tensor().clone();
    let dense = |name: &str| {
        int8_layer(
            &get(&format!("{name}.weight")),
            &get(&format!("{name}.bias")),
        )
    };
    // TensorFlow's LSTM kernel [4h, in + h], gates i, j, f, o; ours are i, f, g, o.
    let (w_ih, w_hh) = (get("lstm.weight_ih_l0"), get("lstm.weight_hh_l0"));
    let gate = |t: &Tensor, k: usize| t.narrow(0, k * hidden, hidden);
    let order = [0, 2, 1, 3];
    let kernel = Tensor::cat(
        &order
            .iter()
            .map(|&k| Tensor::cat(&[gate(&w_ih, k)?, gate(&w_hh, k)?], 1))
            .collect::<candle::Result<Vec<_>>>()?,
        0,
    )?;
    let bias = (get("lstm.bias_ih_l0") + get("lstm.bias_hh_l0"))?;
    let bias = Tensor::cat(
        &order
            .iter()
            .map(|&k| gate(&bias, k))
            .collect::<candle::Result<Vec<_>>>()?,
        0,
    )?;
    let hybrid = HybridNetwork {
        dense_front: [dense("layer_1")?, dense("layer_2")?, dense("layer_3")?],
        lstm: int8_layer(&kernel, &bias)?,
        forget_bias: 0.0,
        layer_5: dense("layer_5")?,
        layer_6: dense("layer_6")?,
        relu_clip: config.relu_clip,
    };
    hybrid.check(&config).map_err(candle::Error::Msg)?;
    let x = Tensor::randn(0f32, 1.0, (frames, 1, config.n_input()), &dev)?;
    let run = |net: &DeepSpeech| -> candle::Result<()> {
        let mut state: Option<LstmState> = None;
        let mut t = 0;
        while t < frames {
            let n = chunk.min(frames - t);
            let (_, s) = net.forward_chunk(&x.narrow(0, t, n)?, state.as_ref())?;
            state = Some(s);
            t += n;
        }
        Ok(())
    };
    let audio_secs = frames as f64 / 50.0;
    let f32_secs = median(|| run(&net))?;
    net.set_hybrid(Some(hybrid));
    let int8_secs = median(|| run(&net))?;
    println!(
        "n_hidden {hidden}, {frames} frames in chunks of {chunk}, {} threads: f32 {:.4} s per audio s, int8 hybrid {:.4} ({:.2}x)",
        candle::utils::get_num_threads(),
        f32_secs / audio_secs,
        int8_secs / audio_secs,
        f32_secs / int8_secs
    );
    Ok(())
}
