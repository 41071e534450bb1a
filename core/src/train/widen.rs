//! Function-preserving widening of a trained model (in the spirit of Net2Net, Chen et al. 2016):
//! `ds-train --load_checkpoint_dir narrow.safetensors --widen_source --n_hidden <wider>` starts a
//! wider network that computes what the narrow one did (exactly in real arithmetic; in f32 up to
//! rounding, as the larger sums add `0 · x` terms), so training goes on from the narrow model's
//! accuracy instead of from scratch. Only the hidden width may differ: the alphabet and the input
//! features must be the source's.
//!
//! Each hidden layer keeps the source's units first and appends new ones. A new unit gets the
//! fresh (random) incoming weights and bias of the wider model, so it is active and learns from
//! the first step; every weight *from* a new unit *to* an old unit (or to the output layer) is
//! zero, so the old units, and hence the logits, are unchanged at the start. The LSTM's weights
//! are widened gate by gate (its rows are four blocks of `H`: input, forget, cell, output).

use candle::{D, Tensor};

/// The `fresh` tensor of the wider model with the narrow `source` embedded in it, as the module
/// documentation describes; `name` is the tensor's name (`lstm.*` tensors are widened per gate).
///
/// Fails when the ranks differ or `source` is larger than `fresh` along some axis.
pub fn widen(name: &str, source: &Tensor, fresh: &Tensor) -> candle::Result<Tensor> {
    let source = source.to_dtype(fresh.dtype())?.to_device(fresh.device())?;
    if source.rank() != fresh.rank()
        || source
            .dims()
            .iter()
            .zip(fresh.dims())
            .any(|(narrow, wide)| narrow > wide)
    {
        candle::bail!(
            "cannot widen `{name}` from {:?} to {:?}",
            source.dims(),
            fresh.dims()
        );
    }
    if name.starts_with("lstm.") {
        let gates_from = source.chunk(4, 0)?;
        let gates_to = fresh.chunk(4, 0)?;
        let widened = gates_from
            .iter()
            .zip(&gates_to)
            .map(|(s, f)| embed(s, f))
            .collect::<candle::Result<Vec<_>>>()?;
        Tensor::cat(&widened, 0)
    } else {
        embed(&source, fresh)
    }
}

/// `source` in the top-left corner, zeros to its right (weights from new inputs to old units),
/// and the rows of `fresh` below it (the new units). For a vector: `source`, then the tail of
/// `fresh`.
fn embed(source: &Tensor, fresh: &Tensor) -> candle::Result<Tensor> {
    let rows = source.dim(0)?;
    let new_rows = fresh.dim(0)? - rows;
    let top = if source.rank() == 2 {
        let new_cols = fresh.dim(D::Minus1)? - source.dim(D::Minus1)?;
        let zeros = Tensor::zeros((rows, new_cols), source.dtype(), source.device())?;
        Tensor::cat(&[source, &zeros], 1)?
    } else {
        source.clone()
    };
    Tensor::cat(&[&top, &fresh.narrow(0, rows, new_rows)?], 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alphabet::Alphabet;
    use crate::model::{Config, DeepSpeech};
    use candle::{DType, Device};
    use candle_nn::{VarBuilder, VarMap};

    fn random_model(n_hidden: usize, seed: u64) -> (VarMap, DeepSpeech) {
        let device = Device::Cpu;
        let config = Config::new(n_hidden, &Alphabet::english());
        let varmap = VarMap::new();
        let model = DeepSpeech::new(
            config.clone(),
            VarBuilder::from_varmap(&varmap, DType::F32, &device),
        )
        .unwrap();
        // Non-zero biases everywhere, so that a misplaced bias would show in the logits.
        for (i, (name, shape)) in config.tensor_shapes().into_iter().enumerate() {
            let scale = if name.contains("bias") { 0.3 } else { 0.2 };
            let values = Tensor::randn(0f32, scale, shape, &device)
                .unwrap()
                .affine(1.0, 0.01 * (i as f64 + seed as f64))
                .unwrap();
            varmap.data().lock().unwrap()[&name].set(&values).unwrap();
        }
        (varmap, model)
    }

    #[test]
    fn widened_model_computes_the_narrow_models_logits() {
        let (narrow_vars, narrow) = random_model(8, 1);
        let (wide_vars, wide) = random_model(13, 2);
        {
            let narrow_data = narrow_vars.data().lock().unwrap();
            let wide_data = wide_vars.data().lock().unwrap();
            for (name, var) in wide_data.iter() {
                let widened = widen(name, narrow_data[name].as_tensor(), var.as_tensor()).unwrap();
                assert_eq!(widened.dims(), var.dims(), "{name}");
                var.set(&widened).unwrap();
            }
        }
        let n_input = narrow.config().n_input();
        let x = Tensor::randn(0f32, 1.0, (7, 2, n_input), &Device::Cpu).unwrap();
        let expected = narrow.forward(&x, None).unwrap();
        let got = wide.forward(&x, None).unwrap();
        let max_diff = (expected - got)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(max_diff < 1e-5, "logits differ by {max_diff}");
    }

    #[test]
    fn new_units_are_active_and_old_units_ignore_them() {
        let source = Tensor::ones((2, 3), DType::F32, &Device::Cpu).unwrap();
        let fresh = Tensor::full(5f32, (4, 5), &Device::Cpu).unwrap();
        let widened = widen("layer_2.weight", &source, &fresh).unwrap();
        assert_eq!(
            widened.to_vec2::<f32>().unwrap(),
            vec![
                vec![1., 1., 1., 0., 0.],
                vec![1., 1., 1., 0., 0.],
                vec![5., 5., 5., 5., 5.],
                vec![5., 5., 5., 5., 5.],
            ]
        );
    }

    #[test]
    fn narrowing_is_refused() {
        let source = Tensor::ones((4, 4), DType::F32, &Device::Cpu).unwrap();
        let fresh = Tensor::ones((2, 2), DType::F32, &Device::Cpu).unwrap();
        let error = widen("layer_2.weight", &source, &fresh).unwrap_err();
        assert!(error.to_string().contains("cannot widen"), "{error}");
    }
}
