//! `abs` and `clamp`: piecewise-linear, with constant slopes.
//!
//! - `y = |x|`: `grad_x = grad_out * sign(x)`.
//! - `y = clamp(x, min, max) = min(max(x, min), max)`:
//!   `grad_x = grad_out * (min <= x <= max ? 1 : 0)`.
//!
//! Domain: all reals, any bounds.
//!
//! Kinks, as PyTorch: `abs'(0) = sign(0) = 0` (also for `-0.0`); the gradient
//! of `clamp` is 1 strictly inside *and at* the bounds, 0 outside. With
//! `min > max` the result is `max` everywhere (the `max` bound is applied last,
//! as in PyTorch) and the gradient is 0 everywhere, since the output no longer
//! depends on `x`.
//!
//! NaN: `abs(NaN)` and `clamp(NaN)` are NaN, with a NaN gradient. A NaN bound
//! compares false with everything, so it clamps nothing (the other bound still
//! applies), like PyTorch's CPU kernel.

use smallvec::smallvec;

use super::relu::slope_where;
use crate::error::Result;
use crate::tape::{Backward, Grads};
use crate::{Float, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns `|x|` element-wise.
    ///
    /// The gradient at 0 is 0 (`sign(0) = 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![-2.0f32, 0.0, 3.0], [3]).unwrap().requires_grad();
    /// let y = x.abs();
    /// assert_eq!(y.to_vec(), vec![2.0, 0.0, 3.0]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![-1.0, 0.0, 1.0]);
    /// ```
    pub fn abs(&self) -> Tensor<T> {
        Tensor::from_op(self.map(Float::abs), &[self], || AbsBackward {
            sign: slope_where(self, |v| {
                if v > T::ZERO {
                    T::ONE
                } else if v < T::ZERO {
                    -T::ONE
                } else {
                    T::ZERO
                }
            }),
        })
    }

    /// Returns `x` limited to `[min, max]` element-wise:
    /// `min(max(x, min), max)`.
    ///
    /// The gradient is 1 where `min <= x <= max` (bounds included) and 0
    /// outside. `min > max` is not an error: as in PyTorch, every element then
    /// becomes `max`, with a zero gradient. `clamp(NaN) = NaN`; a NaN bound is
    /// ignored. Pass `T::NEG_INFINITY` or `T::INFINITY` for a one-sided clamp.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![-2.0f64, 0.0, 1.0, 3.0], [4]).unwrap().requires_grad();
    /// let y = x.clamp(0.0, 1.0);
    /// assert_eq!(y.to_vec(), vec![0.0, 0.0, 1.0, 1.0]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.0, 1.0, 1.0, 0.0]);
    ///
    /// assert_eq!(x.clamp(2.0, 1.0).to_vec(), vec![1.0; 4]); // min > max: max everywhere
    /// ```
    pub fn clamp(&self, min: T, max: T) -> Tensor<T> {
        // Explicit comparisons: `f32::max(NaN, min)` would return `min`.
        let y = self.map(|v| {
            let lower = if v < min { min } else { v };
            if lower > max { max } else { lower }
        });
        Tensor::from_op(y, &[self], || ClampBackward {
            // 1 exactly where the output is `x` itself; with min > max no `x`
            // passes both tests.
            mask: slope_where(self, |v| {
                if v < min || v > max || min > max {
                    T::ZERO
                } else {
                    T::ONE
                }
            }),
        })
    }
}

/// Backward of [`Tensor::abs`]: saves `sign(x)`.
struct AbsBackward<T: Float> {
    sign: Tensor<T>,
}

impl<T: Float> Backward<T> for AbsBackward<T> {
    fn name(&self) -> &'static str {
        "abs"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out * &self.sign)])
    }
}

/// Backward of [`Tensor::clamp`]: saves the mask, 1 where `min <= x <= max`.
struct ClampBackward<T: Float> {
    mask: Tensor<T>,
}

impl<T: Float> Backward<T> for ClampBackward<T> {
    fn name(&self) -> &'static str {
        "clamp"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out * &self.mask)])
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;
    use crate::testing::*;

    /// An element-wise op under test.
    type UnaryOp = fn(&Tensor<f64>) -> Tensor<f64>;

    #[test]
    fn abs_golden_values() {
        // Hand-derived: |-1.5| = 1.5 with slope -1; |2| = 2 with slope 1.
        assert_eq!(
            value_and_grad(&[-1.5, 2.0], Tensor::abs),
            (vec![1.5, 2.0], vec![-1.0, 1.0])
        );
    }

    #[test]
    fn abs_grad_at_zero_is_zero() {
        assert_eq!(
            value_and_grad(&[0.0, -0.0], Tensor::abs),
            (vec![0.0, 0.0], vec![0.0, 0.0])
        );
    }

    #[test]
    fn clamp_golden_values() {
        // torch.tensor([-3., -0.5, 0.25, 2.], dtype=torch.float64, requires_grad=True)
        //     .clamp(-1, 1) = [-1, -0.5, 0.25, 1], gradient of its sum [0, 1, 1, 0].
        let (y, g) = value_and_grad(&[-3.0, -0.5, 0.25, 2.0], |x| x.clamp(-1.0, 1.0));
        assert_eq!(y, vec![-1.0, -0.5, 0.25, 1.0]);
        assert_eq!(g, vec![0.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn clamp_grad_at_the_bounds_is_one() {
        let (y, g) = value_and_grad(&[-1.0, 1.0], |x| x.clamp(-1.0, 1.0));
        assert_eq!(y, vec![-1.0, 1.0]);
        assert_eq!(g, vec![1.0, 1.0]);
        // Degenerate interval min = max = x.
        assert_eq!(
            value_and_grad(&[0.5], |x| x.clamp(0.5, 0.5)),
            (vec![0.5], vec![1.0])
        );
    }

    #[test]
    fn clamp_with_min_above_max_is_max_everywhere_with_zero_grad() {
        let (y, g) = value_and_grad(&[-5.0, 0.0, 1.0, 1.5, 2.0, 9.0], |x| x.clamp(2.0, 1.0));
        assert_eq!(y, vec![1.0; 6]);
        assert_eq!(g, vec![0.0; 6]);
    }

    #[test]
    fn clamp_with_infinite_bounds_is_one_sided() {
        let (y, g) = value_and_grad(&[-2.0, 2.0], |x| x.clamp(f64::NEG_INFINITY, 0.0));
        assert_eq!(y, vec![-2.0, 0.0]);
        assert_eq!(g, vec![1.0, 0.0]);
    }

    #[test]
    fn clamp_ignores_a_nan_bound() {
        let (y, g) = value_and_grad(&[-2.0, 2.0], |x| x.clamp(f64::NAN, 1.0));
        assert_eq!(y, vec![-2.0, 1.0]);
        assert_eq!(g, vec![1.0, 0.0]);
    }

    #[test]
    fn abs_and_clamp_propagate_nan_to_value_and_gradient() {
        let fs: [UnaryOp; 3] = [Tensor::abs, |x| x.clamp(-1.0, 1.0), |x| x.clamp(1.0, -1.0)];
        for f in fs {
            let (y, g) = value_and_grad(&[f64::NAN], f);
            assert!(y[0].is_nan() && g[0].is_nan(), "{y:?} {g:?}");
        }
        // f32, where `f32::max` would hide the NaN.
        assert!(
            Tensor::from_vec(vec![f32::NAN], [1])
                .unwrap()
                .clamp(0.0, 1.0)
                .item()
                .is_nan()
        );
    }

    #[test]
    fn abs_and_clamp_keep_rank_zero_and_empty_shapes() {
        let s = Tensor::scalar(-4.0f64);
        assert_eq!(s.abs().rank(), 0);
        assert_eq!(s.clamp(-1.0, 1.0).item(), -1.0);
        let e = Tensor::<f32>::zeros([0, 2, 1]).requires_grad();
        let y = &e.abs() + &e.clamp(0.0, 1.0);
        assert_eq!(y.dims(), &[0, 2, 1]);
        assert_eq!(
            y.sum().backward().unwrap().get(&e).unwrap().dims(),
            &[0, 2, 1]
        );
    }

    proptest! {
        #[test]
        fn abs_grad_matches_finite_differences(
            x in tensor(any_shape(), Domain::away_from(&[0.0], 0.05)),
        ) {
            check_grads!([x], |a| a.abs())?;
        }

        #[test]
        fn clamp_grad_matches_finite_differences(
            x in tensor(any_shape(), Domain::away_from(&[-1.0, 0.5], 0.05)),
        ) {
            check_grads!([x], |a| a.clamp(-1.0, 0.5))?;
        }
    }
}
