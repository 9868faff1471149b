//! Bad input gets a named error every time: one case per hazard, across the
//! crates, each asserting the variant and that the message names the op (or
//! layer, loss, optimizer, file) and the shapes or numbers involved. The table
//! in docs/errors.md lists the same cases.

use wengert::data::idx::read_idx;
use wengert::nn::loss::{binary_cross_entropy, cross_entropy, mse_loss};
use wengert::nn::optim::{Adam, AdamConfig, Sgd, SgdConfig};
use wengert::nn::{BatchNorm1d, Module, Reduction};
use wengert::{Conv2dParams, Error, Tensor};

fn z(shape: &[usize]) -> Tensor<f32> {
    Tensor::zeros(shape.to_vec())
}

/// Asserts that `message` contains every one of `parts`.
fn names(message: String, parts: &[&str]) {
    for p in parts {
        assert!(message.contains(p), "{message:?} does not name {p:?}");
    }
}

#[test]
fn matmul_inner_dimensions() {
    let e = z(&[2, 3]).try_matmul(&z(&[4, 5])).unwrap_err();
    assert!(matches!(e, Error::MatmulMismatch { .. }));
    names(e.to_string(), &["matmul", "[2, 3]", "[4, 5]"]);
}

#[test]
fn broadcasting() {
    let e = z(&[2, 3]).try_add(&z(&[4])).unwrap_err();
    assert!(matches!(e, Error::BroadcastMismatch { op: "add", .. }));
    names(e.to_string(), &["add", "[2, 3]", "[4]"]);
}

#[test]
fn conv_channel_mismatch_kernel_too_large_and_stride_zero() {
    let x = z(&[1, 4, 5, 5]);
    let e = x
        .try_conv2d(&z(&[6, 2, 3, 3]), None, Conv2dParams::default())
        .unwrap_err();
    assert!(matches!(e, Error::Conv { op: "conv2d", .. }));
    names(
        e.to_string(),
        &["conv2d", "4 channels", "[1, 4, 5, 5]", "[6, 2, 3, 3]"],
    );
    let e = z(&[1, 1, 3, 3])
        .try_conv2d(&z(&[1, 1, 5, 5]), None, Conv2dParams::default())
        .unwrap_err();
    assert!(matches!(e, Error::Conv { .. }));
    names(e.to_string(), &["conv2d", "[1, 1, 3, 3]", "[1, 1, 5, 5]"]);
    let p = Conv2dParams {
        stride: [0, 1],
        ..Conv2dParams::default()
    };
    let e = x.try_conv2d(&z(&[2, 4, 3, 3]), None, p).unwrap_err();
    assert!(matches!(e, Error::Conv { .. }));
    names(e.to_string(), &["conv2d", "stride", "[0, 1]"]);
}

#[test]
fn pooling_an_empty_spatial_dimension() {
    let e = z(&[7, 7, 0, 7])
        .try_max_pool2d([2, 2], [1, 1], [1, 0])
        .unwrap_err();
    assert!(matches!(
        e,
        Error::Conv {
            op: "max_pool2d",
            ..
        }
    ));
    names(
        e.to_string(),
        &["max_pool2d", "empty spatial dimension", "[7, 7, 0, 7]"],
    );
}

#[test]
fn reshape_to_a_different_count() {
    let e = z(&[2, 3]).try_reshape([4]).unwrap_err();
    assert!(matches!(e, Error::ReshapeMismatch { .. }));
    names(e.to_string(), &["reshape", "[2, 3]", "[4]", "6", "4"]);
}

#[test]
fn shape_products_that_overflow() {
    let e = Tensor::<f32>::try_full([usize::MAX / 2, 3], 0.0).unwrap_err();
    assert!(
        matches!(&e, Error::ShapeOverflow { op: "full", shape } if shape.dims() == [usize::MAX / 2, 3]),
        "{e}"
    );
    let shape = format!("[{}, 3]", usize::MAX / 2);
    names(e.to_string(), &["full", &shape, "overflows"]);
}

#[test]
fn reductions_over_an_empty_axis() {
    let e = z(&[2, 0]).try_max_axes(&[1], false).unwrap_err();
    assert!(matches!(e, Error::EmptyReduction { .. }));
    names(e.to_string(), &["max", "axis 1", "[2, 0]"]);
    let e = z(&[0]).try_mean().unwrap_err();
    assert!(
        matches!(&e, Error::EmptyReduction { op: "mean", axis: None, shape } if shape.dims() == [0]),
        "{e:?}"
    );
    names(e.to_string(), &["mean", "all elements", "[0]", "empty"]);
}

#[test]
fn labels_out_of_range() {
    let e = cross_entropy(&z(&[2, 3]), &[0, 3], Reduction::Mean).unwrap_err();
    assert!(
        matches!(e, wengert::nn::Error::LabelOutOfRange { .. }),
        "{e}"
    );
    names(e.to_string(), &["cross_entropy", "3"]);
}

#[test]
fn batch_size_mismatch() {
    let e = cross_entropy(&z(&[2, 3]), &[0, 1, 2], Reduction::Mean).unwrap_err();
    assert!(
        matches!(e, wengert::nn::Error::BatchSizeMismatch { .. }),
        "{e}"
    );
    names(e.to_string(), &["cross_entropy", "2", "3"]);
    let e = mse_loss(&z(&[2, 3]), &z(&[3, 2]), Reduction::Mean).unwrap_err();
    names(e.to_string(), &["mse", "[2, 3]", "[3, 2]"]);
}

#[test]
fn bce_targets_outside_the_unit_interval() {
    let p = Tensor::<f32>::full([2], 0.5);
    let y = Tensor::from_vec(vec![0.0f32, 1.5], [2]).unwrap();
    let e = binary_cross_entropy(&p, &y, Reduction::Mean).unwrap_err();
    assert!(
        matches!(e, wengert::nn::Error::TargetOutOfRange { .. }),
        "{e}"
    );
    names(e.to_string(), &["binary_cross_entropy", "1.5"]);
}

#[test]
fn batch_norm_batch_of_one() {
    let bn = BatchNorm1d::<f32>::new(3).unwrap();
    let e = bn.try_forward(&z(&[1, 3])).unwrap_err();
    assert!(
        matches!(e, wengert::nn::Error::SingleValuePerChannel { .. }),
        "{e}"
    );
    names(e.to_string(), &["batch_norm1d", "[1, 3]"]);
}

#[test]
fn invalid_optimizer_hyper_parameters() {
    let e = Sgd::<f32>::new(SgdConfig {
        lr: -0.1,
        ..SgdConfig::default()
    })
    .err()
    .unwrap();
    assert!(
        matches!(e, wengert::nn::Error::InvalidHyperParameter { .. }),
        "{e}"
    );
    names(e.to_string(), &["sgd", "lr", "-0.1"]);
    let e = Adam::<f32>::new(AdamConfig {
        beta1: 1.0,
        ..AdamConfig::default()
    })
    .err()
    .unwrap();
    assert!(
        matches!(
            &e,
            wengert::nn::Error::InvalidHyperParameter { name: "beta1", .. }
        ),
        "{e}"
    );
    names(e.to_string(), &["adam", "beta1", "[0, 1)", "got 1"]);
    let e = Adam::<f32>::new(AdamConfig {
        eps: -1e-8,
        ..AdamConfig::default()
    })
    .err()
    .unwrap();
    assert!(
        matches!(
            &e,
            wengert::nn::Error::InvalidHyperParameter { name: "eps", .. }
        ),
        "{e}"
    );
    names(e.to_string(), &["adam", "eps", ">= 0", "got -0.00000001"]);
}

#[test]
fn backward_twice() {
    let x = z(&[2]).requires_grad();
    let y = x.exp().sum();
    y.backward().unwrap();
    assert_eq!(y.backward().unwrap_err(), Error::TapeConsumed);
    names(
        y.backward().unwrap_err().to_string(),
        &["backward", "consumed"],
    );
}

#[test]
fn backward_from_a_non_scalar_without_a_seed() {
    let x = z(&[2, 2]).requires_grad();
    let e = x.exp().backward().unwrap_err();
    assert!(matches!(e, Error::NonScalarBackward { .. }));
    names(e.to_string(), &["backward", "[2, 2]", "seed"]);
}

#[test]
fn malformed_idx_files() {
    use wengert::data::Error as D;
    // Bad magic, unsupported type, short data, trailing bytes, overflowing dims.
    let e = read_idx(&[1, 0, 8, 1, 0, 0, 0, 1, 7]).unwrap_err();
    assert!(matches!(e, D::IdxBadMagic { .. }), "{e}");
    let e = read_idx(&[0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap_err();
    assert!(matches!(e, D::IdxUnsupportedType { code: 0x0D }), "{e}");
    let e = read_idx(&[0, 0, 8, 1, 0, 0, 0, 3, 7]).unwrap_err();
    assert!(
        matches!(
            e,
            D::IdxShortData {
                expected: 3,
                actual: 1,
                ..
            }
        ),
        "{e}"
    );
    names(e.to_string(), &["3", "1"]);
    let e = read_idx(&[0, 0, 8, 1, 0, 0, 0, 1, 7, 9]).unwrap_err();
    assert!(
        matches!(
            e,
            D::IdxTrailingBytes {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{e}"
    );
    // Four dimensions of 2³² − 1: the product overflows even a 64-bit usize.
    let mut huge = vec![0, 0, 8, 4];
    for _ in 0..4 {
        huge.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    }
    let e = read_idx(&huge).unwrap_err();
    assert!(
        matches!(&e, D::IdxDimsOverflow { dims } if dims == &[u32::MAX; 4]),
        "{e}"
    );
    names(
        e.to_string(),
        &[
            "idx",
            "[4294967295, 4294967295, 4294967295, 4294967295]",
            "overflows",
        ],
    );
}

#[test]
fn truncated_idx_headers() {
    use wengert::data::Error as D;
    // Three bytes of the four-byte magic; then rank 3, which promises
    // 4 + 3·4 = 16 header bytes, in an input that ends after 10.
    for (bytes, want_needed, want_actual) in [
        (&[0u8, 0, 8][..], 4, 3),
        (&[0, 0, 8, 3, 0, 0, 0, 2, 0, 0][..], 16, 10),
    ] {
        let e = read_idx(bytes).unwrap_err();
        assert!(
            matches!(e, D::IdxTruncatedHeader { needed, actual } if (needed, actual) == (want_needed, want_actual)),
            "{e}"
        );
        names(
            e.to_string(),
            &[
                "idx",
                &format!("needs {want_needed} bytes"),
                &format!("has {want_actual}"),
            ],
        );
    }
}

#[test]
fn corrupt_gzip_stream() {
    use wengert::data::Error as D;
    // `gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]), mtime=0)` in
    // Python, cut after 16 of its 31 bytes: the deflate stream ends early.
    let gz = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 99, 96, 224, 96, 100, 96];
    let e = read_idx(&gz).unwrap_err();
    assert!(matches!(e, D::Gzip { .. }), "{e}");
    names(e.to_string(), &["gzip", "corrupt or truncated"]);
}

/// An MNIST pair decoded from IDX bytes: `n_images` images of 1 × 2 pixels and
/// the given labels.
fn mnist_pair(n_images: u8, labels: &[u8]) -> Result<wengert::data::Dataset, wengert::data::Error> {
    use wengert::data::idx::mnist_from_idx;
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, n_images, 0, 0, 0, 1, 0, 0, 0, 2];
    images.extend(std::iter::repeat_n(7, 2 * usize::from(n_images)));
    let mut labels_idx = vec![0, 0, 8, 1, 0, 0, 0, labels.len() as u8];
    labels_idx.extend_from_slice(labels);
    mnist_from_idx(&read_idx(&images)?, &read_idx(&labels_idx)?)
}

#[test]
fn mnist_images_and_labels_that_do_not_match() {
    use wengert::data::Error as D;
    assert!(mnist_pair(2, &[7, 3]).is_ok());
    // Counts differ.
    let e = mnist_pair(3, &[7, 3]).unwrap_err();
    assert!(
        matches!(
            e,
            D::CountMismatch {
                images: 3,
                labels: 2
            }
        ),
        "{e}"
    );
    names(e.to_string(), &["mnist", "3 images", "2 labels"]);
    // A label of 10 or more.
    let e = mnist_pair(2, &[7, 12]).unwrap_err();
    assert!(
        matches!(
            e,
            D::LabelOutOfRange {
                what: "mnist",
                index: 1,
                label: 12,
                classes: 10
            }
        ),
        "{e}"
    );
    names(e.to_string(), &["mnist", "label 12", "index 1", "10"]);
    // Files passed the wrong way round: labels where the images go.
    let labels = read_idx(&[0, 0, 8, 1, 0, 0, 0, 1, 3]).unwrap();
    let e = wengert::data::idx::mnist_from_idx(&labels, &labels).unwrap_err();
    assert!(
        matches!(
            e,
            D::IdxRank {
                expected: 3,
                rank: 1,
                ..
            }
        ),
        "{e}"
    );
    names(e.to_string(), &["mnist images", "rank 3", "rank 1"]);
}

#[test]
fn malformed_digits_csv() {
    use wengert::data::{Error as D, parse_digits_csv};
    let e = parse_digits_csv("1,2,3\n").unwrap_err();
    assert!(
        matches!(
            e,
            D::CsvColumns {
                line: 1,
                expected: 65,
                found: 3
            }
        ),
        "{e}"
    );
    names(e.to_string(), &["csv", "line 1", "3 columns", "65"]);
    // A label of 10 in the last column of the second line.
    let row = |label: u32| format!("{}{label}\n", "0,".repeat(64));
    let e = parse_digits_csv(&(row(3) + &row(10))).unwrap_err();
    assert!(
        matches!(
            e,
            D::CsvValue {
                line: 2,
                column: 65,
                max: 9,
                ..
            }
        ),
        "{e}"
    );
    names(
        e.to_string(),
        &["csv", "line 2", "column 65", "\"10\"", "0..=9"],
    );
}

#[test]
fn truncated_corrupted_and_foreign_checkpoints() {
    use rand::SeedableRng;
    use wengert::nn::Linear;
    use wengert::nn::checkpoint::{load_module_from_bytes, module_to_bytes};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let model = Linear::<f32>::new(3, 2, true, &mut rng).unwrap();
    let bytes = module_to_bytes(&model).unwrap();
    let mut target = Linear::<f32>::new(3, 2, true, &mut rng).unwrap();
    let before = target.weight.to_vec();
    // Truncated in the data: the message gives the header length and the
    // data bytes left (3 fewer than the tensors need).
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    let data_len = bytes.len() as u64 - 8 - header_len;
    let e = load_module_from_bytes(&mut target, &bytes[..bytes.len() - 3]).unwrap_err();
    assert!(
        matches!(&e, wengert::nn::Error::Checkpoint { path, .. } if path == "<bytes>"),
        "{e}"
    );
    let header = format!("the {header_len}-byte header");
    let left = format!("the {} data bytes", data_len - 3);
    names(e.to_string(), &[&header, &left, "truncated"]);
    // Truncated in the header.
    let e = load_module_from_bytes(&mut target, &bytes[..20]).unwrap_err();
    assert!(matches!(e, wengert::nn::Error::Checkpoint { .. }), "{e}");
    let length = format!("header length {header_len}");
    names(e.to_string(), &[&length, "the 12 bytes that follow"]);
    // Corrupted: one flipped bit in the data.
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x10;
    let e = load_module_from_bytes(&mut target, &bad).unwrap_err();
    assert!(matches!(e, wengert::nn::Error::Checkpoint { .. }), "{e}");
    names(e.to_string(), &["checksum"]);
    // For a different model: every mismatch listed at once.
    let mut other = Linear::<f32>::new(2, 3, false, &mut rng).unwrap();
    let e = load_module_from_bytes(&mut other, &bytes).unwrap_err();
    assert!(
        matches!(e, wengert::nn::Error::CheckpointMismatch { .. }),
        "{e}"
    );
    names(e.to_string(), &["bias", "weight", "[2, 3]", "[3, 2]"]);
    assert_eq!(
        target.weight.to_vec(),
        before,
        "a rejected load changes nothing"
    );
}
