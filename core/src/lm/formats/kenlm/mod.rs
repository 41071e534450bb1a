//! KenLM's binary language models, as `build_binary` writes them (binary format version 5) and
//! KenLM's `lm::ngram::GenericModel` reads them, scored exactly as KenLM scores them.
//!
//! Layout: a header (`lm/binary_format.cc`: the `Sanity` block, the model type, the order, the
//! n-gram counts), the vocabulary (sorted 64-bit word hashes for tries, a probing hash table for
//! the probing model), the search structure ([`trie`]: bit-packed, optionally quantised, with
//! optionally array-compressed pointers; [`probing`]: one hash table per order), and optionally
//! the words' text. DeepSpeech's `.scorer` packages append their own data where the search
//! ends ([`KenlmModel::end_of_search`]).
//!
//! Scores: [`KenlmModel::score`] is KenLM's `FullScore` (the longest matching n-gram's log10
//! probability plus the back-offs of the longer contexts kept in the [`State`]), with KenLM's
//! right-state minimisation, so that every float is summed as KenLM sums it.

mod bits;
mod probing;
mod trie;
pub mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{FileBytes, LeBytes};
use crate::lm::{LanguageModel, WordId};

/// The longest order this reader accepts (KenLM's default `KENLM_MAX_ORDER`, and DeepSpeech's).
pub const MAX_ORDER: usize = 6;

/// The first bytes of every finished KenLM binary file.
pub const MAGIC: &[u8] = b"mmap lm http://kheafield.com/code format version 5\n\0";
/// What KenLM writes first while a binary file is still being built.
const MAGIC_INCOMPLETE: &[u8] = b"mmap lm http://kheafield.com/code incomplete\n";
/// The magic's prefix shared by every version.
const MAGIC_ANY_VERSION: &[u8] = b"mmap lm http://kheafield.com/code format version";

/// `sizeof(Sanity)`: the magic padded to 8 bytes, then the test values.
const SANITY: usize = 88;
/// `sizeof(FixedWidthParameters)`.
const FIXED_PARAMETERS: usize = 20;

/// Why a KenLM binary file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KenlmError {
    /// The file could not be read.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        reason: std::io::Error,
    },
    /// The bytes are not a KenLM binary model this reader supports.
    #[error("{path}: not a usable KenLM binary language model ({reason})")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// KenLM's model types (`lm/model_type.hh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelType {
    /// Probing hash tables (`build_binary probing`).
    Probing,
    /// Probing hash tables with rest costs (not read here).
    RestProbing,
    /// Bit-packed trie.
    Trie,
    /// Trie with quantised probabilities and back-offs (`-q`).
    QuantTrie,
    /// Trie with array-compressed pointers (`-a`).
    ArrayTrie,
    /// Both (`-a -q`, DeepSpeech's `generate_lm.py` default).
    QuantArrayTrie,
}

impl ModelType {
    fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => Self::Probing,
            1 => Self::RestProbing,
            2 => Self::Trie,
            3 => Self::QuantTrie,
            4 => Self::ArrayTrie,
            5 => Self::QuantArrayTrie,
            _ => return None,
        })
    }

    /// KenLM's name for the type (`kModelNames`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Probing => "probing hash tables",
            Self::RestProbing => "probing hash tables with rest costs",
            Self::Trie => "trie",
            Self::QuantTrie => "trie with quantization",
            Self::ArrayTrie => "trie with array-compressed pointers",
            Self::QuantArrayTrie => "trie with quantization and array-compressed pointers",
        }
    }
}

/// The fixed part of a KenLM binary header.
#[derive(Debug, Clone)]
struct Header {
    model_type: ModelType,
    counts: Vec<u64>,
    probing_multiplier: f32,
    has_vocabulary: bool,
    /// Bytes of the header, padded to 8: where the vocabulary starts.
    size: usize,
}

/// `ALIGN8`.
fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// Whether `bytes` start like a KenLM binary file (any version, finished or not).
pub fn looks_like_kenlm(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC_ANY_VERSION) || bytes.starts_with(MAGIC_INCOMPLETE)
}

fn read_header(bytes: &[u8]) -> Result<Header, String> {
    if bytes.starts_with(MAGIC_INCOMPLETE) {
        return Err("build_binary did not finish writing this file".into());
    }
    if !bytes.starts_with(MAGIC) {
        if bytes.starts_with(MAGIC_ANY_VERSION) {
            let version: String = bytes[MAGIC_ANY_VERSION.len()..]
                .iter()
                .take(8)
                .take_while(|b| b.is_ascii_graphic() || **b == b' ')
                .map(|&b| b as char)
                .collect();
            return Err(format!(
                "binary format version{version}, this reader supports version 5 (rebuild it from \
                 its ARPA file with a current build_binary)"
            ));
        }
        return Err("no KenLM binary header".into());
    }
    let sanity_ok = bytes.f32_at(56) == Some(0.0)
        && bytes.f32_at(60) == Some(1.0)
        && bytes.f32_at(64) == Some(-0.5)
        && bytes.u32_at(68) == Some(1)
        && bytes.u32_at(72) == Some(u32::MAX)
        && bytes.u64_at(80) == Some(1);
    if !sanity_ok {
        return Err("the header's test values do not match (a big-endian or damaged file)".into());
    }
    let truncated = || "the file ends inside its header".to_string();
    let order = usize::from(*bytes.get(SANITY).ok_or_else(truncated)?);
    let probing_multiplier = bytes.f32_at(SANITY + 4).ok_or_else(truncated)?;
    let code = bytes.u32_at(SANITY + 8).ok_or_else(truncated)?;
    let has_vocabulary = *bytes.get(SANITY + 12).ok_or_else(truncated)? != 0;
    let search_version = bytes.u32_at(SANITY + 16).ok_or_else(truncated)?;
    let model_type =
        ModelType::from_code(code).ok_or_else(|| format!("unknown model type {code}"))?;
    if !(2..=MAX_ORDER).contains(&order) {
        return Err(format!(
            "order {order}; this reader supports orders 2 to {MAX_ORDER}"
        ));
    }
    let expected_version = if matches!(model_type, ModelType::Probing | ModelType::RestProbing) {
        0
    } else {
        1
    };
    if search_version != expected_version {
        return Err(format!(
            "{} version {search_version}, expected {expected_version}",
            model_type.name()
        ));
    }
    let counts = (0..order)
        .map(|i| bytes.u64_at(SANITY + FIXED_PARAMETERS + 8 * i))
        .collect::<Option<Vec<u64>>>()
        .ok_or_else(truncated)?;
    if counts.iter().any(|&c| c == 0 || c >= 1 << 57) {
        return Err(format!("impossible n-gram counts {counts:?}"));
    }
    if counts[0] > u64::from(u32::MAX) {
        return Err(format!("{} words do not fit 32-bit word ids", counts[0]));
    }
    Ok(Header {
        model_type,
        counts,
        probing_multiplier,
        has_vocabulary,
        size: align8(SANITY + FIXED_PARAMETERS + 8 * order),
    })
}

/// KenLM's `lm::ngram::State`: the most recent words (newest first) that a longer n-gram could
/// still extend, with their contexts' back-offs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct State {
    words: [WordId; MAX_ORDER - 1],
    backoff: [f32; MAX_ORDER - 1],
    length: usize,
}

impl State {
    /// KenLM's `NullContextState`: no words.
    pub const NULL: Self = Self {
        words: [0; MAX_ORDER - 1],
        backoff: [0.0; MAX_ORDER - 1],
        length: 0,
    };

    /// The words kept, newest first.
    pub fn words(&self) -> &[WordId] {
        &self.words[..self.length]
    }
}

/// What a search structure answers, KenLM's `Search` concept.
trait Search {
    /// Where to look for the longer n-grams ending with the words seen so far.
    type Node: Copy;
    /// Unigram `word`: (log10 prob, back-off, node, independent-left).
    fn unigram(&self, bytes: &[u8], word: WordId) -> (f32, f32, Self::Node, bool);
    /// The `order_minus_2 + 2`-gram extending `node` to the left by `word`: (prob, back-off)
    /// and whether no longer n-gram extends it; `node` moves to it.
    fn middle(
        &self,
        bytes: &[u8],
        order_minus_2: usize,
        word: WordId,
        node: &mut Self::Node,
    ) -> (Option<(f32, f32)>, bool);
    /// The highest-order n-gram extending `node` by `word`: its log10 prob.
    fn longest(&self, bytes: &[u8], word: WordId, node: Self::Node) -> Option<f32>;
}

/// The vocabulary and search structure of a loaded model.
enum Structure {
    Trie(trie::TrieModel),
    Probing(probing::ProbingModel),
}

/// A KenLM binary model, memory-mapped and read in place.
pub struct KenlmModel {
    bytes: Arc<FileBytes>,
    header: Header,
    structure: Structure,
    end_of_search: usize,
    bos: WordId,
    eos: WordId,
    begin_sentence: State,
    words: Vec<String>,
}

impl std::fmt::Debug for KenlmModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KenlmModel")
            .field("type", &self.header.model_type.name())
            .field("counts", &self.header.counts)
            .finish()
    }
}

impl KenlmModel {
    /// Maps and reads a KenLM binary file.
    pub fn open(path: &Path) -> Result<Self, KenlmError> {
        let bytes = FileBytes::map(path).map_err(|reason| KenlmError::Io {
            path: path.to_owned(),
            reason,
        })?;
        Self::from_bytes(Arc::new(bytes), path)
    }

    /// Reads a KenLM binary model from `bytes` (`path` names it in errors). The bytes may go on
    /// past the model (a `.scorer` package's dictionary).
    pub fn from_bytes(bytes: Arc<FileBytes>, path: &Path) -> Result<Self, KenlmError> {
        let invalid = |reason: String| KenlmError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let header = read_header(&bytes).map_err(invalid)?;
        let (structure, end_of_search) = match header.model_type {
            ModelType::RestProbing => {
                return Err(invalid(
                    "probing hash tables with rest costs are not supported: rebuild with \
                     `build_binary trie` or `build_binary probing`"
                        .into(),
                ));
            }
            ModelType::Probing => {
                let (model, end) = probing::ProbingModel::layout(
                    &bytes,
                    header.size,
                    &header.counts,
                    header.probing_multiplier,
                )
                .map_err(invalid)?;
                (Structure::Probing(model), end)
            }
            kind => {
                let (model, end) =
                    trie::TrieModel::layout(&bytes, header.size, &header.counts, kind)
                        .map_err(invalid)?;
                (Structure::Trie(model), end)
            }
        };
        if end_of_search > bytes.len() {
            return Err(invalid(format!(
                "the file has {} bytes but its header says the model takes {end_of_search}",
                bytes.len()
            )));
        }
        let words = if header.has_vocabulary {
            read_words(&bytes[end_of_search..], header.counts[0]).map_err(invalid)?
        } else {
            Vec::new()
        };
        let mut model = Self {
            bytes,
            header,
            structure,
            end_of_search,
            bos: 0,
            eos: 0,
            begin_sentence: State::NULL,
            words,
        };
        model.bos = model.index("<s>");
        model.eos = model.index("</s>");
        if model.bos == 0 || model.eos == 0 {
            return Err(invalid("the vocabulary has no <s> or no </s>".into()));
        }
        // KenLM's begin-sentence state: <s> with its unigram back-off, length 1.
        let backoff = model.unigram_backoff(model.bos);
        model.begin_sentence.words[0] = model.bos;
        model.begin_sentence.backoff[0] = backoff;
        model.begin_sentence.length = 1;
        Ok(model)
    }

    /// The model type.
    pub fn model_type(&self) -> ModelType {
        self.header.model_type
    }

    /// The n-gram counts, unigrams first (`<unk>` included).
    pub fn counts(&self) -> &[u64] {
        &self.header.counts
    }

    /// The byte offset where KenLM's search data ends (KenLM's `GetEndOfSearchOffset`):
    /// a `.scorer` package's own data starts there.
    pub fn end_of_search(&self) -> usize {
        self.end_of_search
    }

    /// The whole file's bytes.
    pub fn bytes(&self) -> &Arc<FileBytes> {
        &self.bytes
    }

    /// KenLM's `Vocabulary::Index`: the word's id, 0 (`<unk>`) when unknown.
    pub fn index(&self, word: &str) -> WordId {
        let hash = bits::murmur_hash64a(word.as_bytes());
        match &self.structure {
            Structure::Trie(m) => m.index(&self.bytes, hash),
            Structure::Probing(m) => m.index(&self.bytes, hash),
        }
    }

    /// KenLM's `BeginSentenceState`.
    pub fn begin_sentence(&self) -> State {
        self.begin_sentence
    }

    /// The unigram back-off of `word`.
    fn unigram_backoff(&self, word: WordId) -> f32 {
        match &self.structure {
            Structure::Trie(m) => m.unigram(&self.bytes, word).1,
            Structure::Probing(m) => m.unigram(&self.bytes, word).1,
        }
    }

    /// KenLM's `FullScore`: log10 P(`word` | `state`) and the state after it.
    pub fn score(&self, state: &State, word: WordId) -> (f32, State) {
        match &self.structure {
            Structure::Trie(m) => full_score(m, &self.bytes, self.order(), state, word),
            Structure::Probing(m) => full_score(m, &self.bytes, self.order(), state, word),
        }
    }
}

/// KenLM's `GenericModel::FullScore` (with `ScoreExceptBackoff` and `ResumeScore`).
fn full_score<S: Search>(
    search: &S,
    bytes: &[u8],
    order: usize,
    in_state: &State,
    word: WordId,
) -> (f32, State) {
    let mut out = State::NULL;
    let (mut prob, backoff, mut node, mut independent_left) = search.unigram(bytes, word);
    let mut ngram_length = 1;
    out.backoff[0] = backoff;
    out.length = usize::from(bits::has_extension(backoff));
    out.words[0] = word;
    let context = in_state.words();
    for (order_minus_2, &previous) in context.iter().enumerate() {
        if independent_left {
            break;
        }
        if order_minus_2 == order - 2 {
            if let Some(p) = search.longest(bytes, previous, node) {
                prob = p;
                ngram_length = order;
            }
            break;
        }
        let (found, independent) = search.middle(bytes, order_minus_2, previous, &mut node);
        independent_left = independent;
        let Some((p, b)) = found else {
            break;
        };
        out.backoff[order_minus_2 + 1] = b;
        prob = p;
        ngram_length = order_minus_2 + 2;
        if bits::has_extension(b) {
            out.length = ngram_length;
        }
    }
    // CopyRemainingHistory: the words kept after `word` are the newest of the context.
    if out.length > 1 {
        out.words[1..out.length].copy_from_slice(&context[..out.length - 1]);
    }
    for &b in &in_state.backoff[ngram_length - 1..in_state.length.max(ngram_length - 1)] {
        prob += b;
    }
    (prob, out)
}

/// The words' text KenLM stores after the search when built with the vocabulary: `<unk>\0`,
/// then the other words in id order, each ending with `\0`.
fn read_words(bytes: &[u8], count: u64) -> Result<Vec<String>, String> {
    let mut words = Vec::with_capacity(count.min(1 << 24) as usize);
    let mut rest = bytes;
    while (words.len() as u64) < count {
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or("the vocabulary's words end early")?;
        words.push(String::from_utf8_lossy(&rest[..end]).into_owned());
        rest = &rest[end + 1..];
    }
    if words.first().map(String::as_str) != Some("<unk>") {
        return Err("the vocabulary's words do not start with <unk>".into());
    }
    Ok(words)
}

impl LanguageModel for KenlmModel {
    fn order(&self) -> usize {
        self.header.counts.len()
    }

    fn check_unchanged(&self) -> Result<(), crate::mapped_file::FileChangedError> {
        self.bytes.check_unchanged()
    }

    fn word_id(&self, word: &str) -> WordId {
        self.index(word)
    }

    fn contains(&self, word: &str) -> bool {
        self.index(word) != 0
    }

    fn bos(&self) -> WordId {
        self.bos
    }

    fn eos(&self) -> WordId {
        self.eos
    }

    fn unk(&self) -> WordId {
        0
    }

    /// As DeepSpeech's `Scorer::get_log_cond_prob` and KenLM's `Model.score` reach it: the
    /// state starts as KenLM's begin-sentence state when `context` starts with `<s>` (the null
    /// context otherwise) and takes in the context's words one by one.
    fn log10_prob(&self, context: &[WordId], word: WordId) -> f32 {
        let (mut state, rest) = match context.split_first() {
            Some((&first, rest)) if first == self.bos => (self.begin_sentence, rest),
            _ => (State::NULL, context),
        };
        for &w in rest {
            state = self.score(&state, w).1;
        }
        self.score(&state, word).0
    }

    fn words(&self) -> Vec<String> {
        self.words
            .iter()
            .filter(|w| !matches!(w.as_str(), "<s>" | "</s>" | "<unk>"))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes_are_kenlms() {
        assert_eq!(MAGIC.len() + 1, 53, "sizeof(kMagicBytes)");
        assert_eq!(align8(53) + 32, SANITY);
        assert_eq!(align8(SANITY + FIXED_PARAMETERS + 8 * 3), 136);
    }

    #[test]
    fn foreign_bytes_get_a_reason() {
        assert!(read_header(b"hello").unwrap_err().contains("no KenLM"));
        assert!(
            read_header(MAGIC_INCOMPLETE)
                .unwrap_err()
                .contains("did not finish")
        );
        let mut v4 = b"mmap lm http://kheafield.com/code format version 4\n\0".to_vec();
        v4.resize(200, 0);
        assert!(read_header(&v4).unwrap_err().contains("version 4"));
        let mut short = MAGIC.to_vec();
        short.resize(100, 0);
        assert!(read_header(&short).unwrap_err().contains("test values"));
    }
}
