//! `maximum` and `minimum`: the element-wise larger (smaller) of two tensors,
//! with NumPy broadcasting.
//!
//! With `w` the weight of the left operand at each output element (`1` where
//! `a` is selected, `0` where `b` is, `0.5` on a tie):
//!
//! - `grad_a = sum_to(grad_out * w, a)`, `grad_b = sum_to(grad_out * (1 - w), b)`.
//!
//! Kink at `a == b`: the gradient is split `0.5 / 0.5`, as in PyTorch, so that
//! `maximum(x, x)` has gradient 1. NaN propagates: if either operand is NaN the
//! result is NaN, and the gradient goes to the NaN operand (NaN counts as the
//! larger in `maximum`, the smaller in `minimum`; two NaNs tie and split it).

use smallvec::smallvec;

use crate::error::Result;
use crate::kernels::elementwise::zip_broadcast;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// The weight of `a` when `wins(a, b)` says whether `a` is selected over `b`:
/// 1, 0, or 0.5 for a tie; a NaN operand wins.
fn lhs_weight<T: Float>(a: T, b: T, wins: fn(T, T) -> bool) -> T {
    let half = T::from_f64(0.5);
    match (a.is_nan(), b.is_nan()) {
        (true, true) => half,
        (true, false) => T::ONE,
        (false, true) => T::ZERO,
        _ if a == b => half,
        _ if wins(a, b) => T::ONE,
        _ => T::ZERO,
    }
}

/// The forward pass shared by both ops: the value and the (constant) weight of
/// the left operand, both of the broadcast shape.
fn select_binary<T: Float>(
    op: &'static str,
    a: &Tensor<T>,
    b: &Tensor<T>,
    wins: fn(T, T) -> bool,
) -> Result<(Tensor<T>, Tensor<T>)> {
    let out = a.shape().broadcast(op, b.shape())?;
    out.checked_numel(op)?;
    let pairs = zip_broadcast(
        a.as_slice(),
        a.shape(),
        b.as_slice(),
        b.shape(),
        &out,
        |x, y| {
            let w = lhs_weight(x, y, wins);
            // On a tie (or two NaNs) both values are equal (or both NaN): keep `x`.
            (if w == T::ZERO { y } else { x }, w)
        },
    );
    let (y, w): (Vec<T>, Vec<T>) = pairs.into_iter().unzip();
    Ok((
        Tensor::from_parts(y, out.clone()),
        Tensor::from_parts(w, out),
    ))
}

impl<T: Float> Tensor<T> {
    /// Returns the element-wise maximum of `self` and `rhs` with broadcasting;
    /// NaN if either is NaN. A tie splits the gradient equally.
    ///
    /// # Errors
    ///
    /// [`Error::BroadcastMismatch`](crate::Error::BroadcastMismatch) when the
    /// shapes do not broadcast together.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f64, 5.0, f64::NAN], [3]).unwrap();
    /// let y = a.try_maximum(&Tensor::scalar(2.0)).unwrap().to_vec();
    /// assert_eq!(&y[..2], &[2.0, 5.0]);
    /// assert!(y[2].is_nan());
    /// ```
    pub fn try_maximum(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let (y, lhs_weight) = select_binary("maximum", self, rhs, |a, b| a > b)?;
        Ok(Tensor::from_op(y, &[self, rhs], || MaximumBackward {
            lhs_weight,
            lhs: self.shape().clone(),
            rhs: rhs.shape().clone(),
            minimum: false,
        }))
    }

    /// Panicking twin of [`Tensor::try_maximum`].
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast together.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::from_vec(vec![-1.0f32, 3.0], [2]).unwrap();
    /// assert_eq!(a.maximum(&Tensor::zeros([2])).to_vec(), vec![0.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn maximum(&self, rhs: &Tensor<T>) -> Tensor<T> {
        match self.try_maximum(rhs) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the element-wise minimum of `self` and `rhs` with broadcasting;
    /// NaN if either is NaN. A tie splits the gradient equally.
    ///
    /// # Errors
    ///
    /// [`Error::BroadcastMismatch`](crate::Error::BroadcastMismatch) when the
    /// shapes do not broadcast together.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f64, 5.0], [2]).unwrap();
    /// assert_eq!(a.try_minimum(&Tensor::scalar(2.0)).unwrap().to_vec(), vec![1.0, 2.0]);
    /// ```
    pub fn try_minimum(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let (y, lhs_weight) = select_binary("minimum", self, rhs, |a, b| a < b)?;
        Ok(Tensor::from_op(y, &[self, rhs], || MaximumBackward {
            lhs_weight,
            lhs: self.shape().clone(),
            rhs: rhs.shape().clone(),
            minimum: true,
        }))
    }

    /// Panicking twin of [`Tensor::try_minimum`].
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast together.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::from_vec(vec![-1.0f32, 3.0], [2]).unwrap();
    /// assert_eq!(a.minimum(&Tensor::zeros([2])).to_vec(), vec![-1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn minimum(&self, rhs: &Tensor<T>) -> Tensor<T> {
        match self.try_minimum(rhs) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_maximum`] and [`Tensor::try_minimum`]: saves the
/// constant weight of the left operand (broadcast shape) and both input shapes.
struct MaximumBackward<T: Float> {
    lhs_weight: Tensor<T>,
    lhs: Shape,
    rhs: Shape,
    minimum: bool,
}

impl<T: Float> Backward<T> for MaximumBackward<T> {
    fn name(&self) -> &'static str {
        if self.minimum { "minimum" } else { "maximum" }
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let grad_lhs = needs[0].then(|| (grad_out * &self.lhs_weight).sum_to(&self.lhs));
        let grad_rhs = needs[1].then(|| {
            let rhs_weight = self.lhs_weight.map(|w| T::ONE - w);
            (grad_out * &rhs_weight).sum_to(&self.rhs)
        });
        Ok(smallvec![grad_lhs, grad_rhs])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Shape, Tensor};

    fn grads(a: Vec<f64>, b: Vec<f64>, min: bool) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let n = a.len();
        let a = Tensor::from_vec(a, [n]).unwrap().requires_grad();
        let b = Tensor::from_vec(b, [n]).unwrap().requires_grad();
        let y = if min { a.minimum(&b) } else { a.maximum(&b) };
        let g = y.sum().backward().unwrap();
        (
            y.to_vec(),
            g.get(&a).unwrap().to_vec(),
            g.get(&b).unwrap().to_vec(),
        )
    }

    #[test]
    fn maximum_minimum_golden_values() {
        // torch.maximum(torch.tensor([1., 4.]), torch.tensor([3., 2.])) = [3, 4];
        // gradients of the sum: a [0, 1], b [1, 0] (hand-derived).
        assert_eq!(
            grads(vec![1.0, 4.0], vec![3.0, 2.0], false),
            (vec![3.0, 4.0], vec![0.0, 1.0], vec![1.0, 0.0])
        );
        assert_eq!(
            grads(vec![1.0, 4.0], vec![3.0, 2.0], true),
            (vec![1.0, 2.0], vec![1.0, 0.0], vec![0.0, 1.0])
        );
    }

    #[test]
    fn maximum_and_minimum_split_ties_half_and_half() {
        assert_eq!(
            grads(vec![2.0], vec![2.0], false),
            (vec![2.0], vec![0.5], vec![0.5])
        );
        assert_eq!(
            grads(vec![2.0], vec![2.0], true),
            (vec![2.0], vec![0.5], vec![0.5])
        );
        // maximum(x, x) has gradient exactly 1.
        let x = Tensor::from_vec(vec![1.5f64, -3.0], [2])
            .unwrap()
            .requires_grad();
        assert_eq!(
            x.maximum(&x)
                .sum()
                .backward()
                .unwrap()
                .get(&x)
                .unwrap()
                .to_vec(),
            vec![1.0, 1.0]
        );
    }

    #[test]
    fn nan_propagates_and_takes_the_gradient() {
        for min in [false, true] {
            let (y, ga, gb) = grads(
                vec![f64::NAN, 1.0, f64::NAN],
                vec![1.0, f64::NAN, f64::NAN],
                min,
            );
            assert!(y.iter().all(|v| v.is_nan()), "{y:?}");
            assert_eq!(ga, vec![1.0, 0.0, 0.5]);
            assert_eq!(gb, vec![0.0, 1.0, 0.5]);
        }
    }

    #[test]
    fn maximum_of_infinities_and_rank_zero() {
        let a = Tensor::scalar(f64::NEG_INFINITY);
        assert_eq!(a.maximum(&Tensor::scalar(-1e300)).item(), -1e300);
        assert_eq!(
            a.minimum(&Tensor::scalar(f64::INFINITY)).item(),
            f64::NEG_INFINITY
        );
        let e = Tensor::<f64>::zeros([0]).maximum(&Tensor::scalar(1.0));
        assert_eq!(e.dims(), &[0]);
    }

    #[test]
    fn maximum_broadcasts_and_reports_mismatches() {
        let a = Tensor::from_vec(vec![0.0f32, 2.0], [2, 1])
            .unwrap()
            .requires_grad();
        let b = Tensor::from_vec(vec![1.0f32, -1.0, 3.0], [3])
            .unwrap()
            .requires_grad();
        let y = a.maximum(&b);
        assert_eq!(y.to_vec(), vec![1.0, 0.0, 3.0, 2.0, 2.0, 3.0]);
        let g = y.sum().backward().unwrap();
        assert_eq!(g.get(&a).unwrap().to_vec(), vec![1.0, 2.0]);
        assert_eq!(g.get(&b).unwrap().to_vec(), vec![1.0, 0.0, 2.0]);
        let e = a.try_minimum(&Tensor::zeros([3, 4])).unwrap_err();
        assert!(matches!(e, Error::BroadcastMismatch { op: "minimum", .. }));
        assert_eq!(
            e.to_string(),
            "minimum: shapes cannot be broadcast together (lhs [2, 1], rhs [3, 4])"
        );
    }

    /// Values on two interleaved grids (multiples of 0.1, and multiples of 0.1
    /// plus 0.05), so that `|a - b| >= 0.05` everywhere: no ties.
    fn off_grid(s: &Shape, seed: u64, shift: f64) -> Tensor<f64> {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let t = Tensor::<f64>::rand_uniform(s.clone(), -2.0, 2.0, &mut rng).unwrap();
        t.map(|v| (v * 10.0).round() / 10.0 + shift)
    }

    proptest! {
        #[test]
        fn maximum_minimum_grad_matches_finite_differences((sa, sb) in broadcastable_pair(), seed in 0u64..1000) {
            let a = off_grid(&sa, seed, 0.0);
            let b = off_grid(&sb, seed + 1, 0.05);
            check_grads!([a, b], |x, y| x.maximum(y))?;
            check_grads!([a, b], |x, y| x.minimum(y))?;
        }
    }
}
