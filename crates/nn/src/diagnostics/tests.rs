//! The diagnostics on the networks of the vanishing-gradient lecture.

use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_core::Tensor;

use super::*;
use crate::init::{FanMode, Init, RELU_GAIN};
use crate::{Linear, Module, Reduction, Relu, Sequential, Sigmoid, loss};

/// A `depth`-hidden-layer MLP of width 32 on 16 inputs, 4 classes, with the
/// given activation and weight init (zero biases), its activations probed.
fn mlp(
    depth: usize,
    relu: bool,
    init: Init,
    monitor: &Monitor,
    rng: &mut StdRng,
) -> Sequential<f64> {
    let mut net = Sequential::new();
    let mut fan_in = 16;
    for i in 0..=depth {
        let out = if i == depth { 4 } else { 32 };
        let w = init.sample([out, fan_in], rng).unwrap().requires_grad();
        let b = Tensor::zeros([out]).requires_grad();
        net.push(Linear::from_tensors(w, Some(b)).unwrap());
        if i < depth {
            let name = format!("act{i}");
            if relu {
                net.push(monitor.probe(&name, ActivationKind::Relu, Relu));
            } else {
                net.push(monitor.probe(&name, ActivationKind::Sigmoid, Sigmoid));
            }
        }
        fan_in = out;
    }
    net
}

fn report_of(net: &Sequential<f64>, rng: &mut StdRng) -> GradientReport {
    let x = Tensor::randn([64, 16], 0.0, 1.0, rng).unwrap();
    let labels: Vec<usize> = (0..64).map(|i| i % 4).collect();
    let l = loss::cross_entropy(&net.forward(&x), &labels, Reduction::Mean).unwrap();
    GradientReport::new(net, &l.backward().unwrap())
}

/// Measured over seeds 0..5 (`first_to_last_ratio`, 6 hidden layers of
/// width 32, batch 64): sigmoid with N(0, 0.1²) weights 6.5e-6..2.5e-5;
/// sigmoid with N(0, 1) weights 3.7e-2..7.2e-2 (saturation stops the
/// gradient less than small weights do); ReLU with He init 0.24..0.50.
#[test]
fn deep_sigmoid_mlp_with_small_init_vanishes() {
    for seed in 0..5 {
        let mut rng = StdRng::seed_from_u64(seed);
        let small = Init::Normal {
            mean: 0.0,
            std: 0.1,
        };
        let net = mlp(6, false, small, &Monitor::new(), &mut rng);
        let report = report_of(&net, &mut rng);
        let ratio = report.first_to_last_ratio().unwrap();
        assert!(ratio < 1e-4, "seed {seed}: first/last {ratio:e}\n{report}");
        assert_eq!(
            report.vanishing(),
            ["layers.0", "layers.2", "layers.4"],
            "seed {seed}\n{report}"
        );
        assert!(report.exploding().is_empty());
    }
}

#[test]
fn deep_sigmoid_mlp_with_unit_normal_init_saturates_and_loses_gradient() {
    let ten_x = Thresholds {
        vanishing_ratio: 0.1,
        ..Default::default()
    };
    for seed in 0..5 {
        let mut rng = StdRng::seed_from_u64(seed);
        let monitor = Monitor::new();
        let normal = Init::Normal {
            mean: 0.0,
            std: 1.0,
        };
        let net = mlp(6, false, normal, &monitor, &mut rng);
        let x = Tensor::randn([64, 16], 0.0, 1.0, &mut rng).unwrap();
        let labels: Vec<usize> = (0..64).map(|i| i % 4).collect();
        let l = loss::cross_entropy(&net.forward(&x), &labels, Reduction::Mean).unwrap();
        let grads = l.backward().unwrap();
        let report = GradientReport::with_thresholds(&net, &grads, ten_x).unwrap();
        let ratio = report.first_to_last_ratio().unwrap();
        assert!(ratio < 0.1, "seed {seed}: first/last {ratio:e}\n{report}");
        assert_eq!(report.vanishing()[0], "layers.0", "seed {seed}\n{report}");
        // N(0, 1) weights over 32 inputs: pre-activations of std about 3.
        let sat = monitor.get("act3").unwrap().saturated_fraction.unwrap();
        assert!(sat > 0.05, "seed {seed}: saturated {sat}");
    }
}

#[test]
fn deep_relu_mlp_with_he_init_is_healthy() {
    for seed in 0..5 {
        let mut rng = StdRng::seed_from_u64(seed);
        let he = Init::KaimingNormal {
            gain: RELU_GAIN,
            mode: FanMode::FanIn,
        };
        let net = mlp(6, true, he, &Monitor::new(), &mut rng);
        let report = report_of(&net, &mut rng);
        let ratio = report.first_to_last_ratio().unwrap();
        assert!(ratio > 0.1, "seed {seed}: first/last {ratio:e}\n{report}");
        assert!(report.is_healthy(), "seed {seed}\n{report}");
        assert_eq!(report.layers().len(), 7);
    }
}

#[test]
fn huge_weights_explode() {
    let mut rng = StdRng::seed_from_u64(1);
    let big = Init::Normal {
        mean: 0.0,
        std: 30.0,
    };
    let net = mlp(4, true, big, &Monitor::new(), &mut rng);
    let report = report_of(&net, &mut rng);
    assert!(report.exploding().contains(&"layers.0"), "{report}");
    assert!(!report.is_healthy());
}

#[test]
fn non_finite_gradient_is_exploding() {
    let w = Tensor::<f64>::from_vec(vec![f64::INFINITY], [1, 1])
        .unwrap()
        .requires_grad();
    let net = Sequential::new()
        .add(Linear::from_tensors(Tensor::ones([1, 1]).requires_grad(), None).unwrap())
        .add(Linear::from_tensors(w, None).unwrap());
    let grads = net.forward(&Tensor::ones([1, 1])).sum().backward().unwrap();
    let report = GradientReport::new(&net, &grads);
    assert_eq!(report.layers()[0].health, Health::Exploding);
    assert_eq!(report.layers()[1].health, Health::Healthy);
}

#[test]
fn relu_with_large_negative_bias_is_all_dead() {
    let mut rng = StdRng::seed_from_u64(2);
    let monitor = Monitor::new();
    let w = Tensor::randn([8, 5], 0.0, 1.0, &mut rng).unwrap();
    let layer = Linear::<f64>::from_tensors(w, Some(Tensor::full([8], -1e3))).unwrap();
    let net = Sequential::new()
        .add(layer)
        .add(monitor.probe("relu", ActivationKind::Relu, Relu));
    net.forward(&Tensor::randn([20, 5], 0.0, 1.0, &mut rng).unwrap());
    let s = monitor.get("relu").unwrap();
    assert_eq!((s.units, s.examples, s.dead_units), (8, 20, 8));
    assert_eq!((s.dead_fraction, s.zero_fraction), (1.0, 1.0));
}

/// Hand computation on `y = w₂·sigmoid(w₁·x + b₁)`, `x = 2`, `w₁ = 1`,
/// `b₁ = -2`, `w₂ = 3`, `L = y`: the hidden pre-activation is 0, so
/// `h = 1/2`, `dL/dw₂ = h = 1/2`, `dL/dh = 3`, `σ'(0) = 1/4`,
/// `dL/db₁ = 3/4`, `dL/dw₁ = 3/4 · x = 3/2`.
#[test]
fn tiny_model_numbers_match_hand_computation() {
    let t = |v: f64| {
        Tensor::<f64>::from_vec(vec![v], [1, 1])
            .unwrap()
            .requires_grad()
    };
    let net = Sequential::new()
        .add(Linear::from_tensors(t(1.0), Some(Tensor::full([1], -2.0).requires_grad())).unwrap())
        .add(Sigmoid)
        .add(Linear::from_tensors(t(3.0), None).unwrap());
    let grads = net
        .forward(&Tensor::full([1, 1], 2.0))
        .sum()
        .backward()
        .unwrap();
    let report = GradientReport::new(&net, &grads);
    let l = report.layers();
    assert_eq!(l.len(), 2);
    assert_eq!(
        (l[0].name.as_str(), l[1].name.as_str()),
        ("layers.0", "layers.2")
    );
    let [w1, b1] = &l[0].params[..] else {
        panic!("two parameters expected")
    };
    assert_eq!(
        (w1.weight_norm, w1.grad_norm, w1.grad_to_weight),
        (1.0, Some(1.5), Some(1.5))
    );
    assert_eq!(
        (b1.weight_norm, b1.grad_norm, b1.grad_to_weight),
        (2.0, Some(0.75), Some(0.375))
    );
    let w2 = &l[1].params[0];
    assert_eq!((w2.weight_norm, w2.grad_norm), (3.0, Some(0.5)));
    assert!((w2.grad_to_weight.unwrap() - 1.0 / 6.0).abs() < 1e-15);
    // Layer 0: ‖[3/2, 3/4]‖ = √(45/16) = 3√5/4; relative to layer 2's 1/2.
    let g0 = 3.0 * 5f64.sqrt() / 4.0;
    assert!((l[0].grad_norm.unwrap() - g0).abs() < 1e-15);
    assert!((l[0].relative_to_reference.unwrap() - 2.0 * g0).abs() < 1e-14);
    assert_eq!(l[1].relative_to_reference, Some(1.0));
    assert!(report.is_healthy());
    let table = report.to_string();
    assert!(table.contains("layers.0.bias"), "{table}");
    assert!(table.contains("1.500e0"), "{table}");
    assert!(
        table.ends_with("vanishing: none\nexploding: none"),
        "{table}"
    );
}

#[test]
fn frozen_layers_have_no_gradient_and_are_not_flagged() {
    let mut first = Linear::<f64>::from_tensors(Tensor::ones([1, 1]), None).unwrap();
    first.freeze();
    let net = Sequential::new()
        .add(first)
        .add(Linear::from_tensors(Tensor::ones([1, 1]).requires_grad(), None).unwrap());
    let grads = net.forward(&Tensor::ones([1, 1])).sum().backward().unwrap();
    let report = GradientReport::new(&net, &grads);
    assert_eq!(report.layers()[0].health, Health::NoGradient);
    assert_eq!(report.first_to_last_ratio(), Some(1.0));
    assert!(report.is_healthy());
    assert!(report.to_string().contains("no gradient"));
}

#[test]
fn vanishing_norm_threshold_flags_tiny_gradients_alone() {
    let net = Linear::<f64>::from_tensors(Tensor::ones([1, 1]).requires_grad(), None).unwrap();
    let grads = net
        .forward(&Tensor::full([1, 1], 1e-9))
        .sum()
        .backward()
        .unwrap();
    assert_eq!(GradientReport::new(&net, &grads).vanishing(), [""]);
    let loose = Thresholds {
        vanishing_norm: 1e-12,
        ..Default::default()
    };
    let report = GradientReport::with_thresholds(&net, &grads, loose).unwrap();
    assert!(report.is_healthy());
    let e = GradientReport::with_thresholds(
        &net,
        &grads,
        Thresholds {
            exploding_norm: f64::NAN,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "gradient_report: exploding_norm must be finite and >= 0, got NaN"
    );
}
