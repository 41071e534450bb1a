//! Word-level n-gram language models for the CTC beam search, as DeepSpeech's external scorer
//! uses them: `alpha × ln P(word | history) + beta` at each completed word, with an optional
//! vocabulary trie that restricts partial words. [`kneser_ney`] builds such a model from text,
//! as KenLM's `lmplz` does.

pub mod arpa;
pub mod binary;
pub mod formats;
pub mod kneser_ney;
pub mod trie;

use std::sync::Arc;

pub use arpa::ArpaModel;
pub use trie::VocabTrie;

/// A word's index in a language model's vocabulary.
pub type WordId = u32;

/// An n-gram language model (KenLM's conventions: log10 probabilities, `<s>`, `</s>`, `<unk>`).
pub trait LanguageModel: Send + Sync {
    /// Highest n-gram order.
    fn order(&self) -> usize;
    /// The id of `word`, or [`unk`](Self::unk) when it is not in the vocabulary.
    fn word_id(&self, word: &str) -> WordId;
    /// Whether `word` is in the vocabulary.
    fn contains(&self, word: &str) -> bool;
    /// Id of the sentence start `<s>`.
    fn bos(&self) -> WordId;
    /// Id of the sentence end `</s>`.
    fn eos(&self) -> WordId;
    /// Id of the unknown word `<unk>`.
    fn unk(&self) -> WordId;
    /// log10 P(`word` | `context`), `context` being the preceding words, oldest first (only the
    /// last `order − 1` matter), with backoff as KenLM computes it.
    fn log10_prob(&self, context: &[WordId], word: WordId) -> f32;
    /// Every vocabulary word except `<s>`, `</s>` and `<unk>` (to build a [`VocabTrie`]).
    fn words(&self) -> Vec<String>;
    /// `Ok` when the file the model reads in place is as it was when opened (see
    /// [`MappedFile::check_unchanged`](crate::mapped_file::MappedFile::check_unchanged));
    /// models held in memory are always unchanged.
    fn check_unchanged(&self) -> Result<(), crate::mapped_file::FileChangedError> {
        Ok(())
    }

    /// log10 probability of a whole sentence, as KenLM's `Model.score(sentence, bos, eos)`.
    fn sentence_log10(&self, words: &[&str], bos: bool, eos: bool) -> f32 {
        let mut context: Vec<WordId> = Vec::with_capacity(words.len() + 2);
        if bos {
            context.push(self.bos());
        }
        let mut total = 0.0;
        for w in words {
            let id = self.word_id(w);
            total += self.log10_prob(&context, id);
            context.push(id);
        }
        if eos {
            total += self.log10_prob(&context, self.eos());
        }
        total
    }
}

/// The language model as the decoder uses it: weights, and the vocabulary restriction.
#[derive(Clone)]
pub struct Scorer {
    /// The n-gram model.
    pub lm: Arc<dyn LanguageModel>,
    /// Language model weight (DeepSpeech's default 0.931289).
    pub alpha: f32,
    /// Word insertion bonus (DeepSpeech's default 1.183414).
    pub beta: f32,
    /// When set, words are restricted to this vocabulary as they are spelled.
    pub vocabulary: Option<Arc<Vocabulary>>,
}

/// The words a scorer lets the decoder spell.
#[derive(Debug)]
pub enum Vocabulary {
    /// A character trie (ARPA models and our binary scorer files).
    Trie(Arc<VocabTrie>),
    /// DeepSpeech's dictionary FST over alphabet labels + 1, from a `.scorer` package
    /// ([`formats::deepspeech_scorer`]).
    Fst {
        /// The dictionary.
        dictionary: formats::openfst::ConstFst,
        /// Whether it spells bytes (a package for bytes-output, "UTF-8 mode", models).
        utf8: bool,
    },
}

impl Vocabulary {
    /// The character trie, when the vocabulary is one.
    pub fn trie(&self) -> Option<&VocabTrie> {
        match self {
            Self::Trie(trie) => Some(trie),
            Self::Fst { .. } => None,
        }
    }

    /// Whether the words are spelled in bytes (a UTF-8 mode package).
    pub fn is_utf8(&self) -> bool {
        matches!(self, Self::Fst { utf8: true, .. })
    }
}

impl std::fmt::Debug for Scorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scorer")
            .field("order", &self.lm.order())
            .field("alpha", &self.alpha)
            .field("beta", &self.beta)
            .field("vocabulary", &self.vocabulary)
            .finish()
    }
}

/// DeepSpeech 0.9's default language model weight.
pub const DEFAULT_ALPHA: f32 = 0.931_289;
/// DeepSpeech 0.9's default word insertion bonus.
pub const DEFAULT_BETA: f32 = 1.183_414;

/// log10(e): DeepSpeech divides KenLM's log10 scores by it to get natural logs.
pub const LOG10_E: f32 = std::f32::consts::LOG10_E;

impl Scorer {
    /// A scorer with DeepSpeech's default weights, restricting words to the model's vocabulary.
    pub fn new(lm: Arc<dyn LanguageModel>) -> Self {
        let vocabulary = Arc::new(Vocabulary::Trie(Arc::new(VocabTrie::from_words(
            lm.words().iter().map(String::as_str),
        ))));
        Self {
            lm,
            alpha: DEFAULT_ALPHA,
            beta: DEFAULT_BETA,
            vocabulary: Some(vocabulary),
        }
    }

    /// Opens a language model file for the decoder, choosing the format from its first bytes:
    ///
    /// - a DeepSpeech or Coqui STT `.scorer` package (KenLM's binary header first) is
    ///   memory-mapped and read in place ([`formats::deepspeech_scorer`]); alpha, beta and the
    ///   dictionary come from the package;
    /// - a binary scorer file ([`binary::MAGIC`], written by `ds-lm --scorer`) is memory-mapped
    ///   and checked ([`binary::ScorerFile::open`]); alpha, beta and the vocabulary trie come
    ///   from the file;
    /// - an ARPA text file (`\data\`, possibly after blank and `#` lines) is loaded as an
    ///   [`ArpaModel`] with DeepSpeech's default weights and a trie built from its words.
    ///
    /// Errors name the file: missing or unreadable, truncated or corrupted scorer, malformed
    /// ARPA (with the line), or neither format.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> crate::Result<Self> {
        use std::io::Read;
        let path = path.as_ref();
        let io = |reason| binary::ScorerFileError::Io {
            path: path.to_owned(),
            reason,
        };
        let mut head = Vec::with_capacity(4096);
        std::fs::File::open(path)
            .map_err(io)?
            .take(4096)
            .read_to_end(&mut head)
            .map_err(io)?;
        if head.starts_with(binary::MAGIC) {
            let file = binary::ScorerFile::open(path)?;
            let (alpha, beta, vocabulary) = (file.alpha(), file.beta(), file.shared_trie());
            return Ok(Self {
                lm: Arc::new(file),
                alpha,
                beta,
                vocabulary: Some(Arc::new(Vocabulary::Trie(vocabulary))),
            });
        }
        if formats::kenlm::looks_like_kenlm(&head) {
            return Ok(Self::from_package(
                formats::deepspeech_scorer::ScorerPackage::open(path)?,
            ));
        }
        if looks_like_arpa(&head) {
            return Ok(Self::new(Arc::new(ArpaModel::from_file(path)?)));
        }
        let what = if head.is_empty() {
            "the file is empty".to_string()
        } else if head.starts_with(&[0x1f, 0x8b]) {
            "this is gzip data: decompress it first".to_string()
        } else {
            "neither a scorer (no DSSCORER or KenLM header) nor an ARPA file (no \\data\\ header)"
                .to_string()
        };
        Err(binary::ScorerFileError::Invalid {
            path: path.to_owned(),
            reason: what,
        }
        .into())
    }

    /// The scorer of a DeepSpeech `.scorer` package: its KenLM model, its default weights (as
    /// DeepSpeech reads them: doubles passed on as floats) and its dictionary.
    pub fn from_package(package: formats::deepspeech_scorer::ScorerPackage) -> Self {
        Self {
            alpha: package.alpha as f32,
            beta: package.beta as f32,
            vocabulary: Some(Arc::new(Vocabulary::Fst {
                dictionary: package.dictionary,
                utf8: package.utf8,
            })),
            lm: Arc::new(package.lm),
        }
    }

    /// A binary scorer built into the program (`include_bytes!`), checked as
    /// [`Self::from_file`] checks a file; `name` stands for the path in errors.
    pub fn from_static(bytes: &'static [u8], name: &str) -> crate::Result<Self> {
        let file = binary::ScorerFile::from_static(bytes, std::path::Path::new(name))?;
        let (alpha, beta, vocabulary) = (file.alpha(), file.beta(), file.shared_trie());
        Ok(Self {
            lm: Arc::new(file),
            alpha,
            beta,
            vocabulary: Some(Arc::new(Vocabulary::Trie(vocabulary))),
        })
    }

    /// `Ok` when the scorer's file has not changed on disk since it was opened: results computed
    /// while it changed (a package rewritten in place under a running pipeline) are not to be
    /// trusted, and the error says to reopen it.
    pub fn check_unchanged(&self) -> crate::Result<()> {
        Ok(self.lm.check_unchanged()?)
    }

    /// Natural-log conditional probability of `word` after `context` (DeepSpeech's
    /// `get_log_cond_prob`): KenLM's log10 score divided by log10(e).
    pub fn ln_cond_prob(&self, context: &[WordId], word: WordId) -> f32 {
        self.lm.log10_prob(context, word) / LOG10_E
    }
}

/// Whether the first bytes of a file look like ARPA text: `\data\` after blank and `#` comment
/// lines (as KenLM reads them), or only comments within the bytes seen.
fn looks_like_arpa(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let complete = lines.peek().is_some();
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        return t.starts_with("\\data\\") || (!complete && "\\data\\".starts_with(t));
    }
    head.len() >= 4096
}
