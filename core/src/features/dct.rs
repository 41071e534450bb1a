//! The DCT-II of TensorFlow's `Mfcc` op (`mfcc_dct.cc`): `sqrt(2/N) Σ x_j cos(π i (j + ½) / N)`,
//! with the same scale for every coefficient (no orthonormal correction of the first).

/// A precomputed DCT from `inputs` values to `coefficients` coefficients.
#[derive(Debug, Clone)]
pub struct Dct {
    inputs: usize,
    table: Vec<f64>,
}

impl Dct {
    /// A DCT table for `inputs` inputs and `coefficients` outputs.
    pub fn new(inputs: usize, coefficients: usize) -> Self {
        let norm = (2.0 / inputs as f64).sqrt();
        let arg = std::f64::consts::PI / inputs as f64;
        let table = (0..coefficients)
            .flat_map(|i| {
                (0..inputs).map(move |j| norm * (i as f64 * arg * (j as f64 + 0.5)).cos())
            })
            .collect();
        Self { inputs, table }
    }

    /// Writes the DCT of `input` into `out` (one value per coefficient).
    pub fn apply(&self, input: &[f64], out: &mut [f32]) {
        for (o, row) in out.iter_mut().zip(self.table.chunks_exact(self.inputs)) {
            *o = row.iter().zip(input).map(|(c, x)| c * x).sum::<f64>() as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_input_has_only_a_zeroth_coefficient() {
        let dct = Dct::new(40, 26);
        let mut out = vec![0.0; 26];
        dct.apply(&[1.0; 40], &mut out);
        // sqrt(2/40) × 40 = sqrt(80)
        assert!((out[0] - 80f32.sqrt()).abs() < 1e-5);
        assert!(out[1..].iter().all(|v| v.abs() < 1e-5));
    }
}
