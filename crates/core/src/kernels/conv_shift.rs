//! Convolution with stride 1 as a sum of shifted GEMMs, without im2col.
//!
//! With stride 1, the column-matrix row of tap `(ky, kx)` and input channel
//! `c` is channel `c` of the zero-padded image read from offset
//! `off = ky·dh·wp + kx·dw` (`wp` the padded width), provided the output is
//! computed on rows as wide as the padded image: output pixel `(oy, ox)` at
//! *wide* index `j = oy·wp + ox`, the columns `ox ≥ ow` computed and
//! discarded. For one tap, the `[c_in/g, n]` block of columns
//! (`n = (oh - 1)·wp + ow`) is then a plain strided view of the padded image
//! (row stride `hp·wp`, column stride 1), so that per group `g`:
//!
//! - forward: `Y_g = Σ_taps W_{g,tap} · Xpad_{g}[:, off..]`, into a wide
//!   output whose valid columns are then copied into `y`;
//! - input gradient: `Gxpad_{g}[:, off..] += W_{g,tap}ᵀ · G_g` for every
//!   tap (accumulating into overlapping windows of the padded gradient,
//!   one GEMM after another), with `G` laid out wide and zero in the
//!   discarded columns; then the interior of `Gxpad` is the input gradient;
//! - weight gradient: `grad_W_{g,tap} = Σ_images G_g · Xpadᵀ[off.., g]`, with
//!   the padded image transposed once per image (pixel-major, channels
//!   contiguous), so that `matrixmultiply` packs it in panels, and with
//!   one group the taps of a kernel row in one GEMM.
//!
//! 3×3 kernels with one group and enough channels take Winograd's route
//! instead (`kernels::conv_winograd`), W5 among them; the W5 figures here
//! were measured before it existed.
//!
//! Nothing the size of the column matrix (`kh·kw` times the image) is ever
//! built: W5's `[32, 64, 32, 32]` by `[64, 64, 3, 3]` spent a fifth of its
//! forward pass writing and re-reading columns. The price: `kh·kw` GEMMs of
//! depth `c_in/g` instead of one of depth `c_in/g·kh·kw`, and `ow/wp` of
//! the products' columns discarded (32 of 34 kept for W5). That pays only
//! with channel counts that fill the GEMM kernel's panels ([`applies`]).

use crate::Float;
use crate::kernels::conv::ConvDims;
use crate::kernels::gemm::MatRef;
use crate::kernels::im2col::Geom2d;
use crate::kernels::par::{for_each_run, map_ranges, map_runs};
use std::ops::Range;

/// The shifted GEMMs are used when the input and the output channels per
/// group are both multiples of this (and at least this). Measured on the
/// Intel machine of `docs/benchmarks.md` (batch 32, 3×3, padding 1, one
/// thread; forward + backward against im2col): 16 → 16 channels −21%,
/// 32 → 32 −17%, 48 → 48 −15%, 64 → 64 (W5) −8-12%; but 4, 8, 12, 20 and
/// 24 channels lose by 12-70%, 40 is even, and of the mixed pairs 16 → 20
/// and 20 → 32 lose while 20 → 16 and 32 → 20 win. `matrixmultiply`'s
/// AVX-512 kernels work on 16 rows or columns at a time, and nine GEMMs
/// pay for a partial panel nine times where im2col's one GEMM pays once.
const CHANNEL_STEP: usize = 16;

/// The most elements of padded image plus wide output per image (4 MiB of
/// `f32`, twice a core's L2 here): beyond, the banded im2col keeps its
/// working set in cache and this would not (reasoned, not measured: the
/// largest image measured is W5's, 278 Ki elements).
const MAX_WORKING_SET: usize = 1 << 20;

/// True when [`forward`] and [`backward`] can compute `d`: stride 1, a
/// non-empty output, and input channels (a non-empty image:
/// `Route::fits`).
pub(crate) fn fits(d: &ConvDims) -> bool {
    d.image.stride == [1, 1]
        && d.image.out().is_some_and(|[oh, ow]| oh > 0 && ow > 0)
        && d.c_out > 0
        && d.image.channels > 0
}

/// True when [`forward`] and [`backward`] [`fits`] `d` and pay: input and
/// output channels per group multiples of [`CHANNEL_STEP`], and an image
/// small enough to work on whole.
pub(crate) fn applies(d: &ConvDims) -> bool {
    let g = &d.image;
    let plane = (g.size[0] + 2 * g.padding[0]) * (g.size[1] + 2 * g.padding[1]);
    fits(d)
        && [g.channels / d.groups, d.c_out / d.groups]
            .iter()
            .all(|&c| c >= CHANNEL_STEP && c.is_multiple_of(CHANNEL_STEP))
        && (g.channels + d.c_out).saturating_mul(plane) <= MAX_WORKING_SET
}

/// The layout of one image's padded planes and wide output.
struct Layout {
    /// The window over one image (channels, size, padding, ...).
    image: Geom2d,
    /// Input channels per group.
    c_in_g: usize,
    /// Output channels per group.
    per_group: usize,
    /// `[oh, ow]`.
    out: [usize; 2],
    /// Padded width, and padded plane `hp·wp`.
    wp: usize,
    plane: usize,
    /// Wide columns per output channel: `(oh - 1)·wp + ow`.
    n: usize,
    /// Offset of each tap into a padded plane, tap `ky·kw + kx`.
    taps: Vec<usize>,
}

impl Layout {
    fn new(d: &ConvDims) -> Layout {
        let g = &d.image;
        let out = g.out().expect("BUG: conv geometry was validated");
        let wp = g.size[1] + 2 * g.padding[1];
        let plane = (g.size[0] + 2 * g.padding[0]) * wp;
        let mut taps = Vec::with_capacity(g.kernel[0] * g.kernel[1]);
        for ky in 0..g.kernel[0] {
            for kx in 0..g.kernel[1] {
                taps.push(ky * g.dilation[0] * wp + kx * g.dilation[1]);
            }
        }
        Layout {
            image: *g,
            c_in_g: g.channels / d.groups,
            per_group: d.c_out / d.groups,
            out,
            wp,
            plane,
            n: (out[0] - 1) * wp + out[1],
            taps,
        }
    }

    /// Index in a padded plane of image pixel `(iy, 0)`.
    fn padded_row(&self, iy: usize) -> usize {
        let [ph, pw] = self.image.padding;
        (iy + ph) * self.wp + pw
    }

    /// Copies `image: [c_in, h, w]` into the interior of `xp: [c_in, hp,
    /// wp]`, whose border stays as it is (zero).
    fn pad<T: Float>(&self, image: &[T], xp: &mut [T]) {
        let [h, w] = self.image.size;
        for (src, dst) in image
            .chunks_exact(h * w)
            .zip(xp.chunks_exact_mut(self.plane))
        {
            for (iy, row) in src.chunks_exact(w).enumerate() {
                dst[self.padded_row(iy)..][..w].copy_from_slice(row);
            }
        }
    }

    /// Like [`Layout::pad`], transposed: `xpt: [hp·wp, c_in]`, each padded
    /// pixel's channels contiguous.
    fn pad_transposed<T: Float>(&self, image: &[T], xpt: &mut [T]) {
        let ([h, w], c_in) = (self.image.size, self.image.channels);
        for iy in 0..h {
            let row = self.padded_row(iy);
            for ix in 0..w {
                let dst = &mut xpt[(row + ix) * c_in..][..c_in];
                for (c, d) in dst.iter_mut().enumerate() {
                    *d = image[(c * h + iy) * w + ix];
                }
            }
        }
    }

    /// Tap `t` of group `g` of [`weights_by_tap`]'s result: `W_{g,t}`
    /// (`[per_group, c_in/g]`), or its transpose.
    fn weight<'a, T>(&self, wt: &'a [T], g: usize, t: usize, transposed: bool) -> MatRef<'a, T> {
        let (row_stride, col_stride) = if transposed {
            (self.per_group, 1)
        } else {
            (1, self.per_group)
        };
        MatRef {
            data: wt,
            offset: (g * self.taps.len() + t) * self.c_in_g * self.per_group,
            row_stride,
            col_stride,
        }
    }
}

/// The weights `[c_out, c_in/g, kh, kw]` regrouped per group and tap,
/// `[groups, taps, c_in/g, per_group]`: `W_{g,t}` column-major (which
/// `matrixmultiply` packs in panels), its transpose row-major.
fn weights_by_tap<T: Float>(w: &[T], lay: &Layout) -> Vec<T> {
    let (taps, cg, pg) = (lay.taps.len(), lay.c_in_g, lay.per_group);
    let mut wt = vec![T::ZERO; w.len()];
    for (o, w_o) in w.chunks_exact(cg * taps).enumerate() {
        let (g, co) = (o / pg, o % pg);
        for (c, w_oc) in w_o.chunks_exact(taps).enumerate() {
            for (t, &v) in w_oc.iter().enumerate() {
                wt[((g * taps + t) * cg + c) * pg + co] = v;
            }
        }
    }
    wt
}

/// Group `g`'s channels of a `[c, plane]` buffer from offset `off` of each
/// plane: `[c/g, n]` at row stride `plane`.
fn planes<T>(data: &[T], first: usize, plane: usize, off: usize) -> MatRef<'_, T> {
    MatRef {
        data,
        offset: first * plane + off,
        row_stride: plane,
        col_stride: 1,
    }
}

/// [`crate::kernels::conv::forward`] for geometries where [`applies`].
pub(crate) fn forward<T: Float>(d: &ConvDims, x: &[T], w: &[T], y: &mut [T]) {
    let lay = Layout::new(d);
    let wt = weights_by_tap(w, &lay);
    let ([oh, ow], n, pg) = (lay.out, lay.n, lay.per_group);
    let (len, l) = (d.image_len(), d.l());
    let work = d.c_out * lay.c_in_g * lay.taps.len() * n;
    for_each_run(y, d.c_out * l, work, |first, ys| {
        let mut xp = vec![T::ZERO; d.image.channels * lay.plane];
        let mut wide = vec![T::ZERO; d.c_out * n];
        for (j, y) in ys.chunks_exact_mut(d.c_out * l).enumerate() {
            lay.pad(&x[(first + j) * len..][..len], &mut xp);
            for g in 0..d.groups {
                let out = &mut wide[g * pg * n..];
                for (t, &off) in lay.taps.iter().enumerate() {
                    let cols = planes(&xp, g * lay.c_in_g, lay.plane, off);
                    let w_gt = lay.weight(&wt, g, t, false);
                    T::gemm_strided(pg, lay.c_in_g, n, w_gt, cols, out, n, t > 0);
                }
            }
            for (dst, src) in y.chunks_exact_mut(l).zip(wide.chunks_exact(n)) {
                for oy in 0..oh {
                    dst[oy * ow..][..ow].copy_from_slice(&src[oy * lay.wp..][..ow]);
                }
            }
        }
    });
}

/// Copies `grad_out: [c_out, oh, ow]` into the valid columns of `wide:
/// [c_out, n]` (the others stay zero).
fn widen<T: Float>(lay: &Layout, grad_out: &[T], wide: &mut [T]) {
    let [oh, ow] = lay.out;
    for (src, dst) in grad_out
        .chunks_exact(oh * ow)
        .zip(wide.chunks_exact_mut(lay.n))
    {
        for oy in 0..oh {
            dst[oy * lay.wp..][..ow].copy_from_slice(&src[oy * ow..][..ow]);
        }
    }
}

/// The gradients of [`forward`] with respect to its input (into `grad_x`)
/// and its weights (into `grad_w`), whichever are given, from `(x, w,
/// grad_out)`, for geometries where [`applies`]; every element of each is
/// written.
///
/// Both are computed in one pass over the images, so that each image's
/// output gradient is laid out wide once and is still in cache for the
/// second product (W5: one copy pass of the 8 MiB gradient fewer).
pub(crate) fn backward<T: Float>(
    d: &ConvDims,
    (x, w, grad_out): (&[T], &[T], &[T]),
    grad_x: Option<&mut [T]>,
    grad_w: Option<&mut [T]>,
) {
    let lay = Layout::new(d);
    let pass = Pass {
        d,
        x,
        grad_out,
        wt: grad_x.as_ref().map(|_| weights_by_tap(w, &lay)),
        weight_grad: grad_w.is_some(),
        lay,
    };
    let products = usize::from(pass.wt.is_some()) + usize::from(pass.weight_grad);
    let work = products * d.c_out * pass.lay.c_in_g * pass.lay.taps.len() * pass.lay.n;
    let len = d.image_len();
    let parts = match grad_x {
        Some(gx) => map_runs(gx, len, work, |first, xs| {
            pass.images(first..first + xs.len() / len, Some(xs))
        }),
        None => map_ranges(d.batch, work, |range| pass.images(range, None)),
    };
    if let Some(gw) = grad_w {
        pass.sum_weight_parts(parts.into_iter().flatten(), gw);
    }
}

/// What one backward pass reads, shared by its threads.
struct Pass<'a, T> {
    d: &'a ConvDims,
    lay: Layout,
    x: &'a [T],
    grad_out: &'a [T],
    /// [`weights_by_tap`], when the input gradient is wanted.
    wt: Option<Vec<T>>,
    /// Whether the weight gradient is wanted.
    weight_grad: bool,
}

impl<T: Float> Pass<'_, T> {
    /// Taps per weight-gradient GEMM: with one group and no horizontal
    /// dilation, the taps of one kernel row are consecutive pixels, whose
    /// channels lie side by side in the transposed padded image: one GEMM
    /// per kernel row (`kw · c_in` columns) instead of one per tap, so that
    /// `G` is packed `kh` times per image instead of `kh · kw` (W5: 3
    /// instead of 9).
    fn run(&self) -> usize {
        if self.d.groups == 1 && self.d.image.dilation[1] == 1 {
            self.d.image.kernel[1]
        } else {
            1
        }
    }

    /// For the images `range`: writes their input gradients into `gx`
    /// (their `[c_in, h, w]` images one after another) when given, and
    /// returns their share of the weight gradient, laid out `[groups,
    /// taps / run, per_group, run, c_in/g]`, when it is wanted.
    fn images(&self, range: Range<usize>, mut gx: Option<&mut [T]>) -> Option<Vec<T>> {
        let (d, lay) = (self.d, &self.lay);
        let (len, l) = (d.image_len(), d.l());
        let mut wide = vec![T::ZERO; d.c_out * lay.n];
        let mut gxp = vec![T::ZERO; gx.as_ref().map_or(0, |_| d.image.channels * lay.plane)];
        let xpt_len = if self.weight_grad {
            lay.plane * d.image.channels
        } else {
            0
        };
        let mut xpt = vec![T::ZERO; xpt_len];
        let mut acc = self.weight_grad.then(|| vec![T::ZERO; d.c_out * d.k()]);
        for (j, b) in range.enumerate() {
            let go = &self.grad_out[b * d.c_out * l..][..d.c_out * l];
            widen(lay, go, &mut wide);
            if let (Some(gx), Some(wt)) = (gx.as_deref_mut(), &self.wt) {
                self.input_image(wt, &wide, &mut gxp, &mut gx[j * len..][..len]);
            }
            if let Some(acc) = &mut acc {
                self.weight_image(&self.x[b * len..][..len], &wide, &mut xpt, acc);
            }
        }
        acc
    }

    /// One image's input gradient `gx` from its wide output gradient:
    /// `Gxpad_{g}[:, off..] += W_{g,tap}ᵀ · G_g` for every tap, then the
    /// interior of `Gxpad` (`gxp`, any contents on entry).
    fn input_image(&self, wt: &[T], wide: &[T], gxp: &mut [T], gx: &mut [T]) {
        let (d, lay) = (self.d, &self.lay);
        let ([h, w], n, pg) = (d.image.size, lay.n, lay.per_group);
        // The first tap (offset 0) writes columns `..n` of each padded
        // plane instead of adding to them; only the rest needs clearing
        // first (W5: 70 of 1,156 elements per plane).
        debug_assert_eq!(lay.taps.first(), Some(&0));
        for plane in gxp.chunks_exact_mut(lay.plane) {
            plane[n..].fill(T::ZERO);
        }
        for g in 0..d.groups {
            let go_g = planes(wide, g * pg, n, 0);
            for (t, &off) in lay.taps.iter().enumerate() {
                let out = &mut gxp[g * lay.c_in_g * lay.plane + off..];
                let w_g = lay.weight(wt, g, t, true);
                T::gemm_strided(lay.c_in_g, pg, n, w_g, go_g, out, lay.plane, t > 0);
            }
        }
        for (dst, src) in gx.chunks_exact_mut(h * w).zip(gxp.chunks_exact(lay.plane)) {
            for iy in 0..h {
                dst[iy * w..][..w].copy_from_slice(&src[lay.padded_row(iy)..][..w]);
            }
        }
    }

    /// Adds one image's share `G_g · Xpadᵀ[off.., g]` of the weight
    /// gradient into `acc`, with `xpt` (any contents on entry, border zero)
    /// for the transposed padded image.
    fn weight_image(&self, image: &[T], wide: &[T], xpt: &mut [T], acc: &mut [T]) {
        let (d, lay) = (self.d, &self.lay);
        let (n, pg, cg, c_in) = (lay.n, lay.per_group, lay.c_in_g, d.image.channels);
        let run = self.run();
        let runs = lay.taps.len() / run;
        lay.pad_transposed(image, xpt);
        for g in 0..d.groups {
            let go_g = planes(wide, g * pg, n, 0);
            for r in 0..runs {
                // Xpadᵀ from the run's first tap: [n, run · c_in/g],
                // channels contiguous.
                let cols = MatRef {
                    data: &xpt[..],
                    offset: lay.taps[r * run] * c_in + g * cg,
                    row_stride: c_in,
                    col_stride: 1,
                };
                let out = &mut acc[(g * runs + r) * pg * run * cg..];
                T::gemm_strided(pg, n, run * cg, go_g, cols, out, run * cg, true);
            }
        }
    }

    /// `grad_w` (`[c_out, c_in/g, kh, kw]`) = the sum of the threads'
    /// shares from [`Pass::images`].
    fn sum_weight_parts(&self, parts: impl Iterator<Item = Vec<T>>, grad_w: &mut [T]) {
        let lay = &self.lay;
        let (taps, pg, cg, run) = (lay.taps.len(), lay.per_group, lay.c_in_g, self.run());
        let runs = taps / run;
        grad_w.fill(T::ZERO);
        for part in parts {
            for (i, gw) in grad_w.iter_mut().enumerate() {
                let (t, c, o) = (i % taps, i / taps % cg, i / taps / cg);
                let (g, co) = (o / pg, o % pg);
                *gw += part[(((g * runs + t / run) * pg + co) * run + t % run) * cg + c];
            }
        }
    }
}
