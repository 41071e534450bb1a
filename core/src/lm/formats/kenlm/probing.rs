//! KenLM's probing model (`lm/search_hashed.*`, `lm/vocab.cc`'s `ProbingVocabulary`,
//! `util/probing_hash_table.hh`): linear-probing hash tables whose keys are 64-bit hashes.
//!
//! After the header: the vocabulary (an 8-byte header `{version 0, bound}`, then buckets of
//! `{u64 word hash, u32 id}`), the unigrams (`{f32 prob, f32 backoff}` per id, plus one), one
//! table per middle order (`{u64 n-gram hash, f32 prob, f32 backoff}`) and the longest order's
//! (`{u64 hash, f32 prob}`). A table of `n` entries has `max(n + 1, multiplier × n)` buckets;
//! the bucket of a key is `key mod buckets`, key 0 marks an empty bucket. The sign bit of a
//! stored probability marks an n-gram that no longer n-gram extends to the left ("independent
//! left"); the probability read is always made negative.

use super::Search;
use crate::lm::WordId;
use crate::lm::formats::LeBytes;

/// KenLM's `CombineWordHash`: the key of an n-gram from its suffix's key and the next word to
/// the left.
pub(super) fn combine(current: u64, next: WordId) -> u64 {
    current.wrapping_mul(8_978_948_897_894_561_157)
        ^ (1 + u64::from(next)).wrapping_mul(17_894_857_484_156_487_943)
}

/// One hash table in the file.
#[derive(Debug, Clone)]
struct Table {
    /// Byte offset of the first bucket.
    base: usize,
    buckets: u64,
    entry: usize,
}

impl Table {
    /// `ProbingHashTable::Size` in buckets.
    fn buckets(entries: u64, multiplier: f32) -> u64 {
        (entries + 1).max((multiplier * entries as f32) as u64)
    }

    fn bytes(&self) -> usize {
        self.buckets as usize * self.entry
    }

    /// `ProbingHashTable::Find`: the byte offset of the entry with `key`. At most one pass over
    /// the table, so a damaged (full) table cannot loop forever.
    fn find(&self, bytes: &[u8], key: u64) -> Option<usize> {
        if self.buckets == 0 {
            return None;
        }
        let mut bucket = key % self.buckets;
        for _ in 0..self.buckets {
            let at = self.base + bucket as usize * self.entry;
            let got = bytes.u64_at(at)?;
            if got == key {
                return Some(at);
            }
            if got == 0 {
                return None;
            }
            bucket += 1;
            if bucket == self.buckets {
                bucket = 0;
            }
        }
        None
    }
}

/// A probing model's vocabulary and tables.
#[derive(Debug, Clone)]
pub(super) struct ProbingModel {
    vocab: Table,
    unigrams: usize,
    unigram_count: u64,
    middles: Vec<Table>,
    longest: Table,
}

/// The probability as KenLM's `GenericProbingProxy::Prob` returns it (sign bit set), and
/// whether the sign bit was set in the file (independent left).
fn signed_prob(stored: f32) -> (f32, bool) {
    let bits = stored.to_bits();
    (f32::from_bits(bits | 0x8000_0000), bits & 0x8000_0000 != 0)
}

impl ProbingModel {
    /// Lays the model out from `start` (the end of the header); returns it and where its
    /// search data ends.
    pub fn layout(
        bytes: &[u8],
        start: usize,
        counts: &[u64],
        multiplier: f32,
    ) -> Result<(Self, usize), String> {
        if multiplier.is_nan() || multiplier < 1.0 {
            return Err(format!("probing multiplier {multiplier}, below 1"));
        }
        let version = bytes
            .u32_at(start)
            .ok_or("the file ends inside its vocabulary")?;
        if version != 0 {
            return Err(format!("probing vocabulary version {version}, expected 0"));
        }
        let bound = bytes.u32_at(start + 4).unwrap_or(0);
        if u64::from(bound) != counts[0] {
            return Err(format!(
                "the vocabulary holds {bound} words but the header counts {} unigrams",
                counts[0]
            ));
        }
        let vocab = Table {
            base: start + 8,
            buckets: Table::buckets(counts[0], multiplier),
            entry: 12,
        };
        let mut at = vocab.base + vocab.bytes();
        let unigrams = at;
        at += (counts[0] as usize + 1) * 8;
        let mut middles = Vec::new();
        for &count in &counts[1..counts.len() - 1] {
            let table = Table {
                base: at,
                buckets: Table::buckets(count, multiplier),
                entry: 16,
            };
            at += table.bytes();
            middles.push(table);
        }
        let longest = Table {
            base: at,
            buckets: Table::buckets(counts[counts.len() - 1], multiplier),
            entry: 12,
        };
        at += longest.bytes();
        Ok((
            Self {
                vocab,
                unigrams,
                unigram_count: counts[0],
                middles,
                longest,
            },
            at,
        ))
    }

    /// `ProbingVocabulary::Index`.
    pub fn index(&self, bytes: &[u8], hash: u64) -> WordId {
        self.vocab
            .find(bytes, hash)
            .and_then(|at| bytes.u32_at(at + 8))
            .unwrap_or(0)
    }
}

impl Search for ProbingModel {
    type Node = u64;

    fn unigram(&self, bytes: &[u8], word: WordId) -> (f32, f32, u64, bool) {
        let at = self.unigrams + 8 * u64::from(word).min(self.unigram_count) as usize;
        let (prob, independent) = signed_prob(bytes.f32_at(at).unwrap_or(f32::NEG_INFINITY));
        let backoff = bytes.f32_at(at + 4).unwrap_or(0.0);
        (prob, backoff, u64::from(word), independent)
    }

    fn middle(
        &self,
        bytes: &[u8],
        order_minus_2: usize,
        word: WordId,
        node: &mut u64,
    ) -> (Option<(f32, f32)>, bool) {
        *node = combine(*node, word);
        let Some(at) = self.middles[order_minus_2].find(bytes, *node) else {
            return (None, true);
        };
        let (prob, independent) = signed_prob(bytes.f32_at(at + 8).unwrap_or(f32::NEG_INFINITY));
        let backoff = bytes.f32_at(at + 12).unwrap_or(0.0);
        (Some((prob, backoff)), independent)
    }

    fn longest(&self, bytes: &[u8], word: WordId, node: u64) -> Option<f32> {
        let at = self.longest.find(bytes, combine(node, word))?;
        bytes.f32_at(at + 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probing_tables_wrap_and_stop_at_empty_buckets() {
        // Three 12-byte buckets: key 5 in bucket 2 (5 mod 3), key 8 pushed to bucket 0.
        let mut bytes = vec![0u8; 36];
        bytes[24..32].copy_from_slice(&5u64.to_le_bytes());
        bytes[0..8].copy_from_slice(&8u64.to_le_bytes());
        let table = Table {
            base: 0,
            buckets: 3,
            entry: 12,
        };
        assert_eq!(table.find(&bytes, 5), Some(24));
        assert_eq!(table.find(&bytes, 8), Some(0));
        assert_eq!(
            table.find(&bytes, 11),
            None,
            "bucket 2, then 0, then the empty 1"
        );
        let full = vec![0xffu8; 36];
        assert_eq!(
            table.find(&full, 7),
            None,
            "a full table ends after one pass"
        );
    }

    #[test]
    fn bucket_counts_follow_kenlm() {
        assert_eq!(Table::buckets(10, 1.5), 15);
        assert_eq!(Table::buckets(1, 1.0), 2);
    }
}
