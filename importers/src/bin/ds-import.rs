//! `ds-import <corpus> <source> <target_dir>`: Common Voice, LibriSpeech, a plain folder or the
//! game Drascula's speech to DeepSpeech CSVs and 16 kHz mono WAVs. `ds-import --help` explains
//! every option.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use deepspeech_core::Alphabet;
use deepspeech_importers::{Corpus, Options, import};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CorpusArg {
    /// Common Voice: {train,dev,test,validated,other}.tsv + clips/*.mp3, or the first release's
    /// cv-valid-*.csv / cv-other-*.csv
    Cv,
    /// LibriSpeech: <split>/<speaker>/<chapter>/*.trans.txt + *.flac (one CSV per split folder)
    Librispeech,
    /// Any folder: every audio file with a same-stem .txt transcript (one CSV named after the folder)
    Folder,
    /// The game Drascula's English speech: drascula.dat + *.ALS (e.g.
    /// /usr/share/scummvm/drascula/en; train.csv, and dev.csv of four held-out characters)
    Drascula,
}

/// Imports a speech corpus as DeepSpeech training CSVs (wav_filename,wav_filesize,transcript)
/// and 16 kHz mono 16-bit WAVs in TARGET_DIR/clips/. Rows that cannot be used are listed with
/// their reason in TARGET_DIR/skipped.tsv. Interrupted imports resume: complete WAVs are reused.
#[derive(Debug, Parser)]
#[command(name = "ds-import", version)]
struct Args {
    /// The corpus layout.
    #[arg(value_enum)]
    corpus: CorpusArg,
    /// The corpus folder (extracted archive).
    source: PathBuf,
    /// Where the CSVs, clips/ and skipped.tsv are written.
    target_dir: PathBuf,
    /// Skip clips longer than this many seconds.
    #[arg(long = "max_secs", default_value_t = 10.0)]
    max_secs: f64,
    /// Clips decoded in parallel (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Spell numbers out in English words instead of skipping transcripts with digits.
    #[arg(long = "spell_numbers")]
    spell_numbers: bool,
    /// Only these CSVs, comma-separated split names (e.g. train,dev,test or dev-clean).
    #[arg(long, value_delimiter = ',')]
    splits: Option<Vec<String>>,
    /// The alphabet file transcripts must fit (default: DeepSpeech's English a-z, ', space).
    #[arg(long = "alphabet_config_path")]
    alphabet: Option<PathBuf>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    deepspeech_core::cli::restore_default_sigpipe();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ds-import: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut options = Options {
        max_secs: args.max_secs,
        spell_numbers: args.spell_numbers,
        splits: args.splits,
        progress: !args.quiet,
        ..Options::default()
    };
    if let Some(jobs) = args.jobs {
        anyhow::ensure!(jobs > 0, "--jobs must be at least 1");
        options.jobs = jobs;
    }
    anyhow::ensure!(args.max_secs > 0.0, "--max_secs must be positive");
    if let Some(path) = &args.alphabet {
        options.alphabet = Alphabet::from_file(path)
            .with_context(|| format!("cannot load the alphabet {}", path.display()))?;
    }
    let corpus = match args.corpus {
        CorpusArg::Cv => Corpus::CommonVoice,
        CorpusArg::Librispeech => Corpus::LibriSpeech,
        CorpusArg::Folder => Corpus::Folder,
        CorpusArg::Drascula => Corpus::Drascula,
    };
    let summary = import(corpus, &args.source, &args.target_dir, &options)?;
    if !args.quiet {
        print!("{summary}");
    }
    Ok(())
}
