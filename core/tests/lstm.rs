//! The fused LSTM against candle_nn's step-by-step LSTM sharing the very same weights:
//! outputs, gradients of a scalar loss w.r.t. the input and all four weight tensors, chained
//! streaming chunks, a given initial state, a second backward over one graph, and errors.

use candle::{DType, Device, Tensor, Var};
use candle_nn::rnn::{LSTMConfig, LSTMState, RNN};
use candle_nn::{VarBuilder, VarMap};
use deepspeech_core::model::lstm::{Lstm, LstmState};

/// Deterministic pseudo-random values in `[-scale, scale)` (candle cannot seed its CPU RNG).
fn rand(shape: impl Into<candle::Shape>, scale: f32, seed: u64) -> candle::Result<Tensor> {
    let shape = shape.into();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let values: Vec<f32> = (0..shape.elem_count())
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect();
    Tensor::from_vec(values, shape, &Device::Cpu)
}

const NAMES: [&str; 4] = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"];

/// Both layers built over one `VarMap`, every weight (biases too) set to random values.
struct Pair {
    map: VarMap,
    fused: Lstm,
    reference: candle_nn::LSTM,
}

fn pair(input: usize, hidden: usize, seed: u64) -> candle::Result<Pair> {
    let dev = Device::Cpu;
    let map = VarMap::new();
    let vb = VarBuilder::from_varmap(&map, DType::F32, &dev);
    let fused = Lstm::new(input, hidden, vb.pp("lstm"))?;
    let reference = candle_nn::lstm(input, hidden, LSTMConfig::default(), vb.pp("lstm"))?;
    for (k, name) in NAMES.iter().enumerate() {
        let var = map.data().lock().unwrap()[&format!("lstm.{name}")].clone();
        var.set(&rand(var.shape(), 0.8, seed + k as u64)?)?;
    }
    Ok(Pair {
        map,
        fused,
        reference,
    })
}

impl Pair {
    fn var(&self, name: &str) -> Var {
        self.map.data().lock().unwrap()[&format!("lstm.{name}")].clone()
    }

    /// candle_nn stepped over time (it wants batch-major input), back to `[T, B, H]`.
    fn reference_forward(&self, x: &Tensor, init: Option<&LstmState>) -> candle::Result<Tensor> {
        let xb = x.transpose(0, 1)?.contiguous()?;
        let states = match init {
            None => self.reference.seq(&xb)?,
            Some(s) => {
                let s = LSTMState::new(s.h.clone(), s.c.clone());
                self.reference.seq_init(&xb, &s)?
            }
        };
        self.reference.states_to_tensor(&states)?.transpose(0, 1)
    }
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> candle::Result<f32> {
    (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
}

fn max_abs(a: &Tensor) -> candle::Result<f32> {
    a.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
}

/// Max |fused − reference| of the outputs, and max relative error of each gradient
/// (x, then the weights in `NAMES` order), for the loss `Σ h_seq ⊙ r`.
fn compare(
    p: &Pair,
    t: usize,
    b: usize,
    i: usize,
    init: Option<&LstmState>,
) -> candle::Result<(f32, Vec<f32>)> {
    let x = Var::from_tensor(&rand((t, b, i), 1.0, 100)?)?;
    let r = rand((t, b, p.fused.hidden()), 1.0, 101)?;
    let fused = p.fused.forward_with_state(x.as_tensor(), init)?.0;
    let reference = p.reference_forward(x.as_tensor(), init)?;
    let out_err = max_abs_diff(&fused, &reference)?;
    let gf = (&fused * &r)?.sum_all()?.backward()?;
    let gr = (&reference * &r)?.sum_all()?.backward()?;
    let mut tensors = vec![x.as_tensor().clone()];
    tensors.extend(NAMES.iter().map(|n| p.var(n).as_tensor().clone()));
    let mut errs = Vec::new();
    for v in &tensors {
        let (a, e) = (gf.get(v).expect("fused grad"), gr.get(v).expect("ref grad"));
        errs.push(max_abs_diff(a, e)? / max_abs(e)?.max(1e-6));
    }
    Ok((out_err, errs))
}

fn check(t: usize, b: usize, i: usize, h: usize, with_state: bool) -> candle::Result<()> {
    let p = pair(i, h, 42)?;
    let init = LstmState {
        h: rand((b, h), 0.5, 102)?,
        c: rand((b, h), 0.5, 103)?,
    };
    let (out_err, grad_errs) = compare(&p, t, b, i, with_state.then_some(&init))?;
    println!("T={t} B={b} I={i} H={h} state={with_state}: output max abs diff {out_err:e}");
    for (name, e) in ["x"].iter().chain(NAMES.iter()).zip(&grad_errs) {
        println!("  grad {name}: max rel diff {e:e}");
    }
    assert!(out_err <= 1e-5, "output differs by {out_err}");
    for e in grad_errs {
        assert!(e <= 1e-4, "gradient differs by {e} (relative)");
    }
    Ok(())
}

#[test]
fn matches_candle_nn_small() -> candle::Result<()> {
    check(7, 3, 5, 4, false)
}

#[test]
fn matches_candle_nn_bigger() -> candle::Result<()> {
    check(50, 4, 20, 16, false)
}

#[test]
fn matches_candle_nn_from_a_given_state() -> candle::Result<()> {
    check(9, 2, 6, 8, true)
}

#[test]
fn matches_candle_nn_single_step() -> candle::Result<()> {
    check(1, 2, 3, 5, false)?;
    check(1, 2, 3, 5, true)
}

/// Large enough for the per-step GEMMs to run multi-threaded.
#[test]
fn matches_candle_nn_multithreaded_gemm() -> candle::Result<()> {
    check(20, 4, 32, 128, false)
}

#[test]
fn chained_chunks_equal_whole_sequence_exactly() -> candle::Result<()> {
    chained_equals_whole(50, 4, 20, 16)?;
    chained_equals_whole(50, 4, 32, 128)
}

/// Splits T = 50 into chunks of 7, 0, 30 and 13 steps chained through the state.
fn chained_equals_whole(t: usize, b: usize, i: usize, h: usize) -> candle::Result<()> {
    let p = pair(i, h, 7)?;
    let x = rand((t, b, i), 1.0, 104)?;
    let whole = p.fused.forward(&x)?;
    // Inference (plain tensors, lean path) and training (Var weights, saving path) both.
    let plain = Lstm::new(i, h, plain_vb(&p.map))?;
    for layer in [&p.fused, &plain] {
        let mut state: Option<LstmState> = None;
        let mut outs = Vec::new();
        for (start, len) in [(0, 7), (7, 0), (7, 30), (37, 13)] {
            let (out, s) = layer.forward_with_state(&x.narrow(0, start, len)?, state.as_ref())?;
            outs.push(out);
            state = Some(s);
        }
        let chained = Tensor::cat(&outs, 0)?;
        assert_eq!(max_abs_diff(&chained, &whole)?, 0.0);
        let last = whole.get(t - 1)?;
        assert_eq!(max_abs_diff(&state.unwrap().h, &last)?, 0.0);
    }
    Ok(())
}

/// A VarBuilder over plain (untracked) copies of the VarMap's tensors, as loaded for inference.
fn plain_vb(map: &VarMap) -> VarBuilder<'static> {
    let tensors = map
        .data()
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.strip_prefix("lstm.").unwrap().to_string(),
                v.as_tensor().detach(),
            )
        })
        .collect();
    VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu)
}

#[test]
fn second_backward_recomputes_and_agrees() -> candle::Result<()> {
    let p = pair(5, 6, 3)?;
    let x = rand((11, 3, 5), 1.0, 105)?;
    let loss = p.fused.forward(&x)?.sqr()?.sum_all()?;
    let w = p.var("weight_hh_l0");
    let first = loss.backward()?.get(&w).unwrap().clone();
    let second = loss.backward()?.get(&w).unwrap().clone();
    assert_eq!(max_abs_diff(&first, &second)?, 0.0);
    Ok(())
}

#[test]
fn unsupported_dtype_is_an_error_not_a_panic() -> candle::Result<()> {
    let p = pair(5, 6, 3)?;
    let x = Tensor::zeros((4, 2, 5), DType::F64, &Device::Cpu)?;
    let err = p.fused.forward(&x).unwrap_err().to_string();
    assert!(err.contains("only f32"), "{err}");
    let bad_state = LstmState {
        h: Tensor::zeros((3, 6), DType::F32, &Device::Cpu)?,
        c: Tensor::zeros((2, 6), DType::F32, &Device::Cpu)?,
    };
    let x = Tensor::zeros((4, 2, 5), DType::F32, &Device::Cpu)?;
    assert!(p.fused.forward_with_state(&x, Some(&bad_state)).is_err());
    Ok(())
}

#[test]
fn weights_use_standard_names_and_init() -> candle::Result<()> {
    let map = VarMap::new();
    let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
    let layer = Lstm::new(10, 25, vb)?;
    assert_eq!(layer.hidden(), 25);
    let data = map.data().lock().unwrap();
    assert_eq!(data["weight_ih_l0"].dims(), &[100, 10]);
    assert_eq!(data["weight_hh_l0"].dims(), &[100, 25]);
    assert_eq!(max_abs(data["bias_ih_l0"].as_tensor())?, 0.0);
    assert_eq!(max_abs(data["bias_hh_l0"].as_tensor())?, 0.0);
    assert!(max_abs(data["weight_hh_l0"].as_tensor())? <= 0.2);
    Ok(())
}
