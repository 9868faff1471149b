//! [`Dropout`], inverted: scaled by `1/(1 − p)` while training, the identity in
//! eval mode.
//!
//! ## Why this equals "multiply the weights by P at inference"
//!
//! The lecture notes keep each unit with probability `P = 1 − p` while
//! training, unscaled, and multiply the outgoing weights by `P` at inference,
//! so that the next layer sees in expectation what it saw in training:
//! `E[W (m ⊙ a)] = P · W a` with `m ~ Bernoulli(P)`.
//!
//! Inverted dropout moves the factor into training instead: it uses
//! `m / P`, so `E[W (m/P ⊙ a)] = W a`, and at inference the layer is the
//! identity. Both schemes compute the same function: training with `m / P` and
//! weights `W'` is training with `m` and weights `W = W'/P`, and the notes'
//! inference `P · W = W'` is exactly the inverted network run unchanged. The
//! inverted form leaves inference untouched (no rescaling to remember when the
//! model is saved or the dropout rate changes).

use std::marker::PhantomData;
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};
use crate::module::Module;

/// Inverted dropout: while training, zeroes each element with probability `p`
/// and scales the survivors by `1/(1 − p)`; in eval mode, the identity. The
/// mask is drawn from the layer's own seeded RNG, so a seeded run is
/// reproducible. `p = 1` zeroes everything (the gradient is zero too).
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Dropout, Module};
/// let d = Dropout::new(0.5, 42).unwrap();
/// let y = d.forward(&Tensor::<f64>::ones([1000]));
/// // Survivors are scaled by 1 / (1 - 0.5) = 2; the mean stays near 1.
/// assert!(y.to_vec().iter().all(|&v| v == 0.0 || v == 2.0));
/// assert!((y.mean().item() - 1.0).abs() < 0.1);
/// ```
#[derive(Debug)]
pub struct Dropout<T: Float = f32> {
    p: f64,
    training: bool,
    rng: Mutex<StdRng>,
    element: PhantomData<T>,
}

/// A clone draws its own masks: its RNG is seeded from the original's, which
/// advances the original's stream once.
impl<T: Float> Clone for Dropout<T> {
    fn clone(&self) -> Self {
        let mut rng = self.rng.lock().expect("BUG: dropout rng poisoned");
        Dropout {
            p: self.p,
            training: self.training,
            rng: Mutex::new(StdRng::from_rng(&mut *rng)),
            element: PhantomData,
        }
    }
}

impl<T: Float> Dropout<T> {
    /// Builds a dropout layer with drop probability `p`, its RNG seeded with
    /// `seed`, in training mode.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] unless `0 <= p <= 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = wengert_nn::Dropout::<f32>::new(1.5, 0).unwrap_err();
    /// assert_eq!(e.to_string(), "dropout: p must be in [0, 1], got 1.5");
    /// ```
    pub fn new(p: f64, seed: u64) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::InvalidConfig {
                layer: "dropout",
                what: format!("p must be in [0, 1], got {p}"),
            });
        }
        Ok(Dropout {
            p,
            training: true,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            element: PhantomData,
        })
    }

    /// Returns the drop probability.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_nn::Dropout::<f32>::new(0.25, 0).unwrap().p(), 0.25);
    /// ```
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Returns true in training mode.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::Dropout::<f32>::new(0.25, 0).unwrap().is_training());
    /// ```
    pub fn is_training(&self) -> bool {
        self.training
    }
}

impl<T: Float> Module<T> for Dropout<T> {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        if !self.training || self.p == 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - self.p;
        let scale = if keep > 0.0 {
            T::from_f64(1.0 / keep)
        } else {
            T::ZERO
        };
        let mut rng = self.rng.lock().expect("BUG: dropout rng poisoned");
        let mask: Vec<T> = (0..x.numel())
            .map(|_| {
                if rng.random::<f64>() < keep {
                    scale
                } else {
                    T::ZERO
                }
            })
            .collect();
        let mask = Tensor::from_vec(mask, x.shape().clone())?;
        Ok(x.try_mul(&mask)?)
    }
    fn visit_parameters(&self, _f: &mut dyn FnMut(&str, &Tensor<T>)) {}
    fn visit_parameters_mut(&mut self, _f: &mut dyn FnMut(&str, &mut Tensor<T>)) {}
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_mode_is_the_identity() {
        let mut d = Dropout::<f64>::new(0.9, 1).unwrap();
        d.eval();
        let x = Tensor::<f64>::from_vec(vec![1.0, -2.0, 3.0], [3]).unwrap();
        assert_eq!(d.forward(&x).to_vec(), x.to_vec());
    }

    #[test]
    fn gradient_is_the_mask_scaled() {
        let d = Dropout::<f64>::new(0.25, 7).unwrap();
        let x = Tensor::<f64>::ones([64]).requires_grad();
        let y = d.forward(&x);
        let g = y.sum().backward().unwrap();
        // d(sum(x ⊙ m))/dx = m: the same values as the output for x = 1.
        assert_eq!(g.get(&x).unwrap().to_vec(), y.to_vec());
        assert!(
            y.to_vec()
                .iter()
                .all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-15)
        );
    }

    #[test]
    fn seeded_masks_are_reproducible_and_p_one_zeroes_everything() {
        let x = Tensor::<f32>::ones([32]);
        let a = Dropout::new(0.5, 3).unwrap().forward(&x);
        let b = Dropout::new(0.5, 3).unwrap().forward(&x);
        assert_eq!(a.to_vec(), b.to_vec());
        let z = Dropout::new(1.0, 0).unwrap().forward(&x);
        assert_eq!(z.to_vec(), vec![0.0; 32]);
    }

    #[test]
    fn kept_fraction_is_one_minus_p() {
        let y = Dropout::new(0.3, 11)
            .unwrap()
            .forward(&Tensor::<f64>::ones([20000]));
        let kept = y.to_vec().iter().filter(|&&v| v != 0.0).count() as f64 / 20000.0;
        assert!((kept - 0.7).abs() < 0.02, "{kept}");
    }
}
