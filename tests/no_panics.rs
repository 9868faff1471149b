//! The fallible API never panics: every `try_` op, fed arbitrary shapes
//! (zero-size and rank-0 included), axes, indices, paddings and permutations,
//! returns `Ok` or a named error. Values are kept small so that whatever the
//! shapes allow is cheap to compute.

use std::panic::{AssertUnwindSafe, catch_unwind};

use proptest::prelude::*;
use wengert::{Shape, Tensor};

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
}
