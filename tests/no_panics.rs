//! The fallible API never panics: every `try_` op, fed arbitrary shapes
//! (zero-size and rank-0 included), axes, indices, paddings, permutations,
//! and for convolution, pooling and im2col arbitrary kernels, strides (zero
//! included), paddings, dilations and groups, returns `Ok` or a named error.
//! The parsers (IDX, checkpoints, optimizer state, the digits CSV) do the same
//! on arbitrary bytes. Values are kept small so that whatever the shapes allow
//! is cheap to compute.

use std::panic::{AssertUnwindSafe, catch_unwind};

use proptest::collection::vec;
use proptest::prelude::*;
use wengert::{
    Conv1dParams, Conv2dParams, ConvTranspose1dParams, ConvTranspose2dParams, Im2colParams, Shape,
    Tensor,
};

fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0usize..4, 0..=4)
}

/// Builds a tensor of `dims` (recorded, so that backward runs too).
fn tensor(dims: &[usize]) -> Tensor<f64> {
    let n: usize = dims.iter().product();
    Tensor::from_vec(
        (0..n).map(|i| (i as f64 * 0.37).sin()).collect(),
        dims.to_vec(),
    )
    .unwrap()
    .requires_grad()
}

/// Runs every fallible op once with these arguments; any panic fails the test.
fn exercise(
    a: &[usize],
    b: &[usize],
    axis: isize,
    axis2: isize,
    idx: &[usize],
    n: usize,
    flag: bool,
) {
    let x = tensor(a);
    let y = tensor(b);
    let axes = [axis, axis2];
    let pads: Vec<(usize, usize)> = idx.iter().map(|&i| (i % 3, n % 3)).collect();
    let perm: Vec<usize> = idx.to_vec();
    let results: Vec<Result<Tensor<f64>, wengert::Error>> = vec![
        x.try_add(&y),
        x.try_sub(&y),
        x.try_mul(&y),
        x.try_div(&y),
        x.try_pow(&y),
        x.try_maximum(&y),
        x.try_minimum(&y),
        x.try_eq(&y),
        x.try_lt(&y),
        Tensor::try_where_(&x, &y, &x),
        x.try_matmul(&y),
        x.try_matmul_t(&y, flag, !flag),
        x.try_reshape(b.to_vec()),
        x.try_broadcast_to(b.to_vec()),
        x.try_sum_to(&Shape::from(b)),
        x.try_sum_axes(&axes, flag),
        x.try_mean_axes(&axes, flag),
        x.try_var_axes(&axes, flag, !flag),
        x.try_max_axes(&axes, flag),
        x.try_min_axes(&axes, flag),
        x.try_logsumexp_axes(&axes, flag),
        x.try_mean(),
        x.try_var(flag),
        x.try_max(),
        x.try_min(),
        x.try_softmax(axis),
        x.try_log_softmax(axis),
        x.try_transpose(axis, axis2),
        x.try_permute(&perm),
        x.try_squeeze(axis),
        x.try_unsqueeze(axis),
        x.try_flatten_axes(axis, axis2),
        x.try_narrow(axis, idx.first().copied().unwrap_or(0), n),
        x.try_slice(axis, n, idx.len(), idx.first().copied().unwrap_or(0)),
        x.try_pad(&pads, 0.0),
        Tensor::try_concat(&[&x, &y], axis),
        Tensor::try_stack(&[&x, &y], axis),
        Tensor::try_concat(&[], axis),
        x.try_index_select(axis, idx),
        x.try_index_add(axis, idx, &y),
        x.try_gather(axis, idx, b.to_vec()),
        x.try_scatter_add(axis, idx, b.to_vec(), &y),
        Tensor::try_one_hot(idx, n),
    ];
    for r in results.into_iter().flatten() {
        // Whatever succeeded also runs backward without panicking.
        let _ = r.sum().backward();
    }
    let _ = x.try_argmax(Some(axis));
    let _ = x.try_argmin(None);
    let _ = x.try_item();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fallible_ops_return_ok_or_a_named_error_and_never_panic(
        a in shape(), b in shape(), axis in -6isize..6, axis2 in -6isize..6,
        idx in proptest::collection::vec(0usize..5, 0..5), n in 0usize..6, flag in any::<bool>(),
    ) {
        let outcome = catch_unwind(AssertUnwindSafe(|| exercise(&a, &b, axis, axis2, &idx, n, flag)));
        prop_assert!(outcome.is_ok(), "a fallible op panicked on a {a:?}, b {b:?}, axis {axis}, axis2 {axis2}, idx {idx:?}, n {n}, flag {flag}");
    }
}

/// The window arguments of one conv, pooling or im2col call.
#[derive(Clone, Debug)]
struct Window {
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    output_padding: [usize; 2],
    groups: usize,
}

/// A number in `0..hi`, 0 one time in six: zero kernels, strides, dilations,
/// groups and dimensions are exercised, yet most calls get past them.
fn mostly_positive(hi: usize) -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0), 5 => 1..hi]
}

fn window() -> impl Strategy<Value = Window> {
    let pair = |hi: usize| [mostly_positive(hi), mostly_positive(hi)];
    // An output padding must be below the stride or the dilation: mostly 0.
    let output_padding = || prop_oneof![2 => Just(0usize), 1 => 1usize..3];
    (
        pair(4),
        pair(3),
        [0usize..3, 0..3],
        pair(3),
        [output_padding(), output_padding()],
        mostly_positive(4),
    )
        .prop_map(
            |(kernel, stride, padding, dilation, output_padding, groups)| Window {
                kernel,
                stride,
                padding,
                dilation,
                output_padding,
                groups,
            },
        )
}

/// How the weight of [`exercise_windows`] is shaped.
#[derive(Clone, Copy, Debug)]
enum Fit {
    /// As drawn: mostly a rank or channel error.
    Arbitrary,
    /// For convolution: `[c_out, c / groups, k...]` with `c_out = w[0] ·
    /// groups`, whatever the input's `c` (0 included).
    Conv,
    /// For the transposed convolution: `[c, w[0], k...]`.
    Transpose,
}

/// Runs every fallible convolution, pooling and im2col op once on input `a`;
/// any panic fails the test. The weight is `w` or, by `fit`, one shaped after
/// the input's channels and the kernel, so that the successful paths run
/// often; a bias, if any, has length `bias` or, with a fitted weight, the
/// output channels.
fn exercise_windows(a: &[usize], w: &[usize], fit: Fit, bias: Option<usize>, p: &Window) {
    let g = p.groups.max(1);
    let (w, bias) = match (fit, a) {
        (Fit::Arbitrary, _) | (_, [] | [_] | [_, _, _, _, _, ..]) => (w.to_vec(), bias),
        (fit, [_, c, rest @ ..]) => {
            let (mut dims, c_out) = match fit {
                Fit::Conv => (vec![w[0] * g, c / g], w[0] * g),
                _ => (vec![*c, w[0]], w[0] * g),
            };
            dims.extend_from_slice(&p.kernel[2 - rest.len()..]);
            (dims, bias.map(|_| c_out))
        }
    };
    let (x, weight) = (tensor(a), tensor(&w));
    let bias = bias.map(|n| tensor(&[n]));
    let bias = bias.as_ref();
    let conv2 = Conv2dParams {
        stride: p.stride,
        padding: p.padding,
        dilation: p.dilation,
        groups: p.groups,
    };
    let conv1 = Conv1dParams {
        stride: p.stride[1],
        padding: p.padding[1],
        dilation: p.dilation[1],
        groups: p.groups,
    };
    let transpose2 = ConvTranspose2dParams {
        stride: p.stride,
        padding: p.padding,
        output_padding: p.output_padding,
        dilation: p.dilation,
        groups: p.groups,
    };
    let transpose1 = ConvTranspose1dParams {
        stride: p.stride[1],
        padding: p.padding[1],
        output_padding: p.output_padding[1],
        dilation: p.dilation[1],
        groups: p.groups,
    };
    let im2col = Im2colParams {
        kernel: p.kernel,
        stride: p.stride,
        padding: p.padding,
        dilation: p.dilation,
    };
    // col2im folds into an image of the input's last two dimensions, so that
    // im2col's output folds back when im2col succeeded.
    let size = match a {
        [.., h, w] => [*h, *w],
        _ => [0, 0],
    };
    let (k, s, pad) = (p.kernel, p.stride, p.padding);
    let results: Vec<Result<Tensor<f64>, wengert::Error>> = vec![
        x.try_conv2d(&weight, bias, conv2),
        x.try_conv1d(&weight, bias, conv1),
        x.try_conv_transpose2d(&weight, bias, transpose2),
        x.try_conv_transpose1d(&weight, bias, transpose1),
        x.try_im2col(im2col),
        x.try_col2im(size, im2col),
        x.try_im2col(im2col)
            .and_then(|c| c.try_col2im(size, im2col)),
        x.try_max_pool2d(k, s, pad),
        x.try_max_pool1d(k[1], s[1], pad[1]),
        x.try_avg_pool2d(k, s, pad, p.groups.is_multiple_of(2)),
        x.try_avg_pool1d(k[1], s[1], pad[1], !p.groups.is_multiple_of(2)),
        x.try_global_avg_pool(),
    ];
    for r in results.into_iter().flatten() {
        let _ = r.sum().backward();
    }
}

/// An input of rank 2 to 5, mostly 3 and 4 (the ranks the window ops take).
fn window_input() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![1 => Just(2usize), 6 => 3usize..=4, 1 => Just(5)]
        .prop_flat_map(|rank| vec(mostly_positive(6), rank))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn conv_pool_and_im2col_return_ok_or_a_named_error_and_never_panic(
        a in window_input(), w in vec(0usize..4, 2..=5),
        fit in prop_oneof![Just(Fit::Arbitrary), Just(Fit::Conv), Just(Fit::Transpose)],
        bias in proptest::option::of(0usize..5), p in window(),
    ) {
        let outcome = catch_unwind(AssertUnwindSafe(|| exercise_windows(&a, &w, fit, bias, &p)));
        prop_assert!(outcome.is_ok(), "a window op panicked on input {a:?}, weight {w:?}, fit {fit:?}, bias {bias:?}, {p:?}");
    }
}

#[test]
fn overflowing_shapes_are_errors_everywhere() {
    let big = [usize::MAX / 2, 3];
    assert!(matches!(
        Tensor::<f32>::try_full(big, 0.0),
        Err(wengert::Error::ShapeOverflow { .. })
    ));
    assert!(matches!(
        Tensor::<f32>::from_vec(vec![], big),
        Err(wengert::Error::ShapeOverflow { .. })
    ));
    let x = Tensor::<f32>::zeros([0]);
    assert!(matches!(
        x.try_reshape(big),
        Err(wengert::Error::ShapeOverflow { .. })
    ));
    // Zero-size tensors with huge other dimensions: empty results, no huge loops.
    let a = Tensor::<f32>::zeros([1 << 40, 1, 0]);
    let b = Tensor::<f32>::zeros([1, 1 << 40, 0]);
    let c = a.try_add(&b).unwrap();
    assert_eq!((c.dims(), c.numel()), (&[1usize << 40, 1 << 40, 0][..], 0));
    assert_eq!(a.sum().item(), 0.0);
    assert!(matches!(
        a.try_max(),
        Err(wengert::Error::EmptyReduction { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The parsers of files (IDX, checkpoints, optimizer state) return `Ok` or
    /// a named error on arbitrary bytes, including bytes that start like a
    /// valid file.
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(
        noise in proptest::collection::vec(any::<u8>(), 0..256),
        prefix_len in 0usize..200,
        flip in any::<usize>(),
    ) {
        use rand::SeedableRng;
        use wengert::nn::Linear;
        use wengert::nn::checkpoint::{load_module_from_bytes, module_to_bytes, optimizer_state_from_bytes};
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut model = Linear::<f32>::new(3, 2, true, &mut rng).unwrap();
        let valid = module_to_bytes(&model).unwrap();
        // A valid prefix followed by noise, with one byte flipped somewhere.
        let mut bytes: Vec<u8> = valid[..prefix_len.min(valid.len())].to_vec();
        bytes.extend_from_slice(&noise);
        if !bytes.is_empty() {
            let k = flip % bytes.len();
            bytes[k] ^= 1 << (flip % 8);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _ = wengert::data::idx::read_idx(&bytes);
            let _ = wengert::data::idx::read_idx(&noise);
            let _ = load_module_from_bytes(&mut model, &bytes);
            let _ = load_module_from_bytes(&mut model, &noise);
            let _ = optimizer_state_from_bytes::<f32>(&bytes);
        }));
        prop_assert!(outcome.is_ok(), "a parser panicked on {bytes:?}");
    }

    /// The digits CSV parser returns `Ok` or a named error on arbitrary text:
    /// raw bytes read as UTF-8 (lossily), and valid rows with one byte
    /// replaced, so that the per-field checks run and not only the column count.
    #[test]
    fn digits_csv_parser_never_panics_on_arbitrary_bytes(
        noise in vec(any::<u8>(), 0..512),
        rows in vec(vec(0u32..=16, 65), 0..3),
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        let mut valid: Vec<u8> = rows
            .iter()
            .map(|r| {
                // 64 pixels in 0..=16, then a label in 0..=9.
                let fields: Vec<String> =
                    r.iter().enumerate().map(|(j, v)| (if j == 64 { v % 10 } else { *v }).to_string()).collect();
                fields.join(",") + "\n"
            })
            .collect::<String>()
            .into_bytes();
        if !valid.is_empty() {
            let k = at % valid.len();
            valid[k] = byte;
        }
        for bytes in [&noise, &valid] {
            let text = String::from_utf8_lossy(bytes);
            let outcome = catch_unwind(AssertUnwindSafe(|| wengert::data::parse_digits_csv(&text)));
            prop_assert!(outcome.is_ok(), "the digits parser panicked on {text:?}");
        }
    }
}
