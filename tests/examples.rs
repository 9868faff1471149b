//! The tutorial examples' key claims, asserted on their own code in quick mode.
//!
//! Each example file is compiled here as a module (its `main` unused), so
//! that the test exercises exactly the function the example runs. Each
//! example includes its own copy of `examples/common`, hence the allowance.

#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "../examples/01-tensors-and-the-tape.rs"]
mod ex01;
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
fn tape_records_each_op_once_its_gradients_equal_the_hand_derived_ones_and_the_line_fits() {
    let r = ex01::run(&ex01::common::Args::for_tests(), false).unwrap();
    // The dump's index, op(inputs) and shape columns, entry by entry.
    let expected = [
        ("leaf", "[3]"),
        ("leaf", "[3]"),
        ("mul(#0, #1)", "[3]"),
        ("exp(#0)", "[3]"),
        ("add(#2, #3)", "[3]"),
        ("div(#4, #1)", "[3]"),
        ("sum(#5)", "[]"),
    ];
    let lines: Vec<&str> = r.dump.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{}", r.dump);
    for (i, (line, (call, shape))) in lines.iter().zip(expected).enumerate() {
        let columns = format!("{:<4}{call:<28} {shape:<16} ", format!("#{i}"));
        assert!(line.starts_with(&columns), "entry {i}: {line:?}");
        // What the tutorial explains: nothing holds mul's and div's outputs
        // after the forward pass; every other value is held and summarized.
        if i == 2 || i == 5 {
            assert!(line.ends_with("(freed)"), "entry {i}: {line:?}");
        } else {
            assert!(
                line.contains(" min ") && line.contains(" mean "),
                "entry {i}: {line:?}"
            );
        }
    }
    // By hand: f = Σ (x + eˣ/y), ∂f/∂x = 1 + eˣ/y, ∂f/∂y = −eˣ/y².
    let (x, y) = (ex01::X, ex01::Y);
    let value: f64 = (0..3).map(|i| x[i] + x[i].exp() / y[i]).sum();
    assert!((r.value - value).abs() < 1e-12, "{} vs {value}", r.value);
    for i in 0..3 {
        let (dx, dy) = (1.0 + x[i].exp() / y[i], -x[i].exp() / (y[i] * y[i]));
        assert!(
            (r.grad_x[i] - dx).abs() < 1e-12,
            "df/dx[{i}] {} vs {dx}",
            r.grad_x[i]
        );
        assert!(
            (r.grad_y[i] - dy).abs() < 1e-12,
            "df/dy[{i}] {} vs {dy}",
            r.grad_y[i]
        );
    }
    // The fit recovers the line the data were made with, up to the wiggle.
    let ((w, b), (true_w, true_b)) = (r.line, ex01::TRUE_LINE);
    assert!(
        (w - true_w).abs() < 0.05 && (b - true_b).abs() < 0.05,
        "w {w}, b {b}"
    );
    let (first, last) = (r.losses[0], *r.losses.last().unwrap());
    assert!(last < first / 1000.0, "loss {first} -> {last}");
}

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
#[path = "../examples/06-optimizers.rs"]
mod ex06;
#[allow(dead_code)]
#[path = "../examples/07-mini-batch-size.rs"]
mod ex07;

#[test]
fn on_the_ravine_momentum_and_adam_beat_sgd_and_sgd_diverges_above_two_over_the_curvature() {
    use ex06::{GAMMA, Opt, SWEEP_LRS};
    let r = ex06::run(&ex06::common::Args::for_tests(), false).unwrap();
    let sgd = r.path(Opt::Sgd { lr: GAMMA }).last_loss();
    let sgd_best_stable = r.path(Opt::Sgd { lr: 0.19 }).last_loss();
    let momentum = r.path(Opt::Momentum { lr: GAMMA, mu: 0.9 }).last_loss();
    let adam = r.path(Opt::Adam { lr: 0.3 }).last_loss();
    // Same γ and steps: momentum far below SGD, and below SGD at 0.19 < 2/10.
    assert!(
        momentum < 1e-2 * sgd.min(sgd_best_stable),
        "{momentum} vs {sgd}, {sgd_best_stable}"
    );
    assert!(adam < 1e-2 * sgd_best_stable, "{adam} vs {sgd_best_stable}");
    // Each at its best rate of the sweep, too.
    let best_sgd = r.best(Opt::Sgd { lr: 0.0 });
    assert!(r.best(Opt::Momentum { lr: 0.0, mu: 0.9 }) < 1e-2 * best_sgd);
    assert!(r.best(Opt::Adam { lr: 0.0 }) < 1e-2 * best_sgd);
    // SGD is stable exactly below 2 / (largest curvature) = 0.2.
    let (_, sgd_sweep) = &r.sweep[0];
    for (lr, f) in SWEEP_LRS.iter().zip(sgd_sweep) {
        assert_eq!(f.is_finite(), *lr < 0.2, "γ = {lr}: {f}");
    }
    // γ = 0.21: y flips sign and grows at every step; γ = 0.19: flips and shrinks.
    for (lr, grows) in [(0.21, true), (0.19, false)] {
        let ys: Vec<f64> = r.path(Opt::Sgd { lr }).points[..20]
            .iter()
            .map(|p| p[1])
            .collect();
        for w in ys.windows(2) {
            assert!(w[0] * w[1] < 0.0, "γ = {lr}: {ys:?}");
            assert_eq!(w[1].abs() > w[0].abs(), grows, "γ = {lr}: {ys:?}");
        }
    }
    // Aula 21's momentum without decay (μ = 1) never settles.
    let undamped = &r.path(Opt::Momentum { lr: GAMMA, mu: 1.0 }).losses;
    let late_max = undamped[50..].iter().copied().fold(0.0, f64::max);
    assert!(late_max > 0.5 * undamped[0], "{late_max}");
    // The notes' v = βv + (1-β)g with α = γ/(1-β) is PyTorch's b = μb + g with γ.
    assert!(
        r.notes_momentum_max_diff < 1e-12,
        "{}",
        r.notes_momentum_max_diff
    );
    // RMSProp's uncorrected first step is γ/√(1 - 0.99) = 10γ; Adam's is γ.
    let rms = r.path(Opt::RmsProp { lr: GAMMA }).first_move();
    assert!((rms - 10.0 * GAMMA).abs() < 1e-6, "{rms}");
    assert!((r.path(Opt::Adam { lr: 0.3 }).first_move() - 0.3).abs() < 1e-6);
}

#[test]
fn on_digits_every_optimizer_lowers_the_loss_and_momentum_and_adam_lead_after_one_epoch() {
    use ex06::{KINDS, Opt};
    let r = ex06::run(&ex06::common::Args::for_tests(), false).unwrap();
    for kind in KINDS {
        let c = r.best_digits(kind);
        let (first, last) = (c.losses[0], *c.losses.last().unwrap());
        assert!(last < 0.5 * first, "{}: {first} -> {last}", c.opt.label());
    }
    let after_one_epoch = |kind: Opt| {
        r.digits
            .iter()
            .filter(|c| ex06::same_kind(c.opt, kind))
            .map(|c| c.losses[1])
            .fold(f64::INFINITY, f64::min)
    };
    // After one epoch, momentum and Adam at their best rates are below every
    // SGD run (seeds 0-7: ratios 0.31-0.73 and 0.24-0.56; SGD's best, at
    // γ = 1 just under divergence, is the erratic one).
    let sgd = after_one_epoch(Opt::Sgd { lr: 0.0 });
    for kind in [Opt::Momentum { lr: 0.0, mu: 0.9 }, Opt::Adam { lr: 0.0 }] {
        let l = after_one_epoch(kind);
        assert!(l < 0.85 * sgd, "{}: {l} vs SGD {sgd}", kind.name());
    }
}

#[test]
fn ema_and_adams_first_moment_equal_the_hand_computed_values_not_the_slides() {
    let r = ex06::run(&ex06::common::Args::for_tests(), false).unwrap();
    // β = 0.9, θ = 16, 24, 28, by hand: v = 1.6, 0.9·1.6 + 2.4, 0.9·3.84 + 2.8.
    let v09 = [1.6, 3.84, 6.256];
    let bc09 = [0.1, 0.19, 0.271];
    // β = 0.98, θ = 16, 24: v₂ = 0.98·0.32 + 0.02·24 (the slide's 0.51136 uses 0.00196).
    let v098 = [0.32, 0.7936];
    let bc098 = [0.02, 0.0396];
    for (rows, v, bc) in [
        (&r.ema_09, &v09[..], &bc09[..]),
        (&r.ema_098, &v098, &bc098),
    ] {
        assert_eq!(rows.len(), v.len());
        for ((row, v), bc) in rows.iter().zip(v).zip(bc) {
            assert!((row.v - v).abs() < 1e-12, "{} vs {v}", row.v);
            assert!(
                (row.v_hat - v / bc).abs() < 1e-9,
                "{} vs {}",
                row.v_hat,
                v / bc
            );
            assert!((row.adam_m - row.v).abs() < 1e-12);
            assert!((row.adam_m_hat - row.v_hat).abs() < 1e-9);
        }
    }
    // The corrected average lies between the values averaged.
    let v2 = r.ema_098[1].v_hat;
    assert!(
        (16.0..24.0).contains(&v2) && (v2 - 20.04).abs() < 1e-3,
        "{v2}"
    );
}

#[test]
fn mini_batches_beat_the_full_batch_per_epoch_and_gradient_noise_falls_as_one_over_b() {
    use ex07::{METHODS, Method};
    let r = ex07::run(&ex07::common::Args::for_tests(), false).unwrap();
    let n = r.n;
    for (method, runs) in METHODS.iter().zip(&r.sweep) {
        let want = match method {
            Method::Batch => 1,
            Method::Stochastic => n,
            Method::MiniBatch(b) => n.div_ceil(*b),
        };
        for run in runs {
            assert_eq!(run.updates_per_epoch, want, "{}", method.label());
            assert_eq!(run.batch_losses.len(), want * r.epochs);
            assert_eq!(run.curve.last().unwrap().examples, n * r.epochs);
        }
    }
    let (batch, sgd, mini) = (
        r.best(Method::Batch),
        r.best(Method::Stochastic),
        r.best(Method::MiniBatch(32)),
    );
    // Same number of epochs (examples seen): many noisy steps beat one exact one.
    assert!(sgd.final_loss() < 0.5 * batch.final_loss());
    assert!(mini.final_loss() < 0.5 * batch.final_loss());
    // Same number of updates: the exact gradient goes further per step.
    let k = r.epochs;
    assert!(batch.loss_after_updates(k) < sgd.loss_after_updates(k));
    assert!(batch.loss_after_updates(k) < mini.loss_after_updates(k));
    // The full-batch loss never rises at a stable rate; batch losses jump about.
    for run in &r.sweep[0] {
        if run.lr <= 1.0 {
            assert_eq!(run.rises(), 0.0, "batch γ = {}", run.lr);
        }
    }
    for run in r.sweep[1].iter().chain(&r.sweep[2]) {
        assert!(run.rises() > 0.25, "{} γ = {}", run.method.label(), run.lr);
    }
    // E‖g_b - g‖² = (σ²/b)(n - b)/(n - 1), zero at b = n.
    let sigma2 = r.noise[0].1;
    for &(b, v) in &r.noise[1..] {
        let predicted = ex07::noise_prediction(sigma2, b, n);
        if b == n {
            assert!(v < 1e-9 * sigma2, "b = n: {v}");
        } else {
            assert!(
                (v / predicted - 1.0).abs() < 0.25,
                "b = {b}: {v} vs {predicted}"
            );
        }
    }
}

#[allow(dead_code)]
#[path = "../examples/08-overfitting-and-regularisation.rs"]
mod ex08;
#[allow(dead_code)]
#[path = "../examples/09-batch-normalisation.rs"]
mod ex09;
#[allow(dead_code)]
#[path = "../examples/10-clipping-and-schedules.rs"]
mod ex10;

#[test]
fn unregularised_net_overfits_and_each_regulariser_narrows_the_gap() {
    use ex08::Regulariser as R;
    let r = ex08::run(&ex08::common::Args::for_tests(), false).unwrap();
    let none = r.run(|g| *g == R::None);
    // Validation loss: a minimum well before the end, then a rise, while the
    // training loss keeps falling and the gap grows.
    let min = ex08::argmin(&none.val);
    assert!(min + 10 < none.val.len(), "minimum at epoch {min}");
    assert!(none.final_val > 1.3 * none.val[min], "{:?}", none.val);
    assert!(none.final_train < 0.5 * none.train[min]);
    assert!(none.gap() > 3.0 * (none.val[min] - none.train[min]));
    for kind in [
        (|g: &R| matches!(g, R::L1(_))) as fn(&R) -> bool,
        |g| matches!(g, R::L2(_)),
        |g| matches!(g, R::Dropout(_)),
        |g| matches!(g, R::EarlyStopping(_)),
    ] {
        let run = r.run(kind);
        let label = run.reg.label();
        assert!(run.gap() < 0.9 * none.gap(), "{label}: gap {}", run.gap());
        assert!(
            run.final_val < 0.9 * none.final_val,
            "{label}: {}",
            run.final_val
        );
    }
    // L1 zeroes weights, L2 shrinks them: many more weights near 0 with L1.
    let l1 = r.run(|g| matches!(g, R::L1(_))).zero_weights;
    let l2 = r.run(|g| matches!(g, R::L2(_))).zero_weights;
    assert!(l1.0 as f64 > 0.5 * l1.1 as f64, "{l1:?}");
    assert!(l1.0 > 5 * l2.0, "L1 {l1:?}, L2 {l2:?}");
    assert!(l2.0 < l2.1 / 5, "{l2:?}");
    // Early stopping restores the best epoch: the restored model's validation
    // loss is the best one recorded, which is the minimum of its curve, and
    // it stopped `PATIENCE` epochs after it.
    let es = r.run(|g| matches!(g, R::EarlyStopping(_)));
    let (best, epoch) = es.best.unwrap();
    assert!(
        (es.final_val - best).abs() <= 1e-6 * best,
        "{} vs {best}",
        es.final_val
    );
    assert_eq!(epoch, ex08::argmin(&es.val));
    assert_eq!(es.val.len(), epoch + 1 + ex08::PATIENCE);
    assert!(es.final_val < es.val[es.val.len() - 1]);
}

#[test]
fn batch_norm_trains_a_deep_sigmoid_net_and_eval_mode_ignores_the_batch() {
    let r = ex09::run(&ex09::common::Args::for_tests(), false).unwrap();
    let (plain, bn) = (&r.plain, &r.batch_norm);
    // The plain network's first layer gets a gradient orders of magnitude
    // below its last; batch norm keeps them level and the first one large.
    let ratio = |n: &[f64]| n[0] / n[n.len() - 1];
    assert!(ratio(&plain.init_norms) < 1e-4, "{:?}", plain.init_norms);
    assert!(ratio(&bn.init_norms) > 0.1, "{:?}", bn.init_norms);
    assert!(bn.init_norms[0] > 1e4 * plain.init_norms[0]);
    // In the same epochs, the loss falls much faster with batch norm.
    let last = |run: &ex09::Run| *run.losses.last().unwrap();
    assert!(
        last(bn) < 0.5 * last(plain),
        "{} vs {}",
        last(bn),
        last(plain)
    );
    assert!(last(bn) < 0.6 * bn.losses[0]);
    assert!(bn.accuracy > plain.accuracy + 0.3);
    // Eval mode: an example's output does not depend on its batch (up to
    // rounding); training mode: it does, and one example alone is an error.
    let m = &r.modes;
    assert!(m.eval_alone_vs_batch < 1e-5 && m.eval_batch_vs_batch < 1e-5);
    assert!(m.train_batch_vs_batch > 1e-2, "{}", m.train_batch_vs_batch);
    assert!(
        m.train_alone_error
            .contains("more than 1 value per channel")
    );
    // The running mean tracks the training set's mean.
    assert!(m.running_mean_error < 0.2 * m.mean_scale);
}

#[test]
fn clipping_keeps_an_exploding_net_finite_and_norm_clipping_keeps_direction() {
    let r = ex10::run(&ex10::common::Args::for_tests(), false).unwrap();
    let by = |c| r.clipping.iter().find(|run| run.clip == c).unwrap();
    use ex10::Clip;
    let none = by(Clip::None);
    assert!(!none.finite(), "{:?}", none.losses);
    for c in [Clip::Value, Clip::Norm] {
        let run = by(c);
        assert!(run.finite());
        assert!(run.losses.len() > 10 * none.losses.len());
        let (first, last) = (run.losses[0], *run.losses.last().unwrap());
        assert!(last < 0.8 * first, "{c:?}: {first} -> {last}");
    }
    // The raw gradient is far above the threshold, so both clips act.
    assert!(none.first_norm > 1e3 * ex10::CLIP);
    assert!((by(Clip::Norm).cosine - 1.0).abs() < 1e-6);
    assert!(by(Clip::Value).cosine < 0.9, "{}", by(Clip::Value).cosine);
}

#[test]
fn cosine_schedules_end_with_lower_validation_loss_than_a_large_constant_rate() {
    let r = ex10::run(&ex10::common::Args::for_tests(), false).unwrap();
    let by = |name| r.schedules.iter().find(|s| s.name == name).unwrap();
    assert_eq!(r.schedules.len(), 7);
    let constant = by("constant");
    assert!(constant.lrs.iter().all(|&lr| lr == ex10::BASE_LR));
    for name in ["cosine", "warmup + cosine"] {
        let s = by(name);
        assert!(
            s.final_val < 0.7 * constant.final_val,
            "{name}: {} vs {}",
            s.final_val,
            constant.final_val
        );
        // Quick mode (10 epochs): the training loss too.
        assert!(s.final_train < 0.5 * constant.final_train);
        assert!(s.lrs.last().unwrap() < &(0.1 * ex10::BASE_LR));
    }
    // Every decaying schedule's rate ends below where it started.
    for name in ["step", "multi-step", "exponential", "cosine"] {
        let s = by(name);
        assert!(s.lrs.last().unwrap() < &(0.1 * s.lrs[0]), "{name}");
    }
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
