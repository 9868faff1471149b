//! Convolution with stride 1 and few channels by direct sums, without GEMM.
//!
//! When `c_in · c_out` is small, as in the first layer of a network on
//! grey-scale images (LeNet-5's 1 → 6 channels, 5×5), the GEMMs of the
//! im2col route are thin: 6 rows, where `matrixmultiply`'s AVX-512 kernel
//! computes 16, and a depth of `t·L` (every pixel of a tile of images) that
//! both operands are packed along, after im2col has copied each pixel
//! `kh·kw` times. The weight gradient is the worst case: a 6 × 25 result
//! summed over 50,176 pixels, 71% of its time spent copying (`perf`:
//! im2row 44%, packing 27%), 1.6-1.7 ms on one thread for batch 64, where
//! these sums take 0.7-0.8 ms (`bench/conv_routes -- --split`).
//!
//! Here each product is a sum over the zero-padded image read at shifted
//! offsets, computed in blocks held in registers:
//!
//! - forward ([`forward`]): `y[o, oy, ox] = Σ_{c,i,j} w[o, c, i, j] ·
//!   xp[c, oy + i, ox + j]`, for blocks of up to 4 output channels by 8
//!   output pixels of a row: each input row segment loaded once per tap
//!   serves the 4 channels;
//! - input gradient: a stride-1 convolution's input gradient is the full
//!   correlation of the output gradient with the kernels flipped and their
//!   channels swapped: the same sums on the output gradient padded by
//!   `k − 1 − p` (so this route needs `p < k`);
//! - weight gradient: `∂w[o, c, i, j] = Σ_{images, oy, ox} g[o, oy, ox] ·
//!   xp[c, oy + i, ox + j]`, for blocks of 8 pixels of a row by the taps
//!   of a kernel row: each output-gradient segment loaded once serves
//!   `kw` taps, and the 8 lanes are summed once per image and block.
//!
//! The blocks are fixed-size arrays, which the compiler keeps in vector
//! registers. Where it applies ([`applies`]) this is the fastest route
//! measured (`bench/conv_routes`).

use crate::Float;
use crate::kernels::conv::{ConvDims, sum_parts};
use crate::kernels::par::{for_each_run, map_ranges};

/// Where this route is taken: at most [`MAX_OUT`] output channels and
/// [`MAX_PAIRS`] pairs of input and output channels, or with at most
/// [`MAX_PAIRS_FEW_OUT`] pairs when there are at most 4 output channels.
///
/// The direct sums run at the x86-64 baseline's vector width (4 lanes of
/// `f32`, no fused multiply-add), where `matrixmultiply`'s kernel has 16
/// lanes and FMA: they win only while the GEMMs' packing and their panels
/// of 16 output channels dominate. Measured with `bench/conv_routes` on the
/// Intel machine of `docs/benchmarks.md` (batch 32-64, forward and
/// backward, time against the im2col route, one thread, in
/// `results/2026-12-07-intel-direct-1-thread.md`; two threads within 0.1
/// of these): with 3×3 kernels 1 → 4 channels 0.45x, 2 → 4 0.56x, 3 → 3
/// 0.51x, 3 → 4 0.62x, 4 → 4 0.61x, 8 → 2 0.42x, 1 → 8 0.73x; with 5×5
/// 1 → 2 0.28x, 2 → 4 0.55x, 8 → 2 0.43x, 4 → 4 0.74x, 1 → 6 (LeNet-5's
/// first layer) 0.73x, 2 → 6 0.82x, 1 → 8 0.89x; but 2 → 8 0.96-1.06x,
/// 3 → 8 1.02x, 3 → 6 1.14x, 6 → 6 1.15x, 1 → 12 1.22x, 1 → 16
/// 1.14-1.51x, 6 → 16 (LeNet-5's second) 2.85x.
const MAX_OUT: usize = 8;
const MAX_PAIRS: usize = 12;
const MAX_PAIRS_FEW_OUT: usize = 16;

/// True when [`forward`] and [`backward`] can compute `d`: stride 1, no
/// dilation, one group, padding smaller than the kernel, a non-empty
/// output, and channels in and out (a non-empty image: `Route::fits`).
pub(crate) fn fits(d: &ConvDims) -> bool {
    let g = &d.image;
    g.stride == [1, 1]
        && g.dilation == [1, 1]
        && d.groups == 1
        && (0..2).all(|a| g.padding[a] < g.kernel[a])
        && g.out().is_some_and(|[oh, ow]| oh > 0 && ow > 0)
        && g.channels > 0
        && d.c_out > 0
}

/// True when [`fits`] and the channels are few enough to pay (see
/// [`MAX_OUT`]).
pub(crate) fn applies(d: &ConvDims) -> bool {
    let pairs = d.image.channels * d.c_out;
    fits(d)
        && d.c_out <= MAX_OUT
        && (pairs <= MAX_PAIRS || (d.c_out <= 4 && pairs <= MAX_PAIRS_FEW_OUT))
}

/// Zero-padded planes: `c` planes of `[h, w]` with `pad` rows and columns of
/// zeros on each side.
#[derive(Clone, Copy)]
struct Planes {
    c: usize,
    size: [usize; 2],
    pad: [usize; 2],
}

impl Planes {
    /// The input images of `d`, padded as the convolution pads them.
    fn input(d: &ConvDims) -> Planes {
        let g = &d.image;
        Planes {
            c: g.channels,
            size: g.size,
            pad: g.padding,
        }
    }

    /// `[hp, wp]`.
    fn padded(&self) -> [usize; 2] {
        [0, 1].map(|a| self.size[a] + 2 * self.pad[a])
    }

    fn len(&self) -> usize {
        let [hp, wp] = self.padded();
        self.c * hp * wp
    }

    /// A zeroed buffer for [`Planes::fill`].
    fn buffer<T: Float>(&self) -> Vec<T> {
        vec![T::ZERO; self.len()]
    }

    /// Copies `image: [c, h, w]` (`h`, `w` > 0) into the interior of `xp`
    /// (from [`Planes::buffer`]); the border stays zero.
    fn fill<T: Float>(&self, image: &[T], xp: &mut [T]) {
        let ([h, w], [p0, p1], [hp, wp]) = (self.size, self.pad, self.padded());
        for (src, dst) in image.chunks_exact(h * w).zip(xp.chunks_exact_mut(hp * wp)) {
            for (row, out) in src.chunks_exact(w).zip(dst[p0 * wp..].chunks_exact_mut(wp)) {
                out[p1..p1 + w].copy_from_slice(row);
            }
        }
    }
}

/// The kernels as taps for [`correlate`]: `[c_in, kh, kw, c_out]` (each
/// tap's output channels contiguous). With `flip`, for the input gradient:
/// each kernel rotated by 180° and the channels swapped, `[c_out, kh, kw,
/// c_in]`.
fn taps<T: Float>(w: &[T], c_out: usize, c_in: usize, [kh, kw]: [usize; 2], flip: bool) -> Vec<T> {
    let mut t = vec![T::ZERO; w.len()];
    for o in 0..c_out {
        for c in 0..c_in {
            for i in 0..kh {
                for j in 0..kw {
                    let v = w[((o * c_in + c) * kh + i) * kw + j];
                    let at = if flip {
                        (((o * kh + kh - 1 - i) * kw + kw - 1 - j) * c_in) + c
                    } else {
                        (((c * kh + i) * kw + j) * c_out) + o
                    };
                    t[at] = v;
                }
            }
        }
    }
    t
}

/// The valid correlation of one image's padded planes `xp` (`c_in` planes
/// of `[hp, wp]`) with `taps: [c_in, kh, kw, c_out]` into `y: [c_out, hp −
/// kh + 1, wp − kw + 1]`, every element written.
fn correlate<T: Float>(
    xp: &[T],
    [c_in, hp, wp]: [usize; 3],
    [kh, kw]: [usize; 2],
    taps: &[T],
    y: &mut [T],
) {
    let c_out = taps.len() / (c_in * kh * kw);
    let k = Kernel {
        xp,
        plane: hp * wp,
        wp,
        c_in,
        kernel: [kh, kw],
        taps,
        c_out,
        out: [hp + 1 - kh, wp + 1 - kw],
    };
    let mut o = 0;
    while o < c_out {
        let ob = widest(c_out - o, [4, 2, 1]);
        for oy in 0..k.out[0] {
            match ob {
                4 => k.row::<4>(o, oy, y),
                2 => k.row::<2>(o, oy, y),
                _ => k.row::<1>(o, oy, y),
            }
        }
        o += ob;
    }
}

/// The first of `sizes` (largest first, the last 1) that is at most `left`.
fn widest(left: usize, sizes: [usize; 3]) -> usize {
    sizes.into_iter().find(|&n| n <= left).unwrap_or(1)
}

/// The operands of [`correlate`].
struct Kernel<'a, T> {
    xp: &'a [T],
    plane: usize,
    wp: usize,
    c_in: usize,
    kernel: [usize; 2],
    taps: &'a [T],
    c_out: usize,
    /// `[oh, ow]`.
    out: [usize; 2],
}

impl<T: Float> Kernel<'_, T> {
    /// Output channels `o..o + O` of row `oy` into `y: [c_out, oh, ow]`,
    /// in blocks of 8, 4 and 1 pixels.
    fn row<const O: usize>(&self, o: usize, oy: usize, y: &mut [T]) {
        let ow = self.out[1];
        let mut x = 0;
        while x < ow {
            let n = widest(ow - x, [8, 4, 1]);
            let at = [o, oy, x];
            match n {
                8 => self.put(y, at, self.block::<O, 8>(at)),
                4 => self.put(y, at, self.block::<O, 4>(at)),
                _ => self.put(y, at, self.block::<O, 1>(at)),
            }
            x += n;
        }
    }

    /// Writes `block` (output channels `o..`, pixels `x..` of row `oy`)
    /// into `y: [c_out, oh, ow]`.
    fn put<const O: usize, const N: usize>(
        &self,
        y: &mut [T],
        [o, oy, x]: [usize; 3],
        block: [[T; N]; O],
    ) {
        let [oh, ow] = self.out;
        for (b, row) in block.iter().enumerate() {
            y[((o + b) * oh + oy) * ow + x..][..N].copy_from_slice(row);
        }
    }

    /// Output channels `o..o + O` at pixels `x..x + N` of row `oy`.
    #[inline(always)]
    fn block<const O: usize, const N: usize>(&self, [o, oy, x]: [usize; 3]) -> [[T; N]; O] {
        let ([kh, kw], c_out) = (self.kernel, self.c_out);
        let mut acc = [[T::ZERO; N]; O];
        for c in 0..self.c_in {
            for i in 0..kh {
                let row = &self.xp[c * self.plane + (oy + i) * self.wp + x..][..N + kw - 1];
                let taps = &self.taps[(c * kh + i) * kw * c_out + o..];
                // The common kernel widths with the taps unrolled.
                match kw {
                    3 => row_taps::<T, O, N, 3>(&mut acc, row, taps, c_out),
                    5 => row_taps::<T, O, N, 5>(&mut acc, row, taps, c_out),
                    _ => {
                        for j in 0..kw {
                            row_taps::<T, O, N, 1>(&mut acc, &row[j..], &taps[j * c_out..], c_out);
                        }
                    }
                }
            }
        }
        acc
    }
}

/// Adds taps `0..J` of one kernel row to `acc`: `acc[o][l]` gains
/// `taps[j·c_out + o] · row[l + j]` for each tap `j`.
#[inline(always)]
fn row_taps<T: Float, const O: usize, const N: usize, const J: usize>(
    acc: &mut [[T; N]; O],
    row: &[T],
    taps: &[T],
    c_out: usize,
) {
    let row = &row[..N + J - 1];
    for j in 0..J {
        let xs: &[T; N] = row[j..j + N].try_into().expect("N elements");
        let ws: &[T] = &taps[j * c_out..][..O];
        for (a, &wv) in acc.iter_mut().zip(ws) {
            for (s, &xv) in a.iter_mut().zip(xs) {
                *s += wv * xv;
            }
        }
    }
}

/// [`crate::kernels::conv::forward`] for geometries where [`fits`].
pub(crate) fn forward<T: Float>(d: &ConvDims, x: &[T], w: &[T], y: &mut [T]) {
    let g = &d.image;
    let taps = taps(w, d.c_out, g.channels, g.kernel, false);
    correlate_images(d, Planes::input(d), &taps, x, y);
}

/// Each image of `src` (`planes.c` planes of `planes.size`) padded and
/// correlated with `taps` ([`correlate`]) into its image of `dst`.
fn correlate_images<T: Float>(d: &ConvDims, planes: Planes, taps: &[T], src: &[T], dst: &mut [T]) {
    let ([h, w], [hp, wp]) = (planes.size, planes.padded());
    if dst.is_empty() {
        return;
    }
    let (in_len, out_len) = (planes.c * h * w, dst.len() / d.batch);
    let work = d.c_out * d.k() * d.l();
    for_each_run(dst, out_len, work, |first, outs| {
        let mut xp = planes.buffer();
        for (b, out) in outs.chunks_exact_mut(out_len).enumerate() {
            planes.fill(&src[(first + b) * in_len..][..in_len], &mut xp);
            correlate(&xp, [planes.c, hp, wp], d.image.kernel, taps, out);
        }
    });
}

/// The gradients of [`forward`] with respect to its input (into `grad_x`)
/// and its weights (into `grad_w`), whichever are given, for geometries
/// where [`fits`]; every element of each is written.
pub(crate) fn backward<T: Float>(
    d: &ConvDims,
    (x, w, grad_out): (&[T], &[T], &[T]),
    grad_x: Option<&mut [T]>,
    grad_w: Option<&mut [T]>,
) {
    if let Some(gx) = grad_x {
        grad_input(d, w, grad_out, gx);
    }
    if let Some(gw) = grad_w {
        grad_weight(d, x, grad_out, gw);
    }
}

/// The input gradient: the output gradient padded by `k − 1 − p`,
/// correlated with the flipped kernels.
fn grad_input<T: Float>(d: &ConvDims, w: &[T], grad_out: &[T], grad_x: &mut [T]) {
    let g = &d.image;
    let planes = Planes {
        c: d.c_out,
        size: g.out().expect("BUG: conv geometry was validated"),
        pad: [0, 1].map(|a| g.kernel[a] - 1 - g.padding[a]),
    };
    let taps = taps(w, d.c_out, g.channels, g.kernel, true);
    correlate_images(d, planes, &taps, grad_out, grad_x);
}

/// The weight gradient, summed over the images (one share per thread).
fn grad_weight<T: Float>(d: &ConvDims, x: &[T], grad_out: &[T], grad_w: &mut [T]) {
    let planes = Planes::input(d);
    let (in_len, out_len) = (d.image_len(), d.c_out * d.l());
    let parts = map_ranges(d.batch, d.c_out * d.k() * d.l(), |range| {
        let mut xp = planes.buffer();
        let mut part = vec![T::ZERO; grad_w.len()];
        for b in range {
            planes.fill(&x[b * in_len..][..in_len], &mut xp);
            image_weight_grad(d, &xp, &grad_out[b * out_len..][..out_len], &mut part);
        }
        part
    });
    sum_parts(parts, grad_w);
}

/// Adds one image's weight gradient to `part: [c_out, c_in, kh, kw]`, from
/// its padded planes `xp` and its output gradient `go: [c_out, oh, ow]`.
fn image_weight_grad<T: Float>(d: &ConvDims, xp: &[T], go: &[T], part: &mut [T]) {
    let g = &d.image;
    let ([kh, kw], [oh, ow]) = (g.kernel, g.out().expect("BUG: validated"));
    let [hp, wp] = Planes::input(d).padded();
    let plane = hp * wp;
    for o in 0..d.c_out {
        let gp = &go[o * oh * ow..][..oh * ow];
        for c in 0..g.channels {
            for i in 0..kh {
                let rows = Rows {
                    g: gp,
                    ow,
                    x: &xp[c * plane + i * wp..],
                    wp,
                    oh,
                };
                let taps = &mut part[((o * g.channels + c) * kh + i) * kw..][..kw];
                match kw {
                    3 => rows.taps::<3>(taps),
                    5 => rows.taps::<5>(taps),
                    _ => {
                        // One tap at a time, each from the rows shifted by j.
                        for (j, t) in taps.iter_mut().enumerate() {
                            let shifted = Rows {
                                x: &rows.x[j..],
                                ..rows
                            };
                            shifted.taps::<1>(std::slice::from_mut(t));
                        }
                    }
                }
            }
        }
    }
}

/// One output channel's gradient `g: [oh, ow]` against the padded input
/// plane `x` read from kernel row `i` (rows `wp` apart).
#[derive(Clone, Copy)]
struct Rows<'a, T> {
    g: &'a [T],
    ow: usize,
    x: &'a [T],
    wp: usize,
    oh: usize,
}

impl<T: Float> Rows<'_, T> {
    /// Adds `Σ_{oy, ox} g[oy, ox] · x[oy, ox + j]` to `taps[j]`, `j < J`,
    /// in blocks of 8, 4 and 1 pixels.
    fn taps<const J: usize>(&self, taps: &mut [T]) {
        let mut x = 0;
        while x < self.ow {
            let n = widest(self.ow - x, [8, 4, 1]);
            let sums: [T; J] = match n {
                8 => lanes(self.block::<8, J>(x)),
                4 => lanes(self.block::<4, J>(x)),
                _ => lanes(self.block::<1, J>(x)),
            };
            for (t, s) in taps.iter_mut().zip(sums) {
                *t += s;
            }
            x += n;
        }
    }

    /// Pixels `x..x + N` of every row, for taps `0..J`.
    #[inline(always)]
    fn block<const N: usize, const J: usize>(&self, x: usize) -> [[T; N]; J] {
        let mut acc = [[T::ZERO; N]; J];
        for r in 0..self.oh {
            let gs: &[T; N] = self.g[r * self.ow + x..][..N]
                .try_into()
                .expect("N elements");
            let row = &self.x[r * self.wp + x..][..N + J - 1];
            for (j, a) in acc.iter_mut().enumerate() {
                let xs: &[T; N] = row[j..j + N].try_into().expect("N elements");
                for ((s, &gv), &xv) in a.iter_mut().zip(gs).zip(xs) {
                    *s += gv * xv;
                }
            }
        }
        acc
    }
}

/// The sum of each row's lanes.
fn lanes<T: Float, const N: usize, const J: usize>(block: [[T; N]; J]) -> [T; J] {
    block.map(|lanes| lanes.into_iter().fold(T::ZERO, |s, v| s + v))
}
