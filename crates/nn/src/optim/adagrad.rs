//! [`Adagrad`]: gradient descent divided by the root of the sum of all squared
//! gradients so far, as `torch.optim.Adagrad`
//! (<https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html>).
//!
//! At step `t`, for a parameter `θ` with gradient `g`, learning rate `γ`,
//! learning-rate decay `η` and weight decay `λ`:
//!
//! ```text
//! γ̃ = γ / (1 + (t - 1)·η)
//! θ ← θ·(1 - γ·λ)                    if WeightDecay::Decoupled(λ)
//! g ← g + λ·θ                        if WeightDecay::L2(λ)
//! s ← s + g²
//! θ ← θ - γ̃·g / (√s + ε)
//! ```
//!
//! State: `sum` (`s`), starting at `initial_accumulator_value`.

use wengert_core::{Float, Gradients};

use super::{Optimizer, OptimizerState, StateTable, StepReport, WeightDecay, check_non_negative};
use crate::error::Result;
use crate::module::Module;

/// The hyper-parameters of [`Adagrad`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    /// The learning rate `γ >= 0` (default 0.01).
    pub lr: f64,
    /// The learning-rate decay `η >= 0` (default 0).
    pub lr_decay: f64,
    /// The initial value of the sum of squares, `>= 0` (default 0).
    pub initial_accumulator_value: f64,
    /// The term `ε >= 0` added to the denominator (default 1e-10).
    pub eps: f64,
    /// Weight decay (default none).
    pub weight_decay: WeightDecay,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 0.01,
            lr_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            weight_decay: WeightDecay::None,
        }
    }
}

/// Adagrad: per-element learning rates that shrink with the accumulated
/// squared gradients.
///
/// # Examples
///
/// The first step moves by `γ·g / |g|`:
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::optim::{Adagrad, AdagradConfig, Optimizer};
/// use wengert_nn::{Linear, Module};
/// let mut m = Linear::<f64>::from_tensors(Tensor::zeros([1, 1]).requires_grad(), None)?;
/// let mut opt = Adagrad::new(AdagradConfig { lr: 0.5, ..Default::default() })?;
/// let g = m.forward(&Tensor::full([1, 1], 4.0)).sum().backward()?;
/// opt.step(&mut m, &g)?;
/// assert!((m.weight.item() + 0.5).abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad<T: Float> {
    config: AdagradConfig,
    table: StateTable<T>,
}

impl<T: Float> Adagrad<T> {
    /// Creates the optimizer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter)
    /// naming `lr`, `lr_decay`, `initial_accumulator_value`, `eps` or
    /// `weight_decay` when negative or not finite.
    pub fn new(config: AdagradConfig) -> Result<Self> {
        const OWNER: &str = "adagrad";
        check_non_negative(OWNER, "lr", config.lr)?;
        check_non_negative(OWNER, "lr_decay", config.lr_decay)?;
        check_non_negative(
            OWNER,
            "initial_accumulator_value",
            config.initial_accumulator_value,
        )?;
        check_non_negative(OWNER, "eps", config.eps)?;
        config.weight_decay.check(OWNER)?;
        Ok(Adagrad {
            config,
            table: StateTable::new(OWNER, vec![("sum", config.initial_accumulator_value)]),
        })
    }

    /// Returns the configuration (with the current learning rate).
    pub fn config(&self) -> &AdagradConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Adagrad<T> {
    fn name(&self) -> &'static str {
        "adagrad"
    }

    fn step(&mut self, model: &mut dyn Module<T>, grads: &Gradients<T>) -> Result<StepReport> {
        let c = self.config;
        let eps = T::from_f64(c.eps);
        let decay = c.weight_decay.at::<T>(c.lr);
        self.table.apply(model, grads, move |theta, grad, st| {
            let clr = T::from_f64(c.lr / (1.0 + (st.step - 1) as f64 * c.lr_decay));
            decay.shrink(theta);
            // Zipped (no bounds checks) with the scalars captured by value:
            // vector instructions (see `Adam`).
            for ((t, &g), s) in theta.iter_mut().zip(grad).zip(st.bufs[0].iter_mut()) {
                let g = decay.grad(*t, g);
                *s += g * g;
                *t -= clr * (g / (s.sqrt() + eps));
            }
        })
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        check_non_negative("adagrad", "lr", lr)?;
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
