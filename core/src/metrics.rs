//! Word and character error rates, as DeepSpeech reports them: Levenshtein distance over words
//! (or characters) divided by the reference length.

/// Levenshtein distance between two sequences (substitutions, insertions, deletions cost 1).
pub fn edit_distance<T: PartialEq>(reference: &[T], hypothesis: &[T]) -> usize {
    let mut previous: Vec<usize> = (0..=hypothesis.len()).collect();
    let mut current = vec![0; hypothesis.len() + 1];
    for (i, r) in reference.iter().enumerate() {
        current[0] = i + 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let substitution = previous[j] + usize::from(r != h);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[hypothesis.len()]
}

/// Word edits and reference word count of one pair.
pub fn word_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let r: Vec<&str> = reference.split_whitespace().collect();
    let h: Vec<&str> = hypothesis.split_whitespace().collect();
    (edit_distance(&r, &h), r.len())
}

/// Character edits and reference character count of one pair.
pub fn char_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let r: Vec<char> = reference.chars().collect();
    let h: Vec<char> = hypothesis.chars().collect();
    (edit_distance(&r, &h), r.len())
}

/// Error rate from edits and reference length (an empty reference with a non-empty hypothesis
/// counts as 100 %, as DeepSpeech does).
pub fn rate(edits: usize, reference_len: usize) -> f64 {
    match (edits, reference_len) {
        (0, _) => 0.0,
        (_, 0) => 1.0,
        (e, n) => e as f64 / n as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_distances() {
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        assert_eq!(edit_distance(b"", b"abc"), 3);
        assert_eq!(edit_distance(b"abc", b""), 3);
        assert_eq!(edit_distance(b"same", b"same"), 0);
    }

    #[test]
    fn wer_and_cer() {
        let (e, n) = word_errors("she had your dark suit", "she had dark suits");
        assert_eq!((e, n), (2, 5));
        assert!((rate(e, n) - 0.4).abs() < 1e-12);
        assert_eq!(char_errors("abc", "abd"), (1, 3));
        assert_eq!(rate(0, 0), 0.0);
        assert_eq!(rate(2, 0), 1.0);
    }
}
