//! Hot-words: per-word boosts for the beam search (DeepSpeech 0.9's `addHotWord`).

use std::collections::HashMap;

use crate::error::DecoderError;

/// Words to favour (positive boost) or avoid (negative boost).
///
/// As in DeepSpeech 0.9, a boost only acts together with a [`Scorer`](crate::lm::Scorer): at
/// every word boundary the language-model term becomes
/// `alpha × (ln P(word | context) + Σ boosts)`, the sum running over every word of the scored
/// n-gram (the new word *and* its context) found here. Without a scorer hot-words are ignored,
/// exactly as `ds_ctcdecoder` ignores them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HotWords {
    boosts: HashMap<String, f32>,
}

impl HotWords {
    /// No hot-words.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `word` or replaces its boost. The word must be non-empty without whitespace and the
    /// boost finite.
    pub fn add(&mut self, word: &str, boost: f32) -> Result<(), DecoderError> {
        if word.is_empty() || word.chars().any(char::is_whitespace) {
            return Err(DecoderError::HotWord(format!(
                "{word:?} is not a single word"
            )));
        }
        if !boost.is_finite() {
            return Err(DecoderError::HotWord(format!(
                "the boost of {word:?} is {boost}, not a finite number"
            )));
        }
        self.boosts.insert(word.to_owned(), boost);
        Ok(())
    }

    /// Removes `word`, returning its boost if it was there.
    pub fn remove(&mut self, word: &str) -> Option<f32> {
        self.boosts.remove(word)
    }

    /// Removes every hot-word.
    pub fn clear(&mut self) {
        self.boosts.clear();
    }

    /// The boost of `word`, if it is a hot-word.
    pub fn boost(&self, word: &str) -> Option<f32> {
        self.boosts.get(word).copied()
    }

    /// Number of hot-words.
    pub fn len(&self) -> usize {
        self.boosts.len()
    }

    /// Whether there is no hot-word.
    pub fn is_empty(&self) -> bool {
        self.boosts.is_empty()
    }

    /// Parses `"word:boost,word2:boost"` (DeepSpeech's `--hot_words`); spaces around items are
    /// ignored, an empty string gives no hot-words.
    pub fn parse(text: &str) -> Result<Self, DecoderError> {
        let mut out = Self::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (word, boost) = item.rsplit_once(':').ok_or_else(|| {
                DecoderError::HotWord(format!("{item:?} is not of the form word:boost"))
            })?;
            let boost: f32 = boost.trim().parse().map_err(|_| {
                DecoderError::HotWord(format!("{:?} in {item:?} is not a number", boost.trim()))
            })?;
            out.add(word.trim(), boost)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_add_remove_clear() {
        let mut h = HotWords::parse(" she:7.5, had:-2 ,").unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h.boost("she"), Some(7.5));
        assert_eq!(h.boost("had"), Some(-2.0));
        h.add("she", 1.0).unwrap();
        assert_eq!(h.boost("she"), Some(1.0));
        assert_eq!(h.remove("had"), Some(-2.0));
        assert_eq!(h.remove("had"), None);
        h.clear();
        assert!(h.is_empty());
        assert!(HotWords::parse("").unwrap().is_empty());
    }

    #[test]
    fn parse_errors_say_what() {
        let e = HotWords::parse("she").unwrap_err().to_string();
        assert!(e.contains("word:boost"), "{e}");
        let e = HotWords::parse("she:lots").unwrap_err().to_string();
        assert!(e.contains("\"lots\""), "{e}");
        let e = HotWords::parse(":3").unwrap_err().to_string();
        assert!(e.contains("single word"), "{e}");
        assert!(HotWords::new().add("a b", 1.0).is_err());
        assert!(HotWords::new().add("a", f32::NAN).is_err());
    }
}
