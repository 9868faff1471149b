//! [`Sgd`]: stochastic gradient descent with momentum, dampening and Nesterov
//! momentum, as `torch.optim.SGD`
//! (<https://pytorch.org/docs/stable/generated/torch.optim.SGD.html>).
//!
//! At step `t`, for a parameter `θ` with gradient `g`, learning rate `γ`,
//! momentum `μ`, dampening `τ` and weight decay `λ`:
//!
//! ```text
//! θ ← θ·(1 - γ·λ)                        if WeightDecay::Decoupled(λ)
//! g ← g + λ·θ                            if WeightDecay::L2(λ)
//! if μ ≠ 0:
//!     b ← g                              if t = 1
//!     b ← μ·b + (1 - τ)·g                otherwise
//!     g ← g + μ·b  if nesterov,  else g ← b
//! θ ← θ - γ·g
//! ```
//!
//! State: `momentum_buffer` (`b`) when `μ ≠ 0`, nothing otherwise.

use wengert_core::{Float, Gradients};

use super::{Optimizer, OptimizerState, StateTable, StepReport, WeightDecay, check_non_negative};
use crate::error::{Error, Result};
use crate::module::Module;

/// The hyper-parameters of [`Sgd`], with PyTorch's defaults except `lr`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// The learning rate `γ >= 0` (default 0.01).
    pub lr: f64,
    /// The momentum `μ >= 0` (default 0: plain gradient descent).
    pub momentum: f64,
    /// The dampening `τ` of the momentum (default 0).
    pub dampening: f64,
    /// Nesterov momentum (default off); needs `μ > 0` and `τ = 0`.
    pub nesterov: bool,
    /// Weight decay (default none).
    pub weight_decay: WeightDecay,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 0.01,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: WeightDecay::None,
        }
    }
}

/// Stochastic gradient descent with optional (Nesterov) momentum.
///
/// # Examples
///
/// Two steps with momentum 0.9 on `L = θ` (gradient 1): the buffer is 1, then
/// `0.9·1 + 1 = 1.9`.
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::optim::{Optimizer, Sgd, SgdConfig};
/// use wengert_nn::{Linear, Module};
/// let mut m = Linear::<f64>::from_tensors(Tensor::zeros([1, 1]).requires_grad(), None)?;
/// let mut opt = Sgd::new(SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() })?;
/// for _ in 0..2 {
///     let g = m.forward(&Tensor::ones([1, 1])).sum().backward()?;
///     opt.step(&mut m, &g)?;
/// }
/// assert!((m.weight.item() - (-0.1 - 0.19)).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<T: Float> {
    config: SgdConfig,
    table: StateTable<T>,
}

impl<T: Float> Sgd<T> {
    /// Creates the optimizer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`] naming `lr`, `momentum`, `dampening`
    /// or `weight_decay` when negative or not finite, and `nesterov` when it
    /// is asked for without momentum or with dampening.
    pub fn new(config: SgdConfig) -> Result<Self> {
        const OWNER: &str = "sgd";
        check_non_negative(OWNER, "lr", config.lr)?;
        check_non_negative(OWNER, "momentum", config.momentum)?;
        check_non_negative(OWNER, "dampening", config.dampening)?;
        config.weight_decay.check(OWNER)?;
        if config.nesterov && (config.momentum <= 0.0 || config.dampening != 0.0) {
            return Err(Error::InvalidHyperParameter {
                owner: OWNER,
                name: "nesterov",
                what: format!(
                    "needs momentum > 0 and dampening = 0, got momentum {} and dampening {}",
                    config.momentum, config.dampening
                ),
            });
        }
        let slots = if config.momentum != 0.0 {
            vec![("momentum_buffer", 0.0)]
        } else {
            vec![]
        };
        Ok(Sgd {
            config,
            table: StateTable::new(OWNER, slots),
        })
    }

    /// Returns the configuration (with the current learning rate).
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn name(&self) -> &'static str {
        "sgd"
    }

    fn step(&mut self, model: &mut dyn Module<T>, grads: &Gradients<T>) -> Result<StepReport> {
        let c = self.config;
        let lr = T::from_f64(c.lr);
        let mu = T::from_f64(c.momentum);
        let keep = T::ONE - T::from_f64(c.dampening);
        let decay = c.weight_decay.at::<T>(c.lr);
        // The settings are tested once per parameter, not per element: the
        // loops without momentum then compile to vector instructions (W2's
        // step spent a tenth of its time in a per-element loop that tested
        // them all).
        self.table.apply(model, grads, move |theta, grad, st| {
            let first = st.step == 1;
            decay.shrink(theta);
            match st.bufs.first_mut() {
                None => {
                    for (t, &g) in theta.iter_mut().zip(grad) {
                        *t -= lr * decay.grad(*t, g);
                    }
                }
                Some(buf) => {
                    for ((t, &g), b) in theta.iter_mut().zip(grad).zip(buf.iter_mut()) {
                        let g = decay.grad(*t, g);
                        *b = if first { g } else { mu * *b + keep * g };
                        *t -= lr * if c.nesterov { g + mu * *b } else { *b };
                    }
                }
            }
        })
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        check_non_negative("sgd", "lr", lr)?;
        self.config.lr = lr;
        Ok(())
    }

    fn state(&self) -> OptimizerState<T> {
        self.table.export()
    }

    fn load_state(&mut self, model: &dyn Module<T>, state: &OptimizerState<T>) -> Result<()> {
        self.table.import(model, state)
    }
}
