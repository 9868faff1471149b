//! The mean squared error `mean((x − t)²)` as one recorded op.
//!
//! - Forward: `d = x − t`, `d²`, summed in `f64` (`kernels::reduce::sum_f64`)
//!   and divided by `n`: the same arithmetic, in the same order, as
//!   `(x − t).square().mean()`, so the value is the same to the last bit.
//! - Backward: `grad_x = (g / n) · 2d`, `grad_t = −grad_x`: again the
//!   composed ops' arithmetic (a test pins both).
//!
//! No kinks. Four recorded ops (`sub`, `square`, `sum`, `div_scalar`) and
//! their four backward rules become one: on a tiny regression network (W3 of
//! `docs/benchmarks.md`) the loss was a tenth of the tape's ops.

use smallvec::{SmallVec, smallvec};

use crate::error::{Error, Result};
use crate::kernels::reduce::sum_f64;
use crate::tape::{Backward, Grads};
use crate::{Float, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns the mean of the squared differences `mean((self − target)²)`,
    /// a rank-0 tensor, recorded as one op (the fused form of
    /// `(self − target).square().mean()`, with the same value).
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`] when the shapes differ (no broadcasting);
    /// [`Error::EmptyReduction`] when there are no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0, 4.0], [3]).unwrap().requires_grad();
    /// let t = Tensor::from_vec(vec![0.0, 2.0, 1.0], [3]).unwrap();
    /// let loss = x.try_mean_squared_error(&t).unwrap();
    /// assert_eq!(loss.item(), (1.0 + 0.0 + 9.0) / 3.0);
    /// // d/dx = 2 (x − t) / n
    /// let g = loss.backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![2.0 / 3.0, 0.0, 2.0]);
    /// let e = x.try_mean_squared_error(&Tensor::zeros([2])).unwrap_err();
    /// assert_eq!(e.to_string(), "mean_squared_error: shapes differ (expected [3], got [2])");
    /// ```
    pub fn try_mean_squared_error(&self, target: &Tensor<T>) -> Result<Tensor<T>> {
        const OP: &str = "mean_squared_error";
        if self.shape() != target.shape() {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: self.shape().clone(),
                actual: target.shape().clone(),
            });
        }
        let n = self.numel();
        if n == 0 {
            return Err(Error::EmptyReduction {
                op: OP,
                axis: None,
                shape: self.shape().clone(),
            });
        }
        let square = |(&a, &b): (&T, &T)| {
            let d = a - b;
            d * d
        };
        // The squares (inline up to 64), then the same blocked f64 sum as
        // `sum`.
        let pairs = self.as_slice().iter().zip(target.as_slice());
        let squares: SmallVec<[T; 64]> = pairs.map(square).collect();
        let total = sum_f64(&squares);
        let y = Tensor::scalar(T::from_f64(total) / T::from_usize(n));
        Ok(Tensor::from_op(y, &[self, target], || MseBackward {
            x: self.clone(),
            t: target.clone(),
        }))
    }
}

/// Backward of [`Tensor::try_mean_squared_error`]: saves both operands.
struct MseBackward<T: Float> {
    x: Tensor<T>,
    t: Tensor<T>,
}

impl<T: Float> Backward<T> for MseBackward<T> {
    fn name(&self) -> &'static str {
        "mean_squared_error"
    }

    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        // As the composed ops: (g / n) broadcast, times 2d; the target's is
        // its negation.
        let g = grad_out
            .div_scalar(T::from_usize(self.x.numel()))
            .broadcast_to(self.x.shape().clone());
        let d = &self.x - &self.t;
        let gx = &g * &d.mul_scalar(T::from_f64(2.0));
        let gt = needs[1].then(|| gx.neg());
        Ok(smallvec![needs[0].then_some(gx), gt])
    }

    fn backward_owned(&self, grad_out: Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        if Tensor::would_record(&[&grad_out, &self.x, &self.t]) {
            return self.backward(&grad_out, needs);
        }
        // Nothing records: the same arithmetic in one pass.
        let g = grad_out.item() / T::from_usize(self.x.numel());
        let two = T::from_f64(2.0);
        let pairs = self.x.as_slice().iter().zip(self.t.as_slice());
        let gx = Tensor::from_iter_parts(
            pairs.map(|(&a, &b)| g * ((a - b) * two)),
            self.x.shape().clone(),
        );
        let gt = needs[1].then(|| gx.map(|v| -v));
        Ok(smallvec![needs[0].then_some(gx), gt])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{check_both, randn};

    #[test]
    fn fused_mse_equals_the_composed_ops_bit_for_bit_value_and_gradients() {
        // Sizes below, at and above the inline buffer; f32, where rounding
        // differences would show.
        for shape in [vec![1], vec![3, 5], vec![64], vec![65], vec![9, 31]] {
            let seed = shape.iter().product::<usize>() as u64;
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
            let x = Tensor::<f32>::randn(&shape[..], 0.0, 1.0, &mut rng)
                .unwrap()
                .requires_grad();
            let t = Tensor::<f32>::randn(&shape[..], 0.5, 2.0, &mut rng)
                .unwrap()
                .requires_grad();
            let fused = x.try_mean_squared_error(&t).unwrap();
            let composed = (&x - &t).square().mean();
            assert_eq!(
                fused.item().to_bits(),
                composed.item().to_bits(),
                "{shape:?}"
            );
            let seed = Tensor::scalar(0.37f32);
            for create_graph in [false, true] {
                let opts = crate::BackwardOptions {
                    create_graph,
                    retain_graph: true,
                };
                let gf = fused.backward_with(Some(&seed), opts).unwrap();
                let gc = composed.backward_with(Some(&seed), opts).unwrap();
                for v in [&x, &t] {
                    let bits = |g: &crate::Gradients<f32>| -> Vec<u32> {
                        g.get(v)
                            .unwrap()
                            .to_vec()
                            .iter()
                            .map(|a| a.to_bits())
                            .collect()
                    };
                    assert_eq!(
                        bits(&gf),
                        bits(&gc),
                        "{shape:?} create_graph {create_graph}"
                    );
                }
            }
        }
    }

    #[test]
    fn mse_gradients_match_finite_differences_first_and_second_order() {
        let (x, t) = (randn(&[4, 3], 1), randn(&[4, 3], 2));
        check_both(
            &[x.clone(), t.clone()],
            |v: &[Tensor<f64>]| v[0].try_mean_squared_error(&v[1]).unwrap(),
            |v: &[Tensor<f32>]| v[0].try_mean_squared_error(&v[1]).unwrap(),
        )
        .unwrap();
        crate::gradgradcheck(
            |v| v[0].try_mean_squared_error(&v[1]).unwrap().square(),
            &[x, t],
        )
        .unwrap();
    }

    #[test]
    fn mse_of_nothing_is_an_error() {
        let z = Tensor::<f32>::zeros([0, 3]);
        let e = z.try_mean_squared_error(&z).unwrap_err();
        assert!(
            matches!(
                e,
                Error::EmptyReduction {
                    op: "mean_squared_error",
                    ..
                }
            ),
            "{e}"
        );
    }
}
