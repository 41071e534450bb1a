//! Read-only memory-mapped files that survive being changed underneath.
//!
//! Scorers and int8 models are read in place from a mapping, so that a 950 MB scorer opens in
//! milliseconds and costs memory only for the pages a search touches. The price of a mapping is
//! that a file truncated by another process (`cp new.scorer old.scorer`, a package generator
//! rewriting its output in place) turns every read past its new end into SIGBUS, which kills the
//! whole process: the video editor or media server the element runs in.
//!
//! [`MappedFile`] guards against that. Each mapping registers its address range, and a SIGBUS
//! handler (installed once, chaining to whatever handler was there before for faults that are
//! not ours) replaces a faulting page of a registered range with a page of zeros and marks the
//! mapping torn, so the read that faulted completes (with zeros) instead of killing the process.
//! Readers call [`MappedFile::check_unchanged`] when they have finished with a result: a torn
//! mapping, or a file whose size or modification time differ from when it was opened (a rewrite
//! in place that kept the size), is reported as [`FileChangedError`], so the caller drops the
//! result and can reopen the file. A file replaced by a rename (how every tool here writes) is
//! not a change: the mapping keeps the old file, which stays whole.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::SystemTime;

/// A mapped file changed (or was truncated) on disk while in use.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: the file changed on disk while it was in use (it was {how}); results read from it are \
     discarded: reopen it, and replace such files by renaming a new file over them",
    path.display()
)]
pub struct FileChangedError {
    /// The file.
    pub path: PathBuf,
    /// What was seen: truncated under the mapping, or a new size or modification time.
    pub how: String,
}

/// The bytes of a file, memory-mapped, or owned (tests, and files built in memory).
pub enum FileBytes {
    /// A guarded read-only mapping of the whole file.
    Mapped(MappedFile),
    /// Bytes in memory.
    Owned(Vec<u8>),
}

impl FileBytes {
    /// Maps `path` read-only for random lookups: no read-ahead around them, so that a search
    /// keeps resident only the pages it reads (a hint; without it the kernel maps whole
    /// neighbourhoods).
    pub fn map(path: &Path) -> std::io::Result<Self> {
        let map = MappedFile::open(path)?;
        map.advise(memmap2::Advice::Random);
        Ok(Self::Mapped(map))
    }

    /// `Ok` when the bytes are still those of the file as opened
    /// ([`MappedFile::check_unchanged`]); bytes in memory always are.
    pub fn check_unchanged(&self) -> Result<(), FileChangedError> {
        match self {
            Self::Mapped(map) => map.check_unchanged(),
            Self::Owned(_) => Ok(()),
        }
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Self::Mapped(map) => map,
            Self::Owned(bytes) => bytes,
        }
    }
}

impl AsRef<[u8]> for FileBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

/// A read-only mapping of a whole file, guarded against the file changing underneath.
pub struct MappedFile {
    map: memmap2::Mmap,
    file: std::fs::File,
    path: PathBuf,
    /// Size and modification time when opened.
    stamp: (u64, Option<SystemTime>),
    /// The registry slot guarding the mapping (`None` for an empty file, or when every slot is
    /// taken: then the mapping is unguarded, as any plain mapping is).
    slot: Option<usize>,
}

impl MappedFile {
    /// Maps `path` read-only and registers the mapping with the SIGBUS guard.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        // SAFETY: a read-only mapping of a file we only read. A truncation by another process
        // faults; the guard registered below turns that fault into a torn flag.
        let map = unsafe { memmap2::Mmap::map(&file) }?;
        let slot = register(map.as_ptr() as usize, map.len());
        Ok(Self {
            map,
            file,
            path: path.to_owned(),
            stamp: (meta.len(), meta.modified().ok()),
            slot,
        })
    }

    /// The mapped file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Passes an access-pattern hint to the kernel (failures are ignored: it is a hint).
    pub fn advise(&self, advice: memmap2::Advice) {
        let _ = self.map.advise(advice);
    }

    /// `Ok` when the file is as it was when opened: no read from the mapping has faulted, and the
    /// open file's size and modification time are unchanged.
    pub fn check_unchanged(&self) -> Result<(), FileChangedError> {
        let changed = |how: String| {
            Err(FileChangedError {
                path: self.path.clone(),
                how,
            })
        };
        if self
            .slot
            .is_some_and(|s| SLOTS[s].torn.load(Ordering::Acquire))
        {
            return changed("truncated under a running reader".into());
        }
        match self.file.metadata() {
            Ok(meta) if meta.len() != self.stamp.0 => changed(format!(
                "{} bytes when opened, {} now",
                self.stamp.0,
                meta.len()
            )),
            Ok(meta) if meta.modified().ok() != self.stamp.1 => {
                changed("modified since it was opened".into())
            }
            _ => Ok(()),
        }
    }
}

impl std::ops::Deref for MappedFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl AsRef<[u8]> for MappedFile {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedFile")
            .field("path", &self.path)
            .field("len", &self.map.len())
            .field("guarded", &self.slot.is_some())
            .finish()
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        // Unregister before the mapping goes (fields drop after this).
        if let Some(s) = self.slot {
            let slot = &SLOTS[s];
            slot.end.store(0, Ordering::Release);
            slot.torn.store(false, Ordering::Release);
            slot.start.store(0, Ordering::Release);
        }
    }
}

/// One guarded address range `[start, end)`; `start == 0` when free. Plain atomics, so the
/// signal handler can read them.
struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    torn: AtomicBool,
}

/// How many mappings can be guarded at once (each open scorer or int8 model holds one).
const SLOT_COUNT: usize = 256;

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    torn: AtomicBool::new(false),
};

static SLOTS: [Slot; SLOT_COUNT] = [FREE; SLOT_COUNT];

/// Claims a slot for `[start, start + len)`, installing the handler on first use.
fn register(start: usize, len: usize) -> Option<usize> {
    if len == 0 || !install_handler() {
        return None;
    }
    SLOTS.iter().position(|slot| {
        slot.start
            .compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
            && {
                slot.torn.store(false, Ordering::Release);
                slot.end.store(start + len, Ordering::Release);
                true
            }
    })
}

/// The SIGBUS handler that was installed before ours, called for faults outside our mappings.
static PREVIOUS: OnceLock<Option<libc::sigaction>> = OnceLock::new();

/// The system's page size, read once before the handler can run.
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(4096);

/// Installs [`on_sigbus`] once; whether it is in place.
fn install_handler() -> bool {
    PREVIOUS
        .get_or_init(|| {
            // SAFETY: sysconf and sigaction with valid, zero-initialised arguments.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page > 0 {
                    PAGE_SIZE.store(page as usize, Ordering::Release);
                }
                let mut ours: libc::sigaction = std::mem::zeroed();
                ours.sa_sigaction = on_sigbus as *const () as usize;
                ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut ours.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                (libc::sigaction(libc::SIGBUS, &ours, &mut previous) == 0).then_some(previous)
            }
        })
        .is_some()
}

/// SIGBUS: a read past the end of a truncated file in one of our mappings gets a zero page in
/// place of the vanished one, and the mapping is marked torn; any other fault goes to the
/// previous handler (or, if there was none, to the default action: the process ends as it
/// would have without us).
extern "C" fn on_sigbus(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let address = unsafe { (*info).si_addr() } as usize;
    for slot in &SLOTS {
        let start = slot.start.load(Ordering::Acquire);
        if start == 0 || address < start || address >= slot.end.load(Ordering::Acquire) {
            continue;
        }
        let page = address & !(PAGE_SIZE.load(Ordering::Relaxed) - 1);
        // SAFETY: maps one anonymous zero page over a page of our own read-only mapping (the
        // fault says the file no longer backs it); the mapping stays owned by its MappedFile,
        // whose munmap later covers this page too. mmap is a plain system call.
        let zero = unsafe {
            libc::mmap(
                page as *mut libc::c_void,
                PAGE_SIZE.load(Ordering::Relaxed),
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if zero != libc::MAP_FAILED {
            slot.torn.store(true, Ordering::Release);
            return;
        }
        break;
    }
    // Not ours (or the page could not be replaced).
    // SAFETY: calls the handler that was installed before ours with the arguments we got, as
    // it expects them, or restores the default action so that the faulting access, retried on
    // return, ends the process as it would have without us.
    unsafe {
        match PREVIOUS.get().copied().flatten() {
            Some(previous)
                if previous.sa_sigaction != libc::SIG_DFL
                    && previous.sa_sigaction != libc::SIG_IGN =>
            {
                if previous.sa_flags & libc::SA_SIGINFO != 0 {
                    let handler: extern "C" fn(
                        libc::c_int,
                        *mut libc::siginfo_t,
                        *mut libc::c_void,
                    ) = std::mem::transmute(previous.sa_sigaction);
                    handler(signal, info, context);
                } else {
                    let handler: extern "C" fn(libc::c_int) =
                        std::mem::transmute(previous.sa_sigaction);
                    handler(signal);
                }
            }
            _ => {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_truncated_under_its_mapping_reads_zeros_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        let page = PAGE_SIZE.load(Ordering::Relaxed).max(4096);
        std::fs::write(&path, vec![7u8; page * 4]).unwrap();
        let mapped = MappedFile::open(&path).unwrap();
        assert_eq!(mapped[page * 3], 7);
        assert!(mapped.check_unchanged().is_ok());
        // Another process truncates the file: without the guard, the next read is SIGBUS.
        std::fs::File::create(&path).unwrap();
        let late = std::hint::black_box(&mapped[..])[page * 3 + 5];
        assert_eq!(late, 0);
        let e = mapped.check_unchanged().unwrap_err().to_string();
        assert!(e.contains("data.bin") && e.contains("truncated"), "{e}");
    }

    #[test]
    fn a_rewrite_in_place_is_noticed_and_a_rename_over_the_file_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        std::fs::write(&path, b"first version").unwrap();
        let mapped = MappedFile::open(&path).unwrap();
        // A new file renamed over the path: the mapping keeps the old one, which is whole.
        let new = dir.path().join("new.bin");
        std::fs::write(&new, b"second, longer version").unwrap();
        std::fs::rename(&new, &path).unwrap();
        assert!(mapped.check_unchanged().is_ok());
        assert_eq!(&mapped[..], b"first version");
        // Written in place, same size: seen from the size or the modification time.
        let again = MappedFile::open(&path).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, b"second, LONGER version").unwrap();
        let e = again.check_unchanged().unwrap_err().to_string();
        assert!(e.contains("modified"), "{e}");
    }

    #[test]
    fn faults_outside_our_mappings_still_reach_the_default_action() {
        // In a process of its own (the test below), so that the fault can be fatal.
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "mapped_file::tests::unguarded_fault",
                "--ignored",
            ])
            .args(["--nocapture", "--test-threads", "1"])
            .env("DS_UNGUARDED_FAULT", "1")
            .output()
            .unwrap()
            .status;
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGBUS), "{status:?}");
    }

    /// With the guard installed (a guarded mapping is open), a file mapped without it, truncated
    /// and read, still kills the process with SIGBUS: the guard only answers for its own
    /// mappings. Run by the test above.
    #[test]
    #[ignore = "dies of SIGBUS on purpose; run by faults_outside_our_mappings_still_reach_the_default_action"]
    fn unguarded_fault() {
        if std::env::var_os("DS_UNGUARDED_FAULT").is_none() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("ours.bin");
        std::fs::write(&ours, vec![1u8; 8192]).unwrap();
        let _guarded = MappedFile::open(&ours).unwrap();
        let other = dir.path().join("other.bin");
        std::fs::write(&other, vec![1u8; 8192]).unwrap();
        let file = std::fs::File::open(&other).unwrap();
        // SAFETY: a plain mapping, read after truncation: meant to fault.
        let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        std::fs::File::create(&other).unwrap();
        let v = std::hint::black_box(&map[..])[5000];
        std::process::exit(i32::from(v) + 10);
    }
}
