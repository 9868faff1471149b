//! `linear`: `y = x · Wᵀ + b` as one op, the bias added by the GEMM itself.
//!
//! With `x: [*, in]` viewed as `X: [N, in]`, `W: [out, in]` and `b: [out]`:
//!
//! - `grad_x = G · W` (reshaped to `x`'s shape);
//! - `grad_W = Gᵀ · X`;
//! - `grad_b = Σ_rows G`.
//!
//! The same arithmetic as `x.matmul_t(w, false, true) + b`, in one output
//! buffer filled with the bias rows and accumulated into by the GEMM
//! (`Gemm::gemm_strided`, `beta = 1`), and one recorded op instead of two:
//! no separate pass for the bias, no broadcast in the backward pass.
//! Affine: no kinks.

use smallvec::smallvec;

use crate::error::{Error, Result};
use crate::kernels::gemm::MatRef;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns `self · weightᵀ + bias`: the affine map of a fully connected
    /// layer, for `self: [*, in]`, `weight: [out, in]` and `bias: [out]`,
    /// with the result shaped `[*, out]`. Equal to
    /// `self.matmul_t(weight, false, true) + bias`, computed as one op.
    ///
    /// # Errors
    ///
    /// [`Error::RankMismatch`] when `self` is a scalar or `weight` is not
    /// 2-D; [`Error::MatmulMismatch`] when `self`'s last dimension is not
    /// `weight`'s second; [`Error::ShapeMismatch`] when `bias` is not
    /// `[out]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0], [1, 2]).unwrap().requires_grad();
    /// let w = Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0, -1.0, 2.0], [3, 2]).unwrap();
    /// let b = Tensor::from_vec(vec![0.5, 0.0, -1.0], [3]).unwrap();
    /// let y = x.try_linear(&w, Some(&b)).unwrap();
    /// assert_eq!(y.to_vec(), vec![1.5, 3.0, 2.0]);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![1.0, 3.0]);
    /// ```
    pub fn try_linear(&self, weight: &Tensor<T>, bias: Option<&Tensor<T>>) -> Result<Tensor<T>> {
        let (out_f, in_f, shape) = linear_dims(self, weight, bias)?;
        let rows = leading(self.shape());
        let x = MatRef {
            data: self.as_slice(),
            offset: 0,
            row_stride: in_f,
            col_stride: 1,
        };
        let w_t = MatRef {
            data: weight.as_slice(),
            offset: 0,
            row_stride: 1,
            col_stride: in_f,
        };
        // The bias rows, which the GEMM then adds onto; or the product alone.
        let y = match bias {
            Some(b) => {
                let mut y = b.as_slice().repeat(rows);
                T::gemm_strided(rows, in_f, out_f, x, w_t, &mut y, out_f, true);
                y
            }
            None => T::gemm_new([rows, in_f, out_f], x, w_t),
        };
        let value = Tensor::from_parts(y, shape);
        let mut inputs = smallvec::SmallVec::<[&Tensor<T>; 3]>::from_slice(&[self, weight]);
        inputs.extend(bias);
        Ok(Tensor::from_op(value, &inputs, || LinearBackward {
            x: self.clone(),
            w: weight.clone(),
        }))
    }

    /// Like [`Tensor::try_linear`], panicking on shape errors.
    ///
    /// # Panics
    ///
    /// When [`Tensor::try_linear`] returns an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::<f32>::ones([4, 3]);
    /// let w = Tensor::<f32>::ones([2, 3]);
    /// assert_eq!(x.linear(&w, None).to_vec(), vec![3.0; 8]);
    /// ```
    #[track_caller]
    pub fn linear(&self, weight: &Tensor<T>, bias: Option<&Tensor<T>>) -> Tensor<T> {
        match self.try_linear(weight, bias) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// `N`: the product of all but the last dimension (rank 1 or more).
fn leading(shape: &Shape) -> usize {
    let dims = shape.dims();
    dims[..dims.len() - 1].iter().product()
}

/// Checks the operands of [`Tensor::try_linear`]; returns `(out, in)` and
/// the output shape `[*, out]`.
fn linear_dims<T: Float>(
    x: &Tensor<T>,
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
) -> Result<(usize, usize, Shape)> {
    if x.rank() == 0 {
        return Err(Error::RankMismatch {
            op: "linear",
            expected: "rank 1 or more",
            shape: x.shape().clone(),
        });
    }
    let &[out_f, in_f] = weight.dims() else {
        return Err(Error::RankMismatch {
            op: "linear",
            expected: "a rank-2 weight [out, in]",
            shape: weight.shape().clone(),
        });
    };
    let dims = x.dims();
    if dims[dims.len() - 1] != in_f {
        return Err(Error::MatmulMismatch {
            lhs: x.shape().clone(),
            rhs: Shape::from([in_f, out_f]),
        });
    }
    if let Some(b) = bias
        && b.dims() != [out_f]
    {
        return Err(Error::ShapeMismatch {
            op: "linear",
            expected: Shape::from([out_f]),
            actual: b.shape().clone(),
        });
    }
    let out: Shape = dims[..dims.len() - 1]
        .iter()
        .copied()
        .chain([out_f])
        .collect();
    out.checked_numel("linear")?;
    Ok((out_f, in_f, out))
}

/// Backward of [`Tensor::try_linear`]: saves the input and the weight.
struct LinearBackward<T: Float> {
    x: Tensor<T>,
    w: Tensor<T>,
}

impl<T: Float> LinearBackward<T> {
    /// `(out, in, N)`: the weight's dimensions and the rows of `x`.
    fn dims(&self) -> (usize, usize, usize) {
        (self.w.dims()[0], self.w.dims()[1], leading(self.x.shape()))
    }
}

impl<T: Float> Backward<T> for LinearBackward<T> {
    fn name(&self) -> &'static str {
        "linear"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let (out_f, in_f, rows) = self.dims();
        // As matrices: G [N, out], X [N, in].
        let as_matrix = |t: &Tensor<T>, cols: usize| {
            if t.rank() == 2 {
                t.clone()
            } else {
                t.reshape([rows, cols])
            }
        };
        let g = as_matrix(grad_out, out_f);
        let grad_x = needs[0].then(|| {
            let gx = g.matmul(&self.w);
            if self.x.rank() == 2 {
                gx
            } else {
                gx.reshape(self.x.shape().clone())
            }
        });
        let grad_w = needs[1].then(|| g.matmul_t(&as_matrix(&self.x, in_f), true, false));
        let mut grads: Grads<T> = smallvec![grad_x, grad_w];
        if let Some(&need_b) = needs.get(2) {
            grads.push(need_b.then(|| g.sum_axes(&[0], false)));
        }
        Ok(grads)
    }

    fn backward_owned(&self, grad_out: Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        if Tensor::would_record(&[&grad_out, &self.x, &self.w]) {
            return self.backward(&grad_out, needs);
        }
        // Nothing records: the same products and sum as `backward`, by the
        // kernels directly, without the ops' shape checks, views and axis
        // lists (W3: three of these per step).
        let (out_f, in_f, rows) = self.dims();
        let g = grad_out.as_slice();
        let mat = |data, row_stride, col_stride| MatRef {
            data,
            offset: 0,
            row_stride,
            col_stride,
        };
        let grad_x = needs[0].then(|| {
            let w = mat(self.w.as_slice(), in_f, 1);
            let gx = T::gemm_new([rows, out_f, in_f], mat(g, out_f, 1), w);
            Tensor::from_parts(gx, self.x.shape().clone())
        });
        let grad_w = needs[1].then(|| {
            let x = mat(self.x.as_slice(), in_f, 1);
            let gw = T::gemm_new([out_f, rows, in_f], mat(g, 1, out_f), x);
            Tensor::from_parts(gw, self.w.shape().clone())
        });
        let mut grads: Grads<T> = smallvec![grad_x, grad_w];
        if let Some(&need_b) = needs.get(2) {
            grads.push(need_b.then(|| {
                let b = crate::kernels::reduce::sum_axis(g, 1, rows, out_f);
                Tensor::from_parts(b, Shape::from([out_f]))
            }));
        }
        Ok(grads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{check_both, randn};

    #[test]
    fn linear_equals_matmul_plus_bias_values_and_gradients() {
        for (xs, out_f) in [
            (vec![5, 3], 4),
            (vec![2, 3, 4], 2),
            (vec![4], 3),
            (vec![0, 3], 2),
        ] {
            let in_f = xs[xs.len() - 1];
            let x = randn(&xs, 1).requires_grad();
            let w = randn(&[out_f, in_f], 2).requires_grad();
            let b = randn(&[out_f], 3).requires_grad();
            let fused = x.linear(&w, Some(&b));
            let plain = &x.matmul_t(&w, false, true) + &b;
            assert_eq!(fused.shape(), plain.shape(), "{xs:?}");
            for (p, q) in fused.to_vec().iter().zip(plain.to_vec()) {
                assert!((p - q).abs() <= 1e-12 * (1.0 + q.abs()), "{xs:?}");
            }
            let seed = randn(fused.dims(), 4);
            // Both were recorded on the thread's tape: keep it for the second.
            let keep = crate::BackwardOptions {
                retain_graph: true,
                ..Default::default()
            };
            let gf = fused.backward_with(Some(&seed), keep).unwrap();
            let gp = plain
                .backward_with(Some(&seed), Default::default())
                .unwrap();
            for t in [&x, &w, &b] {
                let (p, q) = (gf.get(t).unwrap().to_vec(), gp.get(t).unwrap().to_vec());
                for (p, q) in p.iter().zip(&q) {
                    assert!((p - q).abs() <= 1e-12 * (1.0 + q.abs()), "{xs:?}");
                }
            }
        }
    }

    #[test]
    fn kernel_backward_gives_the_recorded_backward_bit_for_bit() {
        // A plain backward takes the kernels directly; with create_graph the
        // rule runs as recorded ops. Same products and sums, same bits.
        for (xs, out_f, bias) in [
            (vec![5, 3], 4, true),
            (vec![2, 3, 4], 2, true),
            (vec![4], 3, false),
            (vec![0, 3], 2, true),
            (vec![33, 17], 9, false),
        ] {
            let in_f = xs[xs.len() - 1];
            let x = randn(&xs, 8).requires_grad();
            let w = randn(&[out_f, in_f], 9).requires_grad();
            let b = randn(&[out_f], 10).requires_grad();
            let f = || x.linear(&w, bias.then_some(&b)).square().sum();
            let plain = f().backward().unwrap();
            let opts = crate::BackwardOptions {
                create_graph: true,
                ..Default::default()
            };
            let recorded = f().backward_with(None, opts).unwrap();
            let leaves = if bias { vec![&x, &w, &b] } else { vec![&x, &w] };
            for t in leaves {
                let (p, r) = (plain.get(t).unwrap(), recorded.get(t).unwrap());
                assert_eq!(p.shape(), r.shape(), "{xs:?}");
                let bits = |v: &Tensor<f64>| -> Vec<u64> {
                    v.to_vec().iter().map(|x| x.to_bits()).collect()
                };
                assert_eq!(bits(p), bits(&r.detach()), "{xs:?} {out_f} {bias}");
            }
        }
    }

    #[test]
    fn linear_gradients_match_finite_differences_first_and_second_order() {
        // check_both: f64 and f32, random cotangent.
        let (x, w, b) = (randn(&[3, 2, 4], 5), randn(&[3, 4], 6), randn(&[3], 7));
        check_both(
            &[x.clone(), w.clone(), b.clone()],
            |v: &[Tensor<f64>]| v[0].linear(&v[1], Some(&v[2])),
            |v: &[Tensor<f32>]| v[0].linear(&v[1], Some(&v[2])),
        )
        .unwrap();
        check_both(
            &[x.clone(), w.clone()],
            |v: &[Tensor<f64>]| v[0].linear(&v[1], None),
            |v: &[Tensor<f32>]| v[0].linear(&v[1], None),
        )
        .unwrap();
        crate::gradgradcheck(|v| v[0].linear(&v[1], Some(&v[2])).square(), &[x, w, b]).unwrap();
    }

    #[test]
    fn linear_errors_name_the_shapes() {
        let (x, w) = (Tensor::<f32>::ones([2, 3]), Tensor::<f32>::ones([4, 3]));
        let e = Tensor::<f32>::ones([2, 4])
            .try_linear(&w, None)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "matmul: inner dimensions differ (lhs [2, 4], rhs [3, 4])"
        );
        let e = x.try_linear(&Tensor::ones([4, 3, 1]), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "linear: expected a rank-2 weight [out, in], got shape [4, 3, 1]"
        );
        let e = x.try_linear(&w, Some(&Tensor::ones([3]))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "linear: shapes differ (expected [4], got [3])"
        );
        let e = Tensor::<f32>::scalar(1.0).try_linear(&w, None).unwrap_err();
        assert!(matches!(e, Error::RankMismatch { op: "linear", .. }));
    }
}
