//! CTC prefix beam search, exactly DeepSpeech 0.9's `ctc_beam_search_decoder`
//! (`native_client/ctcdecode`), with its language-model scoring and hot-words.
//!
//! **Input**: row-major `[frames, classes]` natural-log probabilities (the acoustic model's
//! log-softmax), blank last. DeepSpeech takes probabilities; each frame is converted exactly as
//! it would see it: `p = e^lp` (in `f64`) for the blank threshold and `cutoff_prob`, and
//! `ln(p + FLT_MIN)` as `f32` for the search (so `−inf`, probability 0, is allowed and becomes
//! ln `FLT_MIN` ≈ −87.3; NaN and `+inf` are errors).
//!
//! **Algorithm** (DeepSpeech's, step for step): each prefix keeps `ln P(…blank)` and
//! `ln P(…label)`; every frame, the classes kept by [`BeamConfig::cutoff_prob`] /
//! [`BeamConfig::cutoff_top_n`] extend every prefix of the beam; prefixes live in one trie shared
//! by all beams (an arena, nodes reused, no strings); the beam keeps the `beam_width` best by
//! score (ties: smaller last label). Expansion starts at the first frame whose blank probability
//! is below 0.999, so leading silence does not shift the timings. With a [`Scorer`], appending a
//! space to a word adds `alpha × (ln P(word | previous words) + hot-word boosts) + beta`
//! (an unknown word scores −1000), the beam is sorted each frame and extensions below
//! `worst score + ln P(blank) − max(beta, 0)` are skipped; at the end, prefixes not ending in a
//! space get `alpha × ln P(last word | context) + beta` (no `</s>`, no boost). With a vocabulary,
//! prefixes can only spell vocabulary words, each followed by a space.
//!
//! **Scores**: [`Candidate::score`] is DeepSpeech's `Output.confidence` (what `ds_ctcdecoder`
//! returns and what the client's `Metadata` calls `confidence`): the log-probability of the
//! prefix summed over its alignments plus the LM terms. [`Candidate::confidence`] is the same.

mod hot_words;
mod lm;
mod prefix_trie;
mod search;

pub use hot_words::HotWords;

use crate::Alphabet;
use crate::error::DecoderError;
use crate::lm::Scorer;
use lm::LmTerms;
use prefix_trie::Vocabulary;
use search::Search;

/// Beam-search settings (DeepSpeech's defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct BeamConfig {
    /// Prefixes kept per frame (DeepSpeech's `beam_width`, default 1024).
    pub beam_width: usize,
    /// Keep, per frame, the most likely classes until their probabilities sum to this
    /// (1.0 = all classes, the default).
    pub cutoff_prob: f64,
    /// At most this many classes per frame when `cutoff_prob < 1` (default 40). As in
    /// DeepSpeech, with `cutoff_prob = 1` it does not prune.
    pub cutoff_top_n: usize,
    /// Number of candidates returned (N-best, default 1).
    pub candidates: usize,
    /// Seconds per frame, for the timings (default 0.02: DeepSpeech's 20 ms step).
    pub frame_secs: f64,
}

impl Default for BeamConfig {
    fn default() -> Self {
        Self {
            beam_width: 1024,
            cutoff_prob: 1.0,
            cutoff_top_n: 40,
            candidates: 1,
            frame_secs: 0.02,
        }
    }
}

/// One character of a candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Its label in the alphabet.
    pub label: usize,
    /// The character.
    pub ch: char,
    /// The frame where DeepSpeech places it (the frame that best extended the prefix with it).
    pub frame: usize,
    /// `frame × frame_secs`.
    pub start: f64,
}

/// One word of a candidate (the characters between spaces).
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// The word.
    pub word: String,
    /// Start of its first character, seconds.
    pub start: f64,
    /// From its first character's frame to the end of its last character's frame:
    /// `(last − first + 1) × frame_secs`.
    pub duration: f64,
    /// The lowest natural-log probability the acoustic model gave one of its characters at that
    /// character's frame (≤ 0; near 0 = confident).
    pub confidence: f64,
}

/// One transcript hypothesis.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The transcript.
    pub text: String,
    /// DeepSpeech's score (`Output.confidence`, as `ds_ctcdecoder` reports it): natural-log
    /// probability of the transcript over all alignments, plus the LM terms when scored.
    pub score: f64,
    /// What DeepSpeech's `Metadata` reports as the transcript's confidence: the same as `score`.
    pub confidence: f64,
    /// Its characters with their frames.
    pub tokens: Vec<Token>,
    /// Its words with timings.
    pub words: Vec<Word>,
}

/// Checks the settings and that `classes` fits the alphabet.
fn validate_config(
    classes: usize,
    alphabet: &Alphabet,
    config: &BeamConfig,
) -> Result<(), DecoderError> {
    if classes != alphabet.len() + 1 {
        return Err(DecoderError::ClassesMismatch {
            classes,
            symbols: alphabet.len(),
        });
    }
    let bad = |what: String| Err(DecoderError::Config(what));
    if config.beam_width == 0 {
        return bad("beam_width must be at least 1".into());
    }
    if config.candidates == 0 {
        return bad("candidates must be at least 1".into());
    }
    if config.cutoff_top_n == 0 {
        return bad("cutoff_top_n must be at least 1".into());
    }
    if !(config.cutoff_prob > 0.0 && config.cutoff_prob <= 1.0) {
        return bad(format!(
            "cutoff_prob is {}, not in (0, 1]",
            config.cutoff_prob
        ));
    }
    if !(config.frame_secs.is_finite() && config.frame_secs > 0.0) {
        return bad(format!("frame_secs is {}, not positive", config.frame_secs));
    }
    Ok(())
}

/// Checks that `log_probs` holds whole frames of finite (or `−inf`) values; `first_frame`
/// numbers the frames in errors.
fn validate_rows(
    log_probs: &[f32],
    classes: usize,
    first_frame: usize,
) -> Result<(), DecoderError> {
    if !log_probs.len().is_multiple_of(classes) {
        return Err(DecoderError::Ragged {
            len: log_probs.len(),
            classes,
        });
    }
    if let Some(i) = log_probs
        .iter()
        .position(|v| v.is_nan() || *v == f32::INFINITY)
    {
        return Err(DecoderError::NotFinite {
            frame: first_frame + i / classes,
            class: i % classes,
            value: log_probs[i],
        });
    }
    Ok(())
}

/// Decodes `[frames, classes]` natural-log probabilities (blank last, `classes =
/// alphabet.len() + 1`) into the `config.candidates` best transcripts, best first, exactly as
/// DeepSpeech 0.9's `ctc_beam_search_decoder` would from `e^log_probs`.
///
/// `scorer` adds the language model (and its vocabulary restriction if it has one);
/// `hot_words` boosts words, only together with a scorer (as in DeepSpeech). Fewer candidates
/// come back when the beam holds fewer prefixes; an input without speech gives one empty
/// candidate with score 0.
///
/// Errors: a width that does not match the alphabet, a length that is not a whole number of
/// frames, NaN or `+inf` values, and out-of-range settings.
pub fn beam_search(
    log_probs: &[f32],
    classes: usize,
    alphabet: &Alphabet,
    config: &BeamConfig,
    scorer: Option<&Scorer>,
    hot_words: Option<&HotWords>,
) -> crate::Result<Vec<Candidate>> {
    let mut decoder = BeamDecoder::new(classes, alphabet, config.clone())?;
    let lm = BeamLm { scorer, hot_words };
    decoder.next(log_probs, lm)?;
    decoder.decode(log_probs, lm, config.candidates)
}

/// The language model a [`BeamDecoder`] scores with: the same one at every call.
#[derive(Debug, Clone, Copy, Default)]
pub struct BeamLm<'a> {
    /// The n-gram scorer (and its vocabulary restriction, if it has one).
    pub scorer: Option<&'a Scorer>,
    /// Word boosts, used only together with a scorer (as in DeepSpeech).
    pub hot_words: Option<&'a HotWords>,
}

/// A prefix beam search fed frames as they come: DeepSpeech 0.9's `DecoderState` (`next`,
/// then `decode` as often as wanted). Feeding the frames in any number of pieces gives exactly
/// what [`beam_search`] gives over all of them at once, and each frame is searched once, so
/// intermediate results cost only the frames that are new.
///
/// The language model ([`BeamLm`]) is lent at each call and must be the same every time;
/// `config.candidates` is not used (each [`decode`](Self::decode) says how many it wants).
pub struct BeamDecoder {
    progress: search::Progress,
    alphabet: Alphabet,
    config: BeamConfig,
    classes: usize,
}

impl std::fmt::Debug for BeamDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeamDecoder")
            .field("config", &self.config)
            .field("frames", &self.frames())
            .finish_non_exhaustive()
    }
}

impl BeamDecoder {
    /// A decoder that has seen no frame. Errors: `classes` does not fit the alphabet, or a
    /// setting is out of range.
    pub fn new(classes: usize, alphabet: &Alphabet, config: BeamConfig) -> crate::Result<Self> {
        validate_config(classes, alphabet, &config)?;
        Ok(Self {
            progress: search::Progress::new(alphabet.blank()),
            alphabet: alphabet.clone(),
            config,
            classes,
        })
    }

    /// Frames searched so far.
    pub fn frames(&self) -> usize {
        self.progress.frame as usize
    }

    /// Searches the next frames (`[frames, classes]` natural-log probabilities). On an error
    /// (ragged input, NaN or `+inf`) nothing is searched.
    pub fn next(&mut self, log_probs: &[f32], lm: BeamLm) -> crate::Result<()> {
        validate_rows(log_probs, self.classes, self.frames())?;
        check_scorer(lm)?;
        let symbols = self.alphabet.symbols();
        let space = self.alphabet.label(' ');
        let vocabulary = lm
            .scorer
            .and_then(|s| s.vocabulary.as_deref())
            .map(|words| Vocabulary {
                words,
                symbols,
                space,
            });
        let mut search = Search::new(
            &mut self.progress,
            &self.config,
            self.alphabet.blank(),
            lm_terms(&self.alphabet, lm),
            vocabulary,
        );
        for row in log_probs.chunks_exact(self.classes) {
            search.step(row);
        }
        Ok(())
    }

    /// The `count` best transcripts of the frames searched so far, best first; the search goes
    /// on unchanged. `log_probs` are all those frames (for the words' confidences).
    pub fn decode(
        &self,
        log_probs: &[f32],
        lm: BeamLm,
        count: usize,
    ) -> crate::Result<Vec<Candidate>> {
        check_scorer(lm)?;
        if log_probs.len() != self.frames() * self.classes {
            return Err(DecoderError::Config(format!(
                "decode was given {} values, but {} frames of {} classes were searched",
                log_probs.len(),
                self.frames(),
                self.classes
            ))
            .into());
        }
        let terms = lm_terms(&self.alphabet, lm);
        let trie = &self.progress.trie;
        let candidates = self
            .progress
            .best(terms.as_ref(), count.max(1))
            .into_iter()
            .map(|(node, score)| {
                let labels = trie.labels_of(node);
                let frames = trie.frames_of(node);
                candidate(
                    &labels,
                    &frames,
                    score,
                    log_probs,
                    self.classes,
                    &self.alphabet,
                    &self.config,
                )
            })
            .collect();
        // Scores read from a scorer file that changed on disk meanwhile are not to be trusted.
        if let Some(scorer) = lm.scorer {
            scorer.check_unchanged()?;
        }
        Ok(candidates)
    }
}

/// Refuses a scorer this decoder cannot use: a bytes-output ("UTF-8 mode") package, whose
/// dictionary spells bytes where our models output characters.
fn check_scorer(lm: BeamLm) -> Result<(), DecoderError> {
    match lm.scorer.and_then(|s| s.vocabulary.as_deref()) {
        Some(v) if v.is_utf8() => Err(DecoderError::Utf8Scorer),
        _ => Ok(()),
    }
}

/// The scorer's terms for the search, when there is a scorer.
fn lm_terms<'a>(alphabet: &'a Alphabet, lm: BeamLm<'a>) -> Option<LmTerms<'a>> {
    lm.scorer.map(|scorer| LmTerms {
        scorer,
        hot_words: lm.hot_words,
        symbols: alphabet.symbols(),
        space: alphabet.label(' '),
    })
}

fn candidate(
    labels: &[usize],
    frames: &[usize],
    score: f32,
    log_probs: &[f32],
    classes: usize,
    alphabet: &Alphabet,
    config: &BeamConfig,
) -> Candidate {
    let symbols = alphabet.symbols();
    let tokens: Vec<Token> = labels
        .iter()
        .enumerate()
        .map(|(i, &label)| {
            // Every finite-score prefix has one frame per label; a prefix DeepSpeech never
            // scored may lack some: reuse the last known frame.
            let frame = frames.get(i).or(frames.last()).copied().unwrap_or_default();
            Token {
                label,
                ch: symbols[label],
                frame,
                start: frame as f64 * config.frame_secs,
            }
        })
        .collect();
    let words = words(&tokens, log_probs, classes, config.frame_secs);
    Candidate {
        text: tokens.iter().map(|t| t.ch).collect(),
        score: f64::from(score),
        confidence: f64::from(score),
        tokens,
        words,
    }
}

fn words(tokens: &[Token], log_probs: &[f32], classes: usize, frame_secs: f64) -> Vec<Word> {
    tokens
        .split(|t| t.ch == ' ')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let (first, last) = (w[0].frame, w[w.len() - 1].frame);
            let confidence = w
                .iter()
                .map(|t| f64::from(log_probs[t.frame * classes + t.label]))
                .fold(0.0, f64::min);
            Word {
                word: w.iter().map(|t| t.ch).collect(),
                start: first as f64 * frame_secs,
                duration: (last.saturating_sub(first) + 1) as f64 * frame_secs,
                confidence,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
