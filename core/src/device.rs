//! The one place that chooses a compute device. CUDA exists only in builds with the `cuda`
//! feature; nothing in this repository's tests needs it.

/// candle's device type, re-exported for crates that choose a device without using candle.
pub use candle::Device;

/// Parses `cpu`, `cuda` or `cuda:N`; `None` picks CUDA device 0 when built with CUDA and one
/// is present, else the CPU.
pub fn select(spec: Option<&str>) -> Result<Device, String> {
    match spec.map(str::trim) {
        None | Some("") | Some("auto") => Ok(default_device()),
        Some("cpu") => Ok(Device::Cpu),
        Some(s) if s == "cuda" || s.starts_with("cuda:") => {
            let ordinal: usize = s
                .strip_prefix("cuda:")
                .map_or(Ok(0), str::parse)
                .map_err(|_| format!("bad device {s:?}: expected cuda:N"))?;
            cuda(ordinal)
        }
        Some(other) => Err(format!("unknown device {other:?}: use cpu, cuda or cuda:N")),
    }
}

/// [`select`] for inference (the CLI, the GStreamer element): a device that cannot be used
/// falls back to the CPU, and the second value says why, for the caller to show as a warning.
/// Training refuses instead ([`select`]), since a run meant for a GPU could take days on a CPU.
pub fn select_or_cpu(spec: &str) -> (Device, Option<String>) {
    match select(Some(spec)) {
        Ok(device) => (device, None),
        Err(e) => (
            Device::Cpu,
            Some(format!("device {spec:?}: {e}: using the CPU")),
        ),
    }
}

fn default_device() -> Device {
    if candle::utils::cuda_is_available() {
        cuda(0).unwrap_or(Device::Cpu)
    } else {
        Device::Cpu
    }
}

fn cuda(ordinal: usize) -> Result<Device, String> {
    if !candle::utils::cuda_is_available() {
        return Err("this build has no CUDA support (rebuild with --features cuda)".into());
    }
    let missing = missing_cuda_libraries();
    if !missing.is_empty() {
        return Err(format!(
            "cuda:{ordinal}: no usable NVIDIA GPU: cannot load {} (is the NVIDIA driver \
             installed, and are the CUDA 13 libraries on LD_LIBRARY_PATH?)",
            missing.join(", ")
        ));
    }
    // cudarc panics when a library it needs disappears between the check and its use; keep
    // even that from crossing into the caller.
    std::panic::catch_unwind(|| Device::new_cuda(ordinal))
        .map_err(|_| format!("cuda:{ordinal}: the CUDA libraries failed to load"))?
        .map_err(|e| format!("cuda:{ordinal}: {e}"))
}

/// Runs every f32 matrix product on a GPU on TF32 tensor cores (f32 storage and accumulation,
/// inputs rounded to a 10-bit mantissa): several times faster on Ampere and later GPUs. Errors
/// when enabling it in a build without CUDA, where it could not take effect.
pub fn set_tf32(enabled: bool) -> Result<(), String> {
    #[cfg(feature = "cuda")]
    {
        candle::cuda::set_gemm_reduced_precision_f32(enabled);
        Ok(())
    }
    #[cfg(not(feature = "cuda"))]
    if enabled {
        Err(
            "TF32 needs a GPU: this build has no CUDA support (rebuild with --features cuda)"
                .into(),
        )
    } else {
        Ok(())
    }
}

/// The CUDA libraries candle opens at run time that this machine lacks (none in CPU builds).
/// The `cuda` build loads them with `dlopen` (see third_party/candle-core/PATCHED.md), so a
/// machine without them still runs everything on the CPU.
pub fn missing_cuda_libraries() -> Vec<&'static str> {
    #[cfg(feature = "cuda")]
    {
        use candle::cuda::cudarc;
        // SAFETY: each probe only tries to dlopen the library under its usual names.
        let probes: [(&str, bool); 5] = unsafe {
            [
                (
                    "libcuda.so.1 (the NVIDIA driver)",
                    cudarc::driver::sys::is_culib_present(),
                ),
                ("libcublas.so.13", cudarc::cublas::sys::is_culib_present()),
                (
                    "libcublasLt.so.13",
                    cudarc::cublaslt::sys::is_culib_present(),
                ),
                ("libcurand.so.10", cudarc::curand::sys::is_culib_present()),
                ("libnvrtc.so.13", cudarc::nvrtc::sys::is_culib_present()),
            ]
        };
        probes
            .into_iter()
            .filter_map(|(name, present)| (!present).then_some(name))
            .collect()
    }
    #[cfg(not(feature = "cuda"))]
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert!(matches!(select(Some("cpu")), Ok(Device::Cpu)));
        assert!(select(Some("tpu")).unwrap_err().contains("unknown device"));
        assert!(select(Some("cuda:x")).is_err());
        if !candle::utils::cuda_is_available() {
            assert!(matches!(select(None), Ok(Device::Cpu)));
            assert!(
                select(Some("cuda:0"))
                    .unwrap_err()
                    .contains("no CUDA support")
            );
        } else if !missing_cuda_libraries().is_empty() {
            // A CUDA build on a machine without a GPU: a plain error, and the CPU by default.
            assert!(matches!(select(None), Ok(Device::Cpu)));
            let err = select(Some("cuda")).unwrap_err();
            assert!(err.contains("no usable NVIDIA GPU"), "{err}");
        }
    }
}
