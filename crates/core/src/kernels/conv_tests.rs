//! Tests of the convolution kernels (`kernels::conv` and the shifted GEMMs
//! of `kernels::conv_shift`) against naive loops and each other.

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
        // Element by element against the im2col path.
        let (xl, wl, yl) = (
            d.batch * d.image_len(),
            d.c_out * d.k(),
            d.batch * d.c_out * d.l(),
        );
        let (x, w, g) = (values(xl, 4), values(wl, 5), values(yl, 6));
        let close = |a: &[f64], b: &[f64], what: &str| {
            for (i, (p, q)) in a.iter().zip(b).enumerate() {
                assert!(
                    (p - q).abs() <= 1e-10 * (1.0 + q.abs()),
                    "{d:?} {what}[{i}]: {p} vs {q}"
                );
            }
        };
        let (mut a, mut b) = (vec![f64::NAN; yl], vec![f64::NAN; yl]);
        forward(&d, &x, &w, &mut a);
        forward_im2col(&d, &x, &w, &mut b);
        close(&a, &b, "y");
        let (mut a, mut b) = (vec![f64::NAN; xl], vec![f64::NAN; xl]);
        grad_input(&d, &g, &w, &mut a);
        grad_input_im2col(&d, &g, &w, &mut b);
        close(&a, &b, "grad_x");
        let (mut a, mut b) = (vec![f64::NAN; wl], vec![f64::NAN; wl]);
        grad_weight(&d, &x, &g, &mut a);
        grad_weight_im2col(&d, &x, &g, &mut b);
        close(&a, &b, "grad_w");
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
