//! The DCT-II of TensorFlow's `Mfcc` op (`mfcc_dct.cc`): `sqrt(2/N) Σ x_j cos(π i (j + ½) / N)`,
//! with the same scale for every coefficient (no orthonormal correction of the first).

/// A precomputed DCT from `inputs` values to `coefficients` coefficients.
///
/// The table is stored input-major so that all coefficients accumulate side by side (one
/// vectorisable pass per input value) while each coefficient still sums its terms in
/// TensorFlow's order, which keeps the result bit-identical.
#[derive(Debug, Clone)]
pub struct Dct {
    coefficients: usize,
    /// `table[j * coefficients + i] = sqrt(2/N) cos(π i (j + ½) / N)`.
    table: Vec<f64>,
    sums: Vec<f64>,
}

impl Dct {
    /// A DCT table for `inputs` inputs and `coefficients` outputs.
    pub fn new(inputs: usize, coefficients: usize) -> Self {
        let norm = (2.0 / inputs as f64).sqrt();
        let arg = std::f64::consts::PI / inputs as f64;
        let table = (0..inputs)
            .flat_map(|j| {
                (0..coefficients).map(move |i| norm * (i as f64 * arg * (j as f64 + 0.5)).cos())
            })
            .collect();
        Self {
            coefficients,
            table,
            sums: vec![0.0; coefficients],
        }
    }

    /// Writes the DCT of `input` into `out` (one value per coefficient).
    pub fn apply(&mut self, input: &[f64], out: &mut [f32]) {
        self.sums.fill(0.0);
        for (row, &x) in self.table.chunks_exact(self.coefficients).zip(input) {
            for (sum, &c) in self.sums.iter_mut().zip(row) {
                *sum += c * x;
            }
        }
        for (o, &s) in out.iter_mut().zip(&self.sums) {
            *o = s as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_input_has_only_a_zeroth_coefficient() {
        let mut dct = Dct::new(40, 26);
        let mut out = vec![0.0; 26];
        dct.apply(&[1.0; 40], &mut out);
        // sqrt(2/40) × 40 = sqrt(80)
        assert!((out[0] - 80f32.sqrt()).abs() < 1e-5);
        assert!(out[1..].iter().all(|v| v.abs() < 1e-5));
    }
}
