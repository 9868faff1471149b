//! `sin`, `cos` and `tanh`.
//!
//! - `y = sin(x)`: `grad_x = grad_out * cos(x)`.
//! - `y = cos(x)`: `grad_x = -grad_out * sin(x)`.
//! - `y = tanh(x)`: `grad_x = grad_out * (1 - y²)` (uses the saved output).
//!
//! The tanh rule runs as one fused op, `tanh_grad(g, y) = g * (1 - y²)`, which
//! is itself differentiable: `grad_g = tanh_grad(grad_out, y)` and
//! `grad_y = -2 * grad_out * g * y`. One pass and one allocation instead of four,
//! and second derivatives still flow. In a plain backward (nothing recorded) the
//! rule runs in `grad_out`'s own buffer, with no allocation at all.
//!
//! Domain: all reals; `sin(±inf) = cos(±inf) = NaN`, `tanh(±inf) = ±1`. Smooth:
//! no kinks. `tanh` saturates to exactly ±1 for large `|x|`, where its gradient
//! is exactly 0, never NaN.

use smallvec::smallvec;

use crate::error::Result;
use crate::tape::{Backward, Grads};
use crate::{Float, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns the sine element-wise (radians).
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![0.0f64], [1]).unwrap().requires_grad();
    /// let y = x.sin();
    /// assert_eq!(y.to_vec(), vec![0.0]);
    /// assert_eq!(y.sum().backward().unwrap().get(&x).unwrap().to_vec(), vec![1.0]);
    /// ```
    pub fn sin(&self) -> Tensor<T> {
        Tensor::from_op(self.map(Float::sin), &[self], || SinBackward {
            x: self.clone(),
        })
    }

    /// Returns the cosine element-wise (radians).
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![0.0f64], [1]).unwrap().requires_grad();
    /// let y = x.cos();
    /// assert_eq!(y.to_vec(), vec![1.0]);
    /// assert_eq!(y.sum().backward().unwrap().get(&x).unwrap().to_vec(), vec![0.0]); // -sin(0)
    /// ```
    pub fn cos(&self) -> Tensor<T> {
        Tensor::from_op(self.map(Float::cos), &[self], || CosBackward {
            x: self.clone(),
        })
    }

    /// Returns the hyperbolic tangent element-wise.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![0.0f64, 1000.0], [2]).unwrap().requires_grad();
    /// let y = x.tanh();
    /// assert_eq!(y.to_vec(), vec![0.0, 1.0]);
    /// assert_eq!(y.sum().backward().unwrap().get(&x).unwrap().to_vec(), vec![1.0, 0.0]);
    /// ```
    pub fn tanh(&self) -> Tensor<T> {
        let y = self.map_x8(T::tanh_x8, Float::tanh);
        Tensor::from_op_with_output(y, &[self], |y| TanhBackward { y: y.clone() })
    }
}

/// Backward of [`Tensor::sin`]: saves the input.
struct SinBackward<T: Float> {
    x: Tensor<T>,
}

impl<T: Float> Backward<T> for SinBackward<T> {
    fn name(&self) -> &'static str {
        "sin"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(grad_out * &self.x.cos())])
    }
}

/// Backward of [`Tensor::cos`]: saves the input.
struct CosBackward<T: Float> {
    x: Tensor<T>,
}

impl<T: Float> Backward<T> for CosBackward<T> {
    fn name(&self) -> &'static str {
        "cos"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some((grad_out * &self.x.sin()).neg())])
    }
}

/// Backward of [`Tensor::tanh`]: saves the output.
struct TanhBackward<T: Float> {
    y: Tensor<T>,
}

impl<T: Float> Backward<T> for TanhBackward<T> {
    fn name(&self) -> &'static str {
        "tanh"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Ok(smallvec![Some(tanh_grad(grad_out, &self.y))])
    }
    fn backward_owned(&self, mut grad_out: Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        if Tensor::would_record(&[&grad_out, &self.y]) {
            return self.backward(&grad_out, needs);
        }
        let g = grad_out.as_mut_slice();
        for (g, &y) in g.iter_mut().zip(self.y.as_slice()) {
            *g = tanh_grad_value(*g, y);
        }
        Ok(smallvec![Some(grad_out)])
    }
}

/// One element of `tanh_grad`.
#[inline]
fn tanh_grad_value<T: Float>(g: T, y: T) -> T {
    g * (T::ONE - y * y)
}

/// `g * (1 - y²)` element-wise, recorded as one op: the backward of `tanh`.
fn tanh_grad<T: Float>(g: &Tensor<T>, y: &Tensor<T>) -> Tensor<T> {
    debug_assert_eq!(g.shape(), y.shape(), "BUG: tanh_grad operands");
    let v = g
        .as_slice()
        .iter()
        .zip(y.as_slice())
        .map(|(&g, &y)| tanh_grad_value(g, y));
    let value = Tensor::from_iter_parts(v, g.shape().clone());
    Tensor::from_op(value, &[g, y], || TanhGradBackward {
        g: g.clone(),
        y: y.clone(),
    })
}

/// Backward of the fused tanh rule: saves both operands.
struct TanhGradBackward<T: Float> {
    g: Tensor<T>,
    y: Tensor<T>,
}

impl<T: Float> Backward<T> for TanhGradBackward<T> {
    fn name(&self) -> &'static str {
        "tanh_grad"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let grad_g = needs[0].then(|| tanh_grad(grad_out, &self.y));
        let grad_y =
            needs[1].then(|| (&(grad_out * &self.g) * &self.y).mul_scalar(T::from_f64(-2.0)));
        Ok(smallvec![grad_g, grad_y])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Float, Tensor};

    #[test]
    fn tanh_gives_the_scalar_kernel_at_every_length() {
        // Both paths (below and from 64 elements), whole blocks of eight and
        // every remainder, in both element types.
        for n in (0..=27).chain(60..=75) {
            let v: Vec<f32> = (0..n).map(|i| (i as f32 - 13.0) * 0.077).collect();
            let y = Tensor::from_vec(v.clone(), [n]).unwrap().tanh();
            let want: Vec<f32> = v.iter().map(|&x| Float::tanh(x)).collect();
            assert_eq!(y.to_vec(), want, "f32, n = {n}");
            let v64: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
            let y = Tensor::from_vec(v64.clone(), [n]).unwrap().tanh();
            assert_eq!(y.to_vec(), v64.iter().map(|x| x.tanh()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn tanh_golden_value() {
        // torch.tanh(torch.tensor(0.5, dtype=torch.float64)) = 0.46211715726000974,
        // gradient 1 - tanh(0.5)² = 0.7864477329659274 (hand-derived from the value).
        let (y, g) = value_and_grad(&[0.5], Tensor::tanh);
        assert!((y[0] - 0.46211715726000974).abs() < 1e-16);
        assert!((g[0] - 0.7864477329659274).abs() < 1e-15);
    }

    #[test]
    fn sin_cos_golden_values() {
        // Hand-derived: sin(π/6) = 1/2 with slope cos(π/6) = √3/2; cos(π/3) = 1/2
        // with slope -sin(π/3) = -√3/2.
        let half_sqrt3 = 3.0f64.sqrt() / 2.0;
        let (y, g) = value_and_grad(&[std::f64::consts::FRAC_PI_6], Tensor::sin);
        assert!((y[0] - 0.5).abs() < 1e-15 && (g[0] - half_sqrt3).abs() < 1e-15);
        let (y, g) = value_and_grad(&[std::f64::consts::FRAC_PI_3], Tensor::cos);
        assert!((y[0] - 0.5).abs() < 1e-15 && (g[0] + half_sqrt3).abs() < 1e-15);
    }

    #[test]
    fn tanh_saturates_with_zero_gradient() {
        let (y, g) = value_and_grad(&[-1000.0, 1000.0, f64::INFINITY], Tensor::tanh);
        assert_eq!(y, vec![-1.0, 1.0, 1.0]);
        assert_eq!(g, vec![0.0, 0.0, 0.0]);
    }

    #[test]
    fn trig_propagates_nan() {
        let (y, g) = value_and_grad(&[f64::NAN], |x| &(&x.sin() + &x.cos()) + &x.tanh());
        assert!(y[0].is_nan() && g[0].is_nan());
    }

    #[test]
    fn trig_keeps_rank_zero_and_empty_shapes() {
        let s = Tensor::scalar(0.0f32);
        assert_eq!(s.cos().rank(), 0);
        assert_eq!(s.cos().item(), 1.0);
        let e = Tensor::<f64>::zeros([0, 3]).requires_grad();
        let y = &(&e.sin() + &e.cos()) + &e.tanh();
        assert_eq!(y.dims(), &[0, 3]);
        assert_eq!(y.sum().backward().unwrap().get(&e).unwrap().dims(), &[0, 3]);
    }

    #[test]
    fn sin_second_derivative_is_minus_sin() {
        // Hand-derived: d²/dx² sin x = -sin x.
        let h = second_derivative(&[0.5], Tensor::sin)[0];
        assert!((h + 0.5f64.sin()).abs() < 1e-15);
    }

    proptest! {
        #[test]
        fn sin_grad_matches_finite_differences(x in tensor(any_shape(), -3.0..3.0)) {
            check_grads!([x], |a| a.sin())?;
        }

        #[test]
        fn cos_grad_matches_finite_differences(x in tensor(any_shape(), -3.0..3.0)) {
            check_grads!([x], |a| a.cos())?;
        }

        #[test]
        fn tanh_grad_matches_finite_differences(x in tensor(any_shape(), -3.0..3.0)) {
            check_grads!([x], |a| a.tanh())?;
        }
    }
}
