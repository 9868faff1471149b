//! Scalar arithmetic and negation: `x + s`, `x * s`, `x / s`, `s - x`, `s / x`, `-x`.
//!
//! - `y = x + s`: `grad_x = grad_out`.
//! - `y = x * s`: `grad_x = grad_out * s`; `y = x / s`: `grad_x = grad_out / s`.
//! - `y = -x`: `grad_x = -grad_out`.
//! - `y = s / x`: `grad_x = -grad_out * s / x²`. IEEE at `x = 0`.
//!
//! No kinks; division by zero follows IEEE. In a plain backward (nothing
//! recorded) the affine rules scale `grad_out` in its own buffer.

use smallvec::smallvec;

use crate::error::Result;
use crate::tape::{Backward, Grads};
use crate::{Float, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns `x + s` element-wise.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::ones([2]);
    /// assert_eq!(x.add_scalar(2.0).to_vec(), vec![3.0, 3.0]);
    /// ```
    pub fn add_scalar(&self, s: T) -> Tensor<T> {
        Tensor::from_op(self.map(|v| v + s), &[self], || AddScalarBackward)
    }

    /// Returns `x * s` element-wise.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::ones([2]);
    /// assert_eq!(x.mul_scalar(-2.0).to_vec(), vec![-2.0, -2.0]);
    /// ```
    pub fn mul_scalar(&self, s: T) -> Tensor<T> {
        Tensor::from_op(self.map(|v| v * s), &[self], || ScalarBackward::Mul(s))
    }

    /// Returns `x / s` element-wise (IEEE for `s = 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f64>::ones([1]);
    /// assert_eq!(x.div_scalar(4.0).to_vec(), vec![0.25]);
    /// ```
    pub fn div_scalar(&self, s: T) -> Tensor<T> {
        Tensor::from_op(self.map(|v| v / s), &[self], || ScalarBackward::Div(s))
    }

    /// Returns `s / x` element-wise (IEEE for `x = 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f64>::full([1], 4.0);
    /// assert_eq!(x.rdiv_scalar(1.0).to_vec(), vec![0.25]);
    /// ```
    pub fn rdiv_scalar(&self, s: T) -> Tensor<T> {
        Tensor::from_op(self.map(|v| s / v), &[self], || RdivScalarBackward {
            x: self.clone(),
            s,
        })
    }

    /// Returns `-x` element-wise.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::ones([1]);
    /// assert_eq!(x.neg().to_vec(), vec![-1.0]);
    /// ```
    pub fn neg(&self) -> Tensor<T> {
        Tensor::from_op(self.map(|v| -v), &[self], || NegBackward)
    }
}

/// Backward of [`Tensor::add_scalar`]: passes the gradient through. It
/// saves nothing, so its rule is zero-sized and the tape's `Box` of it
/// allocates nothing.
struct AddScalarBackward;

impl<T: Float> Backward<T> for AddScalarBackward {
    fn name(&self) -> &'static str {
        "add_scalar"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out.clone())])
    }
    fn backward_owned(&self, grad_out: Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out)])
    }
}

/// Backward of [`Tensor::neg`]: zero-sized, as [`AddScalarBackward`].
struct NegBackward;

impl<T: Float> Backward<T> for NegBackward {
    fn name(&self) -> &'static str {
        "neg"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out.neg())])
    }
    fn backward_owned(&self, mut grad_out: Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        if Tensor::would_record(&[&grad_out]) {
            return self.backward(&grad_out, needs);
        }
        // The same arithmetic as `neg`, in grad_out's own storage.
        grad_out.as_mut_slice().iter_mut().for_each(|v| *v = -*v);
        Ok(smallvec![Some(grad_out)])
    }
}

/// Backward of the scalar products: saves only the scalar.
enum ScalarBackward<T> {
    Mul(T),
    Div(T),
}

impl<T: Float> Backward<T> for ScalarBackward<T> {
    fn name(&self) -> &'static str {
        match self {
            ScalarBackward::Mul(_) => "mul_scalar",
            ScalarBackward::Div(_) => "div_scalar",
        }
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let g = match self {
            ScalarBackward::Mul(s) => grad_out.mul_scalar(*s),
            ScalarBackward::Div(s) => grad_out.div_scalar(*s),
        };
        Ok(smallvec![Some(g)])
    }
    fn backward_owned(&self, mut grad_out: Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        if Tensor::would_record(&[&grad_out]) {
            return self.backward(&grad_out, needs);
        }
        // The same arithmetic as the ops above, in grad_out's own storage.
        let g = grad_out.as_mut_slice();
        match *self {
            ScalarBackward::Mul(s) => g.iter_mut().for_each(|v| *v *= s),
            ScalarBackward::Div(s) => g.iter_mut().for_each(|v| *v = *v / s),
        }
        Ok(smallvec![Some(grad_out)])
    }
}

/// Backward of [`Tensor::rdiv_scalar`]: saves the input and the scalar.
struct RdivScalarBackward<T: Float> {
    x: Tensor<T>,
    s: T,
}

impl<T: Float> Backward<T> for RdivScalarBackward<T> {
    fn name(&self) -> &'static str {
        "rdiv_scalar"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let g = (grad_out / &(&self.x * &self.x)).mul_scalar(-self.s);
        Ok(smallvec![Some(g)])
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;
    use crate::testing::*;

    #[test]
    fn scalar_ops_golden_values() {
        // Hand-derived: y = (2 - x) * 3 / 2 + 1/x at x = 2: value -0 + 0.5; dy/dx = -1.5 - 1/4.
        let x = Tensor::from_vec(vec![2.0f64], [1]).unwrap().requires_grad();
        let y = (&(&(2.0 - &x) * 3.0) / 2.0) + &(1.0 / &x);
        assert_eq!(y.item(), 0.5);
        assert_eq!(y.sum().backward().unwrap().get(&x).unwrap().item(), -1.75);
    }

    proptest! {
        #[test]
        fn scalar_ops_grad_matches_finite_differences(x in tensor(any_shape(), Domain::away_from(&[0.0], 0.3)), s in -2.0f64..2.0) {
            check_grads!([x], |a| a.add_scalar(s as _).mul_scalar(s as _).div_scalar(1.5).neg())?;
            check_grads!([x], |a| a.rdiv_scalar(s as _))?;
        }
    }
}
