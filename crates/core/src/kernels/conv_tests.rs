//! Tests of the convolution kernels (`kernels::conv`, the shifted GEMMs of
//! `kernels::conv_shift`, Winograd's F(2×2, 3×3) of
//! `kernels::conv_winograd` and the direct sums of `kernels::conv_direct`)
//! against naive loops and each other.

use super::*;
use crate::ops::conv::tests::naive_conv2d;
use crate::{Conv2dParams, Tensor};

/// The direct loops of the op's tests, on this geometry.
fn naive(d: &ConvDims, x: &[f64], w: &[f64]) -> Vec<f64> {
    let g = &d.image;
    let x = Tensor::from_vec(x.to_vec(), [d.batch, g.channels, g.size[0], g.size[1]]);
    let w = Tensor::from_vec(
        w.to_vec(),
        [d.c_out, g.channels / d.groups, g.kernel[0], g.kernel[1]],
    );
    let p = Conv2dParams {
        stride: g.stride,
        padding: g.padding,
        dilation: g.dilation,
        groups: d.groups,
    };
    naive_conv2d(&x.unwrap(), &w.unwrap(), None, p).to_vec()
}

fn values(n: usize, seed: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (((i + seed) * 7919 % 1013) as f64 - 506.0) / 253.0)
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Forward against the naive loops; both gradients through the adjoint
/// identities <conv(x, w), g> = <x, grad_input(g, w)> = <w, grad_weight(x, g)>;
/// outputs start as NaN, so every element must be written.
fn check(d: ConvDims) {
    let xl = d.batch * d.image_len();
    let wl = d.c_out * d.k();
    let yl = d.batch * d.c_out * d.l();
    let (x, w, g) = (values(xl, 1), values(wl, 2), values(yl, 3));
    let mut y = vec![f64::NAN; yl];
    forward(&d, &x, &w, &mut y);
    let want = naive(&d, &x, &w);
    for (i, (a, b)) in y.iter().zip(&want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-9 * (1.0 + b.abs()),
            "{d:?} y[{i}]: {a} vs {b}"
        );
    }
    let mut gx = vec![f64::NAN; xl];
    grad_input(&d, &g, &w, &mut gx);
    let mut gw = vec![f64::NAN; wl];
    grad_weight(&d, &x, &g, &mut gw);
    let lhs = dot(&y, &g);
    let scale = 1e-9 * (1.0 + lhs.abs());
    assert!((lhs - dot(&x, &gx)).abs() <= scale, "{d:?} grad_input");
    assert!((lhs - dot(&w, &gw)).abs() <= scale, "{d:?} grad_weight");
    // Both at once: the same input gradient bit for bit, the same weight
    // gradient up to the order in which the threads' shares are summed.
    let (mut bx, mut bw) = (vec![f64::NAN; xl], vec![f64::NAN; wl]);
    backward(&d, &x, &w, &g, Some(&mut bx), Some(&mut bw));
    let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&bx), bits(&gx), "{d:?} backward grad_x");
    for (i, (a, b)) in bw.iter().zip(&gw).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
            "{d:?} backward grad_w[{i}]"
        );
    }
    // The f32 path agrees with the f64 one.
    let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
    let mut y32 = vec![f32::NAN; yl];
    forward(&d, &f(&x), &f(&w), &mut y32);
    for (a, b) in y32.iter().zip(&want) {
        assert!((*a as f64 - b).abs() <= 1e-4 * (1.0 + b.abs()), "{d:?} f32");
    }
}

fn dims(batch: usize, c: [usize; 3], size: [usize; 2], k: [usize; 2], spd: [usize; 3]) -> ConvDims {
    let [c_in, c_out, groups] = c;
    let [stride, padding, dilation] = spd;
    ConvDims {
        batch,
        image: Geom2d {
            channels: c_in,
            size,
            kernel: k,
            stride: [stride, stride.max(1) % 3 + 1],
            padding: [padding, padding / 2],
            dilation: [dilation, 1],
        },
        groups,
        c_out,
    }
}

/// One route (called directly, whatever [`Route::choose`] would take)
/// element by element against the im2col path's, within `tol` relative;
/// each gradient alone and both at once.
fn matches_im2col(d: &ConvDims, route: Route, tol: f64) {
    let (xl, wl, yl) = (
        d.batch * d.image_len(),
        d.c_out * d.k(),
        d.batch * d.c_out * d.l(),
    );
    let (x, w, g) = (values(xl, 4), values(wl, 5), values(yl, 6));
    let close = |a: &[f64], b: &[f64], what: &str| {
        for (i, (p, q)) in a.iter().zip(b).enumerate() {
            assert!(
                (p - q).abs() <= tol * (1.0 + q.abs()),
                "{d:?} {what}[{i}]: {p} vs {q}"
            );
        }
    };
    let (mut a, mut b) = (vec![f64::NAN; yl], vec![f64::NAN; yl]);
    forward_by(route, d, &x, &w, &mut a);
    forward_im2col(d, &x, &w, &mut b);
    close(&a, &b, "y");
    let (mut want_x, mut want_w) = (vec![f64::NAN; xl], vec![f64::NAN; wl]);
    grad_input_im2col(d, &g, &w, &mut want_x);
    grad_weight_im2col(d, &x, &g, &mut want_w);
    let (mut gx, mut gw) = (vec![f64::NAN; xl], vec![f64::NAN; wl]);
    backward_by(route, d, &x, &w, &g, Some(&mut gx), Some(&mut gw));
    close(&gx, &want_x, "grad_x");
    close(&gw, &want_w, "grad_w");
    let mut gx = vec![f64::NAN; xl];
    backward_by(route, d, &[], &w, &g, Some(&mut gx), None);
    close(&gx, &want_x, "grad_x alone");
    let mut gw = vec![f64::NAN; wl];
    backward_by(route, d, &x, &[], &g, None, Some(&mut gw));
    close(&gw, &want_w, "grad_w alone");
}

/// A geometry with stride 1, where the shifted GEMMs apply.
fn shift_dims(batch: usize, c: [usize; 3], size: [usize; 2], k: [usize; 2]) -> ConvDims {
    let mut d = dims(batch, c, size, k, [1, 0, 1]);
    d.image.stride = [1, 1];
    d
}

#[test]
fn shifted_gemms_match_naive_loops_and_the_im2col_path() {
    let mut geometries = vec![
        // W5's shape, smaller: 3x3, padding 1.
        shift_dims(2, [16, 16, 1], [6, 7], [3, 3]),
        // Two groups of 16 channels in and out, a 2x3 kernel, no padding.
        shift_dims(3, [32, 32, 2], [5, 6], [2, 3]),
        // One image, one output column.
        shift_dims(1, [32, 16, 1], [4, 3], [2, 3]),
    ];
    for (padding, dilation) in [([1, 1], [1, 1]), ([2, 1], [2, 1]), ([0, 2], [1, 3])] {
        let mut d = shift_dims(2, [16, 16, 1], [5, 6], [3, 2]);
        (d.image.padding, d.image.dilation) = (padding, dilation);
        geometries.push(d);
    }
    // Enough work for two threads.
    geometries.push(shift_dims(4, [64, 16, 1], [12, 12], [3, 3]));
    // Outputs of the image's size ("same" padding) in less usual shapes.
    for (c, size, k, padding, dilation) in [
        // Two groups.
        ([32, 32, 2], [5, 7], [3, 3], [1, 1], [1, 1]),
        // No tap reads the output pixel's own input pixel.
        ([16, 16, 1], [6, 5], [2, 2], [1, 1], [2, 2]),
        // Taps four columns to each side.
        ([16, 16, 1], [4, 9], [3, 5], [2, 4], [2, 2]),
        // One row.
        ([16, 32, 1], [1, 8], [1, 3], [0, 1], [1, 1]),
    ] {
        let mut d = shift_dims(2, c, size, k);
        (d.image.padding, d.image.dilation) = (padding, dilation);
        assert_eq!(d.image.out(), Some(size), "{d:?}");
        geometries.push(d);
    }
    for d in geometries {
        assert!(d.image.out().is_some() && conv_shift::applies(&d), "{d:?}");
        check(d);
        matches_im2col(&d, Route::Shift, 1e-10);
    }
    // Channel counts that are not multiples of 16 in or out (per
    // group), or a stride: the im2col path.
    for (c, stride) in [
        ([8, 16, 1], [1, 1]),
        ([20, 16, 1], [1, 1]),
        ([16, 20, 1], [1, 1]),
        ([32, 32, 4], [1, 1]),
        ([32, 32, 1], [1, 2]),
    ] {
        let mut d = shift_dims(1, c, [5, 5], [3, 3]);
        d.image.stride = stride;
        assert!(!conv_shift::applies(&d), "{d:?}");
    }
}

#[test]
fn conv_kernels_match_naive_loops_at_awkward_sizes() {
    for batch in [0, 1, 3] {
        // [0, 4, 2]: no input channels, found by the ops fuzz target.
        for c in [
            [1, 1, 1],
            [3, 2, 1],
            [4, 6, 2],
            [3, 3, 3],
            [2, 0, 1],
            [0, 4, 2],
        ] {
            for size in [[1, 1], [4, 5], [7, 3]] {
                for k in [[1, 1], [2, 3], [3, 3]] {
                    for spd in [[1, 0, 1], [2, 1, 1], [1, 2, 2], [3, 1, 1]] {
                        let d = dims(batch, c, size, k, spd);
                        if d.image.out().is_some() {
                            check(d);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn conv_kernels_match_naive_loops_for_one_image_per_tile_and_threads() {
    // 576 rows × 43·21 columns per image exceed the tile budget: each
    // image in bands of output rows (15, 15, 13); the two images
    // carry enough work to split over two threads.
    let d = dims(2, [64, 2, 1], [43, 43], [3, 3], [1, 1, 1]);
    assert_eq!((d.image.out(), d.band()), (Some([43, 21]), 15));
    check(d);
    // Banded with groups, strides 2 × 3 and dilation 2: 46 output rows
    // in bands of 10, 10, 10, 10, 6.
    let d = dims(1, [64, 4, 2], [94, 120], [3, 3], [2, 1, 2]);
    assert_eq!((d.image.out(), d.band()), (Some([46, 40]), 10));
    check(d);
    // Many small images per tile, split over threads.
    check(dims(40, [3, 8, 1], [12, 12], [5, 5], [1, 2, 1]));
}

#[test]
fn winograd_matches_naive_loops_and_the_im2col_path() {
    let mut geometries = Vec::new();
    for (batch, [c_in, c_out], size, padding) in [
        // W5's shape, smaller.
        (2, [32, 16], [6, 7], [1, 1]),
        // No padding: a 3 x 3 output, odd, so the last tiles are cut.
        (1, [12, 32], [5, 5], [0, 0]),
        // Padding 2 (the input gradient pads by 0), more images.
        (3, [32, 16], [4, 9], [2, 2]),
        // Padding 2 and 0 on different axes; output [9, 2].
        (2, [20, 8], [7, 4], [2, 0]),
        // One output pixel.
        (1, [12, 8], [3, 3], [0, 0]),
        // Channel counts that fill no GEMM panel.
        (1, [17, 19], [8, 8], [1, 1]),
        // Enough work for two threads.
        (4, [64, 32], [12, 12], [1, 1]),
        // Two bands of tile rows (4 + 4), the last tile row and column cut.
        (1, [64, 64], [15, 63], [1, 1]),
        // Whole images two at a time (25 tiles each): groups of 2 and 1.
        (3, [128, 128], [10, 10], [1, 1]),
    ] {
        let mut d = shift_dims(batch, [c_in, c_out, 1], size, [3, 3]);
        d.image.padding = padding;
        geometries.push(d);
    }
    let groups = |d: &ConvDims| {
        let t = conv_winograd::Tiles::forward(d);
        (t.grouping(), t.groups(d.batch).0.count())
    };
    assert_eq!(groups(&geometries[7]), ((1, 4), 2));
    assert_eq!(groups(&geometries[8]), ((2, 5), 2));
    for d in geometries {
        assert!(conv_winograd::applies(&d), "{d:?}");
        check(d);
        matches_im2col(&d, Route::Winograd, 1e-10);
    }
    // Other kernels, strides, dilations, groups, paddings over 2, fewer
    // than 12 input or 8 output channels, and 16 input channels where the
    // shifted GEMMs apply, take another route.
    for (k, stride, dilation, groups, padding, [c_in, c_out]) in [
        ([3, 2], [1, 1], [1, 1], 1, [1, 1], [32, 32]),
        ([3, 3], [2, 1], [1, 1], 1, [1, 1], [32, 32]),
        ([3, 3], [1, 1], [1, 2], 1, [1, 1], [32, 32]),
        ([3, 3], [1, 1], [1, 1], 2, [1, 1], [64, 64]),
        ([3, 3], [1, 1], [1, 1], 1, [3, 1], [32, 32]),
        ([3, 3], [1, 1], [1, 1], 1, [1, 1], [11, 32]),
        ([3, 3], [1, 1], [1, 1], 1, [1, 1], [32, 7]),
        ([3, 3], [1, 1], [1, 1], 1, [1, 1], [16, 64]),
    ] {
        let mut d = shift_dims(1, [c_in, c_out, groups], [6, 6], k);
        (d.image.stride, d.image.dilation, d.image.padding) = (stride, dilation, padding);
        assert!(!conv_winograd::applies(&d), "{d:?}");
    }
}

#[test]
fn winograd_rounds_f32_about_as_well_as_the_direct_sum() {
    // W5's channels on a smaller image: the f32 error of each route
    // against the f64 result, relative to the largest value. Winograd's
    // transforms add a few roundings per element, but its sums are shorter
    // (16 GEMMs of depth c_in instead of one of depth 9 c_in).
    let d = {
        let mut d = shift_dims(2, [64, 64, 1], [16, 16], [3, 3]);
        d.image.padding = [1, 1];
        d
    };
    let (xl, wl, yl) = (
        d.batch * d.image_len(),
        d.c_out * d.k(),
        d.batch * d.c_out * d.l(),
    );
    let (x, w, g) = (values(xl, 7), values(wl, 8), values(yl, 9));
    let w: Vec<f64> = w.iter().map(|v| v / 24.0).collect();
    let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
    let error = |got: &[f32], want: &[f64]| {
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = got
            .iter()
            .zip(want)
            .fold(0.0f64, |m, (a, b)| m.max((*a as f64 - b).abs()));
        worst / scale
    };
    // Winograd's error at most twice the direct sum's.
    let compare = |what: &str, wino: &[f32], direct: &[f32], want: &[f64]| {
        let (e_wino, e_direct) = (error(wino, want), error(direct, want));
        assert!(
            e_wino < 2.0 * e_direct,
            "{what}: {e_wino:e} vs {e_direct:e}"
        );
    };
    // Measured: 3.4e-7 against 5.0e-7.
    let mut want = vec![0.0; yl];
    forward_im2col(&d, &x, &w, &mut want);
    let (mut wino, mut direct) = (vec![f32::NAN; yl], vec![f32::NAN; yl]);
    conv_winograd::forward(&d, &f(&x), &f(&w), &mut wino);
    forward_im2col(&d, &f(&x), &f(&w), &mut direct);
    compare("forward", &wino, &direct, &want);
    // The weight gradient sums over every tile of every image. Measured:
    // 2.6e-7 against 5.8e-7.
    let mut want = vec![0.0; wl];
    grad_weight_im2col(&d, &x, &g, &mut want);
    let (mut wino, mut direct) = (vec![f32::NAN; wl], vec![f32::NAN; wl]);
    conv_winograd::backward(&d, (&f(&x), &[], &f(&g)), None, Some(&mut wino));
    grad_weight_im2col(&d, &f(&x), &f(&g), &mut direct);
    compare("grad_w", &wino, &direct, &want);
}

#[test]
fn winograd_matches_im2col_on_random_geometries() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(41);
    let mut tested = 0;
    while tested < 40 {
        let d = ConvDims {
            batch: rng.random_range(0..4),
            image: Geom2d {
                channels: rng.random_range(12..40),
                size: [rng.random_range(1..12), rng.random_range(1..12)],
                kernel: [3, 3],
                stride: [1, 1],
                padding: [rng.random_range(0..3), rng.random_range(0..3)],
                dilation: [1, 1],
            },
            groups: 1,
            c_out: rng.random_range(8..40),
        };
        if conv_winograd::applies(&d) {
            matches_im2col(&d, Route::Winograd, 1e-10);
            tested += 1;
        }
    }
}

#[test]
fn routes_fit_what_they_can_compute_and_choose_takes_the_measured_one() {
    let d = |c: [usize; 3], k: [usize; 2], stride: usize| {
        let mut d = shift_dims(2, c, [6, 7], k);
        d.image.stride = [stride, stride];
        d.image.padding = [1, 1];
        d
    };
    for (dims, want) in [
        // W5's channels; 16 channels in, where the shifted GEMMs win.
        (d([64, 64, 1], [3, 3], 1), Route::Winograd),
        (d([16, 16, 1], [3, 3], 1), Route::Shift),
        (d([16, 64, 1], [3, 3], 1), Route::Shift),
        // 12 in and 8 out, where the shifted GEMMs do not pay.
        (d([12, 8, 1], [3, 3], 1), Route::Winograd),
        // Too few channels for either, a 5x5 kernel, groups, a stride.
        (d([8, 8, 1], [3, 3], 1), Route::Im2col),
        (d([16, 16, 1], [5, 5], 1), Route::Shift),
        (d([64, 64, 2], [3, 3], 1), Route::Shift),
        (d([64, 64, 1], [3, 3], 2), Route::Im2col),
        // Few channels: LeNet-5's first layer, and 8 -> 2; but not 2 -> 8.
        (d([1, 6, 1], [5, 5], 1), Route::Direct),
        (d([8, 2, 1], [3, 3], 1), Route::Direct),
        (d([2, 8, 1], [3, 3], 1), Route::Im2col),
        (d([1, 6, 1], [5, 5], 2), Route::Im2col),
    ] {
        assert_eq!(Route::choose(&dims), want, "{dims:?}");
        assert!(want.fits(&dims) && Route::Im2col.fits(&dims), "{dims:?}");
    }
    // The shifted GEMMs compute any stride-1 convolution, paying or not:
    // channel counts that fill no panel, groups, a dilated 2x3 kernel.
    for (c, k, dilation) in [
        ([20, 12, 1], [3, 3], [1, 1]),
        ([6, 4, 2], [2, 3], [1, 2]),
        ([3, 5, 1], [1, 1], [1, 1]),
    ] {
        let mut dims = d(c, k, 1);
        dims.image.dilation = dilation;
        assert!(
            Route::Shift.fits(&dims) && !conv_shift::applies(&dims),
            "{dims:?}"
        );
        matches_im2col(&dims, Route::Shift, 1e-10);
    }
    // Winograd's F(2x2, 3x3) computes any 3x3 stride-1 convolution of one
    // group with padding up to 2, paying or not.
    let dims = d([3, 5, 1], [3, 3], 1);
    assert!(Route::Winograd.fits(&dims) && !conv_winograd::applies(&dims));
    matches_im2col(&dims, Route::Winograd, 1e-10);
    assert!(!Route::Winograd.fits(&d([16, 16, 1], [3, 3], 2)));
    assert!(!Route::Shift.fits(&d([16, 16, 1], [3, 3], 2)));
    // The direct sums compute any stride-1 convolution of one group
    // without dilation and with padding smaller than the kernel.
    let dims = d([16, 16, 1], [3, 3], 1);
    assert!(Route::Direct.fits(&dims) && !conv_direct::applies(&dims));
    matches_im2col(&dims, Route::Direct, 1e-10);
    let mut dilated = d([2, 2, 1], [3, 3], 1);
    dilated.image.dilation = [1, 2];
    let mut padded = d([2, 2, 1], [3, 3], 1);
    padded.image.padding = [1, 3];
    for dims in [
        d([2, 2, 1], [3, 3], 2),
        d([2, 2, 2], [3, 3], 1),
        dilated,
        padded,
    ] {
        assert!(!Route::Direct.fits(&dims), "{dims:?}");
    }
}

/// A geometry with stride 1 and no dilation, as the direct sums take.
fn direct_dims(
    batch: usize,
    c: [usize; 2],
    size: [usize; 2],
    k: [usize; 2],
    pad: [usize; 2],
) -> ConvDims {
    let image = Geom2d {
        channels: c[0],
        size,
        kernel: k,
        stride: [1, 1],
        padding: pad,
        dilation: [1, 1],
    };
    ConvDims {
        batch,
        image,
        groups: 1,
        c_out: c[1],
    }
}

#[test]
fn direct_sums_match_naive_loops_and_the_im2col_path() {
    for d in [
        // LeNet-5's first layer, smaller: 5x5, padding 2.
        direct_dims(3, [1, 6], [9, 10], [5, 5], [2, 2]),
        // 3x3, padding 1: output channels in blocks of 4, 2 and 1, rows of
        // 13 pixels in blocks of 8, 4 and 1.
        direct_dims(2, [2, 7], [6, 13], [3, 3], [1, 1]),
        // A kernel width other than 3 and 5 (taps one at a time).
        direct_dims(2, [3, 2], [7, 9], [2, 4], [0, 3]),
        // 1x1.
        direct_dims(1, [4, 3], [3, 5], [1, 1], [0, 0]),
        // A kernel larger than the image (the full correlation).
        direct_dims(2, [2, 3], [3, 2], [7, 5], [6, 4]),
        // Outputs two pixels wide.
        direct_dims(2, [1, 4], [5, 2], [3, 3], [1, 1]),
        // Enough work for two threads.
        direct_dims(40, [2, 4], [28, 28], [5, 5], [2, 2]),
    ] {
        assert!(Route::Direct.fits(&d), "{d:?}");
        if conv_direct::applies(&d) {
            check(d);
        }
        matches_im2col(&d, Route::Direct, 1e-10);
    }
}

#[test]
fn direct_sums_match_im2col_on_random_geometries() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(43);
    let mut tested = 0;
    while tested < 40 {
        let k = [rng.random_range(1..7), rng.random_range(1..7)];
        let d = direct_dims(
            rng.random_range(0..4),
            [rng.random_range(1..5), rng.random_range(1..10)],
            [rng.random_range(1..12), rng.random_range(1..12)],
            k,
            [rng.random_range(0..k[0]), rng.random_range(0..k[1])],
        );
        if Route::Direct.fits(&d) {
            matches_im2col(&d, Route::Direct, 1e-10);
            tested += 1;
        }
    }
}

#[test]
#[should_panic(expected = "Winograd cannot compute")]
fn a_route_that_cannot_compute_the_geometry_panics() {
    let mut d = shift_dims(1, [16, 16, 1], [6, 6], [3, 3]);
    d.image.stride = [2, 2];
    let (x, w) = (vec![0.0f64; d.image_len()], vec![0.0; d.c_out * d.k()]);
    let mut y = vec![0.0; d.c_out * d.l()];
    forward_by(Route::Winograd, &d, &x, &w, &mut y);
}

#[test]
fn empty_images_with_padding_take_the_im2col_route() {
    // Padding alone makes an output from an image with no rows or no
    // columns: zero everywhere, with a zero weight gradient. The routes
    // that build no columns read the image row by row and do not take it
    // (the direct sums once did, and panicked: tests/no_panics.rs found
    // it). The three cases have the channels for which Winograd, the
    // shifted GEMMs and the direct sums would be chosen.
    for (c, size) in [([32, 16], [0, 5]), ([16, 16], [4, 0]), ([2, 3], [0, 3])] {
        let d = direct_dims(2, c, size, [3, 3], [2, 2]);
        assert_eq!(Route::choose(&d), Route::Im2col, "{d:?}");
        for route in [Route::Shift, Route::Winograd, Route::Direct] {
            assert!(!route.fits(&d), "{route:?} {d:?}");
        }
        check(d);
        let mut y = vec![f64::NAN; d.batch * d.c_out * d.l()];
        forward(&d, &[], &values(d.c_out * d.k(), 1), &mut y);
        assert!(y.iter().all(|&v| v == 0.0), "{d:?}");
    }
}
