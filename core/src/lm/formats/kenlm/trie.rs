//! KenLM's trie models (`lm/search_trie.*`, `lm/trie.*`, `lm/quantize.*`, `lm/bhiksha.*`,
//! `lm/vocab.cc`'s `SortedVocabulary`): the layout is computed from the header's counts exactly
//! as KenLM's `Size` functions compute it, and every field is read in place.
//!
//! After the vocabulary (a count, then the sorted 64-bit hashes of every word but `<unk>`; a
//! word's id is its hash's position + 1) come: the quantisation tables (`-q`: a 3-byte header,
//! then per middle order a probability and a back-off table, and the longest order's
//! probability table); the unigrams (`{f32 prob, f32 backoff, u64 next}` per word, plus two);
//! one bit-packed array per middle order, entries `[word id][prob, back-off][next pointer]`
//! sorted by word within each parent's range; and the longest order's `[word id][prob]` array.
//! With `-a`, each middle's next pointers lose their high bits to a table of offsets
//! (`ArrayBhiksha`).

use super::bits::{self, mask, read_int, required_bits};
use super::{ModelType, Search};
use crate::lm::WordId;
use crate::lm::formats::LeBytes;

/// Quantisation tables of a `-q` trie.
#[derive(Debug, Clone)]
struct Quantization {
    prob_bits: u8,
    backoff_bits: u8,
    /// Byte offset of the first table (the header's 8 bytes skipped).
    tables: usize,
}

impl Quantization {
    /// Byte offset of order `order_minus_2 + 2`'s probability table (the longest order's when
    /// `order_minus_2` is the last).
    fn prob_table(&self, order_minus_2: usize) -> usize {
        self.tables
            + order_minus_2 * 4 * ((1usize << self.prob_bits) + (1usize << self.backoff_bits))
    }

    fn backoff_table(&self, order_minus_2: usize) -> usize {
        self.prob_table(order_minus_2) + 4 * (1usize << self.prob_bits)
    }

    /// `SeparatelyQuantize::Size`.
    fn size(order: usize, prob_bits: u8, backoff_bits: u8) -> usize {
        let longest = (1usize << prob_bits) * 4;
        let middle = (1usize << backoff_bits) * 4 + longest;
        (order - 2) * middle + longest + 8
    }
}

/// How a middle order's next pointers are stored.
#[derive(Debug, Clone)]
enum Pointers {
    /// Whole, inline (`DontBhiksha`).
    Inline { bits: u8 },
    /// The low `bits` inline, the high ones found in a sorted offset table (`ArrayBhiksha`).
    Array {
        bits: u8,
        /// Byte offset of the table's first entry, and its length.
        offsets: usize,
        count: usize,
    },
}

/// One bit-packed array: a middle order, or the longest.
#[derive(Debug, Clone)]
struct Packed {
    /// Byte offset of the array.
    base: usize,
    word_bits: u8,
    quant_bits: u8,
    total_bits: u8,
    /// Entries, for bounds.
    entries: u64,
    /// The largest word id (the unigram count), the keys' upper bound.
    max_vocab: u64,
    pointers: Option<Pointers>,
}

impl Packed {
    /// `BitPacked::BaseSize`.
    fn base_size(entries: u64, max_vocab: u64, remaining_bits: u8) -> usize {
        let total = u64::from(required_bits(max_vocab)) + u64::from(remaining_bits);
        (((1 + entries) * total).div_ceil(8) + 8) as usize
    }

    fn word(&self, bytes: &[u8], index: u64) -> u64 {
        read_int(
            &bytes[self.base.min(bytes.len())..],
            index * u64::from(self.total_bits),
            mask(self.word_bits),
        )
    }

    /// `FindBitPacked`: the index of `word` among entries `[begin, end)`, sorted by word. Word
    /// ids follow their hashes' order, so they are spread uniformly up to `max_vocab`.
    fn find(&self, bytes: &[u8], word: WordId, begin: u64, end: u64) -> Option<u64> {
        uniform_find(
            begin,
            end.min(self.entries),
            self.max_vocab,
            u64::from(word),
            |i| Some(self.word(bytes, i)),
        )
    }

    /// Bit offset (from `base`) of entry `index`'s value fields.
    fn value_bit(&self, index: u64) -> u64 {
        index * u64::from(self.total_bits) + u64::from(self.word_bits)
    }

    /// `ReadNext`: the range of the next order's entries under entry `index`.
    fn next_range(&self, bytes: &[u8], index: u64) -> (u64, u64) {
        let data = &bytes[self.base.min(bytes.len())..];
        let at = self.value_bit(index) + u64::from(self.quant_bits);
        let total = u64::from(self.total_bits);
        match &self.pointers {
            None => (0, 0),
            Some(Pointers::Inline { bits }) => (
                read_int(data, at, mask(*bits)),
                read_int(data, at + total, mask(*bits)),
            ),
            Some(Pointers::Array {
                bits,
                offsets,
                count,
            }) => {
                let offset = |i: usize| bytes.u64_at(offsets + 8 * i).unwrap_or(u64::MAX);
                // upper_bound(offsets, index) − 1, then forward while the next offset ≤ index+1.
                let (mut lo, mut hi) = (0usize, *count);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if offset(mid) <= index {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                let begin_it = lo.saturating_sub(1);
                let mut end_it = begin_it + 1;
                while end_it < *count && offset(end_it) <= index + 1 {
                    end_it += 1;
                }
                end_it -= 1;
                let begin = ((begin_it as u64) << bits) | read_int(data, at, mask(*bits));
                let end = ((end_it as u64) << bits) | read_int(data, at + total, mask(*bits));
                (begin, end.max(begin))
            }
        }
    }
}

/// KenLM's `BoundedSortedUniformFind`: the index in `[lo, hi)` whose key is `target`, keys
/// sorted and spread uniformly below `max_key`, found by interpolation (a few probes, so a few
/// pages touched, where a binary search would touch one per halving). Every probe narrows the
/// range, so damaged (unsorted) keys cost at most one probe per entry; a key that cannot be read
/// ends the search.
fn uniform_find(
    mut lo: u64,
    mut hi: u64,
    max_key: u64,
    target: u64,
    key_at: impl Fn(u64) -> Option<u64>,
) -> Option<u64> {
    let (mut lo_key, mut hi_key) = (0u64, max_key);
    while lo < hi {
        let offset = if hi_key > lo_key {
            (u128::from(target.saturating_sub(lo_key)) * u128::from(hi - lo)
                / u128::from(hi_key - lo_key)) as u64
        } else {
            0
        };
        let mid = lo + offset.min(hi - lo - 1);
        let key = key_at(mid)?;
        match key.cmp(&target) {
            std::cmp::Ordering::Less => {
                lo = mid + 1;
                lo_key = key;
            }
            std::cmp::Ordering::Greater => {
                hi = mid;
                hi_key = key;
            }
            std::cmp::Ordering::Equal => return Some(mid),
        }
    }
    None
}

/// `ChopBits` of `ArrayBhiksha`: how many high bits of the next pointers go to the table.
fn chop_bits(max_offset: u64, max_next: u64, configured: u8) -> u8 {
    let required = required_bits(max_next);
    let mut best = 0;
    let mut lowest = i64::MAX;
    for chop in 0..=required.min(configured) {
        let change = ((max_next >> (required - chop)) as i64)
            .wrapping_mul(64)
            .wrapping_sub((max_offset as i64).wrapping_mul(i64::from(chop)));
        if change < lowest {
            lowest = change;
            best = chop;
        }
    }
    best
}

/// A trie model's vocabulary and search structure.
#[derive(Debug, Clone)]
pub(super) struct TrieModel {
    /// Byte offset of the sorted word hashes, and their number.
    hashes: usize,
    hash_count: usize,
    quant: Option<Quantization>,
    /// Byte offset of the unigram array, and the number of unigrams.
    unigrams: usize,
    unigram_count: u64,
    middles: Vec<Packed>,
    longest: Packed,
}

impl TrieModel {
    /// Lays the model out from `start` (the end of the header): returns it and where its search
    /// data ends.
    pub fn layout(
        bytes: &[u8],
        start: usize,
        counts: &[u64],
        kind: ModelType,
    ) -> Result<(Self, usize), String> {
        let order = counts.len();
        let cut = || "the file ends inside its trie".to_string();
        // SortedVocabulary: u64 count, then the hashes.
        let hash_count = bytes.u64_at(start).ok_or_else(cut)?;
        if hash_count + 1 != counts[0] {
            return Err(format!(
                "the vocabulary holds {hash_count} words besides <unk> but the header counts {} \
                 unigrams",
                counts[0]
            ));
        }
        let hashes = start + 8;
        let mut at = start + 8 + 8 * counts[0] as usize;
        let quantized = matches!(kind, ModelType::QuantTrie | ModelType::QuantArrayTrie);
        let array = matches!(kind, ModelType::ArrayTrie | ModelType::QuantArrayTrie);
        let quant = if quantized {
            let head: [u8; 3] = bytes.array(at).ok_or_else(cut)?;
            if head[0] != 2 {
                return Err(format!("quantization version {}, expected 2", head[0]));
            }
            let (prob_bits, backoff_bits) = (head[1], head[2]);
            if !(1..=25).contains(&prob_bits) || !(1..=25).contains(&backoff_bits) {
                return Err(format!(
                    "quantization to {prob_bits} probability and {backoff_bits} back-off bits \
                     (KenLM allows 1 to 25)"
                ));
            }
            let q = Quantization {
                prob_bits,
                backoff_bits,
                tables: at + 8,
            };
            at += Quantization::size(order, prob_bits, backoff_bits);
            Some(q)
        } else {
            None
        };
        let (middle_quant, longest_quant) = match &quant {
            Some(q) => (q.prob_bits + q.backoff_bits, q.prob_bits),
            None => (63, 31),
        };
        let unigrams = at;
        at += (counts[0] as usize + 2) * 16;
        // ArrayBhiksha's configured bits are read from the first middle's header.
        let configured = if array && order > 2 {
            let head: [u8; 2] = bytes.array(at).ok_or_else(cut)?;
            if head[0] != 0 {
                return Err(format!(
                    "array pointer compression version {}, expected 0",
                    head[0]
                ));
            }
            head[1]
        } else {
            0
        };
        let word_bits = required_bits(counts[0]);
        if word_bits > 57 {
            return Err("word ids wider than 57 bits".into());
        }
        let mut middles = Vec::with_capacity(order.saturating_sub(2));
        for n in 2..order {
            let entries = counts[n - 1];
            let max_next = counts[n];
            let (pointers, pointer_table) = if array {
                let chop = chop_bits(entries + 1, max_next, configured);
                let bits = required_bits(max_next) - chop;
                let count = (max_next >> (required_bits(max_next) - chop)) as usize + 1;
                // AlignTo8(base) + the 8-byte header.
                let offsets = align8(at) + 8;
                (
                    Pointers::Array {
                        bits,
                        offsets,
                        count,
                    },
                    8 * (1 + count) + 7,
                )
            } else {
                (
                    Pointers::Inline {
                        bits: required_bits(max_next),
                    },
                    0,
                )
            };
            let inline_bits = match pointers {
                Pointers::Inline { bits } | Pointers::Array { bits, .. } => bits,
            };
            let base = at + pointer_table;
            let remaining = middle_quant + inline_bits;
            middles.push(Packed {
                base,
                word_bits,
                quant_bits: middle_quant,
                total_bits: word_bits + remaining,
                entries: entries + 1,
                max_vocab: counts[0],
                pointers: Some(pointers),
            });
            at = base + Packed::base_size(entries, counts[0], remaining);
        }
        let longest = Packed {
            base: at,
            word_bits,
            quant_bits: longest_quant,
            total_bits: word_bits + longest_quant,
            entries: counts[order - 1],
            max_vocab: counts[0],
            pointers: None,
        };
        at += Packed::base_size(counts[order - 1], counts[0], longest_quant);
        Ok((
            Self {
                hashes,
                hash_count: hash_count as usize,
                quant,
                unigrams,
                unigram_count: counts[0],
                middles,
                longest,
            },
            at,
        ))
    }

    /// `SortedVocabulary::Index`: the hashes are sorted and uniform.
    pub fn index(&self, bytes: &[u8], hash: u64) -> WordId {
        uniform_find(0, self.hash_count as u64, u64::MAX, hash, |i| {
            bytes.u64_at(self.hashes + 8 * i as usize)
        })
        .map_or(0, |i| (i + 1) as WordId)
    }

    fn middle_values(&self, bytes: &[u8], order_minus_2: usize, index: u64) -> (f32, f32) {
        let packed = &self.middles[order_minus_2];
        let data = &bytes[packed.base.min(bytes.len())..];
        let at = packed.value_bit(index);
        match &self.quant {
            None => (
                bits::read_non_positive_float31(data, at),
                bits::read_float32(data, at + 31),
            ),
            Some(q) => {
                let backoff = read_int(data, at, mask(q.backoff_bits));
                let prob = read_int(data, at + u64::from(q.backoff_bits), mask(q.prob_bits));
                (
                    bytes
                        .f32_at(q.prob_table(order_minus_2) + 4 * prob as usize)
                        .unwrap_or(f32::NEG_INFINITY),
                    bytes
                        .f32_at(q.backoff_table(order_minus_2) + 4 * backoff as usize)
                        .unwrap_or(0.0),
                )
            }
        }
    }
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// A node of the trie: the range of the next order's entries.
#[derive(Debug, Clone, Copy)]
pub(super) struct Range {
    begin: u64,
    end: u64,
}

impl Search for TrieModel {
    type Node = Range;

    fn unigram(&self, bytes: &[u8], word: WordId) -> (f32, f32, Range, bool) {
        let word = u64::from(word).min(self.unigram_count);
        let at = self.unigrams + 16 * word as usize;
        let prob = bytes.f32_at(at).unwrap_or(f32::NEG_INFINITY);
        let backoff = bytes.f32_at(at + 4).unwrap_or(0.0);
        let begin = bytes.u64_at(at + 8).unwrap_or(0);
        let end = bytes.u64_at(at + 24).unwrap_or(begin);
        let range = Range { begin, end };
        (prob, backoff, range, begin == end)
    }

    fn middle(
        &self,
        bytes: &[u8],
        order_minus_2: usize,
        word: WordId,
        node: &mut Range,
    ) -> (Option<(f32, f32)>, bool) {
        let packed = &self.middles[order_minus_2];
        let Some(index) = packed.find(bytes, word, node.begin, node.end) else {
            return (None, true);
        };
        let (begin, end) = packed.next_range(bytes, index);
        *node = Range { begin, end };
        (
            Some(self.middle_values(bytes, order_minus_2, index)),
            begin == end,
        )
    }

    fn longest(&self, bytes: &[u8], word: WordId, node: Range) -> Option<f32> {
        let index = self.longest.find(bytes, word, node.begin, node.end)?;
        let data = &bytes[self.longest.base.min(bytes.len())..];
        let at = self.longest.value_bit(index);
        Some(match &self.quant {
            None => bits::read_non_positive_float31(data, at),
            Some(q) => {
                let prob = read_int(data, at, mask(q.prob_bits));
                bytes
                    .f32_at(q.prob_table(self.middles.len()) + 4 * prob as usize)
                    .unwrap_or(f32::NEG_INFINITY)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chop_bits_trades_table_size_for_inline_bits() {
        // Few pointers into a large next order: no table entries are worth it beyond the
        // point where 64 bits per table entry exceed the inline bits saved.
        assert_eq!(
            chop_bits(10, 1000, 0),
            0,
            "nothing configured, nothing chopped"
        );
        let chop = chop_bits(1_000_000, 1_000_000, 255);
        assert!(chop > 0 && chop <= required_bits(1_000_000));
    }
}
