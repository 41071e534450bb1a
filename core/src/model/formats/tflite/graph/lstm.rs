//! The unrolled LSTM: one CONCATENATION → FULLY_CONNECTED → SPLIT → gates per time step.

use super::schema::op;
use super::{ACT_NONE, Found, Graph, LSTM_SCOPE, TfliteError, unexpected};

impl Graph<'_, '_> {
    /// The time steps' input tensors, in time order.
    fn lstm_steps(&self, x: usize) -> Result<Vec<usize>, TfliteError> {
        const AT: &str = "the LSTM's input";
        let readers = &self.consumers[x];
        let found = || format!("`{}` read by {}", self.name(x), self.describe_all(readers));
        if let [o] = readers[..]
            && self.code(o) == op::UNPACK
            && self.input(o, 0) == Some(x)
            && !self.op(o).outputs.is_empty()
        {
            return Ok(self.op(o).outputs.iter().map(|&t| t as usize).collect());
        }
        let mut steps = Vec::new();
        for &o in readers {
            if self.code(o) != op::STRIDED_SLICE || self.input(o, 0) != Some(x) {
                return Err(unexpected(
                    AT,
                    found(),
                    "one STRIDED_SLICE per time step (static_rnn's unstack)",
                ));
            }
            let begin = self
                .input(o, 1)
                .ok_or_else(|| unexpected(AT, self.describe(o), "a STRIDED_SLICE with a begin"))?;
            let t = self.first_i32(begin, "a time step's slice start")?;
            steps.push((t, self.output0(o, AT)?));
        }
        steps.sort_unstable();
        let times: Vec<i32> = steps.iter().map(|s| s.0).collect();
        if times.is_empty()
            || times
                .iter()
                .enumerate()
                .any(|(i, &t)| i64::from(t) != i as i64)
        {
            return Err(unexpected(
                AT,
                format!("slices starting at steps {times:?}"),
                "steps 0, 1, 2, …",
            ));
        }
        Ok(steps.into_iter().map(|s| s.1).collect())
    }

    /// The unrolled LSTM from its input `x`: returns the tensor of every step's output, the
    /// forget bias and the number of steps.
    pub(super) fn lstm(
        &self,
        x: usize,
        found: &mut Found,
    ) -> Result<(usize, f32, usize), TfliteError> {
        let x = self.skip_layout(x);
        let steps = self.lstm_steps(x)?;
        let mut shared: Option<(usize, usize)> = None;
        let mut forget_bias = None;
        let (mut h, mut c) = (None, None);
        let mut outputs = Vec::with_capacity(steps.len());
        for (t, &xt) in steps.iter().enumerate() {
            let at = format!("LSTM step {t}");
            let xt = self.skip_layout(xt);
            let cat = self.only_reader(xt, op::CONCATENATION, &at, "CONCATENATION(x_t, h)")?;
            let h_in = match (
                self.op(cat).inputs.len(),
                self.input(cat, 0),
                self.input(cat, 1),
            ) {
                (2, Some(a), Some(b)) if a == xt => b,
                _ => {
                    return Err(unexpected(
                        &at,
                        self.describe(cat),
                        "CONCATENATION of x_t then h",
                    ));
                }
            };
            if let Some(h_prev) = h
                && h_in != h_prev
            {
                return Err(unexpected(
                    &at,
                    format!("`{}` as the previous output", self.name(h_in)),
                    format!("step {}'s output `{}`", t - 1, self.name(h_prev)),
                ));
            }
            let joined = self.output0(cat, &at)?;
            let fc = self.only_reader(
                joined,
                op::FULLY_CONNECTED,
                &at,
                "FULLY_CONNECTED (the LSTM kernel)",
            )?;
            let weights = (self.input(fc, 1), self.input(fc, 2));
            match shared {
                None => {
                    let (w, b, activation) = self.fully_connected(fc, joined, &at)?;
                    if activation != ACT_NONE {
                        return Err(unexpected(
                            &at,
                            format!("fused activation {activation}"),
                            "none on the gates",
                        ));
                    }
                    let (rows, cols) = (w.shape[0], w.shape[1]);
                    if rows % 4 != 0 || cols <= rows / 4 {
                        return Err(unexpected(
                            &at,
                            format!("a kernel of shape {:?}", w.shape),
                            "[4·hidden, inputs + hidden]",
                        ));
                    }
                    found.insert_fully_connected(
                        format!("{LSTM_SCOPE}/kernel"),
                        format!("{LSTM_SCOPE}/bias"),
                        w,
                        b,
                    );
                    if let (Some(w), Some(b)) = weights {
                        shared = Some((w, b));
                    }
                }
                Some((w, b)) => {
                    if self.input(fc, 0) != Some(joined) || weights != (Some(w), Some(b)) {
                        return Err(unexpected(
                            &at,
                            self.describe(fc),
                            format!(
                                "FULLY_CONNECTED with step 0's kernel `{}` and bias `{}`",
                                self.name(w),
                                self.name(b)
                            ),
                        ));
                    }
                }
            }
            found.fully_connected.insert(fc);
            let gates = self.output0(fc, &at)?;
            let (c_in, c_out, h_out, bias) = self.cell(gates, &at)?;
            if let Some(c_prev) = c
                && c_in != c_prev
            {
                return Err(unexpected(
                    &at,
                    format!("`{}` as the previous cell state", self.name(c_in)),
                    format!("step {}'s cell state `{}`", t - 1, self.name(c_prev)),
                ));
            }
            match forget_bias {
                Some(f) if f != bias => {
                    return Err(unexpected(
                        &at,
                        format!("a forget bias of {bias}"),
                        format!("step 0's forget bias {f}"),
                    ));
                }
                _ => forget_bias = Some(bias),
            }
            (h, c) = (Some(h_out), Some(c_out));
            outputs.push(h_out);
        }
        // The steps' outputs joined along time.
        let first = outputs[0];
        let joined = self.consumers[first].iter().copied().find(|&o| {
            matches!(self.code(o), op::CONCATENATION | op::PACK)
                && self
                    .op(o)
                    .inputs
                    .iter()
                    .map(|&t| t as usize)
                    .eq(outputs.iter().copied())
        });
        let out = match joined {
            Some(o) => {
                let axis = self
                    .op(o)
                    .options
                    .map(|t| t.i32(0, 0))
                    .transpose()?
                    .unwrap_or(0);
                if axis != 0 {
                    return Err(unexpected(
                        "the LSTM's output",
                        format!("{} along axis {axis}", self.describe(o)),
                        "the steps joined along axis 0 (time)",
                    ));
                }
                self.output0(o, "the LSTM's output")?
            }
            None if outputs.len() == 1 => first,
            None => {
                return Err(unexpected(
                    "the LSTM's output",
                    format!(
                        "`{}` read by {}",
                        self.name(first),
                        self.describe_all(&self.consumers[first])
                    ),
                    "a CONCATENATION of every step's output",
                ));
            }
        };
        Ok((out, forget_bias.unwrap_or(0.0), steps.len()))
    }

    /// One LSTM cell from its gate pre-activations `[1, 4·hidden]`: checks TensorFlow's
    /// `LSTMCell` structure with the gates in the order i, j, f, o and returns the previous cell
    /// state read, the new cell state, the new output and the forget bias.
    fn cell(&self, gates: usize, at: &str) -> Result<(usize, usize, usize, f32), TfliteError> {
        let split = self.only_reader(gates, op::SPLIT, at, "SPLIT into the 4 gates")?;
        let axis = self
            .input(split, 0)
            .filter(|_| self.input(split, 1) == Some(gates));
        let axis = match axis {
            Some(a) => self.first_i32(a, "the gates' split axis")?,
            None => return Err(unexpected(at, self.describe(split), "SPLIT(axis, gates)")),
        };
        let rank = self.model.tensors[gates].shape.len() as i32;
        let outs = &self.op(split).outputs;
        if !(axis == -1 || axis == rank - 1) || outs.len() != 4 {
            return Err(unexpected(
                at,
                format!(
                    "{} into {} along axis {axis}",
                    self.describe(split),
                    outs.len()
                ),
                "a SPLIT into 4 along the last axis",
            ));
        }
        let g = |k: usize| outs[k] as usize;
        let out = |o: usize| self.output0(o, at);
        let gate = |k: usize, code: i32, what: &str| -> Result<usize, TfliteError> {
            let o = self.reader_of_kind(g(k), code, at, what)?;
            out(o)
        };
        let i = gate(
            0,
            op::LOGISTIC,
            "LOGISTIC (the input gate, TensorFlow's gate 0)",
        )?;
        let j = gate(1, op::TANH, "TANH (the candidate, TensorFlow's gate 1)")?;
        let o = gate(
            3,
            op::LOGISTIC,
            "LOGISTIC (the output gate, TensorFlow's gate 3)",
        )?;
        // The forget gate, with LSTMCell's `+ forget_bias` when the converter kept it.
        let mut f_pre = g(2);
        let mut forget_bias = 0.0;
        if let [add] = self.consumers[f_pre][..]
            && self.code(add) == op::ADD
        {
            let bias = self.other_input(add, f_pre, at)?;
            forget_bias = self.scalar(bias, "the forget bias")?;
            f_pre = out(add)?;
        }
        let f = self.reader_of_kind(
            f_pre,
            op::LOGISTIC,
            at,
            "LOGISTIC (the forget gate, TensorFlow's gate 2)",
        )?;
        let f = out(f)?;
        let f_mul =
            self.reader_of_kind(f, op::MUL, at, "MUL (forget gate × previous cell state)")?;
        let c_in = self.other_input(f_mul, f, at)?;
        let i_mul = self.reader_of_kind(i, op::MUL, at, "MUL (input gate × candidate)")?;
        if self.other_input(i_mul, i, at)? != j {
            return Err(unexpected(
                at,
                self.describe(i_mul),
                "the input gate times tanh of gate 1",
            ));
        }
        let kept = out(f_mul)?;
        let c_add = self.reader_of_kind(kept, op::ADD, at, "ADD (the new cell state)")?;
        if self.other_input(c_add, kept, at)? != out(i_mul)? {
            return Err(unexpected(
                at,
                self.describe(c_add),
                "forget·c + input·candidate",
            ));
        }
        let c_out = out(c_add)?;
        let c_tanh = self.reader_of_kind(c_out, op::TANH, at, "TANH of the new cell state")?;
        let h_mul = self.reader_of_kind(o, op::MUL, at, "MUL (output gate × tanh(cell state))")?;
        if self.other_input(h_mul, o, at)? != out(c_tanh)? {
            return Err(unexpected(
                at,
                self.describe(h_mul),
                "the output gate times tanh of the new cell state",
            ));
        }
        Ok((c_in, c_out, out(h_mul)?, forget_bias))
    }
}
