//! Learning-rate schedules: [`StepLr`], [`MultiStepLr`], [`ExponentialLr`],
//! [`CosineAnnealingLr`], [`LinearWarmup`] and [`ReduceLrOnPlateau`], after
//! `torch.optim.lr_scheduler` (<https://pytorch.org/docs/stable/optim.html>).
//!
//! The first five are functions of the epoch (counted from 0), written in
//! PyTorch's closed forms, so a schedule is a plain value that can be asked for
//! any epoch and needs no saved state on resume. Call
//! [`LrSchedule::apply`] at the start of each epoch:
//!
//! ```
//! use wengert_nn::optim::{Optimizer, Sgd, SgdConfig};
//! use wengert_nn::schedule::{LrSchedule, StepLr};
//! let mut opt = Sgd::<f32>::new(SgdConfig { lr: 0.1, ..Default::default() })?;
//! let schedule = StepLr::new(0.1, 2, 0.5)?;
//! let lrs: Vec<f64> = (0..5).map(|e| schedule.apply(&mut opt, e).unwrap()).collect();
//! assert_eq!(lrs, [0.1, 0.1, 0.05, 0.05, 0.025]);
//! assert_eq!(opt.lr(), 0.025);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`ReduceLrOnPlateau`] depends on the validation metric instead: it is fed
//! one value per epoch and lowers the optimizer's learning rate itself.

use wengert_core::Float;

use crate::error::{Error, Result};
use crate::optim::{Optimizer, check_non_negative, check_positive};

/// Whether a smaller or a larger metric is better (a loss or an accuracy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Smaller is better (losses).
    #[default]
    Min,
    /// Larger is better (accuracies).
    Max,
}

/// A learning rate as a function of the epoch.
pub trait LrSchedule {
    /// Returns the learning rate of `epoch` (counted from 0).
    fn lr_at(&self, epoch: usize) -> f64;

    /// Sets `opt`'s learning rate to that of `epoch` and returns it.
    ///
    /// # Errors
    ///
    /// Those of [`Optimizer::set_lr`] (a schedule built by its validating
    /// constructor never produces a negative rate).
    fn apply<T: Float>(&self, opt: &mut dyn Optimizer<T>, epoch: usize) -> Result<f64>
    where
        Self: Sized,
    {
        let lr = self.lr_at(epoch);
        opt.set_lr(lr)?;
        Ok(lr)
    }
}

fn powi(gamma: f64, n: usize) -> f64 {
    gamma.powi(i32::try_from(n).unwrap_or(i32::MAX))
}

/// Multiplies the learning rate by `gamma` every `step_size` epochs:
/// `lr = base_lr · gamma^⌊epoch / step_size⌋` (`torch.optim.lr_scheduler.StepLR`).
#[derive(Clone, Debug, PartialEq)]
pub struct StepLr {
    base_lr: f64,
    step_size: usize,
    gamma: f64,
}

impl StepLr {
    /// Creates the schedule.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`] naming `base_lr` or `gamma` when
    /// negative or not finite, or `step_size` when 0.
    pub fn new(base_lr: f64, step_size: usize, gamma: f64) -> Result<Self> {
        check_non_negative("step_lr", "base_lr", base_lr)?;
        check_non_negative("step_lr", "gamma", gamma)?;
        if step_size == 0 {
            return Err(Error::InvalidHyperParameter {
                owner: "step_lr",
                name: "step_size",
                what: "must be at least 1, got 0".into(),
            });
        }
        Ok(StepLr {
            base_lr,
            step_size,
            gamma,
        })
    }
}

impl LrSchedule for StepLr {
    fn lr_at(&self, epoch: usize) -> f64 {
        self.base_lr * powi(self.gamma, epoch / self.step_size)
    }
}

/// Multiplies the learning rate by `gamma` at each milestone epoch:
/// `lr = base_lr · gamma^(number of milestones <= epoch)`
/// (`torch.optim.lr_scheduler.MultiStepLR`).
///
/// # Examples
///
/// ```
/// use wengert_nn::schedule::{LrSchedule, MultiStepLr};
/// let s = MultiStepLr::new(1.0, &[2, 4], 0.1)?;
/// let lrs: Vec<f64> = (0..6).map(|e| s.lr_at(e)).collect();
/// assert_eq!(lrs, [1.0, 1.0, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1]);
/// # Ok::<(), wengert_nn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MultiStepLr {
    base_lr: f64,
    milestones: Vec<usize>,
    gamma: f64,
}

impl MultiStepLr {
    /// Creates the schedule.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`] naming `base_lr` or `gamma` when
    /// negative or not finite, or `milestones` when not strictly increasing.
    pub fn new(base_lr: f64, milestones: &[usize], gamma: f64) -> Result<Self> {
        check_non_negative("multi_step_lr", "base_lr", base_lr)?;
        check_non_negative("multi_step_lr", "gamma", gamma)?;
        if milestones.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::InvalidHyperParameter {
                owner: "multi_step_lr",
                name: "milestones",
                what: format!("must be strictly increasing, got {milestones:?}"),
            });
        }
        Ok(MultiStepLr {
            base_lr,
            milestones: milestones.to_vec(),
            gamma,
        })
    }
}

impl LrSchedule for MultiStepLr {
    fn lr_at(&self, epoch: usize) -> f64 {
        let passed = self.milestones.iter().filter(|&&m| m <= epoch).count();
        self.base_lr * powi(self.gamma, passed)
    }
}

/// Multiplies the learning rate by `gamma` every epoch:
/// `lr = base_lr · gamma^epoch` (`torch.optim.lr_scheduler.ExponentialLR`).
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialLr {
    base_lr: f64,
    gamma: f64,
}

impl ExponentialLr {
    /// Creates the schedule.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`] naming `base_lr` or `gamma` when
    /// negative or not finite.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::schedule::{ExponentialLr, LrSchedule};
    /// let s = ExponentialLr::new(0.1, 0.5)?;
    /// assert_eq!(s.lr_at(3), 0.1 * 0.125);
    /// # Ok::<(), wengert_nn::Error>(())
    /// ```
    pub fn new(base_lr: f64, gamma: f64) -> Result<Self> {
        check_non_negative("exponential_lr", "base_lr", base_lr)?;
        check_non_negative("exponential_lr", "gamma", gamma)?;
        Ok(ExponentialLr { base_lr, gamma })
    }
}

impl LrSchedule for ExponentialLr {
    fn lr_at(&self, epoch: usize) -> f64 {
        self.base_lr * powi(self.gamma, epoch)
    }
}

/// Half a cosine from `base_lr` down to `eta_min` over `t_max` epochs:
/// `lr = eta_min + (base_lr - eta_min)·(1 + cos(π·epoch / t_max)) / 2`, the
/// closed form of `torch.optim.lr_scheduler.CosineAnnealingLR`. After `t_max`
/// the rate stays at `eta_min` (PyTorch's closed form would climb again; use
/// warm restarts deliberately, not by running past `t_max`).
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    base_lr: f64,
    t_max: usize,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Creates the schedule.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`] naming `base_lr` or `eta_min` when
    /// negative or not finite, or `t_max` when 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::schedule::{CosineAnnealingLr, LrSchedule};
    /// let s = CosineAnnealingLr::new(1.0, 4, 0.0)?;
    /// assert_eq!(s.lr_at(0), 1.0);
    /// assert!((s.lr_at(2) - 0.5).abs() < 1e-15);
    /// assert_eq!(s.lr_at(4), 0.0);
    /// assert_eq!(s.lr_at(9), 0.0);
    /// # Ok::<(), wengert_nn::Error>(())
    /// ```
    pub fn new(base_lr: f64, t_max: usize, eta_min: f64) -> Result<Self> {
        check_non_negative("cosine_annealing_lr", "base_lr", base_lr)?;
        check_non_negative("cosine_annealing_lr", "eta_min", eta_min)?;
        if t_max == 0 {
            return Err(Error::InvalidHyperParameter {
                owner: "cosine_annealing_lr",
                name: "t_max",
                what: "must be at least 1, got 0".into(),
            });
        }
        Ok(CosineAnnealingLr {
            base_lr,
            t_max,
            eta_min,
        })
    }
}

impl LrSchedule for CosineAnnealingLr {
    fn lr_at(&self, epoch: usize) -> f64 {
        if epoch >= self.t_max {
            return self.eta_min;
        }
        let phase = std::f64::consts::PI * epoch as f64 / self.t_max as f64;
        self.eta_min + (self.base_lr - self.eta_min) * (1.0 + phase.cos()) / 2.0
    }
}

/// Linear warm-up in front of another schedule: during the first
/// `warmup_epochs` epochs the rate rises linearly from `start_factor` times
/// the inner schedule's first rate to that rate,
/// `lr = inner(0)·(start_factor + (1 - start_factor)·epoch / warmup_epochs)`
/// (`torch.optim.lr_scheduler.LinearLR`); afterwards `lr = inner(epoch -
/// warmup_epochs)`, so the inner schedule starts when the warm-up ends.
///
/// # Examples
///
/// ```
/// use wengert_nn::schedule::{ExponentialLr, LinearWarmup, LrSchedule};
/// let s = LinearWarmup::new(4, 0.25, ExponentialLr::new(0.8, 0.5)?)?;
/// let want = [0.2, 0.35, 0.5, 0.65, 0.8, 0.4];
/// for (e, w) in want.iter().enumerate() {
///     assert!((s.lr_at(e) - w).abs() < 1e-12);
/// }
/// # Ok::<(), wengert_nn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LinearWarmup<S> {
    warmup_epochs: usize,
    start_factor: f64,
    inner: S,
}

impl<S: LrSchedule> LinearWarmup<S> {
    /// Creates the schedule.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`] naming `start_factor` when outside
    /// `(0, 1]`.
    pub fn new(warmup_epochs: usize, start_factor: f64, inner: S) -> Result<Self> {
        check_positive("linear_warmup", "start_factor", start_factor)?;
        if start_factor > 1.0 {
            return Err(Error::InvalidHyperParameter {
                owner: "linear_warmup",
                name: "start_factor",
                what: format!("must be in (0, 1], got {start_factor}"),
            });
        }
        Ok(LinearWarmup {
            warmup_epochs,
            start_factor,
            inner,
        })
    }
}

impl<S: LrSchedule> LrSchedule for LinearWarmup<S> {
    fn lr_at(&self, epoch: usize) -> f64 {
        if epoch < self.warmup_epochs {
            let frac = epoch as f64 / self.warmup_epochs as f64;
            self.inner.lr_at(0) * (self.start_factor + (1.0 - self.start_factor) * frac)
        } else {
            self.inner.lr_at(epoch - self.warmup_epochs)
        }
    }
}

/// Lowers the learning rate by `factor` when a validation metric has not
/// improved for more than `patience` epochs
/// (`torch.optim.lr_scheduler.ReduceLROnPlateau`, relative threshold mode).
///
/// A metric `a` improves on the best `b` when `a < b·(1 - threshold)` in
/// [`Mode::Min`] (`a > b·(1 + threshold)` in [`Mode::Max`]). After a
/// reduction, `cooldown` epochs pass before bad epochs count again. The rate
/// never goes below `min_lr`.
///
/// # Examples
///
/// ```
/// use wengert_nn::optim::{Optimizer, Sgd, SgdConfig};
/// use wengert_nn::schedule::{Mode, ReduceLrOnPlateau};
/// let mut opt = Sgd::<f32>::new(SgdConfig { lr: 1.0, ..Default::default() })?;
/// let mut plateau = ReduceLrOnPlateau::new(Mode::Min, 0.5, 1)?;
/// let mut lrs = vec![];
/// for loss in [3.0, 2.0, 2.0, 2.0, 2.0, 1.0] {
///     plateau.step(loss, &mut opt)?;
///     lrs.push(opt.lr());
/// }
/// // Epochs 3 and 4 do not improve on 2.0: the second bad epoch exceeds
/// // patience 1 and halves the rate; the count restarts.
/// assert_eq!(lrs, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]);
/// # Ok::<(), wengert_nn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceLrOnPlateau {
    mode: Mode,
    factor: f64,
    patience: usize,
    /// Relative improvement needed (default 1e-4).
    pub threshold: f64,
    /// Epochs to wait after a reduction (default 0).
    pub cooldown: usize,
    /// The lowest learning rate (default 0).
    pub min_lr: f64,
    best: Option<f64>,
    bad_epochs: usize,
    cooldown_left: usize,
}

impl ReduceLrOnPlateau {
    /// Creates the schedule with PyTorch's defaults for the threshold (1e-4,
    /// relative), cooldown (0) and minimum rate (0); set the public fields to
    /// change them.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`] naming `factor` when outside `[0, 1)`.
    pub fn new(mode: Mode, factor: f64, patience: usize) -> Result<Self> {
        crate::optim::check_unit("reduce_lr_on_plateau", "factor", factor)?;
        Ok(ReduceLrOnPlateau {
            mode,
            factor,
            patience,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            best: None,
            bad_epochs: 0,
            cooldown_left: 0,
        })
    }

    fn improves(&self, metric: f64) -> bool {
        match (self.best, self.mode) {
            (None, _) => !metric.is_nan(),
            (Some(b), Mode::Min) => metric < b * (1.0 - self.threshold),
            (Some(b), Mode::Max) => metric > b * (1.0 + self.threshold),
        }
    }

    /// Records the epoch's `metric` and lowers `opt`'s learning rate when the
    /// plateau has lasted longer than the patience. Returns true when it
    /// lowered the rate. A NaN metric never improves.
    ///
    /// # Errors
    ///
    /// Those of [`Optimizer::set_lr`] (never for a valid configuration).
    pub fn step<T: Float>(&mut self, metric: f64, opt: &mut dyn Optimizer<T>) -> Result<bool> {
        if self.improves(metric) {
            self.best = Some(metric);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_epochs = 0;
        }
        if self.bad_epochs > self.patience {
            self.cooldown_left = self.cooldown;
            self.bad_epochs = 0;
            let old = opt.lr();
            let new = (old * self.factor).max(self.min_lr);
            // PyTorch ignores changes smaller than its eps = 1e-8.
            if old - new > 1e-8 {
                opt.set_lr(new)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Returns the best metric seen so far.
    pub fn best(&self) -> Option<f64> {
        self.best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Sgd, SgdConfig};

    fn lrs(s: &impl LrSchedule, n: usize) -> Vec<f64> {
        (0..n).map(|e| s.lr_at(e)).collect()
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    // Expected rates are hand-computed from the formulas in each doc comment.
    #[test]
    fn step_lr_multiplies_by_gamma_every_step_size_epochs() {
        let s = StepLr::new(0.1, 3, 0.1).unwrap();
        close(&lrs(&s, 7), &[0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001]);
    }

    #[test]
    fn multi_step_lr_multiplies_at_each_milestone() {
        let s = MultiStepLr::new(0.5, &[1, 3], 0.5).unwrap();
        close(&lrs(&s, 5), &[0.5, 0.25, 0.25, 0.125, 0.125]);
    }

    #[test]
    fn exponential_lr_multiplies_every_epoch() {
        let s = ExponentialLr::new(2.0, 0.9).unwrap();
        close(&lrs(&s, 4), &[2.0, 1.8, 1.62, 1.458]);
    }

    #[test]
    fn cosine_annealing_follows_half_a_cosine_then_stays_at_eta_min() {
        // t_max = 3: cos(0) = 1, cos(π/3) = 0.5, cos(2π/3) = -0.5, cos(π) = -1.
        let s = CosineAnnealingLr::new(1.1, 3, 0.1).unwrap();
        close(&lrs(&s, 5), &[1.1, 0.85, 0.35, 0.1, 0.1]);
    }

    #[test]
    fn linear_warmup_rises_then_hands_over_to_the_inner_schedule() {
        let s = LinearWarmup::new(2, 0.5, StepLr::new(0.2, 1, 0.5).unwrap()).unwrap();
        close(&lrs(&s, 5), &[0.1, 0.15, 0.2, 0.1, 0.05]);
        let none = LinearWarmup::new(0, 0.5, ExponentialLr::new(1.0, 0.5).unwrap()).unwrap();
        close(&lrs(&none, 2), &[1.0, 0.5]);
    }

    #[test]
    fn reduce_on_plateau_respects_patience_cooldown_mode_and_min_lr() {
        let mut opt = Sgd::<f64>::new(SgdConfig {
            lr: 1.0,
            ..Default::default()
        })
        .unwrap();
        let mut p = ReduceLrOnPlateau::new(Mode::Max, 0.1, 0).unwrap();
        p.cooldown = 1;
        p.min_lr = 0.005;
        let mut got = vec![];
        // Max mode: 0.5 improves, 0.5 does not (bad 1 > 0: reduce, cooldown 1),
        // 0.4 is bad but in cooldown, 0.4 bad (reduce), 0.9 improves, 0.1 bad
        // (reduce to max(0.001, 0.005)), 0.1 in cooldown, 0.1 bad but already at
        // min_lr.
        for m in [0.5, 0.5, 0.4, 0.4, 0.9, 0.1, 0.1, 0.1] {
            p.step(m, &mut opt).unwrap();
            got.push(opt.lr());
        }
        close(&got, &[1.0, 0.1, 0.1, 0.01, 0.01, 0.005, 0.005, 0.005]);
        assert_eq!(p.best(), Some(0.9));
    }

    #[test]
    fn invalid_schedule_parameters_are_named() {
        let name = |e: Error| match e {
            Error::InvalidHyperParameter { owner, name, .. } => (owner, name),
            e => panic!("{e}"),
        };
        assert_eq!(
            name(StepLr::new(0.1, 0, 0.5).unwrap_err()),
            ("step_lr", "step_size")
        );
        assert_eq!(
            name(StepLr::new(-0.1, 1, 0.5).unwrap_err()),
            ("step_lr", "base_lr")
        );
        assert_eq!(
            name(MultiStepLr::new(0.1, &[3, 2], 0.5).unwrap_err()),
            ("multi_step_lr", "milestones")
        );
        assert_eq!(
            name(ExponentialLr::new(0.1, f64::INFINITY).unwrap_err()),
            ("exponential_lr", "gamma")
        );
        assert_eq!(
            name(CosineAnnealingLr::new(0.1, 0, 0.0).unwrap_err()),
            ("cosine_annealing_lr", "t_max")
        );
        let inner = StepLr::new(0.1, 1, 0.5).unwrap();
        assert_eq!(
            name(LinearWarmup::new(2, 1.5, inner).unwrap_err()),
            ("linear_warmup", "start_factor")
        );
        assert_eq!(
            name(ReduceLrOnPlateau::new(Mode::Min, 1.0, 1).unwrap_err()),
            ("reduce_lr_on_plateau", "factor")
        );
    }
}
