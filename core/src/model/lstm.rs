//! A fused, trainable LSTM layer (DeepSpeech's unidirectional recurrent layer).
//!
//! Stepping `candle_nn::LSTM` over a sequence builds a graph of `T` narrows, matmuls and
//! elementwise ops; its backward allocates a full-sequence zero tensor per slice and is very slow.
//! [`Lstm`] instead splits the layer in two:
//!
//! 1. the input projection for all steps at once, `gx = x·W_ihᵀ + b_ih + b_hh` (`[T, B, 4H]`),
//!    with ordinary candle ops, so candle's autograd differentiates it w.r.t. `x`, `W_ih` and the
//!    biases;
//! 2. the recurrence as one candle [`CustomOp2`] on `(gx, W_hh) → h_seq`, whose forward runs one
//!    GEMM (`gemm` crate) plus one fused elementwise pass per step, and whose backward is a
//!    hand-written backpropagation through time (one GEMM per step, plus one large GEMM for
//!    `dW_hh` at the end).
//!
//! **What backward needs** (gate activations, `c_t`, `tanh c_t`: `T·B·6H` floats) is saved by the
//! forward pass in the op itself (an `Arc<Mutex<Option<…>>>` filled by `cpu_fwd`, taken by `bwd`).
//! Saving costs one extra pass of memory traffic; recomputing would repeat every step's GEMM and
//! transcendental functions, i.e. about the whole forward pass, so saving is the faster choice.
//! Backward then overwrites the saved activations in place with the gate gradients, which *are*
//! the gradient of `gx`, so it allocates almost nothing. If backward runs a second time on the same
//! graph (the cache is already consumed), it recomputes the forward pass, so results stay correct.
//! Nothing is saved when neither `gx` nor `W_hh` tracks gradients (inference): then only one step
//! of scratch is used.
//!
//! On an NVIDIA GPU (the `cuda` feature) the same op runs [`cuda`]'s kernels: per step one
//! cuBLAS GEMM and one fused elementwise kernel, activations kept on the GPU; the gradient of
//! `W_hh` is then one candle matmul over the whole sequence.
//!
//! Only `f32` is implemented; other dtypes return a clear error.

#[cfg(feature = "cuda")]
mod cuda;
mod kernel;

use std::sync::{Arc, Mutex, MutexGuard};

use candle::backend::BackendStorage;
use candle::{CpuStorage, CustomOp2, DType, Device, Layout, Shape, Storage, Tensor};
use candle_nn::{Init, VarBuilder};

use kernel::{Dims, InitState, Saved};

/// A unidirectional LSTM layer, gate order i, f, g, o (PyTorch / candle_nn):
/// `c' = f·c + i·g`, `h' = o·tanh(c')`.
///
/// Weights are named as candle_nn and PyTorch name them, so safetensors keys are standard:
/// `weight_ih_l0` `[4H, I]`, `weight_hh_l0` `[4H, H]`, `bias_ih_l0` `[4H]`, `bias_hh_l0` `[4H]`.
#[derive(Clone, Debug)]
pub struct Lstm {
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    hidden: usize,
}

/// The recurrent state between chunks of a stream: hidden `h` and cell `c`, each `[B, H]`.
#[derive(Clone, Debug)]
pub struct LstmState {
    /// Hidden state `[B, H]`.
    pub h: Tensor,
    /// Cell state `[B, H]`.
    pub c: Tensor,
}

impl Lstm {
    /// Creates (or loads, depending on `vb`) a layer with `input` inputs and `hidden` units.
    ///
    /// New weights are drawn from `U(-1/√H, 1/√H)` as in PyTorch; new biases are zero
    /// (DeepSpeech trains with `forget_bias = 0`).
    pub fn new(input: usize, hidden: usize, vb: VarBuilder) -> candle::Result<Self> {
        if hidden == 0 {
            candle::bail!("LSTM: hidden size must be positive");
        }
        let k = 1.0 / (hidden as f64).sqrt();
        let uniform = Init::Uniform { lo: -k, up: k };
        let zero = Init::Const(0.0);
        Ok(Lstm {
            w_ih: vb.get_with_hints((4 * hidden, input), "weight_ih_l0", uniform)?,
            w_hh: vb.get_with_hints((4 * hidden, hidden), "weight_hh_l0", uniform)?,
            b_ih: vb.get_with_hints(4 * hidden, "bias_ih_l0", zero)?,
            b_hh: vb.get_with_hints(4 * hidden, "bias_hh_l0", zero)?,
            hidden,
        })
    }

    /// Number of hidden units `H`.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Runs the layer over `x` (`[T, B, I]`, time-major) from a zero state and returns every
    /// hidden state, `[T, B, H]`.
    ///
    /// Differentiable w.r.t. `x` and all four weight tensors.
    pub fn forward(&self, x: &Tensor) -> candle::Result<Tensor> {
        Ok(self.run(x, None, false)?.0)
    }

    /// Like [`Lstm::forward`], but starting from `state` (zero when `None`), and also returning
    /// the state after the last step.
    ///
    /// Chaining chunks through the returned state gives exactly (bit for bit) the numbers of
    /// [`Lstm::forward`] on the whole sequence. The output stays differentiable w.r.t. `x` and
    /// the weights; the initial state is treated as a constant and the returned state is
    /// detached from the graph.
    pub fn forward_with_state(
        &self,
        x: &Tensor,
        state: Option<&LstmState>,
    ) -> candle::Result<(Tensor, LstmState)> {
        self.run(x, state, true)
    }

    /// The recurrence from `state`; the final cell state is read back only when `keep_state`
    /// (on a GPU that is a copy to the host, which training's [`Lstm::forward`] never needs).
    fn run(
        &self,
        x: &Tensor,
        state: Option<&LstmState>,
        keep_state: bool,
    ) -> candle::Result<(Tensor, LstmState)> {
        check_f32(x)?;
        let (t, b, _) = x.dims3()?;
        let init = state.map(|s| self.init_state(s, b)).transpose()?;
        if t == 0 {
            return self.empty_sequence(b, x.device(), state);
        }
        let gx = self.input_projection(x)?;
        let w_hh = self.w_hh.contiguous()?;
        let op = Recurrence::new(
            self.hidden,
            init.map(Arc::new),
            gx.track_op() || w_hh.track_op(),
            keep_state,
        );
        let shared = op.shared.clone();
        let h_seq = if op.save {
            gx.apply_op2_arc(&w_hh, Arc::new(Box::new(op)))?
        } else {
            gx.apply_op2_no_bwd(&w_hh, &op)?
        };
        let c_last = lock(&shared).c_last.take();
        let c = match c_last {
            Some(c) => Tensor::from_vec(c, (b, self.hidden), x.device())?,
            None => Tensor::zeros((b, self.hidden), DType::F32, x.device())?,
        };
        let state = LstmState {
            h: h_seq.get(t - 1)?.detach().contiguous()?,
            c,
        };
        Ok((h_seq, state))
    }

    /// `x·W_ihᵀ + b_ih + b_hh` for all steps at once, `[T, B, 4H]`, contiguous.
    fn input_projection(&self, x: &Tensor) -> candle::Result<Tensor> {
        let (t, b, i) = x.dims3()?;
        let bias = (&self.b_ih + &self.b_hh)?;
        x.reshape((t * b, i))?
            .matmul(&self.w_ih.t()?)?
            .broadcast_add(&bias)?
            .reshape((t, b, 4 * self.hidden))?
            .contiguous()
    }

    /// Copies a given initial state out of its tensors, checking its shape.
    fn init_state(&self, s: &LstmState, batch: usize) -> candle::Result<InitState> {
        let want = (batch, self.hidden);
        for (name, v) in [("h", &s.h), ("c", &s.c)] {
            if v.dims2()? != want {
                candle::bail!(
                    "LSTM state {name}: expected shape {want:?}, got {:?}",
                    v.dims()
                );
            }
            check_f32(v)?;
        }
        let flat = |v: &Tensor| v.flatten_all()?.to_vec1::<f32>();
        Ok(InitState {
            h: flat(&s.h)?,
            c: flat(&s.c)?,
        })
    }

    /// Output and state for a zero-length input.
    fn empty_sequence(
        &self,
        b: usize,
        device: &Device,
        state: Option<&LstmState>,
    ) -> candle::Result<(Tensor, LstmState)> {
        let out = Tensor::zeros((0, b, self.hidden), DType::F32, device)?;
        let state = match state {
            Some(s) => s.clone(),
            None => {
                let z = Tensor::zeros((b, self.hidden), DType::F32, device)?;
                LstmState { h: z.clone(), c: z }
            }
        };
        Ok((out, state))
    }
}

/// The clear error for tensors this `f32` implementation cannot take (CPU, or CUDA in builds
/// with the `cuda` feature).
fn check_f32(x: &Tensor) -> candle::Result<()> {
    let device_ok = x.device().is_cpu() || (cfg!(feature = "cuda") && x.device().is_cuda());
    if !device_ok || x.dtype() != DType::F32 {
        candle::bail!(
            "fused LSTM: only f32 tensors on the CPU or a CUDA GPU are supported, got {:?} on {:?}",
            x.dtype(),
            x.device().location()
        );
    }
    Ok(())
}

/// Locks a mutex, ignoring poisoning (the data is plain buffers, valid whatever happened).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// State shared between the op's forward and backward and its caller.
#[derive(Debug, Default)]
struct Shared {
    /// Activations saved by `cpu_fwd` for `bwd` (taken by the first backward).
    saved: Option<Saved>,
    /// Activations saved by `cuda_fwd`, on the GPU.
    #[cfg(feature = "cuda")]
    saved_cuda: Option<cuda::Saved>,
    /// Final cell state, taken by [`Lstm::forward_with_state`].
    c_last: Option<Vec<f32>>,
}

/// The recurrence `(gx [T,B,4H], W_hh [4H,H]) → h_seq [T,B,H]` as a candle custom op.
#[derive(Debug)]
struct Recurrence {
    hidden: usize,
    init: Option<Arc<InitState>>,
    /// Whether forward keeps what backward needs.
    save: bool,
    /// Whether forward hands back the final cell state.
    keep_state: bool,
    shared: Arc<Mutex<Shared>>,
}

impl Recurrence {
    /// A new op with an empty cache.
    fn new(hidden: usize, init: Option<Arc<InitState>>, save: bool, keep_state: bool) -> Self {
        Recurrence {
            hidden,
            init,
            save,
            keep_state,
            shared: Arc::default(),
        }
    }

    /// Checks the operands' shapes and returns the sequence sizes.
    fn dims(&self, gx: &Shape, w_hh: &Shape) -> candle::Result<Dims> {
        let (t, b, g) = gx.dims3()?;
        let h = self.hidden;
        if g != 4 * h || w_hh.dims2()? != (4 * h, h) {
            candle::bail!(
                "LSTM recurrence: bad shapes gx {gx:?}, w_hh {w_hh:?} for hidden size {h}"
            );
        }
        if let Some(s) = &self.init
            && (s.h.len() != b * h || s.c.len() != b * h)
        {
            candle::bail!("LSTM recurrence: initial state does not match batch {b} × hidden {h}");
        }
        Ok(Dims { t, b, h })
    }
}

/// The `f32` contents of a contiguous CPU storage.
fn cpu_f32<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> candle::Result<&'a [f32]> {
    let CpuStorage::F32(data) = s else {
        candle::bail!("LSTM recurrence: {what} must be f32, got {:?}", s.dtype());
    };
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle::bail!("LSTM recurrence: {what} must be contiguous"),
    }
}

/// Calls `f` with the `f32` contents of `t` (a CPU tensor), made contiguous first if needed.
fn with_f32<R>(t: &Tensor, what: &str, f: impl FnOnce(&[f32]) -> R) -> candle::Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        candle::bail!("LSTM recurrence: {what} must be on the CPU");
    };
    Ok(f(cpu_f32(cpu, layout, what)?))
}

impl CustomOp2 for Recurrence {
    fn name(&self) -> &'static str {
        "fused-lstm-recurrence"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle::Result<(CpuStorage, Shape)> {
        let dims = self.dims(l1.shape(), l2.shape())?;
        let gx = cpu_f32(s1, l1, "gx")?;
        let w_hh = cpu_f32(s2, l2, "w_hh")?;
        let out = kernel::forward(dims, gx, w_hh, self.init.as_deref(), self.save);
        let mut shared = lock(&self.shared);
        shared.saved = out.saved;
        if self.keep_state {
            shared.c_last = Some(out.c_last);
        }
        Ok((CpuStorage::F32(out.h_seq), (dims.t, dims.b, dims.h).into()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle::CudaStorage,
        l1: &Layout,
        s2: &candle::CudaStorage,
        l2: &Layout,
    ) -> candle::Result<(candle::CudaStorage, Shape)> {
        let dims = self.dims(l1.shape(), l2.shape())?;
        let dev = &s1.device;
        let stream = dev.cuda_stream();
        let gx = cuda::operand(s1, l1, "gx")?;
        let w_hh = cuda::operand(s2, l2, "w_hh")?;
        let (gx_p, _g1) = candle::cuda::cudarc::driver::DevicePtr::device_ptr(&gx, &stream);
        let (w_p, _g2) = candle::cuda::cudarc::driver::DevicePtr::device_ptr(&w_hh, &stream);
        let out = cuda::forward(dev, dims, gx_p, w_p, self.init.as_deref(), self.save)?;
        let mut shared = lock(&self.shared);
        shared.saved_cuda = out.saved;
        if self.keep_state {
            shared.c_last = Some(
                stream
                    .clone_dtoh(&out.c_last)
                    .map_err(candle::Error::wrap)?,
            );
        }
        let storage = candle::CudaStorage::wrap_cuda_slice(out.h_seq, dev.clone());
        Ok((storage, (dims.t, dims.b, dims.h).into()))
    }

    fn bwd(
        &self,
        gx: &Tensor,
        w_hh: &Tensor,
        h_seq: &Tensor,
        grad: &Tensor,
    ) -> candle::Result<(Option<Tensor>, Option<Tensor>)> {
        let dims = self.dims(gx.shape(), w_hh.shape())?;
        #[cfg(feature = "cuda")]
        if gx.device().is_cuda() {
            return self.bwd_cuda(dims, gx, w_hh, h_seq, grad);
        }
        let init = self.init.as_deref();
        let cached = lock(&self.shared).saved.take();
        let saved = match cached {
            Some(s) => s,
            None => recompute(dims, gx, w_hh, init)?,
        };
        let grads = with_f32(w_hh, "w_hh", |w| {
            with_f32(h_seq, "h_seq", |h| {
                with_f32(grad, "grad", |g| {
                    kernel::backward(dims, saved, w, h, g, init)
                })
            })
        })???;
        let dev = gx.device();
        let d_gx = Tensor::from_vec(grads.gx, gx.shape(), dev)?;
        let d_w = Tensor::from_vec(grads.w_hh, w_hh.shape(), dev)?;
        Ok((Some(d_gx), Some(d_w)))
    }
}

/// Re-runs the forward pass to rebuild the activations (second backward over one graph).
fn recompute(
    dims: Dims,
    gx: &Tensor,
    w_hh: &Tensor,
    init: Option<&InitState>,
) -> candle::Result<Saved> {
    let out = with_f32(gx, "gx", |g| {
        with_f32(w_hh, "w_hh", |w| kernel::forward(dims, g, w, init, true))
    })??;
    out.saved
        .ok_or_else(|| candle::Error::Msg("LSTM recurrence: nothing saved".into()))
}

#[cfg(feature = "cuda")]
impl Recurrence {
    /// Backward on the GPU: the BPTT kernels give `d gx`; `d W_hh = Σ_t dGates_tᵀ·h_{t-1}` is
    /// one matmul over the whole sequence.
    fn bwd_cuda(
        &self,
        dims: Dims,
        gx: &Tensor,
        w_hh: &Tensor,
        h_seq: &Tensor,
        grad: &Tensor,
    ) -> candle::Result<(Option<Tensor>, Option<Tensor>)> {
        let Dims { t, b, h } = dims;
        let op = CudaBackward {
            dims,
            init: self.init.clone(),
            saved: Mutex::new(lock(&self.shared).saved_cuda.take()),
        };
        let d_gx = gx.apply_op3_no_bwd(&w_hh.contiguous()?, &grad.contiguous()?, &op)?;
        let h0 = match &self.init {
            Some(s) => Tensor::from_slice(&s.h, (1, b, h), gx.device())?,
            None => Tensor::zeros((1, b, h), DType::F32, gx.device())?,
        };
        let h_prev = Tensor::cat(&[&h0, &h_seq.narrow(0, 0, t - 1)?], 0)?.reshape((t * b, h))?;
        let d_w = d_gx.reshape((t * b, 4 * h))?.t()?.matmul(&h_prev)?;
        Ok((Some(d_gx), Some(d_w)))
    }
}

/// Backpropagation through time on the GPU, `(gx, W_hh, dL/dh_seq) → dL/dgx`, as a candle op
/// without its own gradient. Uses the activations the forward pass kept, or recomputes them.
#[cfg(feature = "cuda")]
struct CudaBackward {
    dims: Dims,
    init: Option<Arc<InitState>>,
    saved: Mutex<Option<cuda::Saved>>,
}

#[cfg(feature = "cuda")]
impl candle::CustomOp3 for CudaBackward {
    fn name(&self) -> &'static str {
        "fused-lstm-recurrence-backward"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> candle::Result<(CpuStorage, Shape)> {
        candle::bail!("fused-lstm-recurrence-backward runs on CUDA tensors only")
    }

    fn cuda_fwd(
        &self,
        s1: &candle::CudaStorage,
        l1: &Layout,
        s2: &candle::CudaStorage,
        l2: &Layout,
        s3: &candle::CudaStorage,
        l3: &Layout,
    ) -> candle::Result<(candle::CudaStorage, Shape)> {
        use candle::cuda::cudarc::driver::DevicePtr;
        let dev = &s1.device;
        let stream = dev.cuda_stream();
        let gx = cuda::operand(s1, l1, "gx")?;
        let w_hh = cuda::operand(s2, l2, "w_hh")?;
        let grad = cuda::operand(s3, l3, "grad")?;
        let (w_p, _g2) = w_hh.device_ptr(&stream);
        let (grad_p, _g3) = grad.device_ptr(&stream);
        let init = self.init.as_deref();
        let cached = lock(&self.saved).take();
        let saved = match cached {
            Some(s) => s,
            None => {
                let (gx_p, _g1) = gx.device_ptr(&stream);
                cuda::forward(dev, self.dims, gx_p, w_p, init, true)?
                    .saved
                    .ok_or_else(|| candle::Error::Msg("LSTM recurrence: nothing saved".into()))?
            }
        };
        let d_gx = cuda::backward(dev, self.dims, saved, w_p, grad_p, init)?;
        let Dims { t, b, h } = self.dims;
        Ok((
            candle::CudaStorage::wrap_cuda_slice(d_gx, dev.clone()),
            (t, b, 4 * h).into(),
        ))
    }
}
