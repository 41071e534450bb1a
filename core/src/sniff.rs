//! What a file actually is, judged from its first bytes, so that an error about a file of the
//! wrong kind can name it ("a PNG image", "a speech model (...)") instead of "unsupported".

use crate::model::formats as model_formats;

/// A short description of what `bytes` hold, for error messages: "a PNG image", "plain text",
/// "unrecognised data (first bytes 00 11 22 33)".
pub fn describe(bytes: &[u8]) -> String {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    let riff = |form: &[u8]| starts(b"RIFF") && bytes.get(8..12) == Some(form);
    let what = if bytes.is_empty() {
        "an empty file"
    } else if bytes.get(8) == Some(&b'{') && bytes.get(9) == Some(&b'"') {
        // safetensors (a header length, then JSON), from a head too short to hold the header
        "a safetensors file (a speech model? pass it with --model)"
    } else if let Some(format) = model_formats::sniff(bytes) {
        return format!("a speech model ({}): pass it with --model", format.name());
    } else if starts(crate::lm::formats::kenlm::MAGIC) {
        "a KenLM language model or scorer package: pass it with --scorer"
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        "a PNG image"
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        "a JPEG image"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "a GIF image"
    } else if riff(b"WEBP") {
        "a WebP image"
    } else if riff(b"AVI ") {
        "an AVI video"
    } else if starts(b"%PDF") {
        "a PDF document"
    } else if starts(b"PK\x03\x04") {
        "a ZIP archive"
    } else if starts(&[0x1F, 0x8B]) {
        "gzip-compressed data"
    } else if starts(b"\x7FELF") {
        "an executable (ELF)"
    } else if starts(b"OggS") && contains(&bytes[..bytes.len().min(128)], b"OpusHead") {
        "Ogg Opus audio, which this program does not decode (convert it to WAV or FLAC)"
    } else if starts(b"OggS") && contains(&bytes[..bytes.len().min(128)], b"Speex") {
        "Ogg Speex audio, which this program does not decode (convert it to WAV or FLAC)"
    } else if starts(b"#!AMR") {
        "AMR audio, which this program does not decode (convert it to WAV or FLAC)"
    } else if starts(b"FORM")
        && bytes
            .get(8..12)
            .is_some_and(|f| f == b"AIFF" || f == b"AIFC")
    {
        "AIFF audio, which this program does not decode (convert it to WAV or FLAC)"
    } else if is_text(&bytes[..bytes.len().min(512)]) {
        "plain text"
    } else {
        let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        return format!("unrecognised data (first bytes {})", head.join(" "));
    };
    what.to_owned()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether the bytes read as UTF-8 text (a character cut at the end is allowed).
fn is_text(bytes: &[u8]) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_common_files() {
        assert_eq!(describe(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "a PNG image");
        assert_eq!(describe(b"%PDF-1.7\n"), "a PDF document");
        assert_eq!(describe(b"hello, world\n"), "plain text");
        assert_eq!(describe(b""), "an empty file");
        assert!(describe(b"OggS\0\x02\0\0\0\0\0\0\0\0OpusHead").starts_with("Ogg Opus"));
        assert!(
            describe(b"mmap lm http://kheafield.com/code format version 5\n\0")
                .contains("--scorer")
        );
        assert_eq!(
            describe(&[0, 1, 2, 3, 0xff, 0xfe, 7, 8, 9]),
            "unrecognised data (first bytes 00 01 02 03 ff fe 07 08)"
        );
    }
}
