//! The one place with `unsafe`: a checked wrapper around `matrixmultiply`'s
//! cache-blocked `sgemm` and `dgemm`.
//!
//! Operands are described by a slice plus row and column strides, so that a
//! transposed operand is passed by swapping its strides instead of copying it.
//! A large product splits the rows of its output over threads (see
//! [`crate::kernels::par`]); each thread runs one GEMM on its rows.

#![allow(unsafe_code)]

use crate::kernels::par::for_each_run;

/// An element type with a GEMM kernel: `C = A · B`, with `C` row-major and
/// contiguous.
#[doc(hidden)]
pub trait Gemm: Sized {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<'_, Self>,
        b: MatRef<'_, Self>,
        c: &mut [Self],
    );
}

/// A read-only matrix view: a slice, an offset, and element strides.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    /// The storage.
    pub data: &'a [T],
    /// Index of element (0, 0).
    pub offset: usize,
    /// Distance between rows, in elements.
    pub row_stride: usize,
    /// Distance between columns, in elements.
    pub col_stride: usize,
}

impl<T> MatRef<'_, T> {
    /// True when every element of a `rows` by `cols` matrix lies inside `data`,
    /// and the strides fit in `isize`.
    fn covers(&self, rows: usize, cols: usize) -> bool {
        if rows == 0 || cols == 0 {
            return true;
        }
        let last = (rows - 1)
            .checked_mul(self.row_stride)
            .and_then(|r| {
                (cols - 1)
                    .checked_mul(self.col_stride)
                    .and_then(|c| r.checked_add(c))
            })
            .and_then(|rc| rc.checked_add(self.offset));
        let strides_fit =
            self.row_stride <= isize::MAX as usize && self.col_stride <= isize::MAX as usize;
        matches!(last, Some(l) if l < self.data.len()) && strides_fit
    }
}

macro_rules! impl_gemm {
    ($t:ty, $f:path) => {
        impl Gemm for $t {
            fn gemm_raw(
                m: usize,
                k: usize,
                n: usize,
                a: MatRef<'_, $t>,
                b: MatRef<'_, $t>,
                c: &mut [$t],
            ) {
                assert!(
                    a.covers(m, k),
                    "BUG: gemm lhs view out of bounds ({m}x{k}, {a:?})"
                );
                assert!(b.covers(k, n), "BUG: gemm rhs view out of bounds ({k}x{n})");
                assert_eq!(c.len(), m * n, "BUG: gemm output length");
                if m == 0 || n == 0 {
                    return;
                }
                if k == 0 {
                    c.fill(0.0);
                    return;
                }
                // Rows of C are independent: large products split them
                // over threads, each running one GEMM on its own rows.
                for_each_run(c, n, k * n, |first, rows| {
                    let m_run = rows.len() / n;
                    let a_off = a.offset + first * a.row_stride;
                    // SAFETY: `covers` proved that every element (i, p) of A at
                    // offset + i*rsa + p*csa (i < m, p < k) and every element
                    // of B (p < k, j < n) lies inside its slice, with strides
                    // that fit in isize; this run reads rows first..first+m_run
                    // of A, a subset. `rows` is an exclusively borrowed run of
                    // exactly m_run*n elements of C, disjoint from every other
                    // run, written with row stride n and column stride 1, so no
                    // two elements alias. beta = 0, so C's prior contents (even
                    // NaN) are never read.
                    unsafe {
                        $f(
                            m_run,
                            k,
                            n,
                            1.0,
                            a.data.as_ptr().add(a_off),
                            a.row_stride as isize,
                            a.col_stride as isize,
                            b.data.as_ptr().add(b.offset),
                            b.row_stride as isize,
                            b.col_stride as isize,
                            0.0,
                            rows.as_mut_ptr(),
                            n as isize,
                            1,
                        );
                    }
                });
            }
        }
    };
}

impl_gemm!(f32, matrixmultiply::sgemm);
impl_gemm!(f64, matrixmultiply::dgemm);

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive reference: C[i][j] = Σ_p A[i][p] B[p][j].
    fn naive(m: usize, k: usize, n: usize, a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i * n + j] += a.data[a.offset + i * a.row_stride + p * a.col_stride]
                        * b.data[b.offset + p * b.row_stride + j * b.col_stride];
                }
            }
        }
        c
    }

    #[test]
    fn gemm_matches_naive_loops_at_awkward_sizes_and_every_transpose() {
        let mut seed = 1u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f64 / (1u64 << 31) as f64) - 0.5
        };
        for m in 0..=12 {
            for k in [0, 1, 2, 3, 5, 7, 12] {
                for n in [0, 1, 4, 9, 12] {
                    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                        let ad: Vec<f64> = (0..m * k + 1).map(|_| next()).collect();
                        let bd: Vec<f64> = (0..k * n + 1).map(|_| next()).collect();
                        // Stored transposed when t: k x m instead of m x k.
                        let a = if ta {
                            MatRef {
                                data: &ad,
                                offset: 1,
                                row_stride: 1,
                                col_stride: m,
                            }
                        } else {
                            MatRef {
                                data: &ad,
                                offset: 1,
                                row_stride: k,
                                col_stride: 1,
                            }
                        };
                        let b = if tb {
                            MatRef {
                                data: &bd,
                                offset: 1,
                                row_stride: 1,
                                col_stride: k,
                            }
                        } else {
                            MatRef {
                                data: &bd,
                                offset: 1,
                                row_stride: n,
                                col_stride: 1,
                            }
                        };
                        let mut c = vec![f64::NAN; m * n];
                        f64::gemm_raw(m, k, n, a, b, &mut c);
                        let want = naive(m, k, n, a, b);
                        for (x, y) in c.iter().zip(&want) {
                            assert!(
                                (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
                                "m{m} k{k} n{n} ta{ta} tb{tb}: {x} vs {y}"
                            );
                        }
                        let a32: Vec<f32> = ad.iter().map(|&v| v as f32).collect();
                        let b32: Vec<f32> = bd.iter().map(|&v| v as f32).collect();
                        let mut c32 = vec![f32::NAN; m * n];
                        f32::gemm_raw(
                            m,
                            k,
                            n,
                            MatRef {
                                data: &a32,
                                offset: a.offset,
                                row_stride: a.row_stride,
                                col_stride: a.col_stride,
                            },
                            MatRef {
                                data: &b32,
                                offset: b.offset,
                                row_stride: b.row_stride,
                                col_stride: b.col_stride,
                            },
                            &mut c32,
                        );
                        for (x, y) in c32.iter().zip(&want) {
                            assert!(
                                (*x as f64 - y).abs() <= 1e-5 * (1.0 + y.abs()),
                                "f32 m{m} k{k} n{n}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn gemm_split_over_threads_matches_naive_loops() {
        // 257·130·131 multiply-adds: enough for two threads (see par.rs), at
        // sizes that split into uneven row runs.
        let (m, k, n) = (257, 130, 131);
        let ad: Vec<f64> = (0..m * k)
            .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
            .collect();
        let bd: Vec<f64> = (0..k * n)
            .map(|i| ((i * 53 % 97) as f64 - 48.0) / 5.0)
            .collect();
        for (ta, tb) in [(false, false), (true, true)] {
            let a = MatRef {
                data: &ad,
                offset: 0,
                row_stride: if ta { 1 } else { k },
                col_stride: if ta { m } else { 1 },
            };
            let b = MatRef {
                data: &bd,
                offset: 0,
                row_stride: if tb { 1 } else { n },
                col_stride: if tb { k } else { 1 },
            };
            let mut c = vec![f64::NAN; m * n];
            f64::gemm_raw(m, k, n, a, b, &mut c);
            let want = naive(m, k, n, a, b);
            for (i, (x, y)) in c.iter().zip(&want).enumerate() {
                assert!(
                    (x - y).abs() <= 1e-9 * (1.0 + y.abs()),
                    "ta{ta} tb{tb} at {i}: {x} vs {y}"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "BUG: gemm lhs view out of bounds")]
    fn gemm_rejects_a_view_past_the_end() {
        let a = [1.0f32; 3];
        let b = [1.0f32; 4];
        let mut c = [0.0f32; 4];
        f32::gemm_raw(
            2,
            2,
            2,
            MatRef {
                data: &a,
                offset: 0,
                row_stride: 2,
                col_stride: 1,
            },
            MatRef {
                data: &b,
                offset: 0,
                row_stride: 2,
                col_stride: 1,
            },
            &mut c,
        );
    }
}
