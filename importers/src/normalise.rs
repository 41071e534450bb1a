//! Transcript normalisation: from a corpus sentence ("Naïve café, isn't it?") to the
//! alphabet's text ("naive cafe isn't it"), or a reason to skip the row.
//!
//! Rules, applied in order, character by character after lower-casing:
//! 1. a character the alphabet has is kept as it is (so a French alphabet keeps `é`);
//! 2. typographic apostrophes (`’ ‘ ʼ ´ ``) become `'`;
//! 3. a letter the alphabet lacks is replaced by its base letter when it has one that the
//!    alphabet has (`é` → `e`, `ﬁ` → `fi`: Unicode compatibility decomposition without marks);
//! 4. dashes, slashes and underscores become a space (`well-known` → `well known`), other
//!    punctuation and symbols are removed;
//! 5. runs of white space become one space; apostrophes not attached to a letter are removed.
//!
//! Digits are not guessed at: a transcript with digits is skipped (as DeepSpeech's importers
//! did), unless numbers are spelled out ([`Normaliser::spell_numbers`], English only). A
//! character still outside the alphabet after all this skips the row.

use deepspeech_core::Alphabet;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::numbers::spell_numbers;

/// Why a transcript cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscriptError {
    /// Nothing is left after normalisation.
    Empty,
    /// The transcript has digits and numbers are not spelled out.
    Digits,
    /// Characters outside the alphabet remain (listed once each, in order of appearance).
    OutsideAlphabet(Vec<char>),
}

/// Turns corpus transcripts into text over one alphabet.
#[derive(Debug, Clone)]
pub struct Normaliser {
    alphabet: Alphabet,
    spell_numbers: bool,
}

impl Normaliser {
    /// A normaliser for `alphabet`; digits skip the row.
    pub fn new(alphabet: Alphabet) -> Self {
        Self {
            alphabet,
            spell_numbers: false,
        }
    }

    /// Spells numbers out in English words (`42` → `forty two`, `3rd` → `third`) instead of
    /// skipping rows with digits.
    pub fn spell_numbers(mut self, spell: bool) -> Self {
        self.spell_numbers = spell;
        self
    }

    /// The alphabet transcripts are normalised to.
    pub fn alphabet(&self) -> &Alphabet {
        &self.alphabet
    }

    /// Normalises one transcript.
    pub fn normalise(&self, raw: &str) -> Result<String, TranscriptError> {
        let lower = raw.to_lowercase();
        let has = |c: char| self.alphabet.label(c).is_some();
        let text = if lower.chars().any(|c| c.is_numeric() && !has(c)) {
            if !self.spell_numbers {
                return Err(TranscriptError::Digits);
            }
            spell_numbers(&lower)
        } else {
            lower
        };
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if has(c) {
                out.push(c);
            } else if is_apostrophe(c) && has('\'') {
                out.push('\'');
            } else if c.is_whitespace() {
                out.push(' ');
            } else if c.is_alphabetic() || is_combining_mark(c) {
                // Keep what cannot be folded, so that the row is reported, not silently changed.
                let folded: String = c.nfkd().filter(|&d| !is_combining_mark(d)).collect();
                if !folded.is_empty() && folded.chars().all(has) {
                    out.push_str(&folded);
                } else if !is_combining_mark(c) {
                    out.push(c);
                }
            } else if matches!(
                c,
                '-' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '/' | '\\' | '_'
            ) {
                out.push(' ');
            } else if c.is_numeric() {
                // A digit left by the speller (e.g. in "1.5"): keep it, the check below reports it.
                out.push(c);
            }
            // Any other punctuation or symbol is dropped.
        }
        let cleaned = tidy(&out, has('\''));
        if cleaned.chars().any(|c| c.is_numeric() && !has(c)) {
            return Err(TranscriptError::Digits);
        }
        let mut outside: Vec<char> = Vec::new();
        for c in cleaned.chars().filter(|&c| !has(c)) {
            if !outside.contains(&c) {
                outside.push(c);
            }
        }
        if !outside.is_empty() {
            return Err(TranscriptError::OutsideAlphabet(outside));
        }
        if cleaned.is_empty() {
            return Err(TranscriptError::Empty);
        }
        Ok(cleaned)
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | 'ʼ' | '´' | '`' | 'ʹ' | '′')
}

/// Collapses white space and drops apostrophes that do not touch a letter (quotes like
/// `'hello'` keep `hello`; `isn't`, `dogs'` and `'tis` keep theirs).
fn tidy(text: &str, keep_apostrophes: bool) -> String {
    let words = text
        .split(' ')
        .filter(|w| !w.is_empty())
        .filter_map(|word| {
            let word = if keep_apostrophes {
                // Quotes wrapping a word: 'hello' → hello; a single leading or trailing one stays.
                if word.len() > 2 && word.starts_with('\'') && word.ends_with('\'') {
                    &word[1..word.len() - 1]
                } else {
                    word
                }
            } else {
                word
            };
            (!word.chars().all(|c| c == '\'')).then_some(word)
        });
    words.collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english() -> Normaliser {
        Normaliser::new(Alphabet::english())
    }

    #[test]
    fn lower_cases_folds_accents_and_drops_punctuation() {
        let n = english();
        assert_eq!(
            n.normalise("Naïve café, isn’t it?").unwrap(),
            "naive cafe isn't it"
        );
        assert_eq!(
            n.normalise("  A well-known  \"quote\"… ").unwrap(),
            "a well known quote"
        );
        assert_eq!(
            n.normalise("'Hello,' she said ' the dogs' 'tis").unwrap(),
            "hello she said the dogs' 'tis"
        );
        assert_eq!(n.normalise("Ｆｕｌｌ ﬁne").unwrap(), "full fine");
    }

    #[test]
    fn digits_and_foreign_letters_are_reasons_to_skip() {
        let n = english();
        assert_eq!(n.normalise("Room 101 please"), Err(TranscriptError::Digits));
        assert_eq!(
            n.normalise("Straße nach Москва"),
            Err(TranscriptError::OutsideAlphabet(vec![
                'ß', 'м', 'о', 'с', 'к', 'в', 'а'
            ]))
        );
        assert_eq!(n.normalise(" ?! … "), Err(TranscriptError::Empty));
        assert_eq!(n.normalise(""), Err(TranscriptError::Empty));
    }

    #[test]
    fn numbers_are_spelled_when_asked() {
        let n = english().spell_numbers(true);
        assert_eq!(
            n.normalise("Room 101, the 3rd of 1,200").unwrap(),
            "room one hundred one the third of one thousand two hundred"
        );
    }

    #[test]
    fn an_alphabet_with_accents_keeps_them() {
        let french = Alphabet::parse(
            &" abcdefghijklmnopqrstuvwxyzéèàç'"
                .chars()
                .map(|c| format!("{c}\n"))
                .collect::<String>(),
        )
        .unwrap();
        let n = Normaliser::new(french);
        assert_eq!(n.normalise("Déjà vu, Noël").unwrap(), "déjà vu noel");
    }
}
