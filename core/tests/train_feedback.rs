//! What `ds-train` tells its user and which weights it evaluates: one rule (the best dev
//! checkpoint when there is one) for the export and the test report, in every kind of run;
//! progress lines when stderr is not a terminal; a final line when `--max_steps` stops a run;
//! a warning before training the full-size network on a CPU; the augmentation defaults in
//! `--help`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::fsdd_csv;
use deepspeech_core::Alphabet;
use deepspeech_core::model::Config;
use deepspeech_core::model::io;
use deepspeech_core::train::checkpoint;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ds-feedback-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ds_train(args: &[&str]) -> Output {
    // stdout and stderr are pipes here, never a terminal.
    let o = Command::new(env!("CARGO_BIN_EXE_ds-train"))
        .args(args)
        .output()
        .expect("ds-train runs");
    assert!(
        o.status.success(),
        "ds-train {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The test report's lines (from the "Test on" line on).
fn report(stdout: &str) -> String {
    let start = stdout
        .find("Test on")
        .unwrap_or_else(|| panic!("no report: {stdout}"));
    stdout[start..].to_owned()
}

fn weights(path: &Path, prefix: &str, config: &Config) -> Vec<Vec<f32>> {
    let file = io::read(path).unwrap();
    config
        .tensor_shapes()
        .into_iter()
        .map(|(name, _)| {
            file.tensors[&format!("{prefix}{name}")]
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap()
        })
        .collect()
}

#[test]
fn export_and_every_test_report_use_the_best_dev_checkpoint() {
    let dir = temp_dir("best");
    let csv = fsdd_csv(&dir);
    let csv = csv.to_str().unwrap();
    let ckpt = dir.join("ckpt");
    let export = dir.join("export");
    let (ckpt_s, export_s) = (ckpt.to_str().unwrap(), export.to_str().unwrap());
    let common = [
        "--n_hidden",
        "16",
        "--report_count",
        "2",
        "--beam_width",
        "1",
    ];
    // An improvement must beat the best by 1e9: only epoch 0 is ever "best", so the best
    // checkpoint and the last weights differ.
    let trained = ds_train(
        &[
            &[
                "--train_files",
                csv,
                "--dev_files",
                csv,
                "--test_files",
                csv,
            ][..],
            &["--epochs", "3", "--es_min_delta", "1e9", "--es_epochs", "0"],
            &["--checkpoint_dir", ckpt_s, "--export_dir", export_s],
            &common,
        ]
        .concat(),
    );
    let out = text(&trained.stdout);
    assert!(
        out.contains("Weights exported and tested: the best dev checkpoint"),
        "{out}"
    );
    let config = Config::new(16, &Alphabet::english());
    let exported = weights(&export.join("model.safetensors"), "", &config);
    assert_eq!(
        exported,
        weights(&checkpoint::best_path(&ckpt), "model.", &config)
    );
    assert_ne!(
        exported,
        weights(&checkpoint::last_path(&ckpt), "model.", &config)
    );

    // Test-only runs, from the checkpoint folder and from the export, report the same.
    let from_checkpoints = ds_train(
        &[
            &["--test_files", csv, "--checkpoint_dir", ckpt_s][..],
            &common,
        ]
        .concat(),
    );
    let from_export = ds_train(
        &[
            &["--test_files", csv, "--load_checkpoint_dir", export_s][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(report(&text(&from_checkpoints.stdout)), report(&out));
    assert_eq!(report(&text(&from_export.stdout)), report(&out));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn off_a_terminal_progress_comes_as_lines_and_max_steps_ends_with_a_summary() {
    let dir = temp_dir("lines");
    let csv = fsdd_csv(&dir);
    let o = ds_train(&[
        "--train_files",
        csv.to_str().unwrap(),
        "--n_hidden",
        "16",
        "--train_batch_size",
        "2",
        "--log_steps",
        "2",
        "--max_steps",
        "5",
    ]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    // 3 batches per epoch: steps 2 and 4 are logged (epoch 0 batch 2, epoch 1 batch 1).
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("steps/s")).collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("epoch 0 | batch 2/3 | step 2 | loss "),
        "{err}"
    );
    assert!(
        lines[1].starts_with("epoch 1 | batch 1/3 | step 4 | loss "),
        "{err}"
    );
    assert!(err.contains("Epoch   0 | train loss"), "{err}");
    assert!(
        out.contains(
            "Stopped by --max_steps after 5 step(s) this run (5 in total): epoch 1, batch 2/3"
        ),
        "{out}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_full_size_network_on_a_cpu_is_warned_about_and_help_lists_augmentation_defaults() {
    let dir = temp_dir("wide");
    let csv = fsdd_csv(&dir);
    let o = ds_train(&["--train_files", csv.to_str().unwrap(), "--max_steps", "0"]);
    let err = text(&o.stderr);
    assert!(
        err.contains(
            "warning: training DeepSpeech's full-size network (--n_hidden 2048) on the CPU"
        ),
        "{err}"
    );
    let o = ds_train(&[
        "--train_files",
        csv.to_str().unwrap(),
        "--max_steps",
        "0",
        "--n_hidden",
        "64",
    ]);
    assert!(!text(&o.stderr).contains("warning"), "{}", text(&o.stderr));

    let help = text(&ds_train(&["--help"]).stdout);
    for spec in deepspeech_core::train::augment::DEFAULT_SPECS {
        assert!(help.contains(spec), "{spec} missing from --help");
    }
    assert!(
        help.starts_with("Train a DeepSpeech acoustic model"),
        "{help}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
