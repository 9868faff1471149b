//! `narrow`, `slice` and `pad`, and the adjoint of a stepped slice.
//!
//! - `y = narrow(x, axis, start, len)` keeps rows `start..start + len` along
//!   `axis`: `grad_x = pad(grad_out, (start, n - start - len) on axis, 0)`.
//! - `y = slice(x, axis, start, end, step)` keeps rows `start, start + step,
//!   ...` below `end`: with `step = 1` it is `narrow`; otherwise `grad_x =
//!   slice_adjoint(grad_out)`, which places each row of `grad_out` back at its
//!   row of a zero tensor of `x`'s shape (and whose own gradient is the slice).
//! - `y = pad(x, pads, value)` surrounds `x` with `value`, `pads[i] = (before,
//!   after)` on axis `i`: `grad_x = grad_out narrowed back to the interior` on
//!   every padded axis. No gradient flows to `value`.
//!
//! `pad` (with zeros) and `narrow` are an adjoint pair, as are `slice` and
//! `slice_adjoint`. Out-of-range arguments: `narrow` past the end of the axis
//! is an error (as in PyTorch); `slice` clamps `start` and `end` to the axis
//! length, as Python slicing does, so an empty range gives an empty axis.
//! Linear: no kinks; values, NaN included, are copied unchanged.

use smallvec::smallvec;

use crate::error::{Error, Result};
use crate::kernels::copy::{AxisView, add_rows, pad_copy, select_rows};
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// `shape` with the length of `axis` replaced by `len`.
pub(crate) fn with_axis_len(shape: &Shape, axis: usize, len: usize) -> Shape {
    let mut dims = shape.dims().to_vec();
    dims[axis] = len;
    Shape::from(dims)
}

impl<T: Float> Tensor<T> {
    /// Returns rows `start..start + len` along `axis` (negative axes count
    /// from the end), as a new tensor.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`]; [`Error::IndexOutOfRange`] when `start +
    /// len` exceeds the length of the axis (the error's index is the range
    /// end).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]).unwrap();
    /// assert_eq!(x.try_narrow(1, 1, 2).unwrap().to_vec(), vec![2.0, 3.0, 5.0, 6.0]);
    /// let e = x.try_narrow(0, 1, 2).unwrap_err();
    /// assert_eq!(e.to_string(), "narrow: index 3 is out of range for axis 0 of length 2 (shape [2, 3])");
    /// ```
    pub fn try_narrow(&self, axis: isize, start: usize, len: usize) -> Result<Tensor<T>> {
        let ax = self.shape().axis("narrow", axis)?;
        let n = self.shape()[ax];
        if start.checked_add(len).is_none_or(|end| end > n) {
            return Err(Error::IndexOutOfRange {
                op: "narrow",
                index: start.saturating_add(len),
                axis: ax,
                len: n,
                shape: self.shape().clone(),
            });
        }
        if start == 0 && len == n {
            return Ok(self.clone());
        }
        let view = AxisView::new(self.shape(), ax);
        let y = Tensor::from_parts(
            select_rows(self.as_slice(), view, start..start + len),
            with_axis_len(self.shape(), ax, len),
        );
        Ok(Tensor::from_op(y, &[self], || NarrowBackward {
            input: self.shape().clone(),
            axis: ax,
            start,
        }))
    }

    /// Panicking twin of [`Tensor::try_narrow`].
    ///
    /// # Panics
    ///
    /// When the axis does not exist or the range runs past its end.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3]).unwrap();
    /// assert_eq!(x.narrow(0, 2, 1).to_vec(), vec![3.0]);
    /// ```
    #[track_caller]
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Tensor<T> {
        match self.try_narrow(axis, start, len) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns rows `start, start + step, ...` below `end` along `axis`, as
    /// Python's `x[start:end:step]` on that axis: `start` and `end` are clamped
    /// to the length of the axis, and `start >= end` gives an empty axis.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`]; [`Error::InvalidArgument`] when `step` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec((0..7).map(|v| v as f32).collect(), [7]).unwrap();
    /// assert_eq!(x.try_slice(0, 1, 100, 2).unwrap().to_vec(), vec![1.0, 3.0, 5.0]);
    /// assert_eq!(x.try_slice(-1, 5, 2, 1).unwrap().dims(), &[0]);
    /// assert!(x.try_slice(0, 0, 7, 0).is_err());
    /// ```
    pub fn try_slice(
        &self,
        axis: isize,
        start: usize,
        end: usize,
        step: usize,
    ) -> Result<Tensor<T>> {
        let ax = self.shape().axis("slice", axis)?;
        if step == 0 {
            return Err(Error::InvalidArgument {
                op: "slice",
                what: format!(
                    "step must be at least 1, got 0 (axis {axis}, shape {})",
                    self.shape()
                ),
            });
        }
        let n = self.shape()[ax];
        let start = start.min(n);
        let end = end.clamp(start, n);
        if step == 1 {
            return self.try_narrow(axis, start, end - start);
        }
        let rows = (start..end).step_by(step);
        let out = with_axis_len(self.shape(), ax, rows.len());
        let y = Tensor::from_parts(
            select_rows(self.as_slice(), AxisView::new(self.shape(), ax), rows),
            out,
        );
        Ok(Tensor::from_op(y, &[self], || SliceBackward {
            input: self.shape().clone(),
            axis: ax,
            start,
            step,
        }))
    }

    /// Panicking twin of [`Tensor::try_slice`].
    ///
    /// # Panics
    ///
    /// When the axis does not exist or `step` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap();
    /// assert_eq!(x.slice(1, 1, 2, 1).to_vec(), vec![2.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn slice(&self, axis: isize, start: usize, end: usize, step: usize) -> Tensor<T> {
        match self.try_slice(axis, start, end, step) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// The adjoint of a stepped [`Tensor::slice`]: a zero tensor of `shape`
    /// with row `j` of `self` along `axis` placed at row `start + j * step`.
    /// `self` must have `shape` except along `axis`, and the rows must fit
    /// (guaranteed when called from the slice's backward).
    pub(crate) fn slice_adjoint(
        &self,
        shape: &Shape,
        axis: usize,
        start: usize,
        step: usize,
    ) -> Tensor<T> {
        let count = self.shape()[axis];
        debug_assert_eq!(
            self.shape(),
            &with_axis_len(shape, axis, count),
            "BUG: slice_adjoint shapes"
        );
        let rows = (0..count).map(move |j| start + j * step);
        let mut data = vec![T::ZERO; shape.numel()];
        add_rows(&mut data, AxisView::new(shape, axis), rows, self.as_slice());
        let y = Tensor::from_parts(data, shape.clone());
        Tensor::from_op(y, &[self], || SliceAdjointBackward {
            axis,
            start,
            // One past the last row, not start + count * step: that could overflow.
            end: if count == 0 {
                start
            } else {
                start + (count - 1) * step + 1
            },
            step,
        })
    }

    /// Returns `self` surrounded by `value`: `pads[i] = (before, after)` adds
    /// that many elements before and after axis `i`, outermost axis first.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] unless there is exactly one pair per axis, or
    /// when a padded length overflows `usize`; [`Error::ShapeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], [1, 2]).unwrap();
    /// let y = x.try_pad(&[(1, 0), (0, 1)], 0.0).unwrap();
    /// assert_eq!(y.dims(), &[2, 3]);
    /// assert_eq!(y.to_vec(), vec![0.0, 0.0, 0.0, 1.0, 2.0, 0.0]);
    /// assert!(x.try_pad(&[(1, 1)], 0.0).is_err());
    /// ```
    pub fn try_pad(&self, pads: &[(usize, usize)], value: T) -> Result<Tensor<T>> {
        if pads.len() != self.rank() {
            return Err(Error::InvalidArgument {
                op: "pad",
                what: format!(
                    "needs one (before, after) pair per axis, got {} for shape {}",
                    pads.len(),
                    self.shape()
                ),
            });
        }
        let mut dims = Vec::with_capacity(pads.len());
        for (i, (&d, &(before, after))) in self.dims().iter().zip(pads).enumerate() {
            let Some(padded) = d.checked_add(before).and_then(|v| v.checked_add(after)) else {
                return Err(Error::InvalidArgument {
                    op: "pad",
                    what: format!(
                        "axis {i} of length {d} padded by ({before}, {after}) overflows usize (shape {})",
                        self.shape()
                    ),
                });
            };
            dims.push(padded);
        }
        let out = Shape::from(dims);
        out.checked_numel("pad")?;
        if pads.iter().all(|&p| p == (0, 0)) {
            return Ok(self.clone());
        }
        let y = Tensor::from_parts(
            pad_copy(self.as_slice(), self.shape(), pads, &out, value),
            out,
        );
        Ok(Tensor::from_op(y, &[self], || PadBackward {
            input: self.shape().clone(),
            pads: pads.to_vec(),
        }))
    }

    /// Panicking twin of [`Tensor::try_pad`].
    ///
    /// # Panics
    ///
    /// When `pads` does not hold one pair per axis or the result is too large.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![5.0f64], [1]).unwrap();
    /// assert_eq!(x.pad(&[(2, 1)], -1.0).to_vec(), vec![-1.0, -1.0, 5.0, -1.0]);
    /// ```
    #[track_caller]
    pub fn pad(&self, pads: &[(usize, usize)], value: T) -> Tensor<T> {
        match self.try_pad(pads, value) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_narrow`]: saves the input shape, the axis and the
/// start of the range.
struct NarrowBackward {
    input: Shape,
    axis: usize,
    start: usize,
}

impl<T: Float> Backward<T> for NarrowBackward {
    fn name(&self) -> &'static str {
        "narrow"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let mut pads = vec![(0, 0); self.input.rank()];
        let after = self.input[self.axis] - self.start - grad_out.shape()[self.axis];
        pads[self.axis] = (self.start, after);
        Ok(smallvec![Some(grad_out.pad(&pads, T::ZERO))])
    }
}

/// Backward of a stepped [`Tensor::try_slice`]: saves the input shape, the
/// axis, the (clamped) start and the step.
struct SliceBackward {
    input: Shape,
    axis: usize,
    start: usize,
    step: usize,
}

impl<T: Float> Backward<T> for SliceBackward {
    fn name(&self) -> &'static str {
        "slice"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out.slice_adjoint(
            &self.input,
            self.axis,
            self.start,
            self.step
        ))])
    }
}

/// Backward of `slice_adjoint`: saves the slice that undoes it.
struct SliceAdjointBackward {
    axis: usize,
    start: usize,
    end: usize,
    step: usize,
}

impl<T: Float> Backward<T> for SliceAdjointBackward {
    fn name(&self) -> &'static str {
        "slice_adjoint"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out.slice(
            self.axis as isize,
            self.start,
            self.end,
            self.step
        ))])
    }
}

/// Backward of [`Tensor::try_pad`]: saves the input shape and the pads.
struct PadBackward {
    input: Shape,
    pads: Vec<(usize, usize)>,
}

impl<T: Float> Backward<T> for PadBackward {
    fn name(&self) -> &'static str {
        "pad"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let mut g = grad_out.clone();
        for (axis, &(before, _)) in self.pads.iter().enumerate() {
            g = g.narrow(axis as isize, before, self.input[axis]);
        }
        Ok(smallvec![Some(g)])
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use crate::testing::*;
    use crate::{BackwardOptions, Error, Shape, Tensor};

    fn randn(shape: impl Into<Shape>, rng: &mut StdRng) -> Tensor<f64> {
        Tensor::randn(shape, 0.0, 1.0, rng).unwrap()
    }

    fn dot(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
        (a * b).sum().item()
    }

    #[test]
    fn narrow_slice_pad_golden_values() {
        // torch.arange(12.).reshape(3, 4)[:, 1:3].flatten() == [1, 2, 5, 6, 9, 10]
        let x = Tensor::from_vec((0..12).map(f64::from).collect(), [3, 4]).unwrap();
        assert_eq!(
            x.narrow(1, 1, 2).to_vec(),
            vec![1.0, 2.0, 5.0, 6.0, 9.0, 10.0]
        );
        // torch.arange(12.).reshape(3, 4)[:, 0:4:3].flatten() == [0, 3, 4, 7, 8, 11]
        assert_eq!(
            x.slice(1, 0, 4, 3).to_vec(),
            vec![0.0, 3.0, 4.0, 7.0, 8.0, 11.0]
        );
        // torch.nn.functional.pad(torch.tensor([[1., 2.]]), (1, 0, 0, 1), value=9.) (last axis first
        // in torch) == [[9, 1, 2], [9, 9, 9]]
        let y = Tensor::from_vec(vec![1.0f64, 2.0], [1, 2])
            .unwrap()
            .pad(&[(0, 1), (1, 0)], 9.0);
        assert_eq!(y.to_vec(), vec![9.0, 1.0, 2.0, 9.0, 9.0, 9.0]);
    }

    #[test]
    fn narrow_and_slice_gradients_scatter_back_into_zeros() {
        // Hand-derived: d/dx Σ w·x[1:4:2] puts w at rows 1 and 3, zeros elsewhere.
        let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0], [5])
            .unwrap()
            .requires_grad();
        let w = Tensor::from_vec(vec![10.0, 20.0], [2]).unwrap();
        let g = (&x.slice(0, 1, 4, 2) * &w).sum().backward().unwrap();
        assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.0, 10.0, 0.0, 20.0, 0.0]);
        let g = (&x.narrow(0, 3, 2) * &w).sum().backward().unwrap();
        assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.0, 0.0, 0.0, 10.0, 20.0]);
    }

    #[test]
    fn pad_gradient_ignores_the_padding_and_a_nan_value() {
        // The padding value does not depend on x: NaN padding leaves the gradient finite.
        let x = Tensor::from_vec(vec![1.0f64, 2.0], [2])
            .unwrap()
            .requires_grad();
        let y = x.pad(&[(1, 2)], f64::NAN);
        assert!(y.as_slice()[0].is_nan() && y.as_slice()[1] == 1.0 && y.as_slice()[4].is_nan());
        let w = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], [5]).unwrap();
        let g = y
            .backward_with(Some(&w), BackwardOptions::default())
            .unwrap();
        assert_eq!(g.get(&x).unwrap().to_vec(), vec![2.0, 3.0]);
    }

    #[test]
    fn slice_clamps_like_python() {
        let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]).unwrap();
        assert_eq!(x.slice(0, 1, usize::MAX, 1).to_vec(), vec![2.0, 3.0]);
        assert_eq!(x.slice(0, 7, 9, 2).dims(), &[0]);
        assert_eq!(x.slice(0, 0, usize::MAX, usize::MAX).to_vec(), vec![1.0]);
        assert_eq!(x.slice(0, 2, 1, 3).dims(), &[0]);
    }

    #[test]
    fn bad_arguments_are_errors() {
        let x = Tensor::<f32>::zeros([2, 3]);
        assert!(matches!(
            x.try_narrow(2, 0, 1),
            Err(Error::AxisOutOfRange { op: "narrow", .. })
        ));
        let e = x.try_narrow(1, 2, 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "narrow: index 4 is out of range for axis 1 of length 3 (shape [2, 3])"
        );
        let e = x.try_narrow(1, usize::MAX, 2).unwrap_err();
        assert!(
            matches!(
                e,
                Error::IndexOutOfRange {
                    op: "narrow",
                    axis: 1,
                    len: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            x.try_slice(-3, 0, 1, 1),
            Err(Error::AxisOutOfRange { op: "slice", .. })
        ));
        assert!(matches!(
            x.try_slice(0, 0, 1, 0),
            Err(Error::InvalidArgument { op: "slice", .. })
        ));
        let e = x.try_pad(&[(0, 0)], 0.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pad: needs one (before, after) pair per axis, got 1 for shape [2, 3]"
        );
        assert!(matches!(
            x.try_pad(&[(0, 0), (usize::MAX, 0)], 0.0),
            Err(Error::InvalidArgument { op: "pad", .. })
        ));
        assert!(matches!(
            x.try_pad(&[(1 << 40, 0), (1 << 40, 0)], 0.0),
            Err(Error::ShapeOverflow { op: "pad", .. })
        ));
        assert!(matches!(
            Tensor::scalar(1.0f32).try_narrow(0, 0, 1),
            Err(Error::AxisOutOfRange { .. })
        ));
    }

    #[test]
    fn rank_zero_and_zero_size_edge_cases() {
        let s = Tensor::scalar(2.0f64).requires_grad();
        let y = s.pad(&[], 0.0);
        assert_eq!(y.item(), 2.0);
        let z = Tensor::<f64>::zeros([0, 2]).requires_grad();
        let y = z.pad(&[(1, 1), (0, 1)], 5.0);
        assert_eq!((y.dims(), y.to_vec()), (&[2usize, 3][..], vec![5.0; 6]));
        let g = y.sum().backward().unwrap();
        assert_eq!(g.get(&z).unwrap().dims(), &[0, 2]);
        let x = Tensor::<f64>::ones([3, 2]).requires_grad();
        let e = x.narrow(0, 3, 0);
        assert_eq!(e.dims(), &[0, 2]);
        let e2 = x.slice(0, 1, 1, 2);
        assert_eq!(e2.dims(), &[0, 2]);
        let g = (&e.sum() + &e2.sum()).backward().unwrap();
        assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.0; 6]);
    }

    #[test]
    fn pad_and_narrow_are_adjoint() {
        // <pad(x), y> = <x, narrow(y)> for random x, y, one axis at a time and all at once.
        let mut rng = StdRng::seed_from_u64(5);
        let x = randn([2, 3, 4], &mut rng);
        let pads = [(1, 0), (0, 2), (3, 1)];
        let y = randn([3, 5, 8], &mut rng);
        let crop = y.narrow(0, 1, 2).narrow(1, 0, 3).narrow(2, 3, 4);
        let (lhs, rhs) = (dot(&x.pad(&pads, 0.0), &y), dot(&x, &crop));
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
        let y = randn([2, 7, 4], &mut rng);
        let (lhs, rhs) = (
            dot(&x.pad(&[(0, 0), (2, 2), (0, 0)], 0.0), &y),
            dot(&x, &y.narrow(1, 2, 3)),
        );
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }

    #[test]
    fn slice_and_slice_adjoint_are_adjoint() {
        // <slice(x), y> = <x, slice_adjoint(y)> for random x, y.
        let mut rng = StdRng::seed_from_u64(6);
        let x = randn([3, 10, 2], &mut rng);
        let y = randn([3, 3, 2], &mut rng);
        let lhs = dot(&x.slice(1, 2, 9, 3), &y);
        let rhs = dot(&x, &y.slice_adjoint(x.shape(), 1, 2, 3));
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }

    #[test]
    fn slice_gradient_is_differentiable_again() {
        // The backward of a stepped slice is recorded: its gradient's gradient exists.
        let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [4])
            .unwrap()
            .requires_grad();
        let s = x.slice(0, 0, 4, 2);
        let y = (&s * &s).sum();
        let opts = BackwardOptions {
            create_graph: true,
            ..Default::default()
        };
        let gx = y
            .backward_with(None, opts)
            .unwrap()
            .get(&x)
            .unwrap()
            .clone();
        assert_eq!(gx.to_vec(), vec![2.0, 0.0, 6.0, 0.0]);
        let ggx = gx.sum().backward().unwrap().get(&x).unwrap().to_vec();
        assert_eq!(ggx, vec![2.0, 0.0, 2.0, 0.0]);
    }

    proptest! {
        #[test]
        fn narrow_grad_matches_finite_differences(x in tensor(nonscalar_shape(), -2.0..2.0), a in 0usize..4, s in 0usize..5, l in 0usize..5) {
            let ax = a % x.rank();
            let n = x.dims()[ax];
            let start = s % n;
            let len = l % (n - start + 1);
            check_grads!([x], |t| t.narrow(ax as isize, start, len))?;
        }

        #[test]
        fn slice_grad_matches_finite_differences(x in tensor(nonscalar_shape(), -2.0..2.0), a in 0usize..4, s in 0usize..5, e in 0usize..6, step in 1usize..4) {
            let ax = a % x.rank();
            let neg = ax as isize - x.rank() as isize;
            check_grads!([x], |t| t.slice(neg, s, e, step))?;
        }

        #[test]
        fn pad_grad_matches_finite_differences(x in tensor(any_shape(), -2.0..2.0), p in proptest::collection::vec((0usize..3, 0usize..3), 4)) {
            let pads = &p[..x.rank()];
            check_grads!([x], |t| t.pad(pads, 0.5))?;
        }
    }
}
