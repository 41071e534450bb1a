//! DeepSpeech's and Coqui STT's `.scorer` packages (`native_client/ctcdecode/scorer.cpp`,
//! written by `generate_scorer_package`): a KenLM binary model, then, where KenLM's search data
//! ends, DeepSpeech's header and its dictionary:
//!
//! | bytes | field |
//! | --- | --- |
//! | 4 | magic, the C++ multi-character constant `'TRIE'` as a little-endian `int32` (`EIRT`) |
//! | 4 | file version, `int32` 6 |
//! | 1 | UTF-8 ("bytes output") mode, `bool` |
//! | 8 | default alpha, `double` |
//! | 8 | default beta, `double` |
//! | … | the dictionary, an OpenFST `ConstFst<StdArc>` ([`super::openfst`]) |
//!
//! The dictionary spells every vocabulary word with the alphabet's labels + 1 (bytes in UTF-8
//! mode), each word followed by the space label + 1 outside UTF-8 mode; it is determinised and
//! minimised, so that the decoder walks it one label at a time.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::kenlm::{KenlmError, KenlmModel};
use super::openfst::ConstFst;
use super::{FileBytes, LeBytes};

/// `'TRIE'` as the C++ compiler stores it.
pub const MAGIC: i32 = i32::from_be_bytes(*b"TRIE");
/// The package version DeepSpeech 0.9 and Coqui STT 1.x read and write.
pub const FILE_VERSION: i32 = 6;
/// Bytes of the header between KenLM's data and the dictionary.
pub const HEADER_BYTES: usize = 25;

/// Why a `.scorer` package cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScorerPackageError {
    /// The language model inside could not be read.
    #[error(transparent)]
    Kenlm(#[from] KenlmError),
    /// The package part is missing or damaged.
    #[error("{path}: not a usable DeepSpeech scorer package ({reason})")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// An opened `.scorer` package.
pub struct ScorerPackage {
    /// The n-gram model.
    pub lm: KenlmModel,
    /// The vocabulary as an FST over alphabet labels + 1 (bytes in UTF-8 mode).
    pub dictionary: ConstFst,
    /// Whether the package is for bytes-output (UTF-8 mode) models.
    pub utf8: bool,
    /// Default language model weight.
    pub alpha: f64,
    /// Default word insertion bonus.
    pub beta: f64,
}

impl std::fmt::Debug for ScorerPackage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScorerPackage")
            .field("lm", &self.lm)
            .field("dictionary", &self.dictionary)
            .field("utf8", &self.utf8)
            .field("alpha", &self.alpha)
            .field("beta", &self.beta)
            .finish()
    }
}

impl ScorerPackage {
    /// Maps and reads a package. Opening reads headers only: the pages of the model and of the
    /// dictionary become resident as a search touches them.
    pub fn open(path: &Path) -> Result<Self, ScorerPackageError> {
        let bytes = FileBytes::map(path).map_err(|reason| KenlmError::Io {
            path: path.to_owned(),
            reason,
        })?;
        Self::from_bytes(Arc::new(bytes), path)
    }

    /// Reads a package from `bytes` (`path` names it in errors).
    pub fn from_bytes(bytes: Arc<FileBytes>, path: &Path) -> Result<Self, ScorerPackageError> {
        let invalid = |reason: String| ScorerPackageError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let lm = KenlmModel::from_bytes(bytes.clone(), path)?;
        let at = lm.end_of_search();
        if bytes.len() <= at {
            return Err(invalid(
                "a KenLM binary model without DeepSpeech's dictionary after it: package it with \
                 `generate_scorer_package` or `ds-lm --scorer_out_deepspeech`"
                    .into(),
            ));
        }
        let magic = bytes
            .i32_at(at)
            .ok_or_else(|| invalid("cut short after the model".into()))?;
        if magic != MAGIC {
            return Err(invalid(format!(
                "no 'TRIE' header after the KenLM model at byte {at} (found {:?})",
                String::from_utf8_lossy(&magic.to_le_bytes())
            )));
        }
        let version = bytes
            .i32_at(at + 4)
            .ok_or_else(|| invalid("cut short in its header".into()))?;
        if version != FILE_VERSION {
            let advice = if version < FILE_VERSION {
                "rebuild it with DeepSpeech 0.9's generate_scorer_package"
            } else {
                "it is newer than DeepSpeech 0.9 and Coqui STT 1.x"
            };
            return Err(invalid(format!(
                "package version {version}, this reader reads version {FILE_VERSION}: {advice}"
            )));
        }
        let cut = || invalid("cut short in its header".into());
        let utf8 = match bytes.get(at + 8).ok_or_else(cut)? {
            0 => false,
            1 => true,
            other => return Err(invalid(format!("UTF-8 mode flag {other}, not a bool"))),
        };
        let alpha = bytes.f64_at(at + 9).ok_or_else(cut)?;
        let beta = bytes.f64_at(at + 17).ok_or_else(cut)?;
        if !alpha.is_finite() || !beta.is_finite() {
            return Err(invalid(format!("default alpha {alpha} and beta {beta}")));
        }
        let dictionary = ConstFst::read(bytes, at + HEADER_BYTES)
            .map_err(|reason| invalid(format!("dictionary: {reason}")))?;
        Ok(Self {
            lm,
            dictionary,
            utf8,
            alpha,
            beta,
        })
    }
}

/// A package of our own model as DeepSpeech's `generate_scorer_package` would write it, but
/// with KenLM's probing hash tables ([`super::kenlm::write`]) rather than the quantised trie:
/// both DeepSpeech's and Coqui's runtimes load either. The dictionary spells every word of the
/// vocabulary that the alphabet can spell (others are left out, as DeepSpeech leaves them out),
/// each followed by the space.
pub fn package_bytes(
    model: &super::kenlm::write::NgramTables,
    alphabet: &crate::Alphabet,
    alpha: f32,
    beta: f32,
) -> Result<Vec<u8>, String> {
    let space = alphabet
        .label(' ')
        .ok_or("the alphabet has no space, which a word-based package needs")?;
    let mut out = super::kenlm::write::probing_binary(model)?;
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&FILE_VERSION.to_le_bytes());
    out.push(0);
    // DeepSpeech passes the weights through `float` before storing them as doubles.
    out.extend_from_slice(&f64::from(alpha).to_le_bytes());
    out.extend_from_slice(&f64::from(beta).to_le_bytes());
    let words: Vec<Vec<i32>> = model
        .vocab
        .iter()
        .filter(|w| !matches!(w.as_str(), "<s>" | "</s>" | "<unk>"))
        .filter_map(|w| {
            w.chars()
                .map(|c| alphabet.label(c).map(|l| l as i32 + 1))
                .chain([Some(space as i32 + 1)])
                .collect::<Option<Vec<i32>>>()
        })
        .collect();
    let at = out.len();
    out.extend(super::openfst::write_dictionary(&words, at));
    Ok(out)
}

/// Writes [`package_bytes`] to `path` atomically (a temporary file renamed into place).
pub fn write_package(
    path: &Path,
    model: &super::kenlm::write::NgramTables,
    alphabet: &crate::Alphabet,
    alpha: f32,
    beta: f32,
) -> Result<(), ScorerPackageError> {
    let invalid = |reason: String| ScorerPackageError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let bytes = package_bytes(model, alphabet, alpha, beta).map_err(invalid)?;
    crate::model::io::write_file_atomic(path, &[&bytes])
        .map_err(|e| invalid(format!("cannot write it: {e}")))
}
