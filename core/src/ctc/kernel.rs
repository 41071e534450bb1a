//! The per-item CTC forward–backward pass in log space (f64), independent of candle.
//!
//! States are the extended label sequence of length `S = 2L + 1`: a blank before every label and
//! one at the end (`ext[s]` is the blank for even `s`, label `(s-1)/2` for odd `s`). A path may
//! stay in a state, move to the next one, or skip a blank between two *different* labels.
//!
//! * `alpha[t][s]`: log-probability of all path prefixes `0..=t` that end in state `s`
//!   (emission at `t` included);
//! * `beta[t][s]`: log-probability of all path suffixes `t+1..T` that start from state `s` at `t`
//!   (emission at `t` excluded), so `alpha[t][s] + beta[t][s] - log p` is the posterior
//!   occupancy of state `s` at `t`, and the occupancies of every frame sum to one.
//!
//! The gradient of `-log p` with respect to the logits of frame `t` is TensorFlow's
//! `softmax(logits_t) - occupancy_t`, where `occupancy_t[c]` sums the posteriors of the states
//! that emit class `c`.

/// Reusable buffers for one item; one per rayon task, so the batch allocates a handful of times.
#[derive(Default)]
pub(crate) struct Workspace {
    /// Log-softmax of the item's logits, `[Tb, C]`.
    log_probs: Vec<f64>,
    /// Forward variables, `[Tb, S]`.
    alpha: Vec<f64>,
    /// Backward variables of the current frame, `[S]`.
    beta: Vec<f64>,
    /// Emission-included backward variables of the following frame, `[S]`.
    beta_emit: Vec<f64>,
    /// Class emitted by each state, `[S]`.
    ext: Vec<usize>,
    /// Whether state `s` may be entered from `s - 2` (a label different from the one before).
    skip: Vec<bool>,
    /// Per-class occupancy of the current frame, `[C]`.
    occupancy: Vec<f64>,
    /// `exp(row - max)` of the row being propagated, `[S]` (see [`relative_exp`]).
    linear: Vec<f64>,
}

/// Below this, a sum of `exp(x - max)` terms has lost relative precision (or underflowed): the
/// cell is recomputed exactly in log space.
const TINY: f64 = 1e-250;

/// `linear[s] = exp(row[s] - max)` for `s` in `lo..hi` (0 elsewhere); returns `max` over the band.
///
/// One `exp` per state instead of two or three per `log_add3`; the callers fall back to the exact
/// log-space sum for the rare cells whose terms are all below [`TINY`] relative to the maximum.
fn relative_exp(row: &[f64], linear: &mut [f64], lo: usize, hi: usize) -> f64 {
    let max = row[lo..hi]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    linear.fill(0.0);
    if max > f64::NEG_INFINITY {
        for (l, &r) in linear[lo..hi].iter_mut().zip(&row[lo..hi]) {
            *l = (r - max).exp();
        }
    }
    max
}

/// `log(exp(a) + exp(b) + exp(c))` from the linear values of [`relative_exp`] when they are
/// precise enough, else exactly from the log values.
#[inline]
fn combine(max: f64, linear_sum: f64, exact: impl FnOnce() -> f64) -> f64 {
    if linear_sum >= TINY {
        max + linear_sum.ln()
    } else {
        exact()
    }
}

/// One item's frames: `frames` rows of `classes` logits, row `t` starting at `t * stride`.
pub(crate) struct ItemLogits<'a, F> {
    /// The values (row `t` is `data[t * stride..t * stride + classes]`).
    pub data: &'a [F],
    /// Distance between consecutive frames in `data`.
    pub stride: usize,
    /// Valid frames (the item's input length).
    pub frames: usize,
    /// Number of classes, blank included.
    pub classes: usize,
}

/// `log(exp(a) + exp(b))`, exact for infinite arguments.
#[inline]
fn log_add(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + (-(a - b).abs()).exp().ln_1p()
}

/// `log(exp(a) + exp(b) + exp(c))`, exact for infinite arguments.
#[inline]
fn log_add3(a: f64, b: f64, c: f64) -> f64 {
    let m = a.max(b).max(c);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp() + (c - m).exp()).ln()
}

/// Stable log-softmax of one row into `out`.
fn log_softmax_row<F: Copy + Into<f64>>(row: &[F], out: &mut [f64]) {
    let max = row
        .iter()
        .map(|&x| x.into())
        .fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = row.iter().map(|&x| (x.into() - max).exp()).sum();
    let log_norm = max + sum.ln();
    for (o, &x) in out.iter_mut().zip(row) {
        *o = x.into() - log_norm;
    }
}

/// Minimal number of frames that can carry `target`: one per label plus a blank between each
/// pair of equal neighbours.
pub fn required_frames(target: &[u32]) -> usize {
    target.len() + target.windows(2).filter(|w| w[0] == w[1]).count()
}

impl Workspace {
    /// Sizes the buffers for `frames × classes` logits and `target`, and fills the state tables.
    fn prepare(&mut self, frames: usize, classes: usize, target: &[u32], blank: usize) {
        let states = 2 * target.len() + 1;
        self.log_probs.resize(frames * classes, 0.0);
        self.alpha.clear();
        self.alpha.resize(frames * states, f64::NEG_INFINITY);
        self.beta.resize(states, f64::NEG_INFINITY);
        self.beta_emit.resize(states, f64::NEG_INFINITY);
        self.occupancy.resize(classes, 0.0);
        self.linear.resize(states, 0.0);
        self.ext.clear();
        self.ext.extend((0..states).map(|s| {
            if s % 2 == 0 {
                blank
            } else {
                target[s / 2] as usize
            }
        }));
        self.skip.clear();
        self.skip
            .extend((0..states).map(|s| s >= 2 && s % 2 == 1 && self.ext[s] != self.ext[s - 2]));
    }

    /// Lowest state that can still reach the end at frame `t` of `frames`.
    fn band_low(states: usize, frames: usize, t: usize) -> usize {
        states.saturating_sub(2 * (frames - t))
    }

    /// Highest state reachable at frame `t`, plus one.
    fn band_high(states: usize, t: usize) -> usize {
        states.min(2 * t + 2)
    }

    /// Forward recursion; returns `log p(target | x)`.
    fn forward(&mut self, frames: usize, classes: usize) -> f64 {
        let states = self.ext.len();
        let (lp, alpha) = (&self.log_probs, &mut self.alpha);
        alpha[0] = lp[self.ext[0]];
        if states > 1 {
            alpha[1] = lp[self.ext[1]];
        }
        for t in 1..frames {
            let (prev, cur) = alpha[(t - 1) * states..(t + 1) * states].split_at_mut(states);
            let row = &lp[t * classes..(t + 1) * classes];
            let max = relative_exp(
                prev,
                &mut self.linear,
                Self::band_low(states, frames, t - 1),
                Self::band_high(states, t - 1),
            );
            let lin = &self.linear;
            for s in Self::band_low(states, frames, t)..Self::band_high(states, t) {
                let next = if s >= 1 {
                    prev[s - 1]
                } else {
                    f64::NEG_INFINITY
                };
                let lin_next = if s >= 1 { lin[s - 1] } else { 0.0 };
                let sum = if self.skip[s] {
                    combine(max, lin[s] + lin_next + lin[s - 2], || {
                        log_add3(prev[s], next, prev[s - 2])
                    })
                } else {
                    combine(max, lin[s] + lin_next, || log_add(prev[s], next))
                };
                cur[s] = sum + row[self.ext[s]];
            }
        }
        let last = &alpha[(frames - 1) * states..frames * states];
        if states > 1 {
            log_add(last[states - 1], last[states - 2])
        } else {
            last[0]
        }
    }

    /// Backward recursion fused with the gradient: writes `softmax - occupancy` for every valid
    /// frame into `grad` (row `t` at `t * stride`).
    fn backward_into(
        &mut self,
        frames: usize,
        classes: usize,
        log_likelihood: f64,
        grad: &mut [f32],
        stride: usize,
    ) {
        let states = self.ext.len();
        self.beta.fill(f64::NEG_INFINITY);
        self.beta[states - 1] = 0.0;
        if states > 1 {
            self.beta[states - 2] = 0.0;
        }
        for t in (0..frames).rev() {
            let (lo, hi) = (
                Self::band_low(states, frames, t),
                Self::band_high(states, t),
            );
            self.frame_gradient(t, lo, hi, classes, log_likelihood, grad, stride);
            if t == 0 {
                break;
            }
            self.step_back(t, (lo, hi), frames, classes);
        }
    }

    /// `grad[t] = softmax - occupancy` from `alpha[t]` and `beta` (= `beta[t]`).
    #[allow(clippy::too_many_arguments)]
    fn frame_gradient(
        &mut self,
        t: usize,
        lo: usize,
        hi: usize,
        classes: usize,
        log_likelihood: f64,
        grad: &mut [f32],
        stride: usize,
    ) {
        let states = self.ext.len();
        let alpha = &self.alpha[t * states..(t + 1) * states];
        self.occupancy.fill(0.0);
        let cells = alpha[lo..hi].iter().zip(&self.beta[lo..hi]);
        for ((&a, &b), &class) in cells.zip(&self.ext[lo..hi]) {
            let log_post = a + b - log_likelihood;
            if log_post > -745.0 {
                self.occupancy[class] += log_post.exp();
            }
        }
        let lp = &self.log_probs[t * classes..(t + 1) * classes];
        let out = &mut grad[t * stride..t * stride + classes];
        for ((g, &l), &o) in out.iter_mut().zip(lp).zip(&self.occupancy) {
            *g = (l.exp() - o) as f32;
        }
    }

    /// Turns `beta[t]` into `beta[t - 1]`, for the states of frame `t`'s band `lo..hi`.
    fn step_back(&mut self, t: usize, (lo, hi): (usize, usize), frames: usize, classes: usize) {
        let states = self.ext.len();
        let lp = &self.log_probs[t * classes..(t + 1) * classes];
        self.beta_emit.fill(f64::NEG_INFINITY);
        for s in lo..hi {
            self.beta_emit[s] = self.beta[s] + lp[self.ext[s]];
        }
        let be = &self.beta_emit;
        // States outside frame t-1's band have -inf alpha or cannot reach the end: skip them.
        let (lo_prev, hi_prev) = (
            Self::band_low(states, frames, t - 1),
            Self::band_high(states, t - 1),
        );
        let max = relative_exp(be, &mut self.linear, lo, hi);
        let lin = &self.linear;
        self.beta.fill(f64::NEG_INFINITY);
        for s in lo_prev..hi_prev {
            let (next, lin_next) = if s + 1 < states {
                (be[s + 1], lin[s + 1])
            } else {
                (f64::NEG_INFINITY, 0.0)
            };
            self.beta[s] = if s + 2 < states && self.skip[s + 2] {
                combine(max, lin[s] + lin_next + lin[s + 2], || {
                    log_add3(be[s], next, be[s + 2])
                })
            } else {
                combine(max, lin[s] + lin_next, || log_add(be[s], next))
            };
        }
    }

    /// Negative log-likelihood of `target` given `logits`; when `grad` is given, also writes
    /// d(nll)/d(logits) for the valid frames (row `t` at `t * grad_stride`, `classes` wide).
    ///
    /// The caller has checked that the target fits (`required_frames(target) <= frames`) and that
    /// labels are valid classes other than the blank.
    pub(crate) fn nll<F: Copy + Into<f64>>(
        &mut self,
        logits: &ItemLogits<'_, F>,
        target: &[u32],
        blank: usize,
        grad: Option<(&mut [f32], usize)>,
    ) -> f64 {
        let (frames, classes) = (logits.frames, logits.classes);
        if frames == 0 {
            return 0.0; // only an empty target fits in zero frames: p = 1
        }
        self.prepare(frames, classes, target, blank);
        for t in 0..frames {
            let row = &logits.data[t * logits.stride..t * logits.stride + classes];
            log_softmax_row(row, &mut self.log_probs[t * classes..(t + 1) * classes]);
        }
        let log_likelihood = self.forward(frames, classes);
        if let Some((grad, stride)) = grad {
            self.backward_into(frames, classes, log_likelihood, grad, stride);
        }
        -log_likelihood
    }
}
