//! `pow`: `y = a^b` element-wise with NumPy broadcasting.
//!
//! - `grad_a = sum_to(grad_out * b * a^(b - 1), a)`, and `0` where `b == 0`
//!   (`a^0` is constant, so no `0 * 0^-1 = NaN` at `a = 0`).
//! - `grad_b = sum_to(grad_out * a^b * ln(a), b)`, and `0` where `a == 0` and
//!   `b >= 0`: `d/db 0^b` at `b = 2` is `0`, not `0 * -inf = NaN` (PyTorch's
//!   convention).
//!
//! Domain: any base for an integer exponent; `a >= 0` otherwise (a negative base
//! with a non-integer exponent gives NaN, as `powf` does). `ln(a)` of a negative
//! base is NaN, so `grad_b` is NaN there even when the value is finite
//! (`(-2)^2`), as in PyTorch. `0^0 = 1`. For `a = 0`, `b < 0` the value is `inf`
//! and the gradients follow IEEE (`grad_b = inf * -inf = -inf`).
//!
//! Both rules are written with `pow` itself, so they are differentiable again;
//! the masks that implement the two conventions are constants.

use smallvec::smallvec;

use crate::error::Result;
use crate::ops::arith::broadcast_value;
use crate::tape::{Backward, Grads};
use crate::{Float, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns `self` raised to the power `exponent` element-wise, with
    /// broadcasting; `0^0 = 1`.
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
    /// let a = Tensor::from_vec(vec![2.0f64, 3.0, 0.0], [3]).unwrap();
    /// let b = Tensor::from_vec(vec![3.0f64, 0.5, 0.0], [3]).unwrap();
    /// let y = a.try_pow(&b).unwrap().to_vec();
    /// assert_eq!(y[0], 8.0);
    /// assert!((y[1] - 3.0f64.sqrt()).abs() < 1e-15);
    /// assert_eq!(y[2], 1.0);
    /// ```
    pub fn try_pow(&self, exponent: &Tensor<T>) -> Result<Tensor<T>> {
        let y = broadcast_value("pow", self, exponent, Float::powf)?;
        Ok(Tensor::from_op(y, &[self, exponent], || PowBackward {
            base: self.clone(),
            exponent: exponent.clone(),
        }))
    }

    /// Panicking twin of [`Tensor::try_pow`].
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast together.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]).unwrap();
    /// assert_eq!(a.pow(&Tensor::scalar(2.0)).to_vec(), vec![1.0, 4.0, 9.0]);
    /// ```
    #[track_caller]
    pub fn pow(&self, exponent: &Tensor<T>) -> Tensor<T> {
        match self.try_pow(exponent) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_pow`]: saves both operands (the output is
/// recomputed, so that the rule stays differentiable).
struct PowBackward<T: Float> {
    base: Tensor<T>,
    exponent: Tensor<T>,
}

impl<T: Float> Backward<T> for PowBackward<T> {
    fn name(&self) -> &'static str {
        "pow"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let (a, b) = (&self.base, &self.exponent);
        let grad_base = needs[0].then(|| {
            // b * a^(b' - 1) with b' = 1 where b == 0: the factor b makes it 0
            // there, and a^0 = 1 keeps 0^-1 = inf out of the product.
            let zero_b = b.map(|v| if v == T::ZERO { T::ONE } else { T::ZERO });
            let b_safe = &(b * &zero_b.map(|z| T::ONE - z)) + &zero_b;
            let local = b * &a.pow(&(&b_safe - T::ONE));
            (grad_out * &local).sum_to(a.shape())
        });
        let grad_exponent = needs[1].then(|| {
            // a^b ln(a') with a' = 1 where a == 0 and b >= 0, so ln(a') = 0 there.
            let fix = broadcast_value("pow", a, b, |x, e| {
                if x == T::ZERO && e >= T::ZERO {
                    T::ONE
                } else {
                    T::ZERO
                }
            })
            .expect("BUG: pow operands broadcast in the forward pass");
            let a_safe = &(a * &fix.map(|f| T::ONE - f)) + &fix;
            let local = &a.pow(b) * &a_safe.log();
            (grad_out * &local).sum_to(b.shape())
        });
        Ok(smallvec![grad_base, grad_exponent])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Tensor};

    fn grads_at(a: f64, b: f64) -> (f64, f64, f64) {
        let x = Tensor::scalar(a).requires_grad();
        let e = Tensor::scalar(b).requires_grad();
        let y = x.pow(&e);
        let g = y.backward().unwrap();
        (
            y.item(),
            g.get(&x).unwrap().item(),
            g.get(&e).unwrap().item(),
        )
    }

    #[test]
    fn pow_golden_values() {
        // torch.tensor(2., requires_grad=True) ** torch.tensor(3., requires_grad=True):
        // value 8, grad_base 3 * 2^2 = 12, grad_exp 8 ln 2 (hand-derived).
        let (y, ga, gb) = grads_at(2.0, 3.0);
        assert_eq!((y, ga), (8.0, 12.0));
        assert!((gb - 8.0 * 2.0f64.ln()).abs() < 1e-14);
        // 4^-0.5 = 0.5; d/da = -0.5 * 4^-1.5 = -1/16; d/db = 0.5 ln 4.
        let (y, ga, gb) = grads_at(4.0, -0.5);
        assert_eq!(y, 0.5);
        assert!((ga - -0.0625).abs() < 1e-15);
        assert!((gb - 0.5 * 4.0f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn exponent_grad_of_zero_base_at_positive_exponent_is_zero() {
        // d/dy 0^y at y = 2 is 0 (PyTorch), not 0 * ln 0 = NaN; d/dx x^2 at 0 is 0.
        let (y, ga, gb) = grads_at(0.0, 2.0);
        assert_eq!((y, ga, gb), (0.0, 0.0, 0.0));
    }

    #[test]
    fn zero_to_the_zero_is_one_with_zero_gradients() {
        // 0^0 = 1; d/da a^0 = 0 (b == 0), d/db 0^b at b = 0 is 0 (a == 0, b >= 0).
        let (y, ga, gb) = grads_at(0.0, 0.0);
        assert_eq!((y, ga, gb), (1.0, 0.0, 0.0));
        // 0^1: d/da = 1 * 0^0 = 1.
        assert_eq!(grads_at(0.0, 1.0).1, 1.0);
    }

    #[test]
    fn zero_base_with_negative_exponent_follows_ieee() {
        let (y, ga, gb) = grads_at(0.0, -1.0);
        assert_eq!(y, f64::INFINITY);
        assert_eq!(ga, f64::NEG_INFINITY); // -1 * 0^-2
        assert_eq!(gb, f64::NEG_INFINITY); // inf * ln 0
    }

    #[test]
    fn negative_base_with_integer_exponent_has_nan_exponent_gradient() {
        // (-2)^3 = -8; d/da = 3 * 4 = 12; ln(-2) = NaN, as in PyTorch.
        let (y, ga, gb) = grads_at(-2.0, 3.0);
        assert_eq!((y, ga), (-8.0, 12.0));
        assert!(gb.is_nan());
        assert!(grads_at(-2.0, 0.5).0.is_nan());
    }

    #[test]
    fn nan_propagates_through_pow() {
        let (y, ga, gb) = grads_at(f64::NAN, 2.0);
        assert!(y.is_nan() && ga.is_nan() && gb.is_nan());
        assert!(grads_at(0.0, f64::NAN).2.is_nan());
    }

    #[test]
    fn pow_broadcasts_and_sums_gradients_back() {
        // a [2, 1] ** b [3]: grad_a = Σ_j b_j a^(b_j - 1) (hand-derived at a = 1: Σ b_j = 6).
        let a = Tensor::from_vec(vec![1.0f64, 2.0], [2, 1])
            .unwrap()
            .requires_grad();
        let b = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3])
            .unwrap()
            .requires_grad();
        let y = a.pow(&b);
        assert_eq!(y.to_vec(), vec![1.0, 1.0, 1.0, 2.0, 4.0, 8.0]);
        let g = y.sum().backward().unwrap();
        assert_eq!(g.get(&a).unwrap().to_vec(), vec![6.0, 1.0 + 4.0 + 12.0]);
        assert_eq!(g.get(&b).unwrap().dims(), &[3]);
        let e = a.try_pow(&Tensor::zeros([3, 4])).unwrap_err();
        assert!(matches!(e, Error::BroadcastMismatch { op: "pow", .. }));
    }

    #[test]
    fn pow_of_empty_and_rank_zero_tensors() {
        let y = Tensor::<f32>::zeros([0, 2]).pow(&Tensor::scalar(2.0));
        assert_eq!(y.dims(), &[0, 2]);
        assert_eq!(Tensor::scalar(3.0f32).pow(&Tensor::scalar(2.0)).item(), 9.0);
    }

    #[test]
    fn pow_backward_is_itself_differentiable() {
        // d²/da² a^3 = 6a = 12 at a = 2; d²/db² 2^b = 2^b ln²2 at b = 3 (hand-derived).
        let opts = crate::BackwardOptions {
            create_graph: true,
            ..Default::default()
        };
        let a = Tensor::scalar(2.0f64).requires_grad();
        let b = Tensor::scalar(3.0f64).requires_grad();
        let g = a.pow(&b).backward_with(None, opts).unwrap();
        let (ga, gb) = (g.get(&a).unwrap().clone(), g.get(&b).unwrap().clone());
        let retain = crate::BackwardOptions {
            retain_graph: true,
            ..Default::default()
        };
        assert_eq!(
            ga.backward_with(None, retain)
                .unwrap()
                .get(&a)
                .unwrap()
                .item(),
            12.0
        );
        let gbb = gb.backward().unwrap().get(&b).unwrap().item();
        assert!((gbb - 8.0 * 2.0f64.ln().powi(2)).abs() < 1e-14, "{gbb}");
    }

    proptest! {
        #[test]
        fn pow_grad_matches_finite_differences((sa, sb) in broadcastable_pair(), seed in 0u64..1000) {
            use rand::SeedableRng;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let a = Tensor::<f64>::rand_uniform(sa, 0.1, 3.0, &mut rng).unwrap();
            let b = Tensor::<f64>::rand_uniform(sb, -2.0, 2.0, &mut rng).unwrap();
            check_grads!([a, b], |x, y| x.pow(y))?;
        }

        #[test]
        fn pow_grad_with_integer_exponent_matches_finite_differences(x in tensor(any_shape(), -2.0..2.0), k in 0u32..4) {
            // Negative bases are fine for integer exponents (only the base gets a gradient).
            let k = k as f64;
            check_grads!([x], |a| a.pow(&Tensor::scalar(k as _)))?;
        }
    }
}
