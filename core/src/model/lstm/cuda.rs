//! The fused LSTM recurrence on an NVIDIA GPU, with the same layouts and arithmetic as
//! [`super::kernel`]: per time step one cuBLAS GEMM (`h_{t-1}·W_hhᵀ` forward,
//! `dGates_t·W_hh` backward) and one fused elementwise kernel (`cell.cu`), all queued on
//! candle's stream, with every buffer allocated once per sequence.
//!
//! GEMMs follow candle's own choice of precision: plain `f32`, or TF32 tensor cores after
//! `candle::cuda::set_gemm_reduced_precision_f32(true)`.

use std::ffi::c_void;

use candle::cuda::cudarc::cublas::{result as cublas, sys as blas};
use candle::cuda::cudarc::driver::{
    CudaFunction, CudaSlice, DevicePtr, LaunchConfig, PushKernelArg,
};
use candle::cuda::{CudaDevice, WrapErr};

use super::kernel::{Dims, InitState};

/// The kernels of `cell.cu`, compiled to PTX by `build.rs`.
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/lstm_cell.ptx"));
/// Name under which candle caches the loaded module.
const MODULE: &str = "deepspeech_lstm_cell";

/// What the backward pass needs, kept on the GPU: activations `[T, B, 4H]`, `c` and `tanh c`
/// (`[T, B, H]` each).
#[derive(Debug)]
pub(super) struct Saved {
    acts: CudaSlice<f32>,
    c: CudaSlice<f32>,
    tc: CudaSlice<f32>,
}

/// Output of [`forward`].
pub(super) struct Forward {
    /// Hidden states `[T, B, H]`.
    pub h_seq: CudaSlice<f32>,
    /// The cell state after the last step `[B, H]`.
    pub c_last: CudaSlice<f32>,
    /// Activations for backward, when asked for.
    pub saved: Option<Saved>,
}

/// Raw device address of element `offset` of a buffer (4-byte floats).
fn at(base: u64, offset: usize) -> u64 {
    base + 4 * offset as u64
}

/// `c = op(a)·op(b)` in cuBLAS's column-major terms, on the device's stream; addresses raw.
struct Gemm {
    transa: bool,
    transb: bool,
    m: usize,
    n: usize,
    k: usize,
    lda: usize,
    ldb: usize,
    ldc: usize,
}

impl Gemm {
    /// Runs `c = op(a)·op(b)` (`beta = 0`).
    fn run(&self, dev: &CudaDevice, a: u64, b: u64, c: u64) -> candle::Result<()> {
        let op = |t: bool| {
            if t {
                blas::cublasOperation_t::CUBLAS_OP_T
            } else {
                blas::cublasOperation_t::CUBLAS_OP_N
            }
        };
        let compute = if candle::cuda::gemm_reduced_precision_f32() {
            blas::cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32
        } else {
            blas::cublasComputeType_t::CUBLAS_COMPUTE_32F
        };
        let (alpha, beta) = (1f32, 0f32);
        let int = |x: usize| {
            i32::try_from(x).map_err(|_| candle::Error::Msg(format!("LSTM: {x} exceeds cuBLAS")))
        };
        let handle = dev.cublas_handle();
        // SAFETY: the callers pass addresses inside live buffers of the sizes the dimensions
        // describe, all on the stream the cuBLAS handle is bound to.
        unsafe {
            cublas::gemm_ex(
                *handle.handle(),
                op(self.transa),
                op(self.transb),
                int(self.m)?,
                int(self.n)?,
                int(self.k)?,
                (&alpha as *const f32).cast::<c_void>(),
                a as *const c_void,
                blas::cudaDataType_t::CUDA_R_32F,
                int(self.lda)?,
                b as *const c_void,
                blas::cudaDataType_t::CUDA_R_32F,
                int(self.ldb)?,
                (&beta as *const f32).cast::<c_void>(),
                c as *mut c_void,
                blas::cudaDataType_t::CUDA_R_32F,
                int(self.ldc)?,
                compute,
                blas::cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT_TENSOR_OP,
            )
        }
        .w()
    }
}

/// `rec[B, 4H] = h_prev[B, H]·W_hhᵀ` (`W_hh` row-major `[4H, H]`).
fn recurrent_forward(
    dev: &CudaDevice,
    d: Dims,
    h_prev: u64,
    w_hh: u64,
    rec: u64,
) -> candle::Result<()> {
    let gemm = Gemm {
        transa: true,
        transb: false,
        m: 4 * d.h,
        n: d.b,
        k: d.h,
        lda: d.h,
        ldb: d.h,
        ldc: 4 * d.h,
    };
    gemm.run(dev, w_hh, h_prev, rec)
}

/// `dh[B, H] = dGates[B, 4H]·W_hh`.
fn recurrent_backward(
    dev: &CudaDevice,
    d: Dims,
    d_gates: u64,
    w_hh: u64,
    dh: u64,
) -> candle::Result<()> {
    let gemm = Gemm {
        transa: false,
        transb: false,
        m: d.h,
        n: d.b,
        k: 4 * d.h,
        lda: d.h,
        ldb: 4 * d.h,
        ldc: d.h,
    };
    gemm.run(dev, w_hh, d_gates, dh)
}

/// One of `cell.cu`'s kernels, looked up once per sequence rather than once per step.
fn kernel(dev: &CudaDevice, name: &str) -> candle::Result<CudaFunction> {
    Ok(dev
        .get_or_load_custom_func(name, MODULE, PTX)?
        .into_cuda_function())
}

/// Launches `func` over `B·H` threads with the given arguments.
fn launch(dev: &CudaDevice, func: &CudaFunction, d: Dims, ptrs: &[u64]) -> candle::Result<()> {
    let n = d.b * d.h;
    let (n_arg, h_arg) = (
        i32::try_from(n)
            .map_err(|_| candle::Error::Msg("LSTM: batch × hidden too large".into()))?,
        d.h as i32,
    );
    let stream = dev.cuda_stream();
    let mut builder = stream.launch_builder(func);
    builder.arg(&n_arg);
    builder.arg(&h_arg);
    for p in ptrs {
        builder.arg(p);
    }
    // SAFETY: the kernels take (n, hidden) and then exactly the pointers each caller passes,
    // every one inside a live buffer of the size the kernel indexes (or 0 where it allows null).
    unsafe { builder.launch(LaunchConfig::for_num_elems(n as u32)) }.w()?;
    Ok(())
}

/// Allocates `len` uninitialised floats (every element is written before it is read).
fn alloc(dev: &CudaDevice, len: usize) -> candle::Result<CudaSlice<f32>> {
    // SAFETY: f32 has no invalid bit patterns, and callers write before reading.
    unsafe { dev.alloc::<f32>(len.max(1)) }
}

/// Copies the initial state to the GPU.
fn upload(dev: &CudaDevice, init: &InitState) -> candle::Result<(CudaSlice<f32>, CudaSlice<f32>)> {
    Ok((dev.clone_htod(&init.h)?, dev.clone_htod(&init.c)?))
}

/// Runs the recurrence over the whole sequence; `gx` and `w_hh` are the contiguous operands'
/// device addresses. With `save`, keeps what [`backward`] needs (`T·B·6H` floats); without, uses
/// one step of scratch.
pub(super) fn forward(
    dev: &CudaDevice,
    d: Dims,
    gx: u64,
    w_hh: u64,
    init: Option<&InitState>,
    save: bool,
) -> candle::Result<Forward> {
    let (gs, ss) = (d.b * 4 * d.h, d.b * d.h);
    let stream = dev.cuda_stream();
    let init = init.map(|s| upload(dev, s)).transpose()?;
    let init_ptrs = init
        .as_ref()
        .map(|(h, c)| (h.device_ptr(&stream), c.device_ptr(&stream)));
    let h_seq = alloc(dev, d.t * ss)?;
    let rec = alloc(dev, gs)?;
    let (acts, c, tc) = if save {
        (
            alloc(dev, d.t * gs)?,
            alloc(dev, d.t * ss)?,
            alloc(dev, d.t * ss)?,
        )
    } else {
        // Lean: no activations kept, `c` alternates between two halves.
        (alloc(dev, 1)?, alloc(dev, 2 * ss)?, alloc(dev, 1)?)
    };
    {
        let (h_seq_p, _g1) = h_seq.device_ptr(&stream);
        let (rec_p, _g2) = rec.device_ptr(&stream);
        let (acts_p, _g3) = acts.device_ptr(&stream);
        let (c_p, _g4) = c.device_ptr(&stream);
        let (tc_p, _g5) = tc.device_ptr(&stream);
        let c_at = |t: usize| {
            if save {
                at(c_p, t * ss)
            } else {
                at(c_p, (t % 2) * ss)
            }
        };
        let cell = kernel(dev, "lstm_cell_forward")?;
        for t in 0..d.t {
            let h_prev = match (t, &init_ptrs) {
                (0, None) => None,
                (0, Some(((h, _), _))) => Some(*h),
                _ => Some(at(h_seq_p, (t - 1) * ss)),
            };
            let c_prev = match (t, &init_ptrs) {
                (0, None) => 0,
                (0, Some((_, (c, _)))) => *c,
                _ => c_at(t - 1),
            };
            let rec_arg = match h_prev {
                Some(hp) => {
                    recurrent_forward(dev, d, hp, w_hh, rec_p)?;
                    rec_p
                }
                None => 0,
            };
            let (tc_out, acts_out) = if save {
                (at(tc_p, t * ss), at(acts_p, t * gs))
            } else {
                (0, 0)
            };
            launch(
                dev,
                &cell,
                d,
                &[
                    at(gx, t * gs),
                    rec_arg,
                    c_prev,
                    c_at(t),
                    tc_out,
                    at(h_seq_p, t * ss),
                    acts_out,
                ],
            )?;
        }
    }
    let c_last = last_cell(dev, d, &c, save, init.as_ref().map(|(_, c)| c))?;
    let saved = save.then_some(Saved { acts, c, tc });
    Ok(Forward {
        h_seq,
        c_last,
        saved,
    })
}

/// The cell state after the last step, as its own buffer.
fn last_cell(
    dev: &CudaDevice,
    d: Dims,
    c: &CudaSlice<f32>,
    save: bool,
    init_c: Option<&CudaSlice<f32>>,
) -> candle::Result<CudaSlice<f32>> {
    let ss = d.b * d.h;
    let stream = dev.cuda_stream();
    if d.t == 0 {
        return match init_c {
            Some(c0) => stream.clone_dtod(c0).w(),
            None => stream.alloc_zeros::<f32>(ss.max(1)).w(),
        };
    }
    let start = if save {
        (d.t - 1) * ss
    } else {
        ((d.t - 1) % 2) * ss
    };
    stream.clone_dtod(&c.slice(start..start + ss)).w()
}

/// Backpropagation through time on the GPU: turns `saved.acts` in place into the gradient of
/// `gx` (`[T, B, 4H]`) and returns it. `grad_h` is the contiguous loss gradient of `h_seq`.
/// The gradient of `W_hh` is one GEMM over the result, left to the caller.
pub(super) fn backward(
    dev: &CudaDevice,
    d: Dims,
    saved: Saved,
    w_hh: u64,
    grad_h: u64,
    init: Option<&InitState>,
) -> candle::Result<CudaSlice<f32>> {
    let (gs, ss) = (d.b * 4 * d.h, d.b * d.h);
    let stream = dev.cuda_stream();
    let init_c = init.map(|s| dev.clone_htod(&s.c)).transpose()?;
    let Saved { acts, c, tc } = saved;
    let dh_rec = alloc(dev, ss)?;
    let dc = stream.alloc_zeros::<f32>(ss.max(1)).w()?;
    {
        let (acts_p, _g1) = acts.device_ptr(&stream);
        let (c_p, _g2) = c.device_ptr(&stream);
        let (tc_p, _g3) = tc.device_ptr(&stream);
        let (dh_p, _g4) = dh_rec.device_ptr(&stream);
        let (dc_p, _g5) = dc.device_ptr(&stream);
        let init_c_p = init_c.as_ref().map(|c0| c0.device_ptr(&stream));
        let cell = kernel(dev, "lstm_cell_backward")?;
        for t in (0..d.t).rev() {
            let c_prev = match (t, &init_c_p) {
                (0, None) => 0,
                (0, Some((c0, _))) => *c0,
                _ => at(c_p, (t - 1) * ss),
            };
            let dh_in = if t + 1 < d.t { dh_p } else { 0 };
            launch(
                dev,
                &cell,
                d,
                &[
                    at(acts_p, t * gs),
                    at(grad_h, t * ss),
                    dh_in,
                    dc_p,
                    at(tc_p, t * ss),
                    c_prev,
                ],
            )?;
            if t > 0 {
                recurrent_backward(dev, d, at(acts_p, t * gs), w_hh, dh_p)?;
            }
        }
    }
    Ok(acts)
}

/// The `f32` elements of a contiguous operand of a candle op.
pub(super) fn operand<'a>(
    s: &'a candle::CudaStorage,
    l: &candle::Layout,
    what: &str,
) -> candle::Result<candle::cuda::cudarc::driver::CudaView<'a, f32>> {
    let Some((start, end)) = l.contiguous_offsets() else {
        candle::bail!("LSTM recurrence: {what} must be contiguous");
    };
    Ok(s.as_cuda_slice::<f32>()?.slice(start..end))
}
