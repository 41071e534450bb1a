//! The prefix trie shared by all beams (DeepSpeech's `PathTrie`), arena-allocated, and the tree
//! of per-character timesteps (DeepSpeech's `TimestepTreeNode`).

use crate::lm::{VocabTrie, Vocabulary as Words};

/// "No node" in the arenas.
pub(super) const NONE: u32 = u32::MAX;
/// A child slot whose label the vocabulary refused: a node's vocabulary state never changes, so
/// the answer holds for the node's life and the vocabulary is asked once.
const REFUSED: u32 = u32::MAX - 1;
/// The root's label (DeepSpeech's `ROOT_ = -1`), smaller than every real label.
pub(super) const ROOT_LABEL: i32 = -1;
/// DeepSpeech's `-NUM_FLT_INF`: the most negative finite `f32`, its "log of zero".
pub(super) const LOG_ZERO: f32 = f32::MIN;

/// `ln(e^x + e^y)` exactly as DeepSpeech's `log_sum_exp<float>`.
pub(super) fn log_sum_exp(x: f32, y: f32) -> f32 {
    if x <= LOG_ZERO {
        return y;
    }
    if y <= LOG_ZERO {
        return x;
    }
    let m = x.max(y);
    ((x - m).exp() + (y - m).exp()).ln() + m
}

/// One prefix: a path from the root, with its CTC probabilities.
#[derive(Debug, Clone)]
pub(super) struct Node {
    /// The last label of the prefix, [`ROOT_LABEL`] for the empty prefix.
    pub label: i32,
    /// Parent node, [`NONE`] for the root.
    pub parent: u32,
    /// Number of child nodes.
    pub children: u32,
    /// Whether the prefix is in the beam (DeepSpeech's `exists_`).
    pub exists: bool,
    /// ln P(prefix, ending in blank) after the previous frame.
    pub b_prev: f32,
    /// ln P(prefix, ending in its last label) after the previous frame.
    pub nb_prev: f32,
    /// The same two for the frame being processed.
    pub b_cur: f32,
    /// See [`b_cur`](Self::b_cur).
    pub nb_cur: f32,
    /// `log_sum_exp(b_prev, nb_prev)` (with the LM terms already added).
    pub score: f32,
    /// State in the vocabulary trie (only with a restricting scorer).
    pub vocab: u32,
    /// Timesteps of the prefix's labels (a node of the history tree).
    pub history: u32,
    /// History to adopt at the end of the frame (parent's history + `pending_frame`), or NONE.
    pub pending_history: u32,
    /// See [`pending_history`](Self::pending_history).
    pub pending_frame: u32,
    /// Cached `alpha × (ln P(word | context) + hot-word boost)` for a space appended here.
    pub space_lm: Option<f32>,
}

impl Node {
    fn new(label: i32, parent: u32, vocab: u32) -> Self {
        Self {
            label,
            parent,
            children: 0,
            exists: true,
            b_prev: LOG_ZERO,
            nb_prev: LOG_ZERO,
            b_cur: LOG_ZERO,
            nb_cur: LOG_ZERO,
            score: LOG_ZERO,
            vocab,
            history: NONE,
            pending_history: NONE,
            pending_frame: 0,
            space_lm: None,
        }
    }
}

/// A node of the timestep tree: one frame appended to its parent's history.
#[derive(Debug, Clone, Copy)]
struct HistoryNode {
    parent: u32,
    frame: u32,
    /// The child made most recently, so that all extensions of one history in one frame share it.
    last_child_frame: u32,
    last_child: u32,
}

/// How a new label may extend a prefix under a vocabulary restriction.
pub(super) struct Vocabulary<'a> {
    /// The scorer's words.
    pub words: &'a Words,
    /// Alphabet symbols by label.
    pub symbols: &'a [char],
    /// The space label.
    pub space: Option<usize>,
}

impl Vocabulary<'_> {
    /// The state of the empty prefix (DeepSpeech's `set_dictionary`: the FST's start).
    fn start(&self) -> u32 {
        match self.words {
            Words::Trie(_) => VocabTrie::ROOT,
            Words::Fst { dictionary, .. } => dictionary.start(),
        }
    }

    /// DeepSpeech's `PathTrie::get_path_trie` walk of its dictionary FST: the state after
    /// `label` from `state`, if allowed. The FST spells label + 1; reaching a final state (after
    /// a word's space, or after a whole word in UTF-8 mode) goes back to the start. A character
    /// trie is walked the same way, each word followed by a space.
    fn next(&self, state: u32, label: usize) -> Option<u32> {
        match self.words {
            Words::Trie(trie) => {
                if Some(label) == self.space {
                    return trie.is_word_end(state).then_some(VocabTrie::ROOT);
                }
                trie.child(state, self.symbols[label])
            }
            Words::Fst { dictionary, .. } => {
                let next = dictionary.next(state, i32::try_from(label + 1).ok()?)?;
                Some(if dictionary.is_final(next) {
                    dictionary.start()
                } else {
                    next
                })
            }
        }
    }
}

/// The arena of prefixes.
pub(super) struct PrefixTrie {
    /// All nodes; freed ones are on `free`.
    pub nodes: Vec<Node>,
    /// `child[node × labels + label]`.
    child: Vec<u32>,
    labels: usize,
    free: Vec<u32>,
    history: Vec<HistoryNode>,
}

impl PrefixTrie {
    /// The root node's id.
    pub const ROOT: u32 = 0;

    /// A trie holding only the root (score 0, empty history).
    pub fn new(labels: usize) -> Self {
        let mut root = Node::new(ROOT_LABEL, NONE, VocabTrie::ROOT);
        root.score = 0.0;
        root.b_prev = 0.0;
        root.history = 0;
        Self {
            nodes: vec![root],
            child: vec![NONE; labels],
            labels,
            free: Vec::new(),
            history: vec![HistoryNode {
                parent: NONE,
                frame: 0,
                last_child_frame: NONE,
                last_child: NONE,
            }],
        }
    }

    /// DeepSpeech's `get_path_trie`: the child of `parent` by `label`, reactivated or created
    /// (then pushed on `fresh`); `None` when the vocabulary forbids it.
    pub fn extend(
        &mut self,
        parent: u32,
        label: usize,
        vocabulary: Option<&Vocabulary<'_>>,
        fresh: &mut Vec<u32>,
    ) -> Option<u32> {
        let slot = parent as usize * self.labels + label;
        let existing = self.child[slot];
        if existing == REFUSED {
            return None;
        }
        if existing != NONE {
            let node = &mut self.nodes[existing as usize];
            if !node.exists {
                node.exists = true;
                node.b_prev = LOG_ZERO;
                node.nb_prev = LOG_ZERO;
                node.b_cur = LOG_ZERO;
                node.nb_cur = LOG_ZERO;
                fresh.push(existing);
            }
            return Some(existing);
        }
        let vocab = match vocabulary {
            Some(v) => {
                let state = if parent == Self::ROOT {
                    v.start()
                } else {
                    self.nodes[parent as usize].vocab
                };
                match v.next(state, label) {
                    Some(next) => next,
                    None => {
                        self.child[slot] = REFUSED;
                        return None;
                    }
                }
            }
            None => VocabTrie::ROOT,
        };
        let id = self.alloc(Node::new(label as i32, parent, vocab));
        self.child[slot] = id;
        self.nodes[parent as usize].children += 1;
        fresh.push(id);
        Some(id)
    }

    fn alloc(&mut self, node: Node) -> u32 {
        if let Some(id) = self.free.pop() {
            self.nodes[id as usize] = node;
            // A freed node had no children, but may carry refusals of its former vocabulary state.
            let row = id as usize * self.labels;
            self.child[row..row + self.labels].fill(NONE);
            return id;
        }
        self.nodes.push(node);
        self.child.resize(self.nodes.len() * self.labels, NONE);
        (self.nodes.len() - 1) as u32
    }

    /// DeepSpeech's `remove`: out of the beam; freed (with childless, absent ancestors) when it
    /// has no children.
    pub fn remove(&mut self, id: u32) {
        let mut id = id;
        loop {
            let node = &mut self.nodes[id as usize];
            node.exists = false;
            if node.children > 0 || node.parent == NONE {
                return;
            }
            let (parent, label) = (node.parent, node.label as usize);
            self.child[parent as usize * self.labels + label] = NONE;
            self.free.push(id);
            let p = &mut self.nodes[parent as usize];
            p.children -= 1;
            if p.children > 0 || p.exists {
                return;
            }
            id = parent;
        }
    }

    /// End of a frame for one prefix (DeepSpeech's `iterate_to_vec` body): the current
    /// probabilities become the previous ones, the score is recomputed and a pending timestep
    /// is adopted.
    pub fn finish_frame(&mut self, id: u32) {
        let node = &self.nodes[id as usize];
        let (pending, frame) = (node.pending_history, node.pending_frame);
        let history = if pending != NONE {
            self.history_child(pending, frame)
        } else {
            node.history
        };
        let node = &mut self.nodes[id as usize];
        node.b_prev = node.b_cur;
        node.nb_prev = node.nb_cur;
        node.b_cur = LOG_ZERO;
        node.nb_cur = LOG_ZERO;
        node.score = log_sum_exp(node.b_prev, node.nb_prev);
        node.history = history;
        node.pending_history = NONE;
    }

    fn history_child(&mut self, parent: u32, frame: u32) -> u32 {
        let h = self.history[parent as usize];
        if h.last_child_frame == frame {
            return h.last_child;
        }
        let id = self.history.len() as u32;
        self.history.push(HistoryNode {
            parent,
            frame,
            last_child_frame: NONE,
            last_child: NONE,
        });
        let h = &mut self.history[parent as usize];
        h.last_child_frame = frame;
        h.last_child = id;
        id
    }

    /// The labels of a prefix, first to last.
    pub fn labels_of(&self, id: u32) -> Vec<usize> {
        let mut out = Vec::new();
        let mut n = id;
        while n != NONE && self.nodes[n as usize].label != ROOT_LABEL {
            out.push(self.nodes[n as usize].label as usize);
            n = self.nodes[n as usize].parent;
        }
        out.reverse();
        out
    }

    /// The frames of a prefix's labels, first to last.
    pub fn frames_of(&self, id: u32) -> Vec<usize> {
        let mut out = Vec::new();
        let mut h = self.nodes[id as usize].history;
        while h != NONE && self.history[h as usize].parent != NONE {
            out.push(self.history[h as usize].frame as usize);
            h = self.history[h as usize].parent;
        }
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_frees_childless_absent_ancestors() {
        let mut t = PrefixTrie::new(3);
        let mut fresh = Vec::new();
        let a = t.extend(PrefixTrie::ROOT, 1, None, &mut fresh).unwrap();
        let ab = t.extend(a, 2, None, &mut fresh).unwrap();
        assert_eq!(t.extend(a, 2, None, &mut fresh), Some(ab));
        assert_eq!(fresh, vec![a, ab]);
        t.remove(a);
        assert!(!t.nodes[a as usize].exists && t.nodes[a as usize].children == 1);
        t.remove(ab);
        assert_eq!(t.nodes[0].children, 0);
        assert_eq!(t.free.len(), 2);
    }

    #[test]
    fn log_sum_exp_treats_log_zero_as_zero() {
        assert_eq!(log_sum_exp(LOG_ZERO, -1.5), -1.5);
        assert_eq!(log_sum_exp(-2.0, LOG_ZERO), -2.0);
        assert!((log_sum_exp(0.0, 0.0) - 2f32.ln()).abs() < 1e-6);
    }
}
