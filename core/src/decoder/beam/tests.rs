use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::decoder::greedy_decode;
use crate::lm::{LanguageModel, VocabTrie, Vocabulary as Words, WordId};

const C: usize = 29;

/// Natural-log softmax of one row of logits.
fn log_softmax(logits: &[f64]) -> Vec<f32> {
    let m = logits.iter().cloned().fold(f64::MIN, f64::max);
    let z = logits.iter().map(|l| (l - m).exp()).sum::<f64>().ln() + m;
    logits.iter().map(|l| (l - z) as f32).collect()
}

/// A row with the given probabilities for some classes, the rest shared evenly.
fn row(probs: &[(usize, f64)]) -> Vec<f32> {
    let rest = 1.0 - probs.iter().map(|p| p.1).sum::<f64>();
    let mut p = vec![rest / (C - probs.len()) as f64; C];
    for &(c, v) in probs {
        p[c] = v;
    }
    p.iter().map(|v| v.ln() as f32).collect()
}

/// Spells `text` (`_` = blank) one frame per character, each at probability 0.97.
fn spell(text: &str) -> Vec<f32> {
    let a = Alphabet::english();
    text.chars()
        .flat_map(|ch| {
            row(&[(
                if ch == '_' {
                    C - 1
                } else {
                    a.label(ch).unwrap()
                },
                0.97,
            )])
        })
        .collect()
}

/// Deterministic peaky matrix: each frame's winner (blank 70 %) has probability > 0.99.
fn peaky(frames: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) as f64 / (1u64 << 31) as f64
    };
    (0..frames)
        .flat_map(|_| {
            let winner = if next() < 0.7 {
                C - 1
            } else {
                (next() * 28.0) as usize
            };
            let logits: Vec<f64> = (0..C)
                .map(|c| if c == winner { 10.0 } else { next() - 0.5 })
                .collect();
            log_softmax(&logits)
        })
        .collect()
}

fn decode(lp: &[f32], config: &BeamConfig) -> Vec<Candidate> {
    beam_search(lp, C, &Alphabet::english(), config, None, None).unwrap()
}

fn cfg(beam_width: usize, candidates: usize) -> BeamConfig {
    BeamConfig {
        beam_width,
        candidates,
        ..BeamConfig::default()
    }
}

#[test]
fn beam_one_equals_greedy_when_frames_are_peaky() {
    let a = Alphabet::english();
    for seed in 0..20 {
        let lp = peaky(50 + seed as usize * 5, seed);
        let greedy: String = greedy_decode(&lp, C, C - 1)
            .iter()
            .map(|t| a.symbols()[t.label])
            .collect();
        assert_eq!(decode(&lp, &cfg(1, 1))[0].text, greedy, "seed {seed}");
    }
}

#[test]
fn all_blank_gives_one_empty_candidate() {
    // DeepSpeech expands nothing until P(blank) < 0.999.
    let silence: Vec<f32> = (0..5).flat_map(|_| row(&[(C - 1, 0.9995)])).collect();
    let out = decode(&silence, &cfg(16, 5));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].text, "");
    assert_eq!(out[0].score, 0.0);
    assert!(out[0].tokens.is_empty() && out[0].words.is_empty());
    assert_eq!(decode(&[], &cfg(16, 5))[0].text, "");
    // Below the threshold the search runs, and the empty transcript still wins.
    let out = decode(&spell("_____"), &cfg(16, 5));
    assert_eq!((out.len(), out[0].text.as_str()), (5, ""));
}

#[test]
fn single_frame() {
    let out = decode(&spell("k"), &cfg(16, 3));
    assert_eq!(out[0].text, "k");
    assert!((out[0].score - 0.97f64.ln()).abs() < 1e-5);
    assert_eq!(out[0].tokens[0].frame, 0);
    assert_eq!(out.len(), 3);
}

#[test]
fn bad_input_is_an_error() {
    let a = Alphabet::english();
    let c = BeamConfig::default();
    let mut lp = spell("ab");
    lp[C + 3] = f32::NAN;
    let e = beam_search(&lp, C, &a, &c, None, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("frame 1, class 3"), "{e}");
    lp[C + 3] = f32::INFINITY;
    assert!(beam_search(&lp, C, &a, &c, None, None).is_err());
    lp[C + 3] = f32::NEG_INFINITY; // probability 0 is fine
    assert_eq!(
        beam_search(&lp, C, &a, &c, None, None).unwrap()[0].text,
        "ab"
    );
    let e = beam_search(&lp[..C + 1], C, &a, &c, None, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("whole number"), "{e}");
    let e = beam_search(&lp[..28], 28, &a, &c, None, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("28 output classes"), "{e}");
    for bad in [
        BeamConfig {
            beam_width: 0,
            ..c.clone()
        },
        BeamConfig {
            candidates: 0,
            ..c.clone()
        },
        BeamConfig {
            cutoff_prob: 0.0,
            ..c.clone()
        },
        BeamConfig {
            cutoff_prob: f64::NAN,
            ..c.clone()
        },
    ] {
        assert!(beam_search(&lp, C, &a, &bad, None, None).is_err());
    }
}

#[test]
fn candidates_are_sorted_and_distinct() {
    let lp = peaky(80, 7);
    let out = decode(&lp, &cfg(64, 20));
    assert_eq!(out.len(), 20);
    assert!(out.windows(2).all(|w| w[0].score >= w[1].score));
    let mut texts: Vec<&str> = out.iter().map(|c| c.text.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), 20);
}

#[test]
fn words_have_timings() {
    let out = decode(&spell("__ab__c_d__"), &cfg(16, 1));
    let c = &out[0];
    assert_eq!(c.text, "ab cd".replace(' ', ""));
    let out = decode(&spell("__ab_ _c_d__"), &cfg(16, 1));
    let c = &out[0];
    assert_eq!(c.text, "ab cd");
    let frames: Vec<usize> = c.tokens.iter().map(|t| t.frame).collect();
    assert_eq!(frames, vec![2, 3, 5, 7, 9]);
    assert_eq!(c.words.len(), 2);
    assert_eq!(c.words[0].word, "ab");
    assert!((c.words[0].start - 0.04).abs() < 1e-12);
    assert!((c.words[0].duration - 0.04).abs() < 1e-12);
    assert_eq!(c.words[1].word, "cd");
    assert!((c.words[1].start - 0.14).abs() < 1e-12);
    assert!((c.words[1].duration - 0.06).abs() < 1e-12);
    assert!((c.words[1].confidence - 0.97f64.ln()).abs() < 1e-6);
    assert_eq!(c.confidence, c.score);
}

/// A unigram model over a few words (log10 probabilities), for tests.
struct Unigram {
    words: Vec<String>,
    log10: Vec<f32>,
}

impl Unigram {
    const BOS: WordId = 0;
    const EOS: WordId = 1;
    const UNK: WordId = 2;

    fn new(table: &[(&str, f32)]) -> Self {
        let mut words: Vec<String> = ["<s>", "</s>", "<unk>"].map(String::from).to_vec();
        let mut log10 = vec![-99.0, -1.0, -5.0];
        for &(w, p) in table {
            words.push(w.to_owned());
            log10.push(p);
        }
        Self { words, log10 }
    }
}

impl LanguageModel for Unigram {
    fn order(&self) -> usize {
        1
    }
    fn word_id(&self, word: &str) -> WordId {
        let map: HashMap<&str, usize> = self
            .words
            .iter()
            .enumerate()
            .skip(3)
            .map(|(i, w)| (w.as_str(), i))
            .collect();
        map.get(word).map_or(Self::UNK, |&i| i as WordId)
    }
    fn contains(&self, word: &str) -> bool {
        self.word_id(word) != Self::UNK
    }
    fn bos(&self) -> WordId {
        Self::BOS
    }
    fn eos(&self) -> WordId {
        Self::EOS
    }
    fn unk(&self) -> WordId {
        Self::UNK
    }
    fn log10_prob(&self, _context: &[WordId], word: WordId) -> f32 {
        self.log10[word as usize]
    }
    fn words(&self) -> Vec<String> {
        self.words[3..].to_vec()
    }
}

fn scorer(table: &[(&str, f32)], restrict: bool) -> Scorer {
    let lm = Arc::new(Unigram::new(table));
    let mut s = Scorer::new(lm);
    s.alpha = 1.0;
    s.beta = 0.0;
    if !restrict {
        s.vocabulary = None;
    }
    s
}

/// "bat " or "cat ": the first letter is 'b' at 0.55 and 'c' at 0.40.
fn bat_or_cat() -> Vec<f32> {
    let a = Alphabet::english();
    let mut lp = row(&[(a.label('b').unwrap(), 0.55), (a.label('c').unwrap(), 0.40)]);
    lp.extend(spell("_at_ __"));
    lp
}

fn decode_with(lp: &[f32], scorer: Option<&Scorer>, hot: Option<&HotWords>) -> String {
    let a = Alphabet::english();
    let out = beam_search(lp, C, &a, &cfg(32, 1), scorer, hot).unwrap();
    out[0].text.clone()
}

#[test]
fn language_model_moves_the_decode_its_way() {
    let lp = bat_or_cat();
    assert_eq!(decode_with(&lp, None, None), "bat ");
    let even = scorer(&[("bat", -2.0), ("cat", -2.0)], false);
    assert_eq!(decode_with(&lp, Some(&even), None), "bat ");
    let likes_cat = scorer(&[("bat", -4.0), ("cat", -1.0)], false);
    assert_eq!(decode_with(&lp, Some(&likes_cat), None), "cat ");
}

#[test]
fn hot_word_overtakes() {
    let lp = bat_or_cat();
    let even = scorer(&[("bat", -2.0), ("cat", -2.0)], true);
    let hot = HotWords::parse("cat:1.0").unwrap();
    assert_eq!(decode_with(&lp, Some(&even), Some(&hot)), "cat ");
    let cold = HotWords::parse("cat:-1.0").unwrap();
    assert_eq!(decode_with(&lp, Some(&even), Some(&cold)), "bat ");
    // Without a scorer DeepSpeech ignores hot-words.
    assert_eq!(decode_with(&lp, None, Some(&hot)), "bat ");
}

#[test]
fn vocabulary_blocks_unknown_words() {
    let lp = bat_or_cat();
    let no_bat = scorer(&[("cat", -2.0), ("at", -2.0)], true);
    assert_eq!(
        no_bat
            .vocabulary
            .as_ref()
            .and_then(|v| v.trie())
            .map(|t| t.len()),
        Some(2)
    );
    let text = decode_with(&lp, Some(&no_bat), None);
    assert!(
        text.split(' ')
            .filter(|w| !w.is_empty())
            .all(|w| w == "cat" || w == "at")
    );
    assert_eq!(text, "cat ");
    // Open vocabulary: "bat" is spelled, but scored as unknown (−1000) at the space.
    let open = Scorer {
        vocabulary: None,
        ..no_bat.clone()
    };
    assert_eq!(decode_with(&lp, Some(&open), None), "cat ");
    // The vocabulary beats even a language model that prefers "cat".
    let only_bat = Scorer {
        vocabulary: Some(Arc::new(Words::Trie(Arc::new(VocabTrie::from_words([
            "bat",
        ]))))),
        ..scorer(&[("bat", -4.0), ("cat", -1.0)], false)
    };
    assert_eq!(decode_with(&lp, Some(&only_bat), None), "bat ");
}

/// Frames with words the test scorers know, between stretches of random peaky frames.
fn mixed_frames() -> Vec<f32> {
    let mut lp = peaky(40, 7);
    lp.extend(bat_or_cat());
    lp.extend(spell("_c_a_tt_ _a_t_ _b_a_t_ "));
    lp.extend(peaky(60, 11));
    lp.extend(bat_or_cat());
    lp
}

/// Feeds `lp` to a [`BeamDecoder`] in pieces of the given sizes (in frames, cycled), checking
/// at each border that the intermediate result equals a one-shot search of the frames so far.
fn decode_in_pieces(
    lp: &[f32],
    sizes: &[usize],
    lm: BeamLm,
    config: &BeamConfig,
) -> Vec<Candidate> {
    let a = Alphabet::english();
    let mut decoder = BeamDecoder::new(C, &a, config.clone()).unwrap();
    let mut fed = 0;
    for &size in sizes.iter().cycle() {
        let end = (fed + size * C).min(lp.len());
        decoder.next(&lp[fed..end], lm).unwrap();
        fed = end;
        assert_eq!(decoder.frames(), fed / C);
        let so_far = decoder.decode(&lp[..fed], lm, config.candidates).unwrap();
        let once = beam_search(&lp[..fed], C, &a, config, lm.scorer, lm.hot_words).unwrap();
        assert_eq!(so_far, once, "after {} frames", fed / C);
        if fed == lp.len() {
            return so_far;
        }
    }
    unreachable!()
}

#[test]
fn fed_in_pieces_equals_one_search() {
    let lp = mixed_frames();
    let config = cfg(16, 3);
    let open = scorer(&[("bat", -2.0), ("cat", -1.5), ("at", -1.0)], false);
    let closed = scorer(&[("bat", -2.0), ("cat", -1.5), ("at", -1.0)], true);
    let hot = HotWords::parse("bat:2.5").unwrap();
    let lms = [
        BeamLm::default(),
        BeamLm {
            scorer: Some(&open),
            hot_words: None,
        },
        BeamLm {
            scorer: Some(&closed),
            hot_words: Some(&hot),
        },
    ];
    for lm in lms {
        let whole = beam_search(
            &lp,
            C,
            &Alphabet::english(),
            &config,
            lm.scorer,
            lm.hot_words,
        )
        .unwrap();
        assert!(!whole[0].text.trim().is_empty());
        for sizes in [&[1][..], &[16], &[3, 7, 1, 29]] {
            assert_eq!(
                decode_in_pieces(&lp, sizes, lm, &config),
                whole,
                "pieces {sizes:?}"
            );
        }
    }
}

#[test]
fn a_bad_piece_is_refused_and_searches_nothing() {
    let a = Alphabet::english();
    let lm = BeamLm::default();
    let lp = mixed_frames();
    let mut decoder = BeamDecoder::new(C, &a, cfg(8, 1)).unwrap();
    decoder.next(&lp[..10 * C], lm).unwrap();
    let mut bad = lp[10 * C..20 * C].to_vec();
    bad[4 * C + 2] = f32::NAN;
    let err = decoder.next(&bad, lm).unwrap_err();
    assert!(
        matches!(
            err,
            crate::Error::Decoder(DecoderError::NotFinite {
                frame: 14,
                class: 2,
                ..
            })
        ),
        "{err}"
    );
    assert!(decoder.next(&lp[..C + 1], lm).is_err());
    assert_eq!(decoder.frames(), 10);
    let err = decoder.decode(&lp[..9 * C], lm, 1).unwrap_err();
    assert!(err.to_string().contains("10 frames"), "{err}");
    // The search goes on as if the bad pieces had never come.
    decoder.next(&lp[10 * C..], lm).unwrap();
    let once = beam_search(&lp, C, &a, &cfg(8, 1), None, None).unwrap();
    assert_eq!(decoder.decode(&lp, lm, 1).unwrap(), once);
    assert!(BeamDecoder::new(C + 1, &a, cfg(8, 1)).is_err());
    assert!(BeamDecoder::new(C, &a, cfg(0, 1)).is_err());
}
