//! A back-off n-gram language model read from an ARPA file, scoring exactly as KenLM does.
//!
//! `log10 P(w | h)` is the standard back-off recursion: if the n-gram `(h, w)` is in the model its
//! probability is used, otherwise `backoff(h)` is added and the oldest word of `h` dropped.
//! `h` is cut to the last `order − 1` words first, and a context that is not in the model has a
//! back-off of zero. KenLM's probing model computes the same thing (it fills pruned lower-order
//! n-grams with "blank" entries that hold exactly these values); `core/tests/lm_reference.rs`
//! checks the scores against KenLM's Python module on 3- and 5-gram models.
//!
//! Loading follows KenLM's rules: comment lines (`#`) and blank lines before `\data\`, positive
//! log probabilities are refused, so is a non-zero back-off on a highest-order n-gram, and a word
//! in a higher-order n-gram must be among the unigrams; `<s>` and `</s>` must be present, and a
//! missing `<unk>` is added with log10 probability −100 and back-off 0 (KenLM's
//! `unknown_missing_logprob`). Unlike KenLM (which needs at least bigrams), a unigram model loads.
//!
//! # Memory
//!
//! Unigrams are a vector indexed by word id. Each higher order is a hash table from the n-gram's
//! word ids packed into one integer (newest word in the lowest bits, `⌈log2 V⌉` bits per word) to
//! its probability and back-off: a `u64` key while `order × bits ≤ 64`, else a `u128`. A bucket
//! is 17 bytes with a `u64` key (8 + 2 × 4 + 1 control byte) and 33 with a `u128` key (16-byte
//! alignment); hashbrown's power-of-two tables are 44–88 % full, so an n-gram costs 19–39 or
//! 38–75 bytes. The vocabulary (each word's text twice, a `Vec<String>` and a `HashMap`) costs
//! about 100 bytes per word. [`ArpaModel::memory`] reports the exact table sizes; on the test
//! fixtures the loaded model is 1.0–2.0 × the ARPA file's size.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use super::{LanguageModel, WordId};
use crate::error::{Error, LmError};

/// Highest n-gram order supported (KenLM's default `KENLM_MAX_ORDER`).
pub const MAX_ORDER: usize = 6;

/// log10 probability KenLM gives `<unk>` when the ARPA file does not list it.
pub const UNKNOWN_MISSING_LOG10: f32 = -100.0;

/// Probability and back-off of one n-gram (log10).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Weights {
    prob: f32,
    backoff: f32,
}

/// A hasher for packed word-id keys: the splitmix64 finaliser, so that both the low bits
/// (bucket) and the high bits (hashbrown's control byte) depend on every word.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = mix(self.0 ^ u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = mix(self.0 ^ n);
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = mix(mix(self.0 ^ n as u64) ^ (n >> 64) as u64);
    }
}

type KeyMap<K> = HashMap<K, Weights, BuildHasherDefault<KeyHasher>>;

/// The n-grams of one order ≥ 2, keyed by packed word ids.
#[derive(Debug, Clone)]
enum Table {
    Narrow(KeyMap<u64>),
    Wide(KeyMap<u128>),
}

impl Table {
    fn get(&self, key: u128) -> Option<&Weights> {
        match self {
            Table::Narrow(m) => m.get(&(key as u64)),
            Table::Wide(m) => m.get(&key),
        }
    }

    /// Inserts, returning false when the key was already there.
    fn insert(&mut self, key: u128, w: Weights) -> bool {
        match self {
            Table::Narrow(m) => m.insert(key as u64, w).is_none(),
            Table::Wide(m) => m.insert(key, w).is_none(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Table::Narrow(m) => m.len(),
            Table::Wide(m) => m.len(),
        }
    }

    /// Bytes of the table's allocation: hashbrown keeps a power-of-two number of buckets, at most
    /// 7/8 full, each holding a (key, value) pair plus one control byte.
    fn bytes(&self) -> usize {
        fn buckets(capacity: usize) -> usize {
            if capacity == 0 {
                0
            } else if capacity < 8 {
                (capacity + 1).next_power_of_two()
            } else {
                (capacity * 8 / 7).next_power_of_two()
            }
        }
        let (cap, pair) = match self {
            Table::Narrow(m) => (m.capacity(), std::mem::size_of::<(u64, Weights)>()),
            Table::Wide(m) => (m.capacity(), std::mem::size_of::<(u128, Weights)>()),
        };
        let b = buckets(cap);
        if b == 0 { 0 } else { b * (pair + 1) + 16 }
    }
}

/// Where the bytes of a loaded [`ArpaModel`] go (an estimate from the tables' capacities).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryUsage {
    /// N-grams per order, unigrams first.
    pub ngrams: Vec<usize>,
    /// Bytes per order: the unigram vector, then each hash table.
    pub table_bytes: Vec<usize>,
    /// Bytes of the vocabulary: the words' text, the id list and the word-to-id map.
    pub vocabulary_bytes: usize,
}

impl MemoryUsage {
    /// All bytes.
    pub fn total(&self) -> usize {
        self.table_bytes.iter().sum::<usize>() + self.vocabulary_bytes
    }

    /// Average bytes per n-gram, vocabulary included.
    pub fn bytes_per_ngram(&self) -> f64 {
        self.total() as f64 / self.ngrams.iter().sum::<usize>().max(1) as f64
    }
}

/// A back-off n-gram model loaded from an ARPA file (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct ArpaModel {
    order: usize,
    /// Bits per word id in a packed key.
    bits: u32,
    words: Vec<String>,
    ids: HashMap<String, WordId>,
    unigrams: Vec<Weights>,
    /// Orders 2..=order, at index order − 2.
    tables: Vec<Table>,
    bos: WordId,
    eos: WordId,
    unk: WordId,
}

/// Splits off the next line (without its `\n` or `\r\n`), counting lines from 1.
struct Lines<'a> {
    rest: &'a str,
    line: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        self.line += 1;
        let (line, rest) = match self.rest.find('\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, ""),
        };
        self.rest = rest;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    /// The next line that is not blank.
    fn next_non_blank(&mut self) -> Option<&'a str> {
        loop {
            let l = self.next_line()?;
            if !l.trim().is_empty() {
                return Some(l);
            }
        }
    }
}

fn parse_log10(token: &str) -> Option<f32> {
    let v: f32 = token.parse().ok()?;
    // KenLM's ARPA writer uses -inf for impossible events in some tools; keep it, refuse NaN.
    if v.is_nan() { None } else { Some(v) }
}

impl ArpaModel {
    /// Loads an ARPA file. Errors name the file and, for its content, the line.
    pub fn from_file(path: impl AsRef<Path>) -> crate::Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|reason| LmError::Io {
            path: path.to_path_buf(),
            reason,
        })?;
        let in_file = |error: LmError| LmError::InFile {
            path: path.to_path_buf(),
            error: Box::new(error),
        };
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return Err(in_file(LmError::BadHeader {
                line: 1,
                found: "gzip data".into(),
                hint: " (this looks like a gzip file: decompress it first)",
            })
            .into());
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
            in_file(LmError::NotUtf8 { line })
        })?;
        Self::parse(&text).map_err(|e| match e {
            Error::Lm(error) => Error::Lm(LmError::InFile {
                path: path.to_path_buf(),
                error: Box::new(error),
            }),
            other => other,
        })
    }

    /// Parses the text of an ARPA file.
    pub fn parse(text: &str) -> crate::Result<Self> {
        Ok(Self::parse_inner(text)?)
    }

    fn parse_inner(text: &str) -> Result<Self, LmError> {
        let mut lines = Lines {
            rest: text,
            line: 0,
        };

        // Header: blank and `#` lines, then \data\.
        let header = loop {
            let Some(l) = lines.next_line() else {
                return Err(LmError::UnexpectedEnd {
                    expected: "the ARPA header \\data\\".into(),
                });
            };
            if !l.trim().is_empty() && !l.starts_with('#') {
                break l;
            }
        };
        if header.trim_end() != "\\data\\" {
            let hint = if header.starts_with("mmap lm http://kheafield.com/code") {
                " (this is a KenLM binary file, not an ARPA file)"
            } else {
                ""
            };
            return Err(LmError::BadHeader {
                line: lines.line,
                found: header.chars().take(80).collect(),
                hint,
            });
        }

        // Counts.
        let mut counts: Vec<u64> = Vec::new();
        loop {
            let Some(l) = lines.next_line() else {
                return Err(LmError::UnexpectedEnd {
                    expected: "the \\1-grams: section".into(),
                });
            };
            let l = l.trim();
            if l.is_empty() {
                if counts.is_empty() {
                    continue;
                }
                break;
            }
            let bad = |reason: &str| LmError::BadCount {
                line: lines.line,
                text: l.to_string(),
                reason: reason.to_string(),
            };
            let spec = l
                .strip_prefix("ngram ")
                .ok_or_else(|| bad("expected `ngram N=COUNT`"))?;
            let (n, c) = spec
                .split_once('=')
                .ok_or_else(|| bad("expected `ngram N=COUNT`"))?;
            let n: usize = n
                .trim()
                .parse()
                .map_err(|_| bad("the order is not a number"))?;
            let c: u64 = c
                .trim()
                .parse()
                .map_err(|_| bad("the count is not a number"))?;
            if n == 0 || n > MAX_ORDER {
                return Err(LmError::UnsupportedOrder {
                    line: lines.line,
                    order: n,
                    max: MAX_ORDER,
                });
            }
            if n != counts.len() + 1 {
                return Err(bad(&format!(
                    "orders must be consecutive from 1, expected {}",
                    counts.len() + 1
                )));
            }
            // An n-gram line takes at least 4 bytes ("-1\tw\n"): a count no file this size
            // can hold is refused before anything is allocated for it.
            let most = text.len() as u64 / 4;
            if c > most {
                return Err(bad(&format!(
                    "{c} {n}-grams announced, but a file of {} bytes holds at most {most}",
                    text.len()
                )));
            }
            counts.push(c);
        }
        let order = counts.len();

        // Sections, one per order.
        let mut words: Vec<String> = Vec::with_capacity(counts[0] as usize + 1);
        let mut ids: HashMap<String, WordId> = HashMap::with_capacity(counts[0] as usize + 1);
        let mut unigrams: Vec<Weights> = Vec::with_capacity(counts[0] as usize + 1);
        let mut tables: Vec<Table> = Vec::new();
        let mut bits = 0u32;
        // A header line read while counting the previous section.
        let mut pending: Option<&str> = None;

        for n in 1..=order {
            let expected = format!("\\{n}-grams:");
            let head = match pending.take() {
                Some(h) => h,
                None => lines
                    .next_non_blank()
                    .ok_or_else(|| LmError::UnexpectedEnd {
                        expected: format!("the {expected} section"),
                    })?,
            };
            if head.trim() != expected {
                return Err(LmError::BadSection {
                    line: lines.line,
                    expected,
                    found: head.to_string(),
                });
            }
            let highest = n == order;
            let mut found: u64 = 0;
            let mut key_ids: Vec<WordId> = Vec::with_capacity(n);
            loop {
                let Some(l) = lines.next_line() else {
                    if found != counts[n - 1] {
                        return Err(LmError::CountMismatch {
                            line: lines.line,
                            order: n,
                            announced: counts[n - 1],
                            found,
                        });
                    }
                    return Err(LmError::UnexpectedEnd {
                        expected: if highest {
                            "\\end\\".into()
                        } else {
                            format!("the \\{}-grams: section", n + 1)
                        },
                    });
                };
                let t = l.trim();
                if t.is_empty() {
                    continue;
                }
                if t.starts_with('\\') {
                    if found != counts[n - 1] {
                        return Err(LmError::CountMismatch {
                            line: lines.line,
                            order: n,
                            announced: counts[n - 1],
                            found,
                        });
                    }
                    pending = Some(l);
                    break;
                }
                let line = lines.line;
                let malformed = |reason: String| LmError::Malformed {
                    line,
                    order: n,
                    text: l.to_string(),
                    reason,
                };
                let fields: Vec<&str> = t.split_ascii_whitespace().collect();
                if fields.len() != n + 1 && fields.len() != n + 2 {
                    return Err(malformed(format!(
                        "expected a probability, {n} word{} and an optional back-off, got {} fields",
                        if n == 1 { "" } else { "s" },
                        fields.len()
                    )));
                }
                let prob = parse_log10(fields[0]).ok_or_else(|| {
                    malformed(format!("the probability {:?} is not a number", fields[0]))
                })?;
                if prob > 0.0 {
                    return Err(malformed(format!(
                        "positive log10 probability {prob} (KenLM refuses these too)"
                    )));
                }
                let backoff = match fields.get(n + 1) {
                    None => 0.0,
                    Some(b) => {
                        let v: f32 = b.parse().map_err(|_| {
                            malformed(format!("the back-off {b:?} is not a number"))
                        })?;
                        if !v.is_finite() {
                            return Err(malformed(format!("back-off {b} is not finite")));
                        }
                        if highest && v != 0.0 {
                            return Err(malformed(format!(
                                "non-zero back-off {v} on a highest-order n-gram"
                            )));
                        }
                        v
                    }
                };
                let weights = Weights { prob, backoff };
                found += 1;
                if n == 1 {
                    let word = fields[1];
                    if let Some(&first) = ids.get(word) {
                        return Err(LmError::Duplicate {
                            line,
                            first_line: 0,
                            order: 1,
                            ngram: words[first as usize].clone(),
                        });
                    }
                    ids.insert(word.to_string(), words.len() as WordId);
                    words.push(word.to_string());
                    unigrams.push(weights);
                    continue;
                }
                key_ids.clear();
                for w in &fields[1..=n] {
                    match ids.get(*w) {
                        Some(&id) => key_ids.push(id),
                        None => {
                            return Err(LmError::UnknownWord {
                                line,
                                order: n,
                                word: (*w).to_string(),
                            });
                        }
                    }
                }
                let key = pack(&key_ids, bits);
                if !tables[n - 2].insert(key, weights) {
                    return Err(LmError::Duplicate {
                        line,
                        first_line: 0,
                        order: n,
                        ngram: fields[1..=n].join(" "),
                    });
                }
            }

            if n == 1 {
                // KenLM: a missing <unk> gets a default probability; <s> and </s> are required.
                if !ids.contains_key("<unk>") {
                    ids.insert("<unk>".into(), words.len() as WordId);
                    words.push("<unk>".into());
                    unigrams.push(Weights {
                        prob: UNKNOWN_MISSING_LOG10,
                        backoff: 0.0,
                    });
                }
                for marker in ["<s>", "</s>"] {
                    if !ids.contains_key(marker) {
                        return Err(LmError::MissingSentenceMarker { word: marker });
                    }
                }
                bits = usize::BITS - (words.len() - 1).max(1).leading_zeros();
                for m in 2..=order {
                    let capacity = counts[m - 1] as usize;
                    let total = bits as usize * m;
                    tables.push(if total <= 64 {
                        Table::Narrow(KeyMap::with_capacity_and_hasher(
                            capacity,
                            Default::default(),
                        ))
                    } else if total <= 128 {
                        Table::Wide(KeyMap::with_capacity_and_hasher(
                            capacity,
                            Default::default(),
                        ))
                    } else {
                        return Err(LmError::VocabularyTooLarge {
                            words: words.len(),
                            order: m,
                            bits,
                        });
                    });
                }
            }
        }

        let end = match pending.take() {
            Some(h) => h,
            None => lines
                .next_non_blank()
                .ok_or_else(|| LmError::UnexpectedEnd {
                    expected: "\\end\\".into(),
                })?,
        };
        if end.trim() != "\\end\\" {
            return Err(LmError::BadSection {
                line: lines.line,
                expected: "\\end\\".into(),
                found: end.to_string(),
            });
        }
        if let Some(l) = lines.next_non_blank() {
            return Err(LmError::TrailingText {
                line: lines.line,
                text: l.chars().take(80).collect(),
            });
        }

        let bos = ids["<s>"];
        let eos = ids["</s>"];
        let unk = ids["<unk>"];
        Ok(Self {
            order,
            bits,
            words,
            ids,
            unigrams,
            tables,
            bos,
            eos,
            unk,
        })
    }

    /// Number of n-grams of each order, unigrams first (`<unk>` included when it was added).
    pub fn counts(&self) -> Vec<usize> {
        std::iter::once(self.unigrams.len())
            .chain(self.tables.iter().map(Table::len))
            .collect()
    }

    /// Vocabulary size, `<s>`, `</s>` and `<unk>` included.
    pub fn vocabulary_size(&self) -> usize {
        self.words.len()
    }

    /// The word of an id.
    pub fn word(&self, id: WordId) -> Option<&str> {
        self.words.get(id as usize).map(String::as_str)
    }

    /// The vocabulary in word-id order: the unigrams in file order, then `<unk>` when it was
    /// added (see [`UNKNOWN_MISSING_LOG10`]).
    pub fn vocabulary(&self) -> &[String] {
        &self.words
    }

    /// The n-grams of order `n` (1 = unigrams) as (word ids oldest first, log10 probability,
    /// log10 back-off), in no particular order; nothing for an order outside `1..=order`.
    pub fn ngrams(&self, n: usize) -> Box<dyn Iterator<Item = (Vec<WordId>, f32, f32)> + '_> {
        let bits = self.bits as usize;
        let mask = (1u128 << bits) - 1;
        // The inverse of `pack`: the oldest word sits in the highest bits.
        let unpack = move |key: u128, w: &Weights| {
            let ids = (0..n)
                .map(|i| ((key >> (bits * (n - 1 - i))) & mask) as WordId)
                .collect();
            (ids, w.prob, w.backoff)
        };
        match n {
            1 => Box::new(
                self.unigrams
                    .iter()
                    .enumerate()
                    .map(|(id, w)| (vec![id as WordId], w.prob, w.backoff)),
            ),
            _ => match self.tables.get(n.wrapping_sub(2)) {
                None => Box::new(std::iter::empty()),
                Some(Table::Narrow(m)) => {
                    Box::new(m.iter().map(move |(&k, w)| unpack(u128::from(k), w)))
                }
                Some(Table::Wide(m)) => Box::new(m.iter().map(move |(&k, w)| unpack(k, w))),
            },
        }
    }

    /// Bytes the loaded model holds, per table (an estimate from the tables' capacities).
    pub fn memory(&self) -> MemoryUsage {
        let mut table_bytes = vec![self.unigrams.capacity() * std::mem::size_of::<Weights>()];
        table_bytes.extend(self.tables.iter().map(Table::bytes));
        let text: usize = self.words.iter().map(|w| w.len()).sum();
        let strings = std::mem::size_of::<String>();
        let pair = std::mem::size_of::<(String, WordId)>();
        let map_buckets = (self.ids.capacity() * 8 / 7).next_power_of_two();
        // Each word's text is stored twice: in the id list and as the map's key.
        let vocabulary_bytes =
            2 * text + self.words.capacity() * strings + map_buckets * (pair + 1);
        MemoryUsage {
            ngrams: self.counts(),
            table_bytes,
            vocabulary_bytes,
        }
    }

    fn lookup(&self, ids: &[WordId]) -> Option<&Weights> {
        match ids.len() {
            1 => self.unigrams.get(ids[0] as usize),
            n => self.tables[n - 2].get(pack(ids, self.bits)),
        }
    }
}

/// Packs word ids, oldest first, into one key: the newest word in the lowest bits.
fn pack(ids: &[WordId], bits: u32) -> u128 {
    ids.iter().rev().enumerate().fold(0u128, |key, (i, &id)| {
        key | (id as u128) << (bits as usize * i)
    })
}

impl LanguageModel for ArpaModel {
    fn order(&self) -> usize {
        self.order
    }

    fn word_id(&self, word: &str) -> WordId {
        self.ids.get(word).copied().unwrap_or(self.unk)
    }

    fn contains(&self, word: &str) -> bool {
        self.ids.contains_key(word)
    }

    fn bos(&self) -> WordId {
        self.bos
    }

    fn eos(&self) -> WordId {
        self.eos
    }

    fn unk(&self) -> WordId {
        self.unk
    }

    fn log10_prob(&self, context: &[WordId], word: WordId) -> f32 {
        let Some(uni) = self.unigrams.get(word as usize) else {
            return self.unigrams[self.unk as usize].prob;
        };
        let context = &context[context.len().saturating_sub(self.order - 1)..];
        let h = context.len();
        // ngram = context suffix of length k followed by `word`; scratch holds it oldest first.
        let mut scratch = [0 as WordId; MAX_ORDER];
        scratch[MAX_ORDER - 1] = word;
        // The longest n-gram (h', w) in the model, h' a suffix of the context.
        let mut prob = uni.prob;
        let mut matched = 0;
        for k in 1..=h {
            scratch[MAX_ORDER - 1 - k] = context[h - k];
            if let Some(w) = self.lookup(&scratch[MAX_ORDER - 1 - k..]) {
                prob = w.prob;
                matched = k;
            }
        }
        // Plus the back-offs of the longer context suffixes that are in the model.
        let mut total = prob;
        for k in matched + 1..=h {
            if let Some(w) = self.lookup(&context[h - k..]) {
                total += w.backoff;
            }
        }
        total
    }

    fn words(&self) -> Vec<String> {
        self.words
            .iter()
            .enumerate()
            .filter(|&(i, _)| {
                let i = i as WordId;
                i != self.bos && i != self.eos && i != self.unk
            })
            .map(|(_, w)| w.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOY: &str = "\\data\\
ngram 1=5
ngram 2=4
ngram 3=2

\\1-grams:
-1.0\t<unk>\t0
0\t<s>\t-0.5
-0.7\t</s>
-0.6\ta\t-0.3
-0.8\tb\t-0.2

\\2-grams:
-0.4\t<s> a\t-0.1
-0.3\ta b\t-0.15
-0.5\tb </s>
-0.9\ta a

\\3-grams:
-0.2\t<s> a b
-0.25\ta b </s>

\\end\\
";

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn backoff_by_hand() {
        let m = ArpaModel::parse(TOY).unwrap();
        assert_eq!(m.order(), 3);
        assert_eq!(m.counts(), vec![5, 4, 2]);
        let (s, a, b, e) = (m.bos(), m.word_id("a"), m.word_id("b"), m.eos());
        // Trigram present.
        assert!(close(m.log10_prob(&[s, a], b), -0.2));
        // Only the bigram "a b": backoff("b a")? absent → 0, so just p(b | a).
        assert!(close(m.log10_prob(&[b, a], b), -0.3));
        // "a b a" absent, "b a" absent: backoff(a b) + backoff(b) + p(a).
        assert!(close(m.log10_prob(&[a, b], a), -0.15 + -0.2 + -0.6));
        assert!(close(m.log10_prob(&[s, a, b], e), -0.25));
        // Context longer than order − 1 is cut.
        assert!(close(m.log10_prob(&[b, b, s, a], b), -0.2));
        // Unknown word.
        assert_eq!(m.word_id("zzz"), m.unk());
        assert!(close(m.log10_prob(&[s, a], m.unk()), -0.1 + -0.3 + -1.0));
        // A whole sentence: <s> a b </s>.
        let total = m.sentence_log10(&["a", "b"], true, true);
        assert!(close(total, -0.4 + -0.2 + -0.25));
        assert_eq!(m.words(), vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn missing_unk_is_added_like_kenlm() {
        let text = TOY
            .replace("ngram 1=5", "ngram 1=4")
            .replace("-1.0\t<unk>\t0\n", "");
        let m = ArpaModel::parse(&text).unwrap();
        assert_eq!(m.vocabulary_size(), 5);
        assert!(close(m.log10_prob(&[], m.unk()), UNKNOWN_MISSING_LOG10));
        assert!(close(m.sentence_log10(&["qq"], false, false), -100.0));
    }

    #[test]
    fn unigram_model() {
        let text =
            "\\data\\\nngram 1=3\n\n\\1-grams:\n-1\t<s>\n-0.5\t</s>\n-0.25\t<unk>\n\\end\\\n";
        let m = ArpaModel::parse(text).unwrap();
        assert!(close(m.sentence_log10(&["x"], true, true), -0.75));
    }

    fn err(text: &str) -> String {
        ArpaModel::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_line() {
        assert!(err("hello\n").contains("line 1: expected the ARPA header \\data\\"));
        assert!(err("# c\n\n\\data\\\nngram 1=x\n").contains("line 4: bad n-gram count"));
        for count in ["99999999999", "18446744073709551615", "300000000"] {
            let e = err(&format!(
                "\\data\\\nngram 1={count}\n\n\\1-grams:\n-1\ta\n\\end\\\n"
            ));
            assert!(e.contains("grams announced, but a file of"), "{e}");
        }
        assert!(err("\\data\\\nngram 2=3\n").contains("line 2: bad n-gram count"));
        assert!(err("\\data\\\nngram 1=1\nngram 2=1\nngram 3=1\nngram 4=1\nngram 5=1\nngram 6=1\nngram 7=1\n").contains("line 8: n-gram order 7 is not supported"));
        assert!(
            err("\\data\\\nngram 1=0\n").contains("the file ends before the \\1-grams: section")
        );
        // Count mismatch: 5 announced, 4 present (line 11 is the \2-grams: header).
        let t = TOY.replace("-0.8\tb\t-0.2\n", "");
        assert!(
            err(&t).contains("the header announces 5 1-grams but the section holds 4"),
            "{}",
            err(&t)
        );
        // Too many bigrams.
        let t = TOY.replace("ngram 2=4", "ngram 2=3");
        assert!(err(&t).contains("announces 3 2-grams but the section holds 4"));
        // Malformed line.
        let t = TOY.replace("-0.3\ta b\t-0.15", "-0.3\ta");
        assert!(
            err(&t).starts_with("line 15: malformed 2-gram line"),
            "{}",
            err(&t)
        );
        let t = TOY.replace("-0.3\ta b\t-0.15", "x\ta b");
        assert!(err(&t).contains("line 15: malformed 2-gram line \"x\\ta b\": the probability"));
        let t = TOY.replace("-0.3\ta b\t-0.15", "0.3\ta b");
        assert!(err(&t).contains("line 15: malformed 2-gram line") && err(&t).contains("positive"));
        let t = TOY.replace("-0.2\t<s> a b", "-0.2\t<s> a b\t-0.5");
        assert!(err(&t).contains("line 20:") && err(&t).contains("highest-order"));
        // Unknown word and duplicate.
        let t = TOY.replace("-0.9\ta a", "-0.9\ta c");
        assert!(err(&t).contains("line 17: word \"c\" is not among the 1-grams"));
        let t = TOY.replace("-0.9\ta a", "-0.9\ta b");
        assert!(err(&t).contains("line 17: duplicate 2-gram \"a b\""));
        // Missing sentence markers.
        let t = TOY
            .replace("ngram 1=5", "ngram 1=4")
            .replace("0\t<s>\t-0.5\n", "")
            .replace("-0.4\t<s> a\t-0.1\n", "-0.4\ta </s>\t-0.1\n")
            .replace("-0.2\t<s> a b\n", "-0.2\tb a b\n");
        assert!(err(&t).contains("no <s> among its 1-grams"), "{}", err(&t));
        // Section headers and the end.
        let t = TOY.replace("\\3-grams:", "\\4-grams:");
        assert!(err(&t).contains("line 19: expected the section header \"\\\\3-grams:\""));
        let t = TOY.replace("\\end\\\n", "");
        assert!(err(&t).contains("ends before \\end\\"));
        let t = format!("{TOY}junk\n");
        assert!(
            err(&t).contains("line 24: unexpected text \"junk\""),
            "{}",
            err(&t)
        );
    }

    #[test]
    fn from_file_names_the_file() {
        let dir = std::env::temp_dir().join(format!("arpa-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.arpa");
        std::fs::write(&p, "nope\n").unwrap();
        let e = ArpaModel::from_file(&p).unwrap_err();
        // The whole chain, as `{:#}` prints it, says it once.
        let mut chain = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            chain.push_str(&format!(": {s}"));
            source = s.source();
        }
        assert_eq!(chain.matches("line 1:").count(), 1, "{chain}");
        let e = e.to_string();
        assert!(e.contains("bad.arpa: line 1:"), "{e}");
        std::fs::write(&p, b"\x1f\x8b\x08\0").unwrap();
        let e = ArpaModel::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("bad.arpa: line 1:") && e.contains("gzip"), "{e}");
        std::fs::write(&p, b"\\data\\\nngram 1=1\n\n\\1-grams:\n-1\t\xff\n").unwrap();
        let e = ArpaModel::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("bad.arpa: line 5: not valid UTF-8"), "{e}");
        let e = ArpaModel::from_file(dir.join("missing.arpa"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read language model"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wide_keys_for_large_vocabularies() {
        // 70,003 words need 17 bits: 4-grams (68 bits) use u128 keys, lower orders u64.
        let n = 70_000;
        let mut t = format!(
            "\\data\\\nngram 1={}\nngram 2=2\nngram 3=1\nngram 4=1\n\n",
            n + 3
        );
        t += "\\1-grams:\n-1\t<s>\t-0.5\n-1\t</s>\n-9\t<unk>\n";
        for i in 0..n {
            t += &format!("-5\tw{i}\t-0.25\n");
        }
        t += "\\2-grams:\n-2\tw69999 w1\t-0.125\n-2\tw1 w69998\t-0.0625\n";
        t += "\\3-grams:\n-1.5\tw69999 w1 w69998\t-0.5\n";
        t += "\\4-grams:\n-0.75\tw7 w69999 w1 w69998\n\\end\\\n";
        let m = ArpaModel::parse(&t).unwrap();
        assert!(matches!(m.tables[0], Table::Narrow(_)));
        assert!(matches!(m.tables[2], Table::Wide(_)));
        let id = |w: &str| m.word_id(w);
        let ctx = [id("w7"), id("w69999"), id("w1")];
        assert!(close(m.log10_prob(&ctx, id("w69998")), -0.75));
        let ctx = [id("w8"), id("w69999"), id("w1")];
        assert!(close(m.log10_prob(&ctx, id("w69998")), -1.5));
        // Back-offs of "w69999 w1 w69998", "w1 w69998" and "w69998", then p(w5).
        let ctx = [id("w69999"), id("w1"), id("w69998")];
        assert!(close(
            m.log10_prob(&ctx, id("w5")),
            -0.5 + -0.0625 + -0.25 + -5.0
        ));
    }

    #[test]
    fn memory_is_reported() {
        let m = ArpaModel::parse(TOY).unwrap();
        let mem = m.memory();
        assert_eq!(mem.ngrams, vec![5, 4, 2]);
        assert!(mem.total() > 0);
    }
}
