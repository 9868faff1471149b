//! [`EarlyStopping`]: stop training when a validation metric stops improving,
//! and restore the weights of the best epoch.
//!
//! A metric improves when it beats the best so far by more than `min_delta`:
//! `metric < best - min_delta` in [`Mode::Min`], `metric > best + min_delta` in
//! [`Mode::Max`]; the first metric always improves and NaN never does. Each
//! improvement takes a snapshot of every named parameter and buffer. Training
//! should stop once `patience` epochs in a row have not improved (Keras'
//! convention: with patience 0, at the first epoch without improvement).
//!
//! ```
//! use wengert_core::Tensor;
//! use wengert_nn::early_stopping::{Decision, EarlyStopping};
//! use wengert_nn::schedule::Mode;
//! use wengert_nn::{Linear, Module};
//! let mut model = Linear::<f32>::from_tensors(Tensor::zeros([1, 1]).requires_grad(), None)?;
//! let mut stop = EarlyStopping::new(Mode::Min, 2, 0.0)?;
//! let mut decisions = vec![];
//! for (epoch, val_loss) in [0.9, 0.5, 0.6, 0.7].into_iter().enumerate() {
//!     model.set_parameters(&[Tensor::full([1, 1], epoch as f32).requires_grad()])?;
//!     decisions.push(stop.update(val_loss, &model));
//! }
//! assert_eq!(decisions[3], Decision::Stop);
//! assert_eq!((stop.best(), stop.best_epoch()), (Some(0.5), Some(1)));
//! stop.restore_best(&mut model)?;
//! assert_eq!(model.weight.item(), 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use wengert_core::{Float, Shape, Tensor};

use crate::error::{Error, Result};
use crate::module::Module;
use crate::optim::check_non_negative;
use crate::schedule::Mode;

/// What [`EarlyStopping::update`] concluded about an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The metric improved; the weights were snapshotted.
    Improved,
    /// No improvement for `bad_epochs` epochs in a row, fewer than the
    /// patience: keep training.
    Wait {
        /// Epochs in a row without improvement.
        bad_epochs: usize,
    },
    /// No improvement for `patience` epochs in a row: stop training.
    Stop,
}

/// A snapshot of one named tensor.
#[derive(Clone, Debug)]
struct Saved<T> {
    name: String,
    data: Vec<T>,
    shape: Shape,
}

/// Early stopping on a validation metric, with a snapshot of the best weights.
#[derive(Clone, Debug)]
pub struct EarlyStopping<T: Float> {
    mode: Mode,
    patience: usize,
    min_delta: f64,
    epoch: usize,
    best: Option<f64>,
    best_epoch: Option<usize>,
    bad_epochs: usize,
    parameters: Vec<Saved<T>>,
    buffers: Vec<Saved<T>>,
}

impl<T: Float> EarlyStopping<T> {
    /// Creates the rule.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`] naming `min_delta` when negative or
    /// not finite.
    pub fn new(mode: Mode, patience: usize, min_delta: f64) -> Result<Self> {
        check_non_negative("early_stopping", "min_delta", min_delta)?;
        Ok(EarlyStopping {
            mode,
            patience,
            min_delta,
            epoch: 0,
            best: None,
            best_epoch: None,
            bad_epochs: 0,
            parameters: Vec::new(),
            buffers: Vec::new(),
        })
    }

    fn improves(&self, metric: f64) -> bool {
        if metric.is_nan() {
            return false;
        }
        match (self.best, self.mode) {
            (None, _) => true,
            (Some(b), Mode::Min) => metric < b - self.min_delta,
            (Some(b), Mode::Max) => metric > b + self.min_delta,
        }
    }

    /// Records the validation `metric` of the next epoch (epochs count from
    /// 0 with the first call); on improvement, snapshots `model`'s parameters
    /// and buffers.
    pub fn update(&mut self, metric: f64, model: &dyn Module<T>) -> Decision {
        let epoch = self.epoch;
        self.epoch += 1;
        if self.improves(metric) {
            self.best = Some(metric);
            self.best_epoch = Some(epoch);
            self.bad_epochs = 0;
            self.parameters.clear();
            self.buffers.clear();
            let save = |out: &mut Vec<Saved<T>>, n: &str, t: &Tensor<T>| {
                out.push(Saved {
                    name: n.to_string(),
                    data: t.to_vec(),
                    shape: t.shape().clone(),
                })
            };
            model.visit_parameters(&mut |n, t| save(&mut self.parameters, n, t));
            model.visit_buffers(&mut |n, t| save(&mut self.buffers, n, t));
            return Decision::Improved;
        }
        self.bad_epochs += 1;
        if self.bad_epochs >= self.patience {
            Decision::Stop
        } else {
            Decision::Wait {
                bad_epochs: self.bad_epochs,
            }
        }
    }

    /// Returns true once `patience` epochs in a row have not improved.
    pub fn should_stop(&self) -> bool {
        self.best.is_some() && self.bad_epochs >= self.patience && self.bad_epochs > 0
    }

    /// Returns the best metric so far.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// Returns the epoch (counted from 0) of the best metric.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    /// Copies the snapshot of the best epoch back into `model`'s parameters
    /// and buffers, by name. Trainable parameters keep their leaf identity
    /// (so optimizer state still applies). Returns false, changing nothing,
    /// when no epoch has improved yet.
    ///
    /// # Errors
    ///
    /// [`Error::StateMismatch`] listing every parameter or buffer of `model`
    /// missing from the snapshot, every snapshot entry `model` lacks, and
    /// every shape that differs; nothing is restored then.
    pub fn restore_best(&self, model: &mut dyn Module<T>) -> Result<bool> {
        if self.best.is_none() {
            return Ok(false);
        }
        let mut problems = Vec::new();
        let mut check = |kind: &str, saved: &[Saved<T>], current: Vec<(String, Tensor<T>)>| {
            for (n, t) in &current {
                match saved.iter().find(|s| &s.name == n) {
                    None => problems.push(format!("{kind} {n} is not in the snapshot")),
                    Some(s) if &s.shape != t.shape() => problems.push(format!(
                        "{kind} {n} has shape {} but the snapshot has {}",
                        t.shape(),
                        s.shape
                    )),
                    Some(_) => {}
                }
            }
            for s in saved {
                if !current.iter().any(|(n, _)| n == &s.name) {
                    problems.push(format!("{kind} {} is not in the model", s.name));
                }
            }
        };
        check("parameter", &self.parameters, model.named_parameters());
        check("buffer", &self.buffers, model.named_buffers());
        if !problems.is_empty() {
            return Err(Error::StateMismatch {
                optimizer: "early_stopping",
                problems,
            });
        }
        let restore = |saved: &[Saved<T>], n: &str, t: &mut Tensor<T>| {
            let s = saved
                .iter()
                .find(|s| s.name == n)
                .expect("BUG: names checked above");
            *t = t
                .with_data(s.data.clone())
                .expect("BUG: shapes checked above");
        };
        model.visit_parameters_mut(&mut |n, t| restore(&self.parameters, n, t));
        model.visit_buffers_mut(&mut |n, t| restore(&self.buffers, n, t));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BatchNorm1d, Linear};

    fn model(v: f64) -> Linear<f64> {
        Linear::from_tensors(Tensor::full([1, 2], v).requires_grad(), None).unwrap()
    }

    #[test]
    fn patience_counts_epochs_in_a_row_without_improvement() {
        let m = model(0.0);
        let mut s = EarlyStopping::new(Mode::Min, 2, 0.0).unwrap();
        let got: Vec<Decision> = [1.0, 0.8, 0.9, 0.7, 0.7, 0.75]
            .into_iter()
            .map(|v| s.update(v, &m))
            .collect();
        use Decision::*;
        assert_eq!(
            got,
            [
                Improved,
                Improved,
                Wait { bad_epochs: 1 },
                Improved,
                Wait { bad_epochs: 1 },
                Stop
            ]
        );
        assert!(s.should_stop());
        assert_eq!((s.best(), s.best_epoch()), (Some(0.7), Some(3)));
    }

    #[test]
    fn min_delta_ignores_small_improvements_in_both_modes() {
        let m = model(0.0);
        let mut s = EarlyStopping::new(Mode::Min, 5, 0.1).unwrap();
        s.update(1.0, &m);
        assert_eq!(s.update(0.95, &m), Decision::Wait { bad_epochs: 1 });
        assert_eq!(s.update(0.85, &m), Decision::Improved);
        let mut s = EarlyStopping::new(Mode::Max, 0, 0.05).unwrap();
        s.update(0.5, &m);
        assert_eq!(s.update(0.54, &m), Decision::Stop);
        assert_eq!(s.best(), Some(0.5));
        let mut s = EarlyStopping::new(Mode::Max, 3, 0.05).unwrap();
        s.update(0.5, &m);
        assert_eq!(s.update(0.56, &m), Decision::Improved);
        assert_eq!(s.update(f64::NAN, &m), Decision::Wait { bad_epochs: 1 });
    }

    #[test]
    fn restore_best_brings_back_parameters_and_buffers_keeping_leaf_identity() {
        let mut m = model(1.0);
        let mut s = EarlyStopping::new(Mode::Min, 1, 0.0).unwrap();
        assert!(!s.restore_best(&mut m).unwrap());
        s.update(0.3, &m);
        let id = m.weight.leaf_id();
        m.weight = m.weight.with_data(vec![9.0, 9.0]).unwrap();
        assert_eq!(s.update(0.4, &m), Decision::Stop);
        assert!(s.restore_best(&mut m).unwrap());
        assert_eq!(m.weight.to_vec(), vec![1.0, 1.0]);
        assert_eq!(m.weight.leaf_id(), id);

        let mut bn = BatchNorm1d::<f64>::new(2).unwrap();
        let mut s = EarlyStopping::new(Mode::Max, 1, 0.0).unwrap();
        s.update(0.9, &bn);
        bn.forward(&Tensor::from_vec(vec![1.0, 2.0, 3.0, 5.0], [2, 2]).unwrap());
        assert_ne!(bn.named_buffers()[0].1.to_vec(), vec![0.0, 0.0]);
        s.restore_best(&mut bn).unwrap();
        assert_eq!(bn.named_buffers()[0].1.to_vec(), vec![0.0, 0.0]);
    }

    #[test]
    fn restore_best_into_a_different_model_is_an_error() {
        let m = model(1.0);
        let mut s = EarlyStopping::new(Mode::Min, 1, 0.0).unwrap();
        s.update(0.3, &m);
        let mut other =
            Linear::from_tensors(Tensor::zeros([2, 2]), Some(Tensor::zeros([2]))).unwrap();
        let e = s.restore_best(&mut other).unwrap_err();
        let Error::StateMismatch { problems, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(other.weight.to_vec(), vec![0.0; 4]);
    }

    #[test]
    fn negative_min_delta_is_a_named_error() {
        let e = EarlyStopping::<f32>::new(Mode::Min, 1, -0.1).unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidHyperParameter {
                name: "min_delta",
                ..
            }
        ));
    }
}
