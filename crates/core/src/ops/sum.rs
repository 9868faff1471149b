//! `sum` over everything or over axes, and the adjoint pair `broadcast_to` /
//! `sum_to`.
//!
//! - `y = sum(x, axes)`: `grad_x = broadcast_to(grad_out kept to rank, x.shape)`.
//! - `y = broadcast_to(x, s)`: `grad_x = sum_to(grad_out, x.shape)`.
//! - `y = sum_to(x, s)` (sum over the broadcast axes of `s`): `grad_x =
//!   broadcast_to(grad_out, x.shape)`.
//!
//! Sums accumulate in `f64` pairwise (see `kernels::reduce`): summing 10^7
//! copies of `0.1f32` is exact to about 1e-7 relative. The sum over an empty
//! axis is 0. Linear: no kinks.

use smallvec::smallvec;

use crate::error::{Error, Result};
use crate::kernels::elementwise::broadcast_copy;
use crate::kernels::reduce::{sum_axis, sum_f64};
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// Resolved axes: up to four inline.
pub(crate) type Axes = smallvec::SmallVec<[usize; 4]>;

/// Resolves, checks and sorts a list of axes (descending, no repeats).
pub(crate) fn resolve_axes(op: &'static str, shape: &Shape, axes: &[isize]) -> Result<Axes> {
    let mut out = Axes::with_capacity(axes.len());
    for &a in axes {
        let ax = shape.axis(op, a)?;
        if out.contains(&ax) {
            return Err(Error::InvalidArgument {
                op,
                what: format!("axis {a} is listed twice in {axes:?} for shape {shape}"),
            });
        }
        out.push(ax);
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    Ok(out)
}

/// The shape with each of `axes` set to 1.
pub(crate) fn kept_shape(shape: &Shape, axes: &[usize]) -> Shape {
    let dims = shape.dims().iter().enumerate();
    dims.map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect()
}

/// The shape with each of `axes` removed.
pub(crate) fn dropped_shape(shape: &Shape, axes: &[usize]) -> Shape {
    let dims = shape.dims().iter().enumerate();
    dims.filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .collect()
}

impl<T: Float> Tensor<T> {
    /// Returns the sum of all elements as a rank-0 tensor.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::ones([2, 3]);
    /// assert_eq!(x.sum().item(), 6.0);
    /// ```
    pub fn sum(&self) -> Tensor<T> {
        let y = Tensor::scalar(T::from_f64(sum_f64(self.as_slice())));
        Tensor::from_op(y, &[self], || SumBackward {
            input: self.shape().clone(),
            kept: std::iter::repeat_n(1, self.rank()).collect(),
        })
    }

    /// Returns the sums over `axes` (negative axes count from the end), keeping
    /// them as size-1 dimensions when `keepdim`.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`] or [`Error::InvalidArgument`] (an axis listed
    /// twice).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]).unwrap();
    /// assert_eq!(x.try_sum_axes(&[0], false).unwrap().to_vec(), vec![5.0, 7.0, 9.0]);
    /// assert_eq!(x.try_sum_axes(&[-1], true).unwrap().dims(), &[2, 1]);
    /// ```
    pub fn try_sum_axes(&self, axes: &[isize], keepdim: bool) -> Result<Tensor<T>> {
        let axes = resolve_axes("sum", self.shape(), axes)?;
        if self.numel() == 0 {
            // Nothing to add: zeros of the output shape, without walking loops
            // over dimensions that may be huge beside a zero one.
            let kept = kept_shape(self.shape(), &axes);
            let out = if keepdim {
                kept.clone()
            } else {
                dropped_shape(self.shape(), &axes)
            };
            let n = out.checked_numel("sum")?;
            let y = Tensor::from_parts(vec![T::ZERO; n], out);
            return Ok(Tensor::from_op(y, &[self], || SumBackward {
                input: self.shape().clone(),
                kept,
            }));
        }
        // The first reduction reads the input in place: no copy of it.
        let mut data: Option<Vec<T>> = None;
        let mut shape = self.shape().clone();
        for &ax in &axes {
            let (outer, len, inner) = shape.split_at_axis(ax);
            let src = data.as_deref().unwrap_or(self.as_slice());
            data = Some(sum_axis(src, outer, len, inner));
            shape = shape.reduced(ax, true);
        }
        let data = data.unwrap_or_else(|| self.as_slice().to_vec());
        let kept = shape;
        let out = if keepdim {
            kept.clone()
        } else {
            dropped_shape(self.shape(), &axes)
        };
        let y = Tensor::from_parts(data, out);
        Ok(Tensor::from_op(y, &[self], || SumBackward {
            input: self.shape().clone(),
            kept,
        }))
    }

    /// Panicking twin of [`Tensor::try_sum_axes`].
    ///
    /// # Panics
    ///
    /// When an axis is out of range or repeated.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f64>::ones([2, 3]);
    /// assert_eq!(x.sum_axes(&[1], false).to_vec(), vec![3.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn sum_axes(&self, axes: &[isize], keepdim: bool) -> Tensor<T> {
        match self.try_sum_axes(axes, keepdim) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns `self` broadcast to `shape` (NumPy rule), as a new tensor.
    ///
    /// # Errors
    ///
    /// [`Error::BroadcastMismatch`] when `self` does not broadcast to `shape`;
    /// [`Error::ShapeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], [2, 1]).unwrap();
    /// assert_eq!(x.try_broadcast_to([2, 2]).unwrap().to_vec(), vec![1.0, 1.0, 2.0, 2.0]);
    /// assert!(x.try_broadcast_to([3, 2]).is_err());
    /// ```
    pub fn try_broadcast_to(&self, shape: impl Into<Shape>) -> Result<Tensor<T>> {
        let to = shape.into();
        let mismatch = || Error::BroadcastMismatch {
            op: "broadcast_to",
            lhs: self.shape().clone(),
            rhs: to.clone(),
        };
        if self
            .shape()
            .broadcast("broadcast_to", &to)
            .map_err(|_| mismatch())?
            != to
            || self.rank() > to.rank()
        {
            return Err(mismatch());
        }
        to.checked_numel("broadcast_to")?;
        if &to == self.shape() {
            return Ok(self.clone());
        }
        let y = Tensor::from_parts(broadcast_copy(self.as_slice(), self.shape(), &to), to);
        Ok(Tensor::from_op(y, &[self], || BroadcastToBackward {
            input: self.shape().clone(),
        }))
    }

    /// Panicking twin of [`Tensor::try_broadcast_to`].
    ///
    /// # Panics
    ///
    /// When `self` does not broadcast to `shape`.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::scalar(3.0f32);
    /// assert_eq!(x.broadcast_to([2]).to_vec(), vec![3.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Tensor<T> {
        match self.try_broadcast_to(shape) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Sums `self` down to `shape`, a shape that broadcasts to `self.shape()`:
    /// the adjoint of [`Tensor::broadcast_to`], and how every broadcasting op
    /// reduces the gradient of a broadcast operand.
    ///
    /// # Errors
    ///
    /// [`Error::BroadcastMismatch`] when `shape` does not broadcast to `self`'s.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let g = Tensor::<f32>::ones([2, 3]);
    /// assert_eq!(g.try_sum_to(&[3].into()).unwrap().to_vec(), vec![2.0; 3]);
    /// assert_eq!(g.try_sum_to(&[2, 1].into()).unwrap().to_vec(), vec![3.0; 2]);
    /// ```
    pub fn try_sum_to(&self, shape: &Shape) -> Result<Tensor<T>> {
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let ok = shape
            .broadcast("sum_to", self.shape())
            .is_ok_and(|s| &s == self.shape());
        if !ok || shape.rank() > self.rank() {
            return Err(Error::BroadcastMismatch {
                op: "sum_to",
                lhs: self.shape().clone(),
                rhs: shape.clone(),
            });
        }
        let lead = self.rank() - shape.rank();
        let axes: Vec<isize> = (0..self.rank())
            .filter(|&i| i < lead || (shape[i - lead] == 1 && self.shape()[i] != 1))
            .map(|i| i as isize)
            .collect();
        self.try_sum_axes(&axes, true)?.try_reshape(shape.clone())
    }

    /// Panicking twin of [`Tensor::try_sum_to`].
    ///
    /// # Panics
    ///
    /// When `shape` does not broadcast to `self`'s shape.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = wengert_core::Tensor::<f32>::ones([2, 3]);
    /// assert_eq!(g.sum_to(&wengert_core::Shape::scalar()).item(), 6.0);
    /// ```
    #[track_caller]
    pub fn sum_to(&self, shape: &Shape) -> Tensor<T> {
        match self.try_sum_to(shape) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of the sums: saves the input shape and the output shape with the
/// reduced axes kept as 1.
struct SumBackward {
    input: Shape,
    kept: Shape,
}

impl<T: Float> Backward<T> for SumBackward {
    fn name(&self) -> &'static str {
        "sum"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let g = grad_out
            .reshape(self.kept.clone())
            .broadcast_to(self.input.clone());
        Ok(smallvec![Some(g)])
    }
}

/// Backward of [`Tensor::try_broadcast_to`]: saves the input shape.
struct BroadcastToBackward {
    input: Shape,
}

impl<T: Float> Backward<T> for BroadcastToBackward {
    fn name(&self) -> &'static str {
        "broadcast_to"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out.sum_to(&self.input))])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Shape, Tensor};

    #[test]
    fn sum_of_ten_million_tenths_in_f32_is_accurate() {
        let x = Tensor::<f32>::full([10_000_000], 0.1);
        let s = x.sum().item();
        assert!(((s - 1.0e6) / 1.0e6).abs() < 1e-4, "{s}");
        let s = x.reshape([1000, 10_000]).sum_axes(&[0, 1], false).item();
        assert!(((s - 1.0e6) / 1.0e6).abs() < 1e-4, "{s}");
    }

    #[test]
    fn sum_over_an_empty_axis_is_zero() {
        let x = Tensor::<f32>::zeros([2, 0]);
        assert_eq!(x.sum_axes(&[1], false).to_vec(), vec![0.0, 0.0]);
        assert_eq!(x.sum().item(), 0.0);
    }

    #[test]
    fn sum_of_an_empty_tensor_with_huge_dimensions_is_immediate() {
        let x = Tensor::<f32>::zeros([1 << 40, 2, 0]);
        assert_eq!(x.sum_axes(&[0], false).dims(), &[2, 0]);
        assert_eq!(x.sum().item(), 0.0);
        assert_eq!(x.mean_axes(&[1], true).dims(), &[1 << 40, 1, 0]);
    }

    #[test]
    fn repeated_or_missing_axes_are_errors() {
        let x = Tensor::<f32>::zeros([2, 3]);
        assert!(matches!(
            x.try_sum_axes(&[0, -2], false),
            Err(Error::InvalidArgument { .. })
        ));
        let e = x.try_sum_axes(&[2], false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sum: axis 2 is out of range for shape [2, 3]"
        );
    }

    #[test]
    fn broadcast_to_and_sum_to_are_adjoint() {
        // <broadcast_to(x), y> = <x, sum_to(y)> for random x, y.
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for (from, to) in [
            (vec![3], vec![2, 3]),
            (vec![2, 1, 4], vec![3, 2, 5, 4]),
            (vec![], vec![2, 2]),
        ] {
            let (from, to) = (Shape::from(from), Shape::from(to));
            let x = Tensor::<f64>::randn(from.clone(), 0.0, 1.0, &mut rng).unwrap();
            let y = Tensor::<f64>::randn(to.clone(), 0.0, 1.0, &mut rng).unwrap();
            let lhs = (&x.broadcast_to(to.clone()) * &y).sum().item();
            let rhs = (&x * &y.sum_to(&from)).sum().item();
            assert!((lhs - rhs).abs() < 1e-12, "{from} -> {to}: {lhs} vs {rhs}");
        }
    }

    proptest! {
        #[test]
        fn sum_grad_matches_finite_differences(x in tensor(nonscalar_shape(), -2.0..2.0), keep in any::<bool>(), pick in 0usize..16) {
            let r = x.rank();
            let axes: Vec<isize> = (0..r).filter(|i| pick & (1 << i) != 0).map(|i| i as isize).collect();
            check_grads!([x], |a| a.sum_axes(&axes, keep))?;
            check_grads!([x], |a| a.sum())?;
        }

        #[test]
        fn broadcast_to_grad_matches_finite_differences((sa, sb) in broadcastable_pair()) {
            let to = sa.broadcast("t", &sb).unwrap();
            let x = Tensor::<f64>::linspace(-1.0, 1.0, sa.numel()).unwrap().reshape(sa.clone());
            check_grads!([x], |a| a.broadcast_to(to.clone()))?;
        }
    }
}
