//! [`Adam`] and AdamW: adaptive moment estimation, as `torch.optim.Adam` and
//! `torch.optim.AdamW` (<https://pytorch.org/docs/stable/generated/torch.optim.Adam.html>,
//! <https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html>).
//!
//! At step `t`, for a parameter `θ` with gradient `g`, learning rate `γ`,
//! decay rates `β₁, β₂` and weight decay `λ`:
//!
//! ```text
//! θ ← θ·(1 - γ·λ)                     if WeightDecay::Decoupled(λ)  (AdamW)
//! g ← g + λ·θ                         if WeightDecay::L2(λ)         (Adam)
//! m ← β₁·m + (1 - β₁)·g
//! v ← β₂·v + (1 - β₂)·g²
//! m̂ = m / (1 - β₁ᵗ)      v̂ = v / (1 - β₂ᵗ)
//! θ ← θ - γ·m̂ / (√v̂ + ε)
//! ```
//!
//! `ε` is added outside the square root, as PyTorch does. The last line is
//! computed as PyTorch's implementation does, `θ ← θ - (γ / (1 - β₁ᵗ))·m /
//! (√v / √(1 - β₂ᵗ) + ε)` with the scalar factors in `f64`.
//!
//! ## The moments are bias-corrected exponential moving averages
//!
//! `m` is the exponential moving average (EMA) of the optimisation lecture
//! (`shared/seeds/003…`): with `β = 0.98` and gradients `θ₁ = 16`, `θ₂ = 24`,
//! `v₁ = 0.02·16 = 0.32` and its bias-corrected value `0.32 / (1 - 0.98) = 16`;
//! `v₂ = 0.98·0.32 + 0.02·24 = 0.7936` and `0.7936 / (1 - 0.98²) ≈ 20.04`.
//! The notes print `0.00196·θ₁` where `0.98·0.02 = 0.0196` is meant. Adam's
//! first moment reproduces these numbers (see the tests and
//! [`Adam::inspect`]).
//!
//! State: `exp_avg` (`m`) and `exp_avg_sq` (`v`), starting at zero, and the
//! step count `t` per parameter.

use wengert_core::{Float, Gradients, Tensor};

use super::{
    Optimizer, OptimizerState, StateTable, StepReport, WeightDecay, check_non_negative, check_unit,
};
use crate::error::Result;
use crate::module::Module;

/// The hyper-parameters of [`Adam`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// The learning rate `γ >= 0` (default 0.001).
    pub lr: f64,
    /// The decay rate `β₁` of the first moment, in `[0, 1)` (default 0.9).
    pub beta1: f64,
    /// The decay rate `β₂` of the second moment, in `[0, 1)` (default 0.999).
    pub beta2: f64,
    /// The term `ε >= 0` added to the denominator (default 1e-8).
    pub eps: f64,
    /// Weight decay (default none): `L2` is Adam's `weight_decay`,
    /// `Decoupled` makes AdamW.
    pub weight_decay: WeightDecay,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: WeightDecay::None,
        }
    }
}

impl AdamConfig {
    /// Returns the configuration of AdamW with PyTorch's defaults (`β₁ = 0.9`,
    /// `β₂ = 0.999`, `ε = 1e-8`) and decoupled weight decay `weight_decay`
    /// (PyTorch's default is 0.01).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::optim::{AdamConfig, WeightDecay};
    /// let c = AdamConfig::adamw(1e-3, 0.01);
    /// assert_eq!(c.weight_decay, WeightDecay::Decoupled(0.01));
    /// ```
    pub fn adamw(lr: f64, weight_decay: f64) -> Self {
        AdamConfig {
            lr,
            weight_decay: WeightDecay::Decoupled(weight_decay),
            ..Default::default()
        }
    }
}

/// Adam (and AdamW, with [`WeightDecay::Decoupled`]).
///
/// # Examples
///
/// The first step moves every element by about `lr` against the sign of its
/// gradient, whatever the gradient's scale:
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::optim::{Adam, AdamConfig, Optimizer};
/// use wengert_nn::{Linear, Module};
/// let mut m = Linear::<f64>::from_tensors(Tensor::zeros([1, 2]).requires_grad(), None)?;
/// let mut opt = Adam::new(AdamConfig { lr: 0.1, ..Default::default() })?;
/// let x = Tensor::from_vec(vec![100.0, -0.01], [1, 2])?;
/// let g = m.forward(&x).sum().backward()?;
/// opt.step(&mut m, &g)?;
/// let w = m.weight.to_vec();
/// assert!((w[0] + 0.1).abs() < 1e-6 && (w[1] - 0.1).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Adam<T: Float> {
    config: AdamConfig,
    table: StateTable<T>,
}

/// Adam's state for one parameter, for teaching and debugging: see
/// [`Adam::inspect`].
#[derive(Clone, Debug)]
pub struct AdamInspection<T: Float> {
    /// The number of updates `t`.
    pub step: u64,
    /// The first moment `m`.
    pub exp_avg: Tensor<T>,
    /// The second moment `v`.
    pub exp_avg_sq: Tensor<T>,
    /// The bias-corrected first moment `m̂ = m / (1 - β₁ᵗ)`.
    pub exp_avg_hat: Tensor<T>,
    /// The bias-corrected second moment `v̂ = v / (1 - β₂ᵗ)`.
    pub exp_avg_sq_hat: Tensor<T>,
    /// The step `γ·m̂ / (√v̂ + ε)` subtracted by the last update (before any
    /// decoupled decay), computed with the current learning rate.
    pub effective_step: Tensor<T>,
}

impl<T: Float> Adam<T> {
    /// Creates the optimizer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter)
    /// naming `lr`, `eps` or `weight_decay` when negative or not finite, and
    /// `beta1` or `beta2` when outside `[0, 1)`.
    pub fn new(config: AdamConfig) -> Result<Self> {
        let owner = Self::owner(&config);
        check_non_negative(owner, "lr", config.lr)?;
        check_unit(owner, "beta1", config.beta1)?;
        check_unit(owner, "beta2", config.beta2)?;
        check_non_negative(owner, "eps", config.eps)?;
        config.weight_decay.check(owner)?;
        Ok(Adam {
            config,
            table: StateTable::new(owner, vec![("exp_avg", 0.0), ("exp_avg_sq", 0.0)]),
        })
    }

    fn owner(config: &AdamConfig) -> &'static str {
        match config.weight_decay {
            WeightDecay::Decoupled(_) => "adamw",
            _ => "adam",
        }
    }

    /// Returns the configuration (with the current learning rate).
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Returns the moments of parameter `name`, raw and bias-corrected, and
    /// the effective step of the last update; `None` before its first update.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::optim::{Adam, AdamConfig, Optimizer};
    /// use wengert_nn::{Linear, Module};
    /// let mut m = Linear::<f64>::from_tensors(Tensor::zeros([1, 1]).requires_grad(), None)?;
    /// let mut opt = Adam::new(AdamConfig { lr: 0.1, ..Default::default() })?;
    /// assert!(opt.inspect("weight").is_none());
    /// let g = m.forward(&Tensor::full([1, 1], 2.0)).sum().backward()?;
    /// opt.step(&mut m, &g)?;
    /// let s = opt.inspect("weight").unwrap();
    /// assert!((s.exp_avg.item() - 0.2).abs() < 1e-12); // (1 - 0.9)·2
    /// assert!((s.exp_avg_hat.item() - 2.0).abs() < 1e-12);
    /// assert!((s.exp_avg_sq_hat.item() - 4.0).abs() < 1e-12);
    /// assert!((s.effective_step.item() - 0.1).abs() < 1e-8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inspect(&self, name: &str) -> Option<AdamInspection<T>> {
        let st = self.table.get(name)?;
        let c = &self.config;
        let t = i32::try_from(st.step).unwrap_or(i32::MAX);
        let bc1 = T::from_f64(1.0 - c.beta1.powi(t));
        let bc2 = T::from_f64(1.0 - c.beta2.powi(t));
        let (lr, eps) = (T::from_f64(c.lr), T::from_f64(c.eps));
        let m_hat: Vec<T> = st.bufs[0].iter().map(|&m| m / bc1).collect();
        let v_hat: Vec<T> = st.bufs[1].iter().map(|&v| v / bc2).collect();
        let eff = m_hat
            .iter()
            .zip(&v_hat)
            .map(|(&m, &v)| lr * m / (v.sqrt() + eps))
            .collect();
        let shape = &st.shape;
        let t = |v: Vec<T>| Tensor::from_vec(v, shape.clone()).expect("BUG: state length");
        Some(AdamInspection {
            step: st.step,
            exp_avg: t(st.bufs[0].clone()),
            exp_avg_sq: t(st.bufs[1].clone()),
            exp_avg_hat: t(m_hat),
            exp_avg_sq_hat: t(v_hat),
            effective_step: t(eff),
        })
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn name(&self) -> &'static str {
        Self::owner(&self.config)
    }

    fn step(&mut self, model: &mut dyn Module<T>, grads: &Gradients<T>) -> Result<StepReport> {
        let c = self.config;
        let (b1, b2) = (T::from_f64(c.beta1), T::from_f64(c.beta2));
        let (one_minus_b1, one_minus_b2) = (T::from_f64(1.0 - c.beta1), T::from_f64(1.0 - c.beta2));
        let eps = T::from_f64(c.eps);
        let decay = c.weight_decay.at::<T>(c.lr);
        self.table.apply(model, grads, move |theta, grad, st| {
            // Scalars in f64 as PyTorch computes them in Python floats.
            let t = i32::try_from(st.step).unwrap_or(i32::MAX);
            let bc1 = 1.0 - c.beta1.powi(t);
            let bc2 = 1.0 - c.beta2.powi(t);
            let step_size = T::from_f64(c.lr / bc1);
            let bc2_sqrt = T::from_f64(bc2.sqrt());
            let (ms, vs) = st.bufs.split_at_mut(1);
            let (m, v) = (&mut ms[0], &mut vs[0]);
            decay.shrink(theta);
            // Zipped, without indexing (no bounds checks), and with the
            // scalars captured by value (`move`: by reference, they were
            // reloaded from memory every element): the loop compiles to
            // vector instructions.
            let state = m.iter_mut().zip(v.iter_mut());
            for ((t, &g), (m, v)) in theta.iter_mut().zip(grad).zip(state) {
                let g = decay.grad(*t, g);
                *m = b1 * *m + one_minus_b1 * g;
                *v = b2 * *v + one_minus_b2 * g * g;
                let denom = v.sqrt() / bc2_sqrt + eps;
                *t -= step_size * (*m / denom);
            }
        })
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        check_non_negative(Self::owner(&self.config), "lr", lr)?;
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
