//! Tests of the optimizers: first steps against hand-computed values, the
//! lecture's EMA example, convergence, state round trips and validation.

use wengert_core::{Float, Tensor};

use super::*;
use crate::module::Module;

/// A model that is just a point: a trainable parameter `w` and, optionally, a
/// frozen parameter `f` that no loss uses.
struct Point<T: Float> {
    w: Tensor<T>,
    f: Option<Tensor<T>>,
}

impl<T: Float> Point<T> {
    fn new(w: &[f64]) -> Self {
        let data = w.iter().map(|&v| T::from_f64(v)).collect();
        Point {
            w: Tensor::from_vec(data, [w.len()]).unwrap().requires_grad(),
            f: None,
        }
    }
}

impl<T: Float> Module<T> for Point<T> {
    fn try_forward(&self, x: &Tensor<T>) -> crate::Result<Tensor<T>> {
        Ok(x.clone())
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        f("w", &self.w);
        if let Some(t) = &self.f {
            f("f", t);
        }
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        f("w", &mut self.w);
        if let Some(t) = &mut self.f {
            f("f", t);
        }
    }
}

/// `0.5·Σ cᵢ·wᵢ²`: gradient `c ⊙ w`; `c = 1` is a round bowl, unequal `c`
/// an elongated ravine.
fn quadratic<T: Float>(p: &Point<T>, c: &[f64]) -> Tensor<T> {
    let c = Tensor::from_vec(c.iter().map(|&v| T::from_f64(v)).collect(), [c.len()]).unwrap();
    (&p.w.square() * &c).sum().mul_scalar(T::from_f64(0.5))
}

fn step_quadratic(opt: &mut dyn Optimizer<f64>, p: &mut Point<f64>, c: &[f64]) {
    let g = quadratic(p, c).backward().unwrap();
    opt.step(p, &g).unwrap();
}

/// The first three iterates of `w` from `[1, -2]` on `L = 0.5·Σ w²` (so
/// `g = w`).
fn three_steps(opt: &mut dyn Optimizer<f64>) -> Vec<Vec<f64>> {
    let mut p = Point::new(&[1.0, -2.0]);
    (0..3)
        .map(|_| {
            step_quadratic(opt, &mut p, &[1.0, 1.0]);
            p.w.to_vec()
        })
        .collect()
}

fn assert_iterates(name: &str, got: &[Vec<f64>], want: [[f64; 2]; 3]) {
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        for i in 0..2 {
            assert!(
                (g[i] - w[i]).abs() <= 1e-12 * w[i].abs().max(1.0),
                "{name}: step {} element {i}: got {}, want {}",
                t + 1,
                g[i],
                w[i]
            );
        }
    }
}

// Provenance of the expected iterates below: hand-derived from the formulas of
// the torch.optim docs quoted in each optimizer's module header, with `g = w`
// from `w₀ = [1, -2]`; the arithmetic was evaluated in Python floats (PyTorch
// itself was not run). Worked examples for the first element:
// - SGD momentum 0.9, lr 0.1: b₁ = 1, w₁ = 0.9; b₂ = 0.9·1 + 0.9 = 1.8,
//   w₂ = 0.72; b₃ = 0.9·1.8 + 0.72 = 2.34, w₃ = 0.486.
// - Nesterov: b₁ = 1, w₁ = 1 - 0.1·(1 + 0.9·1) = 0.81; b₂ = 0.9 + 0.81 = 1.71,
//   w₂ = 0.81 - 0.1·(0.81 + 0.9·1.71) = 0.5751.
// - Adam lr 0.1: m₁ = 0.1, v₁ = 0.001, m̂₁ = v̂₁ = 1, w₁ = 1 - 0.1/(1 + 1e-8);
//   m₂ = 0.09 + 0.09 = 0.18, v₂ = 0.000999 + 0.00081 = 0.001809,
//   w₂ = w₁ - 0.1·(0.18/0.19)/(√(0.001809/0.001999) + 1e-8) ≈ 0.8004122.
// - Adagrad lr 0.5: s₁ = 1, w₁ = 1 - 0.5·1/(1 + 1e-10) ≈ 0.5; s₂ = 1.25,
//   w₂ = 0.5 - 0.5·0.5/√1.25 ≈ 0.2763932.

#[test]
fn sgd_first_three_steps_match_hand_computed_values() {
    let run = |c: SgdConfig| three_steps(&mut Sgd::new(c).unwrap());
    let base = SgdConfig {
        lr: 0.1,
        ..Default::default()
    };
    #[rustfmt::skip]
    let cases = [
        ("plain", base, [[0.9, -1.8], [0.81, -1.62], [0.7290000000000001, -1.4580000000000002]]),
        ("momentum", SgdConfig { momentum: 0.9, ..base }, [[0.9, -1.8], [0.72, -1.44], [0.486, -0.972]]),
        ("dampening", SgdConfig { momentum: 0.9, dampening: 0.5, ..base }, [[0.9, -1.8], [0.765, -1.53], [0.60525, -1.2105]]),
        ("nesterov", SgdConfig { momentum: 0.9, nesterov: true, ..base }, [[0.81, -1.62], [0.5751000000000001, -1.1502000000000001], [0.32732100000000003, -0.6546420000000001]]),
        ("l2", SgdConfig { weight_decay: WeightDecay::L2(0.1), ..base }, [[0.89, -1.78], [0.7921, -1.5842], [0.704969, -1.409938]]),
        // Without momentum, decoupled decay is L2 decay: θ - γ(g + λθ) = θ(1 - γλ) - γg.
        ("decoupled", SgdConfig { weight_decay: WeightDecay::Decoupled(0.1), ..base }, [[0.89, -1.78], [0.7921, -1.5842], [0.7049690000000001, -1.4099380000000001]]),
    ];
    for (name, config, want) in cases {
        assert_iterates(name, &run(config), want);
    }
}

#[test]
fn rmsprop_first_three_steps_match_hand_computed_values() {
    let run = |c: RmsPropConfig| three_steps(&mut RmsProp::new(c).unwrap());
    let base = RmsPropConfig::default(); // lr 0.01, alpha 0.99, eps 1e-8
    #[rustfmt::skip]
    let cases = [
        ("plain", base, [[0.9000000099999991, -1.9000000049999999], [0.8329179752650593, -1.8309433328172848], [0.7799822819823541, -1.775349450099218]]),
        ("momentum", RmsPropConfig { momentum: 0.9, ..base }, [[0.9000000099999991, -1.9000000049999999], [0.7429179842650584, -1.7409433373172847], [0.552914953234408, -1.5441299749488298]]),
        ("centered", RmsPropConfig { centered: true, ..base }, [[0.8994962285750879, -1.8994962235245836], [0.8317593871030315, -1.8297521563555703], [0.7780684196313441, -1.7733354190025379]]),
        // Computed by PyTorch 2.15 (torch.optim.RMSprop, float64, the same
        // w₀ and g = w), which also reproduces "momentum" above to 1e-16.
        ("centered momentum", RmsPropConfig { centered: true, momentum: 0.9, ..base }, [[0.8994962285750879, -1.8994962235245836], [0.7413059928206107, -1.7392987575276957], [0.5496501845770552, -1.540678030383154]]),
    ];
    for (name, config, want) in cases {
        assert_iterates(name, &run(config), want);
    }
}

#[test]
fn adam_and_adamw_first_three_steps_match_hand_computed_values() {
    let run = |c: AdamConfig| three_steps(&mut Adam::new(c).unwrap());
    let base = AdamConfig {
        lr: 0.1,
        ..Default::default()
    };
    #[rustfmt::skip]
    let cases = [
        ("adam", base, [[0.900000001, -1.9000000005], [0.8004122297123382, -1.800166486621093], [0.701586274504415, -1.700623392812114]]),
        ("adam l2", AdamConfig { weight_decay: WeightDecay::L2(0.1), ..base }, [[0.9000000009090909, -1.9000000004545454], [0.8004122295267845, -1.8001664865292035], [0.7015862742210723, -1.700623392672905]]),
        ("adamw", AdamConfig::adamw(0.1, 0.1), [[0.890000001, -1.8800000005], [0.7815718569541611, -1.7614089510885826], [0.6751012231892007, -1.6443686843220089]]),
    ];
    for (name, config, want) in cases {
        assert_iterates(name, &run(config), want);
    }
}

#[test]
fn adagrad_first_three_steps_match_hand_computed_values() {
    let run = |c: AdagradConfig| three_steps(&mut Adagrad::new(c).unwrap());
    let base = AdagradConfig {
        lr: 0.5,
        ..Default::default()
    };
    #[rustfmt::skip]
    let cases = [
        ("plain", base, [[0.50000000005, -1.500000000025], [0.2763932023021325, -1.2000000000338], [0.15639873606768326, -0.9836344662453187]]),
        ("lr decay and initial sum", AdagradConfig { lr_decay: 0.1, initial_accumulator_value: 0.1, ..base }, [[0.5232687054226584, -1.5061352016995952], [0.32034222508940946, -1.2348509165748678], [0.21049309512795017, -1.0517148082265364]]),
    ];
    for (name, config, want) in cases {
        assert_iterates(name, &run(config), want);
    }
}

/// Feeds Adam the gradients `gs` in turn through `L = g·w`.
fn adam_with_gradients(beta1: f64, gs: &[f64]) -> (Adam<f64>, Point<f64>) {
    let mut p = Point::new(&[0.0]);
    let mut opt = Adam::new(AdamConfig {
        lr: 0.1,
        beta1,
        ..Default::default()
    })
    .unwrap();
    for &g in gs {
        let grads = p.w.mul_scalar(g).sum().backward().unwrap();
        opt.step(&mut p, &grads).unwrap();
    }
    (opt, p)
}

#[test]
fn adam_first_moment_reproduces_the_lecture_ema_example() {
    // Optimisation lecture (shared/seeds/003...): β = 0.98, θ₁ = 16, θ₂ = 24.
    // v₁ = 0.02·16 = 0.32, bias-corrected 0.32 / (1 - 0.98) = 16.
    let (opt, _) = adam_with_gradients(0.98, &[16.0]);
    let s = opt.inspect("w").unwrap();
    assert_eq!(s.step, 1);
    assert!((s.exp_avg.item() - 0.32).abs() < 1e-12);
    assert!((s.exp_avg_hat.item() - 16.0).abs() < 1e-9);
    // The notes print 0.00196·θ₁ where 0.98·0.02 = 0.0196 is meant:
    // v₂ = 0.0196·16 + 0.02·24 = 0.7936, bias-corrected 0.7936 / 0.0396 ≈ 20.04.
    let (opt, _) = adam_with_gradients(0.98, &[16.0, 24.0]);
    let s = opt.inspect("w").unwrap();
    assert_eq!(s.step, 2);
    assert!((s.exp_avg.item() - 0.7936).abs() < 1e-12);
    let corrected = 0.7936 / (1.0 - 0.98f64.powi(2));
    assert!((s.exp_avg_hat.item() - corrected).abs() < 1e-9);
    assert!((corrected - 20.04).abs() < 1e-3);
}

#[test]
fn adam_inspection_effective_step_is_the_last_update() {
    let (opt, p) = adam_with_gradients(0.9, &[3.0, -1.0, 2.0]);
    let before = adam_with_gradients(0.9, &[3.0, -1.0]).1.w.item();
    let s = opt.inspect("w").unwrap();
    assert!((before - p.w.item() - s.effective_step.item()).abs() < 1e-15);
    let v_hat = s.exp_avg_sq.item() / (1.0 - 0.999f64.powi(3));
    assert!((s.exp_avg_sq_hat.item() - v_hat).abs() < 1e-15);
}

#[test]
fn adam_with_an_all_zero_gradient_leaves_the_parameter_unchanged() {
    let mut p = Point::<f32>::new(&[1.5, -0.0, 3e-39]);
    let before = p.w.to_vec();
    let mut opt = Adam::new(AdamConfig::default()).unwrap();
    for _ in 0..3 {
        let grads = p.w.mul_scalar(0.0).sum().backward().unwrap();
        opt.step(&mut p, &grads).unwrap();
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&p.w.to_vec()), bits(&before));
}

/// Every optimizer with settings that suit `0.5·Σ cᵢ·wᵢ²` for `c` up to 50.
fn all_optimizers() -> Vec<(&'static str, Box<dyn Optimizer<f64>>)> {
    vec![
        (
            "sgd",
            Box::new(
                Sgd::new(SgdConfig {
                    lr: 0.035,
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
        (
            "sgd momentum",
            Box::new(
                Sgd::new(SgdConfig {
                    lr: 0.01,
                    momentum: 0.9,
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
        (
            "sgd nesterov",
            Box::new(
                Sgd::new(SgdConfig {
                    lr: 0.01,
                    momentum: 0.9,
                    nesterov: true,
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
        (
            "rmsprop",
            Box::new(
                RmsProp::new(RmsPropConfig {
                    lr: 0.01,
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
        (
            "rmsprop centered momentum",
            Box::new(
                RmsProp::new(RmsPropConfig {
                    lr: 0.001,
                    momentum: 0.9,
                    centered: true,
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
        (
            "adam",
            Box::new(
                Adam::new(AdamConfig {
                    lr: 0.05,
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
        (
            "adamw",
            Box::new(Adam::new(AdamConfig::adamw(0.05, 1e-4)).unwrap()),
        ),
        (
            "adagrad",
            Box::new(
                Adagrad::new(AdagradConfig {
                    lr: 0.5,
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
    ]
}

fn final_loss(opt: &mut dyn Optimizer<f64>, c: &[f64], steps: usize) -> f64 {
    let mut p = Point::new(&[1.0, 1.0]);
    for _ in 0..steps {
        step_quadratic(opt, &mut p, c);
    }
    quadratic(&p, c).item()
}

#[test]
fn every_optimizer_converges_on_a_bowl_and_a_ravine() {
    for (name, mut opt) in all_optimizers() {
        let bowl = final_loss(&mut *opt, &[1.0, 1.0], 400);
        assert!(bowl < 1e-4, "{name}: bowl loss {bowl}");
    }
    for (name, mut opt) in all_optimizers() {
        let ravine = final_loss(&mut *opt, &[1.0, 50.0], 400);
        assert!(ravine < 1e-4, "{name}: ravine loss {ravine}");
    }
}

#[test]
fn momentum_and_adam_beat_plain_sgd_on_the_ravine() {
    // Plain SGD must keep lr < 2/50 to stay stable across the ravine, which
    // makes it crawl along the flat direction (contraction 1 - 0.035 per
    // step); heavy-ball momentum 0.6 with lr 0.05 contracts both directions by
    // about 0.8 per step, and Adam's per-element scaling ignores the
    // curvature ratio (measured at 200 steps: SGD 3e-7, Adam 1e-9; Adam is
    // not faster over the first ~60 steps, while it travels at about lr per
    // step towards the minimum).
    let c = [1.0, 50.0];
    let steps = 200;
    let sgd = final_loss(
        &mut Sgd::new(SgdConfig {
            lr: 0.035,
            ..Default::default()
        })
        .unwrap(),
        &c,
        steps,
    );
    let momentum = final_loss(
        &mut Sgd::new(SgdConfig {
            lr: 0.05,
            momentum: 0.6,
            ..Default::default()
        })
        .unwrap(),
        &c,
        steps,
    );
    let adam = final_loss(
        &mut Adam::new(AdamConfig {
            lr: 0.1,
            ..Default::default()
        })
        .unwrap(),
        &c,
        steps,
    );
    assert!(momentum < sgd / 10.0, "momentum {momentum} vs sgd {sgd}");
    assert!(adam < sgd / 10.0, "adam {adam} vs sgd {sgd}");
}

fn fresh(name: &str) -> Box<dyn Optimizer<f64>> {
    all_optimizers()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap()
        .1
}

#[test]
fn exported_state_resumes_bit_for_bit() {
    let c = [1.0, 50.0];
    for (name, mut opt) in all_optimizers() {
        let mut p = Point::new(&[1.0, -0.7]);
        for _ in 0..5 {
            step_quadratic(&mut *opt, &mut p, &c);
        }
        let state = opt.state();
        let mut resumed = fresh(name);
        resumed.load_state(&p, &state).unwrap();
        let mut q = Point::new(&p.w.to_vec());
        for _ in 0..7 {
            step_quadratic(&mut *opt, &mut p, &c);
            step_quadratic(&mut *resumed, &mut q, &c);
        }
        let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        assert_eq!(bits(p.w.to_vec()), bits(q.w.to_vec()), "{name}");
    }
}

#[test]
fn adam_state_is_named_by_parameter_and_slot() {
    let (opt, _) = adam_with_gradients(0.9, &[1.0]);
    let s = opt.state();
    let names: Vec<&str> = s.tensors.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["w.exp_avg", "w.exp_avg_sq"]);
    assert_eq!(s.steps, [("w".to_string(), 1)]);
    assert!((s.tensor("w.exp_avg").unwrap().item() - 0.1).abs() < 1e-15);
}

#[test]
fn rmsprop_state_slots_hold_what_their_names_say() {
    // Centred with momentum, one step from w = g = [1, -2]: the gradient
    // average is (1 - α)·g and the momentum buffer g / (√(v - ḡ²) + ε), with
    // v = (1 - α)·g².
    let mut opt = RmsProp::new(RmsPropConfig {
        centered: true,
        momentum: 0.9,
        ..Default::default()
    })
    .unwrap();
    let mut p = Point::new(&[1.0, -2.0]);
    step_quadratic(&mut opt, &mut p, &[1.0, 1.0]);
    let s = opt.state();
    let a = 1.0 - 0.99;
    for (i, g) in [1.0f64, -2.0].into_iter().enumerate() {
        let avg = s.tensor("w.grad_avg").unwrap().to_vec()[i];
        let buf = s.tensor("w.momentum_buffer").unwrap().to_vec()[i];
        let v = a * g * g;
        assert!((avg - a * g).abs() < 1e-15, "{avg}");
        let want = g / ((v - avg * avg).sqrt() + 1e-8);
        assert!((buf - want).abs() < 1e-12 * want.abs(), "{buf} vs {want}");
    }
}

#[test]
fn load_state_lists_every_problem_and_changes_nothing() {
    let (opt, p) = adam_with_gradients(0.9, &[1.0]);
    let mut state = opt.state();
    state.tensors[0].1 = Tensor::zeros([3]);
    state.tensors.pop();
    state
        .tensors
        .push(("w.momentum_buffer".into(), Tensor::zeros([1])));
    state.steps.push(("ghost".into(), 4));
    let mut fresh = Adam::<f64>::new(AdamConfig::default()).unwrap();
    let e = fresh.load_state(&p, &state).unwrap_err();
    let Error::StateMismatch {
        optimizer,
        problems,
    } = e
    else {
        panic!("{e}")
    };
    assert_eq!(optimizer, "adam");
    // The mis-shaped slot is reported, and then missing as well.
    assert_eq!(problems.len(), 5, "{problems:?}");
    assert!(problems.iter().any(|s| s.contains("ghost")));
    assert!(problems.iter().any(|s| s.contains("momentum_buffer")));
    assert!(
        problems
            .iter()
            .any(|s| s.contains("w.exp_avg has shape [3]"))
    );
    assert!(
        problems
            .iter()
            .any(|s| s.contains("w.exp_avg_sq is missing"))
    );
    assert!(problems.iter().any(|s| s.contains("w.exp_avg is missing")));
    assert!(fresh.state().tensors.is_empty());
}

#[test]
fn a_trainable_parameter_without_gradient_is_an_error_and_nothing_moves() {
    let mut p = Point::<f64>::new(&[1.0]);
    p.f = Some(Tensor::ones([2]).requires_grad());
    let grads = p.w.sum().backward().unwrap();
    let mut opt = Sgd::new(SgdConfig::default()).unwrap();
    let e = opt.step(&mut p, &grads).unwrap_err();
    assert_eq!(
        e,
        Error::MissingGradient {
            optimizer: "sgd",
            names: vec!["f".into()]
        }
    );
    assert_eq!(p.w.to_vec(), vec![1.0]);
    // Frozen, it is skipped and reported as such.
    p.set_parameter_frozen("f", true).unwrap();
    let r = opt.step(&mut p, &grads).unwrap();
    assert_eq!((r.updated, r.frozen), (vec!["w".into()], vec!["f".into()]));
    assert_eq!(p.w.to_vec(), vec![0.99]);
}

#[test]
fn step_keeps_the_leaf_identity() {
    let mut p = Point::<f32>::new(&[1.0]);
    let id = p.w.leaf_id();
    let mut opt = Adam::new(AdamConfig::default()).unwrap();
    let g = p.w.sum().backward().unwrap();
    opt.step(&mut p, &g).unwrap();
    assert_eq!(p.w.leaf_id(), id);
}

fn hyper_error<T>(r: Result<T>) -> (&'static str, &'static str) {
    match r {
        Err(Error::InvalidHyperParameter { owner, name, .. }) => (owner, name),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn each_invalid_hyper_parameter_gives_its_named_error() {
    type S = Sgd<f32>;
    let sgd = SgdConfig::default();
    assert_eq!(
        hyper_error(S::new(SgdConfig { lr: -0.1, ..sgd })),
        ("sgd", "lr")
    );
    assert_eq!(
        hyper_error(S::new(SgdConfig {
            lr: f64::NAN,
            ..sgd
        })),
        ("sgd", "lr")
    );
    assert_eq!(
        hyper_error(S::new(SgdConfig {
            momentum: -0.9,
            ..sgd
        })),
        ("sgd", "momentum")
    );
    assert_eq!(
        hyper_error(S::new(SgdConfig {
            dampening: -1.0,
            ..sgd
        })),
        ("sgd", "dampening")
    );
    assert_eq!(
        hyper_error(S::new(SgdConfig {
            nesterov: true,
            ..sgd
        })),
        ("sgd", "nesterov")
    );
    let nesterov_damped = SgdConfig {
        nesterov: true,
        momentum: 0.9,
        dampening: 0.1,
        ..sgd
    };
    assert_eq!(hyper_error(S::new(nesterov_damped)), ("sgd", "nesterov"));
    let wd = SgdConfig {
        weight_decay: WeightDecay::L2(-1.0),
        ..sgd
    };
    assert_eq!(hyper_error(S::new(wd)), ("sgd", "weight_decay"));

    type R = RmsProp<f32>;
    let rms = RmsPropConfig::default();
    assert_eq!(
        hyper_error(R::new(RmsPropConfig { alpha: 1.0, ..rms })),
        ("rmsprop", "alpha")
    );
    assert_eq!(
        hyper_error(R::new(RmsPropConfig { eps: -1e-8, ..rms })),
        ("rmsprop", "eps")
    );
    let m = RmsPropConfig {
        momentum: -0.1,
        ..rms
    };
    assert_eq!(hyper_error(R::new(m)), ("rmsprop", "momentum"));

    type A = Adam<f32>;
    let adam = AdamConfig::default();
    assert_eq!(
        hyper_error(A::new(AdamConfig { lr: -1e-3, ..adam })),
        ("adam", "lr")
    );
    assert_eq!(
        hyper_error(A::new(AdamConfig { beta1: 1.0, ..adam })),
        ("adam", "beta1")
    );
    assert_eq!(
        hyper_error(A::new(AdamConfig {
            beta2: -0.1,
            ..adam
        })),
        ("adam", "beta2")
    );
    assert_eq!(
        hyper_error(A::new(AdamConfig { eps: -1.0, ..adam })),
        ("adam", "eps")
    );
    assert_eq!(
        hyper_error(A::new(AdamConfig::adamw(1e-3, -0.01))),
        ("adamw", "weight_decay")
    );

    type G = Adagrad<f32>;
    let ada = AdagradConfig::default();
    let d = AdagradConfig {
        lr_decay: -1.0,
        ..ada
    };
    assert_eq!(hyper_error(G::new(d)), ("adagrad", "lr_decay"));
    let i = AdagradConfig {
        initial_accumulator_value: -1.0,
        ..ada
    };
    assert_eq!(
        hyper_error(G::new(i)),
        ("adagrad", "initial_accumulator_value")
    );

    let mut opt = A::new(adam).unwrap();
    assert_eq!(hyper_error(opt.set_lr(-1.0)), ("adam", "lr"));
    assert_eq!(Optimizer::<f32>::lr(&opt), 1e-3);
    let e = A::new(AdamConfig { beta2: 1.0, ..adam }).unwrap_err();
    assert_eq!(e.to_string(), "adam: beta2 must be in [0, 1), got 1");
}

#[test]
fn state_of_a_frozen_parameter_still_loads_and_resumes_after_unfreezing() {
    let (opt, mut p) = adam_with_gradients(0.9, &[1.0, 2.0]);
    p.set_parameter_frozen("w", true).unwrap();
    let mut fresh = Adam::<f64>::new(AdamConfig {
        lr: 0.1,
        ..Default::default()
    })
    .unwrap();
    fresh.load_state(&p, &opt.state()).unwrap();
    p.set_parameter_frozen("w", false).unwrap();
    let grads = p.w.mul_scalar(3.0).sum().backward().unwrap();
    fresh.step(&mut p, &grads).unwrap();
    let (_, q) = adam_with_gradients(0.9, &[1.0, 2.0, 3.0]);
    assert_eq!(p.w.to_vec(), q.w.to_vec());
    assert_eq!(fresh.inspect("w").unwrap().step, 3);
}

/// Two parameters `a` and `b`, visited in either order (each visitor its
/// own), and a third `c` that can come and go.
struct Pair {
    a: Tensor<f64>,
    b: Tensor<f64>,
    c: Option<Tensor<f64>>,
    reversed: bool,
    reversed_mut: bool,
}

impl Module<f64> for Pair {
    fn try_forward(&self, x: &Tensor<f64>) -> crate::Result<Tensor<f64>> {
        Ok(x.clone())
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<f64>)) {
        let (first, second) = if self.reversed {
            (("b", &self.b), ("a", &self.a))
        } else {
            (("a", &self.a), ("b", &self.b))
        };
        f(first.0, first.1);
        f(second.0, second.1);
        if let Some(c) = &self.c {
            f("c", c);
        }
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<f64>)) {
        if self.reversed_mut {
            f("b", &mut self.b);
            f("a", &mut self.a);
        } else {
            f("a", &mut self.a);
            f("b", &mut self.b);
        }
        if let Some(c) = &mut self.c {
            f("c", c);
        }
    }
}

#[test]
fn state_follows_each_parameter_by_name_when_the_visiting_order_changes() {
    // Momentum keeps a buffer per parameter: after the order of the visits
    // changes (and a parameter comes and goes), each buffer must still go
    // with its own parameter, as in a run where nothing changed.
    let pair = |reversed| Pair {
        a: Tensor::from_vec(vec![1.0, 2.0], [2])
            .unwrap()
            .requires_grad(),
        b: Tensor::from_vec(vec![-3.0], [1]).unwrap().requires_grad(),
        c: None,
        reversed,
        reversed_mut: reversed,
    };
    let loss = |p: &Pair| {
        let mut l = &p.a.square().sum() + &p.b.mul_scalar(5.0).square().sum();
        if let Some(c) = &p.c {
            l = &l + &c.sum();
        }
        l
    };
    let config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    };
    let (mut steady, mut shuffled) = (pair(false), pair(false));
    let (mut o1, mut o2) = (Sgd::new(config).unwrap(), Sgd::new(config).unwrap());
    for step in 0..6 {
        // The shuffled model visits b first on odd steps (on step 5 only
        // when visiting to update), and has a third parameter on steps 2
        // and 3.
        shuffled.reversed = step % 2 == 1 && step != 5;
        shuffled.reversed_mut = step % 2 == 1;
        shuffled.c = (step == 2 || step == 3).then(|| Tensor::ones([3]).requires_grad());
        let g = loss(&steady).backward().unwrap();
        o1.step(&mut steady, &g).unwrap();
        let g = loss(&shuffled).backward().unwrap();
        let r = o2.step(&mut shuffled, &g).unwrap();
        assert_eq!(r.updated.len(), 2 + usize::from(shuffled.c.is_some()));
        assert_eq!(shuffled.a.to_vec(), steady.a.to_vec(), "step {step}");
        assert_eq!(shuffled.b.to_vec(), steady.b.to_vec(), "step {step}");
    }
    // The saved state names each buffer after its parameter.
    let (s1, s2) = (o1.state(), o2.state());
    for name in ["a.momentum_buffer", "b.momentum_buffer"] {
        let (t1, t2) = (s1.tensor(name).unwrap(), s2.tensor(name).unwrap());
        assert_eq!(t1.to_vec(), t2.to_vec(), "{name}");
    }
}
