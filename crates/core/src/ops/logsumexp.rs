//! `logsumexp`: `y = ln Σ e^x` over everything or over axes, fused for
//! stability.
//!
//! - Forward, per reduced window: `m = max(x)` (`0` instead when `m` is `±inf`),
//!   `y = m + ln Σ e^(x - m)`. No term overflows, and the largest is exactly 1,
//!   so `logsumexp([1000, 999, -1000]) = 1000 + ln(1 + e^-1 + e^-2000)`.
//! - `grad_x = broadcast(grad_out) * exp(x - broadcast(y))` (uses the saved input
//!   and output): the softmax of the window.
//!
//! Conventions: a window of all `-inf` has value `-inf` and, by definition,
//! gradient `0` in that window (not the `exp(-inf - -inf) = NaN` of the naive
//! formula). Over an axis of length 0 the value is `-inf`, the log of an empty
//! sum, and there is no error. A `+inf` element gives `+inf` with a NaN
//! gradient in its window (`inf - inf`), as in PyTorch. NaN propagates. Smooth:
//! no kinks.

use smallvec::smallvec;

use crate::error::Result;
use crate::kernels::elementwise::zip_broadcast;
use crate::kernels::reduce::{select_axis, sum_axis};
use crate::ops::sum::{dropped_shape, kept_shape, resolve_axes};
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// The forward values over `axes` (sorted descending) of a non-empty `x`, in
/// the row-major order of the kept shape.
fn logsumexp_values<T: Float>(x: &Tensor<T>, axes: &[usize]) -> Vec<T> {
    let mut shift = x.as_slice().to_vec();
    let mut shape = x.shape().clone();
    for &ax in axes {
        let (outer, len, inner) = shape.split_at_axis(ax);
        // A NaN wins, so that it propagates into the value.
        shift = select_axis(&shift, outer, len, inner, |b, v| {
            !b.is_nan() && (v.is_nan() || v > b)
        })
        .0;
        shape = shape.reduced(ax, true);
    }
    for m in &mut shift {
        if *m == T::INFINITY || *m == T::NEG_INFINITY {
            *m = T::ZERO;
        }
    }
    let mut sums = zip_broadcast(
        x.as_slice(),
        x.shape(),
        &shift,
        &shape,
        x.shape(),
        |v, m| (v - m).exp(),
    );
    let mut summed = x.shape().clone();
    for &ax in axes {
        let (outer, len, inner) = summed.split_at_axis(ax);
        sums = sum_axis(&sums, outer, len, inner);
        summed = summed.reduced(ax, true);
    }
    shift.iter().zip(&sums).map(|(&m, &s)| m + s.ln()).collect()
}

impl<T: Float> Tensor<T> {
    /// Returns `ln Σ e^x` over all elements as a rank-0 tensor, computed
    /// stably; `-inf` for a tensor with no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1000.0f64, 1000.0], [2]).unwrap();
    /// assert_eq!(x.logsumexp().item(), 1000.0 + 2.0f64.ln());
    /// assert_eq!(Tensor::<f64>::zeros([0]).logsumexp().item(), f64::NEG_INFINITY);
    /// ```
    pub fn logsumexp(&self) -> Tensor<T> {
        let all: Vec<isize> = (0..self.rank() as isize).collect();
        self.try_logsumexp_axes(&all, false)
            .expect("BUG: every axis of a tensor is a valid logsumexp axis")
    }

    /// Returns `ln Σ e^x` over `axes` (negative axes count from the end),
    /// computed stably, keeping the reduced axes as size-1 dimensions when
    /// `keepdim`. Over an axis of length 0 the result is `-inf`.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`](crate::Error::AxisOutOfRange);
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for an axis
    /// listed twice; [`Error::ShapeOverflow`](crate::Error::ShapeOverflow) when
    /// the result of reducing an empty axis would be too large to hold.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![0.0f64, 0.0, 1000.0, f64::NEG_INFINITY], [2, 2]).unwrap();
    /// let y = x.try_logsumexp_axes(&[1], false).unwrap().to_vec();
    /// assert_eq!(y, vec![2.0f64.ln(), 1000.0]);
    /// assert_eq!(x.try_logsumexp_axes(&[-1], true).unwrap().dims(), &[2, 1]);
    /// ```
    pub fn try_logsumexp_axes(&self, axes: &[isize], keepdim: bool) -> Result<Tensor<T>> {
        const OP: &str = "logsumexp";
        let axes = resolve_axes(OP, self.shape(), axes)?;
        let kept = kept_shape(self.shape(), &axes);
        let out = if keepdim {
            kept.clone()
        } else {
            dropped_shape(self.shape(), &axes)
        };
        let n = out.checked_numel(OP)?;
        let values = if axes.iter().any(|&a| self.shape()[a] == 0) {
            vec![T::NEG_INFINITY; n]
        } else if self.numel() == 0 {
            Vec::new()
        } else {
            logsumexp_values(self, &axes)
        };
        let y = Tensor::from_parts(values, out);
        Ok(Tensor::from_op_with_output(y, &[self], |y| {
            LogsumexpBackward {
                x: self.clone(),
                y: y.clone(),
                kept,
            }
        }))
    }

    /// Panicking twin of [`Tensor::try_logsumexp_axes`].
    ///
    /// # Panics
    ///
    /// When an axis is out of range or repeated.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::zeros([2, 4]);
    /// let y = x.logsumexp_axes(&[0, 1], false).item();
    /// assert!((y - 8.0f32.ln()).abs() < 1e-6);
    /// ```
    #[track_caller]
    pub fn logsumexp_axes(&self, axes: &[isize], keepdim: bool) -> Tensor<T> {
        match self.try_logsumexp_axes(axes, keepdim) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of the logsumexp reductions: saves the input, the output, and the
/// output shape with the reduced axes kept as 1.
struct LogsumexpBackward<T: Float> {
    x: Tensor<T>,
    y: Tensor<T>,
    kept: Shape,
}

impl<T: Float> Backward<T> for LogsumexpBackward<T> {
    fn name(&self) -> &'static str {
        "logsumexp"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        // An all -inf window has y = -inf; shifting it by 0 instead makes
        // exp(x - 0) = 0 there: the defined zero gradient, not NaN.
        let finite = self.y.map(|v| {
            if v == T::NEG_INFINITY {
                T::ZERO
            } else {
                T::ONE
            }
        });
        let y = Tensor::where_(&finite, &self.y, &self.y.zeros_like()).reshape(self.kept.clone());
        let softmax = (&self.x - &y).exp();
        Ok(smallvec![Some(
            &grad_out.reshape(self.kept.clone()) * &softmax
        )])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Tensor};

    #[test]
    fn logsumexp_of_huge_logits_is_exact() {
        // Hand-derived: 1000 + ln(1 + e^-1 + e^-2000), and e^-2000 underflows to 0.
        let x = Tensor::from_vec(vec![1000.0f64, 999.0, -1000.0], [3])
            .unwrap()
            .requires_grad();
        let y = x.logsumexp();
        let want = 1000.0 + (1.0 + (-1.0f64).exp()).ln();
        assert!((y.item() - want).abs() < 1e-12, "{}", y.item());
        // The gradient is the softmax: [1/(1+e^-1), e^-1/(1+e^-1), 0], within a
        // few ulps of 1000 (exp(x - y) inherits the rounding of y).
        let g = y.backward().unwrap().get(&x).unwrap().to_vec();
        let e = (-1.0f64).exp();
        assert!(
            (g[0] - 1.0 / (1.0 + e)).abs() < 1e-13 && (g[1] - e / (1.0 + e)).abs() < 1e-13,
            "{g:?}"
        );
        assert_eq!(g[2], 0.0);
        let y32 = Tensor::from_vec(vec![1000.0f32, 999.0, -1000.0], [3])
            .unwrap()
            .logsumexp()
            .item();
        assert!((y32 as f64 - want).abs() < 1e-3);
    }

    #[test]
    fn logsumexp_golden_values_over_axes() {
        // torch.logsumexp(torch.tensor([[0., 1.], [2., 3.]]), dim=0) = [2 + ln(1 + e^-2), 3 + ln(1 + e^-2)].
        let x = Tensor::from_vec(vec![0.0f64, 1.0, 2.0, 3.0], [2, 2]).unwrap();
        let y = x.logsumexp_axes(&[0], false).to_vec();
        let l = (1.0 + (-2.0f64).exp()).ln();
        assert!(
            (y[0] - (2.0 + l)).abs() < 1e-15 && (y[1] - (3.0 + l)).abs() < 1e-15,
            "{y:?}"
        );
        let all = x.logsumexp_axes(&[1, 0], true);
        assert_eq!(all.dims(), &[1, 1]);
        let want = (1.0 + 1.0f64.exp() + 2.0f64.exp() + 3.0f64.exp()).ln();
        assert!((all.item() - want).abs() < 1e-15);
    }

    #[test]
    fn all_neg_inf_window_has_value_neg_inf_and_zero_gradient() {
        let ninf = f64::NEG_INFINITY;
        let x = Tensor::from_vec(vec![ninf, ninf, 0.0, ninf], [2, 2])
            .unwrap()
            .requires_grad();
        let y = x.logsumexp_axes(&[1], false);
        assert_eq!(y.to_vec(), vec![ninf, 0.0]);
        let g = y.sum().backward().unwrap().get(&x).unwrap().to_vec();
        assert_eq!(g, vec![0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn positive_infinity_and_nan_propagate() {
        let x = Tensor::from_vec(vec![1.0f64, f64::INFINITY], [2]).unwrap();
        assert_eq!(x.logsumexp().item(), f64::INFINITY);
        let x = Tensor::from_vec(vec![f64::NAN, f64::INFINITY, 1.0], [3]).unwrap();
        assert!(x.logsumexp().item().is_nan());
    }

    #[test]
    fn logsumexp_over_an_empty_axis_is_neg_inf() {
        let x = Tensor::<f64>::zeros([2, 0]).requires_grad();
        let y = x.logsumexp_axes(&[1], true);
        assert_eq!(
            (y.dims(), y.to_vec()),
            (&[2usize, 1][..], vec![f64::NEG_INFINITY; 2])
        );
        let g = y.sum().backward().unwrap();
        assert_eq!(g.get(&x).unwrap().dims(), &[2, 0]);
        assert_eq!(x.logsumexp().item(), f64::NEG_INFINITY);
        // Reducing the non-empty axis of an empty tensor gives an empty result.
        assert_eq!(x.logsumexp_axes(&[0], false).dims(), &[0]);
        let e = Tensor::<f32>::zeros([0, usize::MAX, 2])
            .try_logsumexp_axes(&[0], false)
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::ShapeOverflow {
                    op: "logsumexp",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn logsumexp_of_rank_zero_is_the_identity() {
        let x = Tensor::scalar(-3.5f64).requires_grad();
        let y = x.logsumexp();
        assert_eq!(y.item(), -3.5);
        assert_eq!(y.backward().unwrap().get(&x).unwrap().item(), 1.0);
    }

    #[test]
    fn bad_axes_are_errors() {
        let x = Tensor::<f32>::zeros([2, 3]);
        let e = x.try_logsumexp_axes(&[-3], false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "logsumexp: axis -3 is out of range for shape [2, 3]"
        );
        assert!(matches!(
            x.try_logsumexp_axes(&[1, 1], false),
            Err(Error::InvalidArgument { .. })
        ));
    }

    proptest! {
        #[test]
        fn logsumexp_grad_matches_finite_differences(x in tensor(any_shape(), -3.0..3.0), keep in any::<bool>(), pick in 0usize..16) {
            let axes: Vec<isize> = (0..x.rank()).filter(|i| pick & (1 << i) != 0).map(|i| i as isize).collect();
            check_grads!([x], |a| a.logsumexp_axes(&axes, keep))?;
            check_grads!([x], |a| a.logsumexp())?;
        }
    }
}
