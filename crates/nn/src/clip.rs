//! Gradient clipping: by value ([`clip_grad_value`]) and by the global norm
//! over all parameters ([`clip_grad_norm`]), as `torch.nn.utils.clip_grad_value_`
//! and `torch.nn.utils.clip_grad_norm_`.
//!
//! Both work in place on the [`Gradients`] of a backward pass, between
//! `backward` and [`Optimizer::step`](crate::optim::Optimizer::step), and touch
//! only the gradients of `model`'s trainable parameters (each shared leaf
//! once); gradients of other leaves (inputs) are left as they are.
//!
//! ```
//! use wengert_core::Tensor;
//! use wengert_nn::clip::clip_grad_norm;
//! use wengert_nn::{Linear, Module};
//! let model = Linear::<f64>::from_tensors(Tensor::zeros([1, 2]).requires_grad(), None)?;
//! let x = Tensor::from_vec(vec![3.0, 4.0], [1, 2])?;
//! let mut grads = model.forward(&x).sum().backward()?; // gradient [3, 4], norm 5
//! let norm = clip_grad_norm(&model, &mut grads, 1.0)?;
//! assert_eq!(norm, 5.0);
//! let g = grads.get(&model.weight).unwrap().to_vec();
//! assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashSet;

use wengert_core::{Float, Gradients, Tensor};

use crate::error::Result;
use crate::module::Module;
use crate::optim::check_non_negative;

/// The distinct trainable parameters of `model` (shared leaves once).
fn trainable<T: Float>(model: &dyn Module<T>) -> Vec<Tensor<T>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    model.visit_parameters(&mut |_, p| {
        if let Some(id) = p.leaf_id()
            && seen.insert(id)
        {
            out.push(p.clone());
        }
    });
    out
}

/// Returns the L2 norm of the gradients of `model`'s trainable parameters
/// taken together, `√(Σ g²)` over every element, computed in `f64`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::clip::grad_norm;
/// use wengert_nn::{Linear, Module};
/// let model = Linear::<f32>::from_tensors(
///     Tensor::zeros([1, 1]).requires_grad(),
///     Some(Tensor::zeros([1]).requires_grad()),
/// )?;
/// let grads = model.forward(&Tensor::full([1, 1], 2.0)).sum().backward()?;
/// assert!((grad_norm(&model, &grads) - 5f64.sqrt()).abs() < 1e-12); // [2] and [1]
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn grad_norm<T: Float>(model: &dyn Module<T>, grads: &Gradients<T>) -> f64 {
    trainable(model)
        .iter()
        .filter_map(|p| grads.get(p))
        .flat_map(|g| g.as_slice().iter().map(|v| v.to_f64() * v.to_f64()))
        .sum::<f64>()
        .sqrt()
}

/// Rescales the gradients of `model`'s trainable parameters so that their
/// global L2 norm is at most `max_norm`, and returns the norm *before*
/// clipping.
///
/// As PyTorch: every gradient is multiplied by `min(1, max_norm / (norm +
/// 1e-6))`, so the direction of the joint gradient is kept. When the norm is
/// not finite (an overflow or a NaN upstream) the gradients are left
/// unchanged and the returned norm shows it: skip that optimizer step.
///
/// # Errors
///
/// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter)
/// naming `max_norm` when negative or not finite.
pub fn clip_grad_norm<T: Float>(
    model: &dyn Module<T>,
    grads: &mut Gradients<T>,
    max_norm: f64,
) -> Result<f64> {
    check_non_negative("clip_grad_norm", "max_norm", max_norm)?;
    let norm = grad_norm(model, grads);
    let coef = max_norm / (norm + 1e-6);
    if norm.is_finite() && coef < 1.0 {
        let c = T::from_f64(coef);
        for p in trainable(model) {
            if let Some(g) = grads.get_mut(&p) {
                *g = g.map(|v| v * c);
            }
        }
    }
    Ok(norm)
}

/// Clamps every element of the gradients of `model`'s trainable parameters
/// to `[-clip_value, clip_value]`, and returns how many elements were
/// changed. NaN stays NaN.
///
/// # Errors
///
/// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter)
/// naming `clip_value` when negative or not finite.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::clip::clip_grad_value;
/// use wengert_nn::{Linear, Module};
/// let model = Linear::<f32>::from_tensors(Tensor::zeros([1, 3]).requires_grad(), None)?;
/// let x = Tensor::from_vec(vec![-3.0, 0.5, 2.0], [1, 3])?;
/// let mut grads = model.forward(&x).sum().backward()?;
/// assert_eq!(clip_grad_value(&model, &mut grads, 1.0)?, 2);
/// assert_eq!(grads.get(&model.weight).unwrap().to_vec(), vec![-1.0, 0.5, 1.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn clip_grad_value<T: Float>(
    model: &dyn Module<T>,
    grads: &mut Gradients<T>,
    clip_value: f64,
) -> Result<usize> {
    check_non_negative("clip_grad_value", "clip_value", clip_value)?;
    let hi = T::from_f64(clip_value);
    let lo = -hi;
    let mut changed = 0;
    for p in trainable(model) {
        if let Some(g) = grads.get_mut(&p) {
            changed += g.as_slice().iter().filter(|&&v| v > hi || v < lo).count();
            *g = g.map(|v| {
                if v > hi {
                    hi
                } else if v < lo {
                    lo
                } else {
                    v
                }
            });
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, Linear};

    /// A 2-layer-like pair of parameters with gradients [3, 0] and [4] (norm
    /// 5) plus an input whose gradient must not be touched.
    fn setup() -> (Linear<f64>, Tensor<f64>, Gradients<f64>) {
        let w = Tensor::from_vec(vec![0.0, 0.0], [1, 2])
            .unwrap()
            .requires_grad();
        let b = Tensor::zeros([1]).requires_grad();
        let model = Linear::from_tensors(w, Some(b)).unwrap();
        let x = Tensor::from_vec(vec![3.0, 0.0], [1, 2])
            .unwrap()
            .requires_grad();
        let out = model.forward(&x).sum().mul_scalar(1.0);
        let bias_extra = model.bias.as_ref().unwrap().sum().mul_scalar(3.0);
        let grads = (&out + &bias_extra).backward().unwrap();
        (model, x, grads)
    }

    #[test]
    fn clip_grad_norm_returns_the_pre_clip_norm_and_scales_every_gradient() {
        let (model, x, mut grads) = setup();
        let input_grad = grads.get(&x).unwrap().to_vec();
        let norm = clip_grad_norm(&model, &mut grads, 2.5).unwrap();
        assert_eq!(norm, 5.0);
        let coef = 2.5 / (5.0 + 1e-6);
        assert_eq!(
            grads.get(&model.weight).unwrap().to_vec(),
            vec![3.0 * coef, 0.0]
        );
        assert_eq!(
            grads.get(model.bias.as_ref().unwrap()).unwrap().to_vec(),
            vec![4.0 * coef]
        );
        assert!((grad_norm(&model, &grads) - 2.5).abs() < 1e-6);
        assert_eq!(grads.get(&x).unwrap().to_vec(), input_grad);
    }

    #[test]
    fn clip_grad_norm_below_the_limit_changes_nothing() {
        let (model, _, mut grads) = setup();
        assert_eq!(clip_grad_norm(&model, &mut grads, 10.0).unwrap(), 5.0);
        assert_eq!(grads.get(&model.weight).unwrap().to_vec(), vec![3.0, 0.0]);
    }

    #[test]
    fn clip_grad_norm_leaves_non_finite_gradients_for_the_caller_to_see() {
        let w = Tensor::from_vec(vec![0.0f64], [1, 1])
            .unwrap()
            .requires_grad();
        let model = Linear::from_tensors(w, None).unwrap();
        let x = Tensor::full([1, 1], f64::INFINITY);
        let mut grads = model.forward(&x).sum().backward().unwrap();
        let norm = clip_grad_norm(&model, &mut grads, 1.0).unwrap();
        assert_eq!(norm, f64::INFINITY);
        assert_eq!(grads.get(&model.weight).unwrap().item(), f64::INFINITY);
    }

    #[test]
    fn clip_grad_value_clamps_only_the_model_gradients() {
        let (model, x, mut grads) = setup();
        assert_eq!(clip_grad_value(&model, &mut grads, 3.5).unwrap(), 1);
        assert_eq!(
            grads.get(model.bias.as_ref().unwrap()).unwrap().to_vec(),
            vec![3.5]
        );
        assert_eq!(grads.get(&model.weight).unwrap().to_vec(), vec![3.0, 0.0]);
        assert!(grads.get(&x).is_some());
    }

    #[test]
    fn negative_limits_are_named_errors() {
        let (model, _, mut grads) = setup();
        let e = clip_grad_norm(&model, &mut grads, -1.0).unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidHyperParameter {
                name: "max_norm",
                ..
            }
        ));
        let e = clip_grad_value(&model, &mut grads, f64::NAN).unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidHyperParameter {
                name: "clip_value",
                ..
            }
        ));
    }
}
