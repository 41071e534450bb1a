//! Augmentation in training: `ds-train` with several `--augment` flags trains on LDC93S1 with a
//! finite loss and logs them; a bad spec is refused by name; a run with augmentation stopped
//! and resumed gives bit-identical weights to one that never stopped.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{fsdd_csv, shared};
use deepspeech_core::Alphabet;
use deepspeech_core::model::Config;
use deepspeech_core::train::checkpoint;
use deepspeech_core::train::{TrainOptions, run};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ds-augment-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const AUGMENTS: [&str; 7] = [
    "volume[p=0.5,dbfs=-30:-10]",
    "noise[p=0.8,snr=5:20,color=any]",
    "reverb[p=0.5,delay=20:60,decay=6:12]",
    "resample[p=0.5,rate=8000]",
    "tempo[p=0.8,factor=0.9:1.1]",
    "frequency_mask[p=0.8,n=2,size=1:3]",
    "time_mask[p=0.8,n=2,size=2:5]",
];

#[test]
fn ds_train_with_augmentation_trains_ldc93s1_with_a_finite_loss() {
    let dir = temp_dir("cli");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ds-train"));
    cmd.args([
        "--train_files",
        shared("ldc93s1/ldc93s1.csv").to_str().unwrap(),
    ])
    .args([
        "--alphabet_config_path",
        shared("alphabet.txt").to_str().unwrap(),
    ])
    .args(["--n_hidden", "32", "--epochs", "3", "--seed", "7"])
    .args(["--checkpoint_dir", dir.join("ckpt").to_str().unwrap()]);
    for a in AUGMENTS {
        cmd.args(["--augment", a]);
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Augmentation: volume[p=0.5,dbfs=-30:-10] noise["),
        "{stderr}"
    );
    let loss: f64 = stdout
        .split("last train loss ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.trim_end_matches(',').parse().ok())
        .unwrap_or_else(|| panic!("no loss in {stdout}"));
    assert!(loss.is_finite() && loss > 0.0, "{loss}");

    let out = Command::new(env!("CARGO_BIN_EXE_ds-train"))
        .args(["--train_files", "x.csv", "--augment", "noise[snr=loud]"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("noise[snr=loud]") && stderr.contains("snr=loud"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn options(csv: &Path, ckpt: &Path) -> TrainOptions {
    let mut o = TrainOptions::new(Alphabet::english());
    o.train_files = vec![csv.to_owned()];
    o.train_batch_size = 2;
    o.n_hidden = 24;
    o.epochs = 10;
    o.shuffle_batches = true;
    o.checkpoint_dir = Some(ckpt.to_owned());
    o.progress = false;
    o.augmentations = AUGMENTS
        .iter()
        .chain(&["pitch[p=0.5,pitch=0.9:1.1]", "add[stddev=0.5]"])
        .map(|a| a.parse().unwrap())
        .collect();
    o
}

fn last_weights(ckpt: &Path) -> Vec<(String, Vec<f32>)> {
    let config = Config::new(24, &Alphabet::english());
    let c = checkpoint::load(&checkpoint::last_path(ckpt), &config).unwrap();
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
fn augmented_run_stopped_and_resumed_equals_uninterrupted() {
    let dir = temp_dir("resume");
    let csv = fsdd_csv(&dir);

    let straight = dir.join("straight");
    let mut o = options(&csv, &straight);
    o.max_steps = Some(8);
    run(&o).unwrap();

    let split = dir.join("split");
    let mut o = options(&csv, &split);
    o.max_steps = Some(4); // stops mid-epoch (epoch 1, batch 1 of 3)
    run(&o).unwrap();
    o.max_steps = Some(4);
    let second = run(&o).unwrap();
    assert!(second.resumed);
    assert_eq!(second.steps, 8);
    assert_eq!(last_weights(&straight), last_weights(&split));

    // The augmentation does change training: without it the weights differ.
    let plain = dir.join("plain");
    let mut o = options(&csv, &plain);
    o.augmentations.clear();
    o.max_steps = Some(8);
    run(&o).unwrap();
    assert_ne!(last_weights(&straight), last_weights(&plain));
    std::fs::remove_dir_all(dir).unwrap();
}
