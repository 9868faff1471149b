//! The max-pooling loop: the position of the maximum of every window.
//!
//! Windows are laid out as in [`im2col`](super::im2col) (zero-padded input,
//! stride, dilation), but padding is never a candidate: the maximum is taken
//! over the real pixels of the window only. Ties go to the first maximum in
//! row-major order within the window; a NaN beats every number (the first NaN
//! of the window wins), so NaN propagates.

use super::im2col::Geom2d;
use super::par::for_each_run;
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
    // The real (non-padding) taps of window `o` along axis `a` are
    // consecutive in the tap index: `(first input index, how many)`,
    // computed once per output row and column rather than per window and
    // channel.
    let span = |a: usize, o: usize| -> (usize, usize) {
        let (len, d) = (g.size[a], g.dilation[a]);
        let start = o * g.stride[a];
        let mut first = None;
        let mut count = 0;
        for k in 0..g.kernel[a] {
            if let Some(i) = (start + k * d)
                .checked_sub(g.padding[a])
                .filter(|&i| i < len)
            {
                first.get_or_insert(i);
                count += 1;
            }
        }
        let first = first.expect("BUG: a pooling window lies on the padding only");
        (first, count)
    };
    let rows: Vec<(usize, usize)> = (0..oh).map(|oy| span(0, oy)).collect();
    let cols: Vec<(usize, usize)> = (0..ow).map(|ox| span(1, ox)).collect();
    let [dy, dx] = g.dilation;
    let mut out = vec![0usize; g.channels * oh * ow];
    if out.is_empty() {
        return out;
    }
    // Planes are independent: large inputs split them over threads. A tap
    // (a load, a compare and two selects) costs about as much as 32 of
    // GEMM's multiply-adds, the unit of `for_each_run`'s threshold.
    let taps = g.kernel[0] * g.kernel[1];
    for_each_run(&mut out, oh * ow, oh * ow * taps * 32, |first, run| {
        for (j, dst) in run.chunks_mut(oh * ow).enumerate() {
            let base = (first + j) * h * w;
            let plane = &image[base..base + h * w];
            let mut dst = dst.iter_mut();
            let mut push = |k: usize| *dst.next().expect("BUG: one index per window") = base + k;
            for &(y0, ny) in &rows {
                for &(x0, nx) in &cols {
                    if (ny, nx, dy, dx) == (2, 2, 1, 1) {
                        // The common 2×2 window, unrolled: four taps in
                        // row-major order, the same rule as the loop below.
                        let k = y0 * w + x0;
                        let (a, b) = (
                            first_max(plane, k, k + 1),
                            first_max(plane, k + w, k + w + 1),
                        );
                        push(first_max(plane, a, b));
                        continue;
                    }
                    let mut best_k = y0 * w + x0;
                    let mut best = plane[best_k];
                    for a in 0..ny {
                        let row = (y0 + a * dy) * w + x0;
                        for b in 0..nx {
                            let k = row + b * dx;
                            let v = plane[k];
                            // Selects, not branches: which tap wins is data,
                            // and a mispredicted branch per tap cost more
                            // than the whole comparison.
                            let take = beats(v, best);
                            best_k = if take { k } else { best_k };
                            best = if take { v } else { best };
                        }
                    }
                    push(best_k);
                }
            }
        }
    });
    out
}

/// True when a later tap `v` replaces the best so far: strictly greater, or
/// a NaN where the best is a number (so ties keep the first maximum and the
/// first NaN is never replaced).
///
/// `!(v <= best)` holds when `v > best` or either is a NaN; `!best.is_nan()`
/// then keeps a NaN best. Both halves are always evaluated (`&`, not `&&`),
/// so the rule compiles to two compares and a select: as branches it was
/// mispredicted on about every other window of real data, which cost more
/// than the rest of the pooling together.
#[inline]
#[allow(clippy::neg_cmp_op_on_partial_ord)] // the NaN case is the point
fn beats<T: Float>(v: T, best: T) -> bool {
    !(v <= best) & !best.is_nan()
}

/// Of the taps `i` before `j`, the one that wins under [`beats`].
#[inline]
fn first_max<T: Float>(plane: &[T], i: usize, j: usize) -> usize {
    if beats(plane[j], plane[i]) { j } else { i }
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
    fn planes_split_over_threads_give_each_window_its_own_maximum() {
        // 256 planes of 28 × 28: enough work to split over two threads.
        let g = Geom2d {
            channels: 256,
            ..geom([28, 28], [2, 2], [2, 2], [0, 0])
        };
        let x: Vec<f32> = (0..256 * 28 * 28)
            .map(|i| ((i * 7919) % 100_003) as f32)
            .collect();
        let got = max_pool_argmax(&g, &x);
        assert_eq!(got.len(), 256 * 14 * 14);
        for (n, &k) in got.iter().enumerate() {
            let (c, oy, ox) = (n / 196, n / 14 % 14, n % 14);
            let taps = [0, 1, 28, 29].map(|d| c * 784 + 2 * oy * 28 + 2 * ox + d);
            let want = *taps
                .iter()
                .max_by(|&&a, &&b| x[a].total_cmp(&x[b]))
                .unwrap();
            assert_eq!(k, want, "window {n}");
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
                for (k, s, p, d) in [
                    ([1, 1], [1, 1], [0, 0], [1, 1]),
                    ([2, 2], [2, 2], [0, 0], [1, 1]),
                    ([2, 3], [1, 2], [1, 1], [1, 1]),
                    ([3, 2], [3, 1], [1, 0], [1, 1]),
                    // Dilated windows (no padding: a dilated window could
                    // otherwise lie on the padding only).
                    ([2, 3], [1, 2], [0, 0], [2, 1]),
                    ([3, 2], [2, 1], [0, 0], [1, 3]),
                ] {
                    let g = Geom2d {
                        channels: 2,
                        dilation: d,
                        ..geom([h, w], k, s, p)
                    };
                    let Some([oh, ow]) = g.out() else { continue };
                    let x: Vec<f64> = (0..2 * h * w)
                        .map(|_| {
                            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                            // Many ties, and a NaN now and then.
                            match (seed >> 40) % 8 {
                                7 => f64::NAN,
                                v => v as f64,
                            }
                        })
                        .collect();
                    let got = max_pool_argmax(&g, &x);
                    for c in 0..2 {
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let mut best: Option<usize> = None;
                                for i in 0..k[0] {
                                    for j in 0..k[1] {
                                        let iy = (oy * s[0] + i * d[0]) as isize - p[0] as isize;
                                        let ix = (ox * s[1] + j * d[1]) as isize - p[1] as isize;
                                        if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= w
                                        {
                                            continue;
                                        }
                                        let idx = c * h * w + iy as usize * w + ix as usize;
                                        // First maximum; the first NaN beats all.
                                        let better = |b: usize| {
                                            !x[b].is_nan() && (x[idx].is_nan() || x[idx] > x[b])
                                        };
                                        if best.is_none_or(better) {
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
