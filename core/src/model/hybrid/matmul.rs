//! int8 weight matrices and TensorFlow Lite's hybrid product with quantised input rows:
//! `out[b][r] = bias[r] + (float)(Σₖ w[r][k] · q[b][k]) · s[b]`, the dot product exact in `i32`
//! (so its summation order cannot matter), then one float multiply and one float add, as
//! TensorFlow Lite r2.3's `SseMatrixBatchVectorMultiplyAccumulate` does.
//!
//! The dot products run on AVX2 when the CPU has it (32 int8 products per instruction,
//! `_mm256_maddubs_epi16` on `|q|` and `w · sign(q)`, as TensorFlow Lite's SSSE3 kernel does), else
//! on a portable loop: both give the same integers.

use rayon::prelude::*;

/// Rows are padded with zeros to a multiple of this many values, so the SIMD loop has no tail.
const LANES: usize = 32;

/// Below this many multiply-adds a product runs on one thread.
const PARALLEL_MIN_MACS: usize = 1 << 20;

/// An int8 weight matrix `[rows, cols]` with one scale (TensorFlow's symmetric per-tensor
/// quantisation: `weight = scale · q`, `q` in −127…127).
#[derive(Clone)]
pub struct Int8Matrix {
    rows: usize,
    cols: usize,
    /// Values per stored row: `cols` rounded up to [`LANES`], the rest zeros.
    stride: usize,
    data: Vec<i8>,
    scale: f32,
}

impl std::fmt::Debug for Int8Matrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Int8Matrix")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("scale", &self.scale)
            .finish_non_exhaustive()
    }
}

impl Int8Matrix {
    /// A matrix from its row-major values. `Err` says why they cannot be used: a size that does
    /// not match, a scale that is not a positive finite number, or a −128 (outside symmetric
    /// quantisation's range, which TensorFlow's quantiser never writes).
    pub fn new(rows: usize, cols: usize, values: &[i8], scale: f32) -> Result<Self, String> {
        if rows.checked_mul(cols) != Some(values.len()) {
            return Err(format!(
                "{} int8 values for a [{rows}, {cols}] matrix",
                values.len()
            ));
        }
        if !(scale.is_finite() && scale > 0.0) {
            return Err(format!("its scale is {scale}"));
        }
        if values.contains(&i8::MIN) {
            return Err("it holds −128, outside symmetric int8's −127…127".into());
        }
        let stride = cols.div_ceil(LANES).max(1) * LANES;
        let mut data = vec![0i8; rows * stride];
        if cols > 0 {
            for (dst, src) in data.chunks_exact_mut(stride).zip(values.chunks_exact(cols)) {
                dst[..cols].copy_from_slice(src);
            }
        }
        Ok(Self {
            rows,
            cols,
            stride,
            data,
            scale,
        })
    }

    /// Output rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Inputs per row.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The quantisation scale.
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// Values per padded row, the length each quantised input row must have.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The weights as `f32` (`scale · q`), row-major `[rows, cols]`.
    pub fn dequantised(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.rows * self.cols);
        for row in self.data.chunks_exact(self.stride) {
            out.extend(row[..self.cols].iter().map(|&q| self.scale * f32::from(q)));
        }
        out
    }

    /// Stored bytes.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// TensorFlow Lite's hybrid product: `q` holds `batch` quantised rows of
    /// [`stride`](Self::stride) values (zero past `cols`), `scales[b]` is row `b`'s input scale
    /// times this matrix's scale, and `out` (`[batch, rows]`) gets
    /// `bias[r] + (float)dot(w[r], q[b]) · scales[b]`.
    pub fn hybrid_product(&self, q: &[i8], scales: &[f32], bias: &[f32], out: &mut [f32]) {
        let batch = scales.len();
        assert!(q.len() == batch * self.stride && bias.len() == self.rows);
        assert_eq!(out.len(), batch * self.rows);
        // Integer dot products, `[rows, batch]`, rows split across threads.
        let mut dots = vec![0i32; self.rows * batch];
        let threads = candle::utils::get_num_threads();
        let macs = self.rows * self.stride * batch;
        if threads > 1 && macs >= PARALLEL_MIN_MACS {
            let rows_per_task = self.rows.div_ceil(threads * 4).next_multiple_of(4);
            dots.par_chunks_mut(rows_per_task * batch)
                .enumerate()
                .for_each(|(task, chunk)| {
                    self.dots(task * rows_per_task, q, batch, chunk);
                });
        } else {
            self.dots(0, q, batch, &mut dots);
        }
        for (b, out_row) in out.chunks_exact_mut(self.rows).enumerate() {
            let s = scales[b];
            for ((o, &bias), d) in out_row
                .iter_mut()
                .zip(bias)
                .zip(dots.iter().skip(b).step_by(batch))
            {
                *o = bias + *d as f32 * s;
            }
        }
    }

    /// `dots[(r − first) · batch + b] = dot(w[r], q[b])` for the rows `dots` covers.
    fn dots(&self, first: usize, q: &[i8], batch: usize, dots: &mut [i32]) {
        let stride = self.stride;
        let rows = dots.len() / batch;
        let row = |r: usize| &self.data[r * stride..(r + 1) * stride];
        let mut r = 0;
        while r + 4 <= rows {
            let w = [
                row(first + r),
                row(first + r + 1),
                row(first + r + 2),
                row(first + r + 3),
            ];
            for (b, qb) in q.chunks_exact(stride).enumerate() {
                let d = dot4(w, qb);
                for (k, d) in d.into_iter().enumerate() {
                    dots[(r + k) * batch + b] = d;
                }
            }
            r += 4;
        }
        for r in r..rows {
            for (b, qb) in q.chunks_exact(stride).enumerate() {
                dots[r * batch + b] = dot_portable(row(first + r), qb);
            }
        }
    }
}

/// Four rows' dot products with one input row (all the same length, a multiple of [`LANES`]).
#[inline]
fn dot4(w: [&[i8]; 4], q: &[i8]) -> [i32; 4] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked above); the lengths are checked inside.
        return unsafe { avx2::dot4(w, q) };
    }
    w.map(|w| dot_portable(w, q))
}

/// One dot product in plain integer arithmetic.
fn dot_portable(w: &[i8], q: &[i8]) -> i32 {
    w.iter()
        .zip(q)
        .map(|(&a, &b)| i32::from(a) * i32::from(b))
        .sum()
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::LANES;

    /// [`super::dot4`] on AVX2: per 32 values, `maddubs(|q|, w · sign(q))` gives pair sums of at
    /// most 2 · 127 · 127 = 32258 (no saturation, since neither side holds −128), `madd` with
    /// ones widens them to `i32`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dot4(w: [&[i8]; 4], q: &[i8]) -> [i32; 4] {
        let n = q.len();
        assert!(n.is_multiple_of(LANES) && w.iter().all(|w| w.len() == n));
        let ones = _mm256_set1_epi16(1);
        let mut acc = [_mm256_setzero_si256(); 4];
        let mut k = 0;
        while k < n {
            // SAFETY: k + 32 <= n, the length of every slice read.
            unsafe {
                let qv = _mm256_loadu_si256(q.as_ptr().add(k).cast());
                let qa = _mm256_sign_epi8(qv, qv);
                for (acc, w) in acc.iter_mut().zip(&w) {
                    let wv = _mm256_loadu_si256(w.as_ptr().add(k).cast());
                    let pairs = _mm256_maddubs_epi16(qa, _mm256_sign_epi8(wv, qv));
                    *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(pairs, ones));
                }
            }
            k += LANES;
        }
        acc.map(|a| {
            let s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
            _mm_cvtsi128_si32(s)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SIMD and portable dot products give the same exact integers, at the extremes too.
    #[test]
    fn hybrid_product_equals_the_formula() {
        let (rows, cols, batch) = (7, 70, 3);
        let mut state = 12345u32;
        let mut next = move || {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((state >> 16) % 255) as i32 - 127
        };
        let mut w: Vec<i8> = (0..rows * cols).map(|_| next() as i8).collect();
        w[..cols].fill(127);
        w[cols..2 * cols].fill(-127);
        let m = Int8Matrix::new(rows, cols, &w, 0.01).unwrap();
        let mut q = vec![0i8; batch * m.stride()];
        for b in 0..batch {
            for k in 0..cols {
                q[b * m.stride() + k] = if b == 0 { 127 } else { next() as i8 };
            }
        }
        let scales = [0.5f32, 0.25, 2.0];
        let bias: Vec<f32> = (0..rows).map(|r| r as f32 - 3.0).collect();
        let mut out = vec![0f32; batch * rows];
        m.hybrid_product(&q, &scales, &bias, &mut out);
        for b in 0..batch {
            for r in 0..rows {
                let dot: i32 = (0..cols)
                    .map(|k| i32::from(w[r * cols + k]) * i32::from(q[b * m.stride() + k]))
                    .sum();
                assert_eq!(
                    out[b * rows + r],
                    bias[r] + dot as f32 * scales[b],
                    "{b} {r}"
                );
            }
        }
        assert_eq!(out[0], -3.0 + (127 * 127 * cols) as f32 * 0.5);
    }

    #[test]
    fn unusable_matrices_are_refused() {
        assert!(Int8Matrix::new(2, 2, &[1, 2, 3], 1.0).is_err());
        assert!(Int8Matrix::new(1, 2, &[1, 2], 0.0).is_err());
        assert!(Int8Matrix::new(1, 2, &[1, -128], 1.0).is_err());
        let m = Int8Matrix::new(1, 2, &[1, -127], 0.5).unwrap();
        assert_eq!(m.dequantised(), [0.5, -63.5]);
    }
}
