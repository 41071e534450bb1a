//! DeepSpeech 0.9.3's error codes and messages (`DS_FOR_EACH_ERROR` in its `deepspeech.h`), and
//! which code each of our errors is reported as.

use deepspeech_core::Error;
use deepspeech_core::error::CheckpointError;

/// Defines the codes as constants and the table of (code, message) in one place.
macro_rules! codes {
    ($($name:ident = $value:literal, $message:literal;)*) => {
        $(
            #[doc = $message]
            pub const $name: i32 = $value;
        )*
        /// Every code with DeepSpeech's message for it.
        pub const MESSAGES: &[(i32, &str)] = &[$(($value, $message)),*];
    };
}

codes! {
    DS_ERR_OK = 0x0000, "No error.";
    DS_ERR_NO_MODEL = 0x1000, "Missing model information.";
    DS_ERR_INVALID_ALPHABET = 0x2000, "Invalid alphabet embedded in model. (Data corruption?)";
    DS_ERR_INVALID_SHAPE = 0x2001, "Invalid model shape.";
    DS_ERR_INVALID_SCORER = 0x2002, "Invalid scorer file.";
    DS_ERR_MODEL_INCOMPATIBLE = 0x2003, "Incompatible model.";
    DS_ERR_SCORER_NOT_ENABLED = 0x2004, "External scorer is not enabled.";
    DS_ERR_SCORER_UNREADABLE = 0x2005, "Could not read scorer file.";
    DS_ERR_SCORER_INVALID_LM = 0x2006, "Could not recognize language model header in scorer.";
    DS_ERR_SCORER_NO_TRIE = 0x2007, "Reached end of scorer file before loading vocabulary trie.";
    DS_ERR_SCORER_INVALID_TRIE = 0x2008, "Invalid magic in trie header.";
    DS_ERR_SCORER_VERSION_MISMATCH = 0x2009, "Scorer file version does not match expected version.";
    DS_ERR_FAIL_INIT_MMAP = 0x3000, "Failed to initialize memory mapped model.";
    DS_ERR_FAIL_INIT_SESS = 0x3001, "Failed to initialize the session.";
    DS_ERR_FAIL_INTERPRETER = 0x3002, "Interpreter failed.";
    DS_ERR_FAIL_RUN_SESS = 0x3003, "Failed to run the session.";
    DS_ERR_FAIL_CREATE_STREAM = 0x3004, "Error creating the stream.";
    DS_ERR_FAIL_READ_PROTOBUF = 0x3005, "Error reading the proto buffer model file.";
    DS_ERR_FAIL_CREATE_SESS = 0x3006, "Failed to create session.";
    DS_ERR_FAIL_CREATE_MODEL = 0x3007, "Could not allocate model state.";
    DS_ERR_FAIL_INSERT_HOTWORD = 0x3008, "Could not insert hot-word.";
    DS_ERR_FAIL_CLEAR_HOTWORD = 0x3009, "Could not clear hot-words.";
    DS_ERR_FAIL_ERASE_HOTWORD = 0x3010, "Could not erase hot-word.";
}

/// DeepSpeech's message for an unknown code.
pub const UNKNOWN: &str =
    "Unknown error, please make sure you are using the correct native binary.";

/// DeepSpeech's message for `code`.
pub fn message(code: i32) -> &'static str {
    MESSAGES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(UNKNOWN, |(_, m)| m)
}

/// The code a failed model load is reported as (our message, which says more, goes to stderr
/// as DeepSpeech's own details do).
pub fn model_load_code(e: &Error) -> i32 {
    match e {
        Error::Checkpoint(CheckpointError::Io { .. }) => DS_ERR_FAIL_INIT_MMAP,
        Error::Checkpoint(CheckpointError::ShapeMismatch { .. }) => DS_ERR_INVALID_SHAPE,
        Error::Checkpoint(CheckpointError::Import { .. }) => DS_ERR_MODEL_INCOMPATIBLE,
        Error::Checkpoint(_) => DS_ERR_FAIL_READ_PROTOBUF,
        Error::Alphabet(_) => DS_ERR_INVALID_ALPHABET,
        _ => DS_ERR_FAIL_CREATE_MODEL,
    }
}

/// The code a failed scorer load is reported as: DeepSpeech 0.9.3's `DS_EnableExternalScorer`
/// reports every failure as an invalid scorer.
pub fn scorer_load_code(_: &Error) -> i32 {
    DS_ERR_INVALID_SCORER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_messages_found() {
        let mut seen: Vec<i32> = MESSAGES.iter().map(|(c, _)| *c).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), MESSAGES.len());
        assert_eq!(
            message(DS_ERR_FAIL_ERASE_HOTWORD),
            "Could not erase hot-word."
        );
        assert_eq!(message(0x4242), UNKNOWN);
    }
}
