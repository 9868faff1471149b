//! `squeeze`, `unsqueeze`, `flatten` and `flatten_axes`: reshapes that remove,
//! insert or merge axes.
//!
//! - `y = squeeze(x, axis)` removes an axis of length 1;
//! - `y = unsqueeze(x, axis)` inserts an axis of length 1 before `axis`;
//! - `y = flatten(x)` is `x` as a 1-D tensor; `flatten_axes(x, start, end)`
//!   merges axes `start..=end` into one.
//!
//! All are composites over [`Tensor::reshape`], which shares storage: no copy,
//! and `grad_x = reshape(grad_out, x.shape)` through its backward. Linear: no
//! kinks.
//!
//! Unlike PyTorch, squeezing an axis whose length is not 1 is an error rather
//! than a silent no-op: code that squeezes expects the axis to go away.

use crate::error::{Error, Result};
use crate::ops::sum::dropped_shape;
use crate::shape::resolve_axis;
use crate::{Float, Shape, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns the tensor without axis `axis`, which must have length 1
    /// (negative axes count from the end). Shares storage with `self`.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`] when the axis does not exist;
    /// [`Error::InvalidArgument`] when its length is not 1 (PyTorch would
    /// silently return the input).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], [2, 1]).unwrap();
    /// assert_eq!(x.try_squeeze(-1).unwrap().dims(), &[2]);
    /// let e = x.try_squeeze(0).unwrap_err();
    /// assert_eq!(e.to_string(), "squeeze: axis 0 has length 2, not 1 (shape [2, 1])");
    /// ```
    pub fn try_squeeze(&self, axis: isize) -> Result<Tensor<T>> {
        let ax = self.shape().axis("squeeze", axis)?;
        let len = self.shape()[ax];
        if len != 1 {
            return Err(Error::InvalidArgument {
                op: "squeeze",
                what: format!(
                    "axis {axis} has length {len}, not 1 (shape {})",
                    self.shape()
                ),
            });
        }
        self.try_reshape(dropped_shape(self.shape(), &[ax]))
    }

    /// Panicking twin of [`Tensor::try_squeeze`].
    ///
    /// # Panics
    ///
    /// When the axis does not exist or its length is not 1.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f64>::ones([1, 3]);
    /// assert_eq!(x.squeeze(0).to_vec(), vec![1.0; 3]);
    /// ```
    #[track_caller]
    pub fn squeeze(&self, axis: isize) -> Tensor<T> {
        match self.try_squeeze(axis) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the tensor with a new axis of length 1 at position `axis` of
    /// the result: `axis` lies in `-(rank + 1)..=rank`, and `-1` appends. Shares
    /// storage with `self`.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`] outside `-(rank + 1)..=rank`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::<f32>::zeros([2, 3]);
    /// assert_eq!(x.try_unsqueeze(0).unwrap().dims(), &[1, 2, 3]);
    /// assert_eq!(x.try_unsqueeze(-1).unwrap().dims(), &[2, 3, 1]);
    /// assert_eq!(x.try_unsqueeze(2).unwrap().dims(), &[2, 3, 1]);
    /// assert!(x.try_unsqueeze(3).is_err());
    /// ```
    pub fn try_unsqueeze(&self, axis: isize) -> Result<Tensor<T>> {
        let ax = resolve_axis("unsqueeze", axis, self.rank() + 1, self.shape())?;
        let mut dims = self.dims().to_vec();
        dims.insert(ax, 1);
        self.try_reshape(dims)
    }

    /// Panicking twin of [`Tensor::try_unsqueeze`].
    ///
    /// # Panics
    ///
    /// When `axis` lies outside `-(rank + 1)..=rank`.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::scalar(5.0f32);
    /// assert_eq!(x.unsqueeze(0).dims(), &[1]);
    /// ```
    #[track_caller]
    pub fn unsqueeze(&self, axis: isize) -> Tensor<T> {
        match self.try_unsqueeze(axis) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the elements as a 1-D tensor (a rank-0 tensor becomes `[1]`).
    /// Shares storage with `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap();
    /// assert_eq!(x.flatten().dims(), &[4]);
    /// assert_eq!(x.flatten().to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    /// ```
    pub fn flatten(&self) -> Tensor<T> {
        self.reshape([self.numel()])
    }

    /// Returns the tensor with axes `start..=end` merged into one (negative
    /// axes count from the end), as PyTorch's `flatten(start_dim, end_dim)`.
    /// Shares storage with `self`.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`] when either axis does not exist (so always for
    /// rank 0: use [`Tensor::flatten`]); [`Error::InvalidArgument`] when `start`
    /// comes after `end`; [`Error::ShapeOverflow`] when the merged length of a
    /// zero-size tensor overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::<f32>::zeros([2, 3, 4, 5]);
    /// assert_eq!(x.try_flatten_axes(1, 2).unwrap().dims(), &[2, 12, 5]);
    /// assert_eq!(x.try_flatten_axes(1, -1).unwrap().dims(), &[2, 60]);
    /// assert!(x.try_flatten_axes(2, 1).is_err());
    /// ```
    pub fn try_flatten_axes(&self, start: isize, end: isize) -> Result<Tensor<T>> {
        let s = self.shape().axis("flatten", start)?;
        let e = self.shape().axis("flatten", end)?;
        if s > e {
            return Err(Error::InvalidArgument {
                op: "flatten",
                what: format!(
                    "start axis {start} comes after end axis {end} (shape {})",
                    self.shape()
                ),
            });
        }
        let dims = self.dims();
        let merged = dims[s..=e]
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| Error::ShapeOverflow {
                op: "flatten",
                shape: self.shape().clone(),
            })?;
        let out = [&dims[..s], &[merged], &dims[e + 1..]].concat();
        self.try_reshape(Shape::from(out))
    }

    /// Panicking twin of [`Tensor::try_flatten_axes`].
    ///
    /// # Panics
    ///
    /// When an axis does not exist or `start` comes after `end`.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::zeros([2, 3, 4]);
    /// assert_eq!(x.flatten_axes(0, 1).dims(), &[6, 4]);
    /// ```
    #[track_caller]
    pub fn flatten_axes(&self, start: isize, end: isize) -> Tensor<T> {
        match self.try_flatten_axes(start, end) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Shape, Tensor};

    #[test]
    fn squeeze_and_unsqueeze_share_storage_and_invert_each_other() {
        // torch.zeros(2, 1, 3).squeeze(1).unsqueeze(-2).shape == (2, 1, 3)
        let x = Tensor::from_vec((0..6).map(f64::from).collect(), [2, 1, 3]).unwrap();
        let y = x.squeeze(1);
        assert_eq!(y.dims(), &[2, 3]);
        assert!(std::ptr::eq(x.as_slice().as_ptr(), y.as_slice().as_ptr()));
        assert_eq!(y.unsqueeze(-2).dims(), &[2, 1, 3]);
        assert_eq!(y.unsqueeze(-3).dims(), &[1, 2, 3]);
    }

    #[test]
    fn rank_zero_and_zero_size_edge_cases() {
        let s = Tensor::scalar(3.0f32);
        assert_eq!(s.unsqueeze(-1).dims(), &[1]);
        assert_eq!(s.flatten().dims(), &[1]);
        assert_eq!(s.unsqueeze(0).squeeze(0).dims(), &[] as &[usize]);
        assert!(matches!(
            s.try_squeeze(0),
            Err(Error::AxisOutOfRange { .. })
        ));
        assert!(matches!(
            s.try_flatten_axes(0, 0),
            Err(Error::AxisOutOfRange { .. })
        ));
        let z = Tensor::<f32>::zeros([0, 1, 4]);
        assert_eq!(z.squeeze(1).dims(), &[0, 4]);
        assert_eq!(z.flatten().dims(), &[0]);
        assert_eq!(z.flatten_axes(1, 2).dims(), &[0, 4]);
    }

    #[test]
    fn squeeze_of_an_axis_longer_than_one_is_an_error() {
        let x = Tensor::<f32>::zeros([2, 3]);
        let e = x.try_squeeze(-1).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { op: "squeeze", .. }));
        assert_eq!(
            e.to_string(),
            "squeeze: axis -1 has length 3, not 1 (shape [2, 3])"
        );
        let e = x.try_squeeze(2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "squeeze: axis 2 is out of range for shape [2, 3]"
        );
    }

    #[test]
    fn unsqueeze_axis_out_of_range_is_an_error() {
        let x = Tensor::<f32>::zeros([2, 3]);
        assert_eq!(
            x.try_unsqueeze(-4).unwrap_err().to_string(),
            "unsqueeze: axis -4 is out of range for shape [2, 3]"
        );
        assert!(x.try_unsqueeze(3).is_err());
    }

    #[test]
    fn flatten_axes_of_a_huge_empty_shape_is_an_error_not_an_overflow() {
        let x = Tensor::<f32>::from_vec(vec![], Shape::from([0, usize::MAX, 2])).unwrap();
        assert!(matches!(
            x.try_flatten_axes(1, 2),
            Err(Error::ShapeOverflow { op: "flatten", .. })
        ));
    }

    proptest! {
        #[test]
        fn squeeze_unsqueeze_flatten_grad_matches_finite_differences(x in tensor(any_shape(), -2.0..2.0), a in 0usize..5) {
            let r = x.rank();
            let ax = (a % (r + 1)) as isize;
            check_grads!([x], |t| t.unsqueeze(ax).squeeze(ax).unsqueeze(-1).flatten())?;
            if r > 0 {
                let (s, e) = ((a % r) as isize, -1);
                check_grads!([x], |t| t.flatten_axes(s, e))?;
            }
        }
    }
}
