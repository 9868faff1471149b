//! `matmul`: 2-D and batched matrix products through `matrixmultiply`.
//!
//! With `op(A)` being `A` or `Aᵀ` (the flags of [`Tensor::matmul_t`]) and
//! `C = op(A) · op(B)` over broadcast batch dimensions:
//!
//! - `grad_A = grad_out · op(B)ᵀ` (or its transpose `op(B) · grad_outᵀ` when `A`
//!   entered transposed), summed over broadcast batch dimensions;
//! - `grad_B = op(A)ᵀ · grad_out` (or `grad_outᵀ · op(A)`).
//!
//! Each gradient is itself a `matmul_t`, so transposes never copy: they are
//! passed to GEMM as swapped strides. A 1-D operand is treated as NumPy does (a
//! row vector on the left, a column vector on the right, the extra axis
//! removed). An empty inner dimension gives zeros. Bilinear: no kinks.

use smallvec::smallvec;

use crate::error::{Error, Result};
use crate::kernels::elementwise::{broadcast_strides, for_each_offset2};
use crate::kernels::gemm::MatRef;
use crate::kernels::par::for_each_run;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

impl<T: Float> Tensor<T> {
    /// Returns the matrix product of `self` (`[..., m, k]`) and `rhs`
    /// (`[..., k, n]`), broadcasting the batch dimensions.
    ///
    /// # Errors
    ///
    /// [`Error::MatmulMismatch`] when the inner dimensions differ or the batch
    /// dimensions do not broadcast; [`Error::RankMismatch`] for a rank-0 operand.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap();
    /// let b = Tensor::from_vec(vec![5.0f32, 6.0], [2, 1]).unwrap();
    /// assert_eq!(a.try_matmul(&b).unwrap().to_vec(), vec![17.0, 39.0]);
    /// ```
    pub fn try_matmul(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
        self.try_matmul_t(rhs, false, false)
    }

    /// Panicking twin of [`Tensor::try_matmul`].
    ///
    /// # Panics
    ///
    /// When the shapes do not fit a matrix product.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = wengert_core::Tensor::<f64>::eye(3);
    /// let b = wengert_core::Tensor::<f64>::ones([3, 2]);
    /// assert_eq!(a.matmul(&b).to_vec(), vec![1.0; 6]);
    /// ```
    #[track_caller]
    pub fn matmul(&self, rhs: &Tensor<T>) -> Tensor<T> {
        match self.try_matmul(rhs) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns `op(self) · op(rhs)` where `op` transposes the last two axes of
    /// an operand whose flag is set, without copying it: `x.matmul_t(&w, false,
    /// true)` is `x · wᵀ`, as in a linear layer.
    ///
    /// # Errors
    ///
    /// As [`Tensor::try_matmul`], for the transposed shapes.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], [1, 2]).unwrap();
    /// let w = Tensor::from_vec(vec![1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0], [3, 2]).unwrap();
    /// assert_eq!(x.try_matmul_t(&w, false, true).unwrap().to_vec(), vec![1.0, 2.0, 3.0]);
    /// ```
    pub fn try_matmul_t(&self, rhs: &Tensor<T>, lhs_t: bool, rhs_t: bool) -> Result<Tensor<T>> {
        if self.rank() == 0 || rhs.rank() == 0 {
            let shape = if self.rank() == 0 {
                self.shape()
            } else {
                rhs.shape()
            };
            return Err(Error::RankMismatch {
                op: "matmul",
                expected: "rank 1 or more",
                shape: shape.clone(),
            });
        }
        // NumPy's 1-D rules, by reshaping around a 2-D product (a vector has no
        // transpose: its flag is ignored).
        if self.rank() == 1 || rhs.rank() == 1 {
            let a = if self.rank() == 1 {
                self.reshape([1, self.numel()])
            } else {
                self.clone()
            };
            let b = if rhs.rank() == 1 {
                rhs.reshape([rhs.numel(), 1])
            } else {
                rhs.clone()
            };
            let (at, bt) = (lhs_t && self.rank() > 1, rhs_t && rhs.rank() > 1);
            let y = a
                .try_matmul_t(&b, at, bt)
                .map_err(|_| Error::MatmulMismatch {
                    lhs: self.shape().clone(),
                    rhs: rhs.shape().clone(),
                })?;
            let mut dims = y.dims().to_vec();
            let r = dims.len();
            match (self.rank() == 1, rhs.rank() == 1) {
                (true, true) => dims.truncate(r - 2),
                (false, true) => dims.truncate(r - 1),
                _ => {
                    dims.remove(r - 2);
                }
            }
            return y.try_reshape(dims);
        }
        let plan = Plan::new(self.shape(), rhs.shape(), lhs_t, rhs_t)?;
        let y = plan.run(self.as_slice(), rhs.as_slice());
        Ok(Tensor::from_op(y, &[self, rhs], || MatmulBackward {
            lhs: self.clone(),
            rhs: rhs.clone(),
            lhs_t,
            rhs_t,
        }))
    }

    /// Panicking twin of [`Tensor::try_matmul_t`].
    ///
    /// # Panics
    ///
    /// When the shapes do not fit a matrix product.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = wengert_core::Tensor::<f32>::ones([2, 3]);
    /// assert_eq!(a.matmul_t(&a, true, false).dims(), &[3, 3]);
    /// ```
    #[track_caller]
    pub fn matmul_t(&self, rhs: &Tensor<T>, lhs_t: bool, rhs_t: bool) -> Tensor<T> {
        match self.try_matmul_t(rhs, lhs_t, rhs_t) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// The sizes and strides of one batched product, checked.
struct Plan {
    m: usize,
    k: usize,
    n: usize,
    lhs_t: bool,
    rhs_t: bool,
    a_batch: Shape,
    b_batch: Shape,
    batch: Shape,
    out: Shape,
}

impl Plan {
    fn new(a: &Shape, b: &Shape, lhs_t: bool, rhs_t: bool) -> Result<Plan> {
        let mismatch = || Error::MatmulMismatch {
            lhs: a.clone(),
            rhs: b.clone(),
        };
        let (ra, rb) = (a.rank(), b.rank());
        let (m, ka) = if lhs_t {
            (a[ra - 1], a[ra - 2])
        } else {
            (a[ra - 2], a[ra - 1])
        };
        let (kb, n) = if rhs_t {
            (b[rb - 1], b[rb - 2])
        } else {
            (b[rb - 2], b[rb - 1])
        };
        if ka != kb {
            return Err(mismatch());
        }
        let a_batch = Shape::from(&a.dims()[..ra - 2]);
        let b_batch = Shape::from(&b.dims()[..rb - 2]);
        let batch = a_batch
            .broadcast("matmul", &b_batch)
            .map_err(|_| mismatch())?;
        let mut dims = smallvec::SmallVec::<[usize; 6]>::from_slice(batch.dims());
        dims.extend_from_slice(&[m, n]);
        let out = Shape::from(&dims[..]);
        out.checked_numel("matmul")?;
        Ok(Plan {
            m,
            k: ka,
            n,
            lhs_t,
            rhs_t,
            a_batch,
            b_batch,
            batch,
            out,
        })
    }

    fn run<T: Float>(&self, a: &[T], b: &[T]) -> Tensor<T> {
        let (m, k, n) = (self.m, self.k, self.n);
        // Operand strides inside one matrix: a transposed operand is read with
        // its row and column strides swapped.
        let (ars, acs) = if self.lhs_t { (1, m) } else { (k, 1) };
        let (brs, bcs) = if self.rhs_t { (1, k) } else { (n, 1) };
        let operands = |(oa, ob): (usize, usize)| {
            let lhs = MatRef {
                data: a,
                offset: oa,
                row_stride: ars,
                col_stride: acs,
            };
            let rhs = MatRef {
                data: b,
                offset: ob,
                row_stride: brs,
                col_stride: bcs,
            };
            (lhs, rhs)
        };
        if self.batch.numel() == 1 {
            // One product (the batch dimensions, if any, are all 1): no
            // offsets to work out (three allocations and 1,600 instructions
            // saved, on a W3 product of 4,000), and no zeros written first.
            let (lhs, rhs) = operands((0, 0));
            return Tensor::from_parts(T::gemm_new([m, k, n], lhs, rhs), self.out.clone());
        }
        let mut c = crate::kernels::zeroed(self.out.numel(), T::ZERO);
        if c.is_empty() {
            return Tensor::from_parts(c, self.out.clone());
        }
        let gemm = |o: (usize, usize), out: &mut [T]| {
            let (lhs, rhs) = operands(o);
            T::gemm_raw(m, k, n, lhs, rhs, out);
        };
        let sa: Vec<usize> = broadcast_strides(&self.a_batch, &self.batch)
            .iter()
            .map(|s| s * m * k)
            .collect();
        let sb: Vec<usize> = broadcast_strides(&self.b_batch, &self.batch)
            .iter()
            .map(|s| s * k * n)
            .collect();
        let mut offsets = Vec::with_capacity(self.batch.numel());
        for_each_offset2(&self.batch, &sa, &sb, |oa, ob| offsets.push((oa, ob)));
        // Independent products of a batch: large batches split over the
        // cores, each thread writing its own run of output matrices; a single
        // large product splits its rows or columns inside `gemm_raw` instead.
        for_each_run(&mut c, m * n, m * k * n, |first, outs| {
            for (&o, out) in offsets[first..].iter().zip(outs.chunks_mut(m * n)) {
                gemm(o, out);
            }
        });
        Tensor::from_parts(c, self.out.clone())
    }
}

/// Backward of [`Tensor::try_matmul_t`]: saves both operands and the flags.
struct MatmulBackward<T: Float> {
    lhs: Tensor<T>,
    rhs: Tensor<T>,
    lhs_t: bool,
    rhs_t: bool,
}

impl<T: Float> Backward<T> for MatmulBackward<T> {
    fn name(&self) -> &'static str {
        "matmul"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let (a, b, g) = (&self.lhs, &self.rhs, grad_out);
        let grad_lhs = needs[0].then(|| {
            let full = if self.lhs_t {
                b.matmul_t(g, self.rhs_t, true)
            } else {
                g.matmul_t(b, false, !self.rhs_t)
            };
            full.sum_to(a.shape())
        });
        let grad_rhs = needs[1].then(|| {
            let full = if self.rhs_t {
                g.matmul_t(a, true, self.lhs_t)
            } else {
                a.matmul_t(g, !self.lhs_t, false)
            };
            full.sum_to(b.shape())
        });
        Ok(smallvec![grad_lhs, grad_rhs])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Shape, Tensor};

    /// Naive batched reference with broadcasting over the batch dimensions.
    fn naive(a: &Tensor<f64>, b: &Tensor<f64>) -> Vec<f64> {
        let (ra, rb) = (a.rank(), b.rank());
        let (m, k, n) = (a.dims()[ra - 2], a.dims()[ra - 1], b.dims()[rb - 1]);
        let batch = Shape::from(&a.dims()[..ra - 2])
            .broadcast("t", &Shape::from(&b.dims()[..rb - 2]))
            .unwrap();
        let a_full = a.broadcast_to(Shape::from([batch.dims(), &[m, k]].concat()));
        let b_full = b.broadcast_to(Shape::from([batch.dims(), &[k, n]].concat()));
        let (ad, bd) = (a_full.as_slice(), b_full.as_slice());
        let mut out = vec![0.0; batch.numel() * m * n];
        for z in 0..batch.numel() {
            for i in 0..m {
                for j in 0..n {
                    for p in 0..k {
                        out[z * m * n + i * n + j] +=
                            ad[z * m * k + i * k + p] * bd[z * k * n + p * n + j];
                    }
                }
            }
        }
        out
    }

    #[test]
    fn matmul_mismatch_names_both_shapes() {
        let e = Tensor::<f32>::zeros([2, 3])
            .try_matmul(&Tensor::zeros([4, 5]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "matmul: inner dimensions differ (lhs [2, 3], rhs [4, 5])"
        );
        let e = Tensor::<f32>::zeros([2, 2, 3])
            .try_matmul(&Tensor::zeros([3, 3, 5]))
            .unwrap_err();
        assert!(matches!(e, Error::MatmulMismatch { .. }));
        let e = Tensor::<f32>::scalar(1.0)
            .try_matmul(&Tensor::zeros([3]))
            .unwrap_err();
        assert!(matches!(e, Error::RankMismatch { .. }));
    }

    #[test]
    fn empty_inner_dimension_gives_zeros() {
        let y = Tensor::<f32>::zeros([3, 0]).matmul(&Tensor::zeros([0, 2]));
        assert_eq!(y.to_vec(), vec![0.0; 6]);
    }

    #[test]
    fn vector_operands_follow_numpy() {
        let v = Tensor::from_vec(vec![1.0f64, 2.0], [2]).unwrap();
        let m = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]).unwrap();
        assert_eq!(v.matmul(&m).to_vec(), vec![7.0, 10.0]);
        assert_eq!(m.matmul(&v).to_vec(), vec![5.0, 11.0]);
        assert_eq!(v.matmul(&v).dims(), &[] as &[usize]);
        assert_eq!(v.matmul(&v).item(), 5.0);
    }

    #[test]
    fn batched_broadcast_matches_naive_loops() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for (sa, sb) in [
            (vec![3, 4], vec![4, 5]),
            (vec![2, 3, 4], vec![4, 5]),
            (vec![2, 1, 3, 4], vec![5, 4, 2]),
            (vec![1, 3, 0], vec![2, 0, 7]),
            (vec![7, 1], vec![1, 9]),
        ] {
            let a = Tensor::<f64>::randn(sa.clone(), 0.0, 1.0, &mut rng).unwrap();
            let b = Tensor::<f64>::randn(sb.clone(), 0.0, 1.0, &mut rng).unwrap();
            let y = a.matmul(&b);
            let want = naive(&a, &b);
            assert_eq!(y.numel(), want.len());
            for (x, w) in y.as_slice().iter().zip(&want) {
                assert!((x - w).abs() < 1e-12, "{sa:?} @ {sb:?}");
            }
        }
    }

    #[test]
    fn transposed_flags_equal_explicit_transposes() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let a = Tensor::<f64>::randn([2, 3, 4], 0.0, 1.0, &mut rng).unwrap();
        let b = Tensor::<f64>::randn([2, 5, 3], 0.0, 1.0, &mut rng).unwrap();
        // aᵀ [2,4,3] · bᵀ [2,3,5] = [2,4,5]
        let y = a.matmul_t(&b, true, true);
        let at = transpose_last(&a);
        let bt = transpose_last(&b);
        let want = at.matmul(&bt);
        assert_eq!(y.dims(), &[2, 4, 5]);
        for (x, w) in y.as_slice().iter().zip(want.as_slice()) {
            assert!((x - w).abs() < 1e-12);
        }
    }

    fn transpose_last(t: &Tensor<f64>) -> Tensor<f64> {
        let d = t.dims();
        let (b, r, c) = (d[0], d[1], d[2]);
        let s = t.as_slice();
        let mut v = vec![0.0; s.len()];
        for z in 0..b {
            for i in 0..r {
                for j in 0..c {
                    v[z * r * c + j * r + i] = s[z * r * c + i * c + j];
                }
            }
        }
        Tensor::from_vec(v, [b, c, r]).unwrap()
    }

    proptest! {
        #[test]
        fn matmul_grad_matches_finite_differences(
            (batch_a, batch_b) in broadcastable_pair(),
            m in 1usize..4, k in 0usize..4, n in 1usize..4,
            lhs_t in any::<bool>(), rhs_t in any::<bool>(),
            seed in 0u64..1000,
        ) {
            use rand::SeedableRng;
            prop_assume!(batch_a.rank() <= 2 && batch_b.rank() <= 2);
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let last = |t: bool, r: usize, c: usize| if t { [c, r] } else { [r, c] };
            let sa = Shape::from([batch_a.dims(), &last(lhs_t, m, k)].concat());
            let sb = Shape::from([batch_b.dims(), &last(rhs_t, k, n)].concat());
            let a = Tensor::<f64>::randn(sa, 0.0, 1.0, &mut rng).unwrap();
            let b = Tensor::<f64>::randn(sb, 0.0, 1.0, &mut rng).unwrap();
            check_grads!([a, b], |x, y| x.matmul_t(y, lhs_t, rhs_t))?;
        }

        #[test]
        fn vector_matmul_grad_matches_finite_differences(k in 1usize..5, n in 1usize..4, seed in 0u64..100) {
            use rand::SeedableRng;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let v = Tensor::<f64>::randn([k], 0.0, 1.0, &mut rng).unwrap();
            let m = Tensor::<f64>::randn([k, n], 0.0, 1.0, &mut rng).unwrap();
            check_grads!([v, m], |x, y| x.matmul(y))?;
            check_grads!([v], |x| x.matmul(x))?;
        }
    }
}
