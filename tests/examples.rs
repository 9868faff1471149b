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

#[allow(dead_code)]
#[path = "../examples/13-residual-connections.rs"]
mod ex13;
#[allow(dead_code)]
#[path = "../examples/14-transfer-learning.rs"]
mod ex14;
#[allow(dead_code)]
#[path = "../examples/train-digits.rs"]
mod train_digits;

#[test]
fn plain_deep_network_first_layer_gradient_vanishes_and_only_the_residual_one_trains() {
    use ex13::Kind;
    let r = ex13::run(&ex13::common::Args::for_tests(), false).unwrap();
    let (plain, res, he) = (
        r.get(Kind::Plain),
        r.get(Kind::Residual),
        r.get(Kind::PlainHe),
    );
    // Same depth, same initial weights: the skip connections alone keep the
    // first layer's gradient alive (measured ratio ~6e-13).
    assert!(
        plain.grad_norms[0] < 1e-6 * res.grad_norms[0],
        "plain {:e}, residual {:e}",
        plain.grad_norms[0],
        res.grad_norms[0]
    );
    // Inside the plain network the gradient shrinks going back; in the
    // residual one the first layer gets at least a tenth of the output's.
    let last = plain.grad_norms.len() - 1;
    assert!(plain.grad_norms[0] < 1e-6 * plain.grad_norms[last]);
    assert!(res.grad_norms[0] > 0.1 * res.grad_norms[last]);
    // He initialisation: no vanishing at initialisation.
    assert!(
        he.grad_norms[0] > 0.1 * he.grad_norms[last],
        "{:?}",
        he.grad_norms
    );
    // The plain network stalls at ln 10 (uniform guessing); the residual one
    // learns, and faster than the plain network with He initialisation.
    let ln10 = 10f64.ln();
    assert!(
        plain.losses.iter().all(|l| (l - ln10).abs() < 0.02),
        "{:?}",
        plain.losses
    );
    let (first, end) = (res.losses[0], *res.losses.last().unwrap());
    assert!(end < 0.5 * first, "residual loss {first} -> {end}");
    assert!(
        end < 0.5 * he.losses.last().unwrap(),
        "{end} vs {:?}",
        he.losses
    );
    assert!(res.test_accuracy > plain.test_accuracy + 0.5);
}

#[test]
fn checkpoint_round_trips_frozen_features_stay_bit_identical_and_0_4_features_transfer_badly() {
    let r = ex14::run(&ex14::common::Args::for_tests(), false).unwrap();
    assert!(r.source_accuracy > 0.9, "{}", r.source_accuracy);
    assert!(r.fresh_differed && r.loaded_equals_saved);
    assert!(r.frozen_unchanged && r.head_changed);
    assert_eq!(
        r.trainable_while_fine_tuning,
        ex14::FEATURES * ex14::CLASSES + ex14::CLASSES
    );
    // The measured finding: features learned on 0-4 and frozen are worse for
    // 5-9 than frozen random features and than training from scratch
    // (negative transfer; about 81% against 86% and 89% with 5 examples a class).
    let row = &r.rows[0];
    assert_eq!(row.shots, 5);
    assert!(row.transfer + 0.03 < row.scratch, "{row:?}");
    assert!(row.transfer + 0.02 < row.random_features, "{row:?}");
}

#[test]
fn main_example_reaches_97_percent_test_accuracy() {
    let args = train_digits::common::Args {
        quick: false,
        ..train_digits::common::Args::for_tests()
    };
    let r = train_digits::run(&args, false).unwrap();
    assert!(r.test_accuracy >= 0.97, "test accuracy {}", r.test_accuracy);
    assert_eq!(r.sizes, (1257, 269, 271));
    let (first, best) = (r.epochs[0].train_loss, r.epochs[r.best_epoch].train_loss);
    assert!(best < 0.1 * first, "training loss {first} -> {best}");
}
