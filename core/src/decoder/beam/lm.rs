//! Language-model terms exactly as DeepSpeech 0.9's `Scorer` computes them for the search
//! (word-based, not UTF-8 mode).

use super::hot_words::HotWords;
use super::prefix_trie::{NONE, PrefixTrie, ROOT_LABEL};
use crate::lm::{Scorer, WordId};

/// DeepSpeech's `OOV_SCORE`: ln-probability of an n-gram with an unknown word (not divided by
/// log10(e)).
const OOV_SCORE: f64 = -1000.0;
/// DeepSpeech's `NUM_FLT_LOGE` (the `float` 0.4342944819, which is `LOG10_E` as `f32`).
const NUM_FLT_LOGE: f32 = std::f32::consts::LOG10_E;

/// The scorer with what the search needs to query it.
pub(super) struct LmTerms<'a> {
    pub scorer: &'a Scorer,
    pub hot_words: Option<&'a HotWords>,
    pub symbols: &'a [char],
    pub space: Option<usize>,
}

impl LmTerms<'_> {
    /// DeepSpeech's `make_ngram`: the last `order` words ending at `node` (the last one possibly
    /// empty when `node` is a space), oldest first.
    fn ngram(&self, trie: &PrefixTrie, node: u32) -> Vec<String> {
        let space = self.space.map_or(-2, |s| s as i32);
        let mut words = Vec::new();
        let mut current = node;
        for _ in 0..self.scorer.lm.order() {
            if current == NONE || trie.nodes[current as usize].label == ROOT_LABEL {
                break;
            }
            let mut word = Vec::new();
            let mut n = current;
            loop {
                let node = &trie.nodes[n as usize];
                if node.label == space || node.label == ROOT_LABEL {
                    break;
                }
                word.push(self.symbols[node.label as usize]);
                n = node.parent;
            }
            words.push(word.iter().rev().collect());
            current = trie.nodes[n as usize].parent;
        }
        words.reverse();
        words
    }

    /// DeepSpeech's `get_log_cond_prob(ngram, bos, eos = false)`: ln P(last word | the others),
    /// with `<s>` first when the n-gram is shorter than the model's order.
    fn log_cond_prob(&self, ngram: &[String]) -> f64 {
        let lm = &self.scorer.lm;
        let Some((last, context_words)) = ngram.split_last() else {
            return 0.0;
        };
        let mut context: Vec<WordId> = Vec::with_capacity(ngram.len());
        if ngram.len() < lm.order() {
            context.push(lm.bos());
        }
        for word in context_words {
            let id = lm.word_id(word);
            if id == lm.unk() {
                return OOV_SCORE;
            }
            context.push(id);
        }
        let id = lm.word_id(last);
        if id == lm.unk() {
            return OOV_SCORE;
        }
        f64::from(lm.log10_prob(&context, id)) / f64::from(NUM_FLT_LOGE)
    }

    /// Sum of the hot-word boosts of the n-gram's words (summed in `float`, as DeepSpeech's
    /// `hot_boost`).
    fn boost(&self, ngram: &[String]) -> f64 {
        self.hot_words.map_or(0.0, |h| {
            f64::from(ngram.iter().filter_map(|w| h.boost(w)).sum::<f32>())
        })
    }

    /// `alpha × (ln P + boost)` for appending a space to `node` (cached on the node).
    fn boundary_term(&self, trie: &mut PrefixTrie, node: u32) -> f32 {
        if let Some(term) = trie.nodes[node as usize].space_lm {
            return term;
        }
        let ngram = self.ngram(trie, node);
        let term = ((self.log_cond_prob(&ngram) + self.boost(&ngram))
            * f64::from(self.scorer.alpha)) as f32;
        trie.nodes[node as usize].space_lm = Some(term);
        term
    }

    /// `log_p` of the path that appends a space to `node`, with the word's LM score and the
    /// insertion bonus (DeepSpeech adds both at the space).
    pub fn at_space(&self, trie: &mut PrefixTrie, node: u32, log_p: f32) -> f32 {
        log_p + self.boundary_term(trie, node) + self.scorer.beta
    }

    /// The final term for a prefix that does not end with a space (DeepSpeech's `decode()`):
    /// `alpha × ln P(last word | context) + beta`, no hot-word boost, no `</s>`.
    pub fn at_end(&self, trie: &PrefixTrie, node: u32) -> f32 {
        let label = trie.nodes[node as usize].label;
        if label == ROOT_LABEL || Some(label as usize) == self.space {
            return 0.0;
        }
        let ngram = self.ngram(trie, node);
        let term = (self.log_cond_prob(&ngram) * f64::from(self.scorer.alpha)) as f32;
        term + self.scorer.beta
    }
}
