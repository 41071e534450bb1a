//! What the command-line tools (`deepspeech`, `ds-train`, `ds-lm`, ...) share.

/// Restores the default action of SIGPIPE, which Rust programs ignore: a tool whose output
/// goes to `head` or a closed pipe then ends quietly, as other Unix tools do, instead of failing
/// with "Broken pipe" on its next write.
pub fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_DFL at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
