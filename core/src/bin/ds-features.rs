//! `ds-features`: DeepSpeech's MFCC features of WAV files, as a summary or a `.npy` matrix that
//! any other tool (numpy, TensorFlow's reference ops) can compare against.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Parser;
use deepspeech_core::audio::{Encoding, WavInfo, load_wav_16k};
use deepspeech_core::features::{FeatureConfig, FeatureMatrix, MfccExtractor};
use npyz::WriterBuilder;

/// Compute DeepSpeech 0.9's MFCC features (TensorFlow's AudioSpectrogram + Mfcc: 32 ms Hann
/// windows every 20 ms, 40 mel channels from 20 Hz to 8 kHz, 26 coefficients) of WAV files of any
/// PCM or float encoding, sample rate and channel count. Audio is mixed to mono and resampled to
/// 16 kHz first.
#[derive(Parser, Debug)]
#[command(name = "ds-features", version)]
struct Args {
    /// WAV files to analyse.
    #[arg(required = true)]
    audio: Vec<PathBuf>,

    /// Write the feature matrix of the (single) input to this `.npy` file (float32,
    /// shape [frames, 26], or [frames, 494] with --context).
    #[arg(short, long, conflicts_with = "output_dir")]
    output: Option<PathBuf>,

    /// Write `<name>.mfcc.npy` for every input into this folder.
    #[arg(long)]
    output_dir: Option<PathBuf>,

    /// Write the model's input instead: 19-frame context windows (9 each side, zero-padded).
    #[arg(long)]
    context: bool,

    /// Print per-coefficient mean and standard deviation, not just the shape.
    #[arg(long)]
    stats: bool,
}

fn main() {
    deepspeech_core::cli::restore_default_sigpipe();
    if let Err(e) = run(Args::parse()) {
        eprintln!("ds-features: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    if args.output.is_some() && args.audio.len() > 1 {
        bail!("--output takes one input file; use --output-dir for several");
    }
    if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let config = FeatureConfig::default();
    let mut extractor = MfccExtractor::new(config.clone());
    for path in &args.audio {
        let (samples, info) = load_wav_16k(path)?;
        let mfcc = extractor.compute(&samples);
        let matrix = if args.context {
            mfcc.with_context(config.n_context)
        } else {
            mfcc
        };
        println!("{}", summary(path, &info, &matrix));
        if args.stats {
            print_stats(&matrix);
        }
        let target = match (&args.output, &args.output_dir) {
            (Some(file), _) => Some(file.clone()),
            (None, Some(dir)) => Some(dir.join(format!(
                "{}.mfcc.npy",
                path.file_stem().unwrap_or_default().to_string_lossy()
            ))),
            (None, None) => None,
        };
        if let Some(target) = target {
            write_npy(&target, &matrix)?;
            println!("  wrote {}", target.display());
        }
    }
    Ok(())
}

fn summary(path: &Path, info: &WavInfo, m: &FeatureMatrix) -> String {
    let encoding = match info.encoding {
        Encoding::Int => "int",
        Encoding::Float => "float",
    };
    format!(
        "{}: {} Hz, {} ch, {}-bit {encoding}, {:.3} s -> {} frames x {} features",
        path.display(),
        info.sample_rate,
        info.channels,
        info.bits_per_sample,
        info.duration_secs(),
        m.frames,
        m.width
    )
}

fn print_stats(m: &FeatureMatrix) {
    for c in 0..m.width {
        let column = (0..m.frames).map(|t| f64::from(m.row(t)[c]));
        let mean = column.clone().sum::<f64>() / m.frames.max(1) as f64;
        let var = column.map(|v| (v - mean).powi(2)).sum::<f64>() / m.frames.max(1) as f64;
        println!("  c{c:<3} mean {mean:>10.4}  std {:>9.4}", var.sqrt());
    }
}

/// Writes the matrix as a C-ordered float32 `.npy`, via a temporary file renamed into place so
/// an interrupted run never leaves a truncated matrix behind.
fn write_npy(path: &Path, m: &FeatureMatrix) -> Result<()> {
    let tmp = path.with_extension("npy.tmp");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[m.frames as u64, m.width as u64])
        .writer(BufWriter::new(file))
        .begin_nd()?;
    writer.extend(m.data.iter().copied())?;
    writer.finish()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
