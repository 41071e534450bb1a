//! `ds-convert`: moves a model between DeepSpeech's formats and ours.
//!
//! In: any model `deepspeech` loads (our `.safetensors`; DeepSpeech's and Coqui STT's `.pb`,
//! `.pbmm`, `.tflite`; a TensorFlow training checkpoint folder). Out: our self-describing
//! `.safetensors` (f32 or f16), or a TensorFlow checkpoint with DeepSpeech 0.9's variable names
//! that DeepSpeech's own `DeepSpeech.py --checkpoint_dir … --export_dir …` exports.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use candle::DType;
use clap::{Parser, ValueEnum};
use deepspeech_core::model::formats::{checkpoint, tf_layout};
use deepspeech_core::model::io::{self, config_from_metadata};

/// Convert a speech model between formats: DeepSpeech / Coqui STT models and checkpoints to
/// deepspeech-rs `.safetensors`, and deepspeech-rs models to a TensorFlow checkpoint that
/// DeepSpeech's own export turns into `.pb` / `.tflite` for its runtimes.
#[derive(Parser, Debug)]
#[command(name = "ds-convert", version)]
struct Args {
    /// The model to read: .safetensors, .pb, .pbmm, .tflite, or a TensorFlow checkpoint folder
    /// (the format is read from the bytes, not the name).
    #[arg(long)]
    model: PathBuf,
    /// Where to write: a `.safetensors` file, or a folder for `--to checkpoint`.
    #[arg(long)]
    output: PathBuf,
    /// What to write (default: checkpoint when --output has no extension, else safetensors).
    #[arg(long, value_enum)]
    to: Option<Target>,
    /// Precision of a safetensors output.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    dtype: Precision,
    /// Name of the checkpoint written into the folder (DeepSpeech's loader looks for
    /// `best_dev_checkpoint`, so a `best_dev-…` name is found first).
    #[arg(long, default_value = "best_dev-0")]
    checkpoint_name: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Target {
    /// deepspeech-rs's self-describing model file.
    Safetensors,
    /// A TensorFlow checkpoint with DeepSpeech 0.9's variable names, plus its alphabet.txt.
    Checkpoint,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Precision {
    F32,
    F16,
}

fn main() {
    deepspeech_core::cli::restore_default_sigpipe();
    if let Err(e) = run(Args::parse()) {
        eprintln!("ds-convert: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let file = io::read(&args.model).context("cannot read the model")?;
    let config = config_from_metadata(&args.model, &file.metadata, io::MODEL_FORMAT)?;
    io::check_shapes(&args.model, &config, &file.tensors, "")?;
    let target = args.to.unwrap_or(if args.output.extension().is_some() {
        Target::Safetensors
    } else {
        Target::Checkpoint
    });
    match target {
        Target::Safetensors => {
            let dtype = match args.dtype {
                Precision::F32 => DType::F32,
                Precision::F16 => DType::F16,
            };
            if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            io::export(&args.output, &config, &file.tensors, dtype)?;
            println!(
                "wrote {} ({} units, {} symbols, {:?})",
                args.output.display(),
                config.n_hidden,
                config.alphabet.len(),
                args.dtype
            );
        }
        Target::Checkpoint => {
            let f = &config.features;
            if (f.n_context, f.coefficients) != (9, 26) {
                bail!(
                    "DeepSpeech's network reads 26 MFCC coefficients with 9 frames of context; \
                     this model reads {} with {}",
                    f.coefficients,
                    f.n_context
                );
            }
            let ms = |samples: usize| samples as u64 * 1000 / u64::from(f.sample_rate);
            std::fs::create_dir_all(&args.output)
                .with_context(|| format!("cannot create {}", args.output.display()))?;
            let variables = tf_layout::to_tensorflow(&file.tensors)?;
            let mut floats: Vec<(String, tf_layout::TfTensor)> = variables.into_iter().collect();
            floats.sort_by(|a, b| a.0.cmp(&b.0));
            let prefix = checkpoint::write_checkpoint(
                &args.output,
                &args.checkpoint_name,
                &floats,
                &[("global_step".to_owned(), 0)],
            )?;
            let alphabet = args.output.join("alphabet.txt");
            io::write_file_atomic(&alphabet, &[config.alphabet().to_file_text().as_bytes()])
                .with_context(|| format!("cannot write {}", alphabet.display()))?;
            // As DeepSpeech's training writes it, so that the folder says what it was made with.
            let flags = format!(
                "--alphabet_config_path=alphabet.txt\n--n_hidden={}\n--relu_clip={}\n\
                 --audio_sample_rate={}\n--feature_win_len={}\n--feature_win_step={}\n",
                config.n_hidden,
                config.relu_clip,
                f.sample_rate,
                ms(f.window),
                ms(f.step)
            );
            let flags_file = args.output.join("flags.txt");
            io::write_file_atomic(&flags_file, &[flags.as_bytes()])
                .with_context(|| format!("cannot write {}", flags_file.display()))?;
            println!(
                "wrote the TensorFlow checkpoint {} and {}; export it with DeepSpeech 0.9:\n  \
                 python DeepSpeech.py --checkpoint_dir {} --alphabet_config_path {} --n_hidden {} \
                 --relu_clip {} --audio_sample_rate {} --feature_win_len {} --feature_win_step {} \
                 --export_dir EXPORT_DIR [--export_tflite]",
                prefix.display(),
                alphabet.display(),
                args.output.display(),
                alphabet.display(),
                config.n_hidden,
                config.relu_clip,
                f.sample_rate,
                ms(f.window),
                ms(f.step)
            );
        }
    }
    Ok(())
}
