//! `concat` and `stack`: joining tensors along an axis.
//!
//! - `y = concat([x_0, ..., x_k], axis)`, the inputs laid end to end along
//!   `axis`: `grad_x_i = narrow(grad_out, axis, offset_i, len_i)`, where
//!   `offset_i` is the total length of the inputs before `x_i`.
//! - `y = stack([x_0, ..., x_k], axis)` is `concat` of the inputs each
//!   unsqueezed at `axis` (a composite: its gradient flows through `concat`'s
//!   and `reshape`'s).
//!
//! `concat` needs equal shapes except along `axis`, `stack` equal shapes; an
//! empty list is an error (there is no shape to give the result). A single
//! input is returned as is. Linear: no kinks; values are copied unchanged.

use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::kernels::copy::{AxisView, concat_copy};
use crate::ops::narrow_pad::with_axis_len;
use crate::shape::resolve_axis;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns the tensors joined along `axis` (negative axes count from the
    /// end); their shapes must agree on every other axis.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an empty list, or when the joined length
    /// overflows `usize`; [`Error::AxisOutOfRange`] (so always for rank-0
    /// inputs: use [`Tensor::try_stack`]); [`Error::ShapeMismatch`] when a
    /// shape differs from the first outside `axis`, or in rank;
    /// [`Error::ShapeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0], [2, 1]).unwrap();
    /// let b = Tensor::from_vec(vec![3.0f32, 4.0, 5.0, 6.0], [2, 2]).unwrap();
    /// let y = Tensor::try_concat(&[&a, &b], -1).unwrap();
    /// assert_eq!(y.dims(), &[2, 3]);
    /// assert_eq!(y.to_vec(), vec![1.0, 3.0, 4.0, 2.0, 5.0, 6.0]);
    /// let e = Tensor::try_concat(&[&a, &b], 0).unwrap_err();
    /// assert_eq!(e.to_string(), "concat: shapes differ (expected [2, 1], got [2, 2])");
    /// ```
    pub fn try_concat(tensors: &[&Tensor<T>], axis: isize) -> Result<Tensor<T>> {
        let Some(first) = tensors.first() else {
            return Err(Error::InvalidArgument {
                op: "concat",
                what: "needs at least one tensor, got an empty list".to_string(),
            });
        };
        let ax = first.shape().axis("concat", axis)?;
        let mut total = 0usize;
        for t in tensors {
            let fits = t.rank() == first.rank()
                && (0..t.rank()).all(|i| i == ax || t.dims()[i] == first.dims()[i]);
            if !fits {
                let expected = if t.rank() == first.rank() {
                    with_axis_len(first.shape(), ax, t.dims()[ax])
                } else {
                    first.shape().clone()
                };
                return Err(Error::ShapeMismatch {
                    op: "concat",
                    expected,
                    actual: t.shape().clone(),
                });
            }
            total = total
                .checked_add(t.dims()[ax])
                .ok_or_else(|| Error::InvalidArgument {
                    op: "concat",
                    what: format!(
                        "the joined length of axis {axis} overflows usize (first shape {})",
                        first.shape()
                    ),
                })?;
        }
        let out = with_axis_len(first.shape(), ax, total);
        out.checked_numel("concat")?;
        if tensors.len() == 1 {
            return Ok((*first).clone());
        }
        let view = AxisView::new(&out, ax);
        let parts: Vec<(&[T], usize)> = tensors
            .iter()
            .map(|t| (t.as_slice(), t.dims()[ax]))
            .collect();
        let y = Tensor::from_parts(concat_copy(&parts, view.outer, view.inner), out);
        Ok(Tensor::from_op(y, tensors, || ConcatBackward {
            axis: ax,
            lens: tensors.iter().map(|t| t.dims()[ax]).collect(),
        }))
    }

    /// Panicking twin of [`Tensor::try_concat`].
    ///
    /// # Panics
    ///
    /// When the list is empty, the axis does not exist or the shapes disagree.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::<f64>::ones([2]);
    /// let b = Tensor::<f64>::zeros([1]);
    /// assert_eq!(Tensor::concat(&[&a, &b, &a], 0).to_vec(), vec![1.0, 1.0, 0.0, 1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn concat(tensors: &[&Tensor<T>], axis: isize) -> Tensor<T> {
        match Tensor::try_concat(tensors, axis) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the tensors, all of one shape, stacked along a new axis at
    /// position `axis` of the result (`-(rank + 1)..=rank`, `-1` appends).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an empty list; [`Error::ShapeMismatch`]
    /// when a shape differs from the first; [`Error::AxisOutOfRange`];
    /// [`Error::ShapeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0], [2]).unwrap();
    /// let b = Tensor::from_vec(vec![3.0f32, 4.0], [2]).unwrap();
    /// let y = Tensor::try_stack(&[&a, &b], 1).unwrap();
    /// assert_eq!(y.dims(), &[2, 2]);
    /// assert_eq!(y.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// assert!(Tensor::<f32>::try_stack(&[], 0).is_err());
    /// ```
    pub fn try_stack(tensors: &[&Tensor<T>], axis: isize) -> Result<Tensor<T>> {
        let Some(first) = tensors.first() else {
            return Err(Error::InvalidArgument {
                op: "stack",
                what: "needs at least one tensor, got an empty list".to_string(),
            });
        };
        if let Some(t) = tensors.iter().find(|t| t.shape() != first.shape()) {
            return Err(Error::ShapeMismatch {
                op: "stack",
                expected: first.shape().clone(),
                actual: t.shape().clone(),
            });
        }
        let ax = resolve_axis("stack", axis, first.rank() + 1, first.shape())?;
        let mut dims = first.dims().to_vec();
        dims.insert(ax, tensors.len());
        Shape::from(dims).checked_numel("stack")?;
        let parts = tensors
            .iter()
            .map(|t| t.try_unsqueeze(ax as isize))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&Tensor<T>> = parts.iter().collect();
        Tensor::try_concat(&refs, ax as isize)
    }

    /// Panicking twin of [`Tensor::try_stack`].
    ///
    /// # Panics
    ///
    /// When the list is empty, the shapes differ or the axis is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let (a, b) = (Tensor::scalar(1.0f64), Tensor::scalar(2.0f64));
    /// assert_eq!(Tensor::stack(&[&a, &b], 0).to_vec(), vec![1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn stack(tensors: &[&Tensor<T>], axis: isize) -> Tensor<T> {
        match Tensor::try_stack(tensors, axis) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_concat`]: saves the axis and each input's length
/// along it.
struct ConcatBackward {
    axis: usize,
    lens: Vec<usize>,
}

impl<T: Float> Backward<T> for ConcatBackward {
    fn name(&self) -> &'static str {
        "concat"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let mut offset = 0;
        let mut grads = SmallVec::with_capacity(self.lens.len());
        for (&len, &need) in self.lens.iter().zip(needs) {
            grads.push(need.then(|| grad_out.narrow(self.axis as isize, offset, len)));
            offset += len;
        }
        Ok(grads)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use crate::testing::*;
    use crate::{Error, Tensor};

    #[test]
    fn concat_and_stack_golden_values() {
        // torch.cat([torch.tensor([[1.], [2.]]), torch.tensor([[3., 4.], [5., 6.]])], 1).flatten()
        //   == [1, 3, 4, 2, 5, 6]
        let a = Tensor::from_vec(vec![1.0f64, 2.0], [2, 1]).unwrap();
        let b = Tensor::from_vec(vec![3.0, 4.0, 5.0, 6.0], [2, 2]).unwrap();
        assert_eq!(
            Tensor::concat(&[&a, &b], 1).to_vec(),
            vec![1.0, 3.0, 4.0, 2.0, 5.0, 6.0]
        );
        // torch.stack([torch.tensor([1., 2.]), torch.tensor([3., 4.])], 0).flatten() == [1, 2, 3, 4]
        let (c, d) = (
            Tensor::from_vec(vec![1.0f64, 2.0], [2]).unwrap(),
            Tensor::from_vec(vec![3.0, 4.0], [2]).unwrap(),
        );
        assert_eq!(
            Tensor::stack(&[&c, &d], 0).to_vec(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
        assert_eq!(
            Tensor::stack(&[&c, &d], -1).to_vec(),
            vec![1.0, 3.0, 2.0, 4.0]
        );
    }

    #[test]
    fn concat_gradient_splits_grad_out_and_skips_frozen_inputs() {
        // Hand-derived: the seed [1, 2, 3] splits into [1, 2] for a and [3] for b.
        let a = Tensor::<f64>::zeros([2]).requires_grad();
        let b = Tensor::<f64>::zeros([1]);
        let c = Tensor::<f64>::zeros([0]).requires_grad();
        let y = Tensor::concat(&[&a, &c, &b], 0);
        let seed = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).unwrap();
        let g = y.backward_with(Some(&seed), Default::default()).unwrap();
        assert_eq!(g.get(&a).unwrap().to_vec(), vec![1.0, 2.0]);
        assert_eq!(g.get(&c).unwrap().dims(), &[0]);
        assert!(g.get(&b).is_none());
    }

    #[test]
    fn bad_lists_are_errors() {
        let a = Tensor::<f32>::zeros([2, 3]);
        let e = Tensor::<f32>::try_concat(&[], 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "concat: needs at least one tensor, got an empty list"
        );
        let b = Tensor::<f32>::zeros([2, 3, 1]);
        let e = Tensor::try_concat(&[&a, &b], 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "concat: shapes differ (expected [2, 3], got [2, 3, 1])"
        );
        assert!(matches!(
            Tensor::try_concat(&[&a, &a], 2),
            Err(Error::AxisOutOfRange { op: "concat", .. })
        ));
        let s = Tensor::scalar(1.0f32);
        assert!(matches!(
            Tensor::try_concat(&[&s, &s], 0),
            Err(Error::AxisOutOfRange { .. })
        ));
        let e = Tensor::try_stack(&[&a, &Tensor::zeros([3, 2])], 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "stack: shapes differ (expected [2, 3], got [3, 2])"
        );
        assert!(matches!(
            Tensor::try_stack(&[&a, &a], 3),
            Err(Error::AxisOutOfRange { op: "stack", .. })
        ));
        assert!(matches!(
            Tensor::<f32>::try_stack(&[], 0),
            Err(Error::InvalidArgument { op: "stack", .. })
        ));
    }

    #[test]
    fn zero_size_and_single_inputs() {
        let a = Tensor::<f32>::zeros([0, 3]);
        let b = Tensor::<f32>::ones([2, 3]);
        assert_eq!(Tensor::concat(&[&a, &b, &a], 0).to_vec(), vec![1.0; 6]);
        assert_eq!(Tensor::concat(&[&a, &a], 1).dims(), &[0, 6]);
        assert!(std::ptr::eq(
            Tensor::concat(&[&b], 1).as_slice().as_ptr(),
            b.as_slice().as_ptr()
        ));
        assert_eq!(Tensor::stack(&[&a, &a, &a], 1).dims(), &[0, 3, 3]);
    }

    #[test]
    fn concat_and_its_gradient_are_adjoint() {
        // <concat(x_0, x_1), y> = Σ_i <x_i, narrow(y, offset_i, len_i)> for random x, y.
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let x0 = Tensor::<f64>::randn([3, 2, 4], 0.0, 1.0, &mut rng).unwrap();
        let x1 = Tensor::<f64>::randn([3, 5, 4], 0.0, 1.0, &mut rng).unwrap();
        let y = Tensor::<f64>::randn([3, 7, 4], 0.0, 1.0, &mut rng).unwrap();
        let lhs = (&Tensor::concat(&[&x0, &x1], 1) * &y).sum().item();
        let rhs = (&x0 * &y.narrow(1, 0, 2)).sum().item() + (&x1 * &y.narrow(1, 2, 5)).sum().item();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }

    proptest! {
        #[test]
        fn concat_grad_matches_finite_differences(
            (x, ax, l0, l1) in nonscalar_shape().prop_flat_map(|s| (Just(s.clone()), 0..s.rank(), 0usize..4, 1usize..4))
                .prop_flat_map(|(s, ax, l0, l1)| {
                    let mut d = s.dims().to_vec();
                    d[ax] = l0 + l1 + s[ax];
                    (tensor_of(d.into(), -2.0..2.0), Just(ax), Just(l0), Just(l1))
                }),
        ) {
            // Three pieces of one random tensor, of lengths l0 (maybe 0), l1 and the rest.
            let n = x.dims()[ax];
            let (a, b, c) = (x.narrow(ax as isize, 0, l0), x.narrow(ax as isize, l0, l1), x.narrow(ax as isize, l0 + l1, n - l0 - l1));
            check_grads!([a, b, c], |p, q, r| Tensor::concat(&[p, q, r], ax as isize))?;
        }

        #[test]
        fn stack_grad_matches_finite_differences(x in tensor(any_shape(), -2.0..2.0), y in tensor(any_shape(), -2.0..2.0), a in 0usize..5) {
            let y = Tensor::from_vec(y.as_slice().iter().cycle().take(x.numel()).copied().collect(), x.shape().clone()).unwrap();
            let ax = (a % (x.rank() + 1)) as isize;
            check_grads!([x, y], |p, q| Tensor::stack(&[p, q, p], ax))?;
        }
    }
}
