//! Convolution on slices: the im2col + GEMM loops of `conv2d` and of its two
//! gradients, with no tape and no intermediate tensors.
//!
//! Images are processed in *tiles* of `t` images whose columns sit side by
//! side in one wide matrix `cols: [K·g, t·L]` (`K = c_in/g·kh·kw` rows per
//! group, `L = oh·ow` columns per image), so that a batch of small images is
//! one GEMM per group instead of one tiny GEMM per image. Per group `g`, with
//! `W_g: [c_out/g, K]`:
//!
//! - forward: `Y_g = W_g · cols_g`;
//! - input gradient: `cols_g = W_gᵀ · G_g`, then `col2im` per image;
//! - weight gradient: `grad_W_g = Σ_tiles G_g · cols_gᵀ`, with `colsᵀ` built
//!   directly ([`im2row_band`]): `matrixmultiply` packs an operand in
//!   panels only when it is laid out along the output (A column-major, B
//!   row-major), and copies `cols_gᵀ` element by element (LeNet-5's two
//!   convolutions, forward and backward: 5% faster; W5's: 2-3%);
//!
//! where `Y` and `G` (the output gradient) are `[c_out, t·L]` views of `t`
//! images of `[c_out, L]`: the image itself when `t = 1`, else a copy. A tile
//! holds at most [`TILE_BUDGET`] column entries, and the batch is split over
//! threads first ([`crate::kernels::par`]), each thread reusing its own
//! buffers.
//!
//! In the forward pass and the weight gradient, an image whose column matrix
//! alone exceeds the budget is processed in *bands* of output rows instead,
//! each band's columns built ([`im2col_band`], or [`im2row_band`] for the
//! weight gradient) and multiplied while they are still in cache: W5's
//! 64-channel 32×32 image has 2.3 MiB of columns, more than a core's L2,
//! and building them whole before the GEMM packed them again cost its
//! forward pass about a tenth of its time (`docs/benchmarks.md`). The
//! input gradient, whose GEMM writes the columns that `col2im` then reads,
//! measured the same banded or not, and stays whole.
//!
//! Three routes build no columns at all:
//!
//! - 3×3 kernels with stride 1, no dilation and one group, with at least 12
//!   input and 8 output channels (32 input channels where the next route
//!   applies), by Winograd's F(2×2, 3×3) (`kernels::conv_winograd`): 16
//!   GEMMs over transformed 4×4 tiles, 16/36 of the multiply-adds. W5's
//!   forward pass 0.68x the time of the shifted GEMMs, forward and backward
//!   0.72x;
//! - other convolutions with stride 1 and input and output channels per
//!   group in multiples of 16: each of the three products is a sum of one
//!   GEMM per kernel tap over the zero-padded image read from a shifted
//!   offset (`kernels::conv_shift`). W5's forward pass: 10% faster than
//!   im2col, forward and backward 8-12%;
//! - convolutions with stride 1, no dilation, one group and very few
//!   channels (at most 8 out, and 12 pairs of input and output channels,
//!   or 16 with at most 4 out), by direct sums over the zero-padded image,
//!   no GEMM (`kernels::conv_direct`): LeNet-5's first layer (1 → 6
//!   channels, 5×5) forward and backward in 0.68-0.73x the time of
//!   im2col, its weight gradient alone in 0.47x (`bench/conv_routes`).

use std::ops::Range;

use crate::Float;
use crate::kernels::gemm::MatRef;
use crate::kernels::im2col::{Geom2d, col2im_strided, im2col_band, im2col_strided, im2row_band};
use crate::kernels::par::{for_each_run, map_ranges};
use crate::kernels::{conv_direct, conv_shift, conv_winograd};

/// The most column-matrix entries one tile builds (1 MiB of `f32`), so that
/// a tile's columns stay near the cache while many small images still share
/// one GEMM. (2²⁰ entries cost LeNet-5 a 4 MiB zero-filled buffer per pass.)
pub const TILE_BUDGET: usize = 1 << 18;

/// The sizes of a batched, grouped 2-D convolution.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::conv::ConvDims;
/// use wengert_core::kernels::im2col::Geom2d;
/// let image = Geom2d { channels: 4, size: [5, 5], kernel: [3, 3], stride: [1, 1],
///                      padding: [1, 1], dilation: [1, 1] };
/// let d = ConvDims { batch: 2, image, groups: 2, c_out: 6 };
/// assert_eq!((d.k(), d.l()), (18, 25));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvDims {
    /// Images in the batch.
    pub batch: usize,
    /// The window over one input image; `channels` is `c_in`.
    pub image: Geom2d,
    /// Channel groups; divides `c_in` and `c_out`.
    pub groups: usize,
    /// Output channels.
    pub c_out: usize,
}

impl ConvDims {
    /// Returns `K = c_in/g·kh·kw`, the column rows (and weight columns) of one
    /// group.
    ///
    /// # Examples
    ///
    /// See [`ConvDims`].
    pub fn k(&self) -> usize {
        self.image.rows() / self.groups
    }

    /// Returns `L = oh·ow`, the output pixels of one image.
    ///
    /// # Panics
    ///
    /// When the window does not fit the image.
    ///
    /// # Examples
    ///
    /// See [`ConvDims`].
    pub fn l(&self) -> usize {
        let [oh, ow] = self.image.out().expect("BUG: conv geometry was validated");
        oh * ow
    }

    pub(crate) fn image_len(&self) -> usize {
        self.image.channels * self.image.size[0] * self.image.size[1]
    }

    /// Multiply-adds per image of each of the three products.
    fn work(&self) -> usize {
        self.c_out * self.k() * self.l()
    }

    /// The output rows per band (see [`forward_banded`]): all `oh` when one
    /// image's columns fit the tile budget, else as few bands as fit it, of
    /// even heights.
    fn band(&self) -> usize {
        let [oh, ow] = self.image.out().expect("BUG: conv geometry was validated");
        let fit = (TILE_BUDGET / (self.image.rows() * ow).max(1)).clamp(1, oh.max(1));
        oh.div_ceil(oh.div_ceil(fit).max(1)).max(1)
    }

    /// The bands of `band` output rows (the last one shorter), each with its
    /// pixel count.
    fn bands(&self, band: usize) -> impl Iterator<Item = (Range<usize>, usize)> {
        let [oh, ow] = self.image.out().expect("BUG: conv geometry was validated");
        (0..oh)
            .step_by(band)
            .map(move |oy| (oy..(oy + band).min(oh), (band.min(oh - oy)) * ow))
    }

    /// The images per tile for a run of `images`.
    fn tile(&self, images: usize) -> usize {
        (TILE_BUDGET / (self.image.rows() * self.l()).max(1)).clamp(1, images.max(1))
    }

    fn check(&self, x: usize, w: usize, y: usize) {
        assert!(
            self.groups > 0
                && self.image.channels.is_multiple_of(self.groups)
                && self.c_out.is_multiple_of(self.groups),
            "BUG: conv groups"
        );
        assert_eq!(x, self.batch * self.image_len(), "BUG: conv input length");
        assert_eq!(w, self.c_out * self.k(), "BUG: conv weight length");
        assert_eq!(
            y,
            self.batch * self.c_out * self.l(),
            "BUG: conv output length"
        );
    }
}

/// One thread's buffers: the wide column matrix of a tile (or its
/// transpose, for the weight gradient) and, for tiles of more than one image,
/// the `[c_out, t·L]` copy of its outputs or gradients.
struct Scratch<T> {
    cols: Vec<T>,
    wide: Vec<T>,
}

impl<T: Float> Scratch<T> {
    fn new(d: &ConvDims, tile: usize) -> Scratch<T> {
        let wide = if tile > 1 { d.c_out * tile * d.l() } else { 0 };
        Scratch {
            cols: vec![T::ZERO; d.image.rows() * tile * d.l()],
            wide: vec![T::ZERO; wide],
        }
    }

    /// Writes the transposed columns of images `images` of `x`
    /// ([`im2row_band`]: one row of `K·g` taps per output pixel), one image
    /// after another; returns the pixel count `t·L`.
    fn im2row(&mut self, d: &ConvDims, x: &[T], images: Range<usize>) -> usize {
        let (l, len, rows) = (d.l(), d.image_len(), d.image.rows());
        let [oh, _] = d.image.out().expect("BUG: conv geometry was validated");
        for (j, b) in images.clone().enumerate() {
            let image = &x[b * len..(b + 1) * len];
            im2row_band(&d.image, image, 0..oh, &mut self.cols[j * l * rows..], rows);
        }
        images.len() * l
    }

    /// Writes the columns of images `images` of `x` side by side; returns the
    /// row stride `t·L`.
    fn im2col(&mut self, d: &ConvDims, x: &[T], images: Range<usize>) -> usize {
        let (l, len) = (d.l(), d.image_len());
        let ld = images.len() * l;
        for (j, b) in images.enumerate() {
            im2col_strided(
                &d.image,
                &x[b * len..(b + 1) * len],
                &mut self.cols[j * l..],
                ld,
            );
        }
        ld
    }
}

/// Copies `t` images of `[c_out, L]` (`images`) into `wide: [c_out, t·L]`.
fn gather<T: Float>(images: &[T], wide: &mut [T], c_out: usize, l: usize) {
    let t = images.len() / (c_out * l);
    for (j, image) in images.chunks(c_out * l).enumerate() {
        for (o, row) in image.chunks(l).enumerate() {
            wide[o * t * l + j * l..][..l].copy_from_slice(row);
        }
    }
}

/// The inverse of [`gather`]: `wide: [c_out, t·L]` back into `t` images.
fn scatter<T: Float>(wide: &[T], images: &mut [T], c_out: usize, l: usize) {
    let t = images.len() / (c_out * l);
    for (j, image) in images.chunks_mut(c_out * l).enumerate() {
        for (o, row) in image.chunks_mut(l).enumerate() {
            row.copy_from_slice(&wide[o * t * l + j * l..][..l]);
        }
    }
}

/// A row-major view at `offset` with row stride `ld`, or its transpose.
fn view<T>(data: &[T], offset: usize, ld: usize, transposed: bool) -> MatRef<'_, T> {
    let (row_stride, col_stride) = if transposed { (1, ld) } else { (ld, 1) };
    MatRef {
        data,
        offset,
        row_stride,
        col_stride,
    }
}

/// Each group's `[per_group, k]` block of `w`, transposed in place of the
/// block: `matrixmultiply` packs a column-major left operand in whole panels,
/// a row-major one element by element, and the forward packs the weights
/// again for every band or tile (W5's forward, `[32, 64, 32, 32]` by
/// `[64, 64, 3, 3]`: 4% faster on one thread, 8% on two).
fn transpose_groups<T: Float>(w: &[T], per_group: usize, k: usize) -> Vec<T> {
    let mut wt = vec![T::ZERO; w.len()];
    for (src, dst) in w.chunks(per_group * k).zip(wt.chunks_mut(per_group * k)) {
        for (i, row) in src.chunks(k).enumerate() {
            for (p, &v) in row.iter().enumerate() {
                dst[p * per_group + i] = v;
            }
        }
    }
    wt
}

/// Group `g`'s weights `[per_group, k]` as a view of [`transpose_groups`]'s
/// result.
fn weight_view<T>(wt: &[T], g: usize, per_group: usize, k: usize) -> MatRef<'_, T> {
    MatRef {
        data: wt,
        offset: g * per_group * k,
        row_stride: 1,
        col_stride: per_group,
    }
}

/// Writes `y = conv(x, w)`: `x: [batch, c_in, h, w]`, `w: [c_out, c_in/g,
/// kh, kw]`, `y: [batch, c_out, oh, ow]`, all row-major; every element of `y`
/// is written.
///
/// # Panics
///
/// When a slice length does not match `d`, or the window does not fit.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::conv::{ConvDims, forward};
/// use wengert_core::kernels::im2col::Geom2d;
/// let image = Geom2d { channels: 1, size: [1, 3], kernel: [1, 2], stride: [1, 1],
///                      padding: [0, 0], dilation: [1, 1] };
/// let d = ConvDims { batch: 2, image, groups: 1, c_out: 1 };
/// let mut y = [f32::NAN; 4];
/// forward(&d, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1.0, -1.0], &mut y);
/// assert_eq!(y, [-1.0; 4]);
/// ```
pub fn forward<T: Float>(d: &ConvDims, x: &[T], w: &[T], y: &mut [T]) {
    forward_by(Route::choose(d), d, x, w, y);
}

/// The loops that compute a convolution and its gradients (the module
/// docs). [`forward`] and [`backward`] take [`Route::choose`]'s;
/// [`forward_by`] and [`backward_by`] take the one given, for benchmarks
/// and tests that compare routes (`bench/conv_routes`).
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::conv::{ConvDims, Route};
/// use wengert_core::kernels::im2col::Geom2d;
/// let image = Geom2d { channels: 64, size: [32, 32], kernel: [3, 3], stride: [1, 1],
///                      padding: [1, 1], dilation: [1, 1] };
/// let d = ConvDims { batch: 32, image, groups: 1, c_out: 64 };
/// assert_eq!(Route::choose(&d), Route::Winograd);
/// assert!(Route::Shift.fits(&d) && Route::Im2col.fits(&d));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// im2col (or its transpose) and one GEMM per group and tile or band of
    /// images: any geometry.
    Im2col,
    /// One GEMM per kernel tap over the zero-padded image: stride 1.
    Shift,
    /// Winograd's F(2×2, 3×3): 3×3 kernels, stride 1, no dilation, one
    /// group, padding at most 2.
    Winograd,
    /// Direct sums over the zero-padded image, no GEMM: stride 1, no
    /// dilation, one group, padding smaller than the kernel.
    Direct,
}

impl Route {
    /// The route [`forward`] and [`backward`] take for `d`: the fastest
    /// one measured for its shape (`bench/conv_routes`).
    ///
    /// # Examples
    ///
    /// See [`Route`].
    pub fn choose(d: &ConvDims) -> Route {
        [Route::Winograd, Route::Shift, Route::Direct]
            .into_iter()
            .find(|r| r.fits(d) && r.pays(d))
            .unwrap_or(Route::Im2col)
    }

    /// True when this route can compute `d`, whether or not it pays.
    ///
    /// The routes that build no columns read the image row by row, so they
    /// leave an image with no rows or no columns to im2col (its padding
    /// alone can still make an output, all zero).
    ///
    /// # Examples
    ///
    /// See [`Route`].
    pub fn fits(self, d: &ConvDims) -> bool {
        match self {
            Route::Im2col => true,
            _ if d.image.size.contains(&0) => false,
            Route::Shift => conv_shift::fits(d),
            Route::Winograd => conv_winograd::fits(d),
            Route::Direct => conv_direct::fits(d),
        }
    }

    /// True when this route is the one to take for `d` among those that
    /// fit it, by the measurements each route's module records.
    fn pays(self, d: &ConvDims) -> bool {
        match self {
            Route::Im2col => true,
            Route::Shift => conv_shift::applies(d),
            Route::Winograd => conv_winograd::applies(d),
            Route::Direct => conv_direct::applies(d),
        }
    }
}

/// [`forward`] by the route given.
///
/// # Panics
///
/// As [`forward`], and when the route does not [`Route::fits`] `d`.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::conv::{ConvDims, Route, forward_by};
/// use wengert_core::kernels::im2col::Geom2d;
/// let image = Geom2d { channels: 1, size: [1, 3], kernel: [1, 2], stride: [1, 1],
///                      padding: [0, 0], dilation: [1, 1] };
/// let d = ConvDims { batch: 2, image, groups: 1, c_out: 1 };
/// let mut y = [f32::NAN; 4];
/// forward_by(Route::Shift, &d, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1.0, -1.0], &mut y);
/// assert_eq!(y, [-1.0; 4]);
/// ```
pub fn forward_by<T: Float>(route: Route, d: &ConvDims, x: &[T], w: &[T], y: &mut [T]) {
    d.check(x.len(), w.len(), y.len());
    assert!(route.fits(d), "{route:?} cannot compute {d:?}");
    match route {
        Route::Winograd => conv_winograd::forward(d, x, w, y),
        Route::Shift => conv_shift::forward(d, x, w, y),
        Route::Direct => conv_direct::forward(d, x, w, y),
        Route::Im2col => forward_im2col(d, x, w, y),
    }
}

/// [`forward`] by im2col and GEMM (the module docs), for any geometry;
/// `d` and the lengths are checked by the caller.
fn forward_im2col<T: Float>(d: &ConvDims, x: &[T], w: &[T], y: &mut [T]) {
    let (l, k, per_group) = (d.l(), d.k(), d.c_out / d.groups);
    if k == 0 {
        // No input channels: every output is an empty sum (and the column
        // scratch is empty, so there is nothing to im2col into).
        y.fill(T::ZERO);
        return;
    }
    if y.is_empty() {
        return;
    }
    let (band, [oh, _]) = (d.band(), d.image.out().expect("BUG: validated"));
    let wt = transpose_groups(w, per_group, k);
    let w_g = |g: usize| weight_view(&wt, g, per_group, k);
    for_each_run(y, d.c_out * l, d.work(), |first, ys| {
        if band < oh {
            forward_banded(d, x, &w_g, first, ys, band);
            return;
        }
        let images = ys.len() / (d.c_out * l);
        let tile = d.tile(images);
        let mut s = Scratch::new(d, tile);
        for start in (0..images).step_by(tile) {
            let t = tile.min(images - start);
            let ld = s.im2col(d, x, first + start..first + start + t);
            let out = &mut ys[start * d.c_out * l..(start + t) * d.c_out * l];
            let dst = if t == 1 {
                out
            } else {
                &mut s.wide[..d.c_out * ld]
            };
            for (g, y_g) in dst.chunks_mut(per_group * ld).enumerate() {
                let cols_g = view(&s.cols, g * k * ld, ld, false);
                T::gemm_raw(per_group, k, ld, w_g(g), cols_g, y_g);
            }
            if t > 1 {
                let out = &mut ys[start * d.c_out * l..(start + t) * d.c_out * l];
                scatter(&s.wide[..d.c_out * ld], out, d.c_out, l);
            }
        }
    });
}

/// [`forward`] for images whose column matrix exceeds [`TILE_BUDGET`]: each
/// image `first..` of `ys` is computed in bands of `band` output rows, whose
/// columns ([`im2col_band`]) stay in cache between being written and being
/// packed by the GEMM (a whole image's would not: W5's is 2.3 MiB). Each
/// band's `[c_out, band·ow]` product is written straight into the image's
/// rows, `l` elements apart
/// ([`Gemm::gemm_strided`](crate::kernels::gemm::Gemm::gemm_strided)).
fn forward_banded<'w, T: Float>(
    d: &ConvDims,
    x: &[T],
    w_g: &impl Fn(usize) -> MatRef<'w, T>,
    first: usize,
    ys: &mut [T],
    band: usize,
) {
    let (l, k, per_group, len) = (d.l(), d.k(), d.c_out / d.groups, d.image_len());
    let ow = l / d.image.out().expect("BUG: validated")[0];
    let mut cols = vec![T::ZERO; d.image.rows() * band * ow];
    for (j, y) in ys.chunks_mut(d.c_out * l).enumerate() {
        let image = &x[(first + j) * len..(first + j + 1) * len];
        for (oys, nb) in d.bands(band) {
            let oy = oys.start;
            im2col_band(&d.image, image, oys, &mut cols, nb);
            for g in 0..d.groups {
                let cols_g = view(&cols, g * k * nb, nb, false);
                let y_g = &mut y[g * per_group * l + oy * ow..];
                T::gemm_strided(per_group, k, nb, w_g(g), cols_g, y_g, l, false);
            }
        }
    }
}

/// Writes both gradients of [`forward`] that are given: [`grad_input`]'s
/// into `grad_x` and [`grad_weight`]'s into `grad_w`. When the shifted GEMMs
/// apply (the module docs) the two share one pass over the images, each
/// image's output gradient laid out once for both products; Winograd's
/// route makes one pass for each.
///
/// # Panics
///
/// As [`forward`], for the lengths of `x` (when `grad_w` is given), `w`
/// (when `grad_x` is given), `grad_out` and the gradients.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::conv::{ConvDims, backward};
/// use wengert_core::kernels::im2col::Geom2d;
/// let image = Geom2d { channels: 1, size: [1, 3], kernel: [1, 2], stride: [1, 1],
///                      padding: [0, 0], dilation: [1, 1] };
/// let d = ConvDims { batch: 1, image, groups: 1, c_out: 1 };
/// let (mut gx, mut gw) = ([f32::NAN; 3], [f32::NAN; 2]);
/// backward(&d, &[1.0, 2.0, 3.0], &[2.0, 3.0], &[1.0, 10.0], Some(&mut gx), Some(&mut gw));
/// assert_eq!(gx, [2.0, 3.0 + 20.0, 30.0]);
/// assert_eq!(gw, [1.0 + 20.0, 2.0 + 30.0]);
/// ```
pub fn backward<T: Float>(
    d: &ConvDims,
    x: &[T],
    w: &[T],
    grad_out: &[T],
    grad_x: Option<&mut [T]>,
    grad_w: Option<&mut [T]>,
) {
    backward_by(Route::choose(d), d, x, w, grad_out, grad_x, grad_w);
}

/// [`backward`] by the route given.
///
/// # Panics
///
/// As [`backward`], and when the route does not [`Route::fits`] `d`.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::conv::{ConvDims, Route, backward_by};
/// use wengert_core::kernels::im2col::Geom2d;
/// let image = Geom2d { channels: 1, size: [1, 3], kernel: [1, 2], stride: [1, 1],
///                      padding: [0, 0], dilation: [1, 1] };
/// let d = ConvDims { batch: 1, image, groups: 1, c_out: 1 };
/// let mut gw = [f32::NAN; 2];
/// // y[j] = w0·x[j] + w1·x[j + 1]; with grad_out = 1, grad_w = [x0 + x1, x1 + x2].
/// backward_by(Route::Im2col, &d, &[1.0, 2.0, 3.0], &[], &[1.0, 1.0], None, Some(&mut gw));
/// assert_eq!(gw, [3.0, 5.0]);
/// ```
pub fn backward_by<T: Float>(
    route: Route,
    d: &ConvDims,
    x: &[T],
    w: &[T],
    grad_out: &[T],
    grad_x: Option<&mut [T]>,
    grad_w: Option<&mut [T]>,
) {
    // `x` is read only for the weight gradient, `w` only for the input's.
    let (x_len, w_len) = (d.batch * d.image_len(), d.c_out * d.k());
    let x_given = if grad_w.is_some() { x.len() } else { x_len };
    let w_given = if grad_x.is_some() { w.len() } else { w_len };
    d.check(x_given, w_given, grad_out.len());
    if let Some(gx) = &grad_x {
        assert_eq!(gx.len(), x_len, "BUG: conv input length");
    }
    if let Some(gw) = &grad_w {
        assert_eq!(gw.len(), w_len, "BUG: conv weight length");
    }
    assert!(route.fits(d), "{route:?} cannot compute {d:?}");
    match route {
        Route::Winograd => conv_winograd::backward(d, (x, w, grad_out), grad_x, grad_w),
        Route::Shift => conv_shift::backward(d, (x, w, grad_out), grad_x, grad_w),
        Route::Direct => conv_direct::backward(d, (x, w, grad_out), grad_x, grad_w),
        Route::Im2col => {
            if let Some(gx) = grad_x {
                grad_input_im2col(d, grad_out, w, gx);
            }
            if let Some(gw) = grad_w {
                grad_weight_im2col(d, x, grad_out, gw);
            }
        }
    }
}

/// Writes the input gradient `grad_x = col2im(wᵀ · grad_out)` of
/// [`forward`]: `grad_out` is shaped as `y`, `grad_x` as `x`; every element of
/// `grad_x` is written.
///
/// # Panics
///
/// As [`forward`].
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::conv::{ConvDims, grad_input};
/// use wengert_core::kernels::im2col::Geom2d;
/// let image = Geom2d { channels: 1, size: [1, 3], kernel: [1, 2], stride: [1, 1],
///                      padding: [0, 0], dilation: [1, 1] };
/// let d = ConvDims { batch: 1, image, groups: 1, c_out: 1 };
/// let mut gx = [f32::NAN; 3];
/// grad_input(&d, &[1.0, 10.0], &[2.0, 3.0], &mut gx);
/// assert_eq!(gx, [2.0, 3.0 + 20.0, 30.0]);
/// ```
pub fn grad_input<T: Float>(d: &ConvDims, grad_out: &[T], w: &[T], grad_x: &mut [T]) {
    backward(d, &[], w, grad_out, Some(grad_x), None);
}

/// [`grad_input`] by im2col and GEMM (the module docs), for any geometry;
/// `d` and the lengths are checked by the caller.
fn grad_input_im2col<T: Float>(d: &ConvDims, grad_out: &[T], w: &[T], grad_x: &mut [T]) {
    let (l, k, per_group, len) = (d.l(), d.k(), d.c_out / d.groups, d.image_len());
    if grad_out.is_empty() || grad_x.is_empty() {
        // No output channels: the input does not reach the output.
        grad_x.fill(T::ZERO);
        return;
    }
    for_each_run(grad_x, len, d.work(), |first, xs| {
        let images = xs.len() / len;
        let tile = d.tile(images);
        let mut s = Scratch::new(d, tile);
        for start in (0..images).step_by(tile) {
            let t = tile.min(images - start);
            let ld = t * l;
            let b = first + start;
            let go = &grad_out[b * d.c_out * l..(b + t) * d.c_out * l];
            let g_wide = if t == 1 {
                go
            } else {
                gather(go, &mut s.wide[..d.c_out * ld], d.c_out, l);
                &s.wide[..d.c_out * ld]
            };
            let cols = &mut s.cols[..d.image.rows() * ld];
            for (g, cols_g) in cols.chunks_mut(k * ld).enumerate() {
                let w_gt = view(w, g * per_group * k, k, true);
                let go_g = view(g_wide, g * per_group * ld, ld, false);
                T::gemm_raw(k, per_group, ld, w_gt, go_g, cols_g);
            }
            for j in 0..t {
                let dst = &mut xs[(start + j) * len..(start + j + 1) * len];
                col2im_strided(&d.image, &cols[j * l..], ld, dst);
            }
        }
    });
}

/// Writes the weight gradient `grad_w = Σ_b grad_out_b · cols_bᵀ` of
/// [`forward`]: `x` and `grad_out` as in [`forward`] and [`grad_input`],
/// `grad_w` shaped as `w`; every element of `grad_w` is written.
///
/// # Panics
///
/// As [`forward`].
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::conv::{ConvDims, grad_weight};
/// use wengert_core::kernels::im2col::Geom2d;
/// let image = Geom2d { channels: 1, size: [1, 3], kernel: [1, 2], stride: [1, 1],
///                      padding: [0, 0], dilation: [1, 1] };
/// let d = ConvDims { batch: 1, image, groups: 1, c_out: 1 };
/// let mut gw = [f32::NAN; 2];
/// grad_weight(&d, &[1.0, 2.0, 3.0], &[1.0, 10.0], &mut gw);
/// assert_eq!(gw, [1.0 + 20.0, 2.0 + 30.0]);
/// ```
pub fn grad_weight<T: Float>(d: &ConvDims, x: &[T], grad_out: &[T], grad_w: &mut [T]) {
    backward(d, x, &[], grad_out, None, Some(grad_w));
}

/// [`grad_weight`] by im2col and GEMM (the module docs), for any geometry;
/// `d` and the lengths are checked by the caller.
fn grad_weight_im2col<T: Float>(d: &ConvDims, x: &[T], grad_out: &[T], grad_w: &mut [T]) {
    let (l, k, per_group) = (d.l(), d.k(), d.c_out / d.groups);
    grad_w.fill(T::ZERO);
    if grad_w.is_empty() || l == 0 {
        return;
    }
    let (band, [oh, _]) = (d.band(), d.image.out().expect("BUG: validated"));
    let parts = map_ranges(d.batch, d.work(), |range| {
        if band < oh {
            return grad_weight_banded(d, x, grad_out, range, band);
        }
        let tile = d.tile(range.len());
        let mut s = Scratch::new(d, tile);
        let mut acc = vec![T::ZERO; grad_w.len()];
        let mut part = vec![T::ZERO; grad_w.len()];
        for start in range.clone().step_by(tile) {
            let t = tile.min(range.end - start);
            let ld = s.im2row(d, x, start..start + t);
            let go = &grad_out[start * d.c_out * l..(start + t) * d.c_out * l];
            let g_wide = if t == 1 {
                go
            } else {
                gather(go, &mut s.wide[..d.c_out * ld], d.c_out, l);
                &s.wide[..d.c_out * ld]
            };
            for (g, part_g) in part.chunks_mut(per_group * k).enumerate() {
                let go_g = view(g_wide, g * per_group * ld, ld, false);
                let cols_gt = view(&s.cols, g * k, d.image.rows(), false);
                T::gemm_raw(per_group, ld, k, go_g, cols_gt, part_g);
            }
            acc.iter_mut().zip(&part).for_each(|(a, &p)| *a += p);
        }
        acc
    });
    sum_parts(parts, grad_w);
}

/// Writes into `out` the sum of the threads' shares of a weight gradient
/// (`map_ranges`' results), added in thread order.
pub(crate) fn sum_parts<T: Float>(parts: Vec<Vec<T>>, out: &mut [T]) {
    out.fill(T::ZERO);
    for part in parts {
        out.iter_mut().zip(part).for_each(|(a, p)| *a += p);
    }
}

/// One thread's share of [`grad_weight`] band by band (see
/// [`forward_banded`]): `Σ` over images `range` and their bands of
/// `G_g[:, band] · cols_bandᵀ`.
fn grad_weight_banded<T: Float>(
    d: &ConvDims,
    x: &[T],
    grad_out: &[T],
    range: Range<usize>,
    band: usize,
) -> Vec<T> {
    let (l, k, per_group, len) = (d.l(), d.k(), d.c_out / d.groups, d.image_len());
    let ow = l / d.image.out().expect("BUG: validated")[0];
    let rows = d.image.rows();
    let mut cols = vec![T::ZERO; rows * band * ow];
    let mut acc = vec![T::ZERO; d.c_out * k];
    let mut part = vec![T::ZERO; d.c_out * k];
    for b in range {
        let go = &grad_out[b * d.c_out * l..(b + 1) * d.c_out * l];
        for (oys, nb) in d.bands(band) {
            let oy = oys.start;
            im2row_band(&d.image, &x[b * len..(b + 1) * len], oys, &mut cols, rows);
            for (g, part_g) in part.chunks_mut(per_group * k).enumerate() {
                let go_g = view(go, g * per_group * l + oy * ow, l, false);
                let cols_gt = view(&cols, g * k, rows, false);
                T::gemm_raw(per_group, nb, k, go_g, cols_gt, part_g);
            }
            acc.iter_mut().zip(&part).for_each(|(a, &p)| *a += p);
        }
    }
    acc
}

#[cfg(test)]
#[path = "conv_tests.rs"]
mod tests;
