//! Powers: `sqrt`, `square`, `recip` and `powf` with a scalar exponent.
//!
//! - `y = sqrt(x)`: `grad_x = grad_out / (2 y)` (uses the saved output).
//! - `y = x²`: `grad_x = grad_out * 2x`.
//! - `y = 1 / x`: `grad_x = -grad_out / x²`.
//! - `y = x^p` (`p` a scalar): `grad_x = grad_out * p * x^(p-1)`; for `p = 0`,
//!   `grad_x = 0` everywhere, also at `x = 0` (never `0 * inf = NaN`), as PyTorch.
//!
//! Domains and edges follow IEEE, as PyTorch does:
//! - `sqrt` is defined for `x >= 0`; `sqrt(x < 0) = NaN`. Its derivative at 0 is
//!   `+inf` (`grad_out / 0`). Because of that, masking the *output* does not mask
//!   the gradient: `where(x > 0, sqrt(x), 0)` at `x = 0` sends a zero `grad_out`
//!   into the unselected `sqrt` branch, and `0 / 0 = NaN` poisons the gradient,
//!   exactly as in PyTorch. Mask the *input* instead: `sqrt(where(x > 0, x, 1))`
//!   (then select the output), so that `sqrt` never sees 0.
//! - `recip(0) = inf` with gradient `-inf`.
//! - `powf`: `0^0 = 1` and `NaN^0 = 1` (IEEE `pow`); a negative base with a
//!   non-integer exponent gives NaN.
//!
//! All four are smooth on their domains: no kinks. The backward rules of
//! `square`, `recip` and `powf` are written on the saved input with
//! differentiable ops, so they can be differentiated again.

use smallvec::smallvec;

use crate::error::Result;
use crate::tape::{Backward, Grads};
use crate::{Float, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns the square root element-wise (NaN for negative inputs).
    ///
    /// The gradient at 0 is `+inf`; see the module notes on masking a `sqrt`.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![4.0f64, 0.0], [2]).unwrap().requires_grad();
    /// let y = x.sqrt();
    /// assert_eq!(y.to_vec(), vec![2.0, 0.0]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.25, f64::INFINITY]);
    /// ```
    pub fn sqrt(&self) -> Tensor<T> {
        let y = self.map(Float::sqrt);
        Tensor::from_op_with_output(y, &[self], |y| SqrtBackward { y: y.clone() })
    }

    /// Returns `x²` element-wise.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![-3.0f32, 0.5], [2]).unwrap().requires_grad();
    /// let y = x.square();
    /// assert_eq!(y.to_vec(), vec![9.0, 0.25]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![-6.0, 1.0]);
    /// ```
    pub fn square(&self) -> Tensor<T> {
        Tensor::from_op(self.map(|v| v * v), &[self], || SquareBackward {
            x: self.clone(),
        })
    }

    /// Returns `1 / x` element-wise (IEEE: `1 / 0 = inf`).
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![2.0f64, -4.0], [2]).unwrap().requires_grad();
    /// let y = x.recip();
    /// assert_eq!(y.to_vec(), vec![0.5, -0.25]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![-0.25, -0.0625]);
    /// ```
    pub fn recip(&self) -> Tensor<T> {
        Tensor::from_op(self.map(|v| T::ONE / v), &[self], || RecipBackward {
            x: self.clone(),
        })
    }

    /// Returns `x^p` element-wise for a scalar exponent `p`.
    ///
    /// `0^0 = 1`, and with `p = 0` the gradient is exactly zero everywhere,
    /// including at `x = 0`. A negative base with a non-integer `p` gives NaN.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![4.0f64, 0.0], [2]).unwrap().requires_grad();
    /// let y = x.powf(1.5);
    /// assert_eq!(y.to_vec(), vec![8.0, 0.0]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![3.0, 0.0]); // 1.5 * x^0.5
    ///
    /// let g0 = x.powf(0.0).sum().backward().unwrap();
    /// assert_eq!(g0.get(&x).unwrap().to_vec(), vec![0.0, 0.0]);
    /// ```
    pub fn powf(&self, p: T) -> Tensor<T> {
        Tensor::from_op(self.map(|v| v.powf(p)), &[self], || PowfBackward {
            x: self.clone(),
            p,
        })
    }
}

/// Backward of [`Tensor::sqrt`]: saves the output.
struct SqrtBackward<T: Float> {
    y: Tensor<T>,
}

impl<T: Float> Backward<T> for SqrtBackward<T> {
    fn name(&self) -> &'static str {
        "sqrt"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        // grad_out / (2y), not grad_out * 0.5 / y: the same at y = 0 (inf), and
        // one rounding fewer elsewhere.
        Ok(smallvec![Some(
            grad_out / &self.y.mul_scalar(T::from_f64(2.0))
        )])
    }
}

/// Backward of [`Tensor::square`]: saves the input.
struct SquareBackward<T: Float> {
    x: Tensor<T>,
}

impl<T: Float> Backward<T> for SquareBackward<T> {
    fn name(&self) -> &'static str {
        "square"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(
            grad_out * &self.x.mul_scalar(T::from_f64(2.0))
        )])
    }
}

/// Backward of [`Tensor::recip`]: saves the input.
struct RecipBackward<T: Float> {
    x: Tensor<T>,
}

impl<T: Float> Backward<T> for RecipBackward<T> {
    fn name(&self) -> &'static str {
        "recip"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some((grad_out / &self.x.square()).neg())])
    }
}

/// Backward of [`Tensor::powf`]: saves the input and the exponent.
struct PowfBackward<T: Float> {
    x: Tensor<T>,
    p: T,
}

impl<T: Float> Backward<T> for PowfBackward<T> {
    fn name(&self) -> &'static str {
        "powf"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        if self.p == T::ZERO {
            // The constant 1 has a zero derivative; p * x^(p-1) would be 0 * inf at x = 0.
            return Ok(smallvec![Some(grad_out.zeros_like())]);
        }
        let slope = self.x.powf(self.p - T::ONE).mul_scalar(self.p);
        Ok(smallvec![Some(grad_out * &slope)])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{BackwardOptions, Tensor};

    /// The gradient of `sum(f(x))` with respect to `x`.
    fn grad(x: &[f64], f: impl Fn(&Tensor<f64>) -> Tensor<f64>) -> Vec<f64> {
        value_and_grad(x, f).1
    }

    #[test]
    fn powers_golden_values() {
        // Hand-derived: sqrt(2.25) = 1.5, sqrt'(2.25) = 1/3; (-1.5)² = 2.25 with
        // slope -3; 1/-0.5 = -2 with slope -4; 8^(2/3) = 4 with slope (2/3) 8^(-1/3) = 1/3.
        let x = [2.25f64];
        assert_eq!(Tensor::from_slice(&x, [1]).unwrap().sqrt().item(), 1.5);
        assert!((grad(&x, Tensor::sqrt)[0] - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(grad(&[-1.5], Tensor::square), vec![-3.0]);
        assert_eq!(grad(&[-0.5], Tensor::recip), vec![-4.0]);
        let y = Tensor::from_vec(vec![8.0f64], [1])
            .unwrap()
            .powf(2.0 / 3.0)
            .item();
        assert!((y - 4.0).abs() < 1e-14);
        assert!((grad(&[8.0], |x| x.powf(2.0 / 3.0))[0] - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn sqrt_grad_at_zero_is_infinite() {
        assert_eq!(grad(&[0.0], Tensor::sqrt), vec![f64::INFINITY]);
    }

    #[test]
    fn masking_a_sqrt_output_at_zero_gives_a_nan_gradient() {
        // The documented PyTorch behaviour: grad_out = 0 reaches sqrt at x = 0,
        // and 0 / (2 * 0) = NaN. The mask here is a constant 0 at x = 0.
        let x = Tensor::from_vec(vec![0.0f64, 4.0], [2])
            .unwrap()
            .requires_grad();
        let mask = Tensor::from_vec(vec![0.0, 1.0], [2]).unwrap();
        let g = (&x.sqrt() * &mask).sum().backward().unwrap();
        let g = g.get(&x).unwrap().to_vec();
        assert!(g[0].is_nan());
        assert_eq!(g[1], 0.25);
    }

    #[test]
    fn sqrt_of_negative_is_nan() {
        let y = Tensor::from_vec(vec![-1.0f32], [1]).unwrap().sqrt();
        assert!(y.item().is_nan());
    }

    #[test]
    fn recip_at_zero_follows_ieee() {
        assert_eq!(
            Tensor::from_vec(vec![0.0f64], [1]).unwrap().recip().item(),
            f64::INFINITY
        );
        assert_eq!(grad(&[0.0], Tensor::recip), vec![f64::NEG_INFINITY]);
    }

    #[test]
    fn powf_zero_is_one_with_zero_grad_everywhere() {
        let x = [0.0, -2.0, 3.0, f64::INFINITY];
        let y = Tensor::from_slice(&x, [4]).unwrap().powf(0.0);
        assert_eq!(y.to_vec(), vec![1.0; 4]);
        assert_eq!(grad(&x, |t| t.powf(0.0)), vec![0.0; 4]);
    }

    #[test]
    fn powf_at_zero_base() {
        // p = 1: slope 1 * 0^0 = 1; p = 2: slope 2 * 0 = 0; p = 0.5: slope +inf.
        assert_eq!(grad(&[0.0], |t| t.powf(1.0)), vec![1.0]);
        assert_eq!(grad(&[0.0], |t| t.powf(2.0)), vec![0.0]);
        assert_eq!(grad(&[0.0], |t| t.powf(0.5)), vec![f64::INFINITY]);
    }

    #[test]
    fn powf_of_negative_base_with_fractional_exponent_is_nan() {
        assert!(
            Tensor::from_vec(vec![-2.0f64], [1])
                .unwrap()
                .powf(0.5)
                .item()
                .is_nan()
        );
        assert_eq!(
            Tensor::from_vec(vec![-2.0f64], [1])
                .unwrap()
                .powf(3.0)
                .item(),
            -8.0
        );
    }

    #[test]
    fn powers_keep_rank_zero_and_empty_shapes() {
        let s = Tensor::scalar(9.0f64);
        assert_eq!(s.sqrt().rank(), 0);
        assert_eq!(s.sqrt().item(), 3.0);
        let e = Tensor::<f32>::zeros([2, 0]).requires_grad();
        for y in [e.sqrt(), e.square(), e.recip(), e.powf(2.5)] {
            assert_eq!(y.dims(), &[2, 0]);
        }
        let g = e.square().sum().backward().unwrap();
        assert_eq!(g.get(&e).unwrap().dims(), &[2, 0]);
    }

    #[test]
    fn powf_second_derivative_matches_hand_derived() {
        // d²/dx² x^3 = 6x = 12 at x = 2 (the backward rule is itself recorded).
        let x = Tensor::from_vec(vec![2.0f64], [1]).unwrap().requires_grad();
        let opts = BackwardOptions {
            create_graph: true,
            ..Default::default()
        };
        let g = x.powf(3.0).sum().backward_with(None, opts).unwrap();
        let g = g.get(&x).unwrap().clone();
        assert_eq!(g.to_vec(), vec![12.0]);
        let h = g.sum().backward().unwrap();
        assert_eq!(h.get(&x).unwrap().to_vec(), vec![12.0]);
    }

    proptest! {
        #[test]
        fn sqrt_grad_matches_finite_differences(x in tensor(any_shape(), Domain::positive())) {
            check_grads!([x], |a| a.sqrt())?;
        }

        #[test]
        fn square_grad_matches_finite_differences(x in tensor(any_shape(), -3.0..3.0)) {
            check_grads!([x], |a| a.square())?;
        }

        #[test]
        fn recip_grad_matches_finite_differences(
            x in tensor(any_shape(), Domain::away_from(&[0.0], 0.3)),
        ) {
            check_grads!([x], |a| a.recip())?;
        }

        #[test]
        fn powf_grad_matches_finite_differences(
            x in tensor(any_shape(), Domain::positive()),
            p in -2.0f64..3.0,
        ) {
            check_grads!([x], |a| a.powf(p as _))?;
        }

        #[test]
        fn powf_integer_exponent_grad_matches_finite_differences_for_negative_bases(
            x in tensor(any_shape(), -3.0..3.0),
            p in 0u8..4,
        ) {
            check_grads!([x], |a| a.powf(p as _))?;
        }
    }
}
