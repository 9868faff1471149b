//! `argmax` and `argmin`: the indices of the maxima and minima, over all
//! elements or along one axis.
//!
//! They return plain indices (`Vec<usize>`), not tensors: nothing to
//! differentiate. The order is that of the [`Tensor::max`] and [`Tensor::min`]
//! reductions: the FIRST index wins ties, and NaN counts as both the maximum
//! and the minimum, like PyTorch. An empty reduction is an
//! [`Error::EmptyReduction`].

use crate::error::{Error, Result};
use crate::kernels::reduce::select_axis;
use crate::ops::max_min::Extreme;
use crate::{Float, Tensor};

/// The arg-reduction behind `argmax` and `argmin`.
fn arg_reduce<T: Float>(x: &Tensor<T>, axis: Option<isize>, ext: Extreme) -> Result<Vec<usize>> {
    let op = ext.arg_name();
    let replaces = |b, v| ext.replaces(b, v);
    match axis {
        None => {
            if x.numel() == 0 {
                return Err(Error::EmptyReduction {
                    op,
                    axis: None,
                    shape: x.shape().clone(),
                });
            }
            Ok(select_axis(x.as_slice(), 1, x.numel(), 1, replaces).1)
        }
        Some(a) => {
            let ax = x.shape().axis(op, a)?;
            if x.shape()[ax] == 0 {
                return Err(Error::EmptyReduction {
                    op,
                    axis: Some(ax),
                    shape: x.shape().clone(),
                });
            }
            if x.numel() == 0 {
                return Ok(Vec::new());
            }
            let (outer, len, inner) = x.shape().split_at_axis(ax);
            Ok(select_axis(x.as_slice(), outer, len, inner, replaces).1)
        }
    }
}

impl<T: Float> Tensor<T> {
    /// Returns the indices of the maxima: with `axis: None`, the row-major
    /// index of the first maximum over all elements (a `Vec` of one element);
    /// with `Some(axis)`, the index along `axis` for every position of the other
    /// dimensions, in row-major order. The first index wins ties; NaN counts as
    /// the maximum.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`] (also for any axis of a rank-0 tensor);
    /// [`Error::EmptyReduction`] when the reduced axis, or the whole tensor for
    /// `None`, is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 5.0, 5.0, 4.0, 2.0, 6.0], [2, 3]).unwrap();
    /// assert_eq!(x.try_argmax(None).unwrap(), vec![5]);
    /// assert_eq!(x.try_argmax(Some(1)).unwrap(), vec![1, 2]);
    /// assert_eq!(x.try_argmax(Some(0)).unwrap(), vec![1, 0, 1]);
    /// ```
    pub fn try_argmax(&self, axis: Option<isize>) -> Result<Vec<usize>> {
        arg_reduce(self, axis, Extreme::Max)
    }

    /// Panicking twin of [`Tensor::try_argmax`].
    ///
    /// # Panics
    ///
    /// When the axis is out of range or the reduction is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f64, f64::NAN, 3.0], [3]).unwrap();
    /// assert_eq!(x.argmax(None), vec![1]);
    /// ```
    #[track_caller]
    pub fn argmax(&self, axis: Option<isize>) -> Vec<usize> {
        match self.try_argmax(axis) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the indices of the minima, as [`Tensor::try_argmax`] does for
    /// the maxima. The first index wins ties; NaN counts as the minimum.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`] (also for any axis of a rank-0 tensor);
    /// [`Error::EmptyReduction`] when the reduced axis, or the whole tensor for
    /// `None`, is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 5.0, 1.0, 4.0, 2.0, 0.0], [2, 3]).unwrap();
    /// assert_eq!(x.try_argmin(None).unwrap(), vec![5]);
    /// assert_eq!(x.try_argmin(Some(-1)).unwrap(), vec![0, 2]);
    /// ```
    pub fn try_argmin(&self, axis: Option<isize>) -> Result<Vec<usize>> {
        arg_reduce(self, axis, Extreme::Min)
    }

    /// Panicking twin of [`Tensor::try_argmin`].
    ///
    /// # Panics
    ///
    /// When the axis is out of range or the reduction is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![2.0f64, 1.0, 1.0], [3]).unwrap();
    /// assert_eq!(x.argmin(Some(0)), vec![1]);
    /// ```
    #[track_caller]
    pub fn argmin(&self, axis: Option<isize>) -> Vec<usize> {
        match self.try_argmin(axis) {
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
    fn argmax_and_argmin_pick_the_first_of_ties() {
        let x = Tensor::from_vec(vec![2.0f32, 7.0, 7.0, 7.0, 2.0, 2.0], [2, 3]).unwrap();
        assert_eq!(x.argmax(None), vec![1]);
        assert_eq!(x.argmin(None), vec![0]);
        assert_eq!(x.argmax(Some(1)), vec![1, 0]);
        assert_eq!(x.argmin(Some(1)), vec![0, 1]);
        assert_eq!(x.argmax(Some(0)), vec![1, 0, 0]);
        assert_eq!(x.argmin(Some(-2)), vec![0, 1, 1]);
    }

    #[test]
    fn nan_counts_as_both_the_maximum_and_the_minimum() {
        let x = Tensor::from_vec(vec![1.0f64, f64::NAN, 3.0, f64::NAN], [4]).unwrap();
        assert_eq!((x.argmax(None), x.argmin(Some(0))), (vec![1], vec![1]));
        let x = Tensor::from_vec(vec![f64::NAN, 1.0, 2.0, f64::NAN], [2, 2]).unwrap();
        assert_eq!(
            (x.argmax(Some(1)), x.argmin(Some(0))),
            (vec![0, 1], vec![0, 1])
        );
    }

    #[test]
    fn argmax_of_rank_zero_has_no_axis() {
        let s = Tensor::scalar(4.0f64);
        assert_eq!(s.argmin(None), vec![0]);
        let e = s.try_argmax(Some(0)).unwrap_err();
        assert!(matches!(e, Error::AxisOutOfRange { op: "argmax", .. }));
    }

    #[test]
    fn empty_arg_reductions_are_errors_and_empty_results_are_not() {
        let x = Tensor::<f64>::zeros([2, 0]);
        let e = x.try_argmax(None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "argmax: cannot reduce over all elements of shape [2, 0]: it is empty"
        );
        assert!(matches!(
            x.try_argmin(Some(1)),
            Err(Error::EmptyReduction {
                op: "argmin",
                axis: Some(1),
                ..
            })
        ));
        assert_eq!(x.argmax(Some(0)), Vec::<usize>::new());
        let huge = Tensor::<f32>::zeros([usize::MAX, 2, 0]);
        assert_eq!(huge.argmin(Some(1)), Vec::<usize>::new());
        let e = Tensor::<f32>::zeros([2, 3])
            .try_argmin(Some(-3))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "argmin: axis -3 is out of range for shape [2, 3]"
        );
    }

    proptest! {
        #[test]
        fn argmax_agrees_with_max_axes(x in tensor(nonscalar_shape(), -2.0..2.0), pick in 0usize..4) {
            let ax = pick % x.rank();
            let m = x.max_axes(&[ax as isize], false).to_vec();
            let idx = x.argmax(Some(ax as isize));
            let (outer, len, inner) = x.shape().split_at_axis(ax);
            prop_assert_eq!(idx.len(), outer * inner);
            for (k, &r) in idx.iter().enumerate() {
                prop_assert!(r < len);
                prop_assert_eq!(x.as_slice()[(k / inner) * len * inner + r * inner + k % inner], m[k]);
            }
        }
    }
}
