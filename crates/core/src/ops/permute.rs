//! `permute` and `transpose`: the same elements with the axes reordered.
//!
//! - `y = permute(x, p)`, with `y.shape[i] = x.shape[p[i]]`:
//!   `grad_x = permute(grad_out, p⁻¹)`, where `p⁻¹[p[i]] = i`.
//! - `y = transpose(x, a, b)` is `permute` with axes `a` and `b` swapped, its
//!   own inverse: `grad_x = transpose(grad_out, a, b)`.
//!
//! Both copy into a new row-major tensor (`kernels::copy::permute_copy`: a
//! blocked loop for a batch of 2-D transposes, an odometer loop otherwise). Any
//! rank; the identity permutation returns the input itself. Linear: no kinks;
//! values, NaN included, are moved, never combined.

use smallvec::smallvec;

use crate::error::{Error, Result};
use crate::kernels::copy::permute_copy;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns the tensor with its axes reordered: output axis `i` is input
    /// axis `perm[i]`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when `perm` is not a permutation of
    /// `0..rank`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec((0..6).map(|v| v as f32).collect(), [1, 2, 3]).unwrap();
    /// let y = x.try_permute(&[2, 0, 1]).unwrap();
    /// assert_eq!(y.dims(), &[3, 1, 2]);
    /// assert_eq!(y.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// let e = x.try_permute(&[0, 0, 1]).unwrap_err();
    /// assert_eq!(e.to_string(), "permute: [0, 0, 1] is not a permutation of 0..3 (shape [1, 2, 3])");
    /// ```
    pub fn try_permute(&self, perm: &[usize]) -> Result<Tensor<T>> {
        let rank = self.rank();
        let mut seen = vec![false; rank];
        let is_perm = perm.len() == rank
            && perm
                .iter()
                .all(|&p| p < rank && !std::mem::replace(&mut seen[p], true));
        if !is_perm {
            return Err(Error::InvalidArgument {
                op: "permute",
                what: format!(
                    "{perm:?} is not a permutation of 0..{rank} (shape {})",
                    self.shape()
                ),
            });
        }
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return Ok(self.clone());
        }
        let out = Shape::from(perm.iter().map(|&p| self.shape()[p]).collect::<Vec<_>>());
        let y = Tensor::from_parts(permute_copy(self.as_slice(), self.shape(), perm), out);
        Ok(Tensor::from_op(y, &[self], || {
            let mut inverse = vec![0; rank];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i;
            }
            PermuteBackward { inverse }
        }))
    }

    /// Panicking twin of [`Tensor::try_permute`].
    ///
    /// # Panics
    ///
    /// When `perm` is not a permutation of `0..rank`.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f64>::zeros([2, 3, 4]);
    /// assert_eq!(x.permute(&[1, 2, 0]).dims(), &[3, 4, 2]);
    /// ```
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Tensor<T> {
        match self.try_permute(perm) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the tensor with axes `a` and `b` swapped (negative axes count
    /// from the end); `a == b` returns the input itself.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`] when either axis does not exist (so always
    /// for rank 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]).unwrap();
    /// let y = x.try_transpose(0, -1).unwrap();
    /// assert_eq!(y.dims(), &[3, 2]);
    /// assert_eq!(y.to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// assert!(x.try_transpose(0, 2).is_err());
    /// ```
    pub fn try_transpose(&self, a: isize, b: isize) -> Result<Tensor<T>> {
        let a = self.shape().axis("transpose", a)?;
        let b = self.shape().axis("transpose", b)?;
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.try_permute(&perm)
    }

    /// Panicking twin of [`Tensor::try_transpose`].
    ///
    /// # Panics
    ///
    /// When either axis does not exist.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::zeros([2, 5]);
    /// assert_eq!(x.transpose(0, 1).dims(), &[5, 2]);
    /// ```
    #[track_caller]
    pub fn transpose(&self, a: isize, b: isize) -> Tensor<T> {
        match self.try_transpose(a, b) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_permute`] and [`Tensor::try_transpose`]: saves the
/// inverse permutation.
struct PermuteBackward {
    inverse: Vec<usize>,
}

impl<T: Float> Backward<T> for PermuteBackward {
    fn name(&self) -> &'static str {
        "permute"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out.permute(&self.inverse))])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Tensor};

    /// A random permutation of `0..rank` from a shuffle of `0..4`.
    fn perm_of(shuffle: &[usize], rank: usize) -> Vec<usize> {
        shuffle.iter().copied().filter(|&p| p < rank).collect()
    }

    #[test]
    fn permute_golden_value_and_gradient() {
        // torch.arange(24.).reshape(2, 3, 4).permute(2, 0, 1)[1, 1, 2] == 21.0 (= x[1, 2, 1]);
        // the gradient of <y, w> is w permuted back (hand-derived).
        let x = Tensor::from_vec((0..24).map(f64::from).collect(), [2, 3, 4])
            .unwrap()
            .requires_grad();
        let y = x.permute(&[2, 0, 1]);
        assert_eq!(y.dims(), &[4, 2, 3]);
        assert_eq!(y.as_slice()[6 + 3 + 2], 21.0);
        let w = Tensor::from_vec((0..24).map(|v| f64::from(v) * 0.5).collect(), [4, 2, 3]).unwrap();
        let g = (&y * &w).sum().backward().unwrap();
        assert_eq!(g.get(&x).unwrap().to_vec(), w.permute(&[1, 2, 0]).to_vec());
    }

    #[test]
    fn transpose_of_a_matrix_is_the_matrix_transpose() {
        // torch.tensor([[1., 2., 3.], [4., 5., 6.]]).T.flatten() == [1, 4, 2, 5, 3, 6]
        let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]).unwrap();
        assert_eq!(
            x.transpose(1, 0).to_vec(),
            vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
        assert_eq!(x.transpose(-1, -2).transpose(0, 1).to_vec(), x.to_vec());
    }

    #[test]
    fn identity_permutation_and_rank_zero_return_the_input() {
        let x = Tensor::<f32>::ones([2, 3]);
        assert!(std::ptr::eq(
            x.permute(&[0, 1]).as_slice().as_ptr(),
            x.as_slice().as_ptr()
        ));
        assert!(std::ptr::eq(
            x.transpose(1, -1).as_slice().as_ptr(),
            x.as_slice().as_ptr()
        ));
        let s = Tensor::scalar(2.0f32);
        assert_eq!(s.permute(&[]).item(), 2.0);
    }

    #[test]
    fn zero_size_tensors_permute_to_zero_size() {
        let x = Tensor::<f64>::zeros([3, 0, 2]);
        let y = x.permute(&[2, 0, 1]);
        assert_eq!((y.dims(), y.numel()), (&[2usize, 3, 0][..], 0));
    }

    #[test]
    fn nan_is_moved_not_lost() {
        let x = Tensor::from_vec(vec![f64::NAN, 1.0], [1, 2]).unwrap();
        let y = x.transpose(0, 1).to_vec();
        assert!(y[0].is_nan() && y[1] == 1.0);
    }

    #[test]
    fn bad_permutations_and_axes_are_errors() {
        let x = Tensor::<f32>::zeros([2, 3]);
        for p in [&[0usize][..], &[0, 2], &[1, 1], &[0, 1, 2]] {
            assert!(
                matches!(
                    x.try_permute(p),
                    Err(Error::InvalidArgument { op: "permute", .. })
                ),
                "{p:?}"
            );
        }
        let e = x.try_transpose(0, -3).unwrap_err();
        assert_eq!(
            e.to_string(),
            "transpose: axis -3 is out of range for shape [2, 3]"
        );
        assert!(matches!(
            Tensor::scalar(1.0f32).try_transpose(0, 0),
            Err(Error::AxisOutOfRange { .. })
        ));
    }

    #[test]
    fn permute_and_inverse_permute_are_adjoint() {
        // <permute(x, p), y> = <x, permute(y, p⁻¹)> for random x, y.
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let x = Tensor::<f64>::randn([2, 3, 4, 5], 0.0, 1.0, &mut rng).unwrap();
        let p = [3, 1, 0, 2];
        let y = Tensor::<f64>::randn([5, 3, 2, 4], 0.0, 1.0, &mut rng).unwrap();
        let lhs = (&x.permute(&p) * &y).sum().item();
        let rhs = (&x * &y.permute(&[2, 1, 3, 0])).sum().item();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }

    proptest! {
        #[test]
        fn permute_grad_matches_finite_differences(
            x in tensor(any_shape(), -2.0..2.0),
            shuffle in Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
        ) {
            let perm = perm_of(&shuffle, x.rank());
            check_grads!([x], |a| a.permute(&perm))?;
        }

        #[test]
        fn transpose_grad_matches_finite_differences(x in tensor(nonscalar_shape(), -2.0..2.0), a in 0usize..4, b in 0usize..4) {
            let r = x.rank();
            let (a, b) = ((a % r) as isize, (b % r) as isize - r as isize);
            check_grads!([x], |t| t.transpose(a, b))?;
        }
    }
}
