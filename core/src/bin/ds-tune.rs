//! `ds-tune`: find the language-model weights (lm_alpha, lm_beta) that give the lowest WER on a
//! dev set, as DeepSpeech's `lm_optimizer.py` does.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use deepspeech_core::decoder::HotWords;
use deepspeech_core::train::evaluate::load_scorer;
use deepspeech_core::train::tune::{SearchMethod, Trial, TuneOptions, run};

/// Tune the scorer's weights for an acoustic model: run the model ONCE over a dev set
/// (DeepSpeech CSVs), then decode it with the beam search and the scorer for every trial
/// (lm_alpha, lm_beta) in [0, --lm_alpha_max] x [0, --lm_beta_max], on all cores, printing the
/// WER and CER of each trial and the best pair. Pass that pair to ds-train (--lm_alpha,
/// --lm_beta) or to the decoder.
#[derive(Parser, Debug)]
#[command(name = "ds-tune", version, rename_all = "snake_case")]
struct Args {
    /// Comma-separated dev CSVs (wav_filename,wav_filesize,transcript) to tune on.
    #[arg(long, value_delimiter = ',', required = true)]
    test_files: Vec<PathBuf>,
    /// Samples per batch when running the acoustic model.
    #[arg(long, default_value_t = 1)]
    test_batch_size: usize,
    /// Checkpoint folder of ds-train: best.safetensors, else last.safetensors.
    #[arg(long, group = "source")]
    checkpoint_dir: Option<PathBuf>,
    /// An exported model (.safetensors file, or a folder holding model.safetensors) or a
    /// checkpoint folder.
    #[arg(long, group = "source", alias = "model")]
    load_checkpoint_dir: Option<PathBuf>,
    /// External scorer to tune (word n-gram language model, an ARPA file for now).
    #[arg(long, alias = "scorer_path")]
    scorer: PathBuf,
    /// Largest lm_alpha (language model weight) tried; the range starts at 0.
    #[arg(long, default_value_t = 5.0)]
    lm_alpha_max: f32,
    /// Largest lm_beta (word insertion bonus) tried; the range starts at 0.
    #[arg(long, default_value_t = 5.0)]
    lm_beta_max: f32,
    /// Number of trials. A grid uses floor(sqrt(n)) alphas by floor(n / floor(sqrt(n))) betas,
    /// both ends of each range included (4: 2 x 2, 12: 3 x 4, 25: 5 x 5).
    #[arg(long, default_value_t = 25)]
    n_trials: usize,
    /// How trial points are chosen: a regular grid, or uniformly at random from --seed.
    #[arg(long, value_enum, default_value_t = Search::Grid)]
    search: Search,
    /// Seed of the random search.
    #[arg(long, default_value_t = 4568)]
    seed: u64,
    /// Beam width of the CTC beam search. Every trial decodes the whole set, so a smaller beam
    /// (e.g. 100-256) makes tuning several times faster at a small cost in accuracy; use the
    /// width you will decode with for the final numbers.
    #[arg(long, default_value_t = 1024)]
    beam_width: usize,
    /// Per frame, keep the most likely characters until their probabilities sum to this (1.0:
    /// keep all).
    #[arg(long, default_value_t = 1.0)]
    cutoff_prob: f64,
    /// Keep at most this many characters per frame (only when --cutoff_prob < 1).
    #[arg(long, default_value_t = 300)]
    cutoff_top_n: usize,
    /// Hot-words applied in every trial, "word:boost,word:boost".
    #[arg(long, default_value = "")]
    hot_words: String,
    /// Folder to cache computed features in (shared with ds-train).
    #[arg(long)]
    feature_cache: Option<PathBuf>,
    /// Compute device of the acoustic model: cpu, cuda or cuda:N (default: CUDA when built
    /// with it and present). Decoding always runs on the CPU cores.
    #[arg(long)]
    device: Option<String>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

/// Trial selection.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Search {
    /// Regular grid.
    Grid,
    /// Uniformly random points.
    Random,
}

fn main() {
    deepspeech_core::cli::restore_default_sigpipe();
    if let Err(e) = run_cli(Args::parse()) {
        eprintln!("ds-tune: error: {e:#}");
        std::process::exit(1);
    }
}

fn tune_options(args: &Args) -> Result<TuneOptions> {
    let Some(model) = args
        .load_checkpoint_dir
        .clone()
        .or(args.checkpoint_dir.clone())
    else {
        bail!("no acoustic model: give --checkpoint_dir or --load_checkpoint_dir (--model)");
    };
    let scorer = load_scorer(&args.scorer)
        .with_context(|| format!("cannot load the scorer {}", args.scorer.display()))?;
    let mut options = TuneOptions::new(args.test_files.clone(), model, scorer);
    options.batch_size = args.test_batch_size;
    options.alpha_max = args.lm_alpha_max;
    options.beta_max = args.lm_beta_max;
    options.n_trials = args.n_trials;
    options.search = match args.search {
        Search::Grid => SearchMethod::Grid,
        Search::Random => SearchMethod::Random { seed: args.seed },
    };
    options.beam.beam_width = args.beam_width;
    options.beam.cutoff_prob = args.cutoff_prob;
    options.beam.cutoff_top_n = args.cutoff_top_n;
    options.hot_words = HotWords::parse(&args.hot_words).context("--hot_words")?;
    options.feature_cache = args.feature_cache.clone();
    options.progress = !args.quiet;
    options.device =
        deepspeech_core::device::select(args.device.as_deref()).map_err(anyhow::Error::msg)?;
    Ok(options)
}

fn trial_line(i: usize, n: usize, t: &Trial) -> String {
    format!(
        "Trial {}/{n}: lm_alpha={:.6}, lm_beta={:.6} - WER: {:.6}, CER: {:.6}",
        i + 1,
        t.alpha,
        t.beta,
        t.wer,
        t.cer
    )
}

fn run_cli(args: Args) -> Result<()> {
    let options = tune_options(&args)?;
    let n = deepspeech_core::train::tune::trial_points(
        options.n_trials,
        options.alpha_max,
        options.beta_max,
        options.search,
    )
    .len();
    let summary =
        run(&options, |i, t| println!("{}", trial_line(i, n, t))).context("tuning failed")?;
    if !summary.skipped.is_empty() {
        eprintln!("Skipped {} row(s):", summary.skipped.len());
        for s in &summary.skipped {
            eprintln!("  {s}");
        }
    }
    let best = summary.best;
    println!(
        "Best params: lm_alpha={} and lm_beta={} with WER={:.6} (CER={:.6}) over {} sample(s), \
         beam width {}",
        best.alpha, best.beta, best.wer, best.cer, summary.samples, options.beam.beam_width
    );
    Ok(())
}
