//! A character trie of vocabulary words, to restrict the beam search to words the language model
//! knows while they are being spelled (DeepSpeech's dictionary FST).

use std::collections::HashMap;

/// A node of the trie.
pub type NodeId = u32;

/// A character trie over a word list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VocabTrie {
    /// Children of each node, sorted by character.
    children: Vec<Vec<(char, NodeId)>>,
    /// Whether a word ends at each node.
    word_end: Vec<bool>,
    words: usize,
}

impl VocabTrie {
    /// The root node (the empty prefix).
    pub const ROOT: NodeId = 0;

    /// Builds the trie of `words` (duplicates are counted once).
    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut building: Vec<HashMap<char, NodeId>> = vec![HashMap::new()];
        let mut word_end = vec![false];
        let mut count = 0;
        for word in words {
            let mut node = 0usize;
            for c in word.chars() {
                let next = building.len() as NodeId;
                let child = *building[node].entry(c).or_insert(next);
                if child == next {
                    building.push(HashMap::new());
                    word_end.push(false);
                }
                node = child as usize;
            }
            if !word_end[node] && !word.is_empty() {
                word_end[node] = true;
                count += 1;
            }
        }
        let children = building
            .into_iter()
            .map(|m| {
                let mut v: Vec<(char, NodeId)> = m.into_iter().collect();
                v.sort_unstable();
                v
            })
            .collect();
        Self {
            children,
            word_end,
            words: count,
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words
    }

    /// Whether the trie holds no word.
    pub fn is_empty(&self) -> bool {
        self.words == 0
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.word_end.len()
    }

    /// The node reached from `node` by `c`, if some word continues that way.
    pub fn child(&self, node: NodeId, c: char) -> Option<NodeId> {
        let kids = &self.children[node as usize];
        kids.binary_search_by_key(&c, |&(k, _)| k)
            .ok()
            .map(|i| kids[i].1)
    }

    /// Whether a word ends at `node`.
    pub fn is_word_end(&self, node: NodeId) -> bool {
        self.word_end[node as usize]
    }

    /// The node of a whole prefix, if some word starts with it.
    pub fn find(&self, prefix: &str) -> Option<NodeId> {
        prefix.chars().try_fold(Self::ROOT, |n, c| self.child(n, c))
    }

    /// Whether `word` is in the trie.
    pub fn contains(&self, word: &str) -> bool {
        self.find(word).is_some_and(|n| self.is_word_end(n))
    }

    /// The trie as flat arrays, for the binary scorer file: per node, the index of its first
    /// edge and its word-end flag; per edge, its character and target node.
    pub fn to_arrays(&self) -> (Vec<u32>, Vec<bool>, Vec<(char, NodeId)>) {
        let mut first_edge = Vec::with_capacity(self.nodes() + 1);
        let mut edges = Vec::new();
        for kids in &self.children {
            first_edge.push(edges.len() as u32);
            edges.extend_from_slice(kids);
        }
        first_edge.push(edges.len() as u32);
        (first_edge, self.word_end.clone(), edges)
    }

    /// Rebuilds a trie from [`to_arrays`](Self::to_arrays)' output; `None` if inconsistent.
    pub fn from_arrays(
        first_edge: &[u32],
        word_end: Vec<bool>,
        edges: &[(char, NodeId)],
    ) -> Option<Self> {
        let nodes = word_end.len();
        if first_edge.len() != nodes + 1 || *first_edge.last()? as usize != edges.len() {
            return None;
        }
        let mut children = Vec::with_capacity(nodes);
        for w in first_edge.windows(2) {
            let (a, b) = (w[0] as usize, w[1] as usize);
            let kids = edges.get(a..b)?.to_vec();
            if kids.iter().any(|&(_, n)| n as usize >= nodes) {
                return None;
            }
            children.push(kids);
        }
        let words = word_end.iter().filter(|&&e| e).count();
        Some(Self {
            children,
            word_end,
            words,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_words() {
        let t = VocabTrie::from_words(["she", "shed", "had", "she"]);
        assert_eq!(t.len(), 3);
        assert!(t.contains("she") && t.contains("shed") && t.contains("had"));
        assert!(!t.contains("sh") && !t.contains("hat"));
        let sh = t.find("sh").unwrap();
        assert!(!t.is_word_end(sh));
        assert!(t.child(sh, 'e').is_some());
        assert!(t.child(sh, 'x').is_none());
        assert!(t.find("x").is_none());
        let (first, ends, edges) = t.to_arrays();
        assert_eq!(VocabTrie::from_arrays(&first, ends, &edges), Some(t));
    }
}
