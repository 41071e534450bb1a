//! `ds-import` killed with SIGKILL at many moments: every file under a final name is whole (each
//! WAV byte-identical to an uninterrupted import's, each CSV either absent or identical), and
//! the rerun that completes gives exactly the uninterrupted import, with no temporary file left.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::csv_files;

const DIGITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// A folder corpus of `n` FSDD recordings (spoken digits) with their transcripts.
fn fsdd_folder(dir: &Path, n: usize) -> PathBuf {
    let recordings =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fsdd/recordings");
    let source = dir.join("digits");
    std::fs::create_dir_all(&source).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&recordings)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wav"))
        .collect();
    names.sort();
    for name in names.into_iter().step_by(7).take(n) {
        std::fs::copy(recordings.join(&name), source.join(&name)).unwrap();
        let digit: usize = name[..1].parse().unwrap();
        let stem = name.trim_end_matches(".wav");
        std::fs::write(source.join(format!("{stem}.txt")), DIGITS[digit]).unwrap();
    }
    source
}

/// Every file under `dir`, by path relative to it, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path.strip_prefix(dir).unwrap().to_owned(), bytes);
            }
        }
    }
    out
}

fn import(source: &Path, target: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_ds-import"))
        .args(["folder", source.to_str().unwrap(), target.to_str().unwrap()])
        .args(["--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ds-import starts")
}

#[test]
fn sigkill_at_any_moment_leaves_only_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let source = fsdd_folder(dir.path(), 120);
    let straight = dir.path().join("straight");
    assert!(import(&source, &straight).wait().unwrap().success());
    let expected = files(&straight);
    let csvs = csv_files(&straight);
    assert_eq!(csvs.len(), 1);
    assert!(expected.keys().filter(|p| p.starts_with("clips")).count() >= 100);

    let target = dir.path().join("killed");
    // Kill delays spread over the import; a fixed list keeps the test reproducible, and KILLS=N
    // adds N more, pseudo-random (tools/kill-soak.sh runs 100).
    let mut delays_ms = vec![
        5u64, 40, 90, 15, 160, 70, 250, 30, 120, 200, 10, 60, 300, 100, 20,
    ];
    let extra: usize = std::env::var("KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(0);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    delays_ms.extend((0..extra).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % 150
    }));
    let mut kills = 0;
    for delay in delays_ms {
        let mut child = import(&source, &target);
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().unwrap().is_some() {
            // Finished before this kill: whole, and then started again from nothing.
            assert_eq!(
                files(&target),
                expected,
                "a run completed after kills differs"
            );
            std::fs::remove_dir_all(&target).unwrap();
            continue;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        for (path, bytes) in files(&target) {
            let name = path.to_string_lossy();
            if name.contains(".partial-") {
                continue; // a temporary file; the next run removes it
            }
            match expected.get(&path) {
                Some(whole) => assert!(
                    bytes == *whole,
                    "{name} differs from the uninterrupted import's after a kill at +{delay} ms"
                ),
                // skipped.tsv is rewritten at the end of a run; anything else is unexpected.
                None => {
                    panic!("{name} exists after a kill at +{delay} ms but not in a full import")
                }
            }
        }
    }
    eprintln!("{kills} kills landed");
    assert!(
        kills >= 3,
        "only {kills} kills landed before the import finished"
    );
    assert!(import(&source, &target).wait().unwrap().success());
    assert_eq!(files(&target), expected, "the completed rerun differs");
}
