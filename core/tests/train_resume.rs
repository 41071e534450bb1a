//! Checkpoints: a run stopped and resumed gives bit-identical weights to one that never
//! stopped; a checkpoint of another geometry is refused by name and shape; a `ds-train` killed
//! with SIGKILL at random moments always leaves a loadable checkpoint and resumes from it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{fsdd_csv, shared};
use deepspeech_core::Alphabet;
use deepspeech_core::model::Config;
use deepspeech_core::train::checkpoint;
use deepspeech_core::train::trainer::{DEFAULT_N_HIDDEN, stored_n_hidden};
use deepspeech_core::train::{TrainOptions, run};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ds-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn options(csv: &Path, ckpt: &Path) -> TrainOptions {
    let mut o = TrainOptions::new(Alphabet::english());
    o.train_files = vec![csv.to_owned()];
    o.train_batch_size = 2;
    o.n_hidden = 24;
    o.epochs = 10;
    o.dropout_rate = 0.1;
    o.shuffle_batches = true;
    o.checkpoint_dir = Some(ckpt.to_owned());
    o.progress = false;
    o
}

/// `fixed`, then `$KILLS` more delays below `max_ms` from a fixed seed (none without `KILLS`).
fn kill_delays(fixed: &[u64], max_ms: u64) -> Vec<u64> {
    let extra: usize = std::env::var("KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(0);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut out = fixed.to_vec();
    out.extend((0..extra).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % max_ms
    }));
    out
}

fn last_weights(ckpt: &Path, config: &Config) -> Vec<(String, Vec<f32>)> {
    let c = checkpoint::load(&checkpoint::last_path(ckpt), config).unwrap();
    let mut names: Vec<&String> = c.tensors.keys().collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            (
                n.clone(),
                c.tensors[n].flatten_all().unwrap().to_vec1().unwrap(),
            )
        })
        .collect()
}

#[test]
fn stopped_and_resumed_equals_uninterrupted() {
    let dir = temp_dir("exact");
    let csv = fsdd_csv(&dir);
    let config = Config::new(24, &Alphabet::english());

    let straight = dir.join("straight");
    let mut o = options(&csv, &straight);
    o.max_steps = Some(10);
    run(&o).unwrap();

    let split = dir.join("split");
    let mut o = options(&csv, &split);
    o.max_steps = Some(4); // stops mid-epoch (epoch 1, batch 1 of 3)
    let first = run(&o).unwrap();
    assert!(!first.resumed);
    o.max_steps = Some(6);
    let second = run(&o).unwrap();
    assert!(second.resumed);
    assert_eq!(second.steps, 10);

    assert_eq!(
        last_weights(&straight, &config),
        last_weights(&split, &config)
    );

    // Without --n_hidden, a resumed run or a loaded source keeps the width stored in the file.
    assert_eq!(stored_n_hidden(Some(&split), None).unwrap(), 24);
    assert_eq!(stored_n_hidden(None, Some(&split)).unwrap(), 24);
    assert_eq!(
        stored_n_hidden(Some(&dir.join("empty")), None).unwrap(),
        DEFAULT_N_HIDDEN
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_checkpoint_of_another_geometry_is_refused_by_tensor_and_shape() {
    let dir = temp_dir("geometry");
    let csv = fsdd_csv(&dir);
    let ckpt = dir.join("ckpt");
    let mut o = options(&csv, &ckpt);
    o.max_steps = Some(1);
    run(&o).unwrap();
    o.n_hidden = 32;
    let e = run(&o).unwrap_err().to_string();
    assert!(
        e.contains("layer_1.weight") && e.contains("[24, 494]") && e.contains("[32, 494]"),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sigkill_at_any_moment_leaves_a_loadable_checkpoint() {
    let dir = temp_dir("kill");
    let csv = fsdd_csv(&dir);
    let ckpt = dir.join("ckpt");
    let config = Config::new(24, &Alphabet::english());
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_ds-train"))
            .args([
                "--train_files",
                csv.to_str().unwrap(),
                "--checkpoint_dir",
                ckpt.to_str().unwrap(),
            ])
            .args([
                "--n_hidden",
                "24",
                "--train_batch_size",
                "2",
                "--epochs",
                "100000",
            ])
            .args(["--checkpoint_secs", "0", "--quiet", "--es_epochs", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ds-train starts")
    };
    let mut previous_step = 0;
    // Kill delays spread over the write cycle; a fixed list keeps the test reproducible, and
    // KILLS=N adds N more, pseudo-random (tools/kill-soak.sh runs 100).
    for delay_ms in kill_delays(&[1500, 37, 211, 89, 503, 13, 347], 600) {
        let mut child = spawn();
        let started = Instant::now();
        // Wait for the first checkpoint of this run before the timed kill.
        while !checkpoint::last_path(&ckpt).exists() && started.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let c = checkpoint::load(&checkpoint::last_path(&ckpt), &config)
            .unwrap_or_else(|e| panic!("checkpoint unreadable after kill at +{delay_ms} ms: {e}"));
        assert!(
            c.state.step >= previous_step,
            "steps went back: {} < {previous_step}",
            c.state.step
        );
        previous_step = c.state.step;
    }
    assert!(previous_step > 0, "no training step was checkpointed");
    eprintln!("killed at every moment, checkpoint step {previous_step} at the end");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Runs `command` (`ds-train`, or a wrapper that runs it) for two more steps of the small model
/// on `csv`, resuming from `ckpt`: its status and its stderr.
fn two_more_steps(
    mut command: Command,
    csv: &Path,
    ckpt: &Path,
) -> (std::process::ExitStatus, String) {
    let out = command
        .args(["--train_files", csv.to_str().unwrap()])
        .args(["--checkpoint_dir", ckpt.to_str().unwrap()])
        .args([
            "--n_hidden",
            "24",
            "--train_batch_size",
            "2",
            "--epochs",
            "10",
        ])
        .args(["--max_steps", "2", "--checkpoint_secs", "0", "--quiet"])
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A checkpoint folder that fills up mid-write (here a file-size limit, `ulimit -f`, which makes
/// writes fail as a full disk does, with SIGXFSZ ignored so that the write returns EFBIG): the run
/// stops with an error naming the checkpoint and the reason, and the last good checkpoint is
/// untouched, with no temporary file left beside it.
#[test]
fn a_full_checkpoint_folder_is_a_clear_error_and_keeps_the_last_checkpoint() {
    let dir = temp_dir("full");
    let csv = fsdd_csv(&dir);
    let ckpt = dir.join("ckpt");
    let mut o = options(&csv, &ckpt);
    o.max_steps = Some(2);
    run(&o).unwrap();
    let files = || -> Vec<_> {
        std::fs::read_dir(&ckpt)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect()
    };
    let before = files();
    let last = std::fs::read(checkpoint::last_path(&ckpt)).unwrap();
    assert!(
        last.len() > 16 * 1024,
        "the checkpoint must exceed the limit below"
    );

    let mut command = Command::new("bash");
    command
        .args(["-c", "trap '' XFSZ; ulimit -f 16; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_ds-train"));
    let (status, stderr) = two_more_steps(command, &csv, &ckpt);
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("could not write")
            && stderr.contains("last.safetensors")
            && stderr.contains("File too large")
            && stderr.contains("unchanged"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(std::fs::read(checkpoint::last_path(&ckpt)).unwrap(), last);
    let after = files();
    assert_eq!(after, before, "files appeared or vanished");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A read-only checkpoint folder: the run stops with an error naming the checkpoint and the
/// reason, and the last good checkpoint is untouched. Root ignores permissions, so as root the run
/// is made as the unprivileged `nobody` (util-linux's `setpriv`).
#[test]
fn a_read_only_checkpoint_folder_is_a_clear_error_and_keeps_the_last_checkpoint() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("read-only");
    let csv = fsdd_csv(&dir);
    let ckpt = dir.join("ckpt");
    let mut o = options(&csv, &ckpt);
    o.max_steps = Some(2);
    run(&o).unwrap();
    let last = std::fs::read(checkpoint::last_path(&ckpt)).unwrap();
    std::fs::set_permissions(&ckpt, std::fs::Permissions::from_mode(0o555)).unwrap();

    // SAFETY: geteuid has no preconditions.
    let command = if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        c.arg(env!("CARGO_BIN_EXE_ds-train"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_ds-train"))
    };
    let (status, stderr) = two_more_steps(command, &csv, &ckpt);
    std::fs::set_permissions(&ckpt, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("could not write")
            && stderr.contains("last.safetensors")
            && stderr.contains("Permission denied")
            && stderr.contains("unchanged"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(checkpoint::last_path(&ckpt)).unwrap(), last);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unreadable_audio_is_skipped_with_file_and_line_and_counted() {
    let dir = temp_dir("skip");
    let good = shared("fsdd/recordings/3_lucas_10.wav");
    let broken = dir.join("broken.wav");
    std::fs::write(&broken, b"RIFF\x10\0\0\0WAVEfmt garbage").unwrap();
    let csv = dir.join("mixed.csv");
    std::fs::write(
        &csv,
        format!(
            "wav_filename,wav_filesize,transcript\n{},1,three\nbroken.wav,1,three\n",
            good.display()
        ),
    )
    .unwrap();
    let mut o = options(&csv, &dir.join("ckpt"));
    o.max_steps = Some(1);
    let summary = run(&o).unwrap();
    assert_eq!(summary.steps, 1);
    assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
    let reason = summary.skipped[0].to_string();
    assert!(
        reason.contains("mixed.csv:3") && reason.contains("broken.wav"),
        "{reason}"
    );

    // Only broken rows: an empty dataset is an error, not a silent no-op.
    std::fs::write(
        &csv,
        "wav_filename,wav_filesize,transcript\nbroken.wav,1,three\n",
    )
    .unwrap();
    let e = run(&options(&csv, &dir.join("ckpt2")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("train set is empty"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}
