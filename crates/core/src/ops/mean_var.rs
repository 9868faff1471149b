//! `mean` and `var` over everything or over axes: composites of existing ops,
//! so they need no backward struct of their own.
//!
//! - `y = mean(x, axes) = sum(x, axes) / n`, `n` the number of elements in each
//!   reduced window: `grad_x = broadcast(grad_out) / n`.
//! - `y = var(x, axes) = sum(d * d, axes) / (n - c)` with `d = x - mean(x, axes,
//!   keepdim)` and `c = 1` when `unbiased` (Bessel's correction), else `0`:
//!   `grad_x = 2 d broadcast(grad_out) / (n - c)` (the mean's own gradient term
//!   vanishes because `Σ d = 0`).
//!
//! Stability: the variance is two-pass (centre, then square), so the variance of
//! `1e8 + [1, 2, 3]` in `f64` is `2/3`, not the catastrophic `E[x²] - E[x]²`;
//! sums accumulate in `f64` (see [`Tensor::sum`]).
//!
//! Conventions: the mean or variance of nothing (an empty tensor, or a window
//! over an axis of length 0) is an [`Error::EmptyReduction`]. The unbiased
//! variance of a single element is `0 / 0 = NaN`, with a NaN gradient, as in
//! PyTorch. Smooth: no kinks.

use crate::error::{Error, Result};
use crate::ops::sum::resolve_axes;
use crate::{Float, Shape, Tensor};

/// Validates `axes` for a mean-like reduction and returns the number of
/// elements in each reduced window (as `f64`: it never overflows).
fn window_len(op: &'static str, shape: &Shape, axes: &[isize]) -> Result<f64> {
    let axes = resolve_axes(op, shape, axes)?;
    if let Some(&axis) = axes.iter().rev().find(|&&a| shape[a] == 0) {
        return Err(Error::EmptyReduction {
            op,
            axis: Some(axis),
            shape: shape.clone(),
        });
    }
    Ok(axes.iter().map(|&a| shape[a] as f64).product())
}

/// Every axis of `shape`, for the all-element forms.
fn all_axes(shape: &Shape) -> Vec<isize> {
    (0..shape.rank() as isize).collect()
}

impl<T: Float> Tensor<T> {
    /// Returns the mean of all elements as a rank-0 tensor.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyReduction`] for a tensor with no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 6.0], [2, 2]).unwrap();
    /// assert_eq!(x.try_mean().unwrap().item(), 3.0);
    /// assert!(Tensor::<f32>::zeros([0]).try_mean().is_err());
    /// ```
    pub fn try_mean(&self) -> Result<Tensor<T>> {
        if self.numel() == 0 {
            return Err(Error::EmptyReduction {
                op: "mean",
                axis: None,
                shape: self.shape().clone(),
            });
        }
        Ok(self.sum().div_scalar(T::from_usize(self.numel())))
    }

    /// Panicking twin of [`Tensor::try_mean`].
    ///
    /// # Panics
    ///
    /// When the tensor has no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f64, 2.0], [2]).unwrap();
    /// assert_eq!(x.mean().item(), 1.5);
    /// ```
    #[track_caller]
    pub fn mean(&self) -> Tensor<T> {
        match self.try_mean() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the means over `axes` (negative axes count from the end),
    /// keeping them as size-1 dimensions when `keepdim`.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`]; [`Error::InvalidArgument`] for an axis listed
    /// twice; [`Error::EmptyReduction`] when a reduced axis has length 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]).unwrap();
    /// assert_eq!(x.try_mean_axes(&[0], false).unwrap().to_vec(), vec![2.5, 3.5, 4.5]);
    /// assert_eq!(x.try_mean_axes(&[-1], true).unwrap().to_vec(), vec![2.0, 5.0]);
    /// ```
    pub fn try_mean_axes(&self, axes: &[isize], keepdim: bool) -> Result<Tensor<T>> {
        let n = window_len("mean", self.shape(), axes)?;
        Ok(self.try_sum_axes(axes, keepdim)?.div_scalar(T::from_f64(n)))
    }

    /// Panicking twin of [`Tensor::try_mean_axes`].
    ///
    /// # Panics
    ///
    /// When an axis is out of range, repeated, or of length 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f64, 3.0, 5.0, 7.0], [2, 2]).unwrap();
    /// assert_eq!(x.mean_axes(&[0, 1], false).item(), 4.0);
    /// ```
    #[track_caller]
    pub fn mean_axes(&self, axes: &[isize], keepdim: bool) -> Tensor<T> {
        match self.try_mean_axes(axes, keepdim) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the variance of all elements as a rank-0 tensor, divided by
    /// `n - 1` when `unbiased`, else by `n`. The unbiased variance of one
    /// element is NaN.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyReduction`] for a tensor with no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [4]).unwrap();
    /// assert_eq!(x.try_var(false).unwrap().item(), 1.25);
    /// assert!((x.try_var(true).unwrap().item() - 5.0 / 3.0).abs() < 1e-15);
    /// ```
    pub fn try_var(&self, unbiased: bool) -> Result<Tensor<T>> {
        if self.numel() == 0 {
            return Err(Error::EmptyReduction {
                op: "var",
                axis: None,
                shape: self.shape().clone(),
            });
        }
        self.try_var_axes(&all_axes(self.shape()), unbiased, false)
    }

    /// Panicking twin of [`Tensor::try_var`].
    ///
    /// # Panics
    ///
    /// When the tensor has no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f32, 3.0], [2]).unwrap();
    /// assert_eq!(x.var(false).item(), 1.0);
    /// assert!(wengert_core::Tensor::scalar(1.0f32).var(true).item().is_nan());
    /// ```
    #[track_caller]
    pub fn var(&self, unbiased: bool) -> Tensor<T> {
        match self.try_var(unbiased) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the variances over `axes` (negative axes count from the end),
    /// divided by `n - 1` when `unbiased`, else by `n`, keeping the reduced axes
    /// as size-1 dimensions when `keepdim`. Two-pass: accurate far from zero.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`]; [`Error::InvalidArgument`] for an axis listed
    /// twice; [`Error::EmptyReduction`] when a reduced axis has length 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 1.0, 1.0, 1.0], [2, 3]).unwrap();
    /// assert_eq!(x.try_var_axes(&[1], true, false).unwrap().to_vec(), vec![1.0, 0.0]);
    /// let big = Tensor::from_vec(vec![1e8f64 + 1.0, 1e8 + 2.0, 1e8 + 3.0], [3]).unwrap();
    /// assert!((big.try_var_axes(&[0], false, false).unwrap().item() - 2.0 / 3.0).abs() < 1e-15);
    /// ```
    pub fn try_var_axes(&self, axes: &[isize], unbiased: bool, keepdim: bool) -> Result<Tensor<T>> {
        let n = window_len("var", self.shape(), axes)?;
        let d = self - &self.try_mean_axes(axes, true)?;
        let squares = (&d * &d).try_sum_axes(axes, keepdim)?;
        let denominator = if unbiased { n - 1.0 } else { n };
        Ok(squares.div_scalar(T::from_f64(denominator)))
    }

    /// Panicking twin of [`Tensor::try_var_axes`].
    ///
    /// # Panics
    ///
    /// When an axis is out of range, repeated, or of length 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 2.0], [2, 2]).unwrap();
    /// assert_eq!(x.var_axes(&[-1], false, true).to_vec(), vec![1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn var_axes(&self, axes: &[isize], unbiased: bool, keepdim: bool) -> Tensor<T> {
        match self.try_var_axes(axes, unbiased, keepdim) {
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
    fn mean_var_golden_values() {
        // torch.tensor([[1., 2., 4.], [3., 6., 8.]]): .mean() = 4, .mean(0) = [2, 4, 6],
        // .var(1, unbiased=False) = [14/9, 38/9], .var() = 6.8 (hand-derived).
        let x = Tensor::from_vec(vec![1.0f64, 2.0, 4.0, 3.0, 6.0, 8.0], [2, 3])
            .unwrap()
            .requires_grad();
        assert_eq!(x.mean().item(), 4.0);
        assert_eq!(x.mean_axes(&[0], false).to_vec(), vec![2.0, 4.0, 6.0]);
        let v = x.var_axes(&[1], false, false).to_vec();
        assert!(
            (v[0] - 14.0 / 9.0).abs() < 1e-15 && (v[1] - 38.0 / 9.0).abs() < 1e-14,
            "{v:?}"
        );
        assert!((x.var(true).item() - 6.8).abs() < 1e-14);
        // d var / dx = 2 (x - mean) / (n - 1) = (x - 4) * 0.4.
        let g = x.var(true).backward().unwrap().get(&x).unwrap().to_vec();
        let want = [-1.2, -0.8, 0.0, -0.4, 0.8, 1.6];
        assert!(
            g.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-14),
            "{g:?}"
        );
        // d mean / dx = 1/6.
        let x = x.detach().requires_grad();
        assert_eq!(
            x.mean().backward().unwrap().get(&x).unwrap().to_vec(),
            vec![1.0 / 6.0; 6]
        );
    }

    #[test]
    fn var_of_large_offset_values_is_accurate() {
        // E[x²] - E[x]² would give 0 or garbage here; the two-pass variance is exact.
        let x = Tensor::from_vec(vec![1e8f64 + 1.0, 1e8 + 2.0, 1e8 + 3.0], [3]).unwrap();
        assert!((x.var(false).item() - 2.0 / 3.0).abs() < 1e-15);
        assert!((x.var(true).item() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn unbiased_var_of_one_element_is_nan_like_pytorch() {
        let x = Tensor::from_vec(vec![3.0f64], [1]).unwrap().requires_grad();
        let v = x.var(true);
        assert!(v.item().is_nan());
        assert!(v.backward().unwrap().get(&x).unwrap().item().is_nan());
        let x = Tensor::from_vec(vec![3.0f64, 4.0], [2, 1]).unwrap();
        assert!(
            x.var_axes(&[1], true, false)
                .to_vec()
                .iter()
                .all(|v| v.is_nan())
        );
        assert_eq!(x.var_axes(&[1], false, false).to_vec(), vec![0.0, 0.0]);
    }

    #[test]
    fn mean_and_var_of_nothing_are_errors() {
        let x = Tensor::<f32>::zeros([3, 0]);
        let e = x.try_mean().unwrap_err();
        assert_eq!(
            e.to_string(),
            "mean: cannot reduce over all elements of shape [3, 0]: it is empty"
        );
        assert!(matches!(
            x.try_var(false),
            Err(Error::EmptyReduction {
                op: "var",
                axis: None,
                ..
            })
        ));
        let e = x.try_mean_axes(&[1], false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "mean: cannot reduce over axis 1 of shape [3, 0]: it is empty"
        );
        assert!(matches!(
            x.try_var_axes(&[-1], true, true),
            Err(Error::EmptyReduction {
                op: "var",
                axis: Some(1),
                ..
            })
        ));
        // Over the non-empty axis the result is simply empty.
        assert_eq!(x.mean_axes(&[0], false).dims(), &[0]);
        assert_eq!(x.var_axes(&[0], false, true).dims(), &[1, 0]);
    }

    #[test]
    fn mean_and_var_of_rank_zero_and_bad_axes() {
        let s = Tensor::scalar(5.0f64);
        assert_eq!((s.mean().item(), s.var(false).item()), (5.0, 0.0));
        assert_eq!(s.mean_axes(&[], false).item(), 5.0);
        let x = Tensor::<f64>::zeros([2, 3]);
        assert!(matches!(
            x.try_mean_axes(&[2], false),
            Err(Error::AxisOutOfRange { op: "mean", .. })
        ));
        assert!(matches!(
            x.try_var_axes(&[0, 0], false, false),
            Err(Error::InvalidArgument { op: "var", .. })
        ));
    }

    #[test]
    fn mean_and_its_adjoint_agree() {
        // mean over axes is linear; its backward is the adjoint:
        // <mean(x), g> = <x, grad_x> for random x and g.
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for axes in [vec![0isize], vec![1, 2], vec![-1, 0], vec![]] {
            let x = Tensor::<f64>::randn([2, 3, 4], 0.0, 1.0, &mut rng).unwrap();
            let xl = x.clone().requires_grad();
            let y = xl.mean_axes(&axes, false);
            let g = Tensor::<f64>::randn(y.shape().clone(), 0.0, 1.0, &mut rng).unwrap();
            let lhs = (&y.detach() * &g).sum().item();
            let grads = y.backward_with(Some(&g), Default::default()).unwrap();
            let rhs = (&x * grads.get(&xl).unwrap()).sum().item();
            assert!((lhs - rhs).abs() < 1e-12, "{axes:?}: {lhs} vs {rhs}");
        }
    }

    proptest! {
        #[test]
        fn mean_var_grad_matches_finite_differences(x in tensor(any_shape(), -2.0..2.0), keep in any::<bool>(), pick in 0usize..16, unbiased in any::<bool>()) {
            let axes: Vec<isize> = (0..x.rank()).filter(|i| pick & (1 << i) != 0).map(|i| i as isize).collect();
            let n: usize = axes.iter().map(|&a| x.dims()[a as usize]).product();
            // The unbiased variance of one element is NaN by definition: check it biased.
            let unbiased = unbiased && n > 1;
            check_grads!([x], |a| a.mean_axes(&axes, keep))?;
            check_grads!([x], |a| a.mean())?;
            check_grads!([x], |a| a.var_axes(&axes, unbiased, keep))?;
            check_grads!([x], |a| a.var(unbiased && x.numel() > 1))?;
        }
    }
}
