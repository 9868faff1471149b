//! `add`, `sub`, `mul`, `div` with NumPy broadcasting.
//!
//! - `y = a + b`: `grad_a = sum_to(grad_out, a)`, `grad_b = sum_to(grad_out, b)`.
//! - `y = a - b`: `grad_a = sum_to(grad_out, a)`, `grad_b = -sum_to(grad_out, b)`.
//! - `y = a * b`: `grad_a = sum_to(grad_out * b, a)`, `grad_b = sum_to(grad_out * a, b)`.
//! - `y = a / b`: `grad_a = sum_to(grad_out / b, a)`,
//!   `grad_b = -sum_to(grad_out * a / b², b)`. Division by zero follows IEEE
//!   (`1/0 = inf`, `0/0 = NaN`), in the value and in the gradients.
//!
//! `sum_to` sums a gradient over the dimensions along which its operand was
//! broadcast (one shared helper, [`Tensor::sum_to`]). No kinks.

use smallvec::smallvec;

use crate::error::Result;
use crate::kernels::elementwise::zip_broadcast;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// Computes `f` over `a` and `b` broadcast together, untracked.
pub(crate) fn broadcast_value<T: Float>(
    op: &'static str,
    a: &Tensor<T>,
    b: &Tensor<T>,
    f: impl Fn(T, T) -> T,
) -> Result<Tensor<T>> {
    if a.shape() == b.shape() {
        // The common case, in one allocation.
        let v = a
            .as_slice()
            .iter()
            .zip(b.as_slice())
            .map(|(&x, &y)| f(x, y));
        return Ok(Tensor::from_iter_parts(v, a.shape().clone()));
    }
    let out = a.shape().broadcast(op, b.shape())?;
    out.checked_numel(op)?;
    let v = zip_broadcast(a.as_slice(), a.shape(), b.as_slice(), b.shape(), &out, f);
    Ok(Tensor::from_parts(v, out))
}

impl<T: Float> Tensor<T> {
    /// Returns `self + rhs` with broadcasting.
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
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0], [2, 1]).unwrap();
    /// let b = Tensor::from_vec(vec![10.0f32, 20.0, 30.0], [3]).unwrap();
    /// assert_eq!(a.try_add(&b).unwrap().to_vec(), vec![11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
    /// ```
    pub fn try_add(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let y = broadcast_value("add", self, rhs, |a, b| a + b)?;
        Ok(Tensor::from_op(y, &[self, rhs], || AddBackward {
            lhs: self.shape().clone(),
            rhs: rhs.shape().clone(),
            negate_rhs: false,
        }))
    }

    /// Panicking twin of [`Tensor::try_add`]; also the `+` operator.
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast together.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = wengert_core::Tensor::<f32>::ones([2]);
    /// assert_eq!(a.add(&a).to_vec(), vec![2.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn add(&self, rhs: &Tensor<T>) -> Tensor<T> {
        match self.try_add(rhs) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns `self - rhs` with broadcasting.
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
    /// let a = Tensor::from_vec(vec![5.0f64, 7.0], [2]).unwrap();
    /// assert_eq!(a.try_sub(&Tensor::scalar(1.0)).unwrap().to_vec(), vec![4.0, 6.0]);
    /// ```
    pub fn try_sub(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let y = broadcast_value("sub", self, rhs, |a, b| a - b)?;
        Ok(Tensor::from_op(y, &[self, rhs], || AddBackward {
            lhs: self.shape().clone(),
            rhs: rhs.shape().clone(),
            negate_rhs: true,
        }))
    }

    /// Panicking twin of [`Tensor::try_sub`]; also the `-` operator.
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast together.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = wengert_core::Tensor::<f32>::ones([2]);
    /// assert_eq!(a.sub(&a).to_vec(), vec![0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn sub(&self, rhs: &Tensor<T>) -> Tensor<T> {
        match self.try_sub(rhs) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns `self * rhs` element-wise with broadcasting.
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
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]).unwrap();
    /// assert_eq!(a.try_mul(&a).unwrap().to_vec(), vec![1.0, 4.0, 9.0]);
    /// assert!(a.try_mul(&Tensor::zeros([2])).is_err());
    /// ```
    pub fn try_mul(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let y = broadcast_value("mul", self, rhs, |a, b| a * b)?;
        Ok(Tensor::from_op(y, &[self, rhs], || MulBackward {
            lhs: self.clone(),
            rhs: rhs.clone(),
        }))
    }

    /// Panicking twin of [`Tensor::try_mul`]; also the `*` operator.
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast together.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = wengert_core::Tensor::<f32>::full([2], 3.0);
    /// assert_eq!(a.mul(&a).to_vec(), vec![9.0, 9.0]);
    /// ```
    #[track_caller]
    pub fn mul(&self, rhs: &Tensor<T>) -> Tensor<T> {
        match self.try_mul(rhs) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns `self / rhs` element-wise with broadcasting; IEEE semantics for
    /// division by zero.
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
    /// let a = Tensor::from_vec(vec![1.0f64, -1.0, 0.0], [3]).unwrap();
    /// let y = a.try_div(&Tensor::scalar(0.0)).unwrap().to_vec();
    /// assert_eq!((y[0], y[1]), (f64::INFINITY, f64::NEG_INFINITY));
    /// assert!(y[2].is_nan());
    /// ```
    pub fn try_div(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        let y = broadcast_value("div", self, rhs, |a, b| a / b)?;
        Ok(Tensor::from_op(y, &[self, rhs], || DivBackward {
            lhs: self.clone(),
            rhs: rhs.clone(),
        }))
    }

    /// Panicking twin of [`Tensor::try_div`]; also the `/` operator.
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast together.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = wengert_core::Tensor::<f32>::full([2], 3.0);
    /// assert_eq!(a.div(&a).to_vec(), vec![1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn div(&self, rhs: &Tensor<T>) -> Tensor<T> {
        match self.try_div(rhs) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_add`] and [`Tensor::try_sub`]: saves only shapes.
struct AddBackward {
    lhs: Shape,
    rhs: Shape,
    negate_rhs: bool,
}

impl<T: Float> Backward<T> for AddBackward {
    fn name(&self) -> &'static str {
        if self.negate_rhs { "sub" } else { "add" }
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let grad_lhs = needs[0].then(|| grad_out.sum_to(&self.lhs));
        let grad_rhs = needs[1].then(|| {
            let g = grad_out.sum_to(&self.rhs);
            if self.negate_rhs { g.neg() } else { g }
        });
        Ok(smallvec![grad_lhs, grad_rhs])
    }
}

/// Backward of [`Tensor::try_mul`]: saves both operands.
struct MulBackward<T: Float> {
    lhs: Tensor<T>,
    rhs: Tensor<T>,
}

impl<T: Float> Backward<T> for MulBackward<T> {
    fn name(&self) -> &'static str {
        "mul"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let grad_lhs = needs[0].then(|| (grad_out * &self.rhs).sum_to(self.lhs.shape()));
        let grad_rhs = needs[1].then(|| (grad_out * &self.lhs).sum_to(self.rhs.shape()));
        Ok(smallvec![grad_lhs, grad_rhs])
    }
}

/// Backward of [`Tensor::try_div`]: saves both operands.
struct DivBackward<T: Float> {
    lhs: Tensor<T>,
    rhs: Tensor<T>,
}

impl<T: Float> Backward<T> for DivBackward<T> {
    fn name(&self) -> &'static str {
        "div"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let grad_lhs = needs[0].then(|| (grad_out / &self.rhs).sum_to(self.lhs.shape()));
        let grad_rhs = needs[1].then(|| {
            let q = &(grad_out * &self.lhs) / &(&self.rhs * &self.rhs);
            q.sum_to(self.rhs.shape()).neg()
        });
        Ok(smallvec![grad_lhs, grad_rhs])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Tensor};

    #[test]
    fn broadcast_mismatch_names_the_op_and_shapes() {
        let a = Tensor::<f32>::zeros([2, 3]);
        let b = Tensor::<f32>::zeros([4]);
        let e = a.try_mul(&b).unwrap_err();
        assert!(matches!(e, Error::BroadcastMismatch { op: "mul", .. }));
        assert_eq!(
            e.to_string(),
            "mul: shapes cannot be broadcast together (lhs [2, 3], rhs [4])"
        );
    }

    #[test]
    fn broadcast_gradient_is_summed_back_to_the_operand_shape() {
        // d/db Σ (a + b) with a [2, 3], b [3]: each b_j is used twice -> 2 (hand-derived).
        let a = Tensor::<f64>::zeros([2, 3]).requires_grad();
        let b = Tensor::<f64>::zeros([3]).requires_grad();
        let g = (&a + &b).sum().backward().unwrap();
        assert_eq!(g.get(&b).unwrap().to_vec(), vec![2.0; 3]);
        assert_eq!(g.get(&a).unwrap().dims(), &[2, 3]);
    }

    #[test]
    fn division_by_zero_follows_ieee_in_the_gradient() {
        // d/da (a / b) = 1/b = inf at b = 0; d/db = -a/b² = -inf for a = 1.
        let a = Tensor::from_vec(vec![1.0f64], [1]).unwrap().requires_grad();
        let b = Tensor::from_vec(vec![0.0f64], [1]).unwrap().requires_grad();
        let g = (&a / &b).sum().backward().unwrap();
        assert_eq!(g.get(&a).unwrap().item(), f64::INFINITY);
        assert_eq!(g.get(&b).unwrap().item(), f64::NEG_INFINITY);
    }

    #[test]
    fn golden_values_hand_derived() {
        let a = Tensor::from_vec(vec![3.0f64, -2.0], [2])
            .unwrap()
            .requires_grad();
        let b = Tensor::from_vec(vec![4.0f64], [1]).unwrap().requires_grad();
        // L = Σ a*b/ (a - b)... keep it simple: L = Σ (a * b) / b + a - b
        let l = (&(&(&a * &b) / &b) + &(&a - &b)).sum();
        assert_eq!(l.item(), (3.0 + -2.0) * 2.0 - 8.0);
        let g = l.backward().unwrap();
        assert_eq!(g.get(&a).unwrap().to_vec(), vec![2.0, 2.0]);
        assert!((g.get(&b).unwrap().item() - -2.0).abs() < 1e-15);
    }

    proptest! {
        #[test]
        fn add_sub_grad_matches_finite_differences((sa, sb) in broadcastable_pair(), seed in 0u64..1000) {
            let (a, b) = pair(&sa, &sb, seed, 1.0);
            check_grads!([a, b], |x, y| &(x + y) - &(y * 0.5))?;
            check_grads!([a, b], |x, y| x - y)?;
        }

        #[test]
        fn mul_grad_matches_finite_differences((sa, sb) in broadcastable_pair(), seed in 0u64..1000) {
            let (a, b) = pair(&sa, &sb, seed, 1.0);
            check_grads!([a, b], |x, y| x * y)?;
        }

        #[test]
        fn div_grad_matches_finite_differences((sa, sb) in broadcastable_pair(), seed in 0u64..1000) {
            let (a, b) = pair(&sa, &sb, seed, 0.5);
            check_grads!([a, b], |x, y| x / y)?;
        }
    }

    /// Two tensors of the given shapes; `b` is kept at least `margin` from 0.
    fn pair(
        sa: &crate::Shape,
        sb: &crate::Shape,
        seed: u64,
        margin: f64,
    ) -> (Tensor<f64>, Tensor<f64>) {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let a = Tensor::rand_uniform(sa.clone(), -2.0, 2.0, &mut rng).unwrap();
        let b = Tensor::rand_uniform(sb.clone(), margin, 2.0, &mut rng).unwrap();
        (a, b)
    }
}
