//! CTC decoding over plain per-frame log-probabilities (`[frames × classes]`, blank last):
//! greedy (best path) and DeepSpeech 0.9's prefix beam search with LM and hot-words.

pub mod beam;
pub mod greedy;

pub use beam::{BeamConfig, BeamDecoder, BeamLm, Candidate, HotWords, Token, Word, beam_search};
pub use greedy::{GreedyToken, greedy_decode};
