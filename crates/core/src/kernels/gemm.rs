//! The one place with `unsafe`: a checked wrapper around `matrixmultiply`'s
//! cache-blocked `sgemm` and `dgemm`.
//!
//! Operands are described by a slice plus row and column strides, so that a
//! transposed operand is passed by swapping its strides instead of copying it.
//! A large product splits its output over threads (see
//! [`crate::kernels::par`]), each thread running one GEMM on its share: the
//! columns when B costs more to pack than A, else the rows. Each GEMM packs
//! all of the operand it does not split, so splitting the costlier one packs
//! the least: for `[128, 784] · [784, 512]` on two threads, 300 K instead of
//! 451 K elements per thread.

#![allow(unsafe_code)]

use crate::kernels::par::{map_ranges, threads_for};

/// Columns per unit of a column split: a multiple of every `sgemm` and
/// `dgemm` kernel width in `matrixmultiply` (at most 16), so that only the
/// last run has a partial panel.
const COL_BLOCK: usize = 16;

/// How much packing an operand costs `matrixmultiply`, in element copies:
/// `len` rows (of A) or columns (of B) of depth `k`. It copies a panel of
/// consecutive elements at once when the operand is laid out along `len`
/// (`step` = 1: A column-major, B row-major), and element by element, about
/// [`GATHER`] times slower, otherwise.
fn packing_cost(len: usize, k: usize, step: usize) -> usize {
    let per_element = if step == 1 { 1 } else { GATHER };
    len.saturating_mul(k).saturating_mul(per_element)
}

/// How many times slower packing an operand element by element is than
/// packing it in panels: 1.6-2.5x, measured with `perf` on one AVX-512 core
/// for `[128, 784] · [784, 512]` in all four layouts (the choice it feeds
/// only needs the rough size).
const GATHER: usize = 2;

/// The output pointer shared by the runs of a column split, each of which
/// writes its own columns only.
#[derive(Clone, Copy)]
struct OutPtr<T>(*mut T);

impl<T> OutPtr<T> {
    /// The pointer (a method, so that closures capture the whole `OutPtr`,
    /// which is `Sync`, and not its raw field, which is not).
    fn get(self) -> *mut T {
        self.0
    }
}

// SAFETY: an `OutPtr` is only made from a `&mut [T]` held for the whole
// split, and each run touches a disjoint set of its elements (see
// `product_into`).
unsafe impl<T: Send> Send for OutPtr<T> {}
// SAFETY: as above; no run reads an element another run writes.
unsafe impl<T: Send> Sync for OutPtr<T> {}

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

/// `matrixmultiply`'s entry point for one element type: `C = αAB + βC` with
/// every operand given by a pointer and its row and column strides.
type RawGemm<T> = unsafe fn(
    usize,
    usize,
    usize,
    T,
    *const T,
    isize,
    isize,
    *const T,
    isize,
    isize,
    T,
    *mut T,
    isize,
    isize,
);

mod sealed {
    /// What the GEMM wrapper needs of an element type (sealed: `f32` and
    /// `f64` only).
    pub trait Raw: Copy + Send + Sync + 'static {
        const GEMM_ZERO: Self;
        const GEMM_ONE: Self;
        /// `sgemm` or `dgemm`.
        const GEMM: super::RawGemm<Self>;
    }
}
use sealed::Raw;

/// `C[.., j0..]` (an `m_run` by `n_run` block at row stride `ldc`, starting
/// at `c`) = `beta · C` + rows `i0..i0 + m_run` of A times columns
/// `j0..j0 + n_run` of B; with `beta` = 0, C's prior contents (even NaN) are
/// never read.
///
/// # Safety
///
/// `a` and `b` have passed `covers` for `m` by `k` and `k` by `n` with
/// `i0 + m_run <= m` and `j0 + n_run <= n`; `c` is valid for writing that
/// block and nothing else reads or writes it during the call.
#[allow(clippy::too_many_arguments)]
unsafe fn block<T: Raw>(
    beta: T,
    k: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    (i0, m_run): (usize, usize),
    (j0, n_run): (usize, usize),
    c: *mut T,
    ldc: usize,
) {
    // SAFETY: by the contract, every element (i, p) of A (i in
    // i0..i0 + m_run, p < k) and (p, j) of B (j in j0..j0 + n_run) lies inside
    // its slice, the strides fit in isize, and the block of C is ours alone.
    unsafe {
        (T::GEMM)(
            m_run,
            k,
            n_run,
            T::GEMM_ONE,
            a.data.as_ptr().add(a.offset + i0 * a.row_stride),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr().add(b.offset + j0 * b.col_stride),
            b.row_stride as isize,
            b.col_stride as isize,
            beta,
            c,
            ldc as isize,
            1,
        );
    }
}

/// `C = A · B`, or `C += A · B` when `accumulate`, into rows `ldc` elements
/// apart (row `i` of C is `c[i * ldc..i * ldc + n]`; the elements between
/// rows are left as they are), split over threads: the columns when B costs
/// more to pack than A, else the rows. Unless `accumulate`, C's prior
/// contents (even NaN) are never read.
#[allow(clippy::too_many_arguments)]
fn product_into<T: Raw>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: `c` is valid for reads and writes of `c.len()` elements and
    // exclusively borrowed for the call.
    unsafe { product_raw(m, k, n, a, b, (c.as_mut_ptr(), c.len()), ldc, accumulate) }
}

/// [`product_into`] on `c.1` elements from the pointer `c.0`; unless
/// `accumulate`, C is only written, never read, and every element of the
/// `m` by `n` block is written.
///
/// # Safety
///
/// `c.0` is valid for writes of `c.1` elements (and for reads too when
/// `accumulate`, initialised), and nothing else reads or writes them during
/// the call.
#[allow(clippy::too_many_arguments)]
unsafe fn product_raw<T: Raw>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    (c, c_len): (*mut T, usize),
    ldc: usize,
    accumulate: bool,
) {
    assert!(
        a.covers(m, k),
        "BUG: gemm lhs view out of bounds ({m}x{k}, {a:?})",
        a = (a.offset, a.row_stride, a.col_stride, a.data.len())
    );
    assert!(b.covers(k, n), "BUG: gemm rhs view out of bounds ({k}x{n})");
    if m == 0 || n == 0 {
        return;
    }
    let rows_fit = (m - 1)
        .checked_mul(ldc)
        .and_then(|r| r.checked_add(n))
        .is_some_and(|end| end <= c_len);
    assert!(
        ldc >= n && ldc <= isize::MAX as usize && rows_fit,
        "BUG: gemm output ({m}x{n}, ldc {ldc}, {c_len} elements)"
    );
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    // SAFETY: i * ldc + j < (m - 1) * ldc + n <= c_len
                    // (checked above), and the caller lends us those
                    // elements for writing.
                    unsafe { c.add(i * ldc + j).write(T::GEMM_ZERO) };
                }
            }
        }
        return;
    }
    let beta = if accumulate {
        T::GEMM_ONE
    } else {
        T::GEMM_ZERO
    };
    // B costs more to pack than A: split the columns, so that each thread
    // packs all of A but only its own columns of B (a split of the rows
    // would make every thread pack all of B). Otherwise split the rows.
    let col_work = m * k * COL_BLOCK;
    let split_cols = packing_cost(m, k, a.row_stride) < packing_cost(n, k, b.col_stride)
        && threads_for(n.div_ceil(COL_BLOCK), col_work) > 1;
    let (units, work) = if split_cols {
        (n.div_ceil(COL_BLOCK), col_work)
    } else {
        (m, k * n)
    };
    let out = OutPtr(c);
    map_ranges(units, work, |r| {
        let (rows, cols) = if split_cols {
            let j0 = r.start * COL_BLOCK;
            ((0, m), (j0, (r.end * COL_BLOCK).min(n) - j0))
        } else {
            ((r.start, r.len()), (0, n))
        };
        // SAFETY: both views passed `covers` above, the run's rows and
        // columns lie inside m by n, and row m - 1 of C ends at
        // (m - 1) * ldc + n <= c_len (checked, with ldc in isize); `out`
        // points to C, lent to us for the whole split, and the runs'
        // blocks (their rows, or their columns) are disjoint, so no
        // element is touched by two threads. With beta = 0,
        // `matrixmultiply` writes every element of its block without
        // reading it ("If β is zero, then C does not need to be
        // initialized", its `sgemm` docs).
        unsafe {
            let at = out.get().add(rows.0 * ldc + cols.0);
            block(beta, k, a, b, rows, cols, at, ldc)
        }
    });
}

/// An element type with a GEMM kernel: `C = A · B`, with `C` row-major.
#[doc(hidden)]
pub trait Gemm: Raw {
    /// `C = A · B` into `c`, row-major and contiguous (`m · n` elements);
    /// a large product splits its output over threads (the module docs).
    #[doc(hidden)]
    fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<'_, Self>,
        b: MatRef<'_, Self>,
        c: &mut [Self],
    ) {
        assert_eq!(c.len(), m * n, "BUG: gemm output length");
        product_into(m, k, n, a, b, c, n, false);
    }

    /// `A · B` in a new `Vec` (`m · n` elements, row-major), each element
    /// written once, by the product: [`Gemm::gemm_raw`] without filling
    /// the output with zeros first (for `[1024, 1024]`, 4 MiB of writes
    /// fewer).
    #[doc(hidden)]
    fn gemm_new([m, k, n]: [usize; 3], a: MatRef<'_, Self>, b: MatRef<'_, Self>) -> Vec<Self> {
        let len = m.checked_mul(n).expect("BUG: gemm output length overflows");
        let mut c = crate::spare::value_buffer(len);
        // SAFETY: `c` is empty with room for `len` elements, ours alone, and
        // `product_raw` without `accumulate` writes every element of the
        // `m` by `n` block at row stride `n`, that is all `len` of them,
        // without reading any; only then is the length set. A panic before
        // leaves `c` empty.
        unsafe {
            product_raw(m, k, n, a, b, (c.as_mut_ptr(), len), n, false);
            c.set_len(len);
        }
        c
    }

    /// `C = A · B`, or `C += A · B` when `accumulate`, into rows `ldc`
    /// elements apart: row `i` of C is `c[i * ldc..i * ldc + n]`, and the
    /// elements between rows are left as they are. For a block of a larger
    /// row-major output (a band of a convolution's output rows, say), or a
    /// product added to values already in place (a bias); split over
    /// threads as [`Gemm::gemm_raw`] (not when called from a worker).
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn gemm_strided(
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<'_, Self>,
        b: MatRef<'_, Self>,
        c: &mut [Self],
        ldc: usize,
        accumulate: bool,
    ) {
        product_into(m, k, n, a, b, c, ldc, accumulate);
    }
}

impl Raw for f32 {
    const GEMM_ZERO: Self = 0.0;
    const GEMM_ONE: Self = 1.0;
    const GEMM: RawGemm<Self> = matrixmultiply::sgemm;
}

impl Raw for f64 {
    const GEMM_ZERO: Self = 0.0;
    const GEMM_ONE: Self = 1.0;
    const GEMM: RawGemm<Self> = matrixmultiply::dgemm;
}

impl Gemm for f32 {}
impl Gemm for f64 {}

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
                        // Into a new buffer (never zeroed; zeros when k = 0):
                        // the same values, bit for bit.
                        let fresh = f64::gemm_new([m, k, n], a, b);
                        assert_eq!(fresh.len(), m * n);
                        for (x, y) in fresh.iter().zip(&c) {
                            assert_eq!(x.to_bits(), y.to_bits(), "new m{m} k{k} n{n}");
                        }
                        // Into rows 3 elements apart: the same values, and
                        // the gaps between rows untouched.
                        let ldc = n + 3;
                        let mut cs = vec![f64::NAN; m.saturating_sub(1) * ldc + n + 2];
                        f64::gemm_strided(m, k, n, a, b, &mut cs, ldc, false);
                        for (i, x) in cs.iter().enumerate() {
                            let (row, col) = (i / ldc, i % ldc);
                            if row < m && col < n {
                                assert_eq!(*x, c[row * n + col], "strided m{m} k{k} n{n}");
                            } else {
                                assert!(x.is_nan(), "strided m{m} k{k} n{n}: gap {i} written");
                            }
                        }
                        // Accumulating onto 0.5 everywhere adds the product.
                        let mut acc = vec![0.5; cs.len()];
                        f64::gemm_strided(m, k, n, a, b, &mut acc, ldc, true);
                        for (i, x) in acc.iter().enumerate() {
                            let (row, col) = (i / ldc, i % ldc);
                            let want = if row < m && col < n {
                                0.5 + c[row * n + col]
                            } else {
                                0.5
                            };
                            assert!((x - want).abs() <= 1e-12 * (1.0 + want.abs()), "acc {i}");
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
        // About 4.4 M multiply-adds: enough for two threads (see par.rs), at
        // sizes that split into uneven runs: tall outputs split their rows,
        // wide ones (B costlier to pack) their columns, 257 = 16 * 16 + 1 of
        // them, with B read from an offset.
        let mut split_by = [false; 2]; // [rows, columns]
        for (m, k, n) in [(257, 130, 131), (131, 130, 257)] {
            let ad: Vec<f64> = (0..m * k)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
                .collect();
            let bd: Vec<f64> = (0..k * n + 3)
                .map(|i| ((i * 53 % 97) as f64 - 48.0) / 5.0)
                .collect();
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = MatRef {
                    data: &ad,
                    offset: 0,
                    row_stride: if ta { 1 } else { k },
                    col_stride: if ta { m } else { 1 },
                };
                let b = MatRef {
                    data: &bd,
                    offset: 3,
                    row_stride: if tb { 1 } else { n },
                    col_stride: if tb { k } else { 1 },
                };
                split_by[usize::from(
                    packing_cost(m, k, a.row_stride) < packing_cost(n, k, b.col_stride),
                )] = true;
                let mut c = vec![f64::NAN; m * n];
                f64::gemm_raw(m, k, n, a, b, &mut c);
                let want = naive(m, k, n, a, b);
                for (i, (x, y)) in c.iter().zip(&want).enumerate() {
                    assert!(
                        (x - y).abs() <= 1e-9 * (1.0 + y.abs()),
                        "m{m} n{n} ta{ta} tb{tb} at {i}: {x} vs {y}"
                    );
                }
                // Into a new buffer, split the same way: the same values.
                let fresh = f64::gemm_new([m, k, n], a, b);
                assert_eq!(fresh, c, "new m{m} n{n} ta{ta} tb{tb}");
                // Into rows 5 elements apart, split the same way: the same
                // values, row by row.
                let mut cs = vec![f64::NAN; (m - 1) * (n + 5) + n];
                f64::gemm_strided(m, k, n, a, b, &mut cs, n + 5, false);
                for (i, row) in c.chunks(n).enumerate() {
                    assert_eq!(&cs[i * (n + 5)..][..n], row, "strided m{m} n{n} row {i}");
                }
            }
        }
        // Both splits ran, and really split when two threads are allowed.
        assert_eq!(split_by, [true, true]);
        if crate::kernels::par::num_threads() > 1 {
            assert!(threads_for(257, 130 * 131) > 1 && threads_for(131, 130 * 257) > 1);
            assert!(threads_for(257usize.div_ceil(COL_BLOCK), 131 * 130 * COL_BLOCK) > 1);
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
