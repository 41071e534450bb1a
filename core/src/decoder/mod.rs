//! CTC decoding over plain per-frame log-probabilities (`[frames × classes]`, blank last).

pub mod greedy;

pub use greedy::{GreedyToken, greedy_decode};
