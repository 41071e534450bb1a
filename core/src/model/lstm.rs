//! TEMPORARY step-by-step LSTM with the fused LSTM's API; replaced by the fused op on merge.

use candle::{D, Tensor};
use candle_nn::VarBuilder;

/// LSTM state.
#[derive(Debug, Clone)]
pub struct LstmState {
    /// Hidden state [B, H].
    pub h: Tensor,
    /// Cell state [B, H].
    pub c: Tensor,
}

/// Step-by-step LSTM.
#[derive(Debug, Clone)]
pub struct Lstm {
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    hidden: usize,
}

impl Lstm {
    /// New LSTM.
    pub fn new(input: usize, hidden: usize, vb: VarBuilder) -> candle::Result<Self> {
        let k = 1.0 / (hidden as f64).sqrt();
        let init = candle_nn::Init::Uniform { lo: -k, up: k };
        Ok(Self {
            w_ih: vb.get_with_hints((4 * hidden, input), "weight_ih_l0", init)?,
            w_hh: vb.get_with_hints((4 * hidden, hidden), "weight_hh_l0", init)?,
            b_ih: vb.get_with_hints(4 * hidden, "bias_ih_l0", candle_nn::Init::Const(0.0))?,
            b_hh: vb.get_with_hints(4 * hidden, "bias_hh_l0", candle_nn::Init::Const(0.0))?,
            hidden,
        })
    }

    /// Hidden size.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Forward from zero state.
    pub fn forward(&self, x: &Tensor) -> candle::Result<Tensor> {
        Ok(self.forward_with_state(x, None)?.0)
    }

    /// Forward from a state.
    pub fn forward_with_state(
        &self,
        x: &Tensor,
        state: Option<&LstmState>,
    ) -> candle::Result<(Tensor, LstmState)> {
        let (t, b, i) = x.dims3()?;
        let h4 = 4 * self.hidden;
        let gx = x
            .reshape((t * b, i))?
            .matmul(&self.w_ih.t()?)?
            .broadcast_add(&(&self.b_ih + &self.b_hh)?)?
            .reshape((t, b, h4))?;
        let (mut h, mut c) = match state {
            Some(s) => (s.h.clone(), s.c.clone()),
            None => {
                let z = Tensor::zeros((b, self.hidden), x.dtype(), x.device())?;
                (z.clone(), z)
            }
        };
        let mut outs = Vec::with_capacity(t);
        for step in 0..t {
            let g = (gx.get(step)? + h.matmul(&self.w_hh.t()?)?)?;
            let chunks = g.chunk(4, D::Minus1)?;
            let ig = candle_nn::ops::sigmoid(&chunks[0])?;
            let fg = candle_nn::ops::sigmoid(&chunks[1])?;
            let gg = chunks[2].tanh()?;
            let og = candle_nn::ops::sigmoid(&chunks[3])?;
            c = ((fg * &c)? + (ig * gg)?)?;
            h = (og * c.tanh()?)?;
            outs.push(h.clone());
        }
        Ok((Tensor::stack(&outs, 0)?, LstmState { h, c }))
    }
}
