//! `ds-lm`: build a word n-gram language model (interpolated modified Kneser-Ney, as KenLM's
//! `lmplz` estimates it) from plain text and write it as an ARPA file and/or a binary scorer
//! file or a DeepSpeech `.scorer` package; or convert an existing ARPA file (e.g. from `lmplz`)
//! into either, as DeepSpeech's `generate_scorer_package` did.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use deepspeech_core::Alphabet;
use deepspeech_core::lm::binary::{ScorerContents, ScorerFile};
use deepspeech_core::lm::formats::deepspeech_scorer::{ScorerPackage, write_package};
use deepspeech_core::lm::formats::kenlm::write::NgramTables;
use deepspeech_core::lm::kneser_ney::{Corpus, DEFAULT_FALLBACK, KnConfig, Normalizer, estimate};
use deepspeech_core::lm::{ArpaModel, DEFAULT_ALPHA, DEFAULT_BETA, LanguageModel};

/// Build an n-gram language model from text files (one sentence per line) as KenLM's `lmplz`
/// does: interpolated modified Kneser-Ney with `lmplz`'s discounts, pruning and `<s>`/`</s>`
/// handling. Text is lower-cased and reduced to the alphabet: other letters and digits are
/// dropped, other characters separate words, apostrophes around words are removed.
///
/// Outputs: `--arpa` (ARPA text), `--scorer` (the binary scorer file the decoder maps:
/// n-grams, vocabulary trie, default alpha/beta, checksum) and/or `--scorer_out_deepspeech` (a
/// DeepSpeech/Coqui STT `.scorer` package); at least one is required.
///
/// Conversion: `ds-lm --arpa_in model.arpa --scorer out.scorer` turns an existing ARPA file
/// (e.g. from KenLM's `lmplz`) into a scorer file, as DeepSpeech's `generate_scorer_package` did;
/// `--scorer_out_deepspeech` makes a package DeepSpeech's runtimes read.
#[derive(Parser, Debug)]
#[command(name = "ds-lm", version)]
struct Args {
    /// Training text (repeat for several files).
    #[arg(long, required_unless_present = "arpa_in")]
    text: Vec<PathBuf>,

    /// Convert this ARPA file into a scorer file (needs --scorer) instead of estimating a model
    /// from text.
    #[arg(long = "arpa_in", conflicts_with_all = ["text", "arpa", "prune", "top_k", "discount_fallback"])]
    arpa_in: Option<PathBuf>,

    /// Highest n-gram order.
    #[arg(long, default_value_t = 5)]
    order: usize,

    /// Write the model here in ARPA format.
    #[arg(long)]
    arpa: Option<PathBuf>,

    /// Write the model here as a binary scorer file (see `deepspeech_core::lm::binary`).
    #[arg(long)]
    scorer: Option<PathBuf>,

    /// Write the model here as a DeepSpeech / Coqui STT `.scorer` package: a KenLM binary
    /// (probing hash tables, which DeepSpeech's generate_scorer_package also accepts) followed by
    /// DeepSpeech's header and its dictionary of the words the alphabet (--alphabet) spells.
    /// DeepSpeech 0.9's and Coqui STT's runtimes load it, as do ours.
    #[arg(long = "scorer_out_deepspeech", value_name = "FILE.scorer")]
    scorer_out_deepspeech: Option<PathBuf>,

    /// Language model weight stored in the scorer file (DeepSpeech's default).
    #[arg(long = "lm_alpha", default_value_t = DEFAULT_ALPHA)]
    lm_alpha: f32,

    /// Word insertion bonus stored in the scorer file (DeepSpeech's default).
    #[arg(long = "lm_beta", default_value_t = DEFAULT_BETA)]
    lm_beta: f32,

    /// Raw-count pruning thresholds per order from unigrams, as `lmplz --prune` (e.g. `0 0 1`
    /// drops trigrams and above seen once); the last value repeats for higher orders; unigrams
    /// cannot be pruned.
    #[arg(long, num_args = 1..)]
    prune: Vec<u64>,

    /// Keep only the k most frequent words; the others become `<unk>` before counting.
    #[arg(long = "top_k")]
    top_k: Option<usize>,

    /// Alphabet file (DeepSpeech format); DeepSpeech's English alphabet when absent. It
    /// normalises the text and spells a `.scorer` package's dictionary.
    #[arg(long)]
    alphabet: Option<PathBuf>,

    /// Use these discounts (D1 D2 D3+; default 0.5 1 1.5; missing values repeat the last) for
    /// orders whose closed-form Kneser-Ney discounts fail (tiny or artificial corpora).
    #[arg(long = "discount_fallback", num_args = 0..=3)]
    discount_fallback: Option<Vec<f32>>,
}

/// Size of a written file, for the summary.
fn size(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) => format!("{} bytes ({:.2} MB)", m.len(), m.len() as f64 / 1e6),
        Err(e) => format!("size unknown ({e})"),
    }
}

/// Writes `contents` as a scorer file, reopens it to check it, and reports.
fn write_scorer(contents: &ScorerContents, path: &Path, start: Instant) -> Result<()> {
    contents.write(path)?;
    let check = ScorerFile::open(path)?;
    println!(
        "wrote scorer {} (order {}, {} words, alpha {}, beta {}): {} in {:.1} s",
        path.display(),
        check.order(),
        contents.vocab.len(),
        check.alpha(),
        check.beta(),
        size(path),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes `contents` as a DeepSpeech `.scorer` package, reopens it to check it, and reports.
fn write_deepspeech_package(
    contents: &ScorerContents,
    alphabet: &Alphabet,
    path: &Path,
    start: Instant,
) -> Result<()> {
    let tables = NgramTables {
        vocab: &contents.vocab,
        ngrams: &contents.ngrams,
    };
    write_package(path, &tables, alphabet, contents.alpha, contents.beta)?;
    let check = ScorerPackage::open(path)?;
    println!(
        "wrote DeepSpeech scorer package {} (KenLM {}, n-grams {:?}, dictionary of {} states, \
         alpha {}, beta {}): {} in {:.1} s",
        path.display(),
        check.lm.model_type().name(),
        check.lm.counts(),
        check.dictionary.num_states(),
        check.alpha,
        check.beta,
        size(path),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> Result<()> {
    deepspeech_core::cli::restore_default_sigpipe();
    let args = Args::parse();
    let start = Instant::now();
    if !args.lm_alpha.is_finite() || !args.lm_beta.is_finite() {
        bail!("--lm_alpha and --lm_beta must be finite numbers");
    }
    let alphabet = match &args.alphabet {
        Some(path) => Alphabet::from_file(path)?,
        None => Alphabet::english(),
    };
    if let Some(arpa_in) = &args.arpa_in {
        if args.scorer.is_none() && args.scorer_out_deepspeech.is_none() {
            bail!("--arpa_in needs --scorer and/or --scorer_out_deepspeech: the file to write");
        }
        let model = ArpaModel::from_file(arpa_in)?;
        println!(
            "read {}: order {}, n-grams {:?}, {}",
            arpa_in.display(),
            model.order(),
            model.counts(),
            size(arpa_in)
        );
        let contents = ScorerContents::from_arpa(&model, args.lm_alpha, args.lm_beta);
        drop(model);
        if let Some(scorer) = &args.scorer {
            write_scorer(&contents, scorer, start)?;
        }
        if let Some(package) = &args.scorer_out_deepspeech {
            write_deepspeech_package(&contents, &alphabet, package, start)?;
        }
        return Ok(());
    }
    if args.arpa.is_none() && args.scorer.is_none() && args.scorer_out_deepspeech.is_none() {
        bail!("nothing to write: give --arpa, --scorer and/or --scorer_out_deepspeech");
    }
    let normalizer = Normalizer::new(alphabet.clone());
    let mut corpus = Corpus::new();
    for path in &args.text {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        corpus.add_text(&String::from_utf8_lossy(&bytes), &normalizer);
    }
    if corpus.sentences() == 0 {
        bail!("no sentence left in the text after normalisation");
    }
    println!(
        "text: {} sentences, {} words, vocabulary {}",
        corpus.sentences(),
        corpus.tokens(),
        corpus.vocabulary_size()
    );
    if let Some(k) = args.top_k {
        let dropped = corpus.limit_vocabulary(k)?;
        println!("top_k {k}: {dropped} rarer words became <unk>");
    }
    let discount_fallback = match args.discount_fallback.as_deref() {
        None => None,
        Some([]) => Some(DEFAULT_FALLBACK),
        Some(given) => {
            let last = *given.last().expect("non-empty");
            Some([0, 1, 2].map(|i| given.get(i).copied().unwrap_or(last)))
        }
    };
    let config = KnConfig {
        order: args.order,
        prune: args.prune.clone(),
        discount_fallback,
    };
    let model = estimate(&corpus, &config)?;

    println!("order  n-grams (kept/total)  n1 n2 n3 n4  D1 D2 D3+");
    for (k, s) in model.stats().iter().enumerate() {
        let c = s.count_of_counts;
        let d = s.discount.amount;
        println!(
            "{:>5}  {:>10}/{:<10}  {} {} {} {}  {:.4} {:.4} {:.4}{}",
            k + 1,
            s.kept,
            s.ngrams,
            c[1],
            c[2],
            c[3],
            c[4],
            d[1],
            d[2],
            d[3],
            if s.fallback { "  (fallback)" } else { "" }
        );
    }

    if let Some(arpa) = &args.arpa {
        // Atomically, as every file here: a run killed while writing leaves the old file.
        deepspeech_core::model::io::write_atomic_with(arpa, |out| model.write_arpa(out))
            .with_context(|| format!("cannot write {}", arpa.display()))?;
        println!(
            "wrote ARPA {}: {} in {:.1} s",
            arpa.display(),
            size(arpa),
            start.elapsed().as_secs_f64()
        );
    }
    if args.scorer.is_some() || args.scorer_out_deepspeech.is_some() {
        let contents = ScorerContents::from_estimated(&model, args.lm_alpha, args.lm_beta);
        if let Some(scorer) = &args.scorer {
            write_scorer(&contents, scorer, start)?;
        }
        if let Some(package) = &args.scorer_out_deepspeech {
            write_deepspeech_package(&contents, &alphabet, package, start)?;
        }
    }
    Ok(())
}
