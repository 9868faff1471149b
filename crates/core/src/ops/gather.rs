//! `gather` and its adjoint `scatter_add`, as PyTorch's `torch.gather` and
//! `Tensor.scatter_add`.
//!
//! With an index tensor `idx` of shape `index_shape` (the rank of `x`, and the
//! shape of `x` on every axis but `axis`), writing `i` for a position in it and
//! `i[axis ← k]` for `i` with its `axis` coordinate replaced by `k`:
//!
//! - `y = gather(x, axis, idx)`, `y[i] = x[i[axis ← idx[i]]]`:
//!   `grad_x = scatter_add(zeros(x.shape), axis, idx, grad_out)`; indices that
//!   repeat accumulate.
//! - `y = scatter_add(x, axis, idx, s)`, `y = x` then `y[i[axis ← idx[i]]] +=
//!   s[i]`: `grad_x = grad_out`, `grad_s = gather(grad_out, axis, idx)`.
//!
//! The index is a flat row-major `&[usize]` with its shape, checked before any
//! arithmetic. Unlike PyTorch, which accepts an index smaller than `x` on the
//! other axes, `index_shape` must match `x` there: a smaller index is more
//! often a bug than a wish (narrow `x` first to get that behaviour). Linear: no kinks. NaN propagates through the sums of
//! `scatter_add` as IEEE addition does.

use smallvec::smallvec;

use crate::error::{Error, Result};
use crate::kernels::copy::{AxisView, gather_rows, scatter_add_rows};
use crate::ops::narrow_pad::with_axis_len;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// Checks an index for `shape` along `axis` and returns the resolved axis.
fn check_index(
    op: &'static str,
    shape: &Shape,
    axis: isize,
    index: &[usize],
    index_shape: &Shape,
) -> Result<usize> {
    let ax = shape.axis(op, axis)?;
    let fits = index_shape.rank() == shape.rank()
        && (0..shape.rank()).all(|i| i == ax || index_shape[i] == shape[i]);
    if !fits {
        let expected = if index_shape.rank() == shape.rank() {
            with_axis_len(shape, ax, index_shape[ax])
        } else {
            shape.clone()
        };
        return Err(Error::ShapeMismatch {
            op,
            expected,
            actual: index_shape.clone(),
        });
    }
    let numel = index_shape.checked_numel(op)?;
    if index.len() != numel {
        return Err(Error::LengthMismatch {
            op,
            len: index.len(),
            shape: index_shape.clone(),
            numel,
        });
    }
    let len = shape[ax];
    if let Some(&bad) = index.iter().find(|&&i| i >= len) {
        return Err(Error::IndexOutOfRange {
            op,
            index: bad,
            axis: ax,
            len,
            shape: shape.clone(),
        });
    }
    Ok(ax)
}

impl<T: Float> Tensor<T> {
    /// Returns the elements of `self` picked along `axis` by `index` (row-major,
    /// of shape `index_shape`): `out[i] = self[i with its axis coordinate
    /// replaced by index[i]]`, as `torch.gather`. `index_shape` has the rank of
    /// `self` and its length on every axis but `axis`.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`]; [`Error::ShapeMismatch`] when `index_shape`
    /// does not fit `self`; [`Error::LengthMismatch`] when `index` does not
    /// hold `index_shape`'s element count; [`Error::IndexOutOfRange`];
    /// [`Error::ShapeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap();
    /// // torch.gather(x, 1, torch.tensor([[0, 0], [1, 0]]))
    /// let y = x.try_gather(1, &[0, 0, 1, 0], [2, 2]).unwrap();
    /// assert_eq!(y.to_vec(), vec![1.0, 1.0, 4.0, 3.0]);
    /// let e = x.try_gather(0, &[2, 0], [1, 2]).unwrap_err();
    /// assert_eq!(e.to_string(), "gather: index 2 is out of range for axis 0 of length 2 (shape [2, 2])");
    /// ```
    pub fn try_gather(
        &self,
        axis: isize,
        index: &[usize],
        index_shape: impl Into<Shape>,
    ) -> Result<Tensor<T>> {
        let index_shape = index_shape.into();
        let ax = check_index("gather", self.shape(), axis, index, &index_shape)?;
        let k = index_shape[ax];
        let data = gather_rows(self.as_slice(), AxisView::new(self.shape(), ax), index, k);
        let y = Tensor::from_parts(data, index_shape.clone());
        Ok(Tensor::from_op(y, &[self], || GatherBackward {
            input: self.shape().clone(),
            axis: ax,
            index: index.to_vec(),
            index_shape,
        }))
    }

    /// Panicking twin of [`Tensor::try_gather`].
    ///
    /// # Panics
    ///
    /// When the axis, the index shape or an index is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3]).unwrap();
    /// assert_eq!(x.gather(0, &[2, 2, 0, 1], [4]).to_vec(), vec![3.0, 3.0, 1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn gather(&self, axis: isize, index: &[usize], index_shape: impl Into<Shape>) -> Tensor<T> {
        match self.try_gather(axis, index, index_shape) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns `self` with each element of `source` added at the position
    /// `index` picks for it along `axis`: `out[i with its axis coordinate
    /// replaced by index[i]] += source[i]`, as `Tensor.scatter_add` in
    /// PyTorch. `source` has shape `index_shape`, which has the rank of `self`
    /// and its length on every axis but `axis`. Repeated targets accumulate.
    ///
    /// # Errors
    ///
    /// As [`Tensor::try_gather`], and [`Error::ShapeMismatch`] when `source`
    /// does not have shape `index_shape`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::<f32>::zeros([2, 2]);
    /// let s = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap();
    /// // torch.zeros(2, 2).scatter_add(1, torch.tensor([[0, 0], [1, 0]]), s)
    /// let y = x.try_scatter_add(1, &[0, 0, 1, 0], [2, 2], &s).unwrap();
    /// assert_eq!(y.to_vec(), vec![3.0, 0.0, 4.0, 3.0]);
    /// ```
    pub fn try_scatter_add(
        &self,
        axis: isize,
        index: &[usize],
        index_shape: impl Into<Shape>,
        source: &Tensor<T>,
    ) -> Result<Tensor<T>> {
        let index_shape = index_shape.into();
        let ax = check_index("scatter_add", self.shape(), axis, index, &index_shape)?;
        if source.shape() != &index_shape {
            return Err(Error::ShapeMismatch {
                op: "scatter_add",
                expected: index_shape,
                actual: source.shape().clone(),
            });
        }
        let mut data = self.to_vec();
        scatter_add_rows(
            &mut data,
            AxisView::new(self.shape(), ax),
            index,
            index_shape[ax],
            source.as_slice(),
        );
        let y = Tensor::from_parts(data, self.shape().clone());
        Ok(Tensor::from_op(y, &[self, source], || ScatterAddBackward {
            axis: ax,
            index: index.to_vec(),
            index_shape,
        }))
    }

    /// Panicking twin of [`Tensor::try_scatter_add`].
    ///
    /// # Panics
    ///
    /// When the axis, the index shape, the source shape or an index is out of
    /// range.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::<f64>::ones([3]);
    /// let s = Tensor::from_vec(vec![5.0f64, 7.0], [2]).unwrap();
    /// assert_eq!(x.scatter_add(0, &[1, 1], [2], &s).to_vec(), vec![1.0, 13.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn scatter_add(
        &self,
        axis: isize,
        index: &[usize],
        index_shape: impl Into<Shape>,
        source: &Tensor<T>,
    ) -> Tensor<T> {
        match self.try_scatter_add(axis, index, index_shape, source) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_gather`]: saves the input shape, the axis and the
/// index with its shape.
struct GatherBackward {
    input: Shape,
    axis: usize,
    index: Vec<usize>,
    index_shape: Shape,
}

impl<T: Float> Backward<T> for GatherBackward {
    fn name(&self) -> &'static str {
        "gather"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let zeros = Tensor::zeros(self.input.clone());
        let g = zeros.scatter_add(self.axis as isize, &self.index, &self.index_shape, grad_out);
        Ok(smallvec![Some(g)])
    }
}

/// Backward of [`Tensor::try_scatter_add`]: saves the axis and the index with
/// its shape.
struct ScatterAddBackward {
    axis: usize,
    index: Vec<usize>,
    index_shape: Shape,
}

impl<T: Float> Backward<T> for ScatterAddBackward {
    fn name(&self) -> &'static str {
        "scatter_add"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let grad_self = needs[0].then(|| grad_out.clone());
        let grad_source =
            needs[1].then(|| grad_out.gather(self.axis as isize, &self.index, &self.index_shape));
        Ok(smallvec![grad_self, grad_source])
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use crate::testing::*;
    use crate::{Error, Shape, Tensor};

    /// A random index for `shape` along `axis` with `k` rows, repeats likely.
    fn random_index(shape: &Shape, axis: usize, k: usize, rng: &mut StdRng) -> (Vec<usize>, Shape) {
        use rand::RngExt;
        let mut dims = shape.dims().to_vec();
        dims[axis] = k;
        let index_shape = Shape::from(dims);
        let len = shape[axis];
        let index = (0..index_shape.numel())
            .map(|_| rng.random_range(0..len))
            .collect();
        (index, index_shape)
    }

    #[test]
    fn gather_golden_value_and_gradient() {
        // torch.gather(torch.tensor([[1., 2., 3.], [4., 5., 6.]]), 0, torch.tensor([[1, 0, 1], [1, 1, 0]]))
        //   == [[4, 2, 6], [4, 5, 3]]; the gradient of its sum counts the uses of each element.
        let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3])
            .unwrap()
            .requires_grad();
        let y = x.gather(0, &[1, 0, 1, 1, 1, 0], [2, 3]);
        assert_eq!(y.to_vec(), vec![4.0, 2.0, 6.0, 4.0, 5.0, 3.0]);
        let g = y.sum().backward().unwrap();
        assert_eq!(
            g.get(&x).unwrap().to_vec(),
            vec![0.0, 1.0, 1.0, 2.0, 1.0, 1.0]
        );
    }

    #[test]
    fn scatter_add_gradients_pass_through_and_gather() {
        // Hand-derived: with seed w, grad_self = w and grad_source[i] = w at i's target.
        let x = Tensor::<f64>::zeros([2, 2]).requires_grad();
        let s = Tensor::<f64>::zeros([2, 1]).requires_grad();
        let y = x.scatter_add(1, &[1, 0], [2, 1], &s);
        let w = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]).unwrap();
        let g = y.backward_with(Some(&w), Default::default()).unwrap();
        assert_eq!(g.get(&x).unwrap().to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(g.get(&s).unwrap().to_vec(), vec![2.0, 3.0]);
    }

    #[test]
    fn scatter_add_propagates_nan() {
        let s = Tensor::from_vec(vec![f64::NAN, 1.0], [2]).unwrap();
        let y = Tensor::<f64>::zeros([3])
            .scatter_add(0, &[2, 0], [2], &s)
            .to_vec();
        assert!(y[0] == 1.0 && y[1] == 0.0 && y[2].is_nan());
    }

    #[test]
    fn bad_indices_and_shapes_are_errors() {
        let x = Tensor::<f32>::zeros([2, 3]);
        let e = x.try_gather(1, &[0, 3], [2, 1]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::IndexOutOfRange {
                    op: "gather",
                    index: 3,
                    axis: 1,
                    len: 3,
                    ..
                }
            ),
            "{e}"
        );
        let e = x.try_gather(1, &[0, 0], [1, 2]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "gather: shapes differ (expected [2, 2], got [1, 2])"
        );
        assert!(matches!(
            x.try_gather(0, &[0, 0], [2]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            x.try_gather(0, &[0], [1, 3]),
            Err(Error::LengthMismatch { op: "gather", .. })
        ));
        assert!(matches!(
            x.try_gather(2, &[], [2, 0]),
            Err(Error::AxisOutOfRange { op: "gather", .. })
        ));
        let s = Tensor::<f32>::zeros([2, 2]);
        assert!(matches!(
            x.try_scatter_add(1, &[0, 3], [2, 1], &s),
            Err(Error::IndexOutOfRange {
                op: "scatter_add",
                ..
            })
        ));
        let e = x.try_scatter_add(1, &[0, 1], [2, 1], &s).unwrap_err();
        assert_eq!(
            e.to_string(),
            "scatter_add: shapes differ (expected [2, 1], got [2, 2])"
        );
        let s = Tensor::scalar(1.0f32);
        assert!(matches!(
            s.try_gather(0, &[0], ()),
            Err(Error::AxisOutOfRange { .. })
        ));
    }

    #[test]
    fn zero_size_gathers() {
        let x = Tensor::<f64>::ones([2, 3]).requires_grad();
        let y = x.gather(1, &[], [2, 0]);
        assert_eq!(y.dims(), &[2, 0]);
        assert_eq!(
            y.sum().backward().unwrap().get(&x).unwrap().to_vec(),
            vec![0.0; 6]
        );
        let z = Tensor::<f64>::zeros([0, 3]);
        assert_eq!(z.gather(1, &[], [0, 5]).dims(), &[0, 5]);
        assert_eq!(
            z.scatter_add(1, &[], [0, 5], &Tensor::zeros([0, 5])).dims(),
            &[0, 3]
        );
    }

    #[test]
    fn gather_and_scatter_add_are_adjoint() {
        // <gather(x, idx), y> = <x, scatter_add(0, idx, y)> for random x, y and indices with repeats.
        let mut rng = StdRng::seed_from_u64(8);
        let x = Tensor::<f64>::randn([3, 4, 2], 0.0, 1.0, &mut rng).unwrap();
        for axis in 0..3 {
            let (idx, ishape) = random_index(x.shape(), axis, 5, &mut rng);
            let y = Tensor::<f64>::randn(ishape.clone(), 0.0, 1.0, &mut rng).unwrap();
            let lhs = (&x.gather(axis as isize, &idx, &ishape) * &y).sum().item();
            let back = Tensor::zeros([3, 4, 2]).scatter_add(axis as isize, &idx, &ishape, &y);
            let rhs = (&x * &back).sum().item();
            assert!((lhs - rhs).abs() < 1e-12, "axis {axis}: {lhs} vs {rhs}");
        }
    }

    proptest! {
        #[test]
        fn gather_grad_matches_finite_differences(x in tensor(nonscalar_shape(), -2.0..2.0), a in 0usize..4, k in 0usize..5, seed in 0u64..1000) {
            let ax = a % x.rank();
            let mut rng = StdRng::seed_from_u64(seed);
            let (idx, ishape) = random_index(x.shape(), ax, k, &mut rng);
            check_grads!([x], |t| t.gather(ax as isize, &idx, &ishape))?;
        }

        #[test]
        fn scatter_add_grad_matches_finite_differences(x in tensor(nonscalar_shape(), -2.0..2.0), a in 0usize..4, k in 0usize..5, seed in 0u64..1000) {
            let ax = a % x.rank();
            let mut rng = StdRng::seed_from_u64(seed);
            let (idx, ishape) = random_index(x.shape(), ax, k, &mut rng);
            let s = Tensor::<f64>::rand_uniform(ishape.clone(), -2.0, 2.0, &mut rng).unwrap();
            check_grads!([x, s], |p, q| p.scatter_add(ax as isize, &idx, &ishape, q))?;
        }
    }
}
