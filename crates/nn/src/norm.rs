//! Layer normalisation: [`LayerNorm`]; batch normalisation is in `batch_norm.rs`.
//!
//! All compute `x̂ = (x − mean) / √(var + eps)` with the *biased* variance and
//! then `y = γ · x̂ + β`, composing core ops (the gradient through the mean and
//! the variance comes from the tape). A constant input has variance 0; `eps > 0`
//! keeps `√(var + eps)` away from 0, so outputs and gradients stay finite.

use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};
use crate::module::{Module, check_trailing};

pub(crate) fn check_eps(layer: &'static str, eps: f64) -> Result<()> {
    if !(eps.is_finite() && eps > 0.0) {
        return Err(Error::InvalidConfig {
            layer,
            what: format!("eps must be finite and > 0, got {eps}"),
        });
    }
    Ok(())
}

/// Layer normalisation over the trailing `normalized_shape` axes of each
/// sample, with an elementwise affine transform of that shape.
///
/// Default initialisation, PyTorch's: `weight` (γ) ones, `bias` (β) zeros;
/// `eps = 1e-5`. Behaves the same in training and eval mode.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{LayerNorm, Module};
/// let ln = LayerNorm::<f64>::new(&[2], 1e-5).unwrap();
/// let y = ln.forward(&Tensor::from_vec(vec![1.0, 3.0, 5.0, 5.0], [2, 2]).unwrap());
/// let v = y.to_vec();
/// assert!((v[0] + 1.0).abs() < 1e-5 && (v[1] - 1.0).abs() < 1e-5);
/// assert_eq!(&v[2..], &[0.0, 0.0]); // a constant row normalises to 0
/// ```
#[derive(Clone, Debug)]
pub struct LayerNorm<T: Float = f32> {
    normalized_shape: Vec<usize>,
    eps: f64,
    /// γ, of shape `normalized_shape`.
    pub weight: Tensor<T>,
    /// β, of shape `normalized_shape`.
    pub bias: Tensor<T>,
}

impl<T: Float> LayerNorm<T> {
    /// Builds a layer normalising over trailing axes of shape
    /// `normalized_shape`, with trainable γ = 1 and β = 0.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an empty `normalized_shape` or an `eps`
    /// that is not finite and positive.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::LayerNorm::<f32>::new(&[], 1e-5).is_err());
    /// ```
    pub fn new(normalized_shape: &[usize], eps: f64) -> Result<Self> {
        check_eps("layer_norm", eps)?;
        if normalized_shape.is_empty() {
            return Err(Error::InvalidConfig {
                layer: "layer_norm",
                what: "normalized_shape must name at least one axis".to_string(),
            });
        }
        Ok(LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            eps,
            weight: Tensor::try_full(normalized_shape, T::ONE)?.requires_grad(),
            bias: Tensor::try_full(normalized_shape, T::ZERO)?.requires_grad(),
        })
    }
}

impl<T: Float> Module<T> for LayerNorm<T> {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        check_trailing("layer_norm", x, &self.normalized_shape)?;
        let k = self.normalized_shape.len() as isize;
        let axes: Vec<isize> = (-k..0).collect();
        let mean = x.try_mean_axes(&axes, true)?;
        let var = x.try_var_axes(&axes, false, true)?;
        let xhat = x
            .try_sub(&mean)?
            .try_div(&var.add_scalar(T::from_f64(self.eps)).sqrt())?;
        Ok(xhat.try_mul(&self.weight)?.try_add(&self.bias)?)
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        f("weight", &self.weight);
        f("bias", &self.bias);
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        f("weight", &mut self.weight);
        f("bias", &mut self.bias);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{check_module, randn, with_random_affine};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn layer_norm_grads_match_finite_differences_at_any_size(
            n in 1usize..5, c in 1usize..4, l in 1usize..4, seed: u64,
        ) {
            let ln = with_random_affine(LayerNorm::new(&[c, l], 1e-5).unwrap(), seed);
            check_module(ln, &randn(&[n, c, l], seed ^ 1));
        }
    }

    #[test]
    fn layer_norm_grad_matches_finite_differences() {
        check_module(
            with_random_affine(LayerNorm::new(&[4], 1e-5).unwrap(), 1),
            &randn(&[3, 4], 2),
        );
        check_module(
            with_random_affine(LayerNorm::new(&[2, 3], 1e-5).unwrap(), 3),
            &randn(&[2, 2, 3], 4),
        );
    }

    #[test]
    fn wrong_shapes_name_the_layer() {
        let ln = LayerNorm::<f32>::new(&[4], 1e-5).unwrap();
        let e = ln.try_forward(&Tensor::zeros([4, 3])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "layer_norm: expected input of shape [*, 4], got [4, 3]"
        );
    }
}
