//! The frame loop of DeepSpeech 0.9's `DecoderState::next` and `decode`.

use std::cmp::Ordering;

use super::BeamConfig;
use super::lm::LmTerms;
use super::prefix_trie::{LOG_ZERO, NONE, PrefixTrie, Vocabulary, log_sum_exp};

/// DeepSpeech's `NUM_FLT_MIN`, added to every probability before its log.
const FLT_MIN: f64 = f32::MIN_POSITIVE as f64;
/// Expansion starts at the first frame whose blank probability is below this.
const START_BLANK: f64 = 0.999;

/// DeepSpeech's `log(p + NUM_FLT_MIN)` (in `double`, stored as `float`) for `p = e^lp`. Above
/// −60 the `FLT_MIN` term is far below an `f32` ulp, so `lp` itself is the answer.
fn class_log_prob(lp: f32) -> f32 {
    if lp > -60.0 {
        lp
    } else {
        (f64::from(lp).exp() + FLT_MIN).ln() as f32
    }
}

/// DeepSpeech's `prefix_compare`: higher score first, then smaller last label.
fn compare(trie: &PrefixTrie, a: u32, b: u32) -> Ordering {
    compare_scores(
        trie,
        (a, trie.nodes[a as usize].score),
        (b, trie.nodes[b as usize].score),
    )
}

/// [`compare`] with explicit scores (DeepSpeech's `prefix_compare_external`).
pub(super) fn compare_scores(trie: &PrefixTrie, a: (u32, f32), b: (u32, f32)) -> Ordering {
    if a.1 == b.1 {
        trie.nodes[a.0 as usize]
            .label
            .cmp(&trie.nodes[b.0 as usize].label)
    } else if a.1 > b.1 {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

/// What a search carries from one frame to the next: everything it owns, so that it can be kept
/// between calls while the scorer, hot-words and settings it borrows are lent again each time.
pub(super) struct Progress {
    pub trie: PrefixTrie,
    /// The beam: prefixes in the trie that exist.
    prefixes: Vec<u32>,
    fresh: Vec<u32>,
    classes: Vec<(usize, f32)>,
    order: Vec<usize>,
    /// Frames searched so far.
    pub frame: u32,
    started: bool,
}

impl Progress {
    /// A search that has seen no frame: only the empty prefix.
    pub fn new(blank: usize) -> Self {
        Self {
            trie: PrefixTrie::new(blank),
            prefixes: vec![PrefixTrie::ROOT],
            fresh: Vec::new(),
            classes: Vec::with_capacity(blank + 1),
            order: Vec::with_capacity(blank + 1),
            frame: 0,
            started: false,
        }
    }

    /// DeepSpeech's `decode`: final scores (the last word's LM term added) of the best
    /// `count` prefixes, best first.
    pub fn best(&self, lm: Option<&LmTerms>, count: usize) -> Vec<(u32, f32)> {
        let mut scored: Vec<(u32, f32)> = self
            .prefixes
            .iter()
            .map(|&p| {
                let base = self.trie.nodes[p as usize].score;
                let end = lm.map_or(0.0, |lm| lm.at_end(&self.trie, p));
                (p, base + end)
            })
            .collect();
        scored.sort_by(|&a, &b| compare_scores(&self.trie, a, b));
        scored.truncate(count);
        scored
    }
}

/// One step of the search: its [`Progress`] with what it borrows to score frames.
pub(super) struct Search<'a> {
    progress: &'a mut Progress,
    config: &'a BeamConfig,
    blank: usize,
    lm: Option<LmTerms<'a>>,
    vocabulary: Option<Vocabulary<'a>>,
}

impl<'a> Search<'a> {
    /// Continues `progress` with these settings (the same ones it was started with).
    pub fn new(
        progress: &'a mut Progress,
        config: &'a BeamConfig,
        blank: usize,
        lm: Option<LmTerms<'a>>,
        vocabulary: Option<Vocabulary<'a>>,
    ) -> Self {
        Self {
            progress,
            config,
            blank,
            lm,
            vocabulary,
        }
    }

    /// DeepSpeech's `get_pruned_log_probs`: the classes to try this frame and their log-probs.
    /// With `cutoff_prob < 1` or `cutoff_top_n <` classes they are sorted by probability; only
    /// `cutoff_prob < 1` truncates (by cumulative probability, at most `cutoff_top_n`).
    fn prune_classes(&mut self, row: &[f32]) {
        let n = row.len();
        let (cutoff_prob, top_n) = (self.config.cutoff_prob, self.config.cutoff_top_n);
        self.progress.classes.clear();
        self.progress.order.clear();
        self.progress.order.extend(0..n);
        if cutoff_prob < 1.0 || top_n < n {
            self.progress
                .order
                .sort_by(|&a, &b| row[b].partial_cmp(&row[a]).unwrap_or(Ordering::Equal));
            if cutoff_prob < 1.0 {
                let mut cumulative = 0.0;
                let mut len = 0;
                for &i in &self.progress.order {
                    cumulative += f64::from(row[i]).exp();
                    len += 1;
                    if cumulative >= cutoff_prob || len >= top_n {
                        break;
                    }
                }
                self.progress.order.truncate(len);
            }
        }
        self.progress.classes.extend(
            self.progress
                .order
                .iter()
                .map(|&i| (i, class_log_prob(row[i]))),
        );
    }

    /// With a scorer, DeepSpeech sorts the beam and skips extensions that cannot make it.
    fn sort_and_cutoff(&mut self, blank_prob: f64) -> (f32, bool) {
        let Some(lm) = &self.lm else {
            return (LOG_ZERO, false);
        };
        let trie = &self.progress.trie;
        self.progress.prefixes.sort_by(|&a, &b| compare(trie, a, b));
        let n = self.progress.prefixes.len().min(self.config.beam_width);
        let last = trie.nodes[self.progress.prefixes[n - 1] as usize].score;
        let cutoff = f64::from(last) + blank_prob.ln() - f64::from(lm.scorer.beta).max(0.0);
        (cutoff as f32, n == self.config.beam_width)
    }

    /// One frame of log-probabilities (DeepSpeech's `next` for one time step).
    pub fn step(&mut self, row: &[f32]) {
        let blank_prob = f64::from(row[self.blank]).exp();
        if blank_prob < START_BLANK {
            self.progress.started = true;
        }
        if self.progress.started {
            self.expand(row, blank_prob);
        }
        self.progress.frame += 1;
    }

    fn expand(&mut self, row: &[f32], blank_prob: f64) {
        let (min_cutoff, full_beam) = self.sort_and_cutoff(blank_prob);
        self.prune_classes(row);
        let live = self.progress.prefixes.len().min(self.config.beam_width);
        for k in 0..self.progress.classes.len() {
            let (c, lp) = self.progress.classes[k];
            for i in 0..live {
                let p = self.progress.prefixes[i];
                let score = self.progress.trie.nodes[p as usize].score;
                if full_beam && lp + score < min_cutoff {
                    break;
                }
                if score == LOG_ZERO {
                    continue;
                }
                if c == self.blank {
                    self.blank_event(p, lp + score);
                } else {
                    self.label_event(p, c, lp);
                }
            }
        }
        self.finish_frame();
    }

    fn blank_event(&mut self, p: u32, log_p: f32) {
        let node = &mut self.progress.trie.nodes[p as usize];
        if node.nb_cur < log_p {
            node.pending_history = NONE;
        }
        node.b_cur = log_sum_exp(node.b_cur, log_p);
    }

    fn label_event(&mut self, p: u32, c: usize, lp: f32) {
        let node = &mut self.progress.trie.nodes[p as usize];
        let (label, score, b_prev, history) = (node.label, node.score, node.b_prev, node.history);
        let repeat = label == c as i32;
        if repeat {
            let log_p = lp + node.nb_prev;
            if node.nb_cur < log_p {
                node.pending_history = NONE;
            }
            node.nb_cur = log_sum_exp(node.nb_cur, log_p);
        }
        let Some(new) =
            self.progress
                .trie
                .extend(p, c, self.vocabulary.as_ref(), &mut self.progress.fresh)
        else {
            return;
        };
        let mut log_p = if !repeat {
            lp + score
        } else if b_prev > LOG_ZERO {
            lp + b_prev
        } else {
            LOG_ZERO
        };
        if let Some(lm) = &self.lm
            && lm.space == Some(c)
        {
            log_p = lm.at_space(&mut self.progress.trie, p, log_p);
        }
        let node = &mut self.progress.trie.nodes[new as usize];
        if node.nb_cur < log_p {
            node.pending_history = history;
            node.pending_frame = self.progress.frame;
        }
        node.nb_cur = log_sum_exp(node.nb_cur, log_p);
    }

    /// DeepSpeech's `iterate_to_vec` and the pruning to `beam_width` prefixes.
    fn finish_frame(&mut self) {
        self.progress.prefixes.append(&mut self.progress.fresh);
        for &p in &self.progress.prefixes {
            self.progress.trie.finish_frame(p);
        }
        let beam = self.config.beam_width;
        if self.progress.prefixes.len() > beam {
            let trie = &self.progress.trie;
            self.progress
                .prefixes
                .select_nth_unstable_by(beam, |&a, &b| compare(trie, a, b));
            for i in beam..self.progress.prefixes.len() {
                self.progress.trie.remove(self.progress.prefixes[i]);
            }
            self.progress.prefixes.truncate(beam);
        }
    }
}
