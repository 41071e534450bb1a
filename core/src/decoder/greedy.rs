//! Greedy (best path) CTC decoding: the most likely class per frame, repeats collapsed,
//! blanks dropped.

/// One emitted label and the frame where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreedyToken {
    /// The label (an alphabet index).
    pub label: usize,
    /// The frame at which the label first wins.
    pub frame: usize,
}

/// Decodes row-major `[frames, classes]` scores (probabilities, log-probabilities or logits:
/// only the per-frame argmax matters) with the blank at `blank`.
pub fn greedy_decode(scores: &[f32], classes: usize, blank: usize) -> Vec<GreedyToken> {
    let mut tokens = Vec::new();
    let mut previous = blank;
    for (frame, row) in scores.chunks_exact(classes).enumerate() {
        let best = row
            .iter()
            .enumerate()
            .fold((blank, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                if v > bv { (i, v) } else { (bi, bv) }
            })
            .0;
        if best != blank && best != previous {
            tokens.push(GreedyToken { label: best, frame });
        }
        previous = best;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(path: &[usize], classes: usize) -> Vec<f32> {
        path.iter()
            .flat_map(|&c| (0..classes).map(move |i| if i == c { 0.0 } else { -10.0 }))
            .collect()
    }

    #[test]
    fn collapses_repeats_and_drops_blanks() {
        // classes: 0 = 'a', 1 = 'b', 2 = blank
        let scores = one_hot(&[2, 0, 0, 2, 0, 1, 1, 2], 3);
        let tokens = greedy_decode(&scores, 3, 2);
        let labels: Vec<usize> = tokens.iter().map(|t| t.label).collect();
        let frames: Vec<usize> = tokens.iter().map(|t| t.frame).collect();
        assert_eq!(labels, vec![0, 0, 1]);
        assert_eq!(frames, vec![1, 4, 5]);
    }

    #[test]
    fn all_blank_and_empty_inputs_give_nothing() {
        assert!(greedy_decode(&one_hot(&[2, 2, 2], 3), 3, 2).is_empty());
        assert!(greedy_decode(&[], 3, 2).is_empty());
    }
}
