//! The one place that chooses a compute device. CUDA exists only in builds with the `cuda`
//! feature; nothing in this repository's tests needs it.

use candle::Device;

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

fn default_device() -> Device {
    if candle::utils::cuda_is_available() {
        Device::new_cuda(0).unwrap_or(Device::Cpu)
    } else {
        Device::Cpu
    }
}

fn cuda(ordinal: usize) -> Result<Device, String> {
    if !candle::utils::cuda_is_available() {
        return Err("this build has no CUDA support (rebuild with --features cuda)".into());
    }
    Device::new_cuda(ordinal).map_err(|e| format!("cuda:{ordinal}: {e}"))
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
        }
    }
}
