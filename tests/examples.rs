//! The tutorial examples' key claims, asserted on their own code in quick mode.
//!
//! Each example file is compiled here as a module (its `main` unused), so
//! that the test exercises exactly the function the example runs. Each
//! example includes its own copy of `examples/common`, hence the allowance.

#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "../examples/02-backprop-by-hand.rs"]
mod ex02;
#[allow(dead_code)]
#[path = "../examples/03-gradcheck-your-own-function.rs"]
mod ex03;
#[allow(dead_code)]
#[path = "../examples/04-vanishing-and-exploding-gradients.rs"]
mod ex04;
#[allow(dead_code)]
#[path = "../examples/05-activations.rs"]
mod ex05;
#[allow(dead_code)]
#[path = "../examples/11-convolution-by-hand.rs"]
mod ex11;
#[allow(dead_code)]
#[path = "../examples/12-cnn.rs"]
mod ex12;

#[test]
fn backprop_delta_formulas_equal_the_tape_and_training_lowers_the_loss() {
    let r = ex02::run(&ex02::common::Args::for_tests(), false).unwrap();
    assert!(r.max_diff < 1e-12, "max |hand - tape| = {}", r.max_diff);
    let (first, last) = (r.losses[0], *r.losses.last().unwrap());
    // Small N(0, 0.1) weights: every output starts near 1/2, so J starts at ln 2.
    assert!((first - std::f64::consts::LN_2).abs() < 0.01, "{first}");
    assert!(last < 0.5 * first, "loss {first} -> {last}");
}

#[test]
fn delta_formulas_agree_with_the_tape_on_a_batch_and_grad_w2_is_3_by_3() {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let net = ex02::Net::random(1.0, &mut rng).unwrap();
    let (x, y) = ex02::xor_in_3d(5, &mut rng).unwrap();
    let (_, hand) = ex02::backprop_by_hand(&net, &x, &y);
    let (_, tape) = ex02::backprop_by_tape(&net, &x, &y).unwrap();
    assert!(ex02::max_abs_diff(&hand, &tape) < 1e-12);
    assert_eq!(
        hand[0].dims(),
        &[3, 3],
        "∂J/∂W² has the shape of W², not 3 × 2"
    );
}

#[test]
fn gradcheck_reports_each_wrong_backward_and_the_plain_sum_misses_one() {
    let r = ex03::run(&ex03::common::Args::for_tests(), false).unwrap();
    for f in [&r.detached, &r.wrong_formula, &r.forgets_grad_out] {
        assert_eq!(f.input, 0);
        assert_eq!(f.shape.dims(), &[4, 3]);
        assert_eq!(f.index, Some(0));
        assert!((f.analytic - f.numeric).abs() > f.atol + f.rtol * f.numeric.abs());
    }
    // The wrong formula is e^x where the truth is σ(x); the cotangent scales
    // both, so analytic / numeric is e^x / σ(x) = 1 + e^x > 1.
    assert!(r.wrong_formula.analytic / r.wrong_formula.numeric > 1.0);
    assert!(r.sum_check_error < 1e-12);
}

#[test]
fn sigmoid_gradients_vanish_with_depth_relu_n01_explodes_he_relu_stays_level() {
    let r = ex04::run(&ex04::common::Args::for_tests(), false).unwrap();
    let row = |act, scheme, hidden| {
        r.rows
            .iter()
            .find(|row| {
                row.config.act == act && row.config.scheme == scheme && row.config.hidden == hidden
            })
            .unwrap()
    };
    use ex04::{Act, Scheme};
    // The lectures' figures: sigmoid with N(0, 1/n) weights, each layer ~4×
    // slower than the next; with 6 hidden layers, orders of magnitude.
    let nielsen: Vec<f64> = [2, 3, 4, 6]
        .iter()
        .map(|&h| row(Act::Sigmoid, Scheme::Nielsen, h).first_over_last_hidden())
        .collect();
    assert!(nielsen.windows(2).all(|w| w[1] < w[0]), "{nielsen:?}");
    assert!(nielsen[3] < 1e-2, "{nielsen:?}");
    assert!(row(Act::Sigmoid, Scheme::Xavier, 6).first_over_last_hidden() < 1e-2);
    // N(0, 1) sigmoid: the first layer is still the slowest, but the large
    // weights offset the small σ': within one order of magnitude here.
    let std_normal = row(Act::Sigmoid, Scheme::StdNormal, 6);
    assert!(std_normal.norms[0] < std_normal.norms[5]);
    // ReLU with N(0, 1): the first layer's gradient is hundreds of times the last's.
    assert!(row(Act::Relu, Scheme::StdNormal, 6).first_over_last_hidden() > 100.0);
    // He + ReLU: every hidden layer within a factor 3 of the others.
    let he = &row(Act::Relu, Scheme::He, 6).norms[..6];
    let (lo, hi) = he
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert!(hi / lo < 3.0, "{he:?}");
    // Training: the first hidden layer's gradient stays below the last's.
    let first_epoch = &r.training[0];
    assert!(first_epoch[0] < 0.1 * first_epoch[3], "{first_epoch:?}");
}

#[test]
fn activation_derivatives_by_autodiff_match_the_closed_forms() {
    let r = ex05::run(&ex05::common::Args::for_tests(), false).unwrap();
    assert_eq!(r.curves.len(), 7);
    for c in &r.curves {
        assert!(c.max_error < 1e-12, "{}: {}", c.name, c.max_error);
    }
    let at = |name: &str, x: f64| {
        let i = r.grid.iter().position(|&g| g == x).unwrap();
        let c = r.curves.iter().find(|c| c.name == name).unwrap();
        (c.values[i], c.derivatives[i])
    };
    // Kink conventions at 0 and the sigmoid's ceiling of 1/4.
    assert_eq!(at("relu", 0.0).1, 0.0);
    assert_eq!(at("leaky_relu", 0.0).1, ex05::LEAKY_SLOPE);
    assert_eq!(at("sigmoid", 0.0).1, 0.25);
    let sigmoid = r.curves.iter().find(|c| c.name == "sigmoid").unwrap();
    assert!(sigmoid.derivatives.iter().all(|&d| d <= 0.25));
    // selu on the negative side: scale · alpha · e^x.
    let (_, d) = at("selu", -1.0);
    assert!((d - ex05::SELU_SCALE * ex05::SELU_ALPHA * (-1.0f64).exp()).abs() < 1e-12);
    // ∂/∂a Σ prelu(x; a) = Σ min(x, 0).
    let by_hand: f64 = r.grid.iter().map(|&v| v.min(0.0)).sum();
    assert!((r.prelu_slope_grad - by_hand).abs() < 1e-9);
}

#[test]
fn example_flags_parse_and_reject_unknown_ones() {
    use ex02::common::Args;
    let a = Args::parse_from(
        ["--epochs", "7", "--seed", "3", "--out", "x"].map(String::from),
        false,
    )
    .unwrap();
    assert_eq!((a.epochs, a.seed, a.quick), (Some(7), 3, false));
    assert_eq!(a.out, std::path::PathBuf::from("x"));
    assert!(
        Args::parse_from(["--quick".to_string()], false)
            .unwrap()
            .quick
    );
    assert!(Args::parse_from(["--frobnicate".to_string()], false).is_err());
    assert!(Args::parse_from(["--epochs".to_string()], false).is_err());
}

#[test]
fn conv2d_equals_loops_and_the_notes_examples_and_sizes_are_floor_plus_one() {
    let r = ex11::run(&ex11::common::Args::for_tests(), false).unwrap();
    // The notes' 4×4 input and [[-1, 1], [-1, 1]]; hand-derived from
    // y[i][j] = -x[i][j] + x[i][j+1] - x[i+1][j] + x[i+1][j+1].
    assert_eq!(r.notes_conv_shape, [3, 3]);
    assert_eq!(
        r.notes_conv,
        vec![2.0, 1.0, 2.0, -5.0, -1.0, 7.0, -5.0, -2.0, 5.0]
    );
    assert_eq!(r.notes_conv_padded_shape, [5, 5]);
    // With a border of zeros the corner sees only x[0][0] = 1, times +1.
    assert_eq!(r.notes_conv_padded[0], 1.0);
    assert!(r.notes_loop_diff < 1e-12, "{}", r.notes_loop_diff);
    for c in &r.shapes {
        assert_eq!(c.actual, c.formula, "{c:?}");
        assert!(c.loop_diff < 1e-12, "{c:?}");
        // The notes' (w - f + 2b)/p misses every case of the table.
        assert!((0..2).any(|a| c.notes[a] != c.actual[a] as f64), "{c:?}");
    }
    assert_eq!(r.filtered.len(), ex11::FILTERS.len());
    for f in &r.filtered {
        assert!(f.loop_diff < 1e-12, "{}: {}", f.name, f.loop_diff);
    }
    assert_eq!(r.filtered[0].output, r.digit.0, "the identity filter");
    // Pooling: the notes' max pool is right; their average pool differs only
    // at row 3, column 2, where the window [[0, 1], [4, 1]] averages 1.5.
    assert_eq!(r.max_pool, ex11::NOTES_MAX_POOL.to_vec());
    let wrong: Vec<usize> = (0..9)
        .filter(|&i| r.avg_pool[i] != ex11::NOTES_AVG_POOL[i])
        .collect();
    assert_eq!(wrong, vec![7]);
    assert_eq!(r.avg_pool[7], 1.5);
    assert_eq!(r.max_pool_stride2, vec![3.0, 6.0, 5.0, 4.0]);
    // Moving average: the notes' series (535/4, 570/4, 580/4, 605/4, hand-
    // derived), and the noise left shrinks with the window.
    assert_eq!(r.moving.notes_series, vec![133.75, 142.5, 145.0, 151.25]);
    let v = &r.moving.noise_variance;
    assert_eq!(r.moving.windows, vec![5, 15]);
    assert!(v[1] < 0.5 * v[0] && v[2] < v[1], "{v:?}");
    assert!(r.moving.loop_diff < 1e-12);
}

#[test]
fn cnn_on_digits_lowers_the_loss_and_classifies_far_above_chance() {
    let r = ex12::run(&ex12::common::Args::for_tests(), false).unwrap();
    assert_eq!(r.sizes.0 + r.sizes.1, 1797);
    let (first, last) = (r.cnn.loss[0], *r.cnn.loss.last().unwrap());
    // Starts near ln 10 = 2.30 (ten classes, small logits).
    assert!(first > 1.5 && last < 0.2 * first, "loss {first} -> {last}");
    // Chance is 10%. Seed 0 measured 97.2%; seeds 0-5 gave 92.8-97.2%.
    assert!(r.final_accuracy() > 0.92, "{:?}", r.cnn.test_acc);
    assert!(*r.cnn.train_acc.last().unwrap() > 0.92);
    // The comparison MLP has at least as many parameters.
    assert!(r.cnn_params <= r.mlp_params && r.mlp_params < r.cnn_params + 100);
    assert!(*r.mlp.test_acc.last().unwrap() > 0.9);
}

#[test]
fn min_accuracy_fails_below_the_threshold_and_flags_parse() {
    let err = ex12::check_min_accuracy(0.9612, Some(0.97)).unwrap_err();
    assert_eq!(
        err,
        "12-cnn: final test accuracy 96.12% is below --min-accuracy 97.00%"
    );
    assert!(ex12::check_min_accuracy(0.975, Some(0.97)).is_ok());
    assert!(ex12::check_min_accuracy(0.5, None).is_ok());
    use ex12::common::Args;
    let a = Args::parse_from(
        ["--data", "d", "--min-accuracy", "0.97"].map(String::from),
        false,
    )
    .unwrap();
    assert_eq!(a.data, Some(std::path::PathBuf::from("d")));
    assert_eq!(a.min_accuracy, Some(0.97));
    for bad in ["97", "-0.1", "x"] {
        assert!(Args::parse_from(["--min-accuracy", bad].map(String::from), false).is_err());
    }
}
