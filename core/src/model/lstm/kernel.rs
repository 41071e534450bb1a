//! The CPU numerics of the fused LSTM recurrence: plain `f32` slices in, plain `f32` slices out.
//!
//! Layouts (all row-major, contiguous):
//! - `gx`: the input projection plus both biases, `[T, B, 4H]`, gates in the order i, f, g, o;
//! - `w_hh`: the recurrent weights `[4H, H]` (PyTorch / candle_nn layout);
//! - `h_seq`: the hidden states `[T, B, H]`;
//! - states `h`, `c`: `[B, H]`.
//!
//! Every time step costs one GEMM (`[B, H] × [H, 4H]` forward, `[B, 4H] × [4H, H]` backward) and one
//! fused elementwise pass; all buffers are allocated once per sequence, never per step.

use gemm::Parallelism;

/// Sizes of one sequence: `t` steps, `b` sequences in the batch, `h` hidden units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Dims {
    /// Time steps.
    pub t: usize,
    /// Batch size.
    pub b: usize,
    /// Hidden units.
    pub h: usize,
}

impl Dims {
    /// Floats in one step's gates, `B · 4H`.
    fn gates_step(self) -> usize {
        self.b * 4 * self.h
    }

    /// Floats in one step's state, `B · H`.
    fn state_step(self) -> usize {
        self.b * self.h
    }
}

/// A constant initial state (no gradient flows into it), each `[B, H]`.
#[derive(Debug)]
pub(super) struct InitState {
    /// Initial hidden state.
    pub h: Vec<f32>,
    /// Initial cell state.
    pub c: Vec<f32>,
}

/// What the backward pass needs from the forward pass.
#[derive(Debug)]
pub(super) struct Saved {
    /// Gate activations after their nonlinearity (σ(i), σ(f), tanh(g), σ(o)), `[T, B, 4H]`.
    pub acts: Vec<f32>,
    /// Cell states `c_t`, `[T, B, H]`.
    pub c: Vec<f32>,
    /// `tanh(c_t)`, `[T, B, H]` (kept so that backward evaluates no transcendental function).
    pub tc: Vec<f32>,
}

/// Output of [`forward`].
pub(super) struct Forward {
    /// Hidden states `[T, B, H]`.
    pub h_seq: Vec<f32>,
    /// Final cell state `[B, H]`.
    pub c_last: Vec<f32>,
    /// Activations for backward, when asked for.
    pub saved: Option<Saved>,
}

/// A strided view of a matrix inside a slice: element `(r, c)` sits at `r · rs + c · cs`.
#[derive(Clone, Copy, Debug)]
struct Mat {
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl Mat {
    /// A contiguous row-major `rows × cols` matrix.
    fn rows(rows: usize, cols: usize) -> Self {
        Mat {
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose, as a view of the same memory.
    fn t(self) -> Self {
        Mat {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// One past the largest offset the view touches.
    fn span(self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.rs + (self.cols - 1) * self.cs + 1
        }
    }
}

/// Below this many multiply-adds a GEMM runs on one thread (thread hand-off would cost more).
/// Measured at T=300, B=16, H=512 on 2 cores: the per-step `[16, 512] × [512, 2048]` GEMM is
/// still about 10 % faster on both cores.
const PARALLEL_MIN_MACS: usize = 1 << 18;

/// `dst = lhs · rhs` (or `dst += lhs · rhs` when `accumulate`), through the `gemm` crate.
///
/// Shapes and bounds are checked (a mismatch is a bug in this module, hence a panic), so the
/// unsafe call below only ever reads and writes inside the three slices.
fn matmul(dst: &mut [f32], d: Mat, lhs: &[f32], l: Mat, rhs: &[f32], r: Mat, accumulate: bool) {
    assert!(d.rows == l.rows && d.cols == r.cols && l.cols == r.rows);
    assert!(d.span() <= dst.len() && l.span() <= lhs.len() && r.span() <= rhs.len());
    let (m, n, k) = (d.rows, d.cols, l.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..d.span()].fill(0.0);
        }
        return;
    }
    let threads = candle::utils::get_num_threads();
    let parallelism = if threads > 1 && m * n * k >= PARALLEL_MIN_MACS {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the asserts above keep every accessed element inside its slice; `dst` is a unique
    // borrow, so it aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            d.cs as isize,
            d.rs as isize,
            accumulate,
            lhs.as_ptr(),
            l.cs as isize,
            l.rs as isize,
            rhs.as_ptr(),
            r.cs as isize,
            r.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// `tanh`, as a branch-free rational approximation that the compiler vectorises (libm's `tanhf`
/// is a scalar call): Eigen's `ptanh_float` minimax fit, a degree-13 odd over a degree-6 even
/// polynomial on `[-7.9053, 7.9053]` (beyond which `tanh` rounds to ±1 in `f32`), with `x`
/// itself returned for tiny inputs. Absolute error below 5e-7 (about 6 ulp near ±1; tested against `f64`).
#[inline(always)]
fn tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    let xc = x.clamp(-CLAMP, CLAMP);
    let x2 = xc * xc;
    let p = -2.760_768_5e-16_f32;
    let p = p.mul_add(x2, 2.000_188e-13);
    let p = p.mul_add(x2, -8.604_672e-11);
    let p = p.mul_add(x2, 5.122_297e-8);
    let p = p.mul_add(x2, 1.485_722_4e-5);
    let p = p.mul_add(x2, 6.372_619_3e-4);
    let p = p.mul_add(x2, 4.893_524_6e-3);
    let q = 1.198_258_4e-6_f32;
    let q = q.mul_add(x2, 1.185_347_1e-4);
    let q = q.mul_add(x2, 2.268_434_6e-3);
    let q = q.mul_add(x2, 4.893_525e-3);
    let r = xc * p / q;
    if x.abs() < 4e-4 { x } else { r }
}

/// The logistic function, `σ(x) = (1 + tanh(x/2)) / 2`.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    0.5f32.mul_add(tanh(0.5 * x), 0.5)
}

/// Splits one batch row of gates `[4H]` into its four `[H]` parts (i, f, g, o).
#[inline(always)]
fn split4(row: &mut [f32], h: usize) -> [&mut [f32]; 4] {
    let (i, rest) = row.split_at_mut(h);
    let (f, rest) = rest.split_at_mut(h);
    let (g, o) = rest.split_at_mut(h);
    [i, f, g, o]
}

/// The fused elementwise part of one forward step, for the whole batch (`hsz` hidden units).
///
/// `pre` holds the pre-activations `[B, 4H]` on entry and the activations on exit;
/// `c_prev` is `[B, H]` (zeros at the start); writes `c`, `tanh(c)` and `h`, each `[B, H]`.
///
/// [`tanh`] is built on `f32::mul_add`, which the default `x86_64` target (no FMA) compiles to a
/// call of the software `fmaf` per coefficient, so the loop neither vectorises nor runs fast.
/// On CPUs with AVX2 and FMA (checked at run time, once per call) the same code runs compiled for
/// them: hardware FMA rounds exactly as `fmaf` does, so the results are bit-identical either way.
fn cell_forward(
    hsz: usize,
    pre: &mut [f32],
    c_prev: &[f32],
    c: &mut [f32],
    tc: &mut [f32],
    h: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features the function is compiled for (checked above).
        unsafe { cell_forward_avx2_fma(hsz, pre, c_prev, c, tc, h) };
        return;
    }
    cell_forward_portable(hsz, pre, c_prev, c, tc, h);
}

/// [`cell_forward_portable`] compiled for AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn cell_forward_avx2_fma(
    hsz: usize,
    pre: &mut [f32],
    c_prev: &[f32],
    c: &mut [f32],
    tc: &mut [f32],
    h: &mut [f32],
) {
    cell_forward_portable(hsz, pre, c_prev, c, tc, h);
}

/// The body of [`cell_forward`], inlined into each instruction-set variant.
#[inline(always)]
fn cell_forward_portable(
    hsz: usize,
    pre: &mut [f32],
    c_prev: &[f32],
    c: &mut [f32],
    tc: &mut [f32],
    h: &mut [f32],
) {
    let rows = pre
        .chunks_exact_mut(4 * hsz)
        .zip(c_prev.chunks_exact(hsz))
        .zip(c.chunks_exact_mut(hsz))
        .zip(tc.chunks_exact_mut(hsz))
        .zip(h.chunks_exact_mut(hsz));
    for ((((row, cp), c), tc), h) in rows {
        let [gi, gf, gg, go] = split4(row, hsz);
        for j in 0..hsz {
            let i = sigmoid(gi[j]);
            let f = sigmoid(gf[j]);
            let g = tanh(gg[j]);
            let o = sigmoid(go[j]);
            let cj = f * cp[j] + i * g;
            let t = tanh(cj);
            (gi[j], gf[j], gg[j], go[j]) = (i, f, g, o);
            c[j] = cj;
            tc[j] = t;
            h[j] = o * t;
        }
    }
}

/// The fused elementwise part of one backward step, for the whole batch (`hsz` hidden units).
///
/// On entry `acts` holds this step's gate activations `[B, 4H]`, on exit the gradient of the
/// pre-activations (= the gradient of this step's slice of `gx`). `dh_out` is the loss gradient
/// of `h_t`, `dh_rec` the gradient arriving through `h_t → h_{t+1}`; `dc` carries the gradient of
/// `c_t` in and of `c_{t-1}` out.
fn cell_backward(
    hsz: usize,
    acts: &mut [f32],
    dh_out: &[f32],
    dh_rec: &[f32],
    dc: &mut [f32],
    tc: &[f32],
    c_prev: &[f32],
) {
    let rows = acts
        .chunks_exact_mut(4 * hsz)
        .zip(dh_out.chunks_exact(hsz))
        .zip(dh_rec.chunks_exact(hsz))
        .zip(dc.chunks_exact_mut(hsz))
        .zip(tc.chunks_exact(hsz))
        .zip(c_prev.chunks_exact(hsz));
    for (((((row, dho), dhr), dc), tc), cp) in rows {
        let [gi, gf, gg, go] = split4(row, hsz);
        for j in 0..hsz {
            let (i, f, g, o) = (gi[j], gf[j], gg[j], go[j]);
            let dh = dho[j] + dhr[j];
            let t = tc[j];
            let dcj = dc[j] + dh * o * (1.0 - t * t);
            gi[j] = dcj * g * i * (1.0 - i);
            gf[j] = dcj * cp[j] * f * (1.0 - f);
            gg[j] = dcj * i * (1.0 - g * g);
            go[j] = dh * t * o * (1.0 - o);
            dc[j] = dcj * f;
        }
    }
}

/// `pre += h_prev · W_hhᵀ` for one step: `[B, H] × [H, 4H]`.
fn add_recurrent(dims: Dims, pre: &mut [f32], h_prev: &[f32], w_hh: &[f32]) {
    let (b, h) = (dims.b, dims.h);
    let w_t = Mat::rows(4 * h, h).t();
    matmul(
        pre,
        Mat::rows(b, 4 * h),
        h_prev,
        Mat::rows(b, h),
        w_hh,
        w_t,
        true,
    );
}

/// Runs the recurrence over the whole sequence.
///
/// With `save`, every step's activations, `c` and `tanh(c)` are kept for [`backward`]
/// (`T·B·6H` floats); without it, only one step of scratch is allocated. Both modes run the very
/// same arithmetic, so they give bit-identical results.
pub(super) fn forward(
    dims: Dims,
    gx: &[f32],
    w_hh: &[f32],
    init: Option<&InitState>,
    save: bool,
) -> Forward {
    if save {
        forward_saving(dims, gx, w_hh, init)
    } else {
        forward_lean(dims, gx, w_hh, init)
    }
}

/// [`forward`] keeping everything backward needs.
fn forward_saving(dims: Dims, gx: &[f32], w_hh: &[f32], init: Option<&InitState>) -> Forward {
    let (gs, ss) = (dims.gates_step(), dims.state_step());
    let mut acts = gx.to_vec();
    let mut c = vec![0f32; dims.t * ss];
    let mut tc = vec![0f32; dims.t * ss];
    let mut h_seq = vec![0f32; dims.t * ss];
    let zeros = vec![0f32; ss];
    for t in 0..dims.t {
        let pre = &mut acts[t * gs..(t + 1) * gs];
        let (h_before, h_now) = h_seq.split_at_mut(t * ss);
        let (c_before, c_now) = c.split_at_mut(t * ss);
        let (h_prev, c_prev) = match (t, init) {
            (0, None) => (None, &zeros[..]),
            (0, Some(s)) => (Some(&s.h[..]), &s.c[..]),
            _ => (Some(&h_before[(t - 1) * ss..]), &c_before[(t - 1) * ss..]),
        };
        if let Some(hp) = h_prev {
            add_recurrent(dims, pre, &hp[..ss], w_hh);
        }
        let tc_now = &mut tc[t * ss..(t + 1) * ss];
        cell_forward(
            dims.h,
            pre,
            &c_prev[..ss],
            &mut c_now[..ss],
            tc_now,
            &mut h_now[..ss],
        );
    }
    let c_last = last_state(&c, dims, init);
    Forward {
        h_seq,
        c_last,
        saved: Some(Saved { acts, c, tc }),
    }
}

/// [`forward`] with one step of scratch (inference and streaming).
fn forward_lean(dims: Dims, gx: &[f32], w_hh: &[f32], init: Option<&InitState>) -> Forward {
    let (gs, ss) = (dims.gates_step(), dims.state_step());
    let mut pre = vec![0f32; gs];
    let mut c_prev = init.map_or_else(|| vec![0f32; ss], |s| s.c.clone());
    let mut c = vec![0f32; ss];
    let mut tc = vec![0f32; ss];
    let mut h_seq = vec![0f32; dims.t * ss];
    for t in 0..dims.t {
        pre.copy_from_slice(&gx[t * gs..(t + 1) * gs]);
        let (h_before, h_now) = h_seq.split_at_mut(t * ss);
        let h_prev = match (t, init) {
            (0, None) => None,
            (0, Some(s)) => Some(&s.h[..]),
            _ => Some(&h_before[(t - 1) * ss..]),
        };
        if let Some(hp) = h_prev {
            add_recurrent(dims, &mut pre, &hp[..ss], w_hh);
        }
        cell_forward(dims.h, &mut pre, &c_prev, &mut c, &mut tc, &mut h_now[..ss]);
        std::mem::swap(&mut c, &mut c_prev);
    }
    Forward {
        h_seq,
        c_last: c_prev,
        saved: None,
    }
}

/// The cell state after the last step (the initial one, or zeros, for an empty sequence).
fn last_state(c: &[f32], dims: Dims, init: Option<&InitState>) -> Vec<f32> {
    let ss = dims.state_step();
    match (dims.t, init) {
        (0, None) => vec![0f32; ss],
        (0, Some(s)) => s.c.clone(),
        (t, _) => c[(t - 1) * ss..t * ss].to_vec(),
    }
}

/// Gradients returned by [`backward`].
pub(super) struct Grads {
    /// Gradient of `gx`, `[T, B, 4H]`.
    pub gx: Vec<f32>,
    /// Gradient of `w_hh`, `[4H, H]`.
    pub w_hh: Vec<f32>,
}

/// Backpropagation through time.
///
/// `saved.acts` is overwritten in place by the pre-activation gradients, which are exactly the
/// gradient of `gx`, so backward allocates only `[B, H]` buffers and `dW_hh`. Per step: the
/// elementwise pass and one GEMM `dh_{t-1} = dGates_t · W_hh`. At the end a single large GEMM
/// `dW_hh = Σ_t dGates_tᵀ · h_{t-1}` = `[4H, (T-1)·B] × [(T-1)·B, H]` (+ the initial-state term).
pub(super) fn backward(
    dims: Dims,
    saved: Saved,
    w_hh: &[f32],
    h_seq: &[f32],
    grad_h: &[f32],
    init: Option<&InitState>,
) -> Grads {
    let (gs, ss, hsz) = (dims.gates_step(), dims.state_step(), dims.h);
    let Saved { mut acts, c, tc } = saved;
    let mut dh_rec = vec![0f32; ss];
    let mut dc = vec![0f32; ss];
    let zeros = vec![0f32; ss];
    for t in (0..dims.t).rev() {
        let c_prev = match (t, init) {
            (0, None) => &zeros[..],
            (0, Some(s)) => &s.c[..],
            _ => &c[(t - 1) * ss..t * ss],
        };
        let dg = &mut acts[t * gs..(t + 1) * gs];
        let step = t * ss..(t + 1) * ss;
        cell_backward(
            hsz,
            dg,
            &grad_h[step.clone()],
            &dh_rec,
            &mut dc,
            &tc[step],
            c_prev,
        );
        if t > 0 {
            let w = Mat::rows(4 * hsz, hsz);
            matmul(
                &mut dh_rec,
                Mat::rows(dims.b, hsz),
                dg,
                Mat::rows(dims.b, 4 * hsz),
                w_hh,
                w,
                false,
            );
        }
    }
    let w_hh_grad = recurrent_weight_grad(dims, &acts, h_seq, init);
    Grads {
        gx: acts,
        w_hh: w_hh_grad,
    }
}

/// `dW_hh = Σ_t dGates_tᵀ · h_{t-1}` as one GEMM over all steps but the first, plus
/// `dGates_0ᵀ · h_init` when the sequence started from a given state.
fn recurrent_weight_grad(
    dims: Dims,
    dgates: &[f32],
    h_seq: &[f32],
    init: Option<&InitState>,
) -> Vec<f32> {
    let (gs, hsz) = (dims.gates_step(), dims.h);
    let mut dw = vec![0f32; 4 * hsz * hsz];
    let d = Mat::rows(4 * hsz, hsz);
    let rows = dims.t.saturating_sub(1) * dims.b;
    let lhs = Mat::rows(rows, 4 * hsz).t();
    let tail = &dgates[gs.min(dgates.len())..];
    matmul(&mut dw, d, tail, lhs, h_seq, Mat::rows(rows, hsz), false);
    if let (Some(s), true) = (init, dims.t > 0) {
        let lhs0 = Mat::rows(dims.b, 4 * hsz).t();
        matmul(
            &mut dw,
            d,
            &dgates[..gs],
            lhs0,
            &s.h,
            Mat::rows(dims.b, hsz),
            true,
        );
    }
    dw
}

#[cfg(test)]
mod tests {
    use super::{sigmoid, tanh};

    /// Max absolute error of `f` against `exact` (in `f64`) on a dense grid over [-20, 20].
    fn max_error(f: fn(f32) -> f32, exact: fn(f64) -> f64) -> f64 {
        (-2_000_000..=2_000_000)
            .map(|k| k as f32 * 1e-5)
            .map(|x| (f(x) as f64 - exact(x as f64)).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn fast_tanh_and_sigmoid_are_accurate() {
        let tanh_err = max_error(tanh, f64::tanh);
        let sigmoid_err = max_error(sigmoid, |x| 1.0 / (1.0 + (-x).exp()));
        assert!(tanh_err < 5e-7, "tanh error {tanh_err:e}");
        assert!(sigmoid_err < 5e-7, "sigmoid error {sigmoid_err:e}");
        assert_eq!(tanh(0.0), 0.0);
        assert!((1.0 - tanh(50.0)) < 5e-7 && tanh(-50.0) == -tanh(50.0));
        assert!(tanh(f32::NAN).is_nan());
    }
}
