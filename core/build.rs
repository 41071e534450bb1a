//! Compiles the fused LSTM's CUDA kernels to PTX when the `cuda` feature is on (nothing
//! otherwise). nvcc comes from `tools/cuda/setup.sh` (PyPI wheels) or any CUDA toolkit.

use std::path::PathBuf;
use std::process::Command;

const KERNELS: &str = "src/model/lstm/cell.cu";

fn main() {
    println!("cargo::rerun-if-changed={KERNELS}");
    println!("cargo::rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo::rerun-if-env-changed=NVCC");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    // PTX for the oldest GPU asked for; the driver compiles it for the GPU it finds.
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "80".into());
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17"])
        .arg(format!("-arch=compute_{cap}"))
        .arg("-o")
        .arg(out.join("lstm_cell.ptx"))
        .arg(KERNELS)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("{nvcc} failed on {KERNELS} ({s})"),
        Err(e) => panic!(
            "cannot run {nvcc} ({e}): the `cuda` feature needs nvcc. Run tools/cuda/setup.sh, \
             then `source tools/cuda/env.sh`"
        ),
    }
}
