//! The binary scorer file: a compact, memory-mapped n-gram model with its vocabulary trie and
//! default weights, as DeepSpeech's `.scorer` package bundled a KenLM binary, a trie and alpha/beta.
//!
//! Layout (little-endian). A 64-byte header:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..8 | magic `DSSCORER` |
//! | 8..12 | format version (1) |
//! | 12..16 | n-gram order |
//! | 16..20 | vocabulary size |
//! | 20..24 | alpha (f32) |
//! | 24..28 | beta (f32) |
//! | 28..32 | CRC-32 of everything after the header |
//! | 32..40 | payload length in bytes |
//! | 40..64 | reserved (zero) |
//!
//! then the payload: for each order n = 1..=order, the number of entries (u64) and the entries
//! sorted by their word ids, each `n × u32` ids then `f32` log10 probability and `f32` log10
//! backoff; the vocabulary (u32 offsets[V + 1], then UTF-8 bytes, word ids in file order; then
//! u32 ids sorted by spelling for lookup); the vocabulary trie (node count, edge count,
//! first-edge u32[N + 1], word-end u8[N], edges as u32 char + u32 node). Lookups binary-search the
//! mapped bytes directly: loading costs one checksum pass, nothing is copied.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::lm::kneser_ney::EstimatedModel;
use crate::lm::trie::{NodeId, VocabTrie};
use crate::lm::{ArpaModel, LanguageModel, WordId};

/// The first 8 bytes of every scorer file.
pub const MAGIC: &[u8; 8] = b"DSSCORER";
const VERSION: u32 = 1;
const HEADER: usize = 64;

/// Why a scorer file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ScorerFileError {
    /// The file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        reason: std::io::Error,
    },
    /// The file is not a usable scorer.
    #[error("{path}: not a valid scorer file ({reason})")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The contents of a scorer file, to write one.
#[derive(Debug, Clone, Default)]
pub struct ScorerContents {
    /// Vocabulary in word-id order; must include `<s>`, `</s>` and `<unk>`.
    pub vocab: Vec<String>,
    /// Per order (index 0 = unigrams): (word ids, log10 prob, log10 backoff).
    pub ngrams: Vec<Vec<(Vec<WordId>, f32, f32)>>,
    /// Default language model weight.
    pub alpha: f32,
    /// Default word insertion bonus.
    pub beta: f32,
}

impl ScorerContents {
    /// The contents of a scorer holding an ARPA model: the same vocabulary and word ids
    /// (`<unk>` included when the loader added it), the same n-grams, probabilities and
    /// back-offs, so the scorer file scores exactly as the [`ArpaModel`] does.
    pub fn from_arpa(model: &ArpaModel, alpha: f32, beta: f32) -> Self {
        Self {
            vocab: model.vocabulary().to_vec(),
            ngrams: (1..=model.order())
                .map(|n| model.ngrams(n).collect())
                .collect(),
            alpha,
            beta,
        }
    }

    /// The contents of a scorer holding a model estimated by
    /// [`kneser_ney::estimate`](crate::lm::kneser_ney::estimate), without going through ARPA
    /// text: the same word ids (`<unk>` = 0, `<s>` = 1, `</s>` = 2) and n-grams.
    pub fn from_estimated(model: &EstimatedModel, alpha: f32, beta: f32) -> Self {
        Self {
            vocab: model.vocabulary().to_vec(),
            ngrams: (1..=model.order())
                .map(|n| model.ngrams(n).collect())
                .collect(),
            alpha,
            beta,
        }
    }

    /// Writes the file atomically (temporary file, fsync, rename, fsync of the folder).
    pub fn write(&self, path: &Path) -> Result<(), ScorerFileError> {
        let io = |reason| ScorerFileError::Io {
            path: path.to_owned(),
            reason,
        };
        if let Some(missing) = ["<s>", "</s>", "<unk>"]
            .into_iter()
            .find(|m| !self.vocab.iter().any(|w| w == m))
        {
            return Err(ScorerFileError::Invalid {
                path: path.to_owned(),
                reason: format!(
                    "the vocabulary has no {missing}, a scorer needs <s>, </s> and <unk>"
                ),
            });
        }
        let payload = self.payload();
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&(self.ngrams.len() as u32).to_le_bytes());
        header.extend_from_slice(&(self.vocab.len() as u32).to_le_bytes());
        header.extend_from_slice(&self.alpha.to_le_bytes());
        header.extend_from_slice(&self.beta.to_le_bytes());
        header.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        header.resize(HEADER, 0);
        crate::model::io::write_file_atomic(path, &[&header, &payload]).map_err(io)
    }

    fn payload(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let put = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());
        for entries in &self.ngrams {
            let mut sorted: Vec<&(Vec<WordId>, f32, f32)> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.extend_from_slice(&(sorted.len() as u64).to_le_bytes());
            for (ids, prob, backoff) in sorted {
                for &id in ids {
                    put(&mut out, id);
                }
                out.extend_from_slice(&prob.to_le_bytes());
                out.extend_from_slice(&backoff.to_le_bytes());
            }
        }
        let mut offset = 0u32;
        put(&mut out, 0);
        for w in &self.vocab {
            offset += w.len() as u32;
            put(&mut out, offset);
        }
        for w in &self.vocab {
            out.extend_from_slice(w.as_bytes());
        }
        let mut by_spelling: Vec<u32> = (0..self.vocab.len() as u32).collect();
        by_spelling.sort_by(|&a, &b| self.vocab[a as usize].cmp(&self.vocab[b as usize]));
        for id in by_spelling {
            put(&mut out, id);
        }
        let trie = VocabTrie::from_words(
            self.vocab
                .iter()
                .map(String::as_str)
                .filter(|w| !matches!(*w, "<s>" | "</s>" | "<unk>")),
        );
        let (first_edge, word_end, edges) = trie.to_arrays();
        put(&mut out, word_end.len() as u32);
        put(&mut out, edges.len() as u32);
        for v in first_edge {
            put(&mut out, v);
        }
        out.extend(word_end.iter().map(|&e| u8::from(e)));
        for (c, node) in edges {
            put(&mut out, c as u32);
            put(&mut out, node);
        }
        out
    }
}

/// Where a scorer's bytes live: a memory-mapped file, or bytes built into the program.
enum ScorerBytes {
    Mapped(crate::mapped_file::MappedFile),
    Static(&'static [u8]),
}

impl std::ops::Deref for ScorerBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Self::Mapped(map) => map,
            Self::Static(bytes) => bytes,
        }
    }
}

/// A scorer file mapped into memory (or embedded in the program), usable as a
/// [`LanguageModel`].
pub struct ScorerFile {
    map: ScorerBytes,
    order: usize,
    alpha: f32,
    beta: f32,
    /// Per order: (byte offset of the first entry, entry count).
    tables: Vec<(usize, usize)>,
    vocab_offsets: usize,
    vocab_bytes: usize,
    by_spelling: usize,
    vocab_len: usize,
    trie: Arc<VocabTrie>,
    specials: [WordId; 3],
}

impl std::fmt::Debug for ScorerFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScorerFile")
            .field("order", &self.order)
            .field("vocabulary", &self.vocab_len)
            .field("bytes", &self.map.len())
            .finish()
    }
}

/// Bounds-checked little-endian reads over the mapped payload.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<usize> {
        let start = self.pos;
        let end = start.checked_add(n)?;
        (end <= self.bytes.len()).then(|| {
            self.pos = end;
            start
        })
    }
    fn u32(&mut self) -> Option<u32> {
        let at = self.take(4)?;
        Some(u32::from_le_bytes(self.bytes[at..at + 4].try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        let at = self.take(8)?;
        Some(u64::from_le_bytes(self.bytes[at..at + 8].try_into().ok()?))
    }
}

#[inline]
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[inline]
fn f32_at(bytes: &[u8], at: usize) -> f32 {
    f32::from_bits(u32_at(bytes, at))
}

impl ScorerFile {
    /// Maps and validates a scorer file: magic, version, length and checksum; a truncated or
    /// corrupted file is refused.
    pub fn open(path: &Path) -> Result<Self, ScorerFileError> {
        let map =
            crate::mapped_file::MappedFile::open(path).map_err(|reason| ScorerFileError::Io {
                path: path.to_owned(),
                reason,
            })?;
        Self::validate(ScorerBytes::Mapped(map), path)
    }

    /// Validates scorer bytes built into the program (`include_bytes!`) as [`Self::open`]
    /// validates a file; `name` stands for the path in errors.
    pub fn from_static(bytes: &'static [u8], name: &Path) -> Result<Self, ScorerFileError> {
        Self::validate(ScorerBytes::Static(bytes), name)
    }

    fn validate(map: ScorerBytes, path: &Path) -> Result<Self, ScorerFileError> {
        let invalid = |reason: String| ScorerFileError::Invalid {
            path: path.to_owned(),
            reason,
        };
        if map.len() < HEADER || &map[..8] != MAGIC {
            return Err(invalid("no DSSCORER header".into()));
        }
        let version = u32_at(&map, 8);
        if version != VERSION {
            return Err(invalid(format!(
                "format version {version}, this build reads {VERSION}"
            )));
        }
        let order = u32_at(&map, 12) as usize;
        let vocab_len = u32_at(&map, 16) as usize;
        let (alpha, beta) = (f32_at(&map, 20), f32_at(&map, 24));
        let checksum = u32_at(&map, 28);
        let payload_len = u64::from_le_bytes(map[32..40].try_into().expect("8 bytes")) as usize;
        if map.len() != HEADER + payload_len {
            return Err(invalid(format!(
                "truncated or padded: header announces {} bytes, file has {}",
                HEADER + payload_len,
                map.len()
            )));
        }
        if crc32fast::hash(&map[HEADER..]) != checksum {
            return Err(invalid("checksum mismatch: the file is corrupted".into()));
        }
        if !(1..=9).contains(&order) {
            return Err(invalid(format!("unsupported order {order}")));
        }
        // The weights lie outside the checksum: a damaged or hand-made header must not slip
        // through as garbage transcripts.
        if !(alpha.is_finite() && beta.is_finite() && alpha.abs() <= 1e3 && beta.abs() <= 1e3) {
            return Err(invalid(format!(
                "default alpha {alpha} and beta {beta} (expected finite values within ±1000)"
            )));
        }
        Self::index(map, order, vocab_len, alpha, beta)
            .ok_or_else(|| invalid("inconsistent sections".into()))
    }

    fn index(
        map: ScorerBytes,
        order: usize,
        vocab_len: usize,
        alpha: f32,
        beta: f32,
    ) -> Option<Self> {
        let mut r = Reader {
            bytes: &map[..],
            pos: HEADER,
        };
        let mut tables = Vec::with_capacity(order);
        for n in 1..=order {
            let count = usize::try_from(r.u64()?).ok()?;
            let at = r.take(count.checked_mul(4 * n + 8)?)?;
            tables.push((at, count));
        }
        let vocab_offsets = r.take(4 * (vocab_len + 1))?;
        let total = u32_at(&map, vocab_offsets + 4 * vocab_len) as usize;
        let vocab_bytes = r.take(total)?;
        let by_spelling = r.take(4 * vocab_len)?;
        let nodes = r.u32()? as usize;
        let edge_count = r.u32()? as usize;
        let first_at = r.take(4 * (nodes + 1))?;
        let ends_at = r.take(nodes)?;
        let edges_at = r.take(8 * edge_count)?;
        if r.pos != map.len() {
            return None;
        }
        // Every offset and id the lookups follow stays inside its section (the checksum only
        // proves the bytes are those written, not that the writer was sound).
        let mut previous = 0;
        for i in 0..=vocab_len {
            let offset = u32_at(&map, vocab_offsets + 4 * i) as usize;
            if offset < previous || offset > total {
                return None;
            }
            previous = offset;
        }
        if (0..vocab_len).any(|i| u32_at(&map, by_spelling + 4 * i) as usize >= vocab_len) {
            return None;
        }
        let first_edge: Vec<u32> = (0..=nodes)
            .map(|i| u32_at(&map, first_at + 4 * i))
            .collect();
        let word_end: Vec<bool> = map[ends_at..ends_at + nodes]
            .iter()
            .map(|&b| b != 0)
            .collect();
        let edges: Vec<(char, NodeId)> = (0..edge_count)
            .map(|i| {
                let c = char::from_u32(u32_at(&map, edges_at + 8 * i))?;
                Some((c, u32_at(&map, edges_at + 8 * i + 4)))
            })
            .collect::<Option<_>>()?;
        let trie = VocabTrie::from_arrays(&first_edge, word_end, &edges)?;
        let mut file = Self {
            map,
            order,
            alpha,
            beta,
            tables,
            vocab_offsets,
            vocab_bytes,
            by_spelling,
            vocab_len,
            trie: Arc::new(trie),
            specials: [0; 3],
        };
        let find = |f: &Self, w: &str| f.lookup(w);
        file.specials = [
            find(&file, "<s>")?,
            find(&file, "</s>")?,
            find(&file, "<unk>")?,
        ];
        Some(file)
    }

    /// Default language model weight stored in the file.
    pub fn alpha(&self) -> f32 {
        self.alpha
    }

    /// Default word insertion bonus stored in the file.
    pub fn beta(&self) -> f32 {
        self.beta
    }

    /// The vocabulary trie stored in the file.
    pub fn trie(&self) -> &VocabTrie {
        &self.trie
    }

    /// The vocabulary trie stored in the file, shared (for [`Scorer::vocabulary`](crate::lm::Scorer::vocabulary)).
    pub fn shared_trie(&self) -> Arc<VocabTrie> {
        Arc::clone(&self.trie)
    }

    /// Size of the mapped file in bytes.
    pub fn size_bytes(&self) -> usize {
        self.map.len()
    }

    fn word(&self, id: usize) -> &str {
        let a = u32_at(&self.map, self.vocab_offsets + 4 * id) as usize;
        let b = u32_at(&self.map, self.vocab_offsets + 4 * (id + 1)) as usize;
        std::str::from_utf8(&self.map[self.vocab_bytes + a..self.vocab_bytes + b]).unwrap_or("")
    }

    fn lookup(&self, word: &str) -> Option<WordId> {
        let (mut lo, mut hi) = (0usize, self.vocab_len);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let id = u32_at(&self.map, self.by_spelling + 4 * mid);
            match self.word(id as usize).cmp(word) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(id),
            }
        }
        None
    }

    /// (log10 prob, log10 backoff) of an n-gram, if present.
    fn entry(&self, ids: &[WordId]) -> Option<(f32, f32)> {
        let n = ids.len();
        let (start, count) = *self.tables.get(n.checked_sub(1)?)?;
        let stride = 4 * n + 8;
        let key_at = |i: usize| start + i * stride;
        let (mut lo, mut hi) = (0usize, count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let at = key_at(mid);
            let ord = (0..n)
                .map(|k| u32_at(&self.map, at + 4 * k).cmp(&ids[k]))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal);
            match ord {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    return Some((
                        f32_at(&self.map, at + 4 * n),
                        f32_at(&self.map, at + 4 * n + 4),
                    ));
                }
            }
        }
        None
    }
}

impl LanguageModel for ScorerFile {
    fn order(&self) -> usize {
        self.order
    }

    fn check_unchanged(&self) -> Result<(), crate::mapped_file::FileChangedError> {
        match &self.map {
            ScorerBytes::Mapped(map) => map.check_unchanged(),
            ScorerBytes::Static(_) => Ok(()),
        }
    }

    fn word_id(&self, word: &str) -> WordId {
        self.lookup(word).unwrap_or(self.specials[2])
    }

    fn contains(&self, word: &str) -> bool {
        self.lookup(word).is_some()
    }

    fn bos(&self) -> WordId {
        self.specials[0]
    }

    fn eos(&self) -> WordId {
        self.specials[1]
    }

    fn unk(&self) -> WordId {
        self.specials[2]
    }

    fn log10_prob(&self, context: &[WordId], word: WordId) -> f32 {
        let context = &context[context.len().saturating_sub(self.order - 1)..];
        let mut key: Vec<WordId> = Vec::with_capacity(context.len() + 1);
        // Longest matching n-gram first; each shorter match pays the backoffs of the longer
        // contexts that did not match.
        let mut backoff = 0.0;
        for used in (0..=context.len()).rev() {
            key.clear();
            key.extend_from_slice(&context[context.len() - used..]);
            key.push(word);
            if let Some((prob, _)) = self.entry(&key) {
                return prob + backoff;
            }
            if used > 0
                && let Some((_, bo)) = self.entry(&context[context.len() - used..])
            {
                backoff += bo;
            }
        }
        // Not even a unigram: KenLM scores such words as <unk>.
        self.entry(&[self.unk()]).map_or(-100.0, |(p, _)| p) + backoff
    }

    fn words(&self) -> Vec<String> {
        (0..self.vocab_len)
            .map(|i| self.word(i).to_owned())
            .filter(|w| !matches!(w.as_str(), "<s>" | "</s>" | "<unk>"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bigram model written by hand (log10 values).
    fn contents() -> ScorerContents {
        let vocab: Vec<String> = ["<unk>", "<s>", "</s>", "she", "had", "your"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        ScorerContents {
            vocab,
            ngrams: vec![
                vec![
                    (vec![0], -2.0, 0.0),
                    (vec![1], -99.0, -0.5),
                    (vec![2], -1.0, 0.0),
                    (vec![3], -0.8, -0.3),
                    (vec![4], -0.9, -0.2),
                    (vec![5], -1.1, -0.1),
                ],
                vec![
                    (vec![1, 3], -0.2, 0.0),
                    (vec![3, 4], -0.1, 0.0),
                    (vec![4, 5], -0.3, 0.0),
                ],
            ],
            alpha: 0.75,
            beta: 1.5,
        }
    }

    fn written(name: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("ds-scorer-{name}-{}.scorer", std::process::id()));
        contents().write(&path).unwrap();
        path
    }

    #[test]
    fn round_trip_and_backoff_scores() {
        let path = written("ok");
        let lm = ScorerFile::open(&path).unwrap();
        assert_eq!((lm.order(), lm.alpha(), lm.beta()), (2, 0.75, 1.5));
        let id = |w| lm.word_id(w);
        assert_eq!(id("had"), 4);
        assert_eq!(id("zebra"), lm.unk());
        assert!(lm.contains("your") && !lm.contains("zebra"));
        // Present bigram.
        assert_eq!(lm.log10_prob(&[id("she")], id("had")), -0.1);
        // Backoff: bo(had) + p(she).
        assert!((lm.log10_prob(&[id("had")], id("she")) - (-0.2 - 0.8)).abs() < 1e-6);
        // A whole sentence as KenLM sums it: <s> she had your </s>.
        let s = lm.sentence_log10(&["she", "had", "your"], true, true);
        assert!((s - (-0.2 - 0.1 - 0.3 + (-0.1 - 1.0))).abs() < 1e-6, "{s}");
        assert!(lm.trie().contains("she") && !lm.trie().contains("<s>"));
        assert_eq!(lm.words().len(), 3);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn truncated_corrupted_and_foreign_files_are_refused() {
        let path = written("bad");
        let bytes = std::fs::read(&path).unwrap();
        let check = |data: &[u8], expected: &str| {
            std::fs::write(&path, data).unwrap();
            let e = ScorerFile::open(&path).unwrap_err().to_string();
            assert!(
                e.contains(expected) && e.contains("not a valid scorer"),
                "{e}"
            );
        };
        check(&bytes[..bytes.len() - 3], "truncated");
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        check(&flipped, "checksum mismatch");
        let mut version = bytes.clone();
        version[8] = 9;
        check(&version, "format version 9");
        check(
            b"ARPA text, not a scorer at all, but long enough to have a header....",
            "no DSSCORER header",
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn non_finite_or_absurd_weights_in_the_header_are_refused() {
        for (name, alpha) in [("nan", f32::NAN), ("inf", f32::INFINITY), ("huge", -1e38)] {
            let path = written(name);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[20..24].copy_from_slice(&alpha.to_le_bytes());
            std::fs::write(&path, &bytes).unwrap();
            let err = ScorerFile::open(&path).unwrap_err().to_string();
            assert!(err.contains("default alpha"), "{name}: {err}");
            std::fs::remove_file(path).unwrap();
        }
    }

    #[test]
    fn out_of_range_vocabulary_offsets_with_a_valid_checksum_are_refused() {
        let path = written("offsets");
        let lm = ScorerFile::open(&path).unwrap();
        let (offsets, spelling) = (lm.vocab_offsets, lm.by_spelling);
        drop(lm);
        let original = std::fs::read(&path).unwrap();
        for (at, value) in [(offsets + 4, u32::MAX), (spelling, 1_000_000)] {
            let mut bytes = original.clone();
            bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
            let crc = crc32fast::hash(&bytes[HEADER..]);
            bytes[28..32].copy_from_slice(&crc.to_le_bytes());
            std::fs::write(&path, &bytes).unwrap();
            let err = ScorerFile::open(&path).unwrap_err().to_string();
            assert!(err.contains("inconsistent sections"), "{err}");
        }
        std::fs::remove_file(path).unwrap();
    }
}
