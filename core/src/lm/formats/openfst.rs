//! OpenFST's `ConstFst<StdArc>` binary format (OpenFST 1.6, `fst/const-fst.h`), read in place:
//! the dictionary of DeepSpeech's `.scorer` packages.
//!
//! Layout (little-endian): the `FstHeader` (`int32` magic 2125659606, the strings `"const"` and
//! `"standard"` each as `int32` length + bytes, `int32` version, `int32` flags, `uint64`
//! properties, `int64` start, `int64` number of states, `int64` number of arcs); when the file is
//! aligned (version 1, or the aligned flag), padding up to the next multiple of 16 bytes of the
//! *file*; the states (`{f32 final weight, u32 first arc, u32 arcs, u32 input ε, u32 output
//! ε}`); padding again; the arcs (`{i32 input label, i32 output label, f32 weight, i32 next
//! state}`), sorted by input label within each state in DeepSpeech's dictionaries.

use std::sync::Arc;

use super::{FileBytes, LeBytes};

/// OpenFST's `kFstMagicNumber`.
pub const FST_MAGIC: i32 = 2_125_659_606;
/// `FstHeader::HAS_ISYMBOLS | HAS_OSYMBOLS`.
const HAS_SYMBOLS: i32 = 0x1 | 0x2;
/// `FstHeader::IS_ALIGNED`.
const IS_ALIGNED: i32 = 0x4;
/// `kILabelSorted` in the properties.
const ILABEL_SORTED: u64 = 0x1000_0000;
/// `MappedFile::kArchAlignment`.
const ALIGNMENT: usize = 16;
const STATE_BYTES: usize = 20;
const ARC_BYTES: usize = 16;

/// A state id.
pub type StateId = u32;

/// A `ConstFst<StdArc>` over bytes of a file.
pub struct ConstFst {
    bytes: Arc<FileBytes>,
    start: StateId,
    states: usize,
    arcs: usize,
    /// Byte offsets of the state and arc arrays.
    states_at: usize,
    arcs_at: usize,
    sorted: bool,
    /// Where the FST ends in the bytes.
    end: usize,
    /// The start state's arcs by label (`StateId::MAX`: none), when its labels are small: every
    /// word begins there, so a decoder asks it most often.
    start_table: Vec<StateId>,
}

impl std::fmt::Debug for ConstFst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConstFst")
            .field("states", &self.states)
            .field("arcs", &self.arcs)
            .finish()
    }
}

/// Reads an OpenFST string: `int32` length, then the bytes.
fn read_string(bytes: &[u8], at: &mut usize) -> Result<String, String> {
    let len = bytes.i32_at(*at).ok_or("the FST header is cut short")?;
    let len = usize::try_from(len).map_err(|_| format!("a string of length {len}"))?;
    let text = bytes
        .get(*at + 4..*at + 4 + len.min(256))
        .filter(|_| len <= 256)
        .ok_or("the FST header is cut short or damaged")?;
    *at += 4 + len;
    Ok(String::from_utf8_lossy(text).into_owned())
}

impl ConstFst {
    /// Reads the FST that starts at byte `at` of `bytes`, as OpenFST's `ConstFst::Read` does.
    /// The header and the sizes are checked here; the states and arcs are read lazily (a large
    /// dictionary costs memory only for the pages a search touches), each read checked, so a
    /// damaged FST refuses words but never reads out of bounds.
    pub fn read(bytes: Arc<FileBytes>, at: usize) -> Result<Self, String> {
        let mut pos = at;
        let magic = bytes.i32_at(pos).ok_or("no FST after the header")?;
        if magic != FST_MAGIC {
            return Err(format!(
                "no OpenFST magic number at byte {at} (found {magic:#x})"
            ));
        }
        pos += 4;
        let fst_type = read_string(&bytes, &mut pos)?;
        let arc_type = read_string(&bytes, &mut pos)?;
        if fst_type != "const" || arc_type != "standard" {
            return Err(format!(
                "a {fst_type:?} FST with {arc_type:?} arcs, expected \"const\" with \"standard\""
            ));
        }
        let cut = || "the FST header is cut short".to_string();
        let version = bytes.i32_at(pos).ok_or_else(cut)?;
        let flags = bytes.i32_at(pos + 4).ok_or_else(cut)?;
        let properties = bytes.u64_at(pos + 8).ok_or_else(cut)?;
        let start = bytes.i64_at(pos + 16).ok_or_else(cut)?;
        let states = bytes.i64_at(pos + 24).ok_or_else(cut)?;
        let arcs = bytes.i64_at(pos + 32).ok_or_else(cut)?;
        pos += 40;
        if !(1..=2).contains(&version) {
            return Err(format!("ConstFst version {version}, expected 1 or 2"));
        }
        if flags & HAS_SYMBOLS != 0 {
            return Err("the FST carries symbol tables, DeepSpeech's never do".into());
        }
        let (Ok(states), Ok(arcs)) = (usize::try_from(states), usize::try_from(arcs)) else {
            return Err(format!("{states} states and {arcs} arcs"));
        };
        if states == 0 || start < 0 || start as usize >= states || states > u32::MAX as usize {
            return Err(format!("start state {start} of {states}"));
        }
        let aligned = version == 1 || flags & IS_ALIGNED != 0;
        let align = |p: usize| {
            if aligned {
                p.div_ceil(ALIGNMENT) * ALIGNMENT
            } else {
                p
            }
        };
        let states_at = align(pos);
        let arcs_at = align(
            states
                .checked_mul(STATE_BYTES)
                .and_then(|b| b.checked_add(states_at))
                .ok_or("too many states")?,
        );
        let end = arcs
            .checked_mul(ARC_BYTES)
            .and_then(|b| b.checked_add(arcs_at))
            .ok_or("too many arcs")?;
        if end > bytes.len() {
            return Err(format!(
                "{states} states and {arcs} arcs need {} bytes, the file has {}",
                end - at,
                bytes.len().saturating_sub(at)
            ));
        }
        let mut fst = Self {
            bytes,
            start: start as StateId,
            states,
            arcs,
            states_at,
            arcs_at,
            sorted: properties & ILABEL_SORTED != 0,
            end,
            start_table: Vec::new(),
        };
        let start_arcs: Vec<(i32, StateId)> = fst.arcs(fst.start).collect();
        if start_arcs.iter().all(|&(l, _)| (0..4096).contains(&l)) {
            let size = start_arcs
                .iter()
                .map(|&(l, _)| l as usize + 1)
                .max()
                .unwrap_or(0);
            let mut table = vec![StateId::MAX; size];
            // The first arc of a label, as a linear scan would find it.
            for &(l, next) in start_arcs.iter().rev() {
                table[l as usize] = next;
            }
            fst.start_table = table;
        }
        Ok(fst)
    }

    /// The start state.
    pub fn start(&self) -> StateId {
        self.start
    }

    /// Number of states.
    pub fn num_states(&self) -> usize {
        self.states
    }

    /// Number of arcs.
    pub fn num_arcs(&self) -> usize {
        self.arcs
    }

    /// The byte just past the FST.
    pub fn end(&self) -> usize {
        self.end
    }

    /// The state's arcs: first index and count, clamped to the arc array.
    fn arc_range(&self, state: StateId) -> (usize, usize) {
        let at = self.states_at + state as usize * STATE_BYTES;
        let first = (self.bytes.u32_at(at + 4).unwrap_or(0) as usize).min(self.arcs);
        let count = (self.bytes.u32_at(at + 8).unwrap_or(0) as usize).min(self.arcs - first);
        (first, count)
    }

    /// Whether `state` is final (its final weight is not the tropical zero, +∞).
    pub fn is_final(&self, state: StateId) -> bool {
        self.bytes
            .f32_at(self.states_at + state as usize * STATE_BYTES)
            .is_some_and(|w| w != f32::INFINITY)
    }

    /// Arc `index`: its input label and next state (a next state out of range reads as
    /// `u32::MAX`, which [`Self::next`] refuses).
    fn arc(&self, index: usize) -> (i32, StateId) {
        let at = self.arcs_at + index * ARC_BYTES;
        let next = self.bytes.i32_at(at + 12).unwrap_or(-1);
        let next = if next >= 0 && (next as usize) < self.states {
            next as StateId
        } else {
            StateId::MAX
        };
        (self.bytes.i32_at(at).unwrap_or(-1), next)
    }

    /// The state reached from `state` by the arc with input `label`, as OpenFST's
    /// `SortedMatcher::Find` finds it (binary search when the arcs are sorted).
    pub fn next(&self, state: StateId, label: i32) -> Option<StateId> {
        if state == self.start && !self.start_table.is_empty() {
            let next = *self.start_table.get(usize::try_from(label).ok()?)?;
            return (next != StateId::MAX).then_some(next);
        }
        if state as usize >= self.states {
            return None;
        }
        let (first, count) = self.arc_range(state);
        if self.sorted {
            // The state's arcs as one checked slice, searched in place.
            let start = self.arcs_at + first * ARC_BYTES;
            let arcs = self.bytes.get(start..start + count * ARC_BYTES)?;
            let field = |i: usize, at: usize| {
                let b = &arcs[i * ARC_BYTES + at..i * ARC_BYTES + at + 4];
                i32::from_le_bytes([b[0], b[1], b[2], b[3]])
            };
            let (mut lo, mut hi) = (0, count);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                match field(mid, 0).cmp(&label) {
                    std::cmp::Ordering::Less => lo = mid + 1,
                    std::cmp::Ordering::Greater => hi = mid,
                    std::cmp::Ordering::Equal => {
                        let next = field(mid, 12);
                        return (next >= 0 && (next as usize) < self.states)
                            .then_some(next as StateId);
                    }
                }
            }
            None
        } else {
            (first..first + count)
                .map(|i| self.arc(i))
                .find(|&(l, _)| l == label)
                .map(|(_, next)| next)
                .filter(|&next| next != StateId::MAX)
        }
    }

    /// The arcs of `state`: (input label, next state).
    pub fn arcs(&self, state: StateId) -> impl Iterator<Item = (i32, StateId)> + '_ {
        let (first, count) = if (state as usize) < self.states {
            self.arc_range(state)
        } else {
            (0, 0)
        };
        (first..first + count).map(|i| self.arc(i))
    }
}

/// The properties OpenFST would compute for a deterministic, unweighted, acyclic acceptor
/// whose states are numbered so that every arc goes forward (a trie with one final state):
/// expanded; acceptor; input- and output-deterministic; no epsilons; arcs sorted by input and
/// output label; unweighted; acyclic and initially acyclic; topologically sorted; accessible
/// and co-accessible; not a string (unless it spells one word); unweighted cycles.
fn trie_properties(one_word: bool) -> u64 {
    let string = if one_word {
        0x1000_0000_0000
    } else {
        0x2000_0000_0000
    };
    0x1 | 0x1_0000
        | 0x4_0000
        | 0x10_0000
        | 0x80_0000
        | 0x200_0000
        | 0x800_0000
        | ILABEL_SORTED
        | 0x4000_0000
        | 0x2_0000_0000
        | 0x8_0000_0000
        | 0x20_0000_0000
        | 0x40_0000_0000
        | 0x100_0000_0000
        | 0x400_0000_0000
        | string
        | 0x8000_0000_0000
}

/// Writes a dictionary as DeepSpeech reads it: a `ConstFst<StdArc>` accepting each word's
/// labels (each sequence is one word, already followed by the word-end label the caller
/// chose), in OpenFST's aligned format (version 1, padded to 16 bytes of the *file*, so `at`
/// is the file offset where the FST will start). The FST is the words' trie with one final
/// state, deterministic like DeepSpeech's minimised dictionary, and accepts the same words.
pub fn write_dictionary(words: &[Vec<i32>], at: usize) -> Vec<u8> {
    // Trie nodes: children by label (sorted), and whether a word ends there.
    let mut children: Vec<std::collections::BTreeMap<i32, usize>> = vec![Default::default()];
    let mut ends = vec![false];
    for word in words {
        let mut node = 0;
        for &label in word {
            node = match children[node].get(&label) {
                Some(&next) => next,
                None => {
                    children.push(Default::default());
                    ends.push(false);
                    let next = children.len() - 1;
                    children[node].insert(label, next);
                    next
                }
            };
        }
        ends[node] = true;
    }
    // States in breadth-first order (so arcs go forward); word ends become one final state.
    let mut order = vec![0usize];
    let mut state_of = vec![usize::MAX; children.len()];
    state_of[0] = 0;
    let mut i = 0;
    while i < order.len() {
        for &child in children[order[i]].values() {
            if !children[child].is_empty() {
                state_of[child] = order.len();
                order.push(child);
            }
        }
        i += 1;
    }
    let final_state = order.len();
    let arcs_of = |node: usize| -> Vec<(i32, usize)> {
        children[node]
            .iter()
            .map(|(&label, &child)| {
                let next = if children[child].is_empty() {
                    final_state
                } else {
                    state_of[child]
                };
                (label, next)
            })
            .collect()
    };
    let distinct = ends.iter().filter(|&&e| e).count();
    let mut out = Vec::new();
    out.extend_from_slice(&FST_MAGIC.to_le_bytes());
    for text in ["const", "standard"] {
        out.extend_from_slice(&(text.len() as i32).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    let num_arcs: usize = order.iter().map(|&n| children[n].len()).sum();
    out.extend_from_slice(&1i32.to_le_bytes());
    out.extend_from_slice(&IS_ALIGNED.to_le_bytes());
    out.extend_from_slice(&trie_properties(distinct == 1).to_le_bytes());
    out.extend_from_slice(&0i64.to_le_bytes());
    out.extend_from_slice(&(order.len() as i64 + 1).to_le_bytes());
    out.extend_from_slice(&(num_arcs as i64).to_le_bytes());
    let pad = |out: &mut Vec<u8>| {
        while !(at + out.len()).is_multiple_of(ALIGNMENT) {
            out.push(0);
        }
    };
    pad(&mut out);
    let mut pos = 0u32;
    for &node in order.iter().chain(std::iter::once(&usize::MAX)) {
        let (weight, count) = if node == usize::MAX {
            (0.0f32, 0)
        } else {
            (f32::INFINITY, children[node].len() as u32)
        };
        for v in [weight.to_bits(), pos, count, 0, 0] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        pos += count;
    }
    pad(&mut out);
    for &node in &order {
        for (label, next) in arcs_of(node) {
            out.extend_from_slice(&label.to_le_bytes());
            out.extend_from_slice(&label.to_le_bytes());
            out.extend_from_slice(&0f32.to_le_bytes());
            out.extend_from_slice(&(next as i32).to_le_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_dictionaries_accept_exactly_their_words() {
        let words = vec![vec![3, 1], vec![3, 4, 1], vec![5, 1]];
        for at in [0, 7, 25] {
            let mut bytes = vec![0u8; at];
            bytes.extend(write_dictionary(&words, at));
            let fst = ConstFst::read(Arc::new(FileBytes::Owned(bytes)), at).unwrap();
            let accepts = |labels: &[i32]| {
                let mut s = fst.start();
                for &l in labels {
                    match fst.next(s, l) {
                        Some(n) => s = n,
                        None => return false,
                    }
                }
                fst.is_final(s)
            };
            for w in &words {
                assert!(accepts(w), "{w:?}");
            }
            for w in [&[3][..], &[3, 4], &[5], &[1], &[4, 1], &[3, 1, 1]] {
                assert!(!accepts(w), "{w:?}");
            }
            assert_eq!(
                fst.num_states(),
                5,
                "root, after 3, after 3 4, after 5, final"
            );
            assert_eq!(fst.num_arcs(), 6, "3, 5; 3→1, 3→4; 3 4→1; 5→1");
        }
    }
}
