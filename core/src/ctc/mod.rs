//! Connectionist Temporal Classification loss, differentiable through candle.
//!
//! [`ctc_loss`] computes, like `tf.nn.ctc_loss(labels, logits, label_length, logit_length,
//! logits_time_major=True, blank_index=C-1)` (what DeepSpeech trains with), the per-example
//! negative log-likelihood `-log p(target | logits)` of time-major logits `[T, B, C]`; the
//! log-softmax is applied inside. The loss is a candle custom op: the forward pass runs the
//! log-space forward–backward recursions in `f64` for every batch item in parallel and keeps the
//! gradient (TensorFlow's `softmax − occupancy posterior`), so `Tensor::backward` costs one
//! multiplication.
//!
//! ```
//! use candle::{Device, Var};
//! use deepspeech_core::ctc::{ctc_loss, CtcOptions, Impossible};
//! let logits = Var::zeros((4, 1, 3), candle::DType::F32, &Device::Cpu)?; // T=4, B=1, C=3
//! let options = CtcOptions { blank: 2, impossible: Impossible::Error };
//! let loss = ctc_loss(logits.as_tensor(), &[vec![0, 1]], &[4], &options)?;
//! let grads = loss.sum_all()?.backward()?;
//! assert_eq!(grads.get(logits.as_tensor()).unwrap().dims(), [4, 1, 3]);
//! # Ok::<(), deepspeech_core::Error>(())
//! ```

mod kernel;
#[cfg(test)]
mod tests;

use std::sync::Mutex;

use candle::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

pub use kernel::required_frames;
use kernel::{ItemLogits, Workspace};

use crate::error::{CtcError, Result};

/// What to do with an example whose target cannot be aligned to its input (T too short for
/// the labels plus the blanks required between repeated labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Impossible {
    /// Refuse the whole batch with [`CtcError::Impossible`].
    #[default]
    Error,
    /// Give the item loss 0 and gradient 0, like DeepSpeech's
    /// `ignore_longer_outputs_than_inputs=True`.
    ZeroLoss,
}

/// Options of [`ctc_loss`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtcOptions {
    /// Index of the blank class (DeepSpeech: the last one, `C - 1`).
    pub blank: usize,
    /// Policy for targets too long for their input.
    pub impossible: Impossible,
}

/// The loss of a batch and the items that were skipped.
#[derive(Debug, Clone)]
pub struct CtcOutput {
    /// Per-example negative log-likelihood, shape `[B]`, differentiable w.r.t. the logits.
    pub loss: Tensor,
    /// Batch indices of the items whose target could not be aligned (loss and gradient 0);
    /// always empty under [`Impossible::Error`].
    pub impossible: Vec<usize>,
}

/// logits: [T, B, C] f32 (time-major, as DeepSpeech; log-softmax is applied inside, like tf.nn.ctc_loss with logits).
/// targets: one label sequence per batch item (labels < C, never the blank); input_lengths: valid frames per item (<= T; frames past the length are padding and get zero gradient).
/// Returns the per-example negative log-likelihood, shape [B], differentiable w.r.t. logits (Tensor::backward works through it).
///
/// Errors ([`crate::Error::Ctc`]): logits not `[T, B, C]`, not `f32`, or on a device other than the CPU or CUDA;
/// `targets` or `input_lengths` not of length `B`; a label `>= C` or equal to the blank; an
/// input length `> T`; under [`Impossible::Error`], a target that needs more frames than its
/// input has ([`required_frames`]).
pub fn ctc_loss(
    logits: &Tensor,
    targets: &[Vec<u32>],
    input_lengths: &[usize],
    options: &CtcOptions,
) -> Result<Tensor> {
    Ok(ctc_loss_with_report(logits, targets, input_lengths, options)?.loss)
}

/// [`ctc_loss`] that also reports which items were impossible (for [`Impossible::ZeroLoss`]) so
/// the trainer can count them.
pub fn ctc_loss_with_report(
    logits: &Tensor,
    targets: &[Vec<u32>],
    input_lengths: &[usize],
    options: &CtcOptions,
) -> Result<CtcOutput> {
    // On a GPU the logits come to the CPU and the loss goes back: the recursions are
    // sequential in time and small (`[T, B, C]` with C = 29), and both copies are differentiable,
    // so the gradient returns to the GPU the same way. BENCHMARKS.md measures the round trip.
    let device = logits.device().clone();
    let logits = &if device.is_cuda() {
        logits.to_device(&candle::Device::Cpu)?
    } else {
        logits.clone()
    };
    let dims = validate(logits, targets, input_lengths, options.blank)?;
    let impossible = impossible_items(targets, input_lengths, options.impossible)?;
    let op = CtcOp {
        dims,
        targets: targets.to_vec(),
        input_lengths: input_lengths.to_vec(),
        skipped: (0..dims.1).map(|b| impossible.contains(&b)).collect(),
        blank: options.blank,
        grad: Mutex::new(None),
    };
    let loss = logits.contiguous()?.apply_op1(op)?.to_device(&device)?;
    Ok(CtcOutput { loss, impossible })
}

/// Checks shapes, dtype, device, labels and lengths; returns `(T, B, C)`.
fn validate(
    logits: &Tensor,
    targets: &[Vec<u32>],
    input_lengths: &[usize],
    blank: usize,
) -> Result<(usize, usize, usize)> {
    let &[frames, batch, classes] = logits.dims() else {
        return Err(CtcError::Shape {
            shape: logits.dims().to_vec(),
        }
        .into());
    };
    if logits.dtype() != DType::F32 || !logits.device().is_cpu() {
        return Err(CtcError::Unsupported {
            dtype: logits.dtype(),
            device: format!("{:?}", logits.device().location()),
        }
        .into());
    }
    if blank >= classes {
        return Err(CtcError::BlankOutOfRange { blank, classes }.into());
    }
    for (what, len) in [
        ("targets", targets.len()),
        ("input_lengths", input_lengths.len()),
    ] {
        if len != batch {
            return Err(CtcError::BatchMismatch { what, len, batch }.into());
        }
    }
    for (item, (target, &length)) in targets.iter().zip(input_lengths).enumerate() {
        if length > frames {
            return Err(CtcError::InputTooLong {
                item,
                length,
                frames,
            }
            .into());
        }
        validate_labels(item, target, classes, blank)?;
    }
    Ok((frames, batch, classes))
}

/// Every label must be a class other than the blank.
fn validate_labels(item: usize, target: &[u32], classes: usize, blank: usize) -> Result<()> {
    for (position, &label) in target.iter().enumerate() {
        let label = label as usize;
        if label >= classes || label == blank {
            return Err(CtcError::InvalidLabel {
                item,
                position,
                label,
                classes,
                blank,
            }
            .into());
        }
    }
    Ok(())
}

/// Items whose target needs more frames than they have, or the error under [`Impossible::Error`].
fn impossible_items(
    targets: &[Vec<u32>],
    input_lengths: &[usize],
    policy: Impossible,
) -> Result<Vec<usize>> {
    let mut items = Vec::new();
    for (item, (target, &available)) in targets.iter().zip(input_lengths).enumerate() {
        let required = required_frames(target);
        if required <= available {
            continue;
        }
        match policy {
            Impossible::Error => {
                return Err(CtcError::Impossible {
                    item,
                    target_len: target.len(),
                    required,
                    available,
                }
                .into());
            }
            Impossible::ZeroLoss => items.push(item),
        }
    }
    Ok(items)
}

/// The custom op: forward computes losses and gradients, backward scales the kept gradient.
struct CtcOp {
    /// `(T, B, C)`, checked by [`validate`].
    dims: (usize, usize, usize),
    targets: Vec<Vec<u32>>,
    input_lengths: Vec<usize>,
    /// Items given loss 0 and gradient 0.
    skipped: Vec<bool>,
    blank: usize,
    /// d loss_b / d logits laid out `[B, T, C]` (each item contiguous), set by the forward pass.
    grad: Mutex<Option<Vec<f32>>>,
}

impl CtcOp {
    /// Loss of item `b` from the contiguous `[T, B, C]` logits, its gradient written into
    /// `grad` (`[T, C]`, already zero).
    fn item(&self, ws: &mut Workspace, logits: &[f32], b: usize, grad: &mut [f32]) -> f32 {
        let (_, batch, classes) = self.dims;
        if self.skipped[b] {
            return 0.0;
        }
        let item = ItemLogits {
            data: &logits[b * classes..],
            stride: batch * classes,
            frames: self.input_lengths[b],
            classes,
        };
        ws.nll(&item, &self.targets[b], self.blank, Some((grad, classes))) as f32
    }
}

impl CustomOp1 for CtcOp {
    fn name(&self) -> &'static str {
        "ctc-loss"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle::Result<(CpuStorage, Shape)> {
        let (frames, batch, classes) = self.dims;
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle::bail!("ctc-loss: logits must be contiguous");
        };
        if layout.dims() != [frames, batch, classes] {
            candle::bail!("ctc-loss: logits shape {:?} changed", layout.dims());
        }
        let logits = &storage.as_slice::<f32>()?[start..end];
        let mut grad = vec![0f32; batch * frames * classes];
        let losses: Vec<f32> = if grad.is_empty() {
            // T = 0: only empty targets get here (p = 1); there is nothing to chunk.
            let mut ws = Workspace::default();
            (0..batch)
                .map(|b| self.item(&mut ws, logits, b, &mut []))
                .collect()
        } else {
            grad.par_chunks_mut(frames * classes)
                .enumerate()
                .map_init(Workspace::default, |ws, (b, g)| self.item(ws, logits, b, g))
                .collect()
        };
        *self.grad.lock().expect("ctc-loss gradient lock poisoned") = Some(grad);
        Ok((CpuStorage::F32(losses), Shape::from(batch)))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle::Result<Option<Tensor>> {
        let (frames, batch, classes) = self.dims;
        let scale: Vec<f32> = grad_res.to_dtype(DType::F32)?.to_vec1()?;
        let guard = self.grad.lock().expect("ctc-loss gradient lock poisoned");
        let Some(grad) = guard.as_ref() else {
            candle::bail!("ctc-loss: backward before forward");
        };
        // [B, T, C] per-item gradients, scaled and laid out time-major in one pass.
        let mut out = vec![0f32; frames * batch * classes];
        if classes > 0 {
            for (t, row) in out.chunks_mut(batch * classes).enumerate() {
                for (b, cell) in row.chunks_mut(classes).enumerate() {
                    let src = &grad[(b * frames + t) * classes..][..classes];
                    cell.iter_mut()
                        .zip(src)
                        .for_each(|(o, &g)| *o = g * scale[b]);
                }
            }
        }
        Ok(Some(Tensor::from_vec(
            out,
            (frames, batch, classes),
            arg.device(),
        )?))
    }
}
