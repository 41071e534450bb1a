//! Training and batched-inference throughput of the DeepSpeech network on a GPU (or the CPU),
//! in audio seconds per wall second: what `tools/cuda/check.sh` reports beside PyTorch + cuDNN
//! (`tools/reference/deepspeech_torch.py`, the same network, batches and timing).
//!
//! ```text
//! cargo run --release --features cuda --example gpu_bench -- --device cuda --hidden 2048,640
//! ```
//!
//! Each configuration: random features `[T, B, 494]` and random 29-class targets of `T/4`
//! labels (synthetic, so only the arithmetic is measured: MFCCs are computed on the CPU's
//! threads in training), two warm-up steps, then the mean of `--steps` timed steps (forward,
//! CTC loss, backward, Adam) ending in a device synchronisation. One JSON object per line.

use std::time::Instant;

use candle::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use deepspeech_core::Alphabet;
use deepspeech_core::ctc::{CtcOptions, Impossible, ctc_loss};
use deepspeech_core::model::{Config, DeepSpeech, Dropout};
use deepspeech_core::train::optim::{Adam, AdamConfig};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

struct Args {
    device: String,
    hidden: Vec<usize>,
    batches: Vec<usize>,
    infer_batch: usize,
    frames: usize,
    steps: usize,
    precisions: Vec<String>,
}

fn list<T: std::str::FromStr>(s: &str) -> Vec<T> {
    s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

fn args() -> Args {
    let mut a = Args {
        device: "cuda".into(),
        hidden: vec![2048, 640],
        batches: vec![32, 64, 128],
        infer_batch: 256,
        frames: 300,
        steps: 5,
        precisions: vec!["f32".into(), "tf32".into()],
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let (key, value) = (pair[0].as_str(), pair.get(1).map_or("", String::as_str));
        match key {
            "--device" => a.device = value.into(),
            "--hidden" => a.hidden = list(value),
            "--batch" => a.batches = list(value),
            "--infer-batch" => a.infer_batch = value.parse().expect("--infer-batch N"),
            "--frames" => a.frames = value.parse().expect("--frames N"),
            "--steps" => a.steps = value.parse().expect("--steps N"),
            "--precision" => a.precisions = list(value),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// Floating-point operations of one forward pass per frame (multiply-add = 2).
fn forward_flops_per_frame(c: &Config) -> f64 {
    let (i, h, k) = (c.n_input() as f64, c.n_hidden as f64, c.n_classes() as f64);
    2.0 * (i * h + h * h + h * h + 2.0 * h * 4.0 * h + h * h + h * k)
}

struct Bench {
    device: Device,
    config: Config,
    model: DeepSpeech,
    adam: Adam,
    rng: ChaCha8Rng,
}

impl Bench {
    fn new(device: &Device, n_hidden: usize) -> candle::Result<Self> {
        let config = Config::new(n_hidden, &Alphabet::english());
        let varmap = VarMap::new();
        let model = DeepSpeech::new(
            config.clone(),
            VarBuilder::from_varmap(&varmap, DType::F32, device),
        )?;
        let vars = varmap
            .data()
            .lock()
            .unwrap()
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        let adam = Adam::new(
            vars,
            AdamConfig {
                learning_rate: 1e-4,
                ..Default::default()
            },
        )?;
        Ok(Self {
            device: device.clone(),
            config,
            model,
            adam,
            rng: ChaCha8Rng::seed_from_u64(7),
        })
    }

    fn features(&self, frames: usize, batch: usize) -> candle::Result<Tensor> {
        Tensor::randn(
            0f32,
            1f32,
            (frames, batch, self.config.n_input()),
            &self.device,
        )
    }

    /// One training step; returns (seconds, of which the CTC loss's forward and backward).
    fn train_step(
        &mut self,
        x: &Tensor,
        targets: &[Vec<u32>],
        lengths: &[usize],
    ) -> candle::Result<f64> {
        let started = Instant::now();
        let logits = self
            .model
            .forward(x, Some(Dropout { rng: &mut self.rng }))?;
        let options = CtcOptions {
            blank: self.config.n_classes() - 1,
            impossible: Impossible::ZeroLoss,
        };
        let loss = ctc_loss(&logits, targets, lengths, &options).map_err(candle::Error::wrap)?;
        let mean = (loss.sum_all()? / targets.len() as f64)?;
        self.adam.backward_step(&mean)?;
        self.device.synchronize()?;
        Ok(started.elapsed().as_secs_f64())
    }

    /// The CTC loss alone on logits already on the device (forward, backward, copies).
    fn ctc_only(
        &self,
        logits: &Tensor,
        targets: &[Vec<u32>],
        lengths: &[usize],
    ) -> candle::Result<f64> {
        let var = candle::Var::from_tensor(logits)?;
        self.device.synchronize()?;
        let started = Instant::now();
        let options = CtcOptions {
            blank: self.config.n_classes() - 1,
            impossible: Impossible::ZeroLoss,
        };
        let loss =
            ctc_loss(var.as_tensor(), targets, lengths, &options).map_err(candle::Error::wrap)?;
        let grads = loss.sum_all()?.backward()?;
        let _ = grads.get(var.as_tensor());
        self.device.synchronize()?;
        Ok(started.elapsed().as_secs_f64())
    }
}

fn main() -> candle::Result<()> {
    let a = args();
    let device = deepspeech_core::device::select(Some(&a.device)).map_err(candle::Error::Msg)?;
    let secs_per_frame = deepspeech_core::features::FeatureConfig::default().frame_secs();
    let mut label_rng = ChaCha8Rng::seed_from_u64(11);
    for &n_hidden in &a.hidden {
        let mut bench = Bench::new(&device, n_hidden)?;
        let flops = forward_flops_per_frame(&bench.config);
        for precision in &a.precisions {
            deepspeech_core::device::set_tf32(precision == "tf32").map_err(candle::Error::Msg)?;
            for &batch in &a.batches {
                let x = bench.features(a.frames, batch)?;
                let targets: Vec<Vec<u32>> = (0..batch)
                    .map(|_| {
                        (0..a.frames / 4)
                            .map(|_| label_rng.next_u32() % 28)
                            .collect()
                    })
                    .collect();
                let lengths = vec![a.frames; batch];
                for _ in 0..2 {
                    bench.train_step(&x, &targets, &lengths)?;
                }
                let mut total = 0.0;
                for _ in 0..a.steps {
                    total += bench.train_step(&x, &targets, &lengths)?;
                }
                let step = total / a.steps as f64;
                let logits = bench.model.forward(&x, None)?;
                let ctc = bench.ctc_only(&logits, &targets, &lengths)?;
                let audio = (a.frames * batch) as f64 * secs_per_frame;
                println!(
                    "{{\"impl\":\"deepspeech-rs\",\"mode\":\"train\",\"n_hidden\":{n_hidden},\"precision\":\"{precision}\",\"batch\":{batch},\"frames\":{},\"step_ms\":{:.2},\"ctc_ms\":{:.2},\"audio_s_per_s\":{:.1},\"tflops\":{:.1}}}",
                    a.frames,
                    step * 1e3,
                    ctc * 1e3,
                    audio / step,
                    3.0 * flops * (a.frames * batch) as f64 / step / 1e12
                );
            }
            // Batched inference: forward only, no gradient kept.
            let batch = a.infer_batch;
            let x = bench.features(a.frames, batch)?;
            let run = |x: &Tensor| -> candle::Result<f64> {
                let started = Instant::now();
                let logits = bench.model.forward(x, None)?;
                drop(logits);
                device.synchronize()?;
                Ok(started.elapsed().as_secs_f64())
            };
            run(&x)?;
            let secs = (0..a.steps).map(|_| run(&x)).sum::<candle::Result<f64>>()? / a.steps as f64;
            let audio = (a.frames * batch) as f64 * secs_per_frame;
            println!(
                "{{\"impl\":\"deepspeech-rs\",\"mode\":\"infer\",\"n_hidden\":{n_hidden},\"precision\":\"{precision}\",\"batch\":{batch},\"frames\":{},\"step_ms\":{:.2},\"audio_s_per_s\":{:.1},\"tflops\":{:.1}}}",
                a.frames,
                secs * 1e3,
                audio / secs,
                flops * (a.frames * batch) as f64 / secs / 1e12
            );
        }
    }
    Ok(())
}
