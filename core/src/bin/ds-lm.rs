//! `ds-lm`: build a word n-gram language model (interpolated modified Kneser-Ney, as KenLM's
//! `lmplz` estimates it) from plain text and write it as an ARPA file.

use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use deepspeech_core::Alphabet;
use deepspeech_core::lm::kneser_ney::{Corpus, DEFAULT_FALLBACK, KnConfig, Normalizer, estimate};

/// Build an n-gram language model from text files (one sentence per line) as KenLM's `lmplz`
/// does: interpolated modified Kneser-Ney with `lmplz`'s discounts, pruning and `<s>`/`</s>`
/// handling. Text is lower-cased and reduced to the alphabet: other letters and digits are
/// dropped, other characters separate words, apostrophes around words are removed.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Training text (repeat for several files).
    #[arg(long, required = true)]
    text: Vec<PathBuf>,

    /// Highest n-gram order.
    #[arg(long, default_value_t = 5)]
    order: usize,

    /// Write the model here in ARPA format.
    #[arg(long)]
    arpa: PathBuf,

    /// Raw-count pruning thresholds per order from unigrams, as `lmplz --prune` (e.g. `0 0 1`
    /// drops trigrams and above seen once); the last value repeats for higher orders; unigrams
    /// cannot be pruned.
    #[arg(long, num_args = 1..)]
    prune: Vec<u64>,

    /// Keep only the k most frequent words; the others become `<unk>` before counting.
    #[arg(long = "top_k")]
    top_k: Option<usize>,

    /// Alphabet file (DeepSpeech format); DeepSpeech's English alphabet when absent.
    #[arg(long)]
    alphabet: Option<PathBuf>,

    /// Use these discounts (D1 D2 D3+; default 0.5 1 1.5; missing values repeat the last) for
    /// orders whose closed-form Kneser-Ney discounts fail (tiny or artificial corpora).
    #[arg(long = "discount_fallback", num_args = 0..=3)]
    discount_fallback: Option<Vec<f32>>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let start = Instant::now();
    let alphabet = match &args.alphabet {
        Some(path) => Alphabet::from_file(path)?,
        None => Alphabet::english(),
    };
    let normalizer = Normalizer::new(alphabet);
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

    let file = std::fs::File::create(&args.arpa)
        .with_context(|| format!("cannot create {}", args.arpa.display()))?;
    let mut out = BufWriter::new(file);
    model
        .write_arpa(&mut out)
        .and_then(|()| std::io::Write::flush(&mut out))
        .with_context(|| format!("cannot write {}", args.arpa.display()))?;
    println!(
        "wrote {} in {:.1} s",
        args.arpa.display(),
        start.elapsed().as_secs_f64()
    );
    // TODO(lead): `--scorer out.scorer` (the binary scorer) belongs here once its format exists.
    Ok(())
}
