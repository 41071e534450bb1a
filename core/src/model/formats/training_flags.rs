//! The `flags.txt` that DeepSpeech's and Coqui STT's training write into every checkpoint folder
//! (`--name=value` lines, `--noname` for false booleans): what a checkpoint, which has no
//! metadata of its own, was trained with.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The flags of a checkpoint folder, by name (without the leading `--`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainingFlags {
    values: HashMap<String, String>,
    folder: PathBuf,
}

impl TrainingFlags {
    /// Reads `folder/flags.txt`; `None` when there is none (a checkpoint copied without it).
    pub fn read(folder: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(folder.join("flags.txt")).ok()?;
        Some(Self::parse(&text, folder))
    }

    /// Parses the text of a `flags.txt` found in `folder`.
    pub fn parse(text: &str, folder: &Path) -> Self {
        let mut values = HashMap::new();
        for line in text.lines() {
            let Some(flag) = line.trim().strip_prefix("--") else {
                continue;
            };
            // absl writes `--name=value`, `--name` for a true boolean, `--noname` for a false
            // one; a flag that merely starts with "no" (`--normalize_sample_rate`) is kept whole.
            match flag.split_once('=') {
                Some((name, value)) => values.insert(name.to_owned(), value.to_owned()),
                None => values.insert(flag.to_owned(), "true".to_owned()),
            };
        }
        Self {
            values,
            folder: folder.to_owned(),
        }
    }

    /// A flag's value as text.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A flag's value parsed as `T`; `None` when absent or unparsable.
    pub fn parse_value<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.get(name)?.trim().parse().ok()
    }

    /// Whether a boolean flag is set (`--name` or `--name=true`, not `--noname`).
    pub fn is_set(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "True" | "1"))
    }

    /// The alphabet file the run was trained with, where it can still be found: as given (it
    /// is usually relative to where training ran), or beside the checkpoint.
    pub fn alphabet_path(&self) -> Option<PathBuf> {
        let given = PathBuf::from(self.get("alphabet_config_path")?);
        let beside = self.folder.join(given.file_name()?);
        [given, beside].into_iter().find(|p| p.is_file())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_as_absl_writes_them() {
        let f = TrainingFlags::parse(
            "--alphabet_config_path=data/alphabet.txt\n--n_hidden=2048\n--nobytes_output_mode\n--use_allow_growth\n--relu_clip=20.0\n--normalize_sample_rate\n",
            Path::new("/ckpt"),
        );
        assert_eq!(f.parse_value::<usize>("n_hidden"), Some(2048));
        assert_eq!(f.parse_value::<f32>("relu_clip"), Some(20.0));
        assert!(!f.is_set("bytes_output_mode"));
        assert!(f.is_set("use_allow_growth"));
        assert!(f.is_set("normalize_sample_rate"));
        assert_eq!(f.get("alphabet_config_path"), Some("data/alphabet.txt"));
    }
}
