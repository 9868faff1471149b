//! `index_select` and its adjoint `index_add`, and `one_hot`.
//!
//! - `y = index_select(x, axis, idx)`, row `j` of `y` along `axis` being row
//!   `idx[j]` of `x`: `grad_x = index_add(zeros(x.shape), axis, idx,
//!   grad_out)`; repeated indices accumulate.
//! - `y = index_add(x, axis, idx, s)`, adding row `j` of `s` into row `idx[j]`
//!   of `x`: `grad_x = grad_out`, `grad_s = index_select(grad_out, axis, idx)`.
//! - `one_hot(labels, classes)` is a constant (untracked) `[n, classes]`
//!   matrix with a 1 at `(k, labels[k])`.
//!
//! Indices are checked against the axis length before any arithmetic. Linear:
//! no kinks. NaN propagates through the sums of `index_add` as IEEE addition
//! does.

use smallvec::smallvec;

use crate::error::{Error, Result};
use crate::kernels::copy::{AxisView, add_rows, select_rows};
use crate::ops::narrow_pad::with_axis_len;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// Checks every index against the length of `axis` of `shape`.
fn check_indices(op: &'static str, shape: &Shape, axis: usize, indices: &[usize]) -> Result<()> {
    let len = shape[axis];
    match indices.iter().find(|&&i| i >= len) {
        Some(&index) => Err(Error::IndexOutOfRange {
            op,
            index,
            axis,
            len,
            shape: shape.clone(),
        }),
        None => Ok(()),
    }
}

impl<T: Float> Tensor<T> {
    /// Returns the rows `indices` along `axis` (negative axes count from the
    /// end), in that order; indices may repeat.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`]; [`Error::IndexOutOfRange`] for an index not
    /// below the length of the axis; [`Error::ShapeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2]).unwrap();
    /// assert_eq!(x.try_index_select(0, &[2, 0, 2]).unwrap().to_vec(), vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
    /// let e = x.try_index_select(0, &[3]).unwrap_err();
    /// assert_eq!(e.to_string(), "index_select: index 3 is out of range for axis 0 of length 3 (shape [3, 2])");
    /// ```
    pub fn try_index_select(&self, axis: isize, indices: &[usize]) -> Result<Tensor<T>> {
        let ax = self.shape().axis("index_select", axis)?;
        check_indices("index_select", self.shape(), ax, indices)?;
        let out = with_axis_len(self.shape(), ax, indices.len());
        out.checked_numel("index_select")?;
        let data = select_rows(
            self.as_slice(),
            AxisView::new(self.shape(), ax),
            indices.iter().copied(),
        );
        Ok(Tensor::from_op(
            Tensor::from_parts(data, out),
            &[self],
            || IndexSelectBackward {
                input: self.shape().clone(),
                axis: ax,
                indices: indices.to_vec(),
            },
        ))
    }

    /// Panicking twin of [`Tensor::try_index_select`].
    ///
    /// # Panics
    ///
    /// When the axis does not exist or an index is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3]).unwrap();
    /// assert_eq!(x.index_select(-1, &[1, 1]).to_vec(), vec![2.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Tensor<T> {
        match self.try_index_select(axis, indices) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns `self` with row `j` of `source` along `axis` added into row
    /// `indices[j]`; repeated indices accumulate. `source` has the shape of
    /// `self` with the length of `axis` replaced by `indices.len()`.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`]; [`Error::ShapeMismatch`] when `source` has
    /// another shape; [`Error::IndexOutOfRange`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::<f32>::zeros([3]);
    /// let s = Tensor::from_vec(vec![1.0f32, 2.0, 4.0], [3]).unwrap();
    /// assert_eq!(x.try_index_add(0, &[2, 0, 2], &s).unwrap().to_vec(), vec![2.0, 0.0, 5.0]);
    /// let e = x.try_index_add(0, &[0], &s).unwrap_err();
    /// assert_eq!(e.to_string(), "index_add: shapes differ (expected [1], got [3])");
    /// ```
    pub fn try_index_add(
        &self,
        axis: isize,
        indices: &[usize],
        source: &Tensor<T>,
    ) -> Result<Tensor<T>> {
        let ax = self.shape().axis("index_add", axis)?;
        let expected = with_axis_len(self.shape(), ax, indices.len());
        if source.shape() != &expected {
            return Err(Error::ShapeMismatch {
                op: "index_add",
                expected,
                actual: source.shape().clone(),
            });
        }
        check_indices("index_add", self.shape(), ax, indices)?;
        let mut data = self.to_vec();
        add_rows(
            &mut data,
            AxisView::new(self.shape(), ax),
            indices.iter().copied(),
            source.as_slice(),
        );
        let y = Tensor::from_parts(data, self.shape().clone());
        Ok(Tensor::from_op(y, &[self, source], || IndexAddBackward {
            axis: ax,
            indices: indices.to_vec(),
        }))
    }

    /// Panicking twin of [`Tensor::try_index_add`].
    ///
    /// # Panics
    ///
    /// When the axis does not exist, `source` has the wrong shape or an index
    /// is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::<f64>::ones([2, 2]);
    /// let s = Tensor::from_vec(vec![10.0f64, 20.0], [2, 1]).unwrap();
    /// assert_eq!(x.index_add(1, &[1], &s).to_vec(), vec![1.0, 11.0, 1.0, 21.0]);
    /// ```
    #[track_caller]
    pub fn index_add(&self, axis: isize, indices: &[usize], source: &Tensor<T>) -> Tensor<T> {
        match self.try_index_add(axis, indices, source) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Builds the `[labels.len(), classes]` one-hot matrix of `labels`: row `k`
    /// is 1 at column `labels[k]` and 0 elsewhere. The result is a constant.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] for a label not below `classes` (axis 1 of
    /// the result); [`Error::ShapeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let y = Tensor::<f32>::try_one_hot(&[2, 0], 3).unwrap();
    /// assert_eq!(y.dims(), &[2, 3]);
    /// assert_eq!(y.to_vec(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// let e = Tensor::<f32>::try_one_hot(&[3], 3).unwrap_err();
    /// assert_eq!(e.to_string(), "one_hot: index 3 is out of range for axis 1 of length 3 (shape [1, 3])");
    /// ```
    pub fn try_one_hot(labels: &[usize], classes: usize) -> Result<Tensor<T>> {
        let shape = Shape::from([labels.len(), classes]);
        let n = shape.checked_numel("one_hot")?;
        check_indices("one_hot", &shape, 1, labels)?;
        let mut data = vec![T::ZERO; n];
        for (k, &label) in labels.iter().enumerate() {
            data[k * classes + label] = T::ONE;
        }
        Ok(Tensor::from_parts(data, shape))
    }

    /// Panicking twin of [`Tensor::try_one_hot`].
    ///
    /// # Panics
    ///
    /// When a label is not below `classes`.
    ///
    /// # Examples
    ///
    /// ```
    /// let y = wengert_core::Tensor::<f64>::one_hot(&[1], 2);
    /// assert_eq!(y.to_vec(), vec![0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn one_hot(labels: &[usize], classes: usize) -> Tensor<T> {
        match Tensor::try_one_hot(labels, classes) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_index_select`]: saves the input shape, the axis
/// and the indices.
struct IndexSelectBackward {
    input: Shape,
    axis: usize,
    indices: Vec<usize>,
}

impl<T: Float> Backward<T> for IndexSelectBackward {
    fn name(&self) -> &'static str {
        "index_select"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let zeros = Tensor::zeros(self.input.clone());
        Ok(smallvec![Some(zeros.index_add(
            self.axis as isize,
            &self.indices,
            grad_out
        ))])
    }
}

/// Backward of [`Tensor::try_index_add`]: saves the axis and the indices.
struct IndexAddBackward {
    axis: usize,
    indices: Vec<usize>,
}

impl<T: Float> Backward<T> for IndexAddBackward {
    fn name(&self) -> &'static str {
        "index_add"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let grad_self = needs[0].then(|| grad_out.clone());
        let grad_source =
            needs[1].then(|| grad_out.index_select(self.axis as isize, &self.indices));
        Ok(smallvec![grad_self, grad_source])
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use crate::testing::*;
    use crate::{Error, Shape, Tensor};

    /// Indices into an axis of length `len` (at least 1) from raw draws.
    fn wrap(raw: &[usize], len: usize) -> Vec<usize> {
        raw.iter().map(|r| r % len).collect()
    }

    #[test]
    fn index_select_golden_value_and_repeated_index_gradient() {
        // torch.arange(6.).reshape(2, 3).index_select(1, torch.tensor([2, 2, 0])).flatten()
        //   == [2, 2, 0, 5, 5, 3]; the gradient of the sum counts each column's uses: [1, 0, 2].
        let x = Tensor::from_vec((0..6).map(f64::from).collect(), [2, 3])
            .unwrap()
            .requires_grad();
        let y = x.index_select(1, &[2, 2, 0]);
        assert_eq!(y.to_vec(), vec![2.0, 2.0, 0.0, 5.0, 5.0, 3.0]);
        let g = y.sum().backward().unwrap();
        assert_eq!(
            g.get(&x).unwrap().to_vec(),
            vec![1.0, 0.0, 2.0, 1.0, 0.0, 2.0]
        );
    }

    #[test]
    fn index_add_gradients_pass_through_and_select() {
        // Hand-derived: y = x + scatter(s); with seed w, grad_x = w and grad_s = w[idx].
        let x = Tensor::<f64>::zeros([3]).requires_grad();
        let s = Tensor::<f64>::zeros([2]).requires_grad();
        let y = x.index_add(0, &[2, 2], &s);
        let w = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).unwrap();
        let g = y.backward_with(Some(&w), Default::default()).unwrap();
        assert_eq!(g.get(&x).unwrap().to_vec(), vec![1.0, 2.0, 3.0]);
        assert_eq!(g.get(&s).unwrap().to_vec(), vec![3.0, 3.0]);
    }

    #[test]
    fn index_add_propagates_nan() {
        let x = Tensor::<f32>::zeros([2]);
        let s = Tensor::from_vec(vec![f32::NAN], [1]).unwrap();
        let y = x.index_add(0, &[1], &s).to_vec();
        assert!(y[0] == 0.0 && y[1].is_nan());
    }

    #[test]
    fn one_hot_golden_value_and_errors() {
        // torch.nn.functional.one_hot(torch.tensor([0, 2, 1]), 3).flatten() == [1,0,0, 0,0,1, 0,1,0]
        let y = Tensor::<f64>::one_hot(&[0, 2, 1], 3);
        assert_eq!(
            y.to_vec(),
            vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]
        );
        assert!(!y.is_tracked());
        assert_eq!(Tensor::<f32>::one_hot(&[], 4).dims(), &[0, 4]);
        assert!(matches!(
            Tensor::<f32>::try_one_hot(&[0], 0),
            Err(Error::IndexOutOfRange { op: "one_hot", .. })
        ));
        let e = Tensor::<f32>::try_one_hot(&[1, 5], 4).unwrap_err();
        assert!(
            matches!(
                e,
                Error::IndexOutOfRange {
                    index: 5,
                    axis: 1,
                    len: 4,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_axes_shapes_and_indices_are_errors() {
        let x = Tensor::<f32>::zeros([2, 3]);
        assert!(matches!(
            x.try_index_select(2, &[0]),
            Err(Error::AxisOutOfRange {
                op: "index_select",
                ..
            })
        ));
        assert!(matches!(
            Tensor::scalar(1.0f32).try_index_select(0, &[0]),
            Err(Error::AxisOutOfRange { .. })
        ));
        let e = x.try_index_select(-1, &[0, 3]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::IndexOutOfRange {
                    index: 3,
                    axis: 1,
                    len: 3,
                    ..
                }
            ),
            "{e}"
        );
        let s = Tensor::<f32>::zeros([2, 2]);
        assert!(matches!(
            x.try_index_add(1, &[0, 3], &s),
            Err(Error::IndexOutOfRange {
                op: "index_add",
                ..
            })
        ));
        assert!(matches!(
            x.try_index_add(1, &[0], &s),
            Err(Error::ShapeMismatch {
                op: "index_add",
                ..
            })
        ));
        assert!(matches!(
            x.try_index_add(-3, &[0], &s),
            Err(Error::AxisOutOfRange { .. })
        ));
    }

    #[test]
    fn zero_size_selections() {
        let x = Tensor::<f64>::ones([2, 3]).requires_grad();
        let y = x.index_select(0, &[]);
        assert_eq!(y.dims(), &[0, 3]);
        assert_eq!(
            y.sum().backward().unwrap().get(&x).unwrap().to_vec(),
            vec![0.0; 6]
        );
        let z = Tensor::<f64>::zeros([0, 3]);
        assert_eq!(z.index_select(1, &[2, 0]).dims(), &[0, 2]);
        assert_eq!(z.index_add(1, &[1], &Tensor::zeros([0, 1])).dims(), &[0, 3]);
        let empty_axis = Tensor::<f64>::zeros([2, 0]);
        assert_eq!(empty_axis.index_select(1, &[]).dims(), &[2, 0]);
        let huge = Tensor::<f32>::from_vec(vec![], Shape::from([0, usize::MAX])).unwrap();
        assert_eq!(huge.index_select(1, &[0, 1]).dims(), &[0, 2]);
    }

    #[test]
    fn index_select_and_index_add_are_adjoint() {
        // <index_select(x, idx), y> = <x, index_add(0, idx, y)> for random x, y and repeated indices.
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let idx = [3, 0, 3, 1, 3];
        let x = Tensor::<f64>::randn([2, 4, 3], 0.0, 1.0, &mut rng).unwrap();
        let y = Tensor::<f64>::randn([2, 5, 3], 0.0, 1.0, &mut rng).unwrap();
        let lhs = (&x.index_select(1, &idx) * &y).sum().item();
        let rhs = (&x * &Tensor::zeros([2, 4, 3]).index_add(1, &idx, &y))
            .sum()
            .item();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }

    proptest! {
        #[test]
        fn index_select_grad_matches_finite_differences(
            x in tensor(nonscalar_shape(), -2.0..2.0),
            a in 0usize..4,
            raw in proptest::collection::vec(0usize..8, 0..6),
        ) {
            let ax = a % x.rank();
            let idx = wrap(&raw, x.dims()[ax]);
            check_grads!([x], |t| t.index_select(ax as isize, &idx))?;
        }

        #[test]
        fn index_add_grad_matches_finite_differences(
            x in tensor(nonscalar_shape(), -2.0..2.0),
            a in 0usize..4,
            raw in proptest::collection::vec(0usize..8, 0..6),
            seed in 0u64..1000,
        ) {
            let ax = a % x.rank();
            let idx = wrap(&raw, x.dims()[ax]);
            let mut dims = x.dims().to_vec();
            dims[ax] = idx.len();
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let s = Tensor::<f64>::rand_uniform(dims, -2.0, 2.0, &mut rng).unwrap();
            check_grads!([x, s], |p, q| p.index_add(ax as isize, &idx, q))?;
        }
    }
}
