//! DeepSpeech's `Metadata`, `CandidateTranscript` and `TokenMetadata` in their C layout, and the
//! strings handed across the boundary. Everything is allocated with `malloc`, as DeepSpeech
//! allocates it, so a program that frees with `free()` instead of `DS_FreeString` /
//! `DS_FreeMetadata` still frees correctly.

use std::ffi::{c_char, c_double, c_float, c_uint};

use crate::api::Candidate;

/// One character and where it was placed (`TokenMetadata`).
#[repr(C)]
pub struct TokenMetadata {
    /// The character, NUL-terminated UTF-8.
    pub text: *const c_char,
    /// Its position in feature steps.
    pub timestep: c_uint,
    /// Its position in seconds.
    pub start_time: c_float,
}

/// One candidate (`CandidateTranscript`).
#[repr(C)]
pub struct CandidateTranscript {
    /// Its characters.
    pub tokens: *const TokenMetadata,
    /// How many.
    pub num_tokens: c_uint,
    /// The decoder's score.
    pub confidence: c_double,
}

/// Candidates, best first (`Metadata`).
#[repr(C)]
pub struct Metadata {
    /// The candidates.
    pub transcripts: *const CandidateTranscript,
    /// How many.
    pub num_transcripts: c_uint,
}

/// `text` as a NUL-terminated string from `malloc` (null if out of memory). A NUL inside the text
/// (which no alphabet produces) would end the C string early; it is left out.
pub fn c_string(text: &str) -> *mut c_char {
    let bytes: Vec<u8> = text.bytes().filter(|&b| b != 0).collect();
    // SAFETY: malloc of len + 1 bytes, filled below before it is handed out.
    unsafe {
        let out = libc::malloc(bytes.len() + 1).cast::<u8>();
        if out.is_null() {
            return std::ptr::null_mut();
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), out, bytes.len());
        *out.add(bytes.len()) = 0;
        out.cast()
    }
}

/// A `malloc`ed array holding `items` (null for none, or if out of memory).
fn c_array<T>(items: Vec<T>) -> *mut T {
    if items.is_empty() {
        return std::ptr::null_mut();
    }
    // SAFETY: malloc of room for every item, each moved in with ptr::write.
    unsafe {
        let out = libc::malloc(std::mem::size_of::<T>() * items.len()).cast::<T>();
        if out.is_null() {
            return out;
        }
        for (i, item) in items.into_iter().enumerate() {
            out.add(i).write(item);
        }
        out
    }
}

/// DeepSpeech's metadata for `candidates`, best first.
pub fn to_c(candidates: &[Candidate]) -> *mut Metadata {
    let candidates: Vec<CandidateTranscript> = candidates
        .iter()
        .map(|c| {
            let tokens: Vec<TokenMetadata> = c
                .tokens
                .iter()
                .map(|token| TokenMetadata {
                    text: c_string(&token.text),
                    timestep: token.timestep,
                    start_time: token.start_time,
                })
                .collect();
            CandidateTranscript {
                num_tokens: tokens.len() as c_uint,
                tokens: c_array(tokens),
                confidence: c.confidence,
            }
        })
        .collect();
    let metadata = Metadata {
        num_transcripts: candidates.len() as c_uint,
        transcripts: c_array(candidates),
    };
    c_array(vec![metadata])
}

/// Frees what [`to_c`] made.
///
/// # Safety
/// `m` is null or came from [`to_c`] and was not freed before.
pub unsafe fn free(m: *mut Metadata) {
    if m.is_null() {
        return;
    }
    // SAFETY: the caller passes metadata from to_c: every array and string is from malloc.
    unsafe {
        let metadata = &*m;
        for i in 0..metadata.num_transcripts as usize {
            let candidate = &*metadata.transcripts.add(i);
            for j in 0..candidate.num_tokens as usize {
                libc::free((*candidate.tokens.add(j)).text as *mut libc::c_void);
            }
            libc::free(candidate.tokens as *mut libc::c_void);
        }
        libc::free(metadata.transcripts as *mut libc::c_void);
        libc::free(m.cast());
    }
}
