//! Adam (DeepSpeech's optimiser) with its moments exposed, so that checkpoints hold the
//! complete optimiser state and a resumed run continues exactly.

use candle::backprop::GradStore;
use candle::{Tensor, Var};

/// Adam hyper-parameters (DeepSpeech's defaults: β1 0.9, β2 0.999, ε 1e-8).
#[derive(Debug, Clone, Copy)]
pub struct AdamConfig {
    /// Learning rate.
    pub learning_rate: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator epsilon.
    pub epsilon: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
        }
    }
}

/// One parameter and its moments.
#[derive(Debug)]
pub struct AdamSlot {
    /// The parameter's name (its safetensors key).
    pub name: String,
    /// The parameter.
    pub var: Var,
    /// First moment.
    pub m: Tensor,
    /// Second moment.
    pub v: Tensor,
}

/// The Adam optimiser over named variables.
#[derive(Debug)]
pub struct Adam {
    /// Hyper-parameters (the learning rate may be changed between steps).
    pub config: AdamConfig,
    /// Parameters and moments, sorted by name.
    pub slots: Vec<AdamSlot>,
    /// Steps taken (for bias correction).
    pub step: u64,
}

impl Adam {
    /// Adam over `vars` with zero moments.
    pub fn new(mut vars: Vec<(String, Var)>, config: AdamConfig) -> candle::Result<Self> {
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let slots = vars
            .into_iter()
            .map(|(name, var)| {
                let zeros = var.as_tensor().zeros_like()?;
                Ok(AdamSlot {
                    name,
                    m: zeros.clone(),
                    v: zeros,
                    var,
                })
            })
            .collect::<candle::Result<_>>()?;
        Ok(Self {
            config,
            slots,
            step: 0,
        })
    }

    /// Backpropagates `loss` and applies one update.
    pub fn backward_step(&mut self, loss: &Tensor) -> candle::Result<()> {
        let grads = loss.backward()?;
        self.update(&grads)
    }

    /// Applies one update from gradients already computed (what [`Adam::backward_step`] does
    /// after backpropagation; separate so that the two can be timed apart).
    pub fn update(&mut self, grads: &GradStore) -> candle::Result<()> {
        let grads: Vec<Option<Tensor>> = self
            .slots
            .iter()
            .map(|slot| grads.get(slot.var.as_tensor()).cloned())
            .collect();
        self.update_slots(&grads)
    }

    /// Applies one update from one gradient per slot, in the order of [`Adam::slots`] (`None`
    /// leaves a parameter and its moments as they are). Data-parallel training passes the
    /// gradients summed over all ranks.
    pub fn update_slots(&mut self, grads: &[Option<Tensor>]) -> candle::Result<()> {
        assert_eq!(grads.len(), self.slots.len(), "one gradient per slot");
        self.step += 1;
        let AdamConfig {
            learning_rate,
            beta1,
            beta2,
            epsilon,
        } = self.config;
        let correction1 = 1.0 - beta1.powi(self.step as i32);
        let correction2 = 1.0 - beta2.powi(self.step as i32);
        for (slot, g) in self.slots.iter_mut().zip(grads) {
            let Some(g) = g else {
                continue;
            };
            slot.m = ((&slot.m * beta1)? + (g * (1.0 - beta1))?)?;
            slot.v = ((&slot.v * beta2)? + (g.sqr()? * (1.0 - beta2))?)?;
            let m_hat = (&slot.m / correction1)?;
            let v_hat = (&slot.v / correction2)?;
            let update = (m_hat / (v_hat.sqrt()? + epsilon)?)?;
            slot.var
                .set(&(slot.var.as_tensor() - (update * learning_rate)?)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle::Device;

    #[test]
    fn minimises_a_quadratic() {
        let x = Var::new(&[3.0f32, -2.0], &Device::Cpu).unwrap();
        let mut adam = Adam::new(
            vec![("x".into(), x.clone())],
            AdamConfig {
                learning_rate: 0.1,
                ..Default::default()
            },
        )
        .unwrap();
        for _ in 0..300 {
            let loss = x.as_tensor().sqr().unwrap().sum_all().unwrap();
            adam.backward_step(&loss).unwrap();
        }
        let v: Vec<f32> = x.as_tensor().to_vec1().unwrap();
        assert!(v.iter().all(|x| x.abs() < 1e-2), "{v:?}");
        assert_eq!(adam.step, 300);
    }

    #[test]
    fn first_step_moves_each_parameter_by_the_learning_rate() {
        // Adam's first update is lr × sign(g) (up to ε).
        let x = Var::new(&[1.0f32, -5.0], &Device::Cpu).unwrap();
        let mut adam = Adam::new(vec![("x".into(), x.clone())], AdamConfig::default()).unwrap();
        let loss = (x.as_tensor() * 3.0).unwrap().sum_all().unwrap();
        adam.backward_step(&loss).unwrap();
        let v: Vec<f32> = x.as_tensor().to_vec1().unwrap();
        assert!(
            (v[0] - 0.999).abs() < 1e-6 && (v[1] + 5.001).abs() < 1e-6,
            "{v:?}"
        );
    }
}
