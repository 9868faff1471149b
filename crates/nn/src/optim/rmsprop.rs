//! [`RmsProp`]: RMSProp with optional momentum and centring, as
//! `torch.optim.RMSprop`
//! (<https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html>).
//!
//! At each step, for a parameter `θ` with gradient `g`, learning rate `γ`,
//! smoothing `α`, momentum `μ` and weight decay `λ` (the square root and the
//! square are element-wise; `ε` is added *outside* the square root):
//!
//! ```text
//! θ ← θ·(1 - γ·λ)                    if WeightDecay::Decoupled(λ)
//! g ← g + λ·θ                        if WeightDecay::L2(λ)
//! v ← α·v + (1 - α)·g²
//! ṽ ← v
//! if centered:  ḡ ← α·ḡ + (1 - α)·g;  ṽ ← v - ḡ²
//! if μ > 0:     b ← μ·b + g / (√ṽ + ε);  θ ← θ - γ·b
//! else:         θ ← θ - γ·g / (√ṽ + ε)
//! ```
//!
//! State: `square_avg` (`v`), plus `momentum_buffer` (`b`) when `μ > 0` and
//! `grad_avg` (`ḡ`) when centred, all starting at zero.

use wengert_core::{Float, Gradients};

use super::{
    Optimizer, OptimizerState, StateTable, StepReport, WeightDecay, check_non_negative, check_unit,
};
use crate::error::Result;
use crate::module::Module;

/// The hyper-parameters of [`RmsProp`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// The learning rate `γ >= 0` (default 0.01).
    pub lr: f64,
    /// The smoothing constant `α` in `[0, 1)` (default 0.99).
    pub alpha: f64,
    /// The term `ε >= 0` added to the denominator (default 1e-8).
    pub eps: f64,
    /// The momentum `μ >= 0` (default 0).
    pub momentum: f64,
    /// Divide by the centred second moment, an estimate of the variance
    /// (default off).
    pub centered: bool,
    /// Weight decay (default none).
    pub weight_decay: WeightDecay,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            momentum: 0.0,
            centered: false,
            weight_decay: WeightDecay::None,
        }
    }
}

/// RMSProp: gradient descent divided by a running root mean square of the
/// gradient.
///
/// # Examples
///
/// The first step with gradient `g` moves by `γ·g / (√((1 - α)·g²) + ε)`,
/// about `γ / √(1 - α)`:
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::optim::{Optimizer, RmsProp, RmsPropConfig};
/// use wengert_nn::{Linear, Module};
/// let mut m = Linear::<f64>::from_tensors(Tensor::zeros([1, 1]).requires_grad(), None)?;
/// let mut opt = RmsProp::new(RmsPropConfig { lr: 0.01, alpha: 0.99, ..Default::default() })?;
/// let g = m.forward(&Tensor::full([1, 1], 3.0)).sum().backward()?;
/// opt.step(&mut m, &g)?;
/// assert!((m.weight.item() + 0.1).abs() < 1e-8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp<T: Float> {
    config: RmsPropConfig,
    table: StateTable<T>,
}

impl<T: Float> RmsProp<T> {
    /// Creates the optimizer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter)
    /// naming `lr`, `eps`, `momentum` or `weight_decay` when negative or not
    /// finite, and `alpha` when outside `[0, 1)`.
    pub fn new(config: RmsPropConfig) -> Result<Self> {
        const OWNER: &str = "rmsprop";
        check_non_negative(OWNER, "lr", config.lr)?;
        check_unit(OWNER, "alpha", config.alpha)?;
        check_non_negative(OWNER, "eps", config.eps)?;
        check_non_negative(OWNER, "momentum", config.momentum)?;
        config.weight_decay.check(OWNER)?;
        let mut slots = vec![("square_avg", 0.0)];
        if config.momentum > 0.0 {
            slots.push(("momentum_buffer", 0.0));
        }
        if config.centered {
            slots.push(("grad_avg", 0.0));
        }
        Ok(RmsProp {
            config,
            table: StateTable::new(OWNER, slots),
        })
    }

    /// Returns the configuration (with the current learning rate).
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for RmsProp<T> {
    fn name(&self) -> &'static str {
        "rmsprop"
    }

    fn step(&mut self, model: &mut dyn Module<T>, grads: &Gradients<T>) -> Result<StepReport> {
        let c = self.config;
        let lr = T::from_f64(c.lr);
        let alpha = T::from_f64(c.alpha);
        let one_minus_alpha = T::from_f64(1.0 - c.alpha);
        let eps = T::from_f64(c.eps);
        let mu = T::from_f64(c.momentum);
        let decay = c.weight_decay.at::<T>(c.lr);
        let centered = self.table.slot_index("grad_avg").is_some();
        // One element's update; `avg` is `ḡ` when centred, `mom` is `b` when
        // `μ > 0`. Each combination below runs its own zipped loop over the
        // state (no indexing, scalars captured by value), in which this
        // inlines to vector instructions (see `Adam`).
        let update = move |t: &mut T, g: T, v: &mut T, avg: Option<&mut T>, mom: Option<&mut T>| {
            let g = decay.grad(*t, g);
            *v = alpha * *v + one_minus_alpha * g * g;
            let v_tilde = match avg {
                Some(a) => {
                    *a = alpha * *a + one_minus_alpha * g;
                    *v - *a * *a
                }
                None => *v,
            };
            let denom = v_tilde.sqrt() + eps;
            match mom {
                Some(b) => {
                    *b = mu * *b + g / denom;
                    *t -= lr * *b;
                }
                None => *t -= lr * (g / denom),
            }
        };
        self.table.apply(model, grads, move |theta, grad, st| {
            decay.shrink(theta);
            // Slots: square_avg, then momentum_buffer if μ > 0, then
            // grad_avg if centred (see `new`).
            let (sq, rest) = st
                .bufs
                .split_first_mut()
                .expect("BUG: RMSProp keeps square_avg in slot 0");
            let base = theta.iter_mut().zip(grad).zip(sq.iter_mut());
            match rest {
                [] => base.for_each(|((t, &g), v)| update(t, g, v, None, None)),
                [a] if centered => base
                    .zip(a.iter_mut())
                    .for_each(|(((t, &g), v), a)| update(t, g, v, Some(a), None)),
                [b] => base
                    .zip(b.iter_mut())
                    .for_each(|(((t, &g), v), b)| update(t, g, v, None, Some(b))),
                [b, a, ..] => base
                    .zip(a.iter_mut().zip(b.iter_mut()))
                    .for_each(|(((t, &g), v), (a, b))| update(t, g, v, Some(a), Some(b))),
            }
        })
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        check_non_negative("rmsprop", "lr", lr)?;
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
