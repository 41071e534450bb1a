//! Drascula: The Vampire Strikes Back (Alcachofa Soft, freeware; Debian package `drascula`,
//! folder `/usr/share/scummvm/drascula/en`): the English voice acting, each clip paired with the
//! text the game shows while it plays.
//!
//! The source folder holds:
//! - `drascula.dat`, ScummVM's data file (written by `devtools/create_drascula`, version 6):
//!   `DRASCULA`, a version byte, thirteen tables of numbers (each a big-endian `u16` count and
//!   fixed-size records), the number of languages, then fifteen text tables (`_text`, `_textd`,
//!   `_textb`, `_textbj`, `_texte`, `_texti`, `_textl`, `_textp`, `_textt`, `_textvb`,
//!   `_textsys`, `_texthis`, `_textverbs`, `_textmisc`, `_textd1`). A text table is a `u16`
//!   string count, then per language (English first) a `u16` block length and the block: two
//!   bytes of padding, then per string a `u16` length (counting itself), the string in code
//!   page 437, a NUL and one to four zero bytes (to a multiple of four);
//! - the speech clips `<prefix><n>.ALS`: unsigned 8-bit mono PCM at 11025 Hz whose first and
//!   last 32 bytes ScummVM does not play;
//! - the dialogue menus `OP_<n>.CAL` (bytes XOR 0xFF): four phrases, then the four clips the
//!   hero speaks them with.
//!
//! ScummVM (`engines/drascula/talk.cpp`) plays `<prefix><n>.ALS` while showing entry `n` of one
//! table: no prefix `_text` (the hero, John Hacker), `D` `_textd`, `B` `_textb` (the drunk),
//! `BJ` `_textbj` (B.J.), `E` `_texte` (the skeleton, `talk_mus`), `I` `_texti` (Igor), `L`
//! `_textl` (the werewolf), `P` `_textp` (the pianist), `T` `_textt` (the bartender), `VB`
//! `_textvb` (Von Braun). `_textd` has several speakers: Drascula (1-55), the hero (56-67,
//! `talk_hacker`), the blind man (from 68, `talk_blind`) and the bartender (82). `S<n>.ALS` are
//! sound effects and other prefixes are not spoken lines; both are skipped.
//!
//! Two kinds of pairing are ambiguous, and those clips are skipped rather than guessed:
//! `D83.ALS`, which `talk_trunk` plays with `_text[83]` (empty in English) while `_textd[83]` is
//! another line; and the hero's dialogue-menu clips whose menu phrase (in `OP_*.CAL`) differs
//! from `_text[n]`: the recordings follow one or the other. `D26.ALS` is skipped too: it holds
//! the line of `D27.ALS` (found by transcribing every clip with Whisper). The English `3.ALS` is
//! cut to the part ScummVM plays (its workaround for bug #2111815), the rest being silence.
//! Texts are subtitles: see [`clean_subtitle`] for what is done to them before the usual
//! normalisation.
//!
//! Splits: whole characters are held out, so that `dev` measures speakers the model has not
//! heard (as far as the roughly eleven actors voice one character each): the bartender, the
//! blind man, the pianist and the skeleton ([`DEV_SPEAKERS`], about a tenth of the speech) go
//! to `dev.csv`, every other clip to `train.csv`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{Item, ListError, Listing, clip_path, listing_skip};
use crate::decode::SourceFormat;
use crate::report::SkipReason;

/// The version of `drascula.dat` this module reads (`DRASCULA_DAT_VER` of ScummVM's writer).
pub const DAT_VERSION: u8 = 6;

/// The sample rate of the `.ALS` clips.
pub const ALS_SAMPLE_RATE: u32 = 11_025;

/// Bytes ScummVM skips at the start and at the end of every `.ALS` clip.
pub const ALS_SKIPPED_BYTES: u64 = 32;

/// The position of English among the languages of `drascula.dat`.
pub const ENGLISH: usize = 0;

/// The characters whose clips form the `dev` split.
pub const DEV_SPEAKERS: [Speaker; 4] = [
    Speaker::Bartender,
    Speaker::BlindMan,
    Speaker::Pianist,
    Speaker::Skeleton,
];

/// The text tables of `drascula.dat`, in file order, as ScummVM names them.
pub const TABLE_NAMES: [&str; 15] = [
    "_text",
    "_textd",
    "_textb",
    "_textbj",
    "_texte",
    "_texti",
    "_textl",
    "_textp",
    "_textt",
    "_textvb",
    "_textsys",
    "_texthis",
    "_textverbs",
    "_textmisc",
    "_textd1",
];

/// The tables of numbers before the texts: what they hold and the size of one record.
const NUMBER_TABLES: [(&str, usize); 13] = [
    ("the character map", 4),
    ("the item locations", 4),
    ("x_pol/y_pol", 4),
    ("verbBarX", 2),
    ("x1d_menu/y1d_menu", 4),
    ("frameX", 2),
    ("candleX/candleY", 4),
    ("pianistX", 2),
    ("drunkX", 2),
    ("the room pre-updates", 20),
    ("the room updates", 20),
    ("the room actions", 10),
    ("the talk sequences", 8),
];

/// The 3.ALS of the English release and the bytes of it ScummVM plays.
const ENGLISH_3_ALS: (u64, u64, u64) = (145_166, 73_959, 117_158);

/// Code page 437, bytes 0x80 to 0xFF (the game's texts are in it).
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

/// Who speaks a clip; decides its split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Speaker {
    /// John Hacker (no prefix, and `D56`-`D67`).
    Hero,
    /// Count Drascula (`D1`-`D55`).
    Drascula,
    /// The blind man (`D68` on).
    BlindMan,
    /// The bartender (`T`, and `D82`).
    Bartender,
    /// The drunk (`B`).
    Drunk,
    /// B.J. (`BJ`).
    Bj,
    /// The skeleton in the dungeon (`E`, ScummVM's `talk_mus`).
    Skeleton,
    /// Igor (`I`).
    Igor,
    /// The werewolf (`L`).
    Werewolf,
    /// The pianist (`P`).
    Pianist,
    /// Von Braun (`VB`).
    VonBraun,
}

impl Speaker {
    /// The split (CSV name) of this speaker's clips.
    pub fn split(self) -> &'static str {
        if DEV_SPEAKERS.contains(&self) {
            "dev"
        } else {
            "train"
        }
    }
}

/// A `drascula.dat` that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatError {
    /// The file does not start with `DRASCULA`.
    #[error("not a drascula.dat file (it does not start with DRASCULA)")]
    Magic,
    /// Another version of the format.
    #[error("version {0} of the format; only version {DAT_VERSION} (ScummVM's) is understood")]
    Version(u8),
    /// The file ends inside a field.
    #[error(
        "truncated: {what} needs {needed} bytes at offset {offset}, but the file ends at {size}"
    )]
    Truncated {
        /// The field being read.
        what: String,
        /// Where it starts.
        offset: usize,
        /// Its size.
        needed: usize,
        /// The file's size.
        size: usize,
    },
    /// A field holds an impossible value.
    #[error("corrupt {what}: {detail}")]
    Corrupt {
        /// The field.
        what: String,
        /// What is wrong with it.
        detail: String,
    },
}

/// The text tables of a `drascula.dat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatFile {
    languages: usize,
    /// `tables[table][language][index]`: the string's bytes, without its NUL.
    tables: Vec<Vec<Vec<Vec<u8>>>>,
}

impl DatFile {
    /// Parses a whole `drascula.dat`. Never panics: a short or inconsistent file is an error
    /// that says which field is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, DatError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(8, || "the DRASCULA signature".into())? != b"DRASCULA" {
            return Err(DatError::Magic);
        }
        let version = r.take(1, || "the version".into())?[0];
        if version != DAT_VERSION {
            return Err(DatError::Version(version));
        }
        for (what, record) in NUMBER_TABLES {
            let count = r.u16(|| format!("the size of {what}"))?;
            r.take(usize::from(count) * record, || {
                format!("{what} ({count} records)")
            })?;
        }
        let languages = usize::from(r.u16(|| "the number of languages".into())?);
        if languages == 0 {
            return Err(DatError::Corrupt {
                what: "number of languages".into(),
                detail: "0".into(),
            });
        }
        let mut tables = Vec::with_capacity(TABLE_NAMES.len());
        for name in TABLE_NAMES {
            let count = usize::from(r.u16(|| format!("the size of {name}"))?);
            let mut per_language = Vec::with_capacity(languages);
            for language in 0..languages {
                let what = || format!("{name} of language {language}");
                let length = usize::from(r.u16(|| format!("the length of {}", what()))?);
                let block = r.take(length, what)?;
                per_language.push(parse_block(block, count, &what())?);
            }
            tables.push(per_language);
        }
        Ok(Self { languages, tables })
    }

    /// The number of languages.
    pub fn languages(&self) -> usize {
        self.languages
    }

    /// The number of strings of `table` (a position in [`TABLE_NAMES`]).
    pub fn len(&self, table: usize) -> usize {
        self.tables
            .get(table)
            .and_then(|t| t.first())
            .map_or(0, Vec::len)
    }

    /// Whether `table` has no strings (or does not exist).
    pub fn is_empty(&self, table: usize) -> bool {
        self.len(table) == 0
    }

    /// String `index` of `table` in `language`, decoded from code page 437; `None` past the end.
    pub fn text(&self, table: usize, language: usize, index: usize) -> Option<String> {
        let bytes = self.tables.get(table)?.get(language)?.get(index)?;
        Some(decode_cp437(bytes))
    }
}

/// Splits one language's block of a text table into its `count` strings.
fn parse_block(block: &[u8], count: usize, what: &str) -> Result<Vec<Vec<u8>>, DatError> {
    let corrupt = |detail: String| DatError::Corrupt {
        what: what.to_owned(),
        detail,
    };
    if block.len() < 2 {
        return Err(corrupt(format!(
            "{} bytes, fewer than its 2 bytes of padding",
            block.len()
        )));
    }
    let mut pos = 2; // alignment padding
    let mut strings = Vec::with_capacity(count);
    for index in 0..count {
        let Some(header) = block.get(pos..pos + 2) else {
            return Err(corrupt(format!(
                "string {index} of {count} starts at {pos}, past the block's {} bytes",
                block.len()
            )));
        };
        let length = usize::from(u16::from_be_bytes([header[0], header[1]]));
        let Some(body) = block.get(pos + 2..pos + length).filter(|_| length > 2) else {
            return Err(corrupt(format!(
                "string {index} claims {length} bytes at {pos}; the block has {}",
                block.len()
            )));
        };
        let Some(end) = body.iter().position(|&b| b == 0) else {
            return Err(corrupt(format!("string {index} has no terminating NUL")));
        };
        strings.push(body[..end].to_vec());
        pos += length;
    }
    if pos != block.len() {
        return Err(corrupt(format!(
            "{count} strings take {pos} bytes, the block is {} bytes long",
            block.len()
        )));
    }
    Ok(strings)
}

/// Reads fields in order, with errors naming the field.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: impl FnOnce() -> String) -> Result<&'a [u8], DatError> {
        let Some(field) = self.bytes.get(self.pos..self.pos.saturating_add(n)) else {
            return Err(DatError::Truncated {
                what: what(),
                offset: self.pos,
                needed: n,
                size: self.bytes.len(),
            });
        };
        self.pos += n;
        Ok(field)
    }

    fn u16(&mut self, what: impl FnOnce() -> String) -> Result<u16, DatError> {
        let field = self.take(2, what)?;
        Ok(u16::from_be_bytes([field[0], field[1]]))
    }
}

/// Decodes code page 437 (ASCII below 0x80).
pub fn decode_cp437(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0..=0x7f => char::from(b),
            _ => CP437_HIGH
                .chars()
                .nth(usize::from(b - 0x80))
                .unwrap_or(char::REPLACEMENT_CHARACTER),
        })
        .collect()
}

/// Subtitle conventions to plain text, before the usual normalisation: stage directions in
/// parentheses (`(WHISTLE)`) are dropped, runs of punctuation that join words (`IS...THAT`,
/// `HA,HA`, `AHHH,,,EXCUS`) become spaces (a lone `.` stays, as in `B.J.`), and a letter drawn out
/// three times or more (`YOUUU`, `SKELETONNNN`) is written once. White space is collapsed.
pub fn clean_subtitle(text: &str) -> String {
    let is_joining = |c: char| matches!(c, '.' | ',' | '!' | '?' | ';' | ':');
    let mut spoken = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => {
                depth -= 1;
                spoken.push(' ');
            }
            _ if depth == 0 => spoken.push(c),
            _ => {}
        }
    }
    let chars: Vec<char> = spoken.chars().collect();
    let mut out = String::with_capacity(spoken.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&d| d == c).count();
        if is_joining(c) {
            let run = chars[i..].iter().take_while(|&&d| is_joining(d)).count();
            if run == 1 && c == '.' {
                out.push('.');
            } else {
                out.push(' ');
            }
            i += run;
        } else if c.is_alphabetic() && run >= 3 {
            out.push(c);
            i += run;
        } else {
            out.extend(&chars[i..i + run]);
            i += run;
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A clip name: `D12.ALS` is prefix `D`, index 12 (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ClipName {
    prefix: String,
    index: usize,
}

impl ClipName {
    /// `<letters><digits>.als`, any case.
    fn parse(file_name: &str) -> Option<Self> {
        let upper = file_name.to_ascii_uppercase();
        let stem = upper.strip_suffix(".ALS")?;
        let digits = stem.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self {
            prefix: stem[..stem.len() - digits.len()].to_owned(),
            index: digits.parse().ok()?,
        })
    }
}

impl fmt::Display for ClipName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}.ALS", self.prefix, self.index)
    }
}

/// What ScummVM does with a clip.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    /// Spoken by `speaker` while the entry of the clip's number in table `table` (a position
    /// in [`TABLE_NAMES`]) is shown.
    Line { table: usize, speaker: Speaker },
    /// Spoken, but the game pairs it with two different texts, or with one it does not say.
    Ambiguous { speaker: Speaker, detail: String },
    /// Not a spoken line.
    NotSpeech(String),
}

/// The table and speaker of a clip, as ScummVM's `talk*()` functions pair them.
fn role(name: &ClipName) -> Role {
    let line = |table, speaker| Role::Line { table, speaker };
    match (name.prefix.as_str(), name.index) {
        ("", _) => line(0, Speaker::Hero),
        ("D", 83) => Role::Ambiguous {
            speaker: Speaker::Drascula,
            detail: "talk_trunk(83) plays D83.ALS with _text[83], talk_drascula would show \
                     _textd[83]"
                .into(),
        },
        ("D", 26) => Role::Ambiguous {
            speaker: Speaker::Drascula,
            detail: "the recording says _textd[27] (PUT THAT CIGARETTE OUT NOW!...), as D27.ALS \
                     does, not _textd[26]"
                .into(),
        },
        ("D", 56..=67) => line(1, Speaker::Hero),
        ("D", 82) => line(1, Speaker::Bartender),
        ("D", 68..) => line(1, Speaker::BlindMan),
        ("D", _) => line(1, Speaker::Drascula),
        ("B", _) => line(2, Speaker::Drunk),
        ("BJ", _) => line(3, Speaker::Bj),
        ("E", _) => line(4, Speaker::Skeleton),
        ("I", _) => line(5, Speaker::Igor),
        ("L", _) => line(6, Speaker::Werewolf),
        ("P", _) => line(7, Speaker::Pianist),
        ("T", _) => line(8, Speaker::Bartender),
        ("VB", _) => line(9, Speaker::VonBraun),
        ("S", _) => Role::NotSpeech("a sound effect (ScummVM's playSound), not a line".into()),
        (prefix, _) => Role::NotSpeech(format!("ScummVM shows no text with {prefix}* clips")),
    }
}

/// Lists the English speech clips of the Drascula folder `source`.
pub fn list(source: &Path) -> Result<Listing, ListError> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(source).map_err(ListError::io(source))? {
        let entry = entry.map_err(ListError::io(source))?;
        let path = entry.path();
        if path.is_file() {
            files.push((entry.file_name().to_string_lossy().into_owned(), path));
        }
    }
    files.sort();
    let named = |wanted: &str| {
        files
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, path)| path.clone())
    };
    let Some(dat_path) = named("drascula.dat") else {
        return Err(ListError::Layout(format!(
            "{} is not a Drascula game folder: no drascula.dat in it",
            source.display()
        )));
    };
    let bytes = std::fs::read(&dat_path).map_err(ListError::io(&dat_path))?;
    let dat = DatFile::parse(&bytes)
        .map_err(|e| ListError::Layout(format!("{}: {e}", dat_path.display())))?;

    // The phrases the dialogue menus show with each clip.
    let mut menu: HashMap<ClipName, Vec<(String, String)>> = HashMap::new();
    for (file_name, path) in &files {
        let lower = file_name.to_ascii_lowercase();
        if lower.starts_with("op_") && lower.ends_with(".cal") {
            for (phrase, clip) in read_dialogue(path)? {
                menu.entry(clip)
                    .or_default()
                    .push((file_name.clone(), phrase));
            }
        }
    }

    let mut clips: Vec<(ClipName, &String, &PathBuf)> = files
        .iter()
        .filter_map(|(file_name, path)| Some((ClipName::parse(file_name)?, file_name, path)))
        .collect();
    if clips.is_empty() {
        return Err(ListError::Layout(format!(
            "no *.ALS speech clip in {}",
            source.display()
        )));
    }
    clips.sort();

    let mut listing = Listing::default();
    for (name, file_name, path) in clips {
        let skip = |split: &str, origin: String, transcript: &str, reason, detail: String| {
            listing_skip(split, origin, file_name, transcript, reason, detail)
        };
        let (table, speaker) = match role(&name) {
            Role::Line { table, speaker } => (table, speaker),
            Role::Ambiguous { speaker, detail } => {
                let skipped = skip(
                    speaker.split(),
                    name.to_string(),
                    "",
                    SkipReason::AmbiguousTranscript,
                    detail,
                );
                listing.skipped.push(skipped);
                continue;
            }
            Role::NotSpeech(detail) => {
                let skipped = skip(
                    "train",
                    name.to_string(),
                    "",
                    SkipReason::NoTranscript,
                    detail,
                );
                listing.skipped.push(skipped);
                continue;
            }
        };
        let split = speaker.split();
        let origin = format!("{}[{}]", TABLE_NAMES[table], name.index);
        let text = dat.text(table, ENGLISH, name.index).unwrap_or_default();
        if text.trim().is_empty() {
            let detail = if name.index < dat.len(table) {
                format!("{origin} is empty")
            } else {
                format!("{} has {} entries", TABLE_NAMES[table], dat.len(table))
            };
            let skipped = skip(split, origin, "", SkipReason::NoTranscript, detail);
            listing.skipped.push(skipped);
            continue;
        }
        if let Some((cal, phrase)) = menu
            .get(&name)
            .and_then(|uses| uses.iter().find(|(_, phrase)| !same_words(phrase, &text)))
        {
            let detail = format!("{cal} shows {phrase:?} with it");
            let skipped = skip(
                split,
                origin,
                &text,
                SkipReason::AmbiguousTranscript,
                detail,
            );
            listing.skipped.push(skipped);
            continue;
        }
        let Some(clip) = clip_path(Path::new(file_name)) else {
            continue;
        };
        listing.items.push(Item {
            split: split.to_owned(),
            origin,
            audio: path.clone(),
            format: als_format(&name, path),
            clip,
            transcript: clean_subtitle(&text),
        });
    }
    Ok(listing)
}

/// How ScummVM plays a clip: 32 bytes skipped at each end, except in the English `3.ALS`.
fn als_format(name: &ClipName, path: &Path) -> SourceFormat {
    let (size, start, end) = ENGLISH_3_ALS;
    let is_english_3 = name.prefix.is_empty()
        && name.index == 3
        && std::fs::metadata(path).is_ok_and(|m| m.len() == size);
    let (skip_start, skip_end) = if is_english_3 {
        (start, size - end)
    } else {
        (ALS_SKIPPED_BYTES, ALS_SKIPPED_BYTES)
    };
    SourceFormat::RawU8Mono {
        rate: ALS_SAMPLE_RATE,
        skip_start,
        skip_end,
    }
}

/// The (phrase, clip) pairs of a dialogue menu `OP_<n>.CAL`: XOR 0xFF text, four phrases
/// (0xA7 for spaces), then the four clips that speak them, then the answers.
fn read_dialogue(path: &Path) -> Result<Vec<(String, ClipName)>, ListError> {
    let bytes: Vec<u8> = std::fs::read(path)
        .map_err(ListError::io(path))?
        .into_iter()
        .map(|b| match b ^ 0xff {
            0xa7 => b' ',
            b => b,
        })
        .collect();
    let lines: Vec<String> = bytes
        .split(|&b| b == b'\n')
        .map(|line| decode_cp437(line).trim().to_owned())
        .collect();
    if lines.len() < 8 {
        return Err(ListError::Layout(format!(
            "{}: {} lines; a dialogue menu has four phrases and four clip names",
            path.display(),
            lines.len()
        )));
    }
    Ok(lines[..4]
        .iter()
        .zip(&lines[4..8])
        .filter_map(|(phrase, clip)| Some((phrase.clone(), ClipName::parse(clip)?)))
        .collect())
}

/// Whether two texts have the same words (case, punctuation and spacing aside).
fn same_words(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.to_lowercase()
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    words(a) == words(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_page_437_has_128_high_characters() {
        assert_eq!(CP437_HIGH.chars().count(), 128);
        assert_eq!(
            decode_cp437(b"TOUPE\x90 \xa8QU\xc9? \xa4"),
            "TOUPEÉ ¿QU╔? ñ"
        );
    }

    #[test]
    fn clip_names_and_roles() {
        let name = |s| ClipName::parse(s).unwrap();
        assert_eq!(
            name("vb12.als"),
            ClipName {
                prefix: "VB".into(),
                index: 12
            }
        );
        assert_eq!(ClipName::parse("12.ALD"), None);
        assert_eq!(ClipName::parse("OP_1.ALS"), None);
        assert_eq!(ClipName::parse("D.ALS"), None);
        assert_eq!(
            role(&name("12.ALS")),
            Role::Line {
                table: 0,
                speaker: Speaker::Hero
            }
        );
        assert_eq!(
            role(&name("D60.ALS")),
            Role::Line {
                table: 1,
                speaker: Speaker::Hero
            }
        );
        assert_eq!(
            role(&name("D82.ALS")),
            Role::Line {
                table: 1,
                speaker: Speaker::Bartender
            }
        );
        assert!(matches!(role(&name("D83.ALS")), Role::Ambiguous { .. }));
        assert!(matches!(role(&name("D26.ALS")), Role::Ambiguous { .. }));
        assert!(matches!(role(&name("S3.ALS")), Role::NotSpeech(_)));
        assert!(matches!(role(&name("F1.ALS")), Role::NotSpeech(_)));
    }

    #[test]
    fn subtitles_become_plain_text() {
        assert_eq!(clean_subtitle("YOUUU...SKELETONNNN..!!!"), "YOU SKELETON");
        assert_eq!(clean_subtitle("IS...THAT RIGHT?"), "IS THAT RIGHT");
        assert_eq!(clean_subtitle("HA,HA,HA THIS"), "HA HA HA THIS");
        assert_eq!(clean_subtitle("AHHH,,,EXCUS...."), "AH EXCUS");
        assert_eq!(
            clean_subtitle("I'VE FOUND B.J.'S HANDBAG! AAHH"),
            "I'VE FOUND B.J.'S HANDBAG AAHH"
        );
        assert_eq!(
            clean_subtitle("SOMEONE F...(WHISTLE) YOU...,AND"),
            "SOMEONE F YOU AND"
        );
    }

    #[test]
    fn menu_phrases_compare_by_words() {
        assert!(same_words("Well. Goodbye.", "WELL GOODBYE,"));
        assert!(!same_words("TELL HOW DID YOU GET", "HOW DID YOU"));
    }
}
