//! `exp` and `log`.
//!
//! - `y = exp(x)`: `grad_x = grad_out * y` (uses the saved output).
//! - `y = log(x)` (natural): `grad_x = grad_out / x`. Domain `x > 0`; IEEE
//!   semantics outside it (`log(0) = -inf` with gradient `inf`, `log(-1) = NaN`).
//!
//! Both are smooth on their domains: no kinks.

use smallvec::smallvec;

use crate::error::Result;
use crate::tape::{Backward, Grads};
use crate::{Float, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns `e^x` element-wise.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![0.0f64, 1.0], [2]).unwrap();
    /// assert_eq!(x.exp().to_vec(), vec![1.0, std::f64::consts::E]);
    /// ```
    pub fn exp(&self) -> Tensor<T> {
        Tensor::from_op_with_output(self.map(Float::exp), &[self], |y| ExpBackward {
            y: y.clone(),
        })
    }

    /// Returns the natural logarithm element-wise.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f32, 0.0], [2]).unwrap();
    /// assert_eq!(x.log().to_vec(), vec![0.0, f32::NEG_INFINITY]);
    /// ```
    pub fn log(&self) -> Tensor<T> {
        let y = self.map(Float::ln);
        Tensor::from_op(y, &[self], || LogBackward { x: self.clone() })
    }
}

/// Backward of [`Tensor::exp`]: saves the output.
struct ExpBackward<T: Float> {
    y: Tensor<T>,
}

impl<T: Float> Backward<T> for ExpBackward<T> {
    fn name(&self) -> &'static str {
        "exp"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out * &self.y)])
    }
}

/// Backward of [`Tensor::log`]: saves the input.
struct LogBackward<T: Float> {
    x: Tensor<T>,
}

impl<T: Float> Backward<T> for LogBackward<T> {
    fn name(&self) -> &'static str {
        "log"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out / &self.x)])
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;
    use crate::testing::*;

    #[test]
    fn exp_log_golden_values() {
        // Hand-derived: exp(ln 2) = 2, d/dx exp at ln 2 = 2, d/dx log at 4 = 1/4.
        let x = Tensor::from_vec(vec![2.0f64.ln()], [1])
            .unwrap()
            .requires_grad();
        let y = x.exp();
        assert!((y.item() - 2.0).abs() < 1e-15);
        assert!((y.sum().backward().unwrap().get(&x).unwrap().item() - 2.0).abs() < 1e-15);
        let x = Tensor::from_vec(vec![4.0f64], [1]).unwrap().requires_grad();
        assert_eq!(
            x.log().sum().backward().unwrap().get(&x).unwrap().item(),
            0.25
        );
    }

    #[test]
    fn log_at_zero_follows_ieee() {
        let x = Tensor::from_vec(vec![0.0f64], [1]).unwrap().requires_grad();
        let y = x.log();
        assert_eq!(y.item(), f64::NEG_INFINITY);
        assert_eq!(
            y.sum().backward().unwrap().get(&x).unwrap().item(),
            f64::INFINITY
        );
    }

    proptest! {
        #[test]
        fn exp_grad_matches_finite_differences(x in tensor(any_shape(), -3.0..3.0)) {
            check_grads!([x], |a| a.exp())?;
        }

        #[test]
        fn log_grad_matches_finite_differences(x in tensor(any_shape(), Domain::positive())) {
            check_grads!([x], |a| a.log())?;
        }
    }
}
