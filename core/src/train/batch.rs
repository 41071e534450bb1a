//! Batches: samples sorted by length (so padding is small), context windows built straight into
//! a time-major `[T, B, n_input]` buffer, zero-padded past each sample's end.

use candle::{Device, Tensor};

use crate::features::{FeatureMatrix, window_width};

/// One training or evaluation batch.
#[derive(Debug)]
pub struct Batch {
    /// Context windows `[T_max, B, n_input]`.
    pub x: Tensor,
    /// Each sample's labels.
    pub targets: Vec<Vec<u32>>,
    /// Each sample's frame count.
    pub lengths: Vec<usize>,
    /// Indices of the samples in the dataset.
    pub indices: Vec<usize>,
}

/// Groups sample indices into batches of `batch_size`, shortest samples first.
pub fn plan(lengths: &[Option<usize>], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len())
        .filter(|&i| lengths[i].is_some())
        .collect();
    order.sort_by_key(|&i| (lengths[i], i));
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// Builds the batch of `indices`.
pub fn build(
    features: &[Option<FeatureMatrix>],
    labels: &[Vec<u32>],
    indices: &[usize],
    n_context: usize,
    device: &Device,
) -> candle::Result<Batch> {
    let mats: Vec<&FeatureMatrix> = indices
        .iter()
        .map(|&i| features[i].as_ref().expect("planned samples have features"))
        .collect();
    assemble(&mats, labels, indices, n_context, device)
}

/// Builds the batch of `indices` from their feature matrices `mats` (one per index, e.g.
/// augmented copies).
pub fn assemble(
    mats: &[&FeatureMatrix],
    labels: &[Vec<u32>],
    indices: &[usize],
    n_context: usize,
    device: &Device,
) -> candle::Result<Batch> {
    let coeffs = mats.first().map_or(0, |m| m.width);
    let width = window_width(coeffs, n_context);
    let t_max = mats.iter().map(|m| m.frames).max().unwrap_or(0);
    let b = mats.len();
    let mut x = vec![0f32; t_max * b * width];
    for (j, m) in mats.iter().enumerate() {
        for t in 0..m.frames {
            let row = &mut x[(t * b + j) * width..(t * b + j + 1) * width];
            for (k, slot) in row.chunks_exact_mut(coeffs).enumerate() {
                let source = t as isize + k as isize - n_context as isize;
                if (0..m.frames as isize).contains(&source) {
                    slot.copy_from_slice(m.row(source as usize));
                }
            }
        }
    }
    Ok(Batch {
        x: Tensor::from_vec(x, (t_max, b, width), device)?,
        targets: indices.iter().map(|&i| labels[i].clone()).collect(),
        lengths: mats.iter().map(|m| m.frames).collect(),
        indices: indices.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::context_windows;

    #[test]
    fn batches_are_sorted_and_windows_match_the_reference() {
        let m = |frames: usize, base: f32| FeatureMatrix {
            frames,
            width: 2,
            data: (0..frames * 2).map(|i| base + i as f32).collect(),
        };
        let features = vec![
            Some(m(3, 100.0)),
            None,
            Some(m(1, 200.0)),
            Some(m(2, 300.0)),
        ];
        let lengths: Vec<Option<usize>> = features
            .iter()
            .map(|f| f.as_ref().map(|m| m.frames))
            .collect();
        assert_eq!(plan(&lengths, 2), vec![vec![2, 3], vec![0]]);

        let labels = vec![vec![1], vec![], vec![2], vec![3]];
        let batch = build(&features, &labels, &[0, 3], 1, &Device::Cpu).unwrap();
        assert_eq!(batch.x.dims(), &[3, 2, 6]);
        assert_eq!(batch.lengths, vec![3, 2]);
        let x: Vec<Vec<Vec<f32>>> = batch.x.to_vec3().unwrap();
        for (j, f) in [&features[0], &features[3]].into_iter().enumerate() {
            let f = f.as_ref().unwrap();
            let reference = context_windows(&f.data, 2, 1);
            for t in 0..3 {
                let expected = if t < f.frames {
                    reference[t * 6..(t + 1) * 6].to_vec()
                } else {
                    vec![0.0; 6]
                };
                assert_eq!(x[t][j], expected, "sample {j} frame {t}");
            }
        }
    }
}
