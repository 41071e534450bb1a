//! What decoding returns: text, confidence, and per-word timings in seconds from the start of
//! the stream.

use crate::alphabet::Alphabet;
use crate::decoder::{Candidate, GreedyToken};

/// One word with its timing.
#[derive(Debug, Clone, PartialEq)]
pub struct WordTiming {
    /// The word.
    pub word: String,
    /// Start in seconds (the frame where its first character wins).
    pub start: f64,
    /// Duration in seconds, to the end of the frame of its last character.
    pub duration: f64,
    /// Mean per-frame log-probability of its characters (higher is surer; 0 is certain).
    pub confidence: f64,
}

/// One character of a transcript at the frame where the decoder placed it (DeepSpeech's
/// `TokenMetadata`).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenTiming {
    /// The character.
    pub text: String,
    /// Its frame (in units of the model's feature step: 20 ms for DeepSpeech's models).
    pub frame: usize,
    /// `frame × step`, in seconds.
    pub start: f64,
}

/// A decoded transcript.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transcript {
    /// The text.
    pub text: String,
    /// Overall confidence (the decoder's score for this candidate).
    pub confidence: f64,
    /// Words with timings.
    pub words: Vec<WordTiming>,
    /// Every character, spaces included, with its frame, as DeepSpeech's metadata lists them.
    pub tokens: Vec<TokenTiming>,
}

impl Transcript {
    /// The characters as decoded, spaces at either end kept: the text DeepSpeech's runtime
    /// returns (`text` is the same, trimmed).
    pub fn decoded_text(&self) -> String {
        self.tokens.iter().map(|t| t.text.as_str()).collect()
    }
}

impl From<Candidate> for Transcript {
    fn from(c: Candidate) -> Self {
        Self {
            text: c.text.trim().to_owned(),
            confidence: c.confidence,
            words: c
                .words
                .into_iter()
                .map(|w| WordTiming {
                    word: w.word,
                    start: w.start,
                    duration: w.duration,
                    confidence: w.confidence,
                })
                .collect(),
            tokens: c
                .tokens
                .into_iter()
                .map(|t| TokenTiming {
                    text: t.ch.to_string(),
                    frame: t.frame,
                    start: t.start,
                })
                .collect(),
        }
    }
}

/// Groups decoded characters into words at the alphabet's space (label of `' '`).
///
/// `token_scores` gives each token's log-probability at its frame.
pub fn words_from_tokens(
    tokens: &[GreedyToken],
    token_scores: &[f32],
    alphabet: &Alphabet,
    frame_secs: f64,
) -> Vec<WordTiming> {
    let space = alphabet.label(' ');
    let mut words = Vec::new();
    let mut current: Vec<(char, usize, f32)> = Vec::new();
    let mut flush = |current: &mut Vec<(char, usize, f32)>| {
        if let (Some(first), Some(last)) = (current.first(), current.last()) {
            let start = first.1 as f64 * frame_secs;
            let end = (last.1 + 1) as f64 * frame_secs;
            words.push(WordTiming {
                word: current.iter().map(|c| c.0).collect(),
                start,
                duration: end - start,
                confidence: current.iter().map(|c| f64::from(c.2)).sum::<f64>()
                    / current.len() as f64,
            });
        }
        current.clear();
    };
    for (token, &score) in tokens.iter().zip(token_scores) {
        if Some(token.label) == space {
            flush(&mut current);
        } else if let Some(&c) = alphabet.symbols().get(token.label) {
            current.push((c, token.frame, score));
        }
    }
    flush(&mut current);
    words
}
