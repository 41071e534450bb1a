//! `ds-train`: train, resume, evaluate and export DeepSpeech models, with DeepSpeech.py's flags;
//! data-parallel across processes and machines under `mpirun`/`srun` when built with the
//! `distributed` feature.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Parser;
use deepspeech_core::Alphabet;
use deepspeech_core::decoder::HotWords;
use deepspeech_core::train::augment::Augmentation;
use deepspeech_core::train::distributed::{self, Collective, Single};
use deepspeech_core::train::evaluate::{DecodeOptions, load_scorer};
use deepspeech_core::train::trainer::{resumable, stored_n_hidden};
use deepspeech_core::train::{TrainOptions, run_with};

/// Train a DeepSpeech acoustic model on DeepSpeech CSVs (wav_filename,wav_filesize,transcript),
/// checkpointing atomically so an interrupted run resumes exactly where it stopped; evaluate it
/// (WER/CER) and export it as one self-describing .safetensors file.
#[derive(Parser, Debug)]
#[command(name = "ds-train", version, rename_all = "snake_case")]
struct Args {
    /// Comma-separated training CSVs. Without them, only --test_files are evaluated (from
    /// --checkpoint_dir or --load_checkpoint_dir).
    #[arg(long, value_delimiter = ',')]
    train_files: Vec<PathBuf>,
    /// Comma-separated dev CSVs: dev loss after each epoch picks the best checkpoint and drives
    /// early stopping and learning-rate reduction.
    #[arg(long, value_delimiter = ',')]
    dev_files: Vec<PathBuf>,
    /// Comma-separated test CSVs, evaluated after training (WER, CER, best/median/worst samples).
    #[arg(long, value_delimiter = ',')]
    test_files: Vec<PathBuf>,
    /// Samples per training batch; per rank under mpirun/srun (N ranks train on batches of N x
    /// this many samples).
    #[arg(long, default_value_t = 1)]
    train_batch_size: usize,
    /// Samples per dev batch.
    #[arg(long, default_value_t = 1)]
    dev_batch_size: usize,
    /// Samples per test batch.
    #[arg(long, default_value_t = 1)]
    test_batch_size: usize,
    /// Total epochs (a resumed run counts those already done).
    #[arg(long, default_value_t = 75)]
    epochs: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 0.001)]
    learning_rate: f64,
    /// Dropout rate of the dense layers 1, 2, 3 and 5.
    #[arg(long, default_value_t = 0.05)]
    dropout_rate: f32,
    /// Width of the dense layers and of the LSTM. Default: the width of the checkpoint being
    /// resumed, else of the --load_checkpoint_dir model, else 2048.
    #[arg(long)]
    n_hidden: Option<usize>,
    /// DeepSpeech alphabet file (one symbol per line). Default: space, a-z, apostrophe.
    #[arg(long)]
    alphabet_config_path: Option<PathBuf>,
    /// Folder for checkpoints (last.safetensors, best.safetensors, history.csv). An existing
    /// last.safetensors there is resumed exactly: weights, optimiser, epoch, step, RNG.
    #[arg(long)]
    checkpoint_dir: Option<PathBuf>,
    /// Seconds between mid-epoch checkpoints (0: after every step). Epoch ends always checkpoint.
    #[arg(long, default_value_t = 600.0)]
    checkpoint_secs: f64,
    /// Export the trained model (best dev checkpoint if any) to <dir>/model.safetensors.
    #[arg(long)]
    export_dir: Option<PathBuf>,
    /// Export weights in float16 (half the size).
    #[arg(long)]
    export_f16: bool,
    /// Start from this model (exported .safetensors file, or a folder with model.safetensors or
    /// checkpoints): fine-tuning and transfer learning.
    #[arg(long)]
    load_checkpoint_dir: Option<PathBuf>,
    /// Re-initialise this many layers counted from the output when loading with
    /// --load_checkpoint_dir (1 = output layer, e.g. for a new alphabet).
    #[arg(long, default_value_t = 0)]
    drop_source_layers: usize,
    /// Let --load_checkpoint_dir load a model narrower than --n_hidden: its units keep their
    /// weights, the new units start fresh and every weight from a new unit to an old one starts
    /// at zero, so the wider model begins where the narrow one was (up to float rounding). Only
    /// the width may differ from the source.
    #[arg(long)]
    widen_source: bool,
    /// Stop after this many epochs without dev-loss improvement (0: never).
    #[arg(long, default_value_t = 25)]
    es_epochs: usize,
    /// Minimum dev-loss decrease that counts as improvement.
    #[arg(long, default_value_t = 0.05)]
    es_min_delta: f64,
    /// Multiply the learning rate by --plateau_reduction after --plateau_epochs epochs without
    /// dev-loss improvement.
    #[arg(long)]
    reduce_lr_on_plateau: bool,
    /// Epochs without improvement that count as a plateau.
    #[arg(long, default_value_t = 10)]
    plateau_epochs: usize,
    /// Learning-rate factor on a plateau.
    #[arg(long, default_value_t = 0.1)]
    plateau_reduction: f64,
    /// Seed for weight initialisation, dropout and batch shuffling.
    #[arg(long, default_value_t = 4568)]
    seed: u64,
    /// Folder to cache computed features in, reused by later runs.
    #[arg(long)]
    feature_cache: Option<PathBuf>,
    /// Shuffle batch order every epoch (default: shortest batches first).
    #[arg(long)]
    shuffle_batches: bool,
    /// Stop after this many optimiser steps (quick experiments).
    #[arg(long)]
    max_steps: Option<u64>,
    /// Samples shown per section of the test report.
    #[arg(long, default_value_t = 5)]
    report_count: usize,
    /// External scorer (word n-gram language model, an ARPA file for now) for decoding the test
    /// set: each completed word adds lm_alpha x ln P(word | context) + lm_beta, and words are
    /// restricted to its vocabulary. Tune the weights for it with ds-tune.
    #[arg(long, alias = "scorer_path")]
    scorer: Option<PathBuf>,
    /// Language model weight, overriding the scorer's (DeepSpeech's default 0.931289).
    #[arg(long)]
    lm_alpha: Option<f32>,
    /// Word insertion bonus, overriding the scorer's (DeepSpeech's default 1.183414).
    #[arg(long)]
    lm_beta: Option<f32>,
    /// Beam width of the CTC beam search used on the test set. 0 or 1 without --scorer decodes
    /// greedily (best path); with a scorer it must be at least 1.
    #[arg(long, default_value_t = 1024)]
    beam_width: usize,
    /// Beam search: per frame, keep the most likely characters until their probabilities sum to
    /// this (1.0: keep all).
    #[arg(long, default_value_t = 1.0)]
    cutoff_prob: f64,
    /// Beam search: keep at most this many characters per frame (only when --cutoff_prob < 1).
    #[arg(long, default_value_t = 300)]
    cutoff_top_n: usize,
    /// Hot-words for the test decoding, "word:boost,word:boost" (a positive boost favours the
    /// word, a negative one avoids it; added to its language-model log-probability, so only with
    /// --scorer, as in DeepSpeech).
    #[arg(long, default_value = "")]
    hot_words: String,
    /// On-the-fly training augmentation, repeatable, applied in the order given (DeepSpeech
    /// 0.9's syntax): NAME[KEY=VALUE,...], VALUE a number, a uniform range a:b or a normal
    /// mean~stddev; every NAME takes p (probability per sample, default 1). Signal:
    /// volume[dbfs], noise[snr,color=white|pink|brown|any], overlay[source=DIR_OR_CSV,snr,layers],
    /// reverb[delay (ms),decay (dB)], resample[rate], tempo|speed[factor], pitch[pitch]. Features:
    /// frequency_mask[n,size], time_mask[n,size], add[stddev], multiply[stddev]. Example:
    /// --augment "noise[p=0.5,snr=5:25,color=any]" --augment "resample[p=0.3,rate=8000]"
    #[arg(long, value_name = "SPEC", long_help = augment_help())]
    augment: Vec<Augmentation>,
    /// Compute device: cpu, cuda or cuda:N (default: CUDA when built with it and present).
    #[arg(long)]
    device: Option<String>,
    /// On a GPU, run the matrix products on TF32 tensor cores (f32 storage and accumulation,
    /// 10-bit mantissa inputs): several times faster; see README's CUDA section.
    #[arg(long)]
    tf32: bool,
    /// No progress bars or per-epoch lines.
    #[arg(long)]
    quiet: bool,
    /// When stderr is not a terminal (a log file, CI), print a progress line (steps/s, loss,
    /// time left in the epoch) after every this many steps, and at least once a minute.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    log_steps: u64,
}

/// Size of a checkpoint (weights and two Adam moments, f32) of a network this wide.
fn checkpoint_megabytes(n_hidden: usize, alphabet: &Alphabet) -> usize {
    let config = deepspeech_core::model::Config::new(n_hidden, alphabet);
    let weights: usize = config
        .tensor_shapes()
        .iter()
        .map(|(_, shape)| shape.iter().product::<usize>())
        .sum();
    weights * 3 * 4 / 1_000_000
}

/// `--augment`'s long help: the syntax, then every augmentation's defaults.
fn augment_help() -> String {
    format!(
        "On-the-fly training augmentation, repeatable, applied in the order given (DeepSpeech \
         0.9's syntax): NAME[KEY=VALUE,...], VALUE a number, a uniform range a:b or a normal \
         mean~stddev (clipped to 2 stddev); every NAME takes p, its probability per sample \
         (default 1). Signal augmentations (on the 16 kHz samples): volume, noise \
         (color=white|pink|brown|any), overlay (source=DIR_OR_CSV), reverb (delay in ms, decay \
         in dB), resample, tempo|speed, pitch. Feature augmentations (on the MFCCs): \
         frequency_mask, time_mask, add, multiply.\n\nDefaults of the parameters left out:\n  {}\n\n\
         Example: --augment \"noise[p=0.5,snr=5:25,color=any]\" --augment \
         \"resample[p=0.3,rate=8000]\"",
        deepspeech_core::train::augment::DEFAULT_SPECS.join("\n  ")
    )
}

fn main() {
    deepspeech_core::cli::restore_default_sigpipe();
    let args = Args::parse();
    #[cfg(feature = "distributed")]
    let mpi = distributed::Mpi::init_if_launched();
    #[cfg(feature = "distributed")]
    let comm: &dyn Collective = match &mpi {
        Some(mpi) => mpi,
        None => &Single,
    };
    #[cfg(not(feature = "distributed"))]
    let comm: &dyn Collective = &Single;
    if let Err(e) = run_cli(args, comm) {
        if comm.size() > 1 {
            eprintln!("ds-train: rank {}: error: {e:#}", comm.rank());
        } else {
            eprintln!("ds-train: error: {e:#}");
        }
        // The other ranks would wait for this one forever: end the whole job.
        #[cfg(feature = "distributed")]
        if let Some(mpi) = &mpi
            && mpi.size() > 1
        {
            mpi.abort(1);
        }
        std::process::exit(1);
    }
}

/// The test decoder from the scorer and beam flags.
fn decode_options(args: &Args) -> Result<DecodeOptions> {
    let mut decoder = DecodeOptions::default();
    decoder.beam.beam_width = args.beam_width;
    decoder.beam.cutoff_prob = args.cutoff_prob;
    decoder.beam.cutoff_top_n = args.cutoff_top_n;
    decoder.hot_words = HotWords::parse(&args.hot_words).context("--hot_words")?;
    match &args.scorer {
        Some(path) => {
            let mut scorer = load_scorer(path)
                .with_context(|| format!("cannot load the scorer {}", path.display()))?;
            scorer.alpha = args.lm_alpha.unwrap_or(scorer.alpha);
            scorer.beta = args.lm_beta.unwrap_or(scorer.beta);
            decoder.scorer = Some(scorer);
        }
        None if args.lm_alpha.is_some() || args.lm_beta.is_some() => {
            eprintln!("ds-train: warning: --lm_alpha and --lm_beta have no effect without --scorer")
        }
        None if !decoder.hot_words.is_empty() => {
            eprintln!("ds-train: warning: --hot_words have no effect without --scorer")
        }
        None => {}
    }
    decoder.validate()?;
    Ok(decoder)
}

fn run_cli(args: Args, comm: &dyn Collective) -> Result<()> {
    if cfg!(not(feature = "distributed")) && distributed::launched_by_mpi() {
        bail!(
            "started by mpirun/srun, but this ds-train was built without the `distributed` \
             feature: every process would train alone into the same checkpoints (rebuild with \
             --features distributed)"
        );
    }
    if comm.size() > 1 && comm.rank() == 0 {
        eprintln!("Distributed: {} ranks", comm.size());
    }
    if args.train_files.is_empty() && args.test_files.is_empty() && args.export_dir.is_none() {
        bail!("nothing to do: give --train_files, --test_files and/or --export_dir");
    }
    let alphabet = match &args.alphabet_config_path {
        Some(p) => Alphabet::from_file(p)?,
        None => Alphabet::english(),
    };
    let device =
        deepspeech_core::device::select(args.device.as_deref()).map_err(anyhow::Error::msg)?;
    deepspeech_core::device::set_tf32(args.tf32).map_err(anyhow::Error::msg)?;
    let mut options = TrainOptions::new(alphabet);
    options.decoder = decode_options(&args)?;
    options.train_files = args.train_files;
    options.dev_files = args.dev_files;
    options.test_files = args.test_files.clone();
    options.train_batch_size = args.train_batch_size;
    options.dev_batch_size = args.dev_batch_size;
    options.test_batch_size = args.test_batch_size;
    options.epochs = args.epochs;
    options.learning_rate = args.learning_rate;
    options.dropout_rate = args.dropout_rate;
    options.n_hidden = match args.n_hidden {
        Some(width) => width,
        None if args.widen_source && resumable(args.checkpoint_dir.as_deref()).is_none() => {
            bail!("--widen_source needs --n_hidden: the width to widen the source to")
        }
        None => stored_n_hidden(
            args.checkpoint_dir.as_deref(),
            args.load_checkpoint_dir.as_deref(),
        )?,
    };
    let fresh =
        resumable(args.checkpoint_dir.as_deref()).is_none() && args.load_checkpoint_dir.is_none();
    if args.n_hidden.is_none()
        && fresh
        && device.is_cpu()
        && !options.train_files.is_empty()
        && options.n_hidden >= 1024
    {
        eprintln!(
            "ds-train: warning: training DeepSpeech's full-size network (--n_hidden {}) on the \
             CPU: each checkpoint is about {} MB and each step takes seconds. For a small data \
             set or a first try, --n_hidden 256 to 512 trains many times faster.",
            options.n_hidden,
            checkpoint_megabytes(options.n_hidden, &options.alphabet)
        );
    }
    options.checkpoint_dir = args.checkpoint_dir;
    options.checkpoint_secs = args.checkpoint_secs;
    options.export_dir = args.export_dir;
    options.export_f16 = args.export_f16;
    options.load_checkpoint_dir = args.load_checkpoint_dir;
    options.drop_source_layers = args.drop_source_layers;
    options.widen_source = args.widen_source;
    options.es_epochs = args.es_epochs;
    options.es_min_delta = args.es_min_delta;
    options.reduce_lr_on_plateau = args.reduce_lr_on_plateau;
    options.plateau_epochs = args.plateau_epochs;
    options.plateau_reduction = args.plateau_reduction;
    options.seed = args.seed;
    options.feature_cache = args.feature_cache;
    options.shuffle_batches = args.shuffle_batches;
    options.max_steps = args.max_steps;
    options.report_count = args.report_count;
    options.augmentations = args.augment;
    options.progress = !args.quiet;
    options.log_steps = args.log_steps;
    options.device = device;

    let summary = run_with(&options, comm).context("training failed")?;
    if comm.rank() != 0 {
        // Rank 0 reports.
        return Ok(());
    }
    if !summary.skipped.is_empty() {
        eprintln!("Skipped {} row(s):", summary.skipped.len());
        for s in &summary.skipped {
            eprintln!("  {s}");
        }
    }
    if let Some(last) = summary.history.last() {
        println!(
            "Trained {} epoch(s), {} step(s); last train loss {:.6}{}",
            summary.history.len(),
            summary.steps,
            last.train_loss,
            last.dev_loss
                .map_or(String::new(), |d| format!(", dev loss {d:.6}"))
        );
    }
    if let Some(stop) = &summary.stopped_early {
        println!(
            "Stopped by --max_steps after {} step(s) this run ({} in total): epoch {}, batch \
             {}/{}, train loss so far {:.6}",
            summary.steps_this_run,
            summary.steps,
            stop.epoch,
            stop.batches_done,
            stop.batches,
            stop.train_loss
        );
    }
    let evaluates = summary.exported.is_some() || summary.test.is_some();
    if evaluates {
        match &summary.evaluated {
            Some(best) => println!(
                "Weights exported and tested: the best dev checkpoint {}",
                best.display()
            ),
            None => println!("Weights exported and tested: the last ones (no best dev checkpoint)"),
        }
    }
    if let Some(path) = &summary.exported {
        println!("Exported model to {}", path.display());
    }
    if let Some(report) = &summary.test {
        let names: Vec<String> = args
            .test_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        print!("{}", report.render(&names.join(","), args.report_count));
    }
    Ok(())
}
