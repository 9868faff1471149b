//! The logistic family: `sigmoid`, `softplus` and `log_sigmoid`.
//!
//! - `y = sigmoid(x) = 1 / (1 + e^-x)`: `grad_x = grad_out * y * (1 - y)` (uses
//!   the saved output).
//! - `y = softplus(x) = ln(1 + e^x)`: `grad_x = grad_out * sigmoid(x)`.
//! - `y = log_sigmoid(x) = -softplus(-x)`: `grad_x = grad_out * sigmoid(-x)`.
//!
//! Domain: all reals. Smooth: no kinks. NaN in, NaN out (value and gradient).
//!
//! Stability: no formula here evaluates `e^x` for a large positive `x`.
//! - `sigmoid` has two branches: `1 / (1 + e^-x)` for `x >= 0` and
//!   `e^x / (1 + e^x)` for `x < 0`, so `sigmoid(1000) = 1` and
//!   `sigmoid(-1000) = 0` exactly, with gradient 0.
//! - `softplus(x) = max(x, 0) + ln_1p(e^-|x|)`: `softplus(1000) = 1000`,
//!   `softplus(-1000) = 0`, and `ln_1p` keeps the tiny values of large negative
//!   `x` accurate (`softplus(-50) ≈ 1.9e-22`, not 0).
//! - `log_sigmoid(x) = min(x, 0) - ln_1p(e^-|x|)`: `log_sigmoid(-1000) = -1000`,
//!   `log_sigmoid(1000) = 0`.
//!
//! The gradients of `softplus` and `log_sigmoid` call [`Tensor::sigmoid`] on the
//! saved input, so they inherit its stability and can be differentiated again.

use smallvec::smallvec;

use crate::error::Result;
use crate::tape::{Backward, Grads};
use crate::{Float, Tensor};

/// `ln(1 + e^-|v|)`: the shared, always-finite correction term of `softplus`
/// and `log_sigmoid`.
fn log1p_exp_neg_abs<T: Float>(v: T) -> T {
    (-v.abs()).exp().ln_1p()
}

impl<T: Float> Tensor<T> {
    /// Returns the logistic function `1 / (1 + e^-x)` element-wise, computed
    /// without overflow: `sigmoid(±1000)` is exactly 1 and 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![0.0f32, 1000.0, -1000.0], [3]).unwrap().requires_grad();
    /// let y = x.sigmoid();
    /// assert_eq!(y.to_vec(), vec![0.5, 1.0, 0.0]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.25, 0.0, 0.0]);
    /// ```
    pub fn sigmoid(&self) -> Tensor<T> {
        let y = self.map(|v| {
            if v >= T::ZERO {
                T::ONE / (T::ONE + (-v).exp())
            } else {
                // Also taken by NaN, which propagates through exp.
                let e = v.exp();
                e / (T::ONE + e)
            }
        });
        Tensor::from_op_with_output(y, &[self], |y| SigmoidBackward { y: y.clone() })
    }

    /// Returns `ln(1 + e^x)` element-wise, computed as
    /// `max(x, 0) + ln_1p(e^-|x|)`: finite for every finite input.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![0.0f64, 1000.0, -1000.0], [3]).unwrap().requires_grad();
    /// let y = x.softplus();
    /// assert_eq!(y.to_vec(), vec![std::f64::consts::LN_2, 1000.0, 0.0]);
    /// let g = y.sum().backward().unwrap(); // sigmoid(x)
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.5, 1.0, 0.0]);
    /// ```
    pub fn softplus(&self) -> Tensor<T> {
        let y = self.map(|v| {
            let pos = if v > T::ZERO { v } else { T::ZERO };
            pos + log1p_exp_neg_abs(v)
        });
        Tensor::from_op(y, &[self], || SoftplusBackward { x: self.clone() })
    }

    /// Returns `ln(sigmoid(x)) = -softplus(-x)` element-wise, computed as
    /// `min(x, 0) - ln_1p(e^-|x|)`: finite for every finite input.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![0.0f64, 1000.0, -1000.0], [3]).unwrap().requires_grad();
    /// let y = x.log_sigmoid();
    /// assert_eq!(y.to_vec(), vec![-std::f64::consts::LN_2, 0.0, -1000.0]);
    /// let g = y.sum().backward().unwrap(); // sigmoid(-x)
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.5, 0.0, 1.0]);
    /// ```
    pub fn log_sigmoid(&self) -> Tensor<T> {
        let y = self.map(|v| {
            let neg = if v < T::ZERO { v } else { T::ZERO };
            neg - log1p_exp_neg_abs(v)
        });
        Tensor::from_op(y, &[self], || LogSigmoidBackward { x: self.clone() })
    }
}

/// Backward of [`Tensor::sigmoid`]: saves the output.
struct SigmoidBackward<T: Float> {
    y: Tensor<T>,
}

impl<T: Float> Backward<T> for SigmoidBackward<T> {
    fn name(&self) -> &'static str {
        "sigmoid"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let slope = &self.y * &self.y.neg().add_scalar(T::ONE);
        Ok(smallvec![Some(grad_out * &slope)])
    }
}

/// Backward of [`Tensor::softplus`]: saves the input.
struct SoftplusBackward<T: Float> {
    x: Tensor<T>,
}

impl<T: Float> Backward<T> for SoftplusBackward<T> {
    fn name(&self) -> &'static str {
        "softplus"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out * &self.x.sigmoid())])
    }
}

/// Backward of [`Tensor::log_sigmoid`]: saves the input.
struct LogSigmoidBackward<T: Float> {
    x: Tensor<T>,
}

impl<T: Float> Backward<T> for LogSigmoidBackward<T> {
    fn name(&self) -> &'static str {
        "log_sigmoid"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out * &self.x.neg().sigmoid())])
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;
    use crate::testing::*;

    #[test]
    fn sigmoid_golden_values() {
        // Hand-derived: sigmoid(0) = 1/2, sigmoid'(0) = 1/4 (exact in binary);
        // sigmoid(ln 3) = 3/4 with slope 3/16.
        assert_eq!(
            value_and_grad(&[0.0], Tensor::sigmoid),
            (vec![0.5], vec![0.25])
        );
        let (y, g) = value_and_grad(&[3.0f64.ln()], Tensor::sigmoid);
        assert!((y[0] - 0.75).abs() < 1e-15 && (g[0] - 0.1875).abs() < 1e-15);
        let (y, g) = value_and_grad(&[-(3.0f64.ln())], Tensor::sigmoid);
        assert!((y[0] - 0.25).abs() < 1e-15 && (g[0] - 0.1875).abs() < 1e-15);
    }

    #[test]
    fn softplus_and_log_sigmoid_golden_values() {
        // Hand-derived: softplus(ln 3) = ln 4 with slope 3/4; log_sigmoid(ln 3) = ln(3/4)
        // with slope 1/4.
        let (y, g) = value_and_grad(&[3.0f64.ln()], Tensor::softplus);
        assert!((y[0] - 4.0f64.ln()).abs() < 1e-15 && (g[0] - 0.75).abs() < 1e-15);
        let (y, g) = value_and_grad(&[3.0f64.ln()], Tensor::log_sigmoid);
        assert!((y[0] - 0.75f64.ln()).abs() < 1e-15 && (g[0] - 0.25).abs() < 1e-15);
    }

    #[test]
    fn sigmoid_family_is_exact_and_finite_at_plus_minus_1000() {
        let x = [-1000.0, 1000.0];
        assert_eq!(
            value_and_grad(&x, Tensor::sigmoid),
            (vec![0.0, 1.0], vec![0.0, 0.0])
        );
        assert_eq!(
            value_and_grad(&x, Tensor::softplus),
            (vec![0.0, 1000.0], vec![0.0, 1.0])
        );
        assert_eq!(
            value_and_grad(&x, Tensor::log_sigmoid),
            (vec![-1000.0, 0.0], vec![1.0, 0.0])
        );
        // Also in f32, where e^89 already overflows.
        let x32 = Tensor::from_vec(vec![-1000.0f32, 1000.0], [2]).unwrap();
        assert_eq!(x32.sigmoid().to_vec(), vec![0.0, 1.0]);
        assert_eq!(x32.softplus().to_vec(), vec![0.0, 1000.0]);
        assert_eq!(x32.log_sigmoid().to_vec(), vec![-1000.0, 0.0]);
    }

    #[test]
    fn softplus_keeps_relative_precision_for_large_negative_inputs() {
        // softplus(-50) = ln(1 + e^-50) = e^-50 (1 - e^-50 / 2 + ...) = e^-50 to f64 precision.
        let y = Tensor::from_vec(vec![-50.0f64], [1])
            .unwrap()
            .softplus()
            .item();
        assert!((y / (-50.0f64).exp() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn sigmoid_family_propagates_nan() {
        for f in [Tensor::sigmoid, Tensor::softplus, Tensor::log_sigmoid] {
            let (y, g) = value_and_grad(&[f64::NAN], f);
            assert!(y[0].is_nan() && g[0].is_nan());
        }
    }

    #[test]
    fn sigmoid_family_keeps_rank_zero_and_empty_shapes() {
        let s = Tensor::scalar(0.0f64);
        assert_eq!(s.sigmoid().rank(), 0);
        assert_eq!(s.softplus().item(), std::f64::consts::LN_2);
        let e = Tensor::<f32>::zeros([0]).requires_grad();
        let y = &(&e.sigmoid() + &e.softplus()) + &e.log_sigmoid();
        assert_eq!(y.dims(), &[0]);
        assert_eq!(y.sum().backward().unwrap().get(&e).unwrap().dims(), &[0]);
    }

    #[test]
    fn softplus_second_derivative_is_sigmoid_slope() {
        // Hand-derived: softplus'' = sigmoid' = 1/4 at 0.
        let h = second_derivative(&[0.0], Tensor::softplus)[0];
        assert_eq!(h, 0.25);
    }

    proptest! {
        #[test]
        fn sigmoid_grad_matches_finite_differences(x in tensor(any_shape(), -8.0..8.0)) {
            check_grads!([x], |a| a.sigmoid())?;
        }

        #[test]
        fn softplus_grad_matches_finite_differences(x in tensor(any_shape(), -8.0..8.0)) {
            check_grads!([x], |a| a.softplus())?;
        }

        #[test]
        fn log_sigmoid_grad_matches_finite_differences(x in tensor(any_shape(), -8.0..8.0)) {
            check_grads!([x], |a| a.log_sigmoid())?;
        }
    }
}
