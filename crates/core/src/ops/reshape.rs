//! `reshape`: the same elements in row-major order under a new shape.
//!
//! - `y = reshape(x, s)`: `grad_x = reshape(grad_out, x.shape)`.
//!
//! Shares storage with the input: no copy. Linear: no kinks.

use smallvec::smallvec;

use crate::error::{Error, Result};
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns the same elements with a new shape of the same element count.
    ///
    /// # Errors
    ///
    /// [`Error::ReshapeMismatch`] when the element counts differ;
    /// [`Error::ShapeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::<f32>::zeros([2, 3]);
    /// assert_eq!(x.try_reshape([3, 2]).unwrap().dims(), &[3, 2]);
    /// let e = x.try_reshape([4]).unwrap_err();
    /// assert_eq!(e.to_string(), "reshape: cannot reshape [2, 3] (6 elements) into [4] (4 elements)");
    /// ```
    pub fn try_reshape(&self, shape: impl Into<Shape>) -> Result<Tensor<T>> {
        let to = shape.into();
        let n = to.checked_numel("reshape")?;
        if n != self.numel() {
            return Err(Error::ReshapeMismatch {
                op: "reshape",
                from: self.shape().clone(),
                from_numel: self.numel(),
                to,
                to_numel: n,
            });
        }
        if &to == self.shape() {
            return Ok(self.clone());
        }
        let y = self.share_with_shape(to);
        Ok(Tensor::from_op(y, &[self], || ReshapeBackward {
            input: self.shape().clone(),
        }))
    }

    /// Panicking twin of [`Tensor::try_reshape`].
    ///
    /// # Panics
    ///
    /// When the element counts differ.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::ones([6]);
    /// assert_eq!(x.reshape([2, 3]).dims(), &[2, 3]);
    /// ```
    #[track_caller]
    pub fn reshape(&self, shape: impl Into<Shape>) -> Tensor<T> {
        match self.try_reshape(shape) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_reshape`]: saves the input shape.
struct ReshapeBackward {
    input: Shape,
}

impl<T: Float> Backward<T> for ReshapeBackward {
    fn name(&self) -> &'static str {
        "reshape"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out.reshape(self.input.clone()))])
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;
    use crate::testing::*;

    #[test]
    fn reshape_shares_storage() {
        let x = Tensor::<f32>::ones([4, 4]);
        assert!(std::ptr::eq(
            x.as_slice().as_ptr(),
            x.reshape([16]).as_slice().as_ptr()
        ));
    }

    proptest! {
        #[test]
        fn reshape_grad_matches_finite_differences(x in tensor(any_shape(), -2.0..2.0)) {
            let n = x.numel();
            check_grads!([x], |a| a.reshape([n]).reshape([1, n]))?;
        }
    }
}
