//! GELU, exact (`gelu_erf`) and with the tanh approximation (`gelu`).
//!
//! - `y = gelu_erf(x) = x Φ(x)`, `Φ(x) = (1 + erf(x / √2)) / 2` the standard
//!   normal CDF: `grad_x = grad_out * (Φ(x) + x φ(x))`, with
//!   `φ(x) = e^(-x²/2) / √(2π)` the standard normal density.
//! - `y = gelu(x) = x (1 + tanh(u)) / 2`, `u = √(2/π) (x + 0.044715 x³)`:
//!   `grad_x = grad_out * ((1 + t) / 2 + x (1 - t²) √(2/π) (1 + 3 · 0.044715 x²) / 2)`,
//!   `t = tanh(u)`.
//!
//! Domain: all reals. Smooth: no kinks. NaN in, NaN out (value and gradient).
//!
//! Stability: `Φ` is evaluated as `erfc(-x / √2) / 2`, which keeps full relative
//! precision in the left tail (`gelu_erf(-10) ≈ -7.6e-23`, where
//! `1 + erf(x / √2)` would cancel to 0); in `f32` it is evaluated in `f64` and
//! rounded once. Both forms tend to `x` for large positive `x` and to `-0` for
//! large negative `x`. Both backward rules are built from the saved input with
//! differentiable ops (`Φ` is a private op whose own gradient is `φ`), so they
//! can be differentiated again.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use smallvec::smallvec;

use crate::error::Result;
use crate::tape::{Backward, Grads};
use crate::{Float, Tensor};

/// The cubic coefficient of the tanh approximation.
const GELU_CUBIC: f64 = 0.044_715;

/// `√(2/π)`.
fn sqrt_2_over_pi<T: Float>() -> T {
    T::from_f64((2.0 / PI).sqrt())
}

/// `Φ(v) = erfc(-v / √2) / 2`, computed in `f64`.
fn normal_cdf<T: Float>(v: T) -> T {
    T::from_f64(0.5 * libm::erfc(-v.to_f64() * FRAC_1_SQRT_2))
}

/// The standard normal density `φ(x)` of a tensor, with differentiable ops.
fn normal_pdf<T: Float>(x: &Tensor<T>) -> Tensor<T> {
    x.square()
        .mul_scalar(T::from_f64(-0.5))
        .exp()
        .mul_scalar(T::from_f64(1.0 / (2.0 * PI).sqrt()))
}

impl<T: Float> Tensor<T> {
    /// Returns the GELU with the tanh approximation,
    /// `x (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2`, element-wise (PyTorch's
    /// `gelu(x, approximate="tanh")`).
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![0.0f64, 1.0], [2]).unwrap();
    /// let y = x.gelu().to_vec();
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.8411919906082768).abs() < 1e-15);
    /// ```
    pub fn gelu(&self) -> Tensor<T> {
        let k = sqrt_2_over_pi::<T>();
        let c = T::from_f64(GELU_CUBIC);
        let half = T::from_f64(0.5);
        let y = self.map(|v| half * v * (T::ONE + (k * (v + c * v * v * v)).tanh()));
        Tensor::from_op(y, &[self], || GeluBackward { x: self.clone() })
    }

    /// Returns the exact GELU `x Φ(x)`, `Φ` the standard normal CDF,
    /// element-wise (PyTorch's default `gelu`).
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![0.0f64, 1.0], [2]).unwrap().requires_grad();
    /// let y = x.gelu_erf();
    /// assert_eq!(y.to_vec()[0], 0.0);
    /// assert!((y.to_vec()[1] - 0.8413447460685429).abs() < 1e-15);
    /// let g = y.sum().backward().unwrap().get(&x).unwrap().to_vec();
    /// assert_eq!(g[0], 0.5); // Φ(0)
    /// ```
    pub fn gelu_erf(&self) -> Tensor<T> {
        let y = self.map(|v| v * normal_cdf(v));
        Tensor::from_op(y, &[self], || GeluErfBackward { x: self.clone() })
    }

    /// The standard normal CDF `Φ(x)` as a differentiable op (used by the
    /// gradient of `gelu_erf`).
    fn normal_cdf(&self) -> Tensor<T> {
        Tensor::from_op(self.map(normal_cdf), &[self], || NormalCdfBackward {
            x: self.clone(),
        })
    }
}

/// Backward of [`Tensor::gelu`]: saves the input.
struct GeluBackward<T: Float> {
    x: Tensor<T>,
}

impl<T: Float> Backward<T> for GeluBackward<T> {
    fn name(&self) -> &'static str {
        "gelu"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let half = T::from_f64(0.5);
        let k = sqrt_2_over_pi::<T>();
        let c = T::from_f64(GELU_CUBIC);
        let x2 = self.x.square();
        let t = (&self.x * &x2.mul_scalar(c).add_scalar(T::ONE))
            .mul_scalar(k)
            .tanh();
        // (1 + t) / 2 + x (1 - t²) k (1 + 3c x²) / 2
        let left = t.add_scalar(T::ONE).mul_scalar(half);
        let sech2 = t.square().neg().add_scalar(T::ONE);
        let du = x2
            .mul_scalar(T::from_f64(3.0 * GELU_CUBIC))
            .add_scalar(T::ONE)
            .mul_scalar(k * half);
        let slope = &left + &(&(&self.x * &sech2) * &du);
        Ok(smallvec![Some(grad_out * &slope)])
    }
}

/// Backward of [`Tensor::gelu_erf`]: saves the input.
struct GeluErfBackward<T: Float> {
    x: Tensor<T>,
}

impl<T: Float> Backward<T> for GeluErfBackward<T> {
    fn name(&self) -> &'static str {
        "gelu_erf"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let slope = &self.x.normal_cdf() + &(&self.x * &normal_pdf(&self.x));
        Ok(smallvec![Some(grad_out * &slope)])
    }
}

/// Backward of the private `normal_cdf` op: saves the input.
struct NormalCdfBackward<T: Float> {
    x: Tensor<T>,
}

impl<T: Float> Backward<T> for NormalCdfBackward<T> {
    fn name(&self) -> &'static str {
        "normal_cdf"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out * &normal_pdf(&self.x))])
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;
    use crate::testing::*;

    #[test]
    fn gelu_erf_golden_value() {
        // torch.nn.functional.gelu(torch.tensor(1.0, dtype=torch.float64)) = 0.8413447460685429;
        // slope Φ(1) + φ(1) = 1.0833154705876863 (hand-derived, mpmath ncdf(1) + npdf(1)).
        let (y, g) = value_and_grad(&[1.0], Tensor::gelu_erf);
        assert!((y[0] - 0.8413447460685429).abs() < 1e-15);
        assert!((g[0] - 1.0833154705876863).abs() < 1e-15);
    }

    #[test]
    fn gelu_tanh_golden_value() {
        // torch.nn.functional.gelu(torch.tensor(1.0, dtype=torch.float64), approximate="tanh")
        // = 0.8411919906082768; slope 1.0829640838457826 (hand-derived from the formula).
        let (y, g) = value_and_grad(&[1.0], Tensor::gelu);
        assert!((y[0] - 0.8411919906082768).abs() < 1e-15);
        assert!((g[0] - 1.0829640838457826).abs() < 1e-15);
    }

    #[test]
    fn gelu_erf_keeps_relative_precision_in_the_left_tail() {
        // mpmath: -10 * ncdf(-10) = -7.619853024160526e-23.
        let y = Tensor::scalar(-10.0f64).gelu_erf().item();
        assert!((y / -7.619853024160526e-23 - 1.0).abs() < 1e-13, "{y}");
    }

    #[test]
    fn gelu_saturates_with_finite_gradients() {
        for f in [Tensor::gelu, Tensor::gelu_erf] {
            let (y, g) = value_and_grad(&[-1000.0, 1000.0], f);
            assert_eq!(y, vec![0.0, 1000.0]);
            assert_eq!(g, vec![0.0, 1.0]);
        }
    }

    #[test]
    fn gelu_propagates_nan() {
        for f in [Tensor::gelu, Tensor::gelu_erf] {
            let (y, g) = value_and_grad(&[f64::NAN], f);
            assert!(y[0].is_nan() && g[0].is_nan());
        }
    }

    #[test]
    fn gelu_keeps_rank_zero_and_empty_shapes() {
        let s = Tensor::scalar(0.0f32);
        assert_eq!(s.gelu().rank(), 0);
        assert_eq!(s.gelu_erf().item(), 0.0);
        let e = Tensor::<f64>::zeros([1, 0]).requires_grad();
        let y = &e.gelu() + &e.gelu_erf();
        assert_eq!(y.dims(), &[1, 0]);
        assert_eq!(y.sum().backward().unwrap().get(&e).unwrap().dims(), &[1, 0]);
    }

    #[test]
    fn gelu_erf_second_derivative_matches_hand_derived() {
        // Hand-derived: d/dx (Φ + xφ) = 2φ - x²φ; at 1 that is φ(1) = 0.24197072451914337,
        // at 0 it is 2φ(0) = 2/√(2π).
        let h = second_derivative(&[1.0, 0.0], Tensor::gelu_erf);
        assert!((h[0] - 0.24197072451914337).abs() < 1e-15);
        assert!((h[1] - 2.0 / (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn gelu_second_derivative_matches_finite_differences() {
        let x = [-1.3, -0.2, 0.4, 2.1];
        let eps = 1e-6;
        let h = second_derivative(&x, Tensor::gelu);
        let shifted = |d: f64| value_and_grad(&x.map(|v| v + d), Tensor::gelu).1;
        let (plus, minus) = (shifted(eps), shifted(-eps));
        for k in 0..x.len() {
            let numeric = (plus[k] - minus[k]) / (2.0 * eps);
            assert!(
                (h[k] - numeric).abs() < 1e-7,
                "at {}: {} vs {numeric}",
                x[k],
                h[k]
            );
        }
    }

    proptest! {
        #[test]
        fn gelu_grad_matches_finite_differences(x in tensor(any_shape(), -4.0..4.0)) {
            check_grads!([x], |a| a.gelu())?;
        }

        #[test]
        fn gelu_erf_grad_matches_finite_differences(x in tensor(any_shape(), -4.0..4.0)) {
            check_grads!([x], |a| a.gelu_erf())?;
        }
    }
}
