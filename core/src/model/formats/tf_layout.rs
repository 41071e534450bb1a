//! DeepSpeech's TensorFlow variables and our network's weights: the names, layouts and gate
//! order on each side, and the conversions both ways. Every TensorFlow-born format (frozen graph,
//! memory-mapped graph, TensorFlow Lite, training checkpoint) reads its tensors and hands them
//! here, so the mapping is written once.
//!
//! - Dense layers: TensorFlow keeps `layer_N/weights` as `[inputs, outputs]` and `layer_N/bias`;
//!   we keep `layer_N.weight` as `[outputs, inputs]` (candle's `Linear`).
//! - The LSTM: TensorFlow's `LSTMBlockFusedCell` and `LSTMCell` keep one `kernel`
//!   `[inputs + hidden, 4·hidden]` applied to `concat(x, h)` with the gates in the order
//!   input, candidate, forget, output, and one `bias` `[4·hidden]`; `forget_bias` (0 in
//!   DeepSpeech) is added to the forget gate at run time. We keep `weight_ih`/`weight_hh`
//!   `[4·hidden, ·]` and two biases with the gates in the order input, forget, candidate, output.

use std::collections::HashMap;

use candle::{Device, Tensor};
use rayon::prelude::*;

use crate::model::weight_buffer;

/// DeepSpeech's dense layers, in order (layer 4 is the LSTM).
pub const DENSE_LAYERS: [&str; 5] = ["layer_1", "layer_2", "layer_3", "layer_5", "layer_6"];

/// The variable scope of DeepSpeech 0.7–0.9's LSTM (and Coqui STT's), as its checkpoints and
/// frozen graphs name it.
pub const LSTM_SCOPE: &str = "cudnn_lstm/rnn/multi_rnn_cell/cell_0/cudnn_compatible_lstm_cell";

/// Whether `name` is one of the network's variables (not an optimiser slot or a counter).
pub fn is_network_variable(name: &str) -> bool {
    let Some((scope, leaf)) = name.rsplit_once('/') else {
        return false;
    };
    match leaf {
        "weights" => DENSE_LAYERS.contains(&scope),
        "bias" => DENSE_LAYERS.contains(&scope) || scope == LSTM_SCOPE,
        "kernel" => scope == LSTM_SCOPE,
        _ => false,
    }
}

/// Our gate `k` (input, forget, candidate, output) is TensorFlow's gate block `TF_GATE[k]`
/// (TensorFlow orders them input, candidate, forget, output).
const TF_GATE: [usize; 4] = [0, 2, 1, 3];
/// Our index of the forget gate.
const FORGET: usize = 1;

/// A tensor as a TensorFlow file holds it: row-major `f32` values and a shape.
#[derive(Debug, Clone, PartialEq)]
pub struct TfTensor {
    /// The dimensions.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f32>,
}

impl TfTensor {
    /// A tensor of `shape` holding `data`; `None` when the sizes disagree.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Option<Self> {
        let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        (count == Some(data.len())).then_some(Self { shape, data })
    }
}

/// Why a set of TensorFlow variables is not DeepSpeech's network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// A variable the network needs is not there.
    #[error("no variable `{0}` (a DeepSpeech 0.7–0.9 or Coqui STT network has one)")]
    Missing(String),
    /// A variable has a shape that does not fit the others.
    #[error("variable `{name}` has shape {found:?}, expected {expected}")]
    Shape {
        /// The variable.
        name: String,
        /// Its shape.
        found: Vec<usize>,
        /// What the rest of the network implies.
        expected: String,
    },
}

/// The network's geometry as read from its variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Inputs per time step (494 for 26 MFCC coefficients and 9 frames of context).
    pub n_input: usize,
    /// DeepSpeech's `n_hidden` (and `n_cell_dim`).
    pub n_hidden: usize,
    /// Output classes, the blank included.
    pub n_classes: usize,
}

fn get<'a>(vars: &'a HashMap<String, TfTensor>, name: &str) -> Result<&'a TfTensor, LayoutError> {
    vars.get(name)
        .ok_or_else(|| LayoutError::Missing(name.to_owned()))
}

fn expect_shape(name: &str, t: &TfTensor, expected: &[usize]) -> Result<(), LayoutError> {
    if t.shape == expected {
        Ok(())
    } else {
        Err(LayoutError::Shape {
            name: name.to_owned(),
            found: t.shape.clone(),
            expected: format!("{expected:?}"),
        })
    }
}

/// Transposes a row-major `[rows, cols]` matrix (see [`transpose_block`]) into a fresh
/// huge-page-backed buffer.
pub fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    assert_eq!(data.len(), rows * cols, "transpose: {rows} × {cols}");
    let mut out = weight_buffer::zeroed_f32(data.len());
    transpose_block(data, cols, rows, cols, &mut out, rows);
    out
}

/// Writes the transpose of the `rows × cols` block at the start of `src` (row stride
/// `src_stride`) to `dst` (row stride `dst_stride`): `dst[c·dst_stride + r] = src[r·src_stride + c]`.
///
/// In 8 × 8 tiles so that reads and writes both stay in cache: an element-by-element transpose
/// of a 2048-unit model's matrices was most of an import's time, and with their power-of-two
/// strides larger tiles map too many lines to the same cache set (measured on the 2048-unit
/// `.tflite`: 32 × 32 tiles load in 2.0 s, 8 × 8 in 1.66 s, untiled 2.8 s).
pub fn transpose_block(
    src: &[f32],
    src_stride: usize,
    rows: usize,
    cols: usize,
    dst: &mut [f32],
    dst_stride: usize,
) {
    const TILE: usize = 8;
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        (rows - 1) * src_stride + cols <= src.len() && (cols - 1) * dst_stride + rows <= dst.len(),
        "transpose_block: a {rows} × {cols} block does not fit"
    );
    #[cfg(target_arch = "x86_64")]
    let avx = std::arch::is_x86_feature_detected!("avx");
    for r0 in (0..rows).step_by(TILE) {
        let r1 = (r0 + TILE).min(rows);
        for c0 in (0..cols).step_by(TILE) {
            let c1 = (c0 + TILE).min(cols);
            #[cfg(target_arch = "x86_64")]
            if avx && r1 - r0 == TILE && c1 - c0 == TILE {
                // SAFETY: AVX is present, and the assert above keeps the whole 8 × 8 tile of
                // both matrices in bounds.
                unsafe {
                    transpose_tile_avx(
                        src.as_ptr().add(r0 * src_stride + c0),
                        src_stride,
                        dst.as_mut_ptr().add(c0 * dst_stride + r0),
                        dst_stride,
                    )
                };
                continue;
            }
            for r in r0..r1 {
                let row = &src[r * src_stride + c0..r * src_stride + c1];
                for (c, &v) in (c0..c1).zip(row) {
                    dst[c * dst_stride + r] = v;
                }
            }
        }
    }
}

/// Transposes one 8 × 8 tile in registers: eight row loads, the classic unpack / shuffle /
/// permute network, eight row stores.
///
/// # Safety
/// AVX must be available; `src` must be readable for 8 rows of 8 values `src_stride` apart
/// and `dst` writable for 8 rows of 8 values `dst_stride` apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose_tile_avx(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
    use std::arch::x86_64::*;
    // SAFETY: the caller guarantees the 8 × 8 values read and written are in bounds.
    unsafe {
        let r: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(src.add(i * src_stride)));
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        let out = [
            _mm256_permute2f128_ps::<0x20>(s0, s4),
            _mm256_permute2f128_ps::<0x20>(s1, s5),
            _mm256_permute2f128_ps::<0x20>(s2, s6),
            _mm256_permute2f128_ps::<0x20>(s3, s7),
            _mm256_permute2f128_ps::<0x31>(s0, s4),
            _mm256_permute2f128_ps::<0x31>(s1, s5),
            _mm256_permute2f128_ps::<0x31>(s2, s6),
            _mm256_permute2f128_ps::<0x31>(s3, s7),
        ];
        for (i, v) in out.into_iter().enumerate() {
            _mm256_storeu_ps(dst.add(i * dst_stride), v);
        }
    }
}

/// Reads the geometry off DeepSpeech's variables (named as in its checkpoints: `layer_1/weights`,
/// `layer_1/bias`, …, `{LSTM_SCOPE}/kernel`, `{LSTM_SCOPE}/bias`) and checks that every shape fits.
pub fn geometry(vars: &HashMap<String, TfTensor>) -> Result<Geometry, LayoutError> {
    let l1 = get(vars, "layer_1/weights")?;
    let l6 = get(vars, "layer_6/weights")?;
    let shape_error = |name: &str, t: &TfTensor, expected: &str| LayoutError::Shape {
        name: name.to_owned(),
        found: t.shape.clone(),
        expected: expected.to_owned(),
    };
    let [n_input, n_hidden] = l1.shape[..] else {
        return Err(shape_error("layer_1/weights", l1, "[inputs, n_hidden]"));
    };
    let [_, n_classes] = l6.shape[..] else {
        return Err(shape_error("layer_6/weights", l6, "[n_hidden, classes]"));
    };
    let g = Geometry {
        n_input,
        n_hidden,
        n_classes,
    };
    for (layer, inputs, outputs) in [
        ("layer_1", n_input, n_hidden),
        ("layer_2", n_hidden, n_hidden),
        ("layer_3", n_hidden, n_hidden),
        ("layer_5", n_hidden, n_hidden),
        ("layer_6", n_hidden, n_classes),
    ] {
        let w = format!("{layer}/weights");
        expect_shape(&w, get(vars, &w)?, &[inputs, outputs])?;
        let b = format!("{layer}/bias");
        expect_shape(&b, get(vars, &b)?, &[outputs])?;
    }
    let kernel = format!("{LSTM_SCOPE}/kernel");
    expect_shape(&kernel, get(vars, &kernel)?, &[2 * n_hidden, 4 * n_hidden])?;
    let bias = format!("{LSTM_SCOPE}/bias");
    expect_shape(&bias, get(vars, &bias)?, &[4 * n_hidden])?;
    Ok(g)
}

/// Our weights (names and layouts of [`crate::model::Config::tensor_shapes`]) from DeepSpeech's
/// variables; `forget_bias` is the LSTM's run-time forget bias (0 in DeepSpeech's graphs),
/// folded into the forget gate's bias.
pub fn to_ours(
    vars: &HashMap<String, TfTensor>,
    forget_bias: f32,
) -> Result<(Geometry, HashMap<String, Tensor>), LayoutError> {
    let g = geometry(vars)?;
    let h = g.n_hidden;
    let dev = Device::Cpu;
    let tensor = |data: Vec<f32>, shape: &[usize]| {
        Tensor::from_vec(data, shape, &dev).expect("sizes were checked")
    };
    // Transposing is most of an import: the layers, and the LSTM's eight gate blocks, are
    // transposed in parallel, each straight into its place.
    let (dense, (w_ih, w_hh)) = rayon::join(
        || {
            DENSE_LAYERS
                .par_iter()
                .map(|layer| {
                    let w = &vars[&format!("{layer}/weights")];
                    let (inputs, outputs) = (w.shape[0], w.shape[1]);
                    let b = &vars[&format!("{layer}/bias")];
                    [
                        (
                            format!("{layer}.weight"),
                            tensor(transpose(&w.data, inputs, outputs), &[outputs, inputs]),
                        ),
                        (format!("{layer}.bias"), tensor(b.data.clone(), &[outputs])),
                    ]
                })
                .collect::<Vec<_>>()
        },
        || lstm_weights(&vars[&format!("{LSTM_SCOPE}/kernel")].data, h),
    );
    let mut out: HashMap<String, Tensor> = dense.into_iter().flatten().collect();
    let bias = &vars[&format!("{LSTM_SCOPE}/bias")].data;
    let b_ih: Vec<f32> = TF_GATE
        .iter()
        .enumerate()
        .flat_map(|(k, &tf)| {
            let extra = if k == FORGET { forget_bias } else { 0.0 };
            bias[tf * h..(tf + 1) * h].iter().map(move |&b| b + extra)
        })
        .collect();
    out.insert("lstm.weight_ih_l0".into(), tensor(w_ih, &[4 * h, h]));
    out.insert("lstm.weight_hh_l0".into(), tensor(w_hh, &[4 * h, h]));
    out.insert("lstm.bias_ih_l0".into(), tensor(b_ih, &[4 * h]));
    out.insert("lstm.bias_hh_l0".into(), tensor(vec![0.0; 4 * h], &[4 * h]));
    Ok((g, out))
}

/// Our `weight_ih` and `weight_hh` (`[4·hidden, hidden]` each, our gate order) from
/// TensorFlow's `kernel` (`[2·hidden, 4·hidden]`, rows x then h, its gate order): each of the
/// eight gate blocks is the transpose of one `hidden × hidden` block of the kernel.
fn lstm_weights(kernel: &[f32], h: usize) -> (Vec<f32>, Vec<f32>) {
    let mut w_ih = weight_buffer::zeroed_f32(4 * h * h);
    let mut w_hh = weight_buffer::zeroed_f32(4 * h * h);
    if h == 0 {
        return (w_ih, w_hh);
    }
    let stride = 4 * h;
    w_ih.par_chunks_mut(h * h)
        .zip(w_hh.par_chunks_mut(h * h))
        .zip(TF_GATE.par_iter())
        .for_each(|((ih, hh), &tf)| {
            rayon::join(
                || transpose_block(&kernel[tf * h..], stride, h, h, ih, h),
                || transpose_block(&kernel[h * stride + tf * h..], stride, h, h, hh, h),
            );
        });
    (w_ih, w_hh)
}

/// DeepSpeech's variables (checkpoint names, `forget_bias` 0) from our weights: the inverse of
/// [`to_ours`]. `weights` must hold every tensor of the model with the right shapes.
pub fn to_tensorflow(
    weights: &HashMap<String, Tensor>,
) -> candle::Result<HashMap<String, TfTensor>> {
    let flat = |name: &str| -> candle::Result<(Vec<usize>, Vec<f32>)> {
        let t = weights
            .get(name)
            .ok_or_else(|| candle::Error::Msg(format!("tensor `{name}` is missing")))?;
        Ok((
            t.dims().to_vec(),
            t.to_dtype(candle::DType::F32)?.flatten_all()?.to_vec1()?,
        ))
    };
    let mut out = HashMap::new();
    for layer in DENSE_LAYERS {
        let (shape, w) = flat(&format!("{layer}.weight"))?;
        let (outputs, inputs) = (shape[0], shape[1]);
        out.insert(
            format!("{layer}/weights"),
            TfTensor {
                shape: vec![inputs, outputs],
                data: transpose(&w, outputs, inputs),
            },
        );
        let (shape, b) = flat(&format!("{layer}.bias"))?;
        out.insert(format!("{layer}/bias"), TfTensor { shape, data: b });
    }
    let (shape, w_ih) = flat("lstm.weight_ih_l0")?;
    let h = shape[1];
    let (_, w_hh) = flat("lstm.weight_hh_l0")?;
    let (_, b_ih) = flat("lstm.bias_ih_l0")?;
    let (_, b_hh) = flat("lstm.bias_hh_l0")?;
    // kernelᵀ [4h, 2h] in TensorFlow's gate order, then transposed to [2h, 4h].
    let mut kt = vec![0f32; 4 * h * 2 * h];
    let mut bias = vec![0f32; 4 * h];
    for (k, &tf) in TF_GATE.iter().enumerate() {
        for unit in 0..h {
            let ours = k * h + unit;
            let row = &mut kt[(tf * h + unit) * 2 * h..(tf * h + unit + 1) * 2 * h];
            row[..h].copy_from_slice(&w_ih[ours * h..(ours + 1) * h]);
            row[h..].copy_from_slice(&w_hh[ours * h..(ours + 1) * h]);
            bias[tf * h + unit] = b_ih[ours] + b_hh[ours];
        }
    }
    out.insert(
        format!("{LSTM_SCOPE}/kernel"),
        TfTensor {
            shape: vec![2 * h, 4 * h],
            data: transpose(&kt, 4 * h, 2 * h),
        },
    );
    out.insert(
        format!("{LSTM_SCOPE}/bias"),
        TfTensor {
            shape: vec![4 * h],
            data: bias,
        },
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alphabet::Alphabet;
    use crate::model::Config;

    /// The tiled transpose moves every element where the definition puts it, for sizes that are
    /// and are not multiples of the tile.
    #[test]
    fn transpose_moves_each_element_to_its_place() {
        for (rows, cols) in [(1, 1), (3, 70), (64, 32), (33, 95), (0, 4)] {
            let data: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
            let t = transpose(&data, rows, cols);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        t[c * rows + r],
                        data[r * cols + c],
                        "{rows}×{cols} at {r},{c}"
                    );
                }
            }
            assert_eq!(transpose(&t, cols, rows), data);
        }
    }

    #[test]
    fn our_weights_survive_a_round_trip_through_tensorflow_names() {
        let config = Config::new(5, &Alphabet::english());
        let mut weights: HashMap<String, Tensor> = config
            .tensor_shapes()
            .into_iter()
            .map(|(n, s)| (n, Tensor::randn(0f32, 1.0, s, &Device::Cpu).unwrap()))
            .collect();
        // TensorFlow has one LSTM bias: ours must carry the sum in `bias_ih` to compare.
        let sum = (&weights["lstm.bias_ih_l0"] + &weights["lstm.bias_hh_l0"]).unwrap();
        weights.insert("lstm.bias_ih_l0".into(), sum);
        weights.insert(
            "lstm.bias_hh_l0".into(),
            Tensor::zeros(20, candle::DType::F32, &Device::Cpu).unwrap(),
        );
        let tf = to_tensorflow(&weights).unwrap();
        assert_eq!(tf[&format!("{LSTM_SCOPE}/kernel")].shape, vec![10, 20]);
        let (g, back) = to_ours(&tf, 0.0).unwrap();
        assert_eq!((g.n_input, g.n_hidden, g.n_classes), (494, 5, 29));
        for (name, t) in &weights {
            let a: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
            let b: Vec<f32> = back[name].flatten_all().unwrap().to_vec1().unwrap();
            assert_eq!(a, b, "{name}");
        }
    }

    /// The parallel, tiled gate-block transposes put every kernel value where the definition
    /// says: `w_ih[k·h + u][i] = kernel[i][TF_GATE[k]·h + u]`, `w_hh` from the rows after `h`.
    #[test]
    fn lstm_blocks_land_where_the_definition_says() {
        for h in [1, 8, 13, 24] {
            let kernel: Vec<f32> = (0..2 * h * 4 * h).map(|i| i as f32).collect();
            let (ih, hh) = lstm_weights(&kernel, h);
            for k in 0..4 {
                for u in 0..h {
                    for i in 0..h {
                        let col = TF_GATE[k] * h + u;
                        assert_eq!(ih[(k * h + u) * h + i], kernel[i * 4 * h + col], "h {h}");
                        assert_eq!(hh[(k * h + u) * h + i], kernel[(h + i) * 4 * h + col]);
                    }
                }
            }
        }
    }

    #[test]
    fn gates_land_in_our_order() {
        // hidden 1, so each gate is one number: TensorFlow's i, c, f, o = 1, 2, 3, 4.
        let mut vars = HashMap::new();
        for (layer, i, o) in [
            ("layer_1", 2, 1),
            ("layer_2", 1, 1),
            ("layer_3", 1, 1),
            ("layer_5", 1, 1),
            ("layer_6", 1, 3),
        ] {
            vars.insert(
                format!("{layer}/weights"),
                TfTensor::new(vec![i, o], vec![0.0; i * o]).unwrap(),
            );
            vars.insert(
                format!("{layer}/bias"),
                TfTensor::new(vec![o], vec![0.0; o]).unwrap(),
            );
        }
        vars.insert(
            format!("{LSTM_SCOPE}/kernel"),
            TfTensor::new(vec![2, 4], vec![1., 2., 3., 4., 10., 20., 30., 40.]).unwrap(),
        );
        vars.insert(
            format!("{LSTM_SCOPE}/bias"),
            TfTensor::new(vec![4], vec![1., 2., 3., 4.]).unwrap(),
        );
        let (_, ours) = to_ours(&vars, 1.0).unwrap();
        let v = |n: &str| ours[n].flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(v("lstm.weight_ih_l0"), vec![1., 3., 2., 4.]);
        assert_eq!(v("lstm.weight_hh_l0"), vec![10., 30., 20., 40.]);
        assert_eq!(v("lstm.bias_ih_l0"), vec![1., 4., 2., 4.]);
        vars.remove("layer_3/bias");
        assert_eq!(
            to_ours(&vars, 0.0).unwrap_err(),
            LayoutError::Missing("layer_3/bias".into())
        );
    }
}
