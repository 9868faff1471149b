//! Rectifiers: `relu`, `leaky_relu`, `elu` and `selu`.
//!
//! - `y = relu(x) = x > 0 ? x : 0`: `grad_x = grad_out * (x > 0 ? 1 : 0)`.
//! - `y = leaky_relu(x) = x > 0 ? x : slope * x`:
//!   `grad_x = grad_out * (x > 0 ? 1 : slope)`.
//! - `y = elu(x) = x > 0 ? x : alpha * (e^x - 1)`:
//!   `grad_x = grad_out * (x > 0 ? 1 : alpha * e^x)`.
//! - `y = selu(x) = scale * elu(x, alpha)` with the fixed constants of
//!   Klambauer et al. (2017): a composite of `elu` and `mul_scalar`, so it has
//!   no backward struct of its own.
//!
//! Domain: all reals, any `slope` and `alpha`.
//!
//! Kinks at 0, as PyTorch: `relu'(0) = 0`, `leaky_relu'(0) = slope`,
//! `elu'(0) = alpha` (the negative branch is `x <= 0`). A NaN input gives a NaN
//! output *and* a NaN gradient, so that a NaN is never silently turned into a
//! zero gradient.
//!
//! Stability: `elu` uses `exp_m1`, accurate for small negative inputs where
//! `e^x - 1` would cancel; its gradient evaluates `e^min(x, 0)`, so a large
//! positive `x` never forms `inf * 0`. The gradients of `relu` and `leaky_relu` are a saved
//! constant slope tensor (their second derivative is zero); the gradient of
//! `elu` is built from the saved input with differentiable ops.

use smallvec::smallvec;

use crate::error::Result;
use crate::tape::{Backward, Grads};
use crate::{Float, Tensor};

/// The scale of [`Tensor::selu`].
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
/// The alpha of [`Tensor::selu`].
const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;

/// The local slope `d(x)` of a piecewise op as a constant tensor, NaN where `x`
/// is NaN (so that NaN inputs get NaN gradients whatever branch `d` picks).
pub(super) fn slope_where<T: Float>(x: &Tensor<T>, d: impl Fn(T) -> T) -> Tensor<T> {
    x.map(|v| if v.is_nan() { T::NAN } else { d(v) })
}

impl<T: Float> Tensor<T> {
    /// Returns `max(x, 0)` element-wise; `relu(NaN) = NaN`.
    ///
    /// The gradient at 0 is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![-1.0f32, 0.0, 2.0], [3]).unwrap().requires_grad();
    /// let y = x.relu();
    /// assert_eq!(y.to_vec(), vec![0.0, 0.0, 2.0]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.0, 0.0, 1.0]);
    /// ```
    pub fn relu(&self) -> Tensor<T> {
        // NaN fails `v <= 0` and passes through unchanged; `max(v, 0)` would
        // return 0 for NaN.
        let y = self.map(|v| if v <= T::ZERO { T::ZERO } else { v });
        Tensor::from_op(y, &[self], || ReluBackward {
            slope: slope_where(self, |v| if v > T::ZERO { T::ONE } else { T::ZERO }),
        })
    }

    /// Returns `x` for positive `x` and `slope * x` otherwise, element-wise.
    ///
    /// The gradient at 0 is `slope`, as in PyTorch.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![-2.0f64, 0.0, 3.0], [3]).unwrap().requires_grad();
    /// let y = x.leaky_relu(0.25);
    /// assert_eq!(y.to_vec(), vec![-0.5, 0.0, 3.0]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.25, 0.25, 1.0]);
    /// ```
    pub fn leaky_relu(&self, slope: T) -> Tensor<T> {
        let y = self.map(|v| if v > T::ZERO { v } else { slope * v });
        Tensor::from_op(y, &[self], || LeakyReluBackward {
            slope: slope_where(self, |v| if v > T::ZERO { T::ONE } else { slope }),
        })
    }

    /// Returns `x` for positive `x` and `alpha * (e^x - 1)` otherwise,
    /// element-wise.
    ///
    /// The gradient at 0 is `alpha`, as in PyTorch.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![0.0f64, 2.0], [2]).unwrap().requires_grad();
    /// let y = x.elu(0.5);
    /// assert_eq!(y.to_vec(), vec![0.0, 2.0]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.5, 1.0]);
    /// ```
    pub fn elu(&self, alpha: T) -> Tensor<T> {
        let y = self.map(|v| if v > T::ZERO { v } else { alpha * v.exp_m1() });
        Tensor::from_op(y, &[self], || EluBackward {
            x: self.clone(),
            alpha,
        })
    }

    /// Returns the scaled ELU `scale * elu(x, alpha)` element-wise, with
    /// `scale = 1.0507009873554804934193349852946` and
    /// `alpha = 1.6732632423543772848170429916717` (self-normalizing networks).
    ///
    /// The gradient at 0 is `scale * alpha`.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![0.0f64, 2.0], [2]).unwrap();
    /// assert_eq!(x.selu().to_vec(), vec![0.0, 2.0 * 1.0507009873554804934193349852946]);
    /// ```
    pub fn selu(&self) -> Tensor<T> {
        self.elu(T::from_f64(SELU_ALPHA))
            .mul_scalar(T::from_f64(SELU_SCALE))
    }
}

/// Backward of [`Tensor::relu`]: saves the slope, 1 where `x > 0`, else 0.
struct ReluBackward<T: Float> {
    slope: Tensor<T>,
}

impl<T: Float> Backward<T> for ReluBackward<T> {
    fn name(&self) -> &'static str {
        "relu"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out * &self.slope)])
    }
}

/// Backward of [`Tensor::leaky_relu`]: saves the slope, 1 where `x > 0`, else
/// the negative slope.
struct LeakyReluBackward<T: Float> {
    slope: Tensor<T>,
}

impl<T: Float> Backward<T> for LeakyReluBackward<T> {
    fn name(&self) -> &'static str {
        "leaky_relu"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out * &self.slope)])
    }
}

/// Backward of [`Tensor::elu`]: saves the input and alpha.
struct EluBackward<T: Float> {
    x: Tensor<T>,
    alpha: T,
}

impl<T: Float> Backward<T> for EluBackward<T> {
    fn name(&self) -> &'static str {
        "elu"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        // slope = pos + neg * alpha * e^min(x, 0), with the branch masks constant
        // and the exponential differentiable (elu'' = alpha e^x for x < 0).
        let pos = slope_where(&self.x, |v| if v > T::ZERO { T::ONE } else { T::ZERO });
        let neg = slope_where(&self.x, |v| if v > T::ZERO { T::ZERO } else { T::ONE });
        let exp_neg = self
            .x
            .clamp(T::NEG_INFINITY, T::ZERO)
            .exp()
            .mul_scalar(self.alpha);
        Ok(smallvec![Some(grad_out * &(&pos + &(&neg * &exp_neg)))])
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;
    use crate::testing::*;

    /// An element-wise op under test.
    type UnaryOp = fn(&Tensor<f64>) -> Tensor<f64>;

    #[test]
    fn elu_golden_value() {
        // Hand-derived: elu(-1) = e^-1 - 1 = -0.6321205588285577, elu'(-1) = e^-1;
        // torch.nn.functional.elu(torch.tensor(-1.0, dtype=torch.float64)) agrees.
        let (y, g) = value_and_grad(&[-1.0], |x| x.elu(1.0));
        assert!((y[0] - (-0.6321205588285577)).abs() < 1e-16);
        assert!((g[0] - (-1.0f64).exp()).abs() < 1e-16);
    }

    #[test]
    fn selu_golden_value() {
        // torch.nn.functional.selu(torch.tensor(-1.0, dtype=torch.float64))
        // = -1.1113307378125625; slope scale * alpha * e^-1 = 0.646768603034814
        // (hand-derived from the constants).
        let (y, g) = value_and_grad(&[-1.0], Tensor::selu);
        assert!((y[0] - (-1.1113307378125625)).abs() < 1e-15);
        assert!((g[0] - 0.646768603034814).abs() < 1e-15);
    }

    #[test]
    fn relu_and_leaky_relu_golden_values() {
        // Hand-derived.
        assert_eq!(
            value_and_grad(&[-3.0, 2.5], Tensor::relu),
            (vec![0.0, 2.5], vec![0.0, 1.0])
        );
        let (y, g) = value_and_grad(&[-3.0, 2.5], |x| x.leaky_relu(0.01));
        assert_eq!(y, vec![-3.0 * 0.01, 2.5]);
        assert_eq!(g, vec![0.01, 1.0]);
    }

    #[test]
    fn relu_grad_at_zero_is_zero() {
        assert_eq!(
            value_and_grad(&[0.0, -0.0], Tensor::relu),
            (vec![0.0, 0.0], vec![0.0, 0.0])
        );
    }

    #[test]
    fn leaky_relu_grad_at_zero_is_slope() {
        assert_eq!(value_and_grad(&[0.0], |x| x.leaky_relu(0.2)).1, vec![0.2]);
    }

    #[test]
    fn elu_grad_at_zero_is_alpha() {
        assert_eq!(
            value_and_grad(&[0.0], |x| x.elu(0.7)),
            (vec![0.0], vec![0.7])
        );
    }

    #[test]
    fn elu_grad_is_finite_at_large_inputs() {
        let (y, g) = value_and_grad(&[1000.0, -1000.0, f64::INFINITY], |x| x.elu(1.0));
        assert_eq!(y, vec![1000.0, -1.0, f64::INFINITY]);
        assert_eq!(g, vec![1.0, 0.0, 1.0]);
    }

    #[test]
    fn rectifiers_propagate_nan_to_value_and_gradient() {
        let fs: [UnaryOp; 4] = [
            Tensor::relu,
            |x| x.leaky_relu(0.1),
            |x| x.elu(1.0),
            Tensor::selu,
        ];
        for f in fs {
            let (y, g) = value_and_grad(&[f64::NAN], f);
            assert!(y[0].is_nan() && g[0].is_nan(), "{y:?} {g:?}");
        }
    }

    #[test]
    fn rectifiers_keep_rank_zero_and_empty_shapes() {
        let s = Tensor::scalar(-2.0f32);
        assert_eq!(s.relu().rank(), 0);
        assert_eq!(s.leaky_relu(0.5).item(), -1.0);
        let e = Tensor::<f64>::zeros([3, 0]).requires_grad();
        let y = &(&e.relu() + &e.leaky_relu(0.1)) + &(&e.elu(1.0) + &e.selu());
        assert_eq!(y.dims(), &[3, 0]);
        assert_eq!(y.sum().backward().unwrap().get(&e).unwrap().dims(), &[3, 0]);
    }

    #[test]
    fn elu_second_derivative_is_alpha_exp_on_the_negative_side() {
        // Hand-derived: elu''(x) = alpha e^x for x < 0, and 0 for x > 0.
        let h = second_derivative(&[-1.0, 2.0], |x| x.elu(0.5));
        assert!((h[0] - 0.5 * (-1.0f64).exp()).abs() < 1e-16);
        assert_eq!(h[1], 0.0);
    }

    proptest! {
        #[test]
        fn relu_grad_matches_finite_differences(
            x in tensor(any_shape(), Domain::away_from(&[0.0], 0.05)),
        ) {
            check_grads!([x], |a| a.relu())?;
        }

        #[test]
        fn leaky_relu_grad_matches_finite_differences(
            x in tensor(any_shape(), Domain::away_from(&[0.0], 0.05)),
            slope in -0.5f64..0.5,
        ) {
            check_grads!([x], |a| a.leaky_relu(slope as _))?;
        }

        #[test]
        fn elu_grad_matches_finite_differences(
            x in tensor(any_shape(), Domain::away_from(&[0.0], 0.05)),
            alpha in 0.1f64..2.0,
        ) {
            check_grads!([x], |a| a.elu(alpha as _))?;
        }

        #[test]
        fn selu_grad_matches_finite_differences(
            x in tensor(any_shape(), Domain::away_from(&[0.0], 0.05)),
        ) {
            check_grads!([x], |a| a.selu())?;
        }
    }
}
