//! The `checkpoint` and `best_dev_checkpoint` state files: a `CheckpointState` message in
//! protobuf text format, naming a folder's latest checkpoint and the others it keeps.

/// A `CheckpointState` message (the `checkpoint` file), the fields this module uses.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct CheckpointState {
    pub(super) model_checkpoint_path: Option<String>,
    pub(super) all_model_checkpoint_paths: Vec<String>,
}

impl CheckpointState {
    /// Parses protobuf text format: `name: value` fields, values quoted strings (with C escapes,
    /// adjacent literals concatenated) or bare numbers; `#` comments. Unknown fields (the
    /// timestamps TensorFlow 2 adds) are skipped.
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let mut state = Self::default();
        let mut lexer = Lexer {
            bytes: text.as_bytes(),
            pos: 0,
        };
        while let Some(name) = lexer.field_name()? {
            match (name, lexer.value()?) {
                ("model_checkpoint_path", Some(v)) => state.model_checkpoint_path = Some(v),
                ("all_model_checkpoint_paths", Some(v)) => state.all_model_checkpoint_paths.push(v),
                ("model_checkpoint_path" | "all_model_checkpoint_paths", None) => {
                    return Err(format!(
                        "`{name}` is not a quoted string ({})",
                        lexer.line()
                    ));
                }
                _ => {}
            }
        }
        Ok(state)
    }

    /// The text TensorFlow's `text_format` writes for this state.
    pub(super) fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(p) = &self.model_checkpoint_path {
            out.push_str(&format!("model_checkpoint_path: \"{}\"\n", c_escape(p)));
        }
        for p in &self.all_model_checkpoint_paths {
            out.push_str(&format!(
                "all_model_checkpoint_paths: \"{}\"\n",
                c_escape(p)
            ));
        }
        out
    }
}

/// Protobuf text format, as much as a `CheckpointState` needs.
struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn line(&self) -> String {
        let line = 1 + self.bytes[..self.pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        format!("line {line}")
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'#' {
                while self.peek().is_some_and(|b| b != b'\n') {
                    self.pos += 1;
                }
            } else if b.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        // Only ASCII bytes were taken, so the slice is on character boundaries.
        std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or("")
    }

    /// The next field's name and its colon, or `None` at the end.
    fn field_name(&mut self) -> Result<Option<&'a str>, String> {
        self.skip_space();
        if self.peek().is_none() {
            return Ok(None);
        }
        let name = self.take_while(|b| b.is_ascii_alphanumeric() || b == b'_');
        if name.is_empty() {
            return Err(format!("expected a field name ({})", self.line()));
        }
        self.skip_space();
        if self.peek() != Some(b':') {
            return Err(format!("expected `:` after `{name}` ({})", self.line()));
        }
        self.pos += 1;
        Ok(Some(name))
    }

    /// The field's value: `Some` string for quoted strings, `None` for a bare scalar.
    fn value(&mut self) -> Result<Option<String>, String> {
        self.skip_space();
        let value = match self.peek() {
            Some(b'"' | b'\'') => {
                let mut bytes = Vec::new();
                while let Some(quote @ (b'"' | b'\'')) = self.peek() {
                    self.pos += 1;
                    self.string_body(quote, &mut bytes)?;
                    self.skip_space();
                }
                let s = String::from_utf8(bytes)
                    .map_err(|_| format!("a path is not UTF-8 ({})", self.line()))?;
                Some(s)
            }
            Some(b'{' | b'<') => {
                return Err(format!("unexpected nested message ({})", self.line()));
            }
            _ => {
                let token = self.take_while(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_')
                });
                if token.is_empty() {
                    return Err(format!("expected a value ({})", self.line()));
                }
                None
            }
        };
        self.skip_space();
        if matches!(self.peek(), Some(b';' | b',')) {
            self.pos += 1;
        }
        Ok(value)
    }

    /// One quoted literal's bytes, after its opening quote, C escapes decoded.
    fn string_body(&mut self, quote: u8, out: &mut Vec<u8>) -> Result<(), String> {
        loop {
            let Some(b) = self.peek() else {
                return Err(format!("unterminated string ({})", self.line()));
            };
            self.pos += 1;
            match b {
                b'\n' => return Err(format!("unterminated string ({})", self.line())),
                b'\\' => out.push(self.escape()?),
                _ if b == quote => return Ok(()),
                _ => out.push(b),
            }
        }
    }

    /// The byte an escape sequence (after its backslash) stands for.
    fn escape(&mut self) -> Result<u8, String> {
        let Some(c) = self.peek() else {
            return Err(format!("unterminated string ({})", self.line()));
        };
        self.pos += 1;
        let digits = |lexer: &mut Self, radix: u32, max: usize, first: Option<u8>| {
            let mut value = first.map_or(0, |d| u32::from(d - b'0'));
            let mut n = usize::from(first.is_some());
            while n < max {
                let Some(d) = lexer.peek().and_then(|b| char::from(b).to_digit(radix)) else {
                    break;
                };
                value = value * radix + d;
                lexer.pos += 1;
                n += 1;
            }
            (n > 0 && value <= 0xff)
                .then_some(value as u8)
                .ok_or_else(|| format!("bad escape sequence ({})", lexer.line()))
        };
        Ok(match c {
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'v' => 0x0b,
            b'\\' | b'\'' | b'"' | b'?' => c,
            b'0'..=b'7' => digits(self, 8, 3, Some(c))?,
            b'x' | b'X' => digits(self, 16, 2, None)?,
            _ => return Err(format!("bad escape sequence ({})", self.line())),
        })
    }
}

/// Escapes a string the way protobuf's text format does (`CEscape`): quotes, backslashes and
/// control characters, and every non-ASCII byte as octal.
pub(super) fn c_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\'' => out.push_str("\\'"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}
