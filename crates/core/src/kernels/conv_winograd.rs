//! Convolution with a 3×3 kernel, stride 1 and one group by Winograd's
//! minimal filtering algorithm F(2×2, 3×3) (Lavin and Gray, "Fast
//! Algorithms for Convolutional Neural Networks", CVPR 2016), its GEMMs
//! through `matrixmultiply`.
//!
//! The output is cut into 2×2 tiles, tile `(ty, tx)` reading the 4×4 patch
//! `d` of the zero-padded input at `(2·ty, 2·tx)`. With
//!
//! ```text
//!      [1  0 −1  0]       [1   0   0]       [1  1  1  0]
//! Bᵀ = [0  1  1  0]   G = [½   ½   ½]   Aᵀ = [0  1 −1 −1]
//!      [0 −1  1  0]       [½  −½   ½]
//!      [0  1  0 −1]       [0   0   1]
//! ```
//!
//! the tile of the correlation of `d` with a kernel `g` is
//! `Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A`: 16 multiplications instead of 36. Summed over
//! the input channels, the element-wise products are 16 GEMMs, one per
//! position ξ of the transformed 4×4 tile: `M_ξ = U_ξ · V_ξ`, with
//! `U_ξ: [c_out, c_in]` the transformed kernels and `V_ξ: [c_in, tiles]` the
//! transformed patches. The transforms are additions and halvings only.
//!
//! - forward ([`forward`]): transform the patches, 16 GEMMs, transform the
//!   tiles back;
//! - input gradient: a stride-1 convolution's input gradient is the full
//!   correlation of the output gradient with the kernels flipped and their
//!   channels swapped: the same three steps on the output gradient padded
//!   by `2 − p`;
//! - weight gradient: through `U = G g Gᵀ` by the chain rule,
//!   `∂U_ξ = Σ_tiles (A ∂Y Aᵀ)_ξ · V_ξᵀ`, then `∂g = Gᵀ ∂U G`. These 16 GEMMs
//!   sum over the tiles, so both transformed operands are laid out
//!   channels-last (`[tiles, c]`), which `matrixmultiply` packs in panels
//!   (laid out `[c, tiles]`, it would copy them element by element).
//!
//! The GEMMs do 16/36 of the direct convolution's multiply-adds, which is
//! what pays: W5's `[32, 64, 32, 32]` by `[64, 64, 3, 3]`, one thread,
//! takes 0.68x the shifted GEMMs' time forward and 0.72x forward and
//! backward (`docs/benchmarks.md`). The result is the same function,
//! rounded differently: on W5's channels the `f32` error relative to the
//! largest value was 3.4e-7 forward and 2.6e-7 for the weight gradient,
//! against 5.0e-7 and 5.8e-7 through im2col (the transforms add a few
//! roundings, but each sum is 16/36 as long); the test
//! `winograd_rounds_f32_about_as_well_as_the_direct_sum` keeps it so.
//!
//! Tiles are transformed and multiplied in groups ([`Tiles::grouping`]):
//! bands of tile rows of one image, or several small images at once, so
//! that a group's operands stay in a core's L2 cache while the GEMMs are
//! long enough to pay for packing `U`.

use crate::Float;
use crate::kernels::conv::{ConvDims, sum_parts};
use crate::kernels::conv_shift;
use crate::kernels::gemm::MatRef;
use crate::kernels::par::{for_each_run, map_ranges};
use std::ops::Range;

/// Positions of a transformed 4×4 tile.
const XI: usize = 16;

/// The fewest input channels, and output channels, for which the
/// transforms (their cost grows with `c_in + c_out`) are paid for by the
/// GEMMs' savings (which grow with `c_in · c_out`). Measured with
/// `bench/conv_routes` on the Intel machine of `docs/benchmarks.md`
/// (forward and backward, one thread, batch 32, 32×32, time against the
/// im2col path): 12 → 12 channels 0.84x, 16 → 8 0.68x, 32 → 8 0.49x; but
/// 8 → 8 0.97x (no clear gain), 8 → 16 1.08x, 4 → 32 1.65x, 3 → 16 1.82x.
const MIN_IN: usize = 12;
const MIN_OUT: usize = 8;

/// The fewest input channels for which this beats the shifted GEMMs
/// (`kernels::conv_shift`) where they apply, measured as above (time
/// against the shifted GEMMs'): 32 → 16 0.89x, 32 → 32 0.80x, 64 → 64
/// 0.75x; but 16 → 16 1.06-1.23x (by image size), 16 → 32 0.95-1.01x,
/// 16 → 64 0.96x.
const MIN_IN_OVER_SHIFT: usize = 32;

/// Elements left unused after each of the 16 blocks of a group's
/// transformed tiles: one cache line, so that the blocks' rows, which the
/// transforms write (or read) together, fall into different sets of the L1
/// cache. Without it, W5's blocks were 16 KiB apart, the 16 rows shared a
/// set of 12 ways, and the transforms stalled on conflict misses: W5
/// forward 17.4 → 16.0 ms with it, forward and backward 60.3 → 53.2 ms.
const SKEW: usize = 16;

/// The distance between the 16 blocks of `c` channels of `n` tiles.
fn block(c: usize, n: usize) -> usize {
    c * n + SKEW
}

/// The fewest tiles in a group when [`BAND_BUDGET`] would allow fewer (many
/// channels): `U`, read and packed once per group, is then the larger
/// operand (256 → 256 channels: 4 MiB of `f32`).
const MIN_TILES: usize = 64;

/// The most transformed elements (in and out) a group of tiles holds, so
/// that its GEMM operands stay in a core's L2 cache (1 MiB of `f32`). On
/// W5, one thread: 2¹⁷ was 4% slower forward and 5% forward and backward;
/// 2¹⁹ (a whole image) 2% faster forward but 4% slower forward and
/// backward.
const BAND_BUDGET: usize = 1 << 18;

/// True when [`forward`] and [`backward`] [`fits`] `d` and pay: at least
/// [`MIN_IN`] input and [`MIN_OUT`] output channels, and
/// [`MIN_IN_OVER_SHIFT`] input channels where the shifted GEMMs apply.
pub(crate) fn applies(d: &ConvDims) -> bool {
    let c_in = d.image.channels;
    fits(d)
        && c_in >= MIN_IN
        && d.c_out >= MIN_OUT
        && (c_in >= MIN_IN_OVER_SHIFT || !conv_shift::applies(d))
}

/// True when [`forward`] and [`backward`] can compute `d`: a 3×3 kernel,
/// stride 1, no dilation, one group, padding at most 2, a non-empty output,
/// and channels in and out (a non-empty image: `Route::fits`).
pub(crate) fn fits(d: &ConvDims) -> bool {
    let g = &d.image;
    g.kernel == [3, 3]
        && g.stride == [1, 1]
        && g.dilation == [1, 1]
        && d.groups == 1
        && g.padding.iter().all(|&p| p <= 2)
        && g.out().is_some_and(|[oh, ow]| oh > 0 && ow > 0)
        && g.channels > 0
        && d.c_out > 0
}

/// The tiling of one image of a correlation with a 3×3 kernel and stride 1.
pub(crate) struct Tiles {
    c_in: usize,
    c_out: usize,
    /// `[h, w]` of the input image.
    size: [usize; 2],
    pad: [usize; 2],
    /// `[oh, ow]`.
    out: [usize; 2],
    /// Tile rows and columns: `[⌈oh/2⌉, ⌈ow/2⌉]`.
    tiles: [usize; 2],
    /// Padded width `2·tw + 2` (at least `w + 2·pw`); the padded height is
    /// `2·th + 2`.
    wp: usize,
    /// `(2·th + 2)·wp`.
    plane: usize,
}

impl Tiles {
    fn new(c_in: usize, c_out: usize, size: [usize; 2], pad: [usize; 2]) -> Tiles {
        let out = [0, 1].map(|a| size[a] + 2 * pad[a] - 2);
        let tiles = out.map(|o| o.div_ceil(2));
        let wp = 2 * tiles[1] + 2;
        Tiles {
            c_in,
            c_out,
            size,
            pad,
            out,
            tiles,
            wp,
            plane: (2 * tiles[0] + 2) * wp,
        }
    }

    /// The forward correlation of `d`.
    pub(crate) fn forward(d: &ConvDims) -> Tiles {
        Tiles::new(d.image.channels, d.c_out, d.image.size, d.image.padding)
    }

    /// The correlation that computes `d`'s input gradient from its output
    /// gradient: channels swapped, padding `2 − p`, output `[h, w]`.
    fn input_grad(d: &ConvDims) -> Tiles {
        let out = d.image.out().expect("BUG: conv geometry was validated");
        Tiles::new(
            d.c_out,
            d.image.channels,
            out,
            d.image.padding.map(|p| 2 - p),
        )
    }

    fn in_len(&self) -> usize {
        self.c_in * self.size[0] * self.size[1]
    }

    fn out_len(&self) -> usize {
        self.c_out * self.out[0] * self.out[1]
    }

    /// Multiply-adds of one image's GEMMs.
    fn work(&self) -> usize {
        XI * self.c_in * self.c_out * self.tiles[0] * self.tiles[1]
    }

    /// How tiles are grouped for the 16 GEMMs: `(images, rows)`, whole
    /// small images several at a time (`rows = th`), or one image in bands
    /// of `rows` tile rows. A group aims at [`BAND_BUDGET`] transformed
    /// elements, and at least [`MIN_TILES`] tiles.
    pub(crate) fn grouping(&self) -> (usize, usize) {
        let [th, tw] = self.tiles;
        let tiles = (BAND_BUDGET / (XI * (self.c_in + self.c_out))).max(MIN_TILES);
        if th * tw <= tiles {
            (tiles / (th * tw), th)
        } else {
            (1, (tiles / tw).clamp(1, th))
        }
    }

    /// The groups of tiles of a run of `count` images, each `(images, first
    /// tile row, rows)`, and the most tiles in one.
    pub(crate) fn groups(
        &self,
        count: usize,
    ) -> (impl Iterator<Item = (Range<usize>, usize, usize)>, usize) {
        let (per, band) = self.grouping();
        let th = self.tiles[0];
        let most = per.min(count.max(1)) * band * self.tiles[1];
        let groups = (0..count).step_by(per).flat_map(move |first| {
            let images = first..(first + per).min(count);
            (0..th)
                .step_by(band)
                .map(move |ty| (images.clone(), ty, band.min(th - ty)))
        });
        (groups, most)
    }

    /// Index in a padded plane of input pixel `(iy, 0)`.
    fn padded_row(&self, iy: usize) -> usize {
        (iy + self.pad[0]) * self.wp + self.pad[1]
    }

    /// Copies `image: [c_in, h, w]` into the interior of `xp: [c_in,
    /// 2·th + 2, wp]`, each padded row split into its even columns then its
    /// odd ones (`tw + 1` each, for [`bt_rows`]); the border stays as it
    /// is (zero).
    fn pad<T: Float>(&self, image: &[T], xp: &mut [T]) {
        let ([h, w], pw, half) = (self.size, self.pad[1], self.tiles[1] + 1);
        for (src, dst) in image
            .chunks_exact(h * w)
            .zip(xp.chunks_exact_mut(self.plane))
        {
            for (iy, row) in src.chunks_exact(w).enumerate() {
                let (even, odd) = dst[(iy + self.pad[0]) * self.wp..][..self.wp].split_at_mut(half);
                // Image columns 2k and 2k + 1 land at padded columns pw + 2k
                // and pw + 2k + 1: one in each half.
                let (first, second) = if pw % 2 == 0 {
                    (even, odd)
                } else {
                    (odd, even)
                };
                let first = &mut first[pw / 2..][..w.div_ceil(2)];
                let second = &mut second[pw.div_ceil(2)..][..w / 2];
                let mut pairs = row.chunks_exact(2);
                for ((a, b), pair) in first.iter_mut().zip(second.iter_mut()).zip(&mut pairs) {
                    (*a, *b) = (pair[0], pair[1]);
                }
                if let [last] = pairs.remainder() {
                    first[w / 2] = *last;
                }
            }
        }
    }

    /// Like [`Tiles::pad`], channels-last: `xpt: [2·th + 2, wp, c_in]`.
    fn pad_transposed<T: Float>(&self, image: &[T], xpt: &mut [T]) {
        let [h, w] = self.size;
        for iy in 0..h {
            let row = self.padded_row(iy);
            for ix in 0..w {
                let dst = &mut xpt[(row + ix) * self.c_in..][..self.c_in];
                for (c, d) in dst.iter_mut().enumerate() {
                    *d = image[(c * h + iy) * w + ix];
                }
            }
        }
    }
}

// The lane helpers below take each slice as its own parameter: Rust marks
// `&mut` parameters `noalias`, so that the compiler vectorizes their loops
// without checking at run time whether the outputs overlap the inputs (in
// an array of slices it cannot tell, and ran them scalar).

/// `Bᵀ v` of a 4-vector, element by element over lanes: `[v0 − v2, v1 +
/// v2, v2 − v1, v1 − v3]`.
#[allow(clippy::too_many_arguments)]
fn bt_lanes<T: Float>(
    v0: &[T],
    v1: &[T],
    v2: &[T],
    v3: &[T],
    o0: &mut [T],
    o1: &mut [T],
    o2: &mut [T],
    o3: &mut [T],
) {
    let n = o0.len();
    let (v0, v1, v2, v3) = (&v0[..n], &v1[..n], &v2[..n], &v3[..n]);
    let (o1, o2, o3) = (&mut o1[..n], &mut o2[..n], &mut o3[..n]);
    for i in 0..n {
        o0[i] = v0[i] - v2[i];
        o1[i] = v1[i] + v2[i];
        o2[i] = v2[i] - v1[i];
        o3[i] = v1[i] - v3[i];
    }
}

/// Row `i` of `Bᵀ d B` for each tile column `t`: with `r = a + sign·b`
/// (row `i` of `Bᵀ d`, from two padded rows, each split into its even and
/// odd columns), `o_j[t]` is element `j` of `Bᵀ r[2t..2t + 4]`.
///
/// Reading the padded rows directly, not a row of `Bᵀ d` stored just
/// before: the loads one element past each 16-byte store could not be
/// forwarded from the stores and stalled.
fn bt_rows<T: Float>(
    [ae, ao]: [&[T]; 2],
    [be, bo]: [&[T]; 2],
    sign: T,
    o0: &mut [T],
    o1: &mut [T],
    o2: &mut [T],
    o3: &mut [T],
) {
    let n = o0.len();
    let (a_e0, a_e1, a_o0, a_o1) = (&ae[..n], &ae[1..=n], &ao[..n], &ao[1..=n]);
    let (b_e0, b_e1, b_o0, b_o1) = (&be[..n], &be[1..=n], &bo[..n], &bo[1..=n]);
    let (o1, o2, o3) = (&mut o1[..n], &mut o2[..n], &mut o3[..n]);
    for t in 0..n {
        let e0 = a_e0[t] + sign * b_e0[t];
        let e1 = a_e1[t] + sign * b_e1[t];
        let d0 = a_o0[t] + sign * b_o0[t];
        let d1 = a_o1[t] + sign * b_o1[t];
        o0[t] = e0 - e1;
        o1[t] = d0 + e1;
        o2[t] = e1 - d0;
        o3[t] = d0 - d1;
    }
}

/// `Aᵀ v` of a 4-vector over lanes: `[v0 + v1 + v2, v1 − v2 − v3]`.
fn at_lanes<T: Float>(v0: &[T], v1: &[T], v2: &[T], v3: &[T], o0: &mut [T], o1: &mut [T]) {
    let n = o0.len();
    let (v0, v1, v2, v3, o1) = (&v0[..n], &v1[..n], &v2[..n], &v3[..n], &mut o1[..n]);
    for i in 0..n {
        o0[i] = v0[i] + v1[i] + v2[i];
        o1[i] = v1[i] - v2[i] - v3[i];
    }
}

/// [`at_lanes`] into a row: `row[2t..2t + 2] = Aᵀ [v0[t], .., v3[t]]`, the
/// last tile's second column dropped when `row` has odd length.
fn at_along<T: Float>(v0: &[T], v1: &[T], v2: &[T], v3: &[T], row: &mut [T]) {
    let n = row.len().div_ceil(2);
    let (v0, v1, v2, v3) = (&v0[..n], &v1[..n], &v2[..n], &v3[..n]);
    let mut pairs = row.chunks_exact_mut(2);
    for (t, pair) in (&mut pairs).enumerate() {
        pair[0] = v0[t] + v1[t] + v2[t];
        pair[1] = v1[t] - v2[t] - v3[t];
    }
    if let [last] = pairs.into_remainder() {
        *last = v0[n - 1] + v1[n - 1] + v2[n - 1];
    }
}

/// `A v` of a 2-vector over lanes: `[v0, v0 + v1, v0 − v1, −v1]`.
fn a_lanes<T: Float>(v0: &[T], v1: &[T], o0: &mut [T], o1: &mut [T], o2: &mut [T], o3: &mut [T]) {
    let n = o0.len();
    let (v0, v1) = (&v0[..n], &v1[..n]);
    let (o1, o2, o3) = (&mut o1[..n], &mut o2[..n], &mut o3[..n]);
    for i in 0..n {
        o0[i] = v0[i];
        o1[i] = v0[i] + v1[i];
        o2[i] = v0[i] - v1[i];
        o3[i] = -v1[i];
    }
}

/// Four disjoint `len`-element slices of `v`, from `start + j·stride`
/// (`stride ≥ len`).
fn four_mut<T>(v: &mut [T], start: usize, stride: usize, len: usize) -> [&mut [T]; 4] {
    let (a, rest) = v[start..].split_at_mut(stride);
    let (b, rest) = rest.split_at_mut(stride);
    let (c, d) = rest.split_at_mut(stride);
    [&mut a[..len], &mut b[..len], &mut c[..len], &mut d[..len]]
}

/// `G g Gᵀ` of each 3×3 kernel of `w: [c_out, c_in, 3, 3]`, laid out `[16,
/// c_in, c_out]` (`U_ξ` column-major, which `matrixmultiply` packs in
/// panels). With `swap`, each kernel flipped and the channels swapped,
/// laid out `[16, c_out, c_in]`: the `U` of the input gradient's
/// correlation, whose input channels are `w`'s output channels.
fn transform_weights<T: Float>(w: &[T], c_out: usize, c_in: usize, swap: bool) -> Vec<T> {
    // Each row of a `U_ξ` (an input channel, or with `swap` an output
    // channel) from its kernels gathered tap-major, `[9, lanes]`, so that
    // the transform runs along contiguous lanes and writes whole rows.
    let (rows, lanes, row_step, lane_step) = if swap {
        (c_out, c_in, c_in * 9, 9)
    } else {
        (c_in, c_out, 9, c_in * 9)
    };
    let mut u = vec![T::ZERO; XI * c_in * c_out];
    let mut taps = vec![T::ZERO; 9 * lanes];
    let mut out = vec![T::ZERO; XI * lanes];
    for r in 0..rows {
        for (tap, dst) in taps.chunks_exact_mut(lanes).enumerate() {
            let src = if swap { 8 - tap } else { tap };
            for (l, d) in dst.iter_mut().enumerate() {
                *d = w[r * row_step + l * lane_step + src];
            }
        }
        kernel_lanes(&taps, &mut out);
        for (xi, row) in out.chunks_exact(lanes).enumerate() {
            u[(xi * rows + r) * lanes..][..lanes].copy_from_slice(row);
        }
    }
    u
}

/// `G g Gᵀ` lane by lane: `taps: [9, n]` (kernel taps row-major) into
/// `out: [16, n]`.
fn kernel_lanes<T: Float>(taps: &[T], out: &mut [T]) {
    let half = T::from_f64(0.5);
    let n = taps.len() / 9;
    // G v of a 3-vector.
    let g = |a: T, b: T, c: T| [a, (a + b + c) * half, (a - b + c) * half, c];
    for l in 0..n {
        let t = |k: usize| taps[k * n + l];
        // Along each kernel row, then down each of the four columns.
        let rows = [
            g(t(0), t(1), t(2)),
            g(t(3), t(4), t(5)),
            g(t(6), t(7), t(8)),
        ];
        for x in 0..4 {
            let col = g(rows[0][x], rows[1][x], rows[2][x]);
            for (y, v) in col.into_iter().enumerate() {
                out[(4 * y + x) * n + l] = v;
            }
        }
    }
}

/// One thread's buffers for [`correlate`].
struct Planar<T> {
    /// The padded images of a group, `[images, c_in, 2·th + 2, wp]`.
    xp: Vec<T>,
    /// `V`, `[16, c_in, n]`, and `M`, `[16, c_out, n]`, for a group of `n`
    /// tiles (each block [`block`] apart).
    v: Vec<T>,
    m: Vec<T>,
    /// `Aᵀ` down four rows of `M`, `[4, 2, band]` for one image's band of
    /// tiles.
    up: Vec<T>,
}

/// `y = x ⋆ g` for each image of `x: [batch, c_in, h, w]` into `y: [batch,
/// c_out, oh, ow]`, with `u` = [`transform_weights`] of `g`.
fn correlate<T: Float>(t: &Tiles, u: &[T], x: &[T], y: &mut [T]) {
    let (in_len, out_len, tw) = (t.in_len(), t.out_len(), t.tiles[1]);
    let image_plane = t.c_in * t.plane;
    for_each_run(y, out_len, t.work(), |first, ys| {
        let (groups, most) = t.groups(ys.len() / out_len);
        let (per, band) = t.grouping();
        let mut s = Planar {
            xp: vec![T::ZERO; per.min(ys.len() / out_len) * image_plane],
            v: vec![T::ZERO; XI * block(t.c_in, most)],
            m: vec![T::ZERO; XI * block(t.c_out, most)],
            up: vec![T::ZERO; 8 * band * tw],
        };
        for (images, ty, rows) in groups {
            let n = images.len() * rows * tw;
            for (j, b) in images.clone().enumerate() {
                let xp = &mut s.xp[j * image_plane..][..image_plane];
                if ty == 0 {
                    t.pad(&x[(first + b) * in_len..][..in_len], xp);
                }
                transform_patches(t, &mut s, j, n, ty, rows);
            }
            for xi in 0..XI {
                let a = MatRef {
                    data: u,
                    offset: xi * t.c_in * t.c_out,
                    row_stride: 1,
                    col_stride: t.c_out,
                };
                let b = MatRef {
                    data: &s.v[..],
                    offset: xi * block(t.c_in, n),
                    row_stride: n,
                    col_stride: 1,
                };
                let m = &mut s.m[xi * block(t.c_out, n)..];
                T::gemm_strided(t.c_out, t.c_in, n, a, b, m, n, false);
            }
            for (j, b) in images.enumerate() {
                let y = &mut ys[b * out_len..][..out_len];
                transform_tiles(t, &mut s, j, n, ty, rows, y);
            }
        }
    });
}

/// `V = Bᵀ d B` of the patches of tile rows `ty..ty + rows` of the group's
/// image `j`, into its columns of a group of `n` tiles, planar, one row
/// of `Bᵀ d B` at a time ([`bt_rows`]).
fn transform_patches<T: Float>(
    t: &Tiles,
    s: &mut Planar<T>,
    j: usize,
    n: usize,
    ty: usize,
    rows: usize,
) {
    let (wp, tw) = (t.wp, t.tiles[1]);
    let (col, half) = (j * rows * tw, tw + 1);
    let xp = &s.xp[j * t.c_in * t.plane..][..t.c_in * t.plane];
    // Row i of Bᵀ d: padded row `a` plus `sign` times padded row `b`.
    let one = T::ONE;
    let down = [(0, 2, -one), (1, 2, one), (2, 1, -one), (1, 3, -one)];
    for (c, plane) in xp.chunks_exact(t.plane).enumerate() {
        for r in 0..rows {
            let top = 2 * (ty + r) * wp;
            let row = |i: usize| {
                let row = &plane[top + i * wp..][..wp];
                [&row[..half], &row[half..]]
            };
            for (i, &(a, b, sign)) in down.iter().enumerate() {
                let start = 4 * i * block(t.c_in, n) + c * n + col + r * tw;
                let [o0, o1, o2, o3] = four_mut(&mut s.v, start, block(t.c_in, n), tw);
                bt_rows(row(a), row(b), sign, o0, o1, o2, o3);
            }
        }
    }
}

/// `Y = Aᵀ M A` of tile rows `ty..ty + rows` of the group's image `j` (its
/// columns of a group of `n` tiles) into that image, `y: [c_out, oh, ow]`,
/// the tiles' rows and columns past the output dropped.
fn transform_tiles<T: Float>(
    t: &Tiles,
    s: &mut Planar<T>,
    j: usize,
    n: usize,
    ty: usize,
    rows: usize,
    y: &mut [T],
) {
    let ([oh, ow], tw) = (t.out, t.tiles[1]);
    let (col, len) = (j * rows * tw, rows * tw);
    for (o, image) in y.chunks_exact_mut(oh * ow).enumerate() {
        // Aᵀ down the tiles' columns, over all `rows` tile rows at once
        // (their entries of each `M_ξ` row are contiguous).
        for x in 0..4 {
            let at = |i: usize| (4 * i + x) * block(t.c_out, n) + o * n + col;
            let m = |i: usize| &s.m[at(i)..][..len];
            let (top, bottom) = s.up[2 * x * len..][..2 * len].split_at_mut(len);
            at_lanes(m(0), m(1), m(2), m(3), top, bottom);
        }
        for r in 0..rows {
            for half in 0..2 {
                let oy = 2 * (ty + r) + half;
                if oy < oh {
                    let up = |x: usize| &s.up[(2 * x + half) * len + r * tw..][..tw];
                    at_along(up(0), up(1), up(2), up(3), &mut image[oy * ow..][..ow]);
                }
            }
        }
    }
}

/// [`crate::kernels::conv::forward`] for geometries where [`applies`].
pub(crate) fn forward<T: Float>(d: &ConvDims, x: &[T], w: &[T], y: &mut [T]) {
    let u = transform_weights(w, d.c_out, d.image.channels, false);
    correlate(&Tiles::forward(d), &u, x, y);
}

/// The gradients of [`forward`] with respect to its input (into `grad_x`)
/// and its weights (into `grad_w`), whichever are given, from `(x, w,
/// grad_out)`, for geometries where [`applies`]; every element of each is
/// written.
pub(crate) fn backward<T: Float>(
    d: &ConvDims,
    (x, w, grad_out): (&[T], &[T], &[T]),
    grad_x: Option<&mut [T]>,
    grad_w: Option<&mut [T]>,
) {
    if let Some(gx) = grad_x {
        let u = transform_weights(w, d.c_out, d.image.channels, true);
        correlate(&Tiles::input_grad(d), &u, grad_out, gx);
    }
    if let Some(gw) = grad_w {
        weight_grad(&Tiles::forward(d), d.batch, x, grad_out, gw);
    }
}

/// One thread's buffers for [`weight_grad`], channels-last.
struct Lanes<T> {
    /// The padded image, `[2·th + 2, wp, c_in]`.
    xpt: Vec<T>,
    /// The output gradient, `[2·th, 2·tw, c_out]` (zero past the output).
    gt: Vec<T>,
    /// `V`, `[16, band, c_in]`, and `A ∂Y Aᵀ`, `[16, band, c_out]`.
    v: Vec<T>,
    dm: Vec<T>,
    /// One tile's transform down its rows, `[4, 4, c]`.
    down: Vec<T>,
}

/// `∂g` of [`forward`] into `grad_w: [c_out, c_in, 3, 3]`: `∂U_ξ` summed
/// over the images (one share per thread), then `Gᵀ ∂U G`.
fn weight_grad<T: Float>(t: &Tiles, batch: usize, x: &[T], grad_out: &[T], grad_w: &mut [T]) {
    let (c_in, c_out) = (t.c_in, t.c_out);
    let parts = map_ranges(batch, t.work(), |range| {
        let (groups, most) = t.groups(range.len());
        let [th, tw] = t.tiles;
        let mut s = Lanes {
            xpt: vec![T::ZERO; t.plane * c_in],
            gt: vec![T::ZERO; 4 * th * tw * c_out],
            v: vec![T::ZERO; XI * block(c_in, most)],
            dm: vec![T::ZERO; XI * block(c_out, most)],
            down: vec![T::ZERO; XI * c_in.max(c_out)],
        };
        let mut du = vec![T::ZERO; XI * c_out * c_in];
        for (images, ty, rows) in groups {
            let n = images.len() * rows * tw;
            for (j, b) in images.map(|b| range.start + b).enumerate() {
                if ty == 0 {
                    t.pad_transposed(&x[b * t.in_len()..][..t.in_len()], &mut s.xpt);
                    transpose_grad(t, &grad_out[b * t.out_len()..][..t.out_len()], &mut s.gt);
                }
                for r in 0..rows {
                    for tx in 0..tw {
                        let k = (j * rows + r) * tw + tx;
                        lanes_patch(t, &mut s, ty + r, tx, k, n);
                        lanes_grad(t, &mut s, ty + r, tx, k, n);
                    }
                }
            }
            for xi in 0..XI {
                let a = MatRef {
                    data: &s.dm[..],
                    offset: xi * block(c_out, n),
                    row_stride: 1,
                    col_stride: c_out,
                };
                let b = MatRef {
                    data: &s.v[..],
                    offset: xi * block(c_in, n),
                    row_stride: c_in,
                    col_stride: 1,
                };
                let out = &mut du[xi * c_out * c_in..];
                T::gemm_strided(c_out, n, c_in, a, b, out, c_in, true);
            }
        }
        du
    });
    let mut du = vec![T::ZERO; XI * c_out * c_in];
    sum_parts(parts, &mut du);
    // Gᵀ ∂U G, one output channel at a time: its rows of the 16 `∂U_ξ`
    // gathered `[16, c_in]`, transformed along the lanes into `[9, c_in]`.
    let mut rows = vec![T::ZERO; XI * c_in];
    let mut taps = vec![T::ZERO; 9 * c_in];
    for (o, g) in grad_w.chunks_exact_mut(9 * c_in).enumerate() {
        for (xi, row) in rows.chunks_exact_mut(c_in).enumerate() {
            row.copy_from_slice(&du[(xi * c_out + o) * c_in..][..c_in]);
        }
        grad_lanes(&rows, &mut taps);
        for (tap, src) in taps.chunks_exact(c_in).enumerate() {
            for (i, &v) in src.iter().enumerate() {
                g[i * 9 + tap] = v;
            }
        }
    }
}

/// `Gᵀ ∂U G` lane by lane: `du: [16, n]` into `taps: [9, n]` (kernel taps
/// row-major).
fn grad_lanes<T: Float>(du: &[T], taps: &mut [T]) {
    let half = T::from_f64(0.5);
    let n = du.len() / XI;
    // Gᵀ v of a 4-vector.
    let gt = |a: T, b: T, c: T, e: T| [a + (b + c) * half, (b - c) * half, (b + c) * half + e];
    for l in 0..n {
        let u = |xi: usize| du[xi * n + l];
        // Along each row of ∂U, then down each of the three columns.
        let rows = [
            gt(u(0), u(1), u(2), u(3)),
            gt(u(4), u(5), u(6), u(7)),
            gt(u(8), u(9), u(10), u(11)),
            gt(u(12), u(13), u(14), u(15)),
        ];
        for x in 0..3 {
            let col = gt(rows[0][x], rows[1][x], rows[2][x], rows[3][x]);
            for (y, v) in col.into_iter().enumerate() {
                taps[(3 * y + x) * n + l] = v;
            }
        }
    }
}

/// Copies one image's output gradient `[c_out, oh, ow]` into `gt: [2·th,
/// 2·tw, c_out]`, whose rows and columns past the output stay zero.
fn transpose_grad<T: Float>(t: &Tiles, grad: &[T], gt: &mut [T]) {
    let ([oh, ow], c) = (t.out, t.c_out);
    let wide = 2 * t.tiles[1];
    for oy in 0..oh {
        for ox in 0..ow {
            let dst = &mut gt[(oy * wide + ox) * c..][..c];
            for (o, d) in dst.iter_mut().enumerate() {
                *d = grad[(o * oh + oy) * ow + ox];
            }
        }
    }
}

/// `V = Bᵀ d B` of the patch of tile `(ty, tx)` into entry `k` of a band of
/// `n` tiles, channels-last.
fn lanes_patch<T: Float>(t: &Tiles, s: &mut Lanes<T>, ty: usize, tx: usize, k: usize, n: usize) {
    let c = t.c_in;
    let down = &mut s.down[..XI * c];
    for col in 0..4 {
        let p = |i: usize| &s.xpt[((2 * ty + i) * t.wp + 2 * tx + col) * c..][..c];
        let [o0, o1, o2, o3] = four_mut(down, col * c, 4 * c, c);
        bt_lanes(p(0), p(1), p(2), p(3), o0, o1, o2, o3);
    }
    for i in 0..4 {
        let d = |col: usize| &down[(4 * i + col) * c..][..c];
        let [o0, o1, o2, o3] = four_mut(&mut s.v, 4 * i * block(c, n) + k * c, block(c, n), c);
        bt_lanes(d(0), d(1), d(2), d(3), o0, o1, o2, o3);
    }
}

/// `A ∂Y Aᵀ` of the output gradient's tile `(ty, tx)` into entry `k` of a
/// band of `n` tiles, channels-last.
fn lanes_grad<T: Float>(t: &Tiles, s: &mut Lanes<T>, ty: usize, tx: usize, k: usize, n: usize) {
    let (c, wide) = (t.c_out, 2 * t.tiles[1]);
    let down = &mut s.down[..8 * c];
    for col in 0..2 {
        let g = |i: usize| &s.gt[((2 * ty + i) * wide + 2 * tx + col) * c..][..c];
        let [o0, o1, o2, o3] = four_mut(down, col * c, 2 * c, c);
        a_lanes(g(0), g(1), o0, o1, o2, o3);
    }
    for i in 0..4 {
        let d = |col: usize| &down[(i * 2 + col) * c..][..c];
        let [o0, o1, o2, o3] = four_mut(&mut s.dm, 4 * i * block(c, n) + k * c, block(c, n), c);
        a_lanes(d(0), d(1), o0, o1, o2, o3);
    }
}
