//! Large weight buffers, filled fast: a model load is mostly copying a few hundred MB into the
//! tensors' own memory, and with 4 KB pages a third of that time is the kernel handing out
//! 46,000 zeroed pages one fault at a time. [`f32_from_le_bytes`] asks for transparent huge
//! pages (2 MB, `MADV_HUGEPAGE`) on buffers that can use them and checks finiteness in the same
//! pass as the copy, so a weight is read once.

/// Buffers smaller than this are allocated as usual: huge pages only pay for buffers spanning
/// several of them.
const HUGE_PAGE: usize = 2 << 20;

/// A `Vec<f32>` of `len` zeros whose memory is advised to use transparent huge pages where the
/// kernel allows it (Linux; elsewhere, and when the advice is refused, an ordinary vector).
pub fn zeroed_f32(len: usize) -> Vec<f32> {
    let mut v: Vec<f32> = Vec::with_capacity(len);
    advise_huge(v.as_mut_ptr().cast(), len * std::mem::size_of::<f32>());
    v.resize(len, 0.0);
    v
}

/// Advises the 2 MB-aligned pages inside `[ptr, ptr + bytes)` to be huge pages, before they are
/// first touched. Advice only: failure changes nothing but speed.
fn advise_huge(ptr: *mut u8, bytes: usize) {
    #[cfg(target_os = "linux")]
    if bytes >= 2 * HUGE_PAGE {
        let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
        let end = (ptr as usize + bytes) / HUGE_PAGE * HUGE_PAGE;
        if end > start {
            // SAFETY: the range lies inside an allocation this process owns; MADV_HUGEPAGE
            // changes how its pages are backed, never their contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, bytes);
}

/// Little-endian `f32` bytes as values in a huge-page-backed vector, and whether every value is
/// finite (no NaN, no infinity), found in the same pass. `bytes.len()` must be a multiple of 4.
pub fn f32_from_le_bytes(bytes: &[u8]) -> (Vec<f32>, bool) {
    debug_assert_eq!(bytes.len() % 4, 0);
    let len = bytes.len() / 4;
    let mut out: Vec<f32> = Vec::with_capacity(len);
    advise_huge(out.as_mut_ptr().cast(), len * std::mem::size_of::<f32>());
    let mut finite = true;
    for (o, b) in out
        .spare_capacity_mut()
        .iter_mut()
        .zip(bytes.chunks_exact(4))
    {
        let v = f32::from_le_bytes(b.try_into().expect("4 bytes"));
        finite &= v.is_finite();
        o.write(v);
    }
    // SAFETY: the loop wrote all `len` values (`bytes` holds exactly `len` chunks of 4).
    unsafe { out.set_len(len) };
    (out, finite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_and_non_finite_ones_are_found() {
        let values: Vec<f32> = (0..3_000_000).map(|i| i as f32 * 0.25 - 7.0).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let (read, finite) = f32_from_le_bytes(&bytes);
        assert!(finite);
        assert_eq!(read, values);
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut damaged = bytes.clone();
            damaged[4 * 1_234_567..4 * 1_234_568].copy_from_slice(&bad.to_le_bytes());
            assert!(!f32_from_le_bytes(&damaged).1, "{bad} not found");
        }
    }
}
