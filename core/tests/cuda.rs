//! The GPU path against the CPU path: logits, one training step's gradients, a 50-step
//! training run, and the CLI's transcripts. Each test runs only where `--device cuda` works (a
//! `--features cuda` build on a machine with an NVIDIA GPU) and otherwise prints why it was
//! skipped and passes. `tools/cuda/check.sh` runs this binary on a GPU machine.
//!
//! Data: `DS_SHARED_DATA` (default `../shared/data` beside the repository) and `DS_REPO_ROOT`
//! (default this repository), so the binary also runs where it was carried to.

use std::path::{Path, PathBuf};

use candle::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use deepspeech_core::Alphabet;
use deepspeech_core::audio::load_wav_16k;
use deepspeech_core::ctc::{CtcOptions, Impossible, ctc_loss};
use deepspeech_core::features::mfcc;
use deepspeech_core::model::{DeepSpeech, load_model};
use deepspeech_core::train::{TrainOptions, run};

fn repo() -> PathBuf {
    std::env::var_os("DS_REPO_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

fn shared(rel: &str) -> PathBuf {
    std::env::var_os("DS_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data"))
        .join(rel)
}

/// The GPU, or `None` after printing why there is none.
fn gpu() -> Option<Device> {
    match deepspeech_core::device::select(Some("cuda")) {
        Ok(device) => Some(device),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

/// Real recordings: LDC93S1 and three LJSpeech clips.
fn wavs() -> Vec<PathBuf> {
    let mut files = vec![shared("ldc93s1/LDC93S1.wav")];
    let mut lj: Vec<PathBuf> = std::fs::read_dir(shared("ljspeech/wavs"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    lj.sort();
    files.extend(lj.into_iter().take(3));
    files
}

/// `[T, 1, width]` features of a WAV for a model with `n_context`.
fn features(wav: &Path, n_context: usize, device: &Device) -> Tensor {
    let (samples, _) = load_wav_16k(wav).unwrap();
    let x = mfcc(&samples).with_context(n_context);
    Tensor::from_vec(x.data, (x.frames, 1, x.width), device).unwrap()
}

/// `max |a − b| / max |a|` over two tensors of one shape.
fn relative_difference(a: &Tensor, b: &Tensor) -> f32 {
    let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
    let b: Vec<f32> = b
        .to_device(&Device::Cpu)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_eq!(a.len(), b.len());
    let scale = a
        .iter()
        .fold(0f32, |m, x| m.max(x.abs()))
        .max(f32::MIN_POSITIVE);
    let worst = a
        .iter()
        .zip(&b)
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    worst / scale
}

fn model_path() -> PathBuf {
    repo().join("models/en/model.safetensors")
}

#[test]
fn gpu_logits_equal_cpu_logits_on_real_audio() {
    let Some(gpu) = gpu() else { return };
    let cpu_model = load_model(&model_path(), &Device::Cpu).unwrap();
    let gpu_model = load_model(&model_path(), &gpu).unwrap();
    let n_context = cpu_model.config().features.n_context;
    for wav in wavs() {
        let expected = cpu_model
            .forward(&features(&wav, n_context, &Device::Cpu), None)
            .unwrap();
        let got = gpu_model
            .forward(&features(&wav, n_context, &gpu), None)
            .unwrap();
        let rel = relative_difference(&expected, &got);
        eprintln!("{}: logits differ by {rel:.2e} (relative)", wav.display());
        assert!(rel <= 1e-4, "{}: {rel}", wav.display());
    }
}

/// A model with the shipped weights as trainable variables on `device`.
fn trainable(device: &Device) -> (VarMap, DeepSpeech) {
    let config = load_model(&model_path(), &Device::Cpu)
        .unwrap()
        .config()
        .clone();
    let mut varmap = VarMap::new();
    let model =
        DeepSpeech::new(config, VarBuilder::from_varmap(&varmap, DType::F32, device)).unwrap();
    varmap.load(model_path()).unwrap();
    (varmap, model)
}

#[test]
fn one_training_step_gives_the_cpu_gradients() {
    let Some(gpu) = gpu() else { return };
    let wav = shared("ldc93s1/LDC93S1.wav");
    let text = "she had your dark suit in greasy wash water all year";
    let mut grads = vec![];
    for device in [Device::Cpu, gpu] {
        let (varmap, model) = trainable(&device);
        let alphabet = model.config().alphabet();
        let target: Vec<u32> = alphabet
            .encode(text)
            .unwrap()
            .into_iter()
            .map(|l| l as u32)
            .collect();
        let x = features(&wav, model.config().features.n_context, &device);
        let frames = x.dim(0).unwrap();
        let logits = model.forward(&x, None).unwrap();
        let options = CtcOptions {
            blank: alphabet.blank(),
            impossible: Impossible::Error,
        };
        let loss = ctc_loss(&logits, &[target], &[frames], &options).unwrap();
        let store = loss.sum_all().unwrap().backward().unwrap();
        let mut named: Vec<(String, Tensor)> = varmap
            .data()
            .lock()
            .unwrap()
            .iter()
            .map(|(name, var)| (name.clone(), store.get(var.as_tensor()).unwrap().clone()))
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        grads.push(named);
    }
    for ((name, cpu), (_, gpu)) in grads[0].iter().zip(&grads[1]) {
        let rel = relative_difference(cpu, gpu);
        eprintln!("d {name}: {rel:.2e}");
        assert!(rel <= 1e-3, "gradient of {name} differs by {rel}");
    }
}

#[test]
fn fifty_training_steps_follow_the_cpu_loss_curve() {
    let Some(gpu) = gpu() else { return };
    let mut curves = vec![];
    for device in [Device::Cpu, gpu] {
        let mut options = TrainOptions::new(Alphabet::from_file(shared("alphabet.txt")).unwrap());
        options.train_files = vec![shared("ldc93s1/ldc93s1.csv")];
        options.n_hidden = 100;
        options.epochs = 50;
        options.learning_rate = 0.001;
        options.dropout_rate = 0.0;
        options.es_epochs = 0;
        options.progress = false;
        options.device = device;
        let summary = run(&options).unwrap();
        curves.push(
            summary
                .history
                .iter()
                .map(|e| e.train_loss)
                .collect::<Vec<f64>>(),
        );
    }
    let (cpu, gpu) = (&curves[0], &curves[1]);
    assert_eq!(cpu.len(), 50);
    assert_eq!(gpu.len(), 50);
    assert!(
        cpu[49] < cpu[0] / 2.0,
        "the CPU run learns: {} → {}",
        cpu[0],
        cpu[49]
    );
    for (step, (c, g)) in cpu.iter().zip(gpu).enumerate() {
        let rel = (c - g).abs() / c.abs().max(1.0);
        assert!(rel <= 1e-2, "step {step}: CPU loss {c}, GPU loss {g}");
    }
    eprintln!(
        "losses: CPU {:.4} → {:.4}, GPU {:.4} → {:.4}",
        cpu[0], cpu[49], gpu[0], gpu[49]
    );
}

/// The `deepspeech` CLI, this build's or the one `DS_CLI` names.
fn cli() -> PathBuf {
    std::env::var_os("DS_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_deepspeech")))
}

fn transcribe_with_cli(device: &str) -> String {
    let out = std::process::Command::new(cli())
        .arg("--model")
        .arg(model_path())
        .args(["--scorer", "none", "--device", device, "--audio"])
        .args(wavs())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cli_gives_the_cpu_transcripts_on_the_gpu() {
    if gpu().is_none() {
        return;
    }
    let cpu = transcribe_with_cli("cpu");
    assert_eq!(cpu.lines().count(), wavs().len(), "{cpu}");
    assert_eq!(transcribe_with_cli("cuda"), cpu);
}

#[test]
fn greedy_transcripts_on_the_gpu_equal_the_cpu_ones() {
    let Some(gpu) = gpu() else { return };
    let cpu_model =
        std::sync::Arc::new(deepspeech_core::engine::Model::load(model_path()).unwrap());
    let gpu_model =
        std::sync::Arc::new(deepspeech_core::engine::Model::load_on(model_path(), &gpu).unwrap());
    for wav in wavs() {
        let (samples, _) = load_wav_16k(&wav).unwrap();
        let rate = 16_000;
        let a = cpu_model.transcribe(&samples, rate, 1).unwrap();
        let b = gpu_model.transcribe(&samples, rate, 1).unwrap();
        assert_eq!(a.text, b.text, "{}", wav.display());
        // The streaming path (state carried across chunks on the GPU) too.
        let mut stream = gpu_model.create_stream();
        for chunk in samples.chunks(3200) {
            stream.feed_audio(chunk, rate, 1).unwrap();
        }
        assert_eq!(
            stream.finish().unwrap().text,
            a.text,
            "{} streamed",
            wav.display()
        );
    }
}
