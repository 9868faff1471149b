//! Tests of `conv1d` and `conv2d`: direct loops as the reference, the
//! lecture notes' golden cases, gradient checks and the error cases.

use super::*;
use crate::testing::*;
use rand::{Rng, SeedableRng};

/// Direct nested-loop 2-D cross-correlation with groups (f64).
pub(crate) fn naive_conv2d(
    x: &Tensor<f64>,
    w: &Tensor<f64>,
    bias: Option<&Tensor<f64>>,
    p: Conv2dParams,
) -> Tensor<f64> {
    let (xd, wd) = (x.dims(), w.dims());
    let (n, c_in, h, wi) = (xd[0], xd[1], xd[2], xd[3]);
    let (c_out, cg, kh, kw) = (wd[0], wd[1], wd[2], wd[3]);
    let o = |a: usize, size: usize, k: usize| {
        (size + 2 * p.padding[a] - p.dilation[a] * (k - 1) - 1) / p.stride[a] + 1
    };
    let (oh, ow) = (o(0, h, kh), o(1, wi, kw));
    let per_group_out = c_out / p.groups;
    let (xs, ws) = (x.as_slice(), w.as_slice());
    let mut y = vec![0.0; n * c_out * oh * ow];
    for b in 0..n {
        for oc in 0..c_out {
            let grp = oc / per_group_out;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = bias.map_or(0.0, |b| b.as_slice()[oc]);
                    for c in 0..cg {
                        let ic = grp * cg + c;
                        for i in 0..kh {
                            for j in 0..kw {
                                let iy = (oy * p.stride[0] + i * p.dilation[0]) as isize
                                    - p.padding[0] as isize;
                                let ix = (ox * p.stride[1] + j * p.dilation[1]) as isize
                                    - p.padding[1] as isize;
                                if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= wi {
                                    continue;
                                }
                                acc += ws[((oc * cg + c) * kh + i) * kw + j]
                                    * xs[((b * c_in + ic) * h + iy as usize) * wi + ix as usize];
                            }
                        }
                    }
                    y[((b * c_out + oc) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    Tensor::from_vec(y, [n, c_out, oh, ow]).unwrap()
}

fn close(a: &Tensor<f64>, b: &Tensor<f64>, what: &str) {
    assert_eq!(a.dims(), b.dims(), "{what}");
    for (x, y) in a.as_slice().iter().zip(b.as_slice()) {
        assert!(
            (x - y).abs() <= 1e-10 * (1.0 + y.abs()),
            "{what}: {x} vs {y}"
        );
    }
}

/// A random valid configuration: (x shape, w shape, params).
fn random_config(rng: &mut impl Rng) -> ([usize; 4], [usize; 4], Conv2dParams) {
    loop {
        let groups = rng.random_range(1..=3);
        let c_in = groups * rng.random_range(1..=2);
        let c_out = groups * rng.random_range(1..=2);
        let p = Conv2dParams {
            stride: [rng.random_range(1..=3), rng.random_range(1..=3)],
            padding: [rng.random_range(0..=2), rng.random_range(0..=2)],
            dilation: [rng.random_range(1..=2), rng.random_range(1..=2)],
            groups,
        };
        let k = [rng.random_range(1..=3), rng.random_range(1..=3)];
        let size = [rng.random_range(1..=7), rng.random_range(1..=7)];
        let window = Im2colParams {
            kernel: k,
            stride: p.stride,
            padding: p.padding,
            dilation: p.dilation,
        };
        if window.geom(1, size).out().is_some() {
            let n = rng.random_range(1..=3);
            return (
                [n, c_in, size[0], size[1]],
                [c_out, c_in / groups, k[0], k[1]],
                p,
            );
        }
    }
}

#[test]
fn conv2d_matches_direct_loops_over_random_configurations() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for _ in 0..300 {
        let (xs, ws, p) = random_config(&mut rng);
        let x = Tensor::<f64>::randn(xs, 0.0, 1.0, &mut rng).unwrap();
        let w = Tensor::<f64>::randn(ws, 0.0, 1.0, &mut rng).unwrap();
        let b = Tensor::<f64>::randn([ws[0]], 0.0, 1.0, &mut rng).unwrap();
        close(
            &x.conv2d(&w, Some(&b), p),
            &naive_conv2d(&x, &w, Some(&b), p),
            &format!("{xs:?} {ws:?} {p:?}"),
        );
    }
}

#[test]
fn conv1d_matches_conv2d_with_a_height_of_one() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    for _ in 0..100 {
        let (xs, ws, p) = random_config(&mut rng);
        let x = Tensor::<f64>::randn([xs[0], xs[1], xs[3]], 0.0, 1.0, &mut rng).unwrap();
        let w = Tensor::<f64>::randn([ws[0], ws[1], ws[3]], 0.0, 1.0, &mut rng).unwrap();
        let p1 = Conv1dParams {
            stride: p.stride[1],
            padding: p.padding[1],
            dilation: p.dilation[1],
            groups: p.groups,
        };
        let p2 = Conv2dParams {
            stride: [1, p.stride[1]],
            padding: [0, p.padding[1]],
            dilation: [1, p.dilation[1]],
            groups: p.groups,
        };
        let want = naive_conv2d(&x.unsqueeze(2), &w.unsqueeze(2), None, p2).squeeze(2);
        close(
            &x.conv1d(&w, None, p1),
            &want,
            &format!("{xs:?} {ws:?} {p1:?}"),
        );
    }
}

#[test]
fn batches_larger_than_one_tile_match_direct_loops() {
    // 40 images of 64·9 rows × 1024 columns each exceed COLS_BUDGET.
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let x = Tensor::<f64>::randn([40, 64, 32, 32], 0.0, 1.0, &mut rng).unwrap();
    let w = Tensor::<f64>::randn([2, 64, 3, 3], 0.0, 0.1, &mut rng).unwrap();
    let p = Conv2dParams {
        padding: [1, 1],
        ..Default::default()
    };
    const { assert!(40 * 64 * 9 * 1024 > COLS_BUDGET) };
    close(
        &x.conv2d(&w, None, p),
        &naive_conv2d(&x, &w, None, p),
        "tiled",
    );
}

#[test]
fn tiled_gradients_equal_per_image_gradients() {
    // 9 images of 64·9 × 1024 columns run as tiles of 7 and 2 images.
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    let x = Tensor::<f64>::randn([9, 64, 32, 32], 0.0, 1.0, &mut rng).unwrap();
    let w = Tensor::<f64>::randn([2, 64, 3, 3], 0.0, 0.1, &mut rng).unwrap();
    let seed = Tensor::<f64>::randn([9, 2, 32, 32], 0.0, 1.0, &mut rng).unwrap();
    let p = Conv2dParams {
        padding: [1, 1],
        ..Default::default()
    };
    let (xl, wl) = (x.clone().requires_grad(), w.clone().requires_grad());
    let g = xl
        .conv2d(&wl, None, p)
        .backward_with(Some(&seed), crate::BackwardOptions::default())
        .unwrap();
    let mut gw = Tensor::<f64>::zeros([2, 64, 3, 3]);
    for b in 0..9 {
        let xb = x.narrow(0, b, 1).requires_grad();
        let wb = w.clone().requires_grad();
        let gb = xb
            .conv2d(&wb, None, p)
            .backward_with(
                Some(&seed.narrow(0, b, 1)),
                crate::BackwardOptions::default(),
            )
            .unwrap();
        close(
            &g.get(&xl).unwrap().narrow(0, b, 1),
            gb.get(&xb).unwrap(),
            "grad_x",
        );
        gw = &gw + gb.get(&wb).unwrap();
    }
    close(g.get(&wl).unwrap(), &gw, "grad_weight");
}

#[test]
fn plain_backward_kernels_equal_the_recorded_backward() {
    // A plain backward runs the slice kernels; `create_graph` runs the
    // tensor-op rules. Both must give the same gradients.
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    for _ in 0..100 {
        let (xs, ws, p) = random_config(&mut rng);
        let x = Tensor::<f64>::randn(xs, 0.0, 1.0, &mut rng)
            .unwrap()
            .requires_grad();
        let w = Tensor::<f64>::randn(ws, 0.0, 1.0, &mut rng)
            .unwrap()
            .requires_grad();
        let y = x.conv2d(&w, None, p);
        let seed = Tensor::<f64>::randn(y.shape().clone(), 0.0, 1.0, &mut rng).unwrap();
        let recorded = crate::BackwardOptions {
            create_graph: true,
            ..Default::default()
        };
        let a = y.backward_with(Some(&seed), recorded).unwrap();
        let b = y
            .backward_with(Some(&seed), crate::BackwardOptions::default())
            .unwrap();
        let what = format!("{xs:?} {ws:?} {p:?}");
        close(b.get(&x).unwrap(), a.get(&x).unwrap(), &what);
        close(b.get(&w).unwrap(), a.get(&w).unwrap(), &what);
    }
}

/// The lecture notes' 4×4 input ("O que é uma convolução"; the pooling
/// section, "Camadas pooling", uses it too).
pub(crate) fn notes_input() -> Tensor<f64> {
    Tensor::from_vec(
        vec![
            1.0, 3.0, 6.0, 4.0, 2.0, 2.0, 0.0, 4.0, 5.0, 0.0, 1.0, 4.0, 4.0, 4.0, 1.0, 3.0,
        ],
        [1, 1, 4, 4],
    )
    .unwrap()
}

#[test]
fn notes_golden_filter_without_and_with_padding() {
    // Lecture notes, "Exemplo de convolução" and "Bordas (padding) e passo
    // (stride)": filter [[-1, 1], [-1, 1]], stride 1. Values hand-derived from
    // y[i][j] = -x[i][j] + x[i][j+1] - x[i+1][j] + x[i+1][j+1] (no flip).
    let w = Tensor::from_vec(vec![-1.0, 1.0, -1.0, 1.0], [1, 1, 2, 2]).unwrap();
    let y = notes_input().conv2d(&w, None, Conv2dParams::default());
    assert_eq!(y.dims(), &[1, 1, 3, 3]);
    assert_eq!(
        y.to_vec(),
        vec![2.0, 1.0, 2.0, -5.0, -1.0, 7.0, -5.0, -2.0, 5.0]
    );
    // Padding 1: the notes' formula r = (w - f + 2b)/p = (4 - 2 + 2)/1 = 4,
    // but the output is floor((4 + 2 - 1 - 1)/1) + 1 = 5 per side.
    let p = Conv2dParams {
        padding: [1, 1],
        ..Default::default()
    };
    let y = notes_input().conv2d(&w, None, p);
    assert_eq!(y.dims(), &[1, 1, 5, 5]);
    #[rustfmt::skip]
    let want = vec![
        1.0, 2.0, 3.0, -2.0, -4.0,
        3.0, 2.0, 1.0, 2.0, -8.0,
        7.0, -5.0, -1.0, 7.0, -8.0,
        9.0, -5.0, -2.0, 5.0, -7.0,
        4.0, 0.0, -3.0, 2.0, -3.0,
    ];
    assert_eq!(y.to_vec(), want);
}

#[test]
fn notes_golden_moving_average_of_a_time_series() {
    // Lecture notes, "Outras aplicações": Y = [100, 120, 115, 200, 135, 130,
    // 140], f = [1/4, 1/4, 1/4, 1/4]. Hand-derived: 535/4, 570/4, 580/4, 605/4.
    let y = Tensor::from_vec(
        vec![100.0, 120.0, 115.0, 200.0, 135.0, 130.0, 140.0],
        [1, 1, 7],
    )
    .unwrap();
    let f = Tensor::full([1, 1, 4], 0.25);
    let avg = y.conv1d(&f, None, Conv1dParams::default());
    assert_eq!(avg.to_vec(), vec![133.75, 142.5, 145.0, 151.25]);
}

#[test]
fn notes_golden_classic_filters() {
    // Lecture notes, "Outros filtros" (identity, three edge detectors,
    // sharpen, box blur, Gaussian blur) on the notes' 4×4 input, no padding.
    // Hand-derived sums over each 3×3 window; checked with exact fractions.
    #[rustfmt::skip]
    let cases: [(&str, [f64; 9], [f64; 4]); 7] = [
        ("identity", [0., 0., 0., 0., 1., 0., 0., 0., 0.], [2., 0., 0., 1.]),
        ("edge 1", [1., 0., -1., 0., 0., 0., -1., 0., 1.], [-9., 3., -1., -3.]),
        ("edge 2", [0., 1., 0., 1., -4., 1., 0., 1., 0.], [-3., 13., 12., 1.]),
        ("edge 3", [-1., -1., -1., -1., 8., -1., -1., -1., -1.], [-2., -24., -19., -10.]),
        ("sharpen", [0., -1., 0., -1., 5., -1., 0., -1., 0.], [5., -13., -12., 0.]),
        ("box blur", [1. / 9.; 9], [20. / 9., 24. / 9., 19. / 9., 19. / 9.]),
        ("gaussian blur", [1. / 16., 2. / 16., 1. / 16., 2. / 16., 4. / 16., 2. / 16., 1. / 16., 2. / 16., 1. / 16.],
         [31. / 16., 37. / 16., 31. / 16., 27. / 16.]),
    ];
    for (name, f, want) in cases {
        let w = Tensor::from_vec(f.to_vec(), [1, 1, 3, 3]).unwrap();
        let y = notes_input().conv2d(&w, None, Conv2dParams::default());
        for (a, b) in y.as_slice().iter().zip(want) {
            assert!(
                (a - b).abs() < 1e-12,
                "{name}: {:?} vs {want:?}",
                y.to_vec()
            );
        }
    }
}

#[test]
fn conv_errors_come_before_any_arithmetic() {
    let x = Tensor::<f32>::zeros([1, 4, 5, 5]);
    let w = Tensor::<f32>::zeros([6, 2, 3, 3]);
    let d = Conv2dParams::default();
    let e = x.try_conv2d(&w, None, d).unwrap_err();
    assert_eq!(
        e.to_string(),
        "conv2d: input has 4 channels but the weight expects 2 (2 · 1 groups) \
         (input [1, 4, 5, 5], weight [6, 2, 3, 3], stride [1, 1], padding [0, 0], \
         dilation [1, 1], groups 1)"
    );
    // groups 2 fits the channels.
    assert!(
        x.try_conv2d(&w, None, Conv2dParams { groups: 2, ..d })
            .is_ok()
    );
    let e = Tensor::<f32>::zeros([1, 4, 5, 5])
        .try_conv2d(
            &Tensor::zeros([5, 1, 3, 3]),
            None,
            Conv2dParams { groups: 4, ..d },
        )
        .unwrap_err();
    assert!(e.to_string().contains("groups 4 must divide"), "{e}");
    let e = x
        .try_conv2d(&w, None, Conv2dParams { groups: 0, ..d })
        .unwrap_err();
    assert!(e.to_string().contains("groups must be positive"), "{e}");
    let g2 = Conv2dParams { groups: 2, ..d };
    let e = x
        .try_conv2d(
            &w,
            None,
            Conv2dParams {
                stride: [1, 0],
                ..g2
            },
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("conv2d: stride must be positive, got [1, 0]"),
        "{e}"
    );
    let e = x
        .try_conv2d(
            &w,
            None,
            Conv2dParams {
                dilation: [0, 1],
                ..g2
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("dilation must be positive"), "{e}");
    let e = x
        .try_conv2d(
            &w,
            None,
            Conv2dParams {
                dilation: [3, 1],
                ..g2
            },
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("kernel extent [7, 3] is larger than the padded input [5, 5]"),
        "{e}"
    );
    let e = x
        .try_conv2d(&Tensor::zeros([6, 2, 3]), None, g2)
        .unwrap_err();
    assert!(matches!(e, Error::RankMismatch { op: "conv2d", .. }));
    let e = x.try_conv2d(&w, Some(&Tensor::zeros([5])), g2).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { op: "conv2d", .. }));
    let e = Tensor::<f32>::zeros([1, 1, 3])
        .try_conv1d(&Tensor::zeros([1, 1, 4]), None, Conv1dParams::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "conv1d: kernel extent 4 is larger than the padded input 3 (input [1, 1, 3], \
         weight [1, 1, 4], stride 1, padding 0, dilation 1, groups 1)"
    );
}

#[test]
fn absurd_parameters_are_errors_not_overflows() {
    let x = Tensor::<f32>::zeros([1, 2, 3, 3]);
    let w = Tensor::<f32>::zeros([2, 2, 3, 3]);
    let p = Conv2dParams {
        padding: [usize::MAX / 2, 0],
        dilation: [usize::MAX, 1],
        ..Default::default()
    };
    assert!(matches!(x.try_conv2d(&w, None, p), Err(Error::Conv { .. })));
    let p = Conv2dParams {
        groups: usize::MAX,
        ..Default::default()
    };
    assert!(matches!(x.try_conv2d(&w, None, p), Err(Error::Conv { .. })));
    let e = x
        .try_conv2d(&Tensor::zeros([2, 2, 0, 3]), None, Conv2dParams::default())
        .unwrap_err();
    assert!(e.to_string().contains("kernel must be positive"), "{e}");
}

#[test]
fn zero_input_channels_give_the_bias_and_zero_gradients() {
    // Found by the ops fuzz target: with no input channels each output
    // is an empty sum, and the kernel indexed past its empty scratch.
    let x = Tensor::<f64>::zeros([6, 0, 1]).requires_grad();
    let w = Tensor::<f64>::zeros([6, 0, 2]).requires_grad();
    let b = Tensor::from_vec((0..6).map(f64::from).collect(), [6])
        .unwrap()
        .requires_grad();
    let p = Conv1dParams {
        stride: 2,
        padding: 2,
        dilation: 2,
        groups: 2,
    };
    let y = x.try_conv1d(&w, Some(&b), p).unwrap();
    assert_eq!(y.dims(), &[6, 6, 2]);
    assert_eq!(y.to_vec()[..4], [0.0, 0.0, 1.0, 1.0]);
    let g = y.sum().backward().unwrap();
    assert_eq!(g.get(&b).unwrap().to_vec(), vec![12.0; 6]); // 6 images × 2 positions
    assert_eq!(g.get(&x).unwrap().numel(), 0);
    let x = Tensor::<f64>::zeros([2, 0, 3, 3]);
    let w = Tensor::<f64>::zeros([4, 0, 2, 2]);
    let y = x.conv2d(&w, None, Conv2dParams::default());
    assert_eq!((y.dims(), y.to_vec()), (&[2, 4, 2, 2][..], vec![0.0; 32]));
}

#[test]
fn empty_batch_gives_an_empty_output() {
    let x = Tensor::<f64>::zeros([0, 2, 4, 4]);
    let w = Tensor::<f64>::ones([3, 2, 2, 2]);
    assert_eq!(
        x.conv2d(&w, None, Conv2dParams::default()).dims(),
        &[0, 3, 3, 3]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn conv2d_grad_matches_finite_differences(seed in 0u64..10_000) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (xs, ws, p) = random_config(&mut rng);
        let x = Tensor::<f64>::randn(xs, 0.0, 1.0, &mut rng).unwrap();
        let w = Tensor::<f64>::randn(ws, 0.0, 1.0, &mut rng).unwrap();
        let b = Tensor::<f64>::randn([ws[0]], 0.0, 1.0, &mut rng).unwrap();
        check_grads!([x, w, b], |x, w, b| x.conv2d(w, Some(b), p))?;
    }

    #[test]
    fn conv1d_grad_matches_finite_differences(seed in 0u64..10_000) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (xs, ws, p) = random_config(&mut rng);
        let x = Tensor::<f64>::randn([xs[0], xs[1], xs[3]], 0.0, 1.0, &mut rng).unwrap();
        let w = Tensor::<f64>::randn([ws[0], ws[1], ws[3]], 0.0, 1.0, &mut rng).unwrap();
        let b = Tensor::<f64>::randn([ws[0]], 0.0, 1.0, &mut rng).unwrap();
        let p = Conv1dParams { stride: p.stride[1], padding: p.padding[1], dilation: p.dilation[1], groups: p.groups };
        check_grads!([x, w, b], |x, w, b| x.conv1d(w, Some(b), p))?;
    }
}

#[test]
fn conv2d_second_derivatives_flow() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let x = Tensor::<f64>::randn([1, 2, 4, 3], 0.0, 1.0, &mut rng).unwrap();
    let w = Tensor::<f64>::randn([2, 1, 2, 2], 0.0, 1.0, &mut rng).unwrap();
    let p = Conv2dParams {
        groups: 2,
        padding: [1, 0],
        ..Default::default()
    };
    crate::gradgradcheck(|v| v[0].conv2d(&v[1], None, p).square(), &[x, w]).unwrap();
}

#[test]
fn stride_one_convolutions_with_many_channels_match_finite_differences() {
    // Enough channels at stride 1: the kernels take Winograd's route
    // (kernels::conv_winograd: 3x3, one group) or the shifted GEMMs
    // (kernels::conv_shift) for the forward pass and both gradients; a
    // random cotangent, f64 and f32 (check_grads). Few channels: the
    // direct sums (kernels::conv_direct).
    let mut rng = rand::rngs::StdRng::seed_from_u64(29);
    let cases = [
        // Winograd: padding 1, then 0 and 2 with odd output sizes (3 x 5).
        ([2, 32, 4, 5], [16, 32, 3, 3], [1, 1], [1, 1], 1),
        ([1, 12, 5, 3], [8, 12, 3, 3], [0, 2], [1, 1], 1),
        // Shifted GEMMs: 3x3 from 16 channels, a 2x3 kernel, and 3x3 in
        // two groups.
        ([2, 16, 4, 5], [16, 16, 3, 3], [1, 1], [1, 1], 1),
        ([1, 32, 5, 4], [32, 16, 2, 3], [0, 2], [2, 1], 2),
        ([1, 32, 4, 4], [32, 16, 3, 3], [1, 1], [1, 1], 2),
        // Direct sums: LeNet-5's first layer (5x5, padding 2), 3x3 from
        // three channels, and a 2x4 kernel (taps one at a time).
        ([2, 1, 6, 7], [6, 1, 5, 5], [2, 2], [1, 1], 1),
        ([2, 3, 5, 9], [4, 3, 3, 3], [1, 1], [1, 1], 1),
        ([1, 2, 4, 6], [3, 2, 2, 4], [1, 3], [1, 1], 1),
    ];
    for (xs, ws, padding, dilation, groups) in cases {
        let p = Conv2dParams {
            padding,
            dilation,
            groups,
            ..Default::default()
        };
        let x = Tensor::<f64>::randn(xs, 0.0, 1.0, &mut rng).unwrap();
        let w = Tensor::<f64>::randn(ws, 0.0, 1.0, &mut rng).unwrap();
        let b = Tensor::<f64>::randn([ws[0]], 0.0, 1.0, &mut rng).unwrap();
        check_grads!([x, w, b], |x, w, b| x.conv2d(w, Some(b), p)).unwrap();
    }
}
