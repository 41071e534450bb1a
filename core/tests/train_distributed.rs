//! Data-parallel training (`--features distributed`): `mpirun -np 2 ds-train` with batch 2 per
//! rank gives, within 1e-5, the weights of one process with batch 4 from the same seed (the
//! reference is our own one-process trainer, bit-exact with earlier releases) and the same dev
//! loss; a two-rank run stopped and resumed from rank 0's checkpoint ends on those weights too.
//!
//! Dropout is 0: each rank draws its own dropout masks, so with dropout the runs agree only in
//! distribution. The 7 recordings make the second batch of each epoch uneven (2 + 1 samples), so
//! the test also covers the weighting of unequal shards.
#![cfg(feature = "distributed")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use deepspeech_core::model::io;

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ds-mpi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Seven FSDD recordings (absolute paths): per epoch, global batches of 4 and 3.
fn fsdd_csv(dir: &Path) -> PathBuf {
    let words = ["zero", "one", "two", "three", "four", "five", "six"];
    let mut text = String::from("wav_filename,wav_filesize,transcript\n");
    for (digit, word) in words.iter().enumerate() {
        let wav = shared(&format!("fsdd/recordings/{digit}_jackson_13.wav"));
        let size = std::fs::metadata(&wav).unwrap().len();
        text.push_str(&format!("{},{size},{word}\n", wav.display()));
    }
    let csv = dir.join("fsdd7.csv");
    std::fs::write(&csv, text).unwrap();
    csv
}

/// The flags every run shares: small model, dropout 0, shuffled batches, no augmentation.
fn common_args(csv: &Path, batch: usize, steps: u64) -> Vec<String> {
    [
        "--train_files",
        &csv.display().to_string(),
        "--train_batch_size",
        &batch.to_string(),
        "--n_hidden",
        "32",
        "--dropout_rate",
        "0",
        "--learning_rate",
        "0.001",
        "--epochs",
        "10",
        "--shuffle_batches",
        "--seed",
        "77",
        "--max_steps",
        &steps.to_string(),
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn check(output: Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{what} failed: {}\nstdout: {}\nstderr: {stderr}",
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

/// `ds-train` in this process alone; returns its standard output.
fn single(args: &[String]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_ds-train"))
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    check(output, "ds-train");
    stdout
}

/// `ds-train` as two MPI ranks on this machine; returns (standard output, standard error).
fn two_ranks(args: &[String]) -> (String, String) {
    let output = Command::new("mpirun")
        .args([
            "-np",
            "2",
            "--oversubscribe",
            "--allow-run-as-root",
            "--bind-to",
            "none",
        ])
        .args(["-x", "RAYON_NUM_THREADS"])
        .arg(env!("CARGO_BIN_EXE_ds-train"))
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .output()
        .expect("mpirun (Debian: openmpi-bin) must be installed");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = check(output, "mpirun -np 2 ds-train");
    assert!(stderr.contains("Distributed: 2 ranks"), "{stderr}");
    (stdout, stderr)
}

/// The dev loss of the summary line `Trained ... dev loss X` (printed by rank 0 only).
fn dev_loss(stdout: &str) -> f64 {
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("Trained"))
        .collect();
    assert_eq!(lines.len(), 1, "one summary line: {stdout}");
    lines[0]
        .rsplit("dev loss ")
        .next()
        .and_then(|d| d.trim().parse().ok())
        .unwrap_or_else(|| panic!("no dev loss in {stdout}"))
}

fn with_export(mut args: Vec<String>, dir: &Path) -> Vec<String> {
    args.extend(["--export_dir".into(), dir.display().to_string()]);
    args
}

/// The largest absolute difference between two exported models, tensor by tensor.
fn max_abs_diff(a: &Path, b: &Path) -> f32 {
    let a = io::read(&a.join("model.safetensors")).unwrap();
    let b = io::read(&b.join("model.safetensors")).unwrap();
    assert_eq!(a.tensors.len(), b.tensors.len());
    let mut max = 0f32;
    for (name, ta) in &a.tensors {
        let va: Vec<f32> = ta.flatten_all().unwrap().to_vec1().unwrap();
        let vb: Vec<f32> = b.tensors[name].flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(va.len(), vb.len(), "{name}");
        for (x, y) in va.iter().zip(&vb) {
            max = max.max((x - y).abs());
        }
    }
    max
}

#[test]
fn two_ranks_of_batch_two_equal_one_process_of_batch_four() {
    let dir = temp_dir("equal");
    let csv = fsdd_csv(&dir);
    let steps = 3;
    // The dev set (the same recordings, in batches of 3) is evaluated after the first epoch.
    let dev = |mut args: Vec<String>| {
        args.extend(
            [
                "--dev_files",
                &csv.display().to_string(),
                "--dev_batch_size",
                "3",
            ]
            .map(String::from),
        );
        args
    };
    let one = dir.join("one");
    let one_out = single(&dev(with_export(common_args(&csv, 4, steps), &one)));
    let two = dir.join("two");
    let (two_out, _) = two_ranks(&dev(with_export(common_args(&csv, 2, steps), &two)));

    let diff = max_abs_diff(&one, &two);
    eprintln!("max |w(1 process, batch 4) - w(2 ranks, batch 2)| after {steps} steps: {diff:e}");
    assert!(diff <= 1e-5, "max abs difference {diff}");
    // Rank 0 alone reports; the dev loss, sharded over the ranks, is the one-process one.
    let (d1, d2) = (dev_loss(&one_out), dev_loss(&two_out));
    eprintln!("dev loss: 1 process {d1}, 2 ranks {d2}");
    assert!((d1 - d2).abs() <= 1e-4 * d1.abs(), "{d1} vs {d2}");
    // Training moved the weights: the comparison is not between two initialisations.
    let init = dir.join("init");
    single(&with_export(common_args(&csv, 4, 0), &init));
    assert!(max_abs_diff(&one, &init) > 1e-4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_ranks_resume_from_rank_zero_checkpoints() {
    let dir = temp_dir("resume");
    let csv = fsdd_csv(&dir);
    let one = dir.join("one");
    single(&with_export(common_args(&csv, 4, 4), &one));

    // Two steps, stop (rank 0 checkpoints), then two more steps resumed by both ranks.
    let ckpt = dir.join("ckpt").display().to_string();
    let mut first = common_args(&csv, 2, 2);
    first.extend(["--checkpoint_dir".into(), ckpt.clone()]);
    two_ranks(&first);
    let two = dir.join("two");
    let mut second = with_export(common_args(&csv, 2, 2), &two);
    second.extend(["--checkpoint_dir".into(), ckpt]);
    second.retain(|a| a != "--quiet");
    let (_, stderr) = two_ranks(&second);
    // Both ranks resumed, only rank 0 said so.
    assert_eq!(stderr.matches("Resuming from").count(), 1, "{stderr}");

    let diff = max_abs_diff(&one, &two);
    eprintln!("max |w(1 process, 4 steps) - w(2 ranks, 2 + 2 steps resumed)|: {diff:e}");
    assert!(diff <= 1e-5, "max abs difference {diff}");
    std::fs::remove_dir_all(&dir).unwrap();
}
