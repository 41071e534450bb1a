//! Writes an n-gram model as a KenLM binary with probing hash tables (`build_binary probing`),
//! laid out as [`super::probing`] reads it and as KenLM's `lm/search_hashed.cc` builds it from an
//! ARPA file: word ids in vocabulary order with `<unk>` first; a stored probability's sign bit
//! set when no longer n-gram extends it to the left; a zero back-off stored as `-0.0` when no
//! longer n-gram extends it to the right. The vocabulary's text is not stored (as
//! `build_binary -v`), since a `.scorer` package's dictionary follows the search data.

use std::collections::{HashMap, HashSet};

use super::bits::murmur_hash64a;
use super::probing::combine;
use super::{FIXED_PARAMETERS, MAGIC, MAX_ORDER, SANITY, align8};
use crate::lm::WordId;

/// KenLM's default `probing_multiplier`.
const MULTIPLIER: f32 = 1.5;

/// An n-gram model to write: the vocabulary by id (it must hold `<s>`, `</s>` and `<unk>`)
/// and, per order from unigrams up, (word ids, log10 probability, log10 back-off).
pub struct NgramTables<'a> {
    /// Words by id.
    pub vocab: &'a [String],
    /// N-grams per order.
    pub ngrams: &'a [Vec<(Vec<WordId>, f32, f32)>],
}

/// A hash table being filled: buckets of `entry` bytes, key first, key 0 for empty.
struct TableWriter {
    buckets: u64,
    entry: usize,
    bytes: Vec<u8>,
}

impl TableWriter {
    fn new(entries: u64, entry: usize) -> Self {
        let buckets = (entries + 1).max((MULTIPLIER * entries as f32) as u64);
        Self {
            buckets,
            entry,
            bytes: vec![0; buckets as usize * entry],
        }
    }

    /// Linear probing from `key mod buckets`, as `ProbingHashTable::Insert`.
    fn insert(&mut self, key: u64, value: &[u8]) -> Result<(), String> {
        if key == 0 {
            return Err("an n-gram hashes to 0, KenLM's empty-bucket key".into());
        }
        let mut bucket = key % self.buckets;
        loop {
            let at = bucket as usize * self.entry;
            let got = u64::from_le_bytes(self.bytes[at..at + 8].try_into().expect("8 bytes"));
            if got == 0 {
                self.bytes[at..at + 8].copy_from_slice(&key.to_le_bytes());
                self.bytes[at + 8..at + 8 + value.len()].copy_from_slice(value);
                return Ok(());
            }
            if got == key {
                return Err("two n-grams have the same 64-bit hash".into());
            }
            bucket = (bucket + 1) % self.buckets;
        }
    }
}

/// The probing key of an n-gram given oldest word first: its newest word, combined with the
/// others from newest to oldest.
fn key(words: &[WordId]) -> u64 {
    let (&last, rest) = words.split_last().expect("an n-gram has a word");
    rest.iter()
        .rev()
        .fold(u64::from(last), |hash, &w| combine(hash, w))
}

/// A probability with KenLM's independent-left mark in its sign bit.
fn stored_prob(prob: f32, independent_left: bool) -> f32 {
    let magnitude = f32::from_bits(prob.to_bits() & 0x7fff_ffff);
    if independent_left {
        -magnitude
    } else {
        magnitude
    }
}

/// A back-off with KenLM's extension mark: a zero is `+0.0` when a longer n-gram extends the
/// n-gram, `-0.0` when none does.
fn stored_backoff(backoff: f32, extended: bool) -> f32 {
    if backoff != 0.0 {
        backoff
    } else if extended {
        0.0
    } else {
        -0.0
    }
}

/// The whole binary file.
pub fn probing_binary(model: &NgramTables) -> Result<Vec<u8>, String> {
    let order = model.ngrams.len();
    if !(2..=MAX_ORDER).contains(&order) {
        return Err(format!(
            "order {order}; KenLM binaries hold orders 2 to {MAX_ORDER}"
        ));
    }
    // Our ids to KenLM's: <unk> first, then the vocabulary in order.
    let unk = model
        .vocab
        .iter()
        .position(|w| w == "<unk>")
        .ok_or("the vocabulary has no <unk>")?;
    for special in ["<s>", "</s>"] {
        if !model.vocab.iter().any(|w| w == special) {
            return Err(format!("the vocabulary has no {special}"));
        }
    }
    let ids: Vec<WordId> = (0..model.vocab.len())
        .map(|i| match i.cmp(&unk) {
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Less => i as WordId + 1,
            std::cmp::Ordering::Greater => i as WordId,
        })
        .collect();
    let remap = |words: &[WordId]| -> Result<Vec<WordId>, String> {
        words
            .iter()
            .map(|&w| {
                ids.get(w as usize)
                    .copied()
                    .ok_or_else(|| format!("word id {w} outside the vocabulary"))
            })
            .collect()
    };
    let ngrams: Vec<Vec<(Vec<WordId>, f32, f32)>> = model
        .ngrams
        .iter()
        .map(|list| {
            list.iter()
                .map(|(w, p, b)| Ok((remap(w)?, *p, *b)))
                .collect::<Result<_, String>>()
        })
        .collect::<Result<_, String>>()?;
    let counts: Vec<u64> = ngrams.iter().map(|l| l.len() as u64).collect();
    let vocab_size = model.vocab.len();
    if counts[0] != vocab_size as u64 {
        return Err(format!(
            "{} unigrams for a vocabulary of {vocab_size} words",
            counts[0]
        ));
    }
    // Which n-grams longer ones extend, to the right (as their context) and to the left (as
    // their suffix). KenLM fills missing contexts and suffixes in; this writer refuses them.
    let present: Vec<HashSet<&[WordId]>> = ngrams
        .iter()
        .map(|l| l.iter().map(|(w, _, _)| w.as_slice()).collect())
        .collect();
    let mut extended_right: Vec<HashSet<&[WordId]>> = vec![HashSet::new(); order];
    let mut extended_left: Vec<HashSet<&[WordId]>> = vec![HashSet::new(); order];
    for n in 1..order {
        for (words, _, _) in &ngrams[n] {
            let (context, suffix) = (&words[..n], &words[1..]);
            for (part, what) in [(context, "context"), (suffix, "suffix")] {
                if !present[n - 1].contains(part) {
                    return Err(format!(
                        "the {}-gram {words:?} has no {what} {part:?} among the {n}-grams (a \
                         pruned model that is not closed; KenLM's build_binary fills these in)",
                        n + 1
                    ));
                }
            }
            extended_right[n - 1].insert(context);
            extended_left[n - 1].insert(suffix);
        }
    }

    let mut out = header(&counts);
    // The vocabulary: {version 0, bound}, then (hash, id) buckets.
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(vocab_size as u32).to_le_bytes());
    let mut vocab = TableWriter::new(counts[0], 12);
    let mut seen = HashMap::new();
    for (i, word) in model.vocab.iter().enumerate() {
        if i == unk {
            continue;
        }
        let hash = murmur_hash64a(word.as_bytes());
        if let Some(other) = seen.insert(hash, word) {
            return Err(format!(
                "the words {other:?} and {word:?} have the same hash"
            ));
        }
        vocab.insert(hash, &ids[i].to_le_bytes())?;
    }
    out.extend_from_slice(&vocab.bytes);
    // Unigrams by KenLM id, plus the one KenLM keeps spare.
    let mut unigrams = vec![0u8; (vocab_size + 1) * 8];
    for (words, prob, backoff) in &ngrams[0] {
        let w = words[0] as usize;
        let key: &[WordId] = &words[..];
        let p = stored_prob(*prob, !extended_left[0].contains(key));
        let b = stored_backoff(*backoff, extended_right[0].contains(key));
        unigrams[w * 8..w * 8 + 4].copy_from_slice(&p.to_le_bytes());
        unigrams[w * 8 + 4..w * 8 + 8].copy_from_slice(&b.to_le_bytes());
    }
    out.extend_from_slice(&unigrams);
    for n in 1..order - 1 {
        let mut table = TableWriter::new(counts[n], 16);
        for (words, prob, backoff) in &ngrams[n] {
            let p = stored_prob(*prob, !extended_left[n].contains(words.as_slice()));
            let b = stored_backoff(*backoff, extended_right[n].contains(words.as_slice()));
            let mut value = [0u8; 8];
            value[..4].copy_from_slice(&p.to_le_bytes());
            value[4..].copy_from_slice(&b.to_le_bytes());
            table.insert(key(words), &value)?;
        }
        out.extend_from_slice(&table.bytes);
    }
    let mut longest = TableWriter::new(counts[order - 1], 12);
    for (words, prob, _) in &ngrams[order - 1] {
        longest.insert(key(words), &stored_prob(*prob, true).to_le_bytes())?;
    }
    out.extend_from_slice(&longest.bytes);
    Ok(out)
}

/// KenLM's header for a probing model with these counts.
fn header(counts: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(MAGIC);
    out.resize(56, 0);
    for f in [0.0f32, 1.0, -0.5] {
        out.extend_from_slice(&f.to_le_bytes());
    }
    for u in [1u32, u32::MAX, 0] {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out.extend_from_slice(&1u64.to_le_bytes());
    debug_assert_eq!(out.len(), SANITY);
    // FixedWidthParameters: order, probing multiplier, model type 0 (probing), no vocabulary
    // words, search version 0.
    out.push(counts.len() as u8);
    out.extend_from_slice(&[0; 3]);
    out.extend_from_slice(&MULTIPLIER.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(0);
    out.extend_from_slice(&[0; 3]);
    out.extend_from_slice(&0u32.to_le_bytes());
    debug_assert_eq!(out.len(), SANITY + FIXED_PARAMETERS);
    for c in counts {
        out.extend_from_slice(&c.to_le_bytes());
    }
    out.resize(align8(out.len()), 0);
    out
}
