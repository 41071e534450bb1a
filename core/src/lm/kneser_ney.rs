//! Building a word n-gram language model from plain text, as KenLM's `lmplz` does: interpolated
//! modified Kneser-Ney smoothing (Heafield, Pouzyrevsky, Clark and Koehn 2013, "Scalable Modified
//! Kneser-Ney Language Model Estimation"; Chen and Goodman 1998), written as an ARPA file.
//!
//! The pipeline:
//!
//! 1. [`Normalizer`]: each input line is one sentence; it is lower-cased and reduced to the
//!    characters of an [`Alphabet`] (see [`Normalizer::normalize`] for the exact rules).
//! 2. [`Corpus`]: words get ids in order of first appearance (`<unk>` = 0, `<s>` = 1, `</s>` = 2,
//!    as in `lmplz`); [`Corpus::limit_vocabulary`] keeps the `k` most frequent words and turns the
//!    others into `<unk>`.
//! 3. [`estimate`]: every sentence is `<s> w1 … wn </s>`. The highest order keeps raw counts;
//!    lower orders get *adjusted* counts, the number of distinct words seen to their left
//!    (continuation counts), except n-grams that start with `<s>`, which keep raw counts (nothing
//!    can precede `<s>`). Per order, discounts `D1`, `D2`, `D3+` come from the counts of adjusted
//!    counts `n1..n4` ([`Discount::from_count_of_counts`]). Each n-gram gets
//!    `u(w | c) = (a(cw) − D(a(cw))) / Σ_x a(cx)` and each context the interpolation weight
//!    `γ(c) = (D1·N1(c·) + D2·N2(c·) + D3+·N3+(c·)) / Σ_x a(cx)`; then
//!    `p(w | c) = u(w | c) + γ(c)·p(w | c′)` with `c′` the context without its oldest word, and at
//!    the bottom `p(w) = u(w) + γ(ε) / |V|`, `|V|` counting every word, `</s>` and `<unk>` but not
//!    `<s>` (`lmplz`'s default `--interpolate_unigrams`). `<s>` gets probability 1 (log10 0), as
//!    in `lmplz`.
//! 4. The ARPA backoff of a context is `γ(c)` itself: an n-gram `cw` missing from the model has
//!    `u(w | c) = 0`, so `p(w | c) = γ(c)·p(w | c′)` is exactly what the ARPA backoff rule computes.
//!    [`EstimatedModel::log10_prob`] applies that rule to the in-memory tables.
//!
//! **Pruning** (`lmplz --prune`): thresholds per order (the last repeats for higher orders; they
//! must not decrease and the unigram threshold must be 0). An n-gram of order ≥ 2 whose *raw*
//! count is ≤ its order's threshold is left out of the model; its adjusted count still counts in
//! its context's denominator, and all of it goes to the context's backoff, so every context
//! still sums to one (`lmplz`'s "normalizer"). Discounts are computed before pruning.
//!
//! **Discount fallback** (`lmplz --discount_fallback`): when an order has no n-grams with adjusted
//! count 1, 2 or 3, or a discount falls outside `[0, k]`, estimation fails unless fallback
//! discounts are given (`lmplz`'s default: 0.5, 1, 1.5); that order then uses them.
//!
//! Differences from `lmplz`, all outside what `lmplz` accepts: a `<unk>` that appears in the
//! text (after [`Corpus::limit_vocabulary`]) is counted like a word and can be a context
//! (`lmplz` refuses `<unk>` in its input); arithmetic is `f64` where `lmplz` uses `f32` (the
//! discounts themselves are computed in `f32` exactly as `lmplz` does), so log10 probabilities
//! agree to about 1e-6.

use std::collections::HashMap;
use std::io::{self, Write};

use super::{LanguageModel, WordId};
use crate::alphabet::Alphabet;

/// Highest supported order.
pub const MAX_ORDER: usize = 7;
/// Id of `<unk>`.
pub const UNK: WordId = 0;
/// Id of the sentence start `<s>`.
pub const BOS: WordId = 1;
/// Id of the sentence end `</s>`.
pub const EOS: WordId = 2;

/// `lmplz --discount_fallback`'s default discounts for adjusted counts 1, 2 and 3+.
pub const DEFAULT_FALLBACK: [f32; 3] = [0.5, 1.0, 1.5];

/// Why a model could not be estimated.
#[derive(Debug, thiserror::Error)]
pub enum KnError {
    /// The order is outside 1..=[`MAX_ORDER`].
    #[error("order {0} is not supported (1 to {MAX_ORDER})")]
    BadOrder(usize),
    /// There is no sentence to learn from.
    #[error("the corpus holds no sentence (every line is empty after normalisation)")]
    EmptyCorpus,
    /// More pruning thresholds than orders.
    #[error("{given} pruning thresholds given for an order-{order} model")]
    TooManyThresholds {
        /// Number of thresholds.
        given: usize,
        /// Model order.
        order: usize,
    },
    /// Thresholds must not decrease (else a kept n-gram could lose its suffix).
    #[error("pruning thresholds must be non-decreasing, got {0:?}")]
    DecreasingThresholds(Vec<u64>),
    /// Unigram pruning is not implemented (as in `lmplz`).
    #[error("unigram pruning is not supported: the first pruning threshold must be 0, got {0}")]
    UnigramPruning(u64),
    /// A fallback discount is outside `[0, k]`.
    #[error("fallback discount D{k} = {value} is outside [0, {k}]")]
    BadFallback {
        /// The adjusted count (1, 2 or 3+).
        k: usize,
        /// The value given.
        value: f32,
    },
    /// The closed-form discounts failed and no fallback was given.
    #[error(
        "cannot estimate Kneser-Ney discounts for {order}-grams: {reason}; the corpus is too \
         small or artificial (use --discount_fallback to substitute fixed discounts)"
    )]
    BadDiscount {
        /// The order (1-based).
        order: usize,
        /// What went wrong.
        reason: String,
    },
    /// `top_k` of zero.
    #[error("the vocabulary limit must keep at least one word")]
    ZeroTopK,
}

/// Turns raw text into one normalised sentence per line over an alphabet.
#[derive(Debug, Clone)]
pub struct Normalizer {
    alphabet: Alphabet,
}

impl Normalizer {
    /// A normaliser for `alphabet`.
    pub fn new(alphabet: Alphabet) -> Self {
        Self { alphabet }
    }

    /// Normalises one line (one sentence):
    ///
    /// - characters are lower-cased (Unicode `to_lowercase`);
    /// - whitespace separates words;
    /// - a character of the alphabet is kept;
    /// - any other letter or digit (`char::is_alphanumeric`, e.g. `é`, `7`) is **dropped**, so a
    ///   word never splits in two (`café` → `caf`);
    /// - any other character (punctuation, symbols) **becomes a space** (`well-known` →
    ///   `well known`, `end.Next` → `end next`);
    /// - apostrophes at the start or end of a word are removed (quotation marks: `'tis` → `tis`,
    ///   `fathers'` → `fathers`), inner ones stay (`don't`);
    /// - words are joined by single spaces; the result may be empty.
    pub fn normalize(&self, line: &str) -> String {
        let mut spaced = String::with_capacity(line.len());
        for c in line.chars() {
            for lc in c.to_lowercase() {
                if lc.is_whitespace() {
                    spaced.push(' ');
                } else if self.alphabet.label(lc).is_some() {
                    spaced.push(lc);
                } else if lc.is_alphanumeric() {
                    // dropped
                } else {
                    spaced.push(' ');
                }
            }
        }
        let mut out = String::with_capacity(spaced.len());
        for word in spaced.split_whitespace() {
            let word = word.trim_matches('\'');
            if word.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        out
    }
}

/// Sentences as word ids, with the vocabulary.
#[derive(Debug, Clone)]
pub struct Corpus {
    words: Vec<String>,
    ids: HashMap<String, WordId>,
    sentences: Vec<Vec<WordId>>,
}

impl Default for Corpus {
    fn default() -> Self {
        Self::new()
    }
}

impl Corpus {
    /// An empty corpus whose vocabulary holds `<unk>`, `<s>` and `</s>`.
    pub fn new() -> Self {
        let words: Vec<String> = ["<unk>", "<s>", "</s>"].map(String::from).to_vec();
        let ids = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as WordId))
            .collect();
        Self {
            words,
            ids,
            sentences: Vec::new(),
        }
    }

    /// Adds one already-normalised sentence (words separated by whitespace). An empty sentence
    /// is skipped; a literal `<unk>` is the unknown word; literal `<s>` and `</s>` are skipped.
    pub fn add_sentence(&mut self, sentence: &str) {
        let mut ids = Vec::new();
        for word in sentence.split_whitespace() {
            let id = match self.ids.get(word) {
                Some(&id) => id,
                None => {
                    let id = self.words.len() as WordId;
                    self.words.push(word.to_owned());
                    self.ids.insert(word.to_owned(), id);
                    id
                }
            };
            if id != BOS && id != EOS {
                ids.push(id);
            }
        }
        if !ids.is_empty() {
            self.sentences.push(ids);
        }
    }

    /// Normalises every line of `text` with `normalizer` and adds it as a sentence.
    pub fn add_text(&mut self, text: &str, normalizer: &Normalizer) {
        for line in text.lines() {
            self.add_sentence(&normalizer.normalize(line));
        }
    }

    /// Number of sentences.
    pub fn sentences(&self) -> usize {
        self.sentences.len()
    }

    /// Number of word tokens (not counting `<s>` and `</s>`).
    pub fn tokens(&self) -> u64 {
        self.sentences.iter().map(|s| s.len() as u64).sum()
    }

    /// Number of distinct words in the text (not counting `<s>`, `</s>`, nor `<unk>` unless the
    /// text holds it).
    pub fn vocabulary_size(&self) -> usize {
        let unk_seen = self.sentences.iter().any(|s| s.contains(&UNK));
        self.words.len() - 3 + usize::from(unk_seen)
    }

    /// Keeps the `k` most frequent words (ties: first seen first) and turns every other word into
    /// `<unk>`. Returns how many distinct words were dropped.
    pub fn limit_vocabulary(&mut self, k: usize) -> Result<usize, KnError> {
        if k == 0 {
            return Err(KnError::ZeroTopK);
        }
        let mut freq = vec![0u64; self.words.len()];
        for s in &self.sentences {
            for &w in s {
                freq[w as usize] += 1;
            }
        }
        let mut candidates: Vec<WordId> = (3..self.words.len() as WordId).collect();
        if candidates.len() <= k {
            return Ok(0);
        }
        candidates.sort_by_key(|&w| (std::cmp::Reverse(freq[w as usize]), w));
        let mut keep = vec![false; self.words.len()];
        for &w in &candidates[..k] {
            keep[w as usize] = true;
        }
        let mut remap = vec![UNK; self.words.len()];
        let mut words: Vec<String> = self.words[..3].to_vec();
        for (i, r) in remap.iter_mut().enumerate().take(3) {
            *r = i as WordId;
        }
        for w in 3..self.words.len() {
            if keep[w] {
                remap[w] = words.len() as WordId;
                words.push(std::mem::take(&mut self.words[w]));
            }
        }
        let dropped = self.words.len() - words.len();
        for s in &mut self.sentences {
            for w in s.iter_mut() {
                *w = remap[*w as usize];
            }
        }
        self.ids = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as WordId))
            .collect();
        self.words = words;
        Ok(dropped)
    }
}

/// Kneser-Ney discounts of one order: `amount[k]` is subtracted from an adjusted count `k`
/// (`amount[3]` from every count ≥ 3; `amount[0] = 0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Discount {
    /// `[0, D1, D2, D3+]`.
    pub amount: [f32; 4],
}

impl Discount {
    /// Chen and Goodman's closed form (their eq. 26), computed in `f32` as `lmplz` does:
    /// `Y = n1 / (n1 + 2·n2)`, `D_k = k − (k+1)·Y·n_{k+1} / n_k` for k = 1, 2, 3, where `n[k]` is
    /// the number of n-grams with adjusted count exactly `k` (`n[0]` is ignored). Fails when
    /// `n1`, `n2` or `n3` is zero or a discount falls outside `[0, k]`.
    pub fn from_count_of_counts(n: &[u64; 5]) -> Result<Self, String> {
        if let Some(j) = (1..4).find(|&j| n[j] == 0) {
            return Err(format!("no n-grams have adjusted count {j}"));
        }
        let y = n[1] as f32 / (n[1] as f64 + 2.0 * n[2] as f64) as f32;
        let mut amount = [0.0f32; 4];
        for (j, a) in amount.iter_mut().enumerate().skip(1) {
            *a = j as f32 - (j + 1) as f32 * y * n[j + 1] as f32 / n[j] as f32;
            if !(0.0..=j as f32).contains(a) {
                return Err(format!("discount D{j} = {a} is outside [0, {j}]"));
            }
        }
        Ok(Self { amount })
    }

    /// Fixed discounts `[D1, D2, D3+]`, each checked to lie in `[0, k]`.
    pub fn fixed(d: [f32; 3]) -> Result<Self, KnError> {
        for (i, &value) in d.iter().enumerate() {
            if !(0.0..=(i + 1) as f32).contains(&value) {
                return Err(KnError::BadFallback { k: i + 1, value });
            }
        }
        Ok(Self {
            amount: [0.0, d[0], d[1], d[2]],
        })
    }

    /// The discount for an adjusted count.
    pub fn get(&self, count: u64) -> f64 {
        f64::from(self.amount[count.min(3) as usize])
    }
}

/// What to estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct KnConfig {
    /// Highest n-gram order (1..=[`MAX_ORDER`]).
    pub order: usize,
    /// `lmplz --prune`: raw-count thresholds per order starting at unigrams; the last one repeats
    /// for the remaining orders; empty means no pruning.
    pub prune: Vec<u64>,
    /// `lmplz --discount_fallback`: discounts `[D1, D2, D3+]` for orders whose closed-form
    /// estimate fails; `None` makes such a failure an error.
    pub discount_fallback: Option<[f32; 3]>,
}

impl Default for KnConfig {
    fn default() -> Self {
        Self {
            order: 3,
            prune: Vec::new(),
            discount_fallback: None,
        }
    }
}

/// Statistics of one order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderStats {
    /// Distinct n-grams before pruning.
    pub ngrams: u64,
    /// N-grams kept in the model.
    pub kept: u64,
    /// `count_of_counts[k]`: n-grams with adjusted count `k` (1..=4).
    pub count_of_counts: [u64; 5],
    /// The discounts used.
    pub discount: Discount,
    /// Whether the fallback discounts replaced the closed form.
    pub fallback: bool,
}

type Key = [WordId; MAX_ORDER];

fn key(words: &[WordId]) -> Key {
    let mut k = [WordId::MAX; MAX_ORDER];
    k[..words.len()].copy_from_slice(words);
    k
}

/// One order's n-grams during estimation, sorted by key.
struct Table {
    keys: Vec<Key>,
    raw: Vec<u64>,
    adjusted: Vec<u64>,
    pruned: Vec<bool>,
    /// `γ` of each n-gram as a context (`None`: not a context).
    gamma: Vec<Option<f64>>,
    prob: Vec<f64>,
}

impl Table {
    fn find(&self, k: &Key) -> Option<usize> {
        self.keys.binary_search(k).ok()
    }
}

/// One order of an estimated model: n-grams sorted by word ids, log10 probability and backoff.
#[derive(Debug, Clone)]
struct ModelOrder {
    keys: Vec<Key>,
    log10_prob: Vec<f32>,
    log10_backoff: Vec<f32>,
}

impl ModelOrder {
    fn find(&self, words: &[WordId]) -> Option<usize> {
        self.keys.binary_search(&key(words)).ok()
    }
}

/// An estimated (and possibly pruned) backoff model, as it would be written to an ARPA file.
#[derive(Debug, Clone)]
pub struct EstimatedModel {
    words: Vec<String>,
    ids: HashMap<String, WordId>,
    orders: Vec<ModelOrder>,
    stats: Vec<OrderStats>,
    sentences: usize,
    tokens: u64,
}

/// Counts the distinct `k`-grams of the padded sentences, sorted, with raw counts.
fn count_order(sentences: &[Vec<WordId>], k: usize) -> (Vec<Key>, Vec<u64>) {
    let mut grams: Vec<Key> = Vec::new();
    let mut padded: Vec<WordId> = Vec::new();
    for s in sentences {
        padded.clear();
        padded.push(BOS);
        padded.extend_from_slice(s);
        padded.push(EOS);
        for window in padded.windows(k) {
            if k == 1 && window[0] == BOS {
                continue;
            }
            grams.push(key(window));
        }
    }
    if k == 1 {
        grams.push(key(&[BOS]));
    }
    grams.sort_unstable();
    let mut keys: Vec<Key> = Vec::new();
    let mut raw: Vec<u64> = Vec::new();
    for g in grams {
        if keys.last() == Some(&g) {
            *raw.last_mut().expect("non-empty") += 1;
        } else {
            keys.push(g);
            raw.push(1);
        }
    }
    if k == 1 {
        // <unk> (first if absent from the text) and <s> (never predicted) have count 0.
        if keys[0][0] != UNK {
            keys.insert(0, key(&[UNK]));
            raw.insert(0, 0);
        }
        let bos = keys.binary_search(&key(&[BOS])).expect("<s> was added");
        raw[bos] = 0;
    }
    (keys, raw)
}

/// Expands `lmplz`-style thresholds to one per order and checks them.
fn thresholds(prune: &[u64], order: usize) -> Result<Vec<u64>, KnError> {
    if prune.len() > order {
        return Err(KnError::TooManyThresholds {
            given: prune.len(),
            order,
        });
    }
    if prune.windows(2).any(|w| w[0] > w[1]) {
        return Err(KnError::DecreasingThresholds(prune.to_vec()));
    }
    if let Some(&first) = prune.first()
        && first != 0
    {
        return Err(KnError::UnigramPruning(first));
    }
    let mut t = prune.to_vec();
    let last = t.last().copied().unwrap_or(0);
    t.resize(order, last);
    Ok(t)
}

/// Estimates an interpolated modified Kneser-Ney model of `corpus` as `lmplz` does (see the
/// [module documentation](self)).
pub fn estimate(corpus: &Corpus, config: &KnConfig) -> Result<EstimatedModel, KnError> {
    let n = config.order;
    if n == 0 || n > MAX_ORDER {
        return Err(KnError::BadOrder(n));
    }
    if corpus.sentences.is_empty() {
        return Err(KnError::EmptyCorpus);
    }
    let thresholds = thresholds(&config.prune, n)?;
    let fallback = config.discount_fallback.map(Discount::fixed).transpose()?;

    // Raw counts.
    let mut tables: Vec<Table> = (1..=n)
        .map(|k| {
            let (keys, raw) = count_order(&corpus.sentences, k);
            let len = keys.len();
            Table {
                keys,
                adjusted: raw.clone(),
                raw,
                pruned: vec![false; len],
                gamma: vec![None; len],
                prob: vec![0.0; len],
            }
        })
        .collect();

    // Adjusted counts: continuation counts below the highest order, except after <s>.
    for k in 1..n {
        let (lower, higher) = tables.split_at_mut(k);
        let lower = &mut lower[k - 1];
        let higher = &higher[0];
        let mut continuation = vec![0u64; lower.keys.len()];
        for hk in &higher.keys {
            if hk[1] == BOS {
                continue;
            }
            let suffix = key(&hk[1..=k]);
            let i = lower
                .find(&suffix)
                .expect("the suffix of an n-gram is an n-gram");
            continuation[i] += 1;
        }
        for (i, lk) in lower.keys.iter().enumerate() {
            lower.adjusted[i] = if lk[0] == BOS {
                if k == 1 { 0 } else { lower.raw[i] }
            } else {
                continuation[i]
            };
        }
    }

    // Discounts from counts of adjusted counts (pruned n-grams included, as in lmplz).
    let mut stats = Vec::with_capacity(n);
    for (k, table) in tables.iter().enumerate() {
        let mut coc = [0u64; 5];
        for &a in &table.adjusted {
            if a < 5 {
                coc[a as usize] += 1;
            }
        }
        let (discount, used_fallback) = match Discount::from_count_of_counts(&coc) {
            Ok(d) => (d, false),
            Err(reason) => match fallback {
                Some(d) => (d, true),
                None => {
                    return Err(KnError::BadDiscount {
                        order: k + 1,
                        reason,
                    });
                }
            },
        };
        stats.push(OrderStats {
            ngrams: 0,
            kept: 0,
            count_of_counts: coc,
            discount,
            fallback: used_fallback,
        });
    }

    // Pruning by raw count (orders ≥ 2).
    for (k, table) in tables.iter_mut().enumerate().skip(1) {
        let t = thresholds[k];
        if t > 0 {
            for (p, &r) in table.pruned.iter_mut().zip(&table.raw) {
                *p = r <= t;
            }
        }
    }

    // Uninterpolated probabilities and interpolation weights, per context.
    let mut gamma_root = 0.0;
    for k in 1..=n {
        let discount = stats[k - 1].discount;
        let mut uninterp = vec![0.0f64; tables[k - 1].keys.len()];
        let mut context_gammas: Vec<(Key, f64)> = Vec::new();
        {
            let table = &tables[k - 1];
            let mut start = 0;
            while start < table.keys.len() {
                let ctx = &table.keys[start][..k - 1];
                let mut end = start;
                while end < table.keys.len() && &table.keys[end][..k - 1] == ctx {
                    end += 1;
                }
                let mut denominator = 0u64;
                let mut normalizer = 0u64;
                let mut n123 = [0u64; 4];
                for i in start..end {
                    let a = table.adjusted[i];
                    denominator += a;
                    if table.pruned[i] {
                        normalizer += a;
                    } else if a > 0 {
                        n123[a.min(3) as usize] += 1;
                    }
                }
                let denominator = denominator as f64;
                let mut gamma = normalizer as f64;
                for (j, &count) in n123.iter().enumerate().skip(1) {
                    gamma += discount.get(j as u64) * count as f64;
                }
                let gamma = if denominator > 0.0 {
                    gamma / denominator
                } else {
                    1.0
                };
                for (i, u) in uninterp.iter_mut().enumerate().take(end).skip(start) {
                    let a = table.adjusted[i];
                    *u = if denominator > 0.0 {
                        (a as f64 - discount.get(a)) / denominator
                    } else {
                        0.0
                    };
                }
                if k == 1 {
                    gamma_root = gamma;
                } else {
                    context_gammas.push((key(ctx), gamma));
                }
                start = end;
            }
        }
        if k >= 2 {
            let lower = &mut tables[k - 2];
            for (ctx, gamma) in context_gammas {
                let i = lower
                    .find(&ctx)
                    .expect("the context of an n-gram is an n-gram");
                lower.gamma[i] = Some(gamma);
            }
        }
        // Interpolate with the order below (or the uniform distribution).
        if k == 1 {
            let table = &mut tables[0];
            let vocab = (table.keys.len() - 1) as f64; // every unigram but <s>
            for (i, u) in uninterp.iter().enumerate() {
                table.prob[i] = if table.keys[i][0] == BOS {
                    1.0
                } else {
                    u + gamma_root / vocab
                };
            }
        } else {
            let (lower, this) = tables.split_at_mut(k - 1);
            let lower = &lower[k - 2];
            let this = &mut this[0];
            for (i, u) in uninterp.iter().enumerate() {
                let ctx = this.keys[i];
                let ctx_i = lower
                    .find(&key(&ctx[..k - 1]))
                    .expect("the context of an n-gram is an n-gram");
                let gamma = lower.gamma[ctx_i].expect("a context has a weight");
                let suffix = lower
                    .find(&key(&ctx[1..k]))
                    .expect("the suffix of an n-gram is an n-gram");
                this.prob[i] = u + gamma * lower.prob[suffix];
            }
        }
    }

    // The backoff model: kept n-grams, log10 probabilities, backoffs = γ.
    let mut orders = Vec::with_capacity(n);
    for (k, table) in tables.iter().enumerate() {
        let mut m = ModelOrder {
            keys: Vec::new(),
            log10_prob: Vec::new(),
            log10_backoff: Vec::new(),
        };
        for i in 0..table.keys.len() {
            if table.pruned[i] {
                continue;
            }
            m.keys.push(table.keys[i]);
            m.log10_prob.push((table.prob[i].log10() as f32).min(0.0));
            let last = table.keys[i][k];
            let backoff = match table.gamma[i] {
                Some(g) if k + 1 < n && last != EOS => g.log10() as f32,
                _ => 0.0,
            };
            m.log10_backoff.push(backoff);
        }
        stats[k].ngrams = table.keys.len() as u64;
        stats[k].kept = m.keys.len() as u64;
        orders.push(m);
    }

    Ok(EstimatedModel {
        words: corpus.words.clone(),
        ids: corpus.ids.clone(),
        orders,
        stats,
        sentences: corpus.sentences.len(),
        tokens: corpus.tokens(),
    })
}

/// Perplexity of a model on some sentences, as KenLM computes it: every word and each `</s>`
/// counts as a token, unknown words score as `<unk>`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Perplexity {
    /// Sum of log10 probabilities.
    pub log10_total: f64,
    /// Scored tokens (words plus one `</s>` per sentence).
    pub tokens: u64,
    /// Words not in the vocabulary.
    pub oov: u64,
    /// `10^(−log10_total / tokens)`.
    pub perplexity: f64,
}

impl EstimatedModel {
    /// Highest order.
    pub fn order(&self) -> usize {
        self.orders.len()
    }

    /// Per-order statistics (counts, counts of adjusted counts, discounts).
    pub fn stats(&self) -> &[OrderStats] {
        &self.stats
    }

    /// Sentences the model was estimated from.
    pub fn sentences(&self) -> usize {
        self.sentences
    }

    /// Word tokens the model was estimated from (without `<s>` and `</s>`).
    pub fn tokens(&self) -> u64 {
        self.tokens
    }

    /// The vocabulary in id order (`<unk>`, `<s>`, `</s>`, then words).
    pub fn vocabulary(&self) -> &[String] {
        &self.words
    }

    /// Number of n-grams of each order in the model.
    pub fn counts(&self) -> Vec<usize> {
        self.orders.iter().map(|o| o.keys.len()).collect()
    }

    /// The n-grams of order `n` (1 = unigrams) as (word ids oldest first, log10 probability,
    /// log10 backoff), sorted by word ids; nothing for an order outside `1..=order`.
    pub fn ngrams(&self, n: usize) -> impl Iterator<Item = (Vec<WordId>, f32, f32)> + '_ {
        let order = n.checked_sub(1).and_then(|k| self.orders.get(k));
        order.into_iter().flat_map(move |o| {
            (0..o.keys.len())
                .map(move |i| (o.keys[i][..n].to_vec(), o.log10_prob[i], o.log10_backoff[i]))
        })
    }

    /// The id of `word`, or `<unk>`'s.
    pub fn id(&self, word: &str) -> WordId {
        self.ids.get(word).copied().unwrap_or(UNK)
    }

    /// log10 probability and backoff of one n-gram of the model, if present.
    pub fn entry(&self, words: &[WordId]) -> Option<(f32, f32)> {
        if words.is_empty() || words.len() > self.orders.len() {
            return None;
        }
        let o = &self.orders[words.len() - 1];
        o.find(words).map(|i| (o.log10_prob[i], o.log10_backoff[i]))
    }

    /// log10 P(`word` | `context`) by the ARPA backoff rule: the longest n-gram `h w` of the model
    /// whose history `h` ends the context gives its probability, plus the backoffs of the longer
    /// histories (those present in the model). `context` is oldest first; only its last
    /// `order − 1` words matter.
    pub fn log10_prob(&self, context: &[WordId], word: WordId) -> f32 {
        let n = self.orders.len();
        let ctx = &context[context.len().saturating_sub(n - 1)..];
        let mut gram: Vec<WordId> = Vec::with_capacity(n);
        let mut backoff = 0.0f32;
        for j in (0..=ctx.len()).rev() {
            gram.clear();
            gram.extend_from_slice(&ctx[ctx.len() - j..]);
            gram.push(word);
            if let Some((p, _)) = self.entry(&gram) {
                return p + backoff;
            }
            if j > 0
                && let Some((_, b)) = self.entry(&ctx[ctx.len() - j..])
            {
                backoff += b;
            }
        }
        // A word outside the vocabulary scores as <unk>.
        self.entry(&[UNK]).map_or(f32::NEG_INFINITY, |(p, _)| p) + backoff
    }

    /// Perplexity on already-normalised sentences (one per item, words separated by spaces).
    pub fn perplexity<'a>(&self, sentences: impl IntoIterator<Item = &'a str>) -> Perplexity {
        let mut log10_total = 0.0f64;
        let mut tokens = 0u64;
        let mut oov = 0u64;
        let mut context: Vec<WordId> = Vec::new();
        for s in sentences {
            context.clear();
            context.push(BOS);
            for w in s.split_whitespace() {
                let id = self.id(w);
                if id == UNK && w != "<unk>" {
                    oov += 1;
                }
                log10_total += f64::from(self.log10_prob(&context, id));
                context.push(id);
                tokens += 1;
            }
            log10_total += f64::from(self.log10_prob(&context, EOS));
            tokens += 1;
        }
        Perplexity {
            log10_total,
            tokens,
            oov,
            perplexity: 10f64.powf(-log10_total / tokens.max(1) as f64),
        }
    }

    /// Writes the model in ARPA format: `\data\` with `ngram N=count` lines, then one
    /// `\N-grams:` section per order with `log10 prob<TAB>words[<TAB>log10 backoff]` (no backoff
    /// column for the highest order), then `\end\`. Within a section, n-grams are sorted by their
    /// words (byte order of the strings), so the output does not depend on the corpus order.
    pub fn write_arpa(&self, out: &mut impl Write) -> io::Result<()> {
        let n = self.orders.len();
        writeln!(out, "\\data\\")?;
        for (k, o) in self.orders.iter().enumerate() {
            writeln!(out, "ngram {}={}", k + 1, o.keys.len())?;
        }
        for (k, o) in self.orders.iter().enumerate() {
            writeln!(out)?;
            writeln!(out, "\\{}-grams:", k + 1)?;
            let mut index: Vec<usize> = (0..o.keys.len()).collect();
            index.sort_by(|&a, &b| {
                let wa = o.keys[a][..=k]
                    .iter()
                    .map(|&w| self.words[w as usize].as_str());
                let wb = o.keys[b][..=k]
                    .iter()
                    .map(|&w| self.words[w as usize].as_str());
                wa.cmp(wb)
            });
            let mut line = String::new();
            for i in index {
                line.clear();
                line.push_str(&o.log10_prob[i].to_string());
                line.push('\t');
                for (j, &w) in o.keys[i][..=k].iter().enumerate() {
                    if j > 0 {
                        line.push(' ');
                    }
                    line.push_str(&self.words[w as usize]);
                }
                if k + 1 < n {
                    line.push('\t');
                    line.push_str(&o.log10_backoff[i].to_string());
                }
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
        }
        writeln!(out)?;
        writeln!(out, "\\end\\")?;
        Ok(())
    }

    /// The ARPA text (see [`write_arpa`](Self::write_arpa)).
    pub fn to_arpa_string(&self) -> String {
        let mut out = Vec::new();
        self.write_arpa(&mut out)
            .expect("writing to memory cannot fail");
        String::from_utf8(out).expect("words are UTF-8")
    }
}

impl LanguageModel for EstimatedModel {
    fn order(&self) -> usize {
        self.orders.len()
    }
    fn word_id(&self, word: &str) -> WordId {
        self.id(word)
    }
    fn contains(&self, word: &str) -> bool {
        self.ids.contains_key(word)
    }
    fn bos(&self) -> WordId {
        BOS
    }
    fn eos(&self) -> WordId {
        EOS
    }
    fn unk(&self) -> WordId {
        UNK
    }
    fn log10_prob(&self, context: &[WordId], word: WordId) -> f32 {
        EstimatedModel::log10_prob(self, context, word)
    }
    fn words(&self) -> Vec<String> {
        self.words[3..].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(text: &str) -> Corpus {
        let mut c = Corpus::new();
        c.add_text(text, &Normalizer::new(Alphabet::english()));
        c
    }

    fn smoke() -> Corpus {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kn/train.txt");
        let text = std::fs::read_to_string(path).expect("fixture");
        let mut c = Corpus::new();
        for line in text.lines().take(1500) {
            c.add_sentence(line);
        }
        c
    }

    #[test]
    fn normalisation_rules() {
        let n = Normalizer::new(Alphabet::english());
        assert_eq!(
            n.normalize("  And GOD said, 'Let there be light':  well-known café 1984 don't"),
            "and god said let there be light well known caf don't"
        );
        assert_eq!(n.normalize("... !!"), "");
        assert_eq!(n.normalize("fathers' 'tis"), "fathers tis");
        let once = n.normalize("The LORD's hand-writing.");
        assert_eq!(n.normalize(&once), once);
    }

    #[test]
    fn discounts_from_hand_counts() {
        // Y = 100 / (100 + 2·40) = 5/9; D1 = 1 − 2·Y·40/100, D2 = 2 − 3·Y·20/40, D3 = 3 − 4·Y·10/20.
        let d = Discount::from_count_of_counts(&[0, 100, 40, 20, 10]).unwrap();
        let y = 5.0 / 9.0;
        let expected = [
            1.0 - 2.0 * y * 0.4,
            2.0 - 3.0 * y * 0.5,
            3.0 - 4.0 * y * 0.5,
        ];
        for (got, want) in d.amount[1..].iter().zip(expected) {
            assert!((f64::from(*got) - want).abs() < 1e-6, "{got} vs {want}");
        }
        assert!(Discount::from_count_of_counts(&[0, 10, 0, 3, 1]).is_err());
        // Many more count-3 than count-2 n-grams make D2 = 2 − 3·(10/12)·20 negative.
        let e = Discount::from_count_of_counts(&[0, 10, 1, 20, 1]).unwrap_err();
        assert!(e.contains("D2"), "{e}");
    }

    #[test]
    fn tiny_corpus_needs_fallback() {
        let c = corpus("a b c\na b d\n");
        let config = KnConfig {
            order: 3,
            ..KnConfig::default()
        };
        let e = estimate(&c, &config).unwrap_err().to_string();
        assert!(e.contains("discount_fallback"), "{e}");
        let config = KnConfig {
            discount_fallback: Some(DEFAULT_FALLBACK),
            ..config
        };
        let m = estimate(&c, &config).unwrap();
        assert!(m.stats().iter().all(|s| s.fallback));
        assert_eq!(m.stats()[2].discount.amount, [0.0, 0.5, 1.0, 1.5]);
    }

    #[test]
    fn adjusted_counts_by_hand() {
        // Sentences: <s> a b </s>, <s> c b </s>, <s> a b </s>.
        let c = corpus("a b\nc b\na b\n");
        let config = KnConfig {
            order: 2,
            discount_fallback: Some(DEFAULT_FALLBACK),
            ..KnConfig::default()
        };
        let m = estimate(&c, &config).unwrap();
        // unigrams: a ← {<s>} = 1, b ← {a, c} = 2, c ← {<s>} = 1, </s> ← {b} = 1.
        assert_eq!(m.stats()[0].count_of_counts[1..], [3, 1, 0, 0]);
        // bigrams keep raw counts: <s> a 2, a b 2, b </s> 3, <s> c 1, c b 1.
        assert_eq!(m.stats()[1].count_of_counts[1..], [2, 2, 1, 0]);
        assert_eq!(m.counts(), vec![6, 5]);
    }

    /// Sums P(w | context) over the vocabulary (all but `<s>`) for many contexts.
    fn check_sums(m: &EstimatedModel) {
        let vocab: Vec<WordId> = (0..m.vocabulary().len() as WordId)
            .filter(|&w| w != BOS)
            .collect();
        let mut contexts: Vec<Vec<WordId>> = vec![vec![]];
        for k in 0..m.order() - 1 {
            let o = &m.orders[k];
            let step = (o.keys.len() / 40).max(1);
            for i in (0..o.keys.len()).step_by(step) {
                if o.keys[i][k] != EOS {
                    contexts.push(o.keys[i][..=k].to_vec());
                }
            }
        }
        // An unseen context backs off completely.
        contexts.push(vec![m.id("the"), m.id("the")]);
        for ctx in &contexts {
            let sum: f64 = vocab
                .iter()
                .map(|&w| 10f64.powf(f64::from(m.log10_prob(ctx, w))))
                .sum();
            assert!((sum - 1.0).abs() < 1e-4, "context {ctx:?} sums to {sum}");
        }
    }

    #[test]
    fn every_context_sums_to_one() {
        let c = smoke();
        for order in [3, 4] {
            let config = KnConfig {
                order,
                ..KnConfig::default()
            };
            check_sums(&estimate(&c, &config).unwrap());
        }
    }

    #[test]
    fn pruned_contexts_sum_to_one() {
        let c = smoke();
        let config = KnConfig {
            order: 4,
            prune: vec![0, 1, 1, 2],
            ..KnConfig::default()
        };
        let m = estimate(&c, &config).unwrap();
        assert!(m.stats()[3].kept < m.stats()[3].ngrams);
        assert!(m.stats()[1].kept < m.stats()[1].ngrams);
        check_sums(&m);
    }

    #[test]
    fn top_k_turns_rare_words_into_unk() {
        let mut c = corpus("a a a b\na c d\n");
        assert_eq!(c.limit_vocabulary(2).unwrap(), 2);
        assert_eq!(c.vocabulary_size(), 3);
        let m = estimate(
            &c,
            &KnConfig {
                order: 2,
                discount_fallback: Some(DEFAULT_FALLBACK),
                ..KnConfig::default()
            },
        )
        .unwrap();
        assert!(m.entry(&[m.id("a"), UNK]).is_some());
        assert_eq!(m.id("c"), UNK);
        check_sums(&m);
    }

    #[test]
    fn bad_thresholds_are_refused() {
        let c = corpus("a b\n");
        for prune in [vec![1], vec![0, 2, 1], vec![0, 0, 0, 0]] {
            let config = KnConfig {
                order: 3,
                prune,
                discount_fallback: Some(DEFAULT_FALLBACK),
            };
            assert!(estimate(&c, &config).is_err());
        }
    }

    #[test]
    fn arpa_sections_match_their_counts() {
        let m = estimate(
            &smoke(),
            &KnConfig {
                order: 3,
                prune: vec![0, 0, 1],
                ..KnConfig::default()
            },
        )
        .unwrap();
        let arpa = m.to_arpa_string();
        let mut lines = arpa.lines();
        assert_eq!(lines.next(), Some("\\data\\"));
        let mut announced = Vec::new();
        for line in lines.by_ref() {
            let Some(rest) = line.strip_prefix("ngram ") else {
                assert_eq!(line, "");
                break;
            };
            let (k, count) = rest.split_once('=').unwrap();
            assert_eq!(k.parse::<usize>().unwrap(), announced.len() + 1);
            announced.push(count.parse::<usize>().unwrap());
        }
        let mut seen = Vec::new();
        let mut current = None;
        for line in lines {
            if line == "\\end\\" {
                break;
            } else if let Some(h) = line.strip_prefix('\\') {
                let k: usize = h.strip_suffix("-grams:").unwrap().parse().unwrap();
                seen.push(0);
                current = Some(k);
            } else if !line.is_empty() {
                let k = current.unwrap();
                let fields: Vec<&str> = line.split('\t').collect();
                assert_eq!(fields.len(), if k == 3 { 2 } else { 3 }, "{line}");
                assert!(fields[0].parse::<f32>().unwrap() <= 0.0);
                assert_eq!(fields[1].split(' ').count(), k);
                *seen.last_mut().unwrap() += 1;
            }
        }
        assert_eq!(announced, seen);
        assert_eq!(announced, m.counts());
        assert!(arpa.ends_with("\\end\\\n"));
    }
}
