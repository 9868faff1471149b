//! `softmax` and `log_softmax` along one axis: composites of the fused, stable
//! [`Tensor::logsumexp_axes`], so they need no backward struct of their own.
//!
//! - `log_softmax(x) = s - logsumexp(s, [axis], keepdim)` with `s = x - m`,
//!   `m` the lane maximum held constant (broadcast subtraction):
//!   `grad_x = grad_out - softmax(x) * Σ_axis grad_out`.
//! - `softmax(x) = exp(log_softmax(x))`:
//!   `grad_x = y * (grad_out - Σ_axis grad_out * y)`.
//!
//! Both follow from the chain rule through `logsumexp`, `sub` and `exp`.
//! Stability: no intermediate overflows, and the shift by the maximum is exact,
//! so logits of magnitude 1000 lose no precision:
//! `softmax([1000, 999, -1000]) = [1/(1+e^-1), e^-1/(1+e^-1), 0]` to a few ulp,
//! and `log_softmax` of it is finite. Because softmax is shift-invariant, the
//! constant shift changes no derivative. A lane of all `-inf` gives NaN (`-inf - -inf`),
//! as in PyTorch. Smooth: no kinks.

use crate::error::Result;
use crate::{Float, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns `ln softmax(x)` along `axis` (negative counts from the end),
    /// computed as `x - logsumexp(x)`: finite even for huge logits.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`](crate::Error::AxisOutOfRange), also for any
    /// axis of a rank-0 tensor.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1000.0f64, 1000.0], [1, 2]).unwrap();
    /// let y = x.try_log_softmax(-1).unwrap().to_vec();
    /// assert!(y.iter().all(|v| (v + 2.0f64.ln()).abs() < 1e-12));
    /// ```
    pub fn try_log_softmax(&self, axis: isize) -> Result<Tensor<T>> {
        let ax = self.shape().axis("log_softmax", axis)?;
        // Shift by the lane maximum first: `x - m` is exact, and `logsumexp` of
        // the shifted values is a small number, so the result keeps nearly full
        // precision at any magnitude (`x - logsumexp(x)` would lose the digits
        // of `logsumexp(x) ≈ 1000`). The function is shift-invariant, so a
        // constant (detached) shift changes no derivative of any order.
        let shifted = if self.shape()[ax] == 0 {
            self.clone()
        } else {
            let m = self.detach().try_max_axes(&[ax as isize], true)?;
            let m = m.map(|v| if v.is_finite() { v } else { T::ZERO });
            self.try_sub(&m)?
        };
        let lse = shifted.try_logsumexp_axes(&[ax as isize], true)?;
        shifted.try_sub(&lse)
    }

    /// Panicking twin of [`Tensor::try_log_softmax`].
    ///
    /// # Panics
    ///
    /// When `axis` is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::zeros([4]);
    /// assert!(x.log_softmax(0).to_vec().iter().all(|v| (v + 4.0f32.ln()).abs() < 1e-6));
    /// ```
    #[track_caller]
    pub fn log_softmax(&self, axis: isize) -> Tensor<T> {
        match self.try_log_softmax(axis) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the softmax along `axis` (negative counts from the end):
    /// `e^x / Σ e^x`, computed as `exp(log_softmax(x))`.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`](crate::Error::AxisOutOfRange), also for any
    /// axis of a rank-0 tensor.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![0.0f64, 0.0, 5.0, 5.0], [2, 2]).unwrap();
    /// let y = x.try_softmax(1).unwrap().to_vec();
    /// assert!(y.iter().all(|v| (v - 0.5).abs() < 1e-15));
    /// assert!(x.try_softmax(2).is_err());
    /// ```
    pub fn try_softmax(&self, axis: isize) -> Result<Tensor<T>> {
        self.shape().axis("softmax", axis)?;
        Ok(self.try_log_softmax(axis)?.exp())
    }

    /// Panicking twin of [`Tensor::try_softmax`].
    ///
    /// # Panics
    ///
    /// When `axis` is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f32, 1.0], [2]).unwrap();
    /// assert!(x.softmax(0).to_vec().iter().all(|v| (v - 0.5).abs() < 1e-6));
    /// ```
    #[track_caller]
    pub fn softmax(&self, axis: isize) -> Tensor<T> {
        match self.try_softmax(axis) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Tensor};

    #[test]
    fn softmax_of_huge_logits_is_exact() {
        // Hand-derived: softmax([1000, 999, -1000]) = [1/(1+e^-1), e^-1/(1+e^-1), 0]
        // (torch.softmax(torch.tensor([1000., 999., -1000.], dtype=torch.float64), 0)).
        let x = Tensor::from_vec(vec![1000.0f64, 999.0, -1000.0], [3]).unwrap();
        let e = (-1.0f64).exp();
        let y = x.softmax(0).to_vec();
        // Within a few ulps of 1000 (the rounding of 1000 + ln(1 + e^-1)).
        assert!(
            (y[0] - 1.0 / (1.0 + e)).abs() < 1e-13 && (y[1] - e / (1.0 + e)).abs() < 1e-13,
            "{y:?}"
        );
        assert_eq!(y[2], 0.0);
        let l = x.log_softmax(0).to_vec();
        let ln = (1.0 + e).ln();
        assert!(l.iter().all(|v| v.is_finite()), "{l:?}");
        assert!(
            (l[0] + ln).abs() < 1e-12
                && (l[1] + 1.0 + ln).abs() < 1e-12
                && (l[2] + 2000.0 + ln).abs() < 1e-10,
            "{l:?}"
        );
        let y32 = Tensor::from_vec(vec![1000.0f32, 999.0, -1000.0], [3])
            .unwrap()
            .softmax(0)
            .to_vec();
        // f32: within a few ulps of 1000 (6.1e-5).
        assert!(
            (y32[0] as f64 - 1.0 / (1.0 + e)).abs() < 1e-4 && y32[2] == 0.0,
            "{y32:?}"
        );
    }

    #[test]
    fn softmax_golden_gradient() {
        // Hand-derived at x = [0, ln 3] (softmax [1/4, 3/4]) with grad_out = [1, 0]:
        // grad_x = y * (g - <g, y>) = [1/4 * 3/4, 3/4 * -1/4] = [3/16, -3/16].
        let x = Tensor::from_vec(vec![0.0f64, 3.0f64.ln()], [2])
            .unwrap()
            .requires_grad();
        let y = x.softmax(0);
        let g = Tensor::from_vec(vec![1.0f64, 0.0], [2]).unwrap();
        let gx = y
            .backward_with(Some(&g), Default::default())
            .unwrap()
            .get(&x)
            .unwrap()
            .to_vec();
        assert!(
            (gx[0] - 3.0 / 16.0).abs() < 1e-15 && (gx[1] + 3.0 / 16.0).abs() < 1e-15,
            "{gx:?}"
        );
    }

    #[test]
    fn softmax_rows_sum_to_one_along_the_chosen_axis() {
        let x = Tensor::<f64>::linspace(-2.0, 3.0, 12)
            .unwrap()
            .reshape([2, 3, 2]);
        for axis in [0isize, 1, 2, -1] {
            let s = x.softmax(axis).sum_axes(&[axis], false).to_vec();
            assert!(
                s.iter().all(|v| (v - 1.0).abs() < 1e-15),
                "axis {axis}: {s:?}"
            );
        }
    }

    #[test]
    fn softmax_edge_cases() {
        // A lane of length 1 is certain; an empty lane stays empty; all -inf is NaN.
        assert_eq!(
            Tensor::<f64>::from_vec(vec![-5.0, 7.0], [2, 1])
                .unwrap()
                .softmax(1)
                .to_vec(),
            vec![1.0, 1.0]
        );
        assert_eq!(Tensor::<f32>::zeros([3, 0]).softmax(1).dims(), &[3, 0]);
        let ninf = Tensor::<f64>::full([2], f64::NEG_INFINITY)
            .softmax(0)
            .to_vec();
        assert!(ninf.iter().all(|v| v.is_nan()));
        let e = Tensor::scalar(1.0f32).try_softmax(0).unwrap_err();
        assert!(
            matches!(e, Error::AxisOutOfRange { op: "softmax", .. }),
            "{e}"
        );
        let e = Tensor::<f32>::zeros([2]).try_log_softmax(1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "log_softmax: axis 1 is out of range for shape [2]"
        );
    }

    proptest! {
        #[test]
        fn softmax_grad_matches_finite_differences(x in tensor(nonscalar_shape(), -3.0..3.0), pick in 0usize..4) {
            let axis = (pick % x.rank()) as isize - x.rank() as isize * (pick % 2) as isize;
            check_grads!([x], |a| a.softmax(axis))?;
        }

        #[test]
        fn log_softmax_grad_matches_finite_differences(x in tensor(nonscalar_shape(), -3.0..3.0), pick in 0usize..4) {
            let axis = (pick % x.rank()) as isize;
            check_grads!([x], |a| a.log_softmax(axis))?;
        }
    }
}
