//! Mutation fuzzing of every parser that reads a file from outside, on stable Rust: each
//! [`Target`] takes one input's bytes and must answer with a value or a clean error, never a
//! panic, an abort or a hang. Inputs are real files of each format (the seeds) mutated the ways
//! damaged and hostile files differ from good ones: bit flips, bytes and 32-bit words set to
//! boundary values, truncations, insertions, duplicated and deleted spans.
//!
//! Without coverage guidance this finds less per execution than libFuzzer, but it runs in CI on
//! the stable toolchain, and for as long as asked (`tools/fuzz.sh`). An input that panics is
//! written to `target/fuzz-crashes/` and reported.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One input taking longer than this is a hang: it is saved and the process stops.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

/// The input being parsed and when it started, watched for hangs.
type InFlight = Arc<Mutex<Option<(Instant, Vec<u8>)>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts a thread that saves the input in flight and aborts the process when one input runs
/// past [`HANG_LIMIT`]: a hang cannot be caught like a panic, but it can be kept for a
/// regression test. The thread ends when the returned handle is dropped by every holder.
fn watchdog(name: &'static str, crashes: &Path) -> InFlight {
    let in_flight: InFlight = Arc::default();
    let watched = Arc::downgrade(&in_flight);
    let crashes = crashes.to_owned();
    std::thread::spawn(move || {
        while let Some(in_flight) = watched.upgrade() {
            if let Some((since, input)) = lock(&in_flight).as_ref()
                && since.elapsed() > HANG_LIMIT
            {
                let file = save_crash(&crashes, &format!("{name}-hang"), input);
                eprintln!(
                    "{name}: an input ran for over {HANG_LIMIT:?}; saved as {}",
                    file.display()
                );
                std::process::abort();
            }
            drop(in_flight);
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    in_flight
}

/// Parses (and, when the input is accepted, uses) one input; `true` when it was accepted.
pub type Parse = Box<dyn Fn(&[u8]) -> bool>;

/// One parser under test.
pub struct Target {
    /// Its name, for reports and crash files.
    pub name: &'static str,
    /// Real, valid inputs to mutate.
    pub seeds: Vec<Vec<u8>>,
    /// Parses (and, when the input is accepted, uses) one input; `true` when it was accepted.
    /// A panic is the failure being looked for.
    pub run: Parse,
}

/// What a run of [`fuzz`] saw.
#[derive(Debug, Default)]
pub struct Report {
    /// The target's name.
    pub name: &'static str,
    /// Inputs tried.
    pub inputs: u64,
    /// Inputs the parser accepted.
    pub accepted: u64,
    /// Inputs refused with an error.
    pub refused: u64,
    /// Inputs that panicked, with the panic's message and where the input was saved.
    pub panics: Vec<String>,
    /// The longest time one input took.
    pub slowest: Duration,
}

/// A small, fast, seeded random source (xorshift64*), so that a run is reproducible.
pub struct Rng(u64);

impl Rng {
    /// A source from `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// 32-bit values that break size and offset arithmetic.
const INTERESTING: [u32; 10] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];

/// `seed` with one to four random mutations.
pub fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = INTERESTING[rng.below(INTERESTING.len())] as u8;
            }
            2 if len >= 4 => {
                // Headers and offsets live near the start: favour it.
                let limit = if rng.below(2) == 0 { len.min(256) } else { len };
                let i = rng.below(limit.saturating_sub(3));
                let v = INTERESTING[rng.below(INTERESTING.len())];
                out[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            3 => out.truncate(rng.below(len + 1)),
            4 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                out.splice(i..i, bytes);
            }
            5 if len > 0 => {
                let (a, n) = (rng.below(len), 1 + rng.below(64));
                let span = out[a..(a + n).min(len)].to_vec();
                let at = rng.below(len + 1);
                out.splice(at..at, span);
            }
            6 if len > 0 => {
                let (a, n) = (rng.below(len), 1 + rng.below(64));
                out.drain(a..(a + n).min(len));
            }
            _ if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next_u64() as u8;
            }
            _ => out.push(rng.next_u64() as u8),
        }
    }
    out
}

/// Runs `target` on mutated seeds for `budget` (and at most `max_inputs` inputs), seeded by
/// `seed`. Panics are caught, counted and saved under `crashes`.
pub fn fuzz(
    target: &Target,
    budget: Duration,
    max_inputs: u64,
    seed: u64,
    crashes: &Path,
) -> Report {
    let mut report = Report {
        name: target.name,
        ..Report::default()
    };
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let in_flight = watchdog(target.name, crashes);
    // The seeds themselves first: they must be accepted, or the target tests nothing.
    let mut queue: Vec<Vec<u8>> = target.seeds.clone();
    while report.inputs < max_inputs && started.elapsed() < budget {
        let input = queue.pop().unwrap_or_else(|| {
            let seed = &target.seeds[rng.below(target.seeds.len())];
            mutate(&mut rng, seed)
        });
        let one = Instant::now();
        *lock(&in_flight) = Some((one, input.clone()));
        let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(&input)));
        *lock(&in_flight) = None;
        report.slowest = report.slowest.max(one.elapsed());
        report.inputs += 1;
        match outcome {
            Ok(true) => report.accepted += 1,
            Ok(false) => report.refused += 1,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic without a message".into());
                let file = save_crash(
                    crashes,
                    &format!("{}-{}", target.name, report.panics.len()),
                    &input,
                );
                report
                    .panics
                    .push(format!("{message} (input saved as {})", file.display()));
            }
        }
    }
    report
}

/// Writes `input` to `dir/label.bin`; its path.
fn save_crash(dir: &Path, label: &str, input: &[u8]) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let file = dir.join(format!("{label}.bin"));
    let _ = std::fs::write(&file, input);
    file
}
