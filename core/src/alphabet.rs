//! DeepSpeech's `alphabet.txt`: one symbol per line, `#` starts a comment line, `\#` is a
//! literal `#`. The label of a symbol is its line's index among symbol lines; the CTC blank is
//! the label after the last symbol.

use std::collections::HashMap;
use std::path::Path;

use crate::error::AlphabetError;

/// A mapping between characters and model output labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alphabet {
    symbols: Vec<char>,
    labels: HashMap<char, usize>,
}

impl Alphabet {
    /// Loads an alphabet file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, AlphabetError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|reason| AlphabetError::Io {
            path: path.to_owned(),
            reason,
        })?;
        Self::parse(&text)
    }

    /// Parses the text of an alphabet file.
    pub fn parse(text: &str) -> Result<Self, AlphabetError> {
        // A UTF-8 byte-order mark (as some Windows editors write) is not a symbol.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut symbols = Vec::new();
        let mut labels = HashMap::new();
        let mut first_line = HashMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let symbol = if let Some(escaped) = raw.strip_prefix("\\#") {
                format!("#{escaped}")
            } else if raw.starts_with('#') {
                continue;
            } else {
                raw.to_owned()
            };
            let mut chars = symbol.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return Err(AlphabetError::NotOneCharacter { line, symbol });
            };
            if let Some(&first) = first_line.get(&c) {
                return Err(AlphabetError::Duplicate {
                    line,
                    first_line: first,
                    symbol: c,
                });
            }
            first_line.insert(c, line);
            labels.insert(c, symbols.len());
            symbols.push(c);
        }
        if symbols.is_empty() {
            return Err(AlphabetError::Empty);
        }
        Ok(Self { symbols, labels })
    }

    /// DeepSpeech's English alphabet: space, `a`–`z`, apostrophe.
    pub fn english() -> Self {
        let text: String = std::iter::once(' ')
            .chain('a'..='z')
            .chain(std::iter::once('\''))
            .flat_map(|c| [c, '\n'])
            .collect();
        Self::parse(&text).expect("the built-in alphabet is valid")
    }

    /// Number of symbols (not counting the CTC blank).
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// Whether the alphabet has no symbols (never true for a parsed alphabet).
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// The CTC blank's label: one past the last symbol.
    pub fn blank(&self) -> usize {
        self.symbols.len()
    }

    /// The symbols in label order.
    pub fn symbols(&self) -> &[char] {
        &self.symbols
    }

    /// The label of one character, if it is in the alphabet.
    pub fn label(&self, c: char) -> Option<usize> {
        self.labels.get(&c).copied()
    }

    /// Encodes a transcript into labels; a character outside the alphabet is an error.
    pub fn encode(&self, text: &str) -> Result<Vec<usize>, AlphabetError> {
        text.chars()
            .enumerate()
            .map(|(position, character)| {
                self.label(character)
                    .ok_or_else(|| AlphabetError::UnknownCharacter {
                        character,
                        position,
                        text: text.to_owned(),
                    })
            })
            .collect()
    }

    /// Decodes labels into text; the blank or an out-of-range label is an error.
    pub fn decode(&self, labels: &[usize]) -> Result<String, AlphabetError> {
        labels
            .iter()
            .map(|&label| {
                self.symbols
                    .get(label)
                    .copied()
                    .ok_or(AlphabetError::UnknownLabel {
                        label,
                        size: self.symbols.len(),
                    })
            })
            .collect()
    }

    /// The alphabet in its file format (round-trips through [`parse`](Self::parse)).
    pub fn to_file_text(&self) -> String {
        let mut out = String::from("# Each line is one symbol; the label is its index.\n");
        for &c in &self.symbols {
            if c == '#' {
                out.push('\\');
            }
            out.push(c);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comments_escapes_and_space() {
        let a = Alphabet::parse("# comment\n \na\n\\#\nb\n").unwrap();
        assert_eq!(a.symbols(), &[' ', 'a', '#', 'b']);
        assert_eq!(a.blank(), 4);
        assert_eq!(a.encode("a #b").unwrap(), vec![1, 0, 2, 3]);
        assert_eq!(a.decode(&[3, 1, 0]).unwrap(), "ba ");
        assert_eq!(Alphabet::parse(&a.to_file_text()).unwrap(), a);
    }

    #[test]
    fn english_matches_deepspeech() {
        let a = Alphabet::english();
        assert_eq!(a.len(), 28);
        assert_eq!(a.label(' '), Some(0));
        assert_eq!(a.label('a'), Some(1));
        assert_eq!(a.label('\''), Some(27));
        assert_eq!(a.blank(), 28);
    }

    #[test]
    fn errors_say_where() {
        let e = Alphabet::parse("a\nbc\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("\"bc\""), "{e}");
        let e = Alphabet::parse("a\nb\na\n").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("line 1"), "{e}");
        let e = Alphabet::parse("# only a comment\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty"), "{e}");
        let e = Alphabet::english().encode("héllo").unwrap_err().to_string();
        assert!(e.contains("'é'") && e.contains("position 1"), "{e}");
        let e = Alphabet::english().decode(&[28]).unwrap_err().to_string();
        assert!(e.contains("label 28"), "{e}");
    }

    #[test]
    fn a_byte_order_mark_is_not_a_symbol() {
        let with_bom = Alphabet::parse("\u{feff}a\nb\n ").unwrap();
        assert_eq!(
            with_bom.symbols(),
            Alphabet::parse("a\nb\n ").unwrap().symbols()
        );
    }
}
