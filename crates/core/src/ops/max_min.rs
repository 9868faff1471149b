//! `max` and `min` over everything or over axes (their indices:
//! [`Tensor::argmax`] and [`Tensor::argmin`], in `argmax.rs`).
//!
//! - `y = max(x, axes)`: `grad_x = onehot * broadcast_to(grad_out kept to rank,
//!   x.shape)`, where `onehot` is a constant mask with exactly one `1` per
//!   reduced window, at the selected element. Likewise for `min`.
//!
//! Kink (ties): the selected element is the FIRST maximum (minimum) of its
//! window in row-major order, and it alone receives the gradient (unlike the
//! binary [`Tensor::maximum`], which splits ties). Multi-axis reductions reduce
//! the highest axis first, which selects exactly that element.
//!
//! NaN propagates: NaN counts as larger (and smaller) than every number, so the
//! max of `[1, NaN, 3]` is NaN and its gradient goes to the first NaN, like
//! PyTorch.
//!
//! Reducing over an axis of length zero is an [`Error::EmptyReduction`]: these
//! reductions have no identity.

use smallvec::smallvec;

use crate::error::{Error, Result};
use crate::kernels::reduce::select_axis;
use crate::ops::sum::{dropped_shape, kept_shape, resolve_axes};
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// Which end of the order a reduction selects (shared with `argmax.rs`).
#[derive(Clone, Copy)]
pub(crate) enum Extreme {
    Max,
    Min,
}

impl Extreme {
    fn name(self) -> &'static str {
        match self {
            Extreme::Max => "max",
            Extreme::Min => "min",
        }
    }

    pub(crate) fn arg_name(self) -> &'static str {
        match self {
            Extreme::Max => "argmax",
            Extreme::Min => "argmin",
        }
    }

    /// True when `v` replaces the current `best`: strictly better, so the
    /// first of equal values stays; a NaN is better than any number and stays.
    pub(crate) fn replaces<T: Float>(self, best: T, v: T) -> bool {
        if best.is_nan() {
            return false;
        }
        v.is_nan()
            || match self {
                Extreme::Max => v > best,
                Extreme::Min => v < best,
            }
    }
}

/// Selects over `axes` (sorted descending) of a non-empty `x`: the values, and
/// the row-major index in `x` of the element each value came from.
fn select<T: Float>(x: &Tensor<T>, axes: &[usize], ext: Extreme) -> (Vec<T>, Vec<usize>) {
    let mut vals = x.as_slice().to_vec();
    let mut src: Vec<usize> = (0..x.numel()).collect();
    let mut shape = x.shape().clone();
    for &ax in axes {
        let (outer, len, inner) = shape.split_at_axis(ax);
        let (v, at) = select_axis(&vals, outer, len, inner, |b, v| ext.replaces(b, v));
        src = at
            .iter()
            .enumerate()
            .map(|(k, &r)| src[(k / inner) * len * inner + r * inner + k % inner])
            .collect();
        vals = v;
        shape = shape.reduced(ax, true);
    }
    (vals, src)
}

/// The reduction behind `max`, `min` and their axis forms. `axes: None` means
/// all of them (errors then name no axis).
fn reduce<T: Float>(
    x: &Tensor<T>,
    axes: Option<&[isize]>,
    keepdim: bool,
    ext: Extreme,
) -> Result<Tensor<T>> {
    let op = ext.name();
    let axes = match axes {
        Some(a) => resolve_axes(op, x.shape(), a)?,
        None if x.numel() == 0 => {
            return Err(Error::EmptyReduction {
                op,
                axis: None,
                shape: x.shape().clone(),
            });
        }
        None => (0..x.rank()).rev().collect(),
    };
    if let Some(&axis) = axes.iter().rev().find(|&&a| x.shape()[a] == 0) {
        return Err(Error::EmptyReduction {
            op,
            axis: Some(axis),
            shape: x.shape().clone(),
        });
    }
    let kept = kept_shape(x.shape(), &axes);
    let out = if keepdim {
        kept.clone()
    } else {
        dropped_shape(x.shape(), &axes)
    };
    // An empty input reduced over non-empty axes has an empty output; skip the
    // kernels, whose lane loops would run over the other (possibly huge) axes.
    let (vals, src) = if x.numel() == 0 {
        (Vec::new(), Vec::new())
    } else {
        select(x, &axes, ext)
    };
    let mut onehot = vec![T::ZERO; x.numel()];
    for &i in &src {
        onehot[i] = T::ONE;
    }
    let onehot = Tensor::from_parts(onehot, x.shape().clone());
    Ok(Tensor::from_op(Tensor::from_parts(vals, out), &[x], || {
        MaxBackward { onehot, kept, op }
    }))
}

impl<T: Float> Tensor<T> {
    /// Returns the largest element as a rank-0 tensor; NaN if any element is
    /// NaN. The gradient goes to the first maximum in row-major order.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyReduction`] for a tensor with no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 7.0, 3.0, 7.0], [2, 2]).unwrap();
    /// assert_eq!(x.try_max().unwrap().item(), 7.0);
    /// assert!(Tensor::<f32>::zeros([0]).try_max().is_err());
    /// ```
    pub fn try_max(&self) -> Result<Tensor<T>> {
        reduce(self, None, false, Extreme::Max)
    }

    /// Panicking twin of [`Tensor::try_max`].
    ///
    /// # Panics
    ///
    /// When the tensor has no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f64, f64::NAN, 3.0], [3]).unwrap();
    /// assert!(x.max().item().is_nan());
    /// ```
    #[track_caller]
    pub fn max(&self) -> Tensor<T> {
        match self.try_max() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the smallest element as a rank-0 tensor; NaN if any element is
    /// NaN. The gradient goes to the first minimum in row-major order.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyReduction`] for a tensor with no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, -7.0, 3.0], [3]).unwrap();
    /// assert_eq!(x.try_min().unwrap().item(), -7.0);
    /// ```
    pub fn try_min(&self) -> Result<Tensor<T>> {
        reduce(self, None, false, Extreme::Min)
    }

    /// Panicking twin of [`Tensor::try_min`].
    ///
    /// # Panics
    ///
    /// When the tensor has no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::scalar(2.0f32);
    /// assert_eq!(x.min().item(), 2.0);
    /// ```
    #[track_caller]
    pub fn min(&self) -> Tensor<T> {
        match self.try_min() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the maxima over `axes` (negative axes count from the end),
    /// keeping them as size-1 dimensions when `keepdim`. NaN propagates; the
    /// gradient goes to the first maximum of each window in row-major order.
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
    /// let x = Tensor::from_vec(vec![1.0f32, 5.0, 3.0, 4.0, 2.0, 6.0], [2, 3]).unwrap();
    /// assert_eq!(x.try_max_axes(&[0], false).unwrap().to_vec(), vec![4.0, 5.0, 6.0]);
    /// assert_eq!(x.try_max_axes(&[-1], true).unwrap().dims(), &[2, 1]);
    /// ```
    pub fn try_max_axes(&self, axes: &[isize], keepdim: bool) -> Result<Tensor<T>> {
        reduce(self, Some(axes), keepdim, Extreme::Max)
    }

    /// Panicking twin of [`Tensor::try_max_axes`].
    ///
    /// # Panics
    ///
    /// When an axis is out of range, repeated, or of length 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f64, 5.0, 3.0, 4.0], [2, 2]).unwrap();
    /// assert_eq!(x.max_axes(&[1], false).to_vec(), vec![5.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn max_axes(&self, axes: &[isize], keepdim: bool) -> Tensor<T> {
        match self.try_max_axes(axes, keepdim) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the minima over `axes` (negative axes count from the end),
    /// keeping them as size-1 dimensions when `keepdim`. NaN propagates; the
    /// gradient goes to the first minimum of each window in row-major order.
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
    /// let x = Tensor::from_vec(vec![1.0f32, 5.0, 3.0, 4.0, 2.0, 6.0], [2, 3]).unwrap();
    /// assert_eq!(x.try_min_axes(&[1], false).unwrap().to_vec(), vec![1.0, 2.0]);
    /// assert!(Tensor::<f32>::zeros([2, 0]).try_min_axes(&[1], false).is_err());
    /// ```
    pub fn try_min_axes(&self, axes: &[isize], keepdim: bool) -> Result<Tensor<T>> {
        reduce(self, Some(axes), keepdim, Extreme::Min)
    }

    /// Panicking twin of [`Tensor::try_min_axes`].
    ///
    /// # Panics
    ///
    /// When an axis is out of range, repeated, or of length 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f64, 5.0, 3.0, 4.0], [2, 2]).unwrap();
    /// assert_eq!(x.min_axes(&[0, 1], true).to_vec(), vec![1.0]);
    /// ```
    #[track_caller]
    pub fn min_axes(&self, axes: &[isize], keepdim: bool) -> Tensor<T> {
        match self.try_min_axes(axes, keepdim) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of the `max` and `min` reductions: saves the constant one-hot mask
/// of the selected elements (input shape) and the output shape with the reduced
/// axes kept as 1.
struct MaxBackward<T: Float> {
    onehot: Tensor<T>,
    kept: Shape,
    op: &'static str,
}

impl<T: Float> Backward<T> for MaxBackward<T> {
    fn name(&self) -> &'static str {
        self.op
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let spread = grad_out
            .reshape(self.kept.clone())
            .broadcast_to(self.onehot.shape().clone());
        Ok(smallvec![Some(&spread * &self.onehot)])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Tensor};

    fn grad_of(x: &Tensor<f64>, f: impl Fn(&Tensor<f64>) -> Tensor<f64>) -> Vec<f64> {
        let x = x.detach().requires_grad();
        f(&x).sum().backward().unwrap().get(&x).unwrap().to_vec()
    }

    #[test]
    fn max_min_golden_values() {
        // torch.tensor([[1., 5., 3.], [4., 2., 6.]]).amax(0) = [4, 5, 6], .amin(1) = [1, 2] (hand-derived).
        let x = Tensor::from_vec(vec![1.0f64, 5.0, 3.0, 4.0, 2.0, 6.0], [2, 3]).unwrap();
        assert_eq!(x.max_axes(&[0], false).to_vec(), vec![4.0, 5.0, 6.0]);
        assert_eq!(x.min_axes(&[1], false).to_vec(), vec![1.0, 2.0]);
        assert_eq!(x.max().item(), 6.0);
        assert_eq!(x.min().item(), 1.0);
        assert_eq!(
            grad_of(&x, |a| a.max_axes(&[0], false)),
            vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
        );
        assert_eq!(grad_of(&x, |a| a.min()), vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn max_over_an_axis_sends_the_gradient_to_the_first_maximum() {
        let x = Tensor::from_vec(vec![3.0f64, 1.0, 3.0, 3.0, 2.0, 0.0], [2, 3]).unwrap();
        assert_eq!(
            grad_of(&x, |a| a.max_axes(&[1], false)),
            vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(
            grad_of(&x, |a| a.max_axes(&[0], true)),
            vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
        );
        // Over both axes, and over everything: one element, the first in row-major order.
        assert_eq!(
            grad_of(&x, |a| a.max_axes(&[1, 0], false)),
            vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(grad_of(&x, |a| a.max()), vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let y = Tensor::from_vec(vec![0.0f64, 2.0, 2.0, 2.0], [2, 2]).unwrap();
        assert_eq!(
            grad_of(&y, |a| a.min_axes(&[0, 1], true)),
            vec![1.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(grad_of(&y, |a| a.max()), vec![0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn max_of_a_nan_is_nan_and_the_nan_takes_the_gradient() {
        let x = Tensor::from_vec(vec![1.0f64, f64::NAN, 3.0, f64::NAN], [4]).unwrap();
        assert!(x.max().item().is_nan());
        assert!(x.min().item().is_nan());
        assert_eq!(grad_of(&x, |a| a.max()), vec![0.0, 1.0, 0.0, 0.0]);
        assert_eq!(
            grad_of(&x, |a| a.min_axes(&[0], false)),
            vec![0.0, 1.0, 0.0, 0.0]
        );
        let x = Tensor::from_vec(vec![1.0f64, f64::NAN, 3.0], [3]).unwrap();
        assert!(x.max_axes(&[0], false).item().is_nan());
    }

    #[test]
    fn reductions_of_rank_zero_tensors() {
        let s = Tensor::scalar(4.0f64);
        assert_eq!(s.max().item(), 4.0);
        assert_eq!(s.max_axes(&[], true).item(), 4.0);
        assert_eq!(grad_of(&s, |a| a.min()), vec![1.0]);
    }

    #[test]
    fn empty_reductions_are_errors_and_empty_outputs_are_not() {
        let x = Tensor::<f64>::zeros([2, 0]);
        let e = x.try_max().unwrap_err();
        assert_eq!(
            e.to_string(),
            "max: cannot reduce over all elements of shape [2, 0]: it is empty"
        );
        let e = x.try_min_axes(&[0, 1], false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "min: cannot reduce over axis 1 of shape [2, 0]: it is empty"
        );
        // Reducing the non-empty axis of an empty tensor gives an empty result.
        assert_eq!(x.max_axes(&[0], false).dims(), &[0]);
        let huge = Tensor::<f32>::zeros([usize::MAX, 2, 0]);
        assert_eq!(huge.max_axes(&[1], true).dims(), &[usize::MAX, 1, 0]);
        let l = Tensor::<f64>::zeros([0, 3]).requires_grad();
        let g = l.min_axes(&[1], false).sum().backward().unwrap();
        assert_eq!(g.get(&l).unwrap().dims(), &[0, 3]);
    }

    #[test]
    fn bad_axes_are_errors() {
        let x = Tensor::<f32>::zeros([2, 3]);
        assert!(matches!(
            x.try_max_axes(&[2], false),
            Err(Error::AxisOutOfRange { op: "max", .. })
        ));
        assert!(matches!(
            x.try_min_axes(&[1, -1], false),
            Err(Error::InvalidArgument { op: "min", .. })
        ));
    }

    proptest! {
        #[test]
        fn max_min_grad_matches_finite_differences(x in unique_values(any_shape()), keep in any::<bool>(), pick in 0usize..16) {
            let axes: Vec<isize> = (0..x.rank()).filter(|i| pick & (1 << i) != 0).map(|i| i as isize).collect();
            check_grads!([x], |a| a.max_axes(&axes, keep))?;
            check_grads!([x], |a| a.min_axes(&axes, keep))?;
            check_grads!([x], |a| a.max())?;
            check_grads!([x], |a| a.min())?;
        }

    }
}
