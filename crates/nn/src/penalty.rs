//! L1, L2 and elastic-net penalties over chosen parameters, as differentiable
//! tensors to add to the loss.
//!
//! ```text
//! L1(λ):                 λ·Σ|θ|
//! L2(λ):                 λ/2·Σθ²          (gradient λ·θ, as WeightDecay::L2(λ))
//! ElasticNet{l1, l2}:    l1·Σ|θ| + l2/2·Σθ²
//! ```
//!
//! The sums run over every element of the parameters whose names `select`
//! accepts; [`weights_only`] picks the `weight` tensors and leaves biases and
//! normalisation parameters alone, the usual choice. The gradient of `|θ|` at
//! `θ = 0` is 0 (the convention of [`Tensor::abs`]). Frozen parameters that
//! are selected add their (constant) value and get no gradient.
//!
//! A penalty *added to the loss* and [`WeightDecay::L2`] give the same
//! gradient for L2; with adaptive optimizers both differ from decoupled decay
//! ([`WeightDecay::Decoupled`]).
//!
//! [`WeightDecay::L2`]: crate::optim::WeightDecay::L2
//! [`WeightDecay::Decoupled`]: crate::optim::WeightDecay::Decoupled
//!
//! ```
//! use wengert_core::Tensor;
//! use wengert_nn::penalty::{Penalty, penalty, weights_only};
//! use wengert_nn::{Linear, Module};
//! let w = Tensor::from_vec(vec![1.0f64, -2.0], [1, 2])?.requires_grad();
//! let model = Linear::from_tensors(w, Some(Tensor::ones([1]).requires_grad()))?;
//! let p = penalty(&model, Penalty::L1(0.1), weights_only)?;
//! assert!((p.item() - 0.3).abs() < 1e-15); // the bias is not selected
//! let g = p.backward()?;
//! assert_eq!(g.get(&model.weight).unwrap().to_vec(), vec![0.1, -0.1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use wengert_core::{Float, Tensor};

use crate::error::Result;
use crate::module::Module;
use crate::optim::check_non_negative;

/// A penalty on the size of parameters; see the [module docs](self) for the
/// formulas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Penalty {
    /// `λ·Σ|θ|` (lasso): drives parameters to exactly zero.
    L1(f64),
    /// `λ/2·Σθ²` (ridge, weight decay): shrinks parameters towards zero.
    L2(f64),
    /// `l1·Σ|θ| + l2/2·Σθ²`.
    ElasticNet {
        /// The L1 coefficient.
        l1: f64,
        /// The L2 coefficient.
        l2: f64,
    },
}

/// Selects the parameters named `weight` or ending in `.weight`.
///
/// # Examples
///
/// ```
/// use wengert_nn::penalty::weights_only;
/// assert!(weights_only("layers.0.weight") && weights_only("weight"));
/// assert!(!weights_only("layers.0.bias") && !weights_only("layers.0.myweight"));
/// ```
pub fn weights_only(name: &str) -> bool {
    name == "weight" || name.ends_with(".weight")
}

/// Returns the penalty over the parameters of `model` that `select` accepts,
/// as a scalar tensor recorded on the tape (add it to the loss before
/// `backward`). With no parameter selected it is an untracked zero.
///
/// # Errors
///
/// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter)
/// naming `l1` or `l2` when a coefficient is negative or not finite.
pub fn penalty<T: Float>(
    model: &dyn Module<T>,
    penalty: Penalty,
    select: impl Fn(&str) -> bool,
) -> Result<Tensor<T>> {
    let (l1, l2) = match penalty {
        Penalty::L1(l) => (l, 0.0),
        Penalty::L2(l) => (0.0, l),
        Penalty::ElasticNet { l1, l2 } => (l1, l2),
    };
    check_non_negative("penalty", "l1", l1)?;
    check_non_negative("penalty", "l2", l2)?;
    let mut total = Tensor::scalar(T::ZERO);
    model.visit_parameters(&mut |name, p| {
        if !select(name) {
            return;
        }
        if l1 != 0.0 {
            total = &total + &p.abs().sum().mul_scalar(T::from_f64(l1));
        }
        if l2 != 0.0 {
            total = &total + &p.square().sum().mul_scalar(T::from_f64(l2 / 2.0));
        }
    });
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, Linear, Sequential, Tanh};

    fn net() -> Sequential<f64> {
        let w0 = Tensor::from_vec(vec![1.0, -2.0], [1, 2])
            .unwrap()
            .requires_grad();
        let b0 = Tensor::from_vec(vec![5.0], [1]).unwrap().requires_grad();
        let w2 = Tensor::from_vec(vec![0.0, 3.0], [2, 1])
            .unwrap()
            .requires_grad();
        Sequential::new()
            .add(Linear::from_tensors(w0, Some(b0)).unwrap())
            .add(Tanh)
            .add(Linear::from_tensors(w2, None).unwrap())
    }

    // Hand-computed over the weights [1, -2] and [0, 3]: Σ|θ| = 6, Σθ² = 14.
    #[test]
    fn penalties_sum_over_the_selected_parameters() {
        let m = net();
        let l1 = penalty(&m, Penalty::L1(0.5), weights_only).unwrap();
        assert!((l1.item() - 3.0).abs() < 1e-15);
        let l2 = penalty(&m, Penalty::L2(0.5), weights_only).unwrap();
        assert!((l2.item() - 3.5).abs() < 1e-15);
        let en = penalty(&m, Penalty::ElasticNet { l1: 0.5, l2: 0.5 }, weights_only).unwrap();
        assert!((en.item() - 6.5).abs() < 1e-15);
        let all = penalty(&m, Penalty::L1(1.0), |_| true).unwrap();
        assert!((all.item() - 11.0).abs() < 1e-15);
        let none = penalty(&m, Penalty::L1(1.0), |_| false).unwrap();
        assert_eq!(none.item(), 0.0);
    }

    #[test]
    fn elastic_net_gradient_is_l1_sign_plus_l2_theta() {
        let m = net();
        let p = penalty(&m, Penalty::ElasticNet { l1: 0.1, l2: 0.2 }, weights_only).unwrap();
        let g = p.backward().unwrap();
        let named = m.named_parameters();
        // d/dθ = 0.1·sign(θ) + 0.2·θ, with sign(0) = 0.
        assert_eq!(
            g.get(&named[0].1).unwrap().to_vec(),
            vec![0.1 + 0.2, -0.1 - 0.4]
        );
        assert!(g.get(&named[1].1).is_none(), "bias not selected");
        let w2 = g.get(&named[2].1).unwrap().to_vec();
        assert_eq!(w2[0], 0.0);
        assert!((w2[1] - (0.1 + 0.6)).abs() < 1e-15);
    }

    #[test]
    fn negative_coefficients_are_named_errors() {
        let m = net();
        let e = penalty(&m, Penalty::L1(-0.1), weights_only).unwrap_err();
        assert!(matches!(e, Error::InvalidHyperParameter { name: "l1", .. }));
        let e = penalty(
            &m,
            Penalty::ElasticNet {
                l1: 0.0,
                l2: f64::NAN,
            },
            weights_only,
        )
        .unwrap_err();
        assert!(matches!(e, Error::InvalidHyperParameter { name: "l2", .. }));
    }
}
