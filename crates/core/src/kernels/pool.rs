//! The max-pooling loop: the position of the maximum of every window.
//!
//! Windows are laid out as in [`im2col`](super::im2col) (zero-padded input,
//! stride, dilation), but padding is never a candidate: the maximum is taken
//! over the real pixels of the window only. Ties go to the first maximum in
//! row-major order within the window; a NaN beats every number (the first NaN
//! of the window wins), so NaN propagates.

use super::im2col::Geom2d;
use crate::Float;

/// Returns, for each of the `channels` planes of `image` (`[channels, h, w]`)
/// and each window `(oy, ox)`, the flat index into `image` of the window's
/// maximum, in `[channels, oh, ow]` row-major order.
///
/// Every window must hold at least one real pixel (true when `padding ≤
/// kernel / 2` along each axis, as the pooling ops require).
///
/// # Panics
///
/// When the geometry does not fit, `image` has the wrong length or a window
/// lies entirely on the padding.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::{im2col::Geom2d, pool::max_pool_argmax};
/// let g = Geom2d { channels: 1, size: [1, 4], kernel: [1, 2], stride: [1, 2],
///                  padding: [0, 0], dilation: [1, 1] };
/// assert_eq!(max_pool_argmax(&g, &[1.0f32, 3.0, 5.0, 5.0]), vec![1, 2]);
/// ```
pub fn max_pool_argmax<T: Float>(g: &Geom2d, image: &[T]) -> Vec<usize> {
    let [oh, ow] = g.out().expect("BUG: pool geometry was validated");
    let [h, w] = g.size;
    assert_eq!(image.len(), g.channels * h * w, "BUG: pool image");
    let tap = |o: usize, k: usize, a: usize, len: usize| {
        (o * g.stride[a] + k * g.dilation[a])
            .checked_sub(g.padding[a])
            .filter(|&v| v < len)
    };
    // The input row (column) of every tap, computed once rather than per
    // window and channel: `None` on the padding.
    let [kh, kw] = g.kernel;
    let rows: Vec<Option<usize>> = (0..oh * kh).map(|t| tap(t / kh, t % kh, 0, h)).collect();
    let cols: Vec<Option<usize>> = (0..ow * kw).map(|t| tap(t / kw, t % kw, 1, w)).collect();
    let mut out = Vec::with_capacity(g.channels * oh * ow);
    for c in 0..g.channels {
        let base = c * h * w;
        let plane = &image[base..base + h * w];
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best: Option<(usize, T)> = None;
                for iy in rows[oy * kh..(oy + 1) * kh].iter().flatten() {
                    for ix in cols[ox * kw..(ox + 1) * kw].iter().flatten() {
                        let k = iy * w + ix;
                        let v = plane[k];
                        best = match best {
                            Some((_, b)) if b.is_nan() || !(v.is_nan() || v > b) => best,
                            _ => Some((k, v)),
                        };
                    }
                }
                let (k, _) = best.expect("BUG: a pooling window lies on the padding only");
                out.push(base + k);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(
        size: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Geom2d {
        Geom2d {
            channels: 1,
            size,
            kernel,
            stride,
            padding,
            dilation: [1, 1],
        }
    }

    #[test]
    fn ties_go_to_the_first_maximum_in_row_major_order() {
        let g = geom([2, 2], [2, 2], [1, 1], [0, 0]);
        assert_eq!(max_pool_argmax(&g, &[1.0f64, 4.0, 4.0, 4.0]), vec![1]);
        assert_eq!(max_pool_argmax(&g, &[2.0f64; 4]), vec![0]);
    }

    #[test]
    fn nan_wins_the_window() {
        let g = geom([1, 4], [1, 4], [1, 1], [0, 0]);
        assert_eq!(
            max_pool_argmax(&g, &[1.0f64, f64::NAN, 9.0, f64::NAN]),
            vec![1]
        );
    }

    #[test]
    fn padding_is_never_the_maximum() {
        let g = geom([2, 2], [2, 2], [2, 2], [1, 1]);
        assert_eq!(
            max_pool_argmax(&g, &[-1.0f64, -2.0, -3.0, -4.0]),
            vec![0, 1, 2, 3]
        );
    }

    #[test]
    fn argmax_matches_naive_loops_at_awkward_sizes() {
        let mut seed = 3u64;
        for h in 1..=9 {
            for w in [1, 2, 5, 12] {
                for (k, s, p) in [
                    ([1, 1], [1, 1], [0, 0]),
                    ([2, 3], [1, 2], [1, 1]),
                    ([3, 2], [3, 1], [1, 0]),
                ] {
                    let g = Geom2d {
                        channels: 2,
                        ..geom([h, w], k, s, p)
                    };
                    let Some([oh, ow]) = g.out() else { continue };
                    let x: Vec<f64> = (0..2 * h * w)
                        .map(|_| {
                            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                            ((seed >> 40) % 7) as f64 // many ties
                        })
                        .collect();
                    let got = max_pool_argmax(&g, &x);
                    for c in 0..2 {
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let mut best: Option<usize> = None;
                                for i in 0..k[0] {
                                    for j in 0..k[1] {
                                        let iy = (oy * s[0] + i) as isize - p[0] as isize;
                                        let ix = (ox * s[1] + j) as isize - p[1] as isize;
                                        if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= w
                                        {
                                            continue;
                                        }
                                        let idx = c * h * w + iy as usize * w + ix as usize;
                                        if best.is_none_or(|b| x[idx] > x[b]) {
                                            best = Some(idx);
                                        }
                                    }
                                }
                                assert_eq!(got[(c * oh + oy) * ow + ox], best.unwrap(), "{g:?}");
                            }
                        }
                    }
                }
            }
        }
    }
}
