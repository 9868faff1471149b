//! The im2col / col2im loops of convolution, on one image at a time.
//!
//! `im2col` unrolls every receptive field of a `[channels, h, w]` image into a
//! column of a `[channels·kh·kw, oh·ow]` matrix (row `(c, i, j)` in row-major
//! order, column `(oy, ox)`), reading zeros where a field hangs over the zero
//! padding. A convolution is then one GEMM: `weight [c_out, c·kh·kw] · cols`.
//! `col2im` is its adjoint: it adds every column entry back onto the pixel it
//! was read from, and drops the entries that fall on the padding.
//!
//! Callers validate the geometry ([`Geom2d::out`]); these loops index slices
//! directly, so a wrong length panics here instead of reading out of bounds.

use std::ops::Range;

/// The length of one output axis of a sliding window:
/// `floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1`.
///
/// Returns `None` when `kernel`, `stride` or `dilation` is zero, or when the
/// dilated kernel is longer than the padded input.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::im2col::out_len;
/// assert_eq!(out_len(4, 2, 1, 0, 1), Some(3));
/// assert_eq!(out_len(32, 3, 1, 1, 1), Some(32));
/// assert_eq!(out_len(7, 3, 2, 0, 1), Some(3)); // floor(4 / 2) + 1
/// assert_eq!(out_len(2, 5, 1, 1, 1), None);
/// ```
pub fn out_len(
    size: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Option<usize> {
    if kernel == 0 || stride == 0 || dilation == 0 {
        return None;
    }
    let extent = dilation.checked_mul(kernel - 1)?.checked_add(1)?;
    let padded = size.checked_add(padding.checked_mul(2)?)?;
    if extent > padded {
        return None;
    }
    Some((padded - extent) / stride + 1)
}

/// The geometry of a 2-D sliding window over one `[channels, h, w]` image.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::im2col::Geom2d;
/// let g = Geom2d { channels: 2, size: [4, 4], kernel: [2, 2], stride: [1, 1],
///                  padding: [0, 0], dilation: [1, 1] };
/// assert_eq!(g.out(), Some([3, 3]));
/// assert_eq!(g.rows(), 8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geom2d {
    /// Channels of the image.
    pub channels: usize,
    /// `[h, w]` of the image, before padding.
    pub size: [usize; 2],
    /// `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Step between windows along each axis.
    pub stride: [usize; 2],
    /// Zeros added on both sides of each axis.
    pub padding: [usize; 2],
    /// Spacing between kernel taps along each axis (1: contiguous).
    pub dilation: [usize; 2],
}

impl Geom2d {
    /// Returns `[oh, ow]`, or `None` when the window does not fit (see
    /// [`out_len`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::kernels::im2col::Geom2d;
    /// let g = Geom2d { channels: 1, size: [4, 4], kernel: [2, 2], stride: [1, 1],
    ///                  padding: [1, 1], dilation: [1, 1] };
    /// assert_eq!(g.out(), Some([5, 5]));
    /// ```
    pub fn out(&self) -> Option<[usize; 2]> {
        let o = |a: usize| {
            out_len(
                self.size[a],
                self.kernel[a],
                self.stride[a],
                self.padding[a],
                self.dilation[a],
            )
        };
        Some([o(0)?, o(1)?])
    }

    /// Returns the number of rows of the column matrix, `channels·kh·kw`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::kernels::im2col::Geom2d;
    /// let g = Geom2d { channels: 3, size: [5, 5], kernel: [3, 2], stride: [1, 1],
    ///                  padding: [0, 0], dilation: [1, 1] };
    /// assert_eq!(g.rows(), 18);
    /// ```
    pub fn rows(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// Calls `f(row, oy, plane_offset, iy, (lo, hi), first_ix)` for every
    /// (row, oy) pair with `oy` in `oys`, which indexes `ow` consecutive
    /// column entries; `iy` is
    /// the input row read (`None` on the padding), and
    /// output columns `lo..hi` read input columns `first_ix + (ox − lo)·sw`
    /// (the others lie on the padding). Shared by both loops so that they
    /// are adjoint by construction.
    fn for_each_segment(
        &self,
        oys: Range<usize>,
        mut f: impl FnMut(usize, usize, usize, Option<usize>, (usize, usize), usize),
    ) {
        let [h, w] = self.size;
        let [kh, kw] = self.kernel;
        let [_, ow] = self.out().expect("BUG: im2col geometry was validated");
        let (s1, p1) = (self.stride[1], self.padding[1]);
        for c in 0..self.channels {
            for i in 0..kh {
                for j in 0..kw {
                    let row = (c * kh + i) * kw + j;
                    // ox reads ix = ox·s1 + j·d1 − p1: inside for lo ≤ ox < hi.
                    let off = j * self.dilation[1];
                    let lo = p1.saturating_sub(off).div_ceil(s1).min(ow);
                    let hi = (w + p1).saturating_sub(off).div_ceil(s1).clamp(lo, ow);
                    // Only read when lo < hi; then it lies inside the row.
                    let first_ix = if lo < hi { lo * s1 + off - p1 } else { 0 };
                    for oy in oys.clone() {
                        let iy = (oy * self.stride[0] + i * self.dilation[0])
                            .checked_sub(self.padding[0])
                            .filter(|&iy| iy < h);
                        f(row, oy, c * h * w, iy, (lo, hi), first_ix);
                    }
                }
            }
        }
    }
}

/// Writes the column matrix of `image` (`[channels, h, w]`, row-major) into
/// `cols` (`[channels·kh·kw, oh·ow]`); every element of `cols` is written.
///
/// # Panics
///
/// When the geometry does not fit ([`Geom2d::out`] is `None`) or a slice has
/// the wrong length.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::im2col::{im2col, Geom2d};
/// let g = Geom2d { channels: 1, size: [2, 3], kernel: [2, 2], stride: [1, 1],
///                  padding: [0, 0], dilation: [1, 1] };
/// let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let mut cols = [0.0f32; 8];
/// im2col(&g, &x, &mut cols);
/// // rows: taps (0,0), (0,1), (1,0), (1,1); columns: the two windows
/// assert_eq!(cols, [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 6.0]);
/// ```
pub fn im2col<T: crate::Float>(g: &Geom2d, image: &[T], cols: &mut [T]) {
    let [oh, ow] = g.out().expect("BUG: im2col geometry was validated");
    assert_eq!(cols.len(), g.rows() * oh * ow, "BUG: im2col cols");
    im2col_strided(g, image, cols, oh * ow);
}

/// As [`im2col`], but row `r` of the column matrix starts at `cols[r · ld]`
/// (`ld ≥ oh·ow`): several images' columns can sit side by side in one wide
/// matrix, image `j` at column offset `j·oh·ow` (pass `&mut cols[j·oh·ow..]`).
/// Only the `oh·ow` entries of each row are written.
///
/// # Panics
///
/// When the geometry does not fit, `ld < oh·ow`, or a slice is too short.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::im2col::{im2col_strided, Geom2d};
/// let g = Geom2d { channels: 1, size: [1, 3], kernel: [1, 2], stride: [1, 1],
///                  padding: [0, 0], dilation: [1, 1] };
/// // Two images side by side: rows of 4 = 2 images × 2 windows.
/// let mut cols = [0.0f32; 8];
/// im2col_strided(&g, &[1.0, 2.0, 3.0], &mut cols, 4);
/// im2col_strided(&g, &[4.0, 5.0, 6.0], &mut cols[2..], 4);
/// assert_eq!(cols, [1.0, 2.0, 4.0, 5.0, 2.0, 3.0, 5.0, 6.0]);
/// ```
pub fn im2col_strided<T: crate::Float>(g: &Geom2d, image: &[T], cols: &mut [T], ld: usize) {
    let [oh, _] = g.out().expect("BUG: im2col geometry was validated");
    im2col_band(g, image, 0..oh, cols, ld);
}

/// As [`im2col_strided`], for the band of output rows `oys` only: the columns
/// of the `oys.len()·ow` output pixels of those rows, row `r` of the column
/// matrix starting at `cols[r · ld]` (`ld ≥ oys.len()·ow`). A large image's
/// column matrix is built and multiplied band by band, so that each band
/// stays in cache between being written and being read by the GEMM.
///
/// # Panics
///
/// When the geometry does not fit, `oys` is not inside `0..oh`, `ld` is too
/// small, or a slice is too short.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::im2col::{im2col, im2col_band, Geom2d};
/// let g = Geom2d { channels: 1, size: [3, 3], kernel: [2, 2], stride: [1, 1],
///                  padding: [0, 0], dilation: [1, 1] };
/// let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
/// let mut all = [0.0f32; 16];
/// im2col(&g, &x, &mut all); // 4 rows (taps) × 4 output pixels
/// let mut band = [0.0f32; 8];
/// im2col_band(&g, &x, 1..2, &mut band, 2); // output row 1: pixels 2 and 3
/// for r in 0..4 {
///     assert_eq!(band[r * 2..r * 2 + 2], all[r * 4 + 2..r * 4 + 4]);
/// }
/// ```
pub fn im2col_band<T: crate::Float>(
    g: &Geom2d,
    image: &[T],
    oys: Range<usize>,
    cols: &mut [T],
    ld: usize,
) {
    let [oh, ow] = g.out().expect("BUG: im2col geometry was validated");
    let w = g.size[1];
    assert_eq!(image.len(), g.channels * g.size[0] * w, "BUG: im2col image");
    assert!(oys.start <= oys.end && oys.end <= oh, "BUG: im2col band");
    assert!(ld >= oys.len() * ow, "BUG: im2col row stride");
    let s1 = g.stride[1];
    let first = oys.start;
    g.for_each_segment(oys, |row, oy, base, iy, (lo, hi), ix0| {
        let start = row * ld + (oy - first) * ow;
        let out = &mut cols[start..start + ow];
        match iy {
            None => out.fill(T::ZERO),
            Some(iy) => {
                let src = &image[base + iy * w..base + (iy + 1) * w];
                out[..lo].fill(T::ZERO);
                out[hi..].fill(T::ZERO);
                let mid = &mut out[lo..hi];
                if s1 == 1 {
                    mid.copy_from_slice(&src[ix0..ix0 + mid.len()]);
                } else {
                    for (o, &v) in mid.iter_mut().zip(src[ix0..].iter().step_by(s1)) {
                        *o = v;
                    }
                }
            }
        }
    });
}

/// The transpose of [`im2col_band`]: for the band of output rows `oys`, row
/// `p` of `rows` (starting at `rows[p · ld]`, `ld ≥ channels·kh·kw`) holds
/// the window of output pixel `p` of the band, in the order of the column
/// matrix's rows (taps `(c, i, j)`, 0 on the padding); the entries of a row
/// past `channels·kh·kw` are left alone.
///
/// The weight gradient multiplies by the transposed column matrix, and
/// `matrixmultiply` packs an operand laid out this way in panels, where it
/// would gather the column matrix element by element.
///
/// # Panics
///
/// When the geometry does not fit, `oys` is not inside `0..oh`, `ld` is too
/// small, or a slice is too short.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::im2col::{im2col, im2row_band, Geom2d};
/// let g = Geom2d { channels: 1, size: [3, 3], kernel: [2, 2], stride: [1, 1],
///                  padding: [0, 0], dilation: [1, 1] };
/// let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
/// let mut cols = [0.0f32; 16];
/// im2col(&g, &x, &mut cols); // 4 taps × 4 output pixels
/// let mut rows = [0.0f32; 16];
/// im2row_band(&g, &x, 0..2, &mut rows, 4); // 4 output pixels × 4 taps
/// for p in 0..4 {
///     for r in 0..4 {
///         assert_eq!(rows[p * 4 + r], cols[r * 4 + p]);
///     }
/// }
/// ```
pub fn im2row_band<T: crate::Float>(
    g: &Geom2d,
    image: &[T],
    oys: Range<usize>,
    rows: &mut [T],
    ld: usize,
) {
    let [oh, ow] = g.out().expect("BUG: im2row geometry was validated");
    let ([h, w], [kh, kw], k) = (g.size, g.kernel, g.rows());
    assert_eq!(image.len(), g.channels * h * w, "BUG: im2row image");
    assert!(oys.start <= oys.end && oys.end <= oh, "BUG: im2row band");
    assert!(ld >= k, "BUG: im2row row stride");
    if k == 0 {
        return;
    }
    let ([s0, s1], [p0, p1], [d0, d1]) = (g.stride, g.padding, g.dilation);
    // The offset of each kernel row's first tap (c, i, 0) from its window's
    // top-left pixel, when the window lies inside the image; tap j of the
    // row is j·d1 further.
    let runs: Vec<usize> = (0..g.channels)
        .flat_map(|c| (0..kh).map(move |i| c * h * w + i * d0 * w))
        .collect();
    let inner = |row: &mut [T], at: &[T]| match (d1, kw) {
        (1, 3) => copy_runs::<T, 3>(row, at, &runs),
        (1, 5) => copy_runs::<T, 5>(row, at, &runs),
        (1, 7) => copy_runs::<T, 7>(row, at, &runs),
        _ => {
            for (taps, &o) in row.chunks_exact_mut(kw).zip(&runs) {
                for (j, t) in taps.iter_mut().enumerate() {
                    *t = at[o + j * d1];
                }
            }
        }
    };
    let pixels = (oys.start..oys.end).flat_map(|oy| (0..ow).map(move |ox| (oy, ox)));
    for ((oy, ox), row) in pixels.zip(rows.chunks_mut(ld)) {
        let row = &mut row[..k];
        // The window's top-left corner, in padded coordinates.
        let (y0, x0) = (oy * s0, ox * s1);
        let inside =
            y0 >= p0 && y0 + (kh - 1) * d0 < h + p0 && x0 >= p1 && x0 + (kw - 1) * d1 < w + p1;
        if inside {
            inner(row, &image[(y0 - p0) * w + x0 - p1..]);
            continue;
        }
        // A window over the padding: the taps j in jlo..jhi of each kernel
        // row read the image, the others are 0.
        let jlo = (0..kw).find(|&j| x0 + j * d1 >= p1).unwrap_or(kw);
        let jhi = (jlo..kw).find(|&j| x0 + j * d1 >= p1 + w).unwrap_or(kw);
        for (ci, taps) in row.chunks_exact_mut(kw).enumerate() {
            let (c, i) = (ci / kh, ci % kh);
            match (y0 + i * d0).checked_sub(p0).filter(|&iy| iy < h) {
                None => taps.fill(T::ZERO),
                Some(iy) => {
                    let at = c * h * w + iy * w;
                    taps[..jlo].fill(T::ZERO);
                    taps[jhi..].fill(T::ZERO);
                    for (j, t) in taps.iter_mut().enumerate().take(jhi).skip(jlo) {
                        *t = image[at + x0 + j * d1 - p1];
                    }
                }
            }
        }
    }
}

/// Fills `row` with runs of `KW` consecutive elements of `at`, the `r`-th
/// starting at `runs[r]`: a fixed-length copy, which compiles to a few moves
/// (a `memcpy` call per run of three to seven elements cost more than the
/// copy).
fn copy_runs<T: Copy, const KW: usize>(row: &mut [T], at: &[T], runs: &[usize]) {
    for (dst, &o) in row.chunks_exact_mut(KW).zip(runs) {
        let src: &[T; KW] = at[o..o + KW].try_into().expect("BUG: a run of KW");
        dst.copy_from_slice(src);
    }
}

/// Overwrites `image` (`[channels, h, w]`) with the adjoint of [`im2col`]:
/// each pixel is the sum of the `cols` entries that were read from it.
///
/// # Panics
///
/// As [`im2col`].
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::im2col::{col2im, Geom2d};
/// let g = Geom2d { channels: 1, size: [2, 3], kernel: [2, 2], stride: [1, 1],
///                  padding: [0, 0], dilation: [1, 1] };
/// let mut x = [f32::NAN; 6];
/// col2im(&g, &[1.0f32; 8], &mut x);
/// // how many windows cover each pixel
/// assert_eq!(x, [1.0, 2.0, 1.0, 1.0, 2.0, 1.0]);
/// ```
pub fn col2im<T: crate::Float>(g: &Geom2d, cols: &[T], image: &mut [T]) {
    let [oh, ow] = g.out().expect("BUG: col2im geometry was validated");
    assert_eq!(cols.len(), g.rows() * oh * ow, "BUG: col2im cols");
    col2im_strided(g, cols, oh * ow, image);
}

/// As [`col2im`], reading row `r` of the column matrix from `cols[r · ld]`
/// (`ld ≥ oh·ow`): the adjoint of [`im2col_strided`].
///
/// # Panics
///
/// When the geometry does not fit, `ld < oh·ow`, or a slice is too short.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::im2col::{col2im_strided, Geom2d};
/// let g = Geom2d { channels: 1, size: [1, 3], kernel: [1, 2], stride: [1, 1],
///                  padding: [0, 0], dilation: [1, 1] };
/// let cols = [1.0f32, 2.0, 10.0, 20.0, 3.0, 4.0, 30.0, 40.0];
/// let mut x = [f32::NAN; 3];
/// col2im_strided(&g, &cols[2..], 4, &mut x); // the second image's columns
/// assert_eq!(x, [10.0, 20.0 + 30.0, 40.0]);
/// ```
pub fn col2im_strided<T: crate::Float>(g: &Geom2d, cols: &[T], ld: usize, image: &mut [T]) {
    let [oh, ow] = g.out().expect("BUG: col2im geometry was validated");
    let w = g.size[1];
    assert_eq!(image.len(), g.channels * g.size[0] * w, "BUG: col2im image");
    assert!(ld >= oh * ow, "BUG: col2im row stride");
    image.fill(T::ZERO);
    let s1 = g.stride[1];
    g.for_each_segment(0..oh, |row, oy, base, iy, (lo, hi), ix0| {
        if let Some(iy) = iy {
            let dst = &mut image[base + iy * w..base + (iy + 1) * w];
            let start = row * ld + oy * ow;
            let src = &cols[start + lo..start + hi];
            if s1 == 1 {
                // Contiguous: a loop that vectorises (`step_by` does not).
                for (d, &v) in dst[ix0..ix0 + src.len()].iter_mut().zip(src) {
                    *d += v;
                }
            } else {
                for (d, &v) in dst[ix0..].iter_mut().step_by(s1).zip(src) {
                    *d += v;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct reference: the tap (c, i, j) of window (oy, ox), or 0 on padding.
    fn naive_im2col(g: &Geom2d, x: &[f64]) -> Vec<f64> {
        let [oh, ow] = g.out().unwrap();
        let [h, w] = g.size;
        let mut out = Vec::new();
        for c in 0..g.channels {
            for i in 0..g.kernel[0] {
                for j in 0..g.kernel[1] {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let iy = (oy * g.stride[0] + i * g.dilation[0]) as isize
                                - g.padding[0] as isize;
                            let ix = (ox * g.stride[1] + j * g.dilation[1]) as isize
                                - g.padding[1] as isize;
                            let inside =
                                iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w;
                            out.push(if inside {
                                x[c * h * w + iy as usize * w + ix as usize]
                            } else {
                                0.0
                            });
                        }
                    }
                }
            }
        }
        out
    }

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 33) as f64 / (1u64 << 31) as f64) - 0.5
    }

    #[test]
    fn out_len_follows_the_floor_formula() {
        assert_eq!(out_len(5, 3, 2, 1, 1), Some(3));
        assert_eq!(out_len(6, 3, 2, 1, 1), Some(3)); // floor(5 / 2) + 1
        assert_eq!(out_len(9, 3, 1, 0, 3), Some(3)); // dilated extent 7
        assert_eq!(out_len(0, 1, 1, 0, 1), None);
        assert_eq!(out_len(0, 1, 1, 1, 1), Some(2));
        assert_eq!(out_len(3, 0, 1, 0, 1), None);
        assert_eq!(out_len(3, 1, 0, 0, 1), None);
        assert_eq!(out_len(3, 1, 1, 0, 0), None);
    }

    #[test]
    fn im2col_and_col2im_match_naive_loops_at_awkward_sizes() {
        let mut seed = 7u64;
        let mut cases = 0;
        for c in [1, 2, 3] {
            for h in [0, 1, 2, 5, 7] {
                for w in [0, 1, 3, 4, 12] {
                    for (kh, kw) in [(1, 1), (2, 3), (3, 3), (3, 5), (1, 7)] {
                        for (s, p, d) in [
                            ([1, 1], [0, 0], [1, 1]),
                            ([1, 1], [1, 2], [1, 1]),
                            ([2, 3], [1, 2], [1, 2]),
                        ] {
                            let g = Geom2d {
                                channels: c,
                                size: [h, w],
                                kernel: [kh, kw],
                                stride: s,
                                padding: p,
                                dilation: d,
                            };
                            let Some([oh, ow]) = g.out() else { continue };
                            cases += 1;
                            let x: Vec<f64> = (0..c * h * w).map(|_| lcg(&mut seed)).collect();
                            let mut cols = vec![f64::NAN; g.rows() * oh * ow];
                            im2col(&g, &x, &mut cols);
                            assert_eq!(cols, naive_im2col(&g, &x), "{g:?}");
                            // col2im against the transpose of the naive gather.
                            let y: Vec<f64> = (0..cols.len()).map(|_| lcg(&mut seed)).collect();
                            let mut back = vec![f64::NAN; x.len()];
                            col2im(&g, &y, &mut back);
                            let mut want = vec![0.0; x.len()];
                            for (k, wk) in want.iter_mut().enumerate() {
                                let mut unit = vec![0.0; x.len()];
                                unit[k] = 1.0;
                                let a = naive_im2col(&g, &unit);
                                *wk = a.iter().zip(&y).map(|(a, b)| a * b).sum();
                            }
                            for (a, b) in back.iter().zip(&want) {
                                assert!((a - b).abs() < 1e-12, "{g:?}");
                            }
                            check_bands(&g, &x, &cols);
                        }
                    }
                }
            }
        }
        assert!(cases > 100);
    }

    /// Every band height: the bands of `im2col_band` are the column blocks
    /// of `cols`.
    fn check_bands(g: &Geom2d, x: &[f64], cols: &[f64]) {
        let [oh, ow] = g.out().unwrap();
        let l = oh * ow;
        for band in 1..=oh.max(1) {
            for oy in (0..oh).step_by(band) {
                let oys = oy..(oy + band).min(oh);
                let nb = oys.len() * ow;
                let mut part = vec![f64::NAN; g.rows() * nb];
                im2col_band(g, x, oys.clone(), &mut part, nb);
                for r in 0..g.rows() {
                    let (at, block) = (r * l + oy * ow, r * nb..(r + 1) * nb);
                    assert_eq!(part[block], cols[at..at + nb], "{g:?} band {band}");
                }
                // The transposed band, with one spare entry per row (untouched).
                let ld = g.rows() + 1;
                let mut rows = vec![f64::NAN; nb * ld];
                im2row_band(g, x, oys.clone(), &mut rows, ld);
                for p in 0..nb {
                    for r in 0..g.rows() {
                        assert_eq!(
                            rows[p * ld + r],
                            cols[r * l + oy * ow + p],
                            "{g:?} band {band}"
                        );
                    }
                    assert!(rows[p * ld + g.rows()].is_nan(), "{g:?}");
                }
            }
        }
    }

    #[test]
    fn empty_channels_write_nothing() {
        let g = Geom2d {
            channels: 0,
            size: [3, 3],
            kernel: [2, 2],
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
        };
        let mut cols: [f32; 0] = [];
        im2col(&g, &[], &mut cols);
        col2im::<f32>(&g, &[], &mut []);
    }
}
