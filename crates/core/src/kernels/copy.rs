//! Index-copy loops of the shape ops: axis permutation, row selection along one
//! axis and its adjoint (row accumulation), constant padding, concatenation,
//! and the gather / scatter-add pair.
//!
//! An axis is addressed through an [`AxisView`]: the row-major data seen as
//! `[outer, len, inner]` (the product of the dimensions before the axis, its
//! length, the product after it), so that one "row" is `inner` contiguous
//! elements. Callers validate shapes and indices; these loops index slices
//! directly, so a bad index panics here instead of reading out of bounds.

use smallvec::SmallVec;

use super::elementwise::for_each_offset2;
use crate::{Float, Shape};

/// A shape seen around one axis: `outer` blocks of `len` rows of `inner`
/// contiguous elements.
///
/// # Examples
///
/// ```
/// use wengert_core::{kernels::copy::AxisView, Shape};
/// let v = AxisView::new(&Shape::from([2, 3, 4]), 1);
/// assert_eq!((v.outer, v.len, v.inner), (2, 3, 4));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisView {
    /// The product of the dimensions before the axis.
    pub outer: usize,
    /// The length of the axis.
    pub len: usize,
    /// The product of the dimensions after the axis.
    pub inner: usize,
}

impl AxisView {
    /// Views `shape` around `axis` (which must exist). A shape with no elements
    /// gets `outer = inner = 0`, so that loops over it do no work even when
    /// the dimensions on one side of the axis multiply past `usize::MAX`.
    pub fn new(shape: &Shape, axis: usize) -> Self {
        if shape.numel() == 0 {
            return AxisView {
                outer: 0,
                len: shape[axis],
                inner: 0,
            };
        }
        let (outer, len, inner) = shape.split_at_axis(axis);
        AxisView { outer, len, inner }
    }
}

/// Copies `src` of shape `shape` into a new row-major buffer whose axis `i` is
/// input axis `perm[i]` (`perm` must be a permutation of `0..rank`).
///
/// A batch of 2-D transposes (the last two axes swapped, the others in place)
/// runs blocked, to stay in cache; any other permutation runs an odometer loop
/// over the output, reading the input with permuted strides.
///
/// # Examples
///
/// ```
/// use wengert_core::{kernels::copy::permute_copy, Shape};
/// let v = permute_copy(&[1, 2, 3, 4, 5, 6], &Shape::from([2, 3]), &[1, 0]);
/// assert_eq!(v, vec![1, 4, 2, 5, 3, 6]);
/// ```
pub fn permute_copy<T: Copy>(src: &[T], shape: &Shape, perm: &[usize]) -> Vec<T> {
    let rank = shape.rank();
    if src.is_empty() {
        return Vec::new();
    }
    let batched_transpose = rank >= 2
        && perm[rank - 2] == rank - 1
        && perm[rank - 1] == rank - 2
        && perm[..rank - 2].iter().enumerate().all(|(i, &p)| i == p);
    if batched_transpose {
        return transpose_blocked(src, shape[rank - 2], shape[rank - 1]);
    }
    let strides = shape.strides();
    let out_shape = Shape::from(perm.iter().map(|&p| shape[p]).collect::<Vec<_>>());
    let read: SmallVec<[usize; 4]> = perm.iter().map(|&p| strides[p]).collect();
    let unused: SmallVec<[usize; 4]> = SmallVec::from_elem(0, rank);
    let mut out = Vec::with_capacity(src.len());
    for_each_offset2(&out_shape, &read, &unused, |i, _| out.push(src[i]));
    out
}

/// Transposes each of the `src.len() / (m * n)` consecutive `m × n` matrices
/// of `src` (non-empty), in square tiles.
fn transpose_blocked<T: Copy>(src: &[T], m: usize, n: usize) -> Vec<T> {
    const TILE: usize = 32;
    let mut out = vec![src[0]; src.len()];
    for (a, b) in src.chunks_exact(m * n).zip(out.chunks_exact_mut(m * n)) {
        for i0 in (0..m).step_by(TILE) {
            for j0 in (0..n).step_by(TILE) {
                for i in i0..(i0 + TILE).min(m) {
                    for j in j0..(j0 + TILE).min(n) {
                        b[j * m + i] = a[i * n + j];
                    }
                }
            }
        }
    }
    out
}

/// Selects rows along the axis of `view` (the layout of `src`): the output is
/// `[outer, rows.len(), inner]`, row `j` of each block being input row
/// `rows[j]`. Narrow, stepped slices and `index_select` are all this loop.
///
/// # Examples
///
/// ```
/// use wengert_core::{kernels::copy::{select_rows, AxisView}, Shape};
/// let view = AxisView::new(&Shape::from([2, 3]), 1);
/// assert_eq!(select_rows(&[1, 2, 3, 4, 5, 6], view, [2, 0].into_iter()), vec![3, 1, 6, 4]);
/// ```
pub fn select_rows<T: Copy>(
    src: &[T],
    view: AxisView,
    rows: impl ExactSizeIterator<Item = usize> + Clone,
) -> Vec<T> {
    let AxisView { outer, len, inner } = view;
    let mut out = Vec::with_capacity(outer * rows.len() * inner);
    for o in 0..outer {
        let block = &src[o * len * inner..(o + 1) * len * inner];
        for r in rows.clone() {
            out.extend_from_slice(&block[r * inner..(r + 1) * inner]);
        }
    }
    out
}

/// The adjoint of [`select_rows`]: adds row `j` of each block of `src`
/// (`[outer, rows.len(), inner]`) into row `rows[j]` of `dst` (laid out as
/// `view`). Repeated rows accumulate.
///
/// # Examples
///
/// ```
/// use wengert_core::{kernels::copy::{add_rows, AxisView}, Shape};
/// let mut dst = vec![0.0f64; 3];
/// add_rows(&mut dst, AxisView::new(&Shape::from([3]), 0), [2, 2].into_iter(), &[1.0, 10.0]);
/// assert_eq!(dst, vec![0.0, 0.0, 11.0]);
/// ```
pub fn add_rows<T: Float>(
    dst: &mut [T],
    view: AxisView,
    rows: impl ExactSizeIterator<Item = usize> + Clone,
    src: &[T],
) {
    let AxisView { outer, len, inner } = view;
    let k = rows.len();
    for o in 0..outer {
        for (j, r) in rows.clone().enumerate() {
            let from = &src[(o * k + j) * inner..(o * k + j + 1) * inner];
            let to = &mut dst[(o * len + r) * inner..(o * len + r + 1) * inner];
            for (d, &s) in to.iter_mut().zip(from) {
                *d += s;
            }
        }
    }
}

/// Gathers along the axis of `view` (the layout of `src`): with `index` laid
/// out as `[outer, k, inner]`, `out[o, j, i] = src[o, index[o, j, i], i]`.
///
/// # Examples
///
/// ```
/// use wengert_core::{kernels::copy::{gather_rows, AxisView}, Shape};
/// // src [[1, 2], [3, 4]], gathered along axis 1 with index [[1, 1], [0, 1]].
/// let view = AxisView::new(&Shape::from([2, 2]), 1);
/// assert_eq!(gather_rows(&[1, 2, 3, 4], view, &[1, 1, 0, 1], 2), vec![2, 2, 3, 4]);
/// ```
pub fn gather_rows<T: Copy>(src: &[T], view: AxisView, index: &[usize], k: usize) -> Vec<T> {
    let AxisView { outer, len, inner } = view;
    let mut out = Vec::with_capacity(index.len());
    for o in 0..outer {
        for j in 0..k {
            let at = (o * k + j) * inner;
            for (i, &r) in index[at..at + inner].iter().enumerate() {
                out.push(src[(o * len + r) * inner + i]);
            }
        }
    }
    out
}

/// The adjoint of [`gather_rows`]: `dst[o, index[o, j, i], i] += src[o, j, i]`,
/// with `index` and `src` laid out as `[outer, k, inner]` and `dst` as `view`.
///
/// # Examples
///
/// ```
/// use wengert_core::{kernels::copy::{scatter_add_rows, AxisView}, Shape};
/// let mut dst = vec![0.0f32; 4];
/// let view = AxisView::new(&Shape::from([2, 2]), 1);
/// scatter_add_rows(&mut dst, view, &[1, 1, 0, 1], 2, &[1.0, 2.0, 3.0, 4.0]);
/// assert_eq!(dst, vec![0.0, 3.0, 3.0, 4.0]);
/// ```
pub fn scatter_add_rows<T: Float>(
    dst: &mut [T],
    view: AxisView,
    index: &[usize],
    k: usize,
    src: &[T],
) {
    let AxisView { outer, len, inner } = view;
    for o in 0..outer {
        for j in 0..k {
            let at = (o * k + j) * inner;
            for i in 0..inner {
                let d = &mut dst[(o * len + index[at + i]) * inner + i];
                *d += src[at + i];
            }
        }
    }
}

/// Pads `src` (shape `shape`) with `value`: `pads[i] = (before, after)` for
/// axis `i`, and `out_shape` the padded shape.
///
/// # Examples
///
/// ```
/// use wengert_core::{kernels::copy::pad_copy, Shape};
/// let v = pad_copy(&[1, 2], &Shape::from([1, 2]), &[(1, 0), (0, 1)], &Shape::from([2, 3]), 0);
/// assert_eq!(v, vec![0, 0, 0, 1, 2, 0]);
/// ```
pub fn pad_copy<T: Copy>(
    src: &[T],
    shape: &Shape,
    pads: &[(usize, usize)],
    out_shape: &Shape,
    value: T,
) -> Vec<T> {
    let mut out = vec![value; out_shape.numel()];
    if src.is_empty() {
        return out;
    }
    let write = out_shape.strides();
    let base: usize = pads
        .iter()
        .zip(&write)
        .map(|(&(before, _), &s)| before * s)
        .sum();
    for_each_offset2(shape, &shape.strides(), &write, |i, o| {
        out[base + o] = src[i]
    });
    out
}

/// Concatenates along one axis: `parts` holds each input's data and its length
/// along the axis; `outer` and `inner` come from the output's [`AxisView`].
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::copy::concat_copy;
/// // [[1], [2]] and [[3, 4], [5, 6]] along axis 1.
/// assert_eq!(concat_copy(&[(&[1, 2], 1), (&[3, 4, 5, 6], 2)], 2, 1), vec![1, 3, 4, 2, 5, 6]);
/// ```
pub fn concat_copy<T: Copy>(parts: &[(&[T], usize)], outer: usize, inner: usize) -> Vec<T> {
    let total: usize = parts.iter().map(|&(_, len)| len).sum();
    let mut out = Vec::with_capacity(outer * total * inner);
    for o in 0..outer {
        for &(data, len) in parts {
            out.extend_from_slice(&data[o * len * inner..(o + 1) * len * inner]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row-major multi-index of flat offset `k` in `dims`.
    fn unravel(mut k: usize, dims: &[usize]) -> Vec<usize> {
        let mut idx = vec![0; dims.len()];
        for a in (0..dims.len()).rev() {
            idx[a] = k % dims[a];
            k /= dims[a];
        }
        idx
    }

    fn ravel(idx: &[usize], dims: &[usize]) -> usize {
        idx.iter().zip(dims).fold(0, |acc, (&i, &d)| acc * d + i)
    }

    fn naive_permute(src: &[f64], dims: &[usize], perm: &[usize]) -> Vec<f64> {
        let out_dims: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
        (0..src.len())
            .map(|k| {
                let oi = unravel(k, &out_dims);
                let mut ii = vec![0; dims.len()];
                for (a, &p) in perm.iter().enumerate() {
                    ii[p] = oi[a];
                }
                src[ravel(&ii, dims)]
            })
            .collect()
    }

    #[test]
    fn permute_copy_matches_naive_indexing_at_awkward_sizes() {
        for m in 0..=12 {
            for n in [0, 1, 2, 5, 12, 33, 65] {
                let dims = [m, n];
                let src: Vec<f64> = (0..m * n).map(|v| v as f64).collect();
                let got = permute_copy(&src, &Shape::from(dims), &[1, 0]);
                assert_eq!(got, naive_permute(&src, &dims, &[1, 0]), "{dims:?}");
            }
        }
        for dims in [[2, 3, 4], [1, 5, 3], [3, 1, 7], [4, 3, 0]] {
            let src: Vec<f64> = (0..dims.iter().product::<usize>())
                .map(|v| v as f64)
                .collect();
            for perm in [
                [0, 1, 2],
                [0, 2, 1],
                [1, 0, 2],
                [1, 2, 0],
                [2, 0, 1],
                [2, 1, 0],
            ] {
                let got = permute_copy(&src, &Shape::from(dims), &perm);
                assert_eq!(got, naive_permute(&src, &dims, &perm), "{dims:?} {perm:?}");
            }
        }
    }

    #[test]
    fn pad_copy_matches_naive_indexing() {
        let dims = [2, 3];
        let src: Vec<f64> = (1..=6).map(|v| v as f64).collect();
        let pads = [(1, 2), (0, 3)];
        let out_dims = [5, 6];
        let got = pad_copy(
            &src,
            &Shape::from(dims),
            &pads,
            &Shape::from(out_dims),
            f64::NAN,
        );
        for (k, &v) in got.iter().enumerate() {
            let oi = unravel(k, &out_dims);
            let inside = (0..2).all(|a| oi[a] >= pads[a].0 && oi[a] < pads[a].0 + dims[a]);
            if inside {
                let ii: Vec<usize> = (0..2).map(|a| oi[a] - pads[a].0).collect();
                assert_eq!(v, src[ravel(&ii, &dims)]);
            } else {
                assert!(v.is_nan());
            }
        }
    }

    #[test]
    fn views_of_empty_shapes_do_no_work() {
        let v = AxisView::new(&Shape::from([0, usize::MAX, 2]), 1);
        assert_eq!((v.outer, v.inner), (0, 0));
        assert!(select_rows::<f32>(&[], v, [0, 1].into_iter()).is_empty());
    }
}
