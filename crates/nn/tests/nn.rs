//! Whole-network tests of wengert-nn: the backprop lecture's hand-derived
//! deltas, containers gradient-checked over all their parameters, freezing
//! during training, and convergence (XOR, linear regression, a small CNN on
//! synthetic images).

use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_core::{Gradients, Tensor, gradcheck};
use wengert_nn::loss::{self, binary_cross_entropy, binary_cross_entropy_with_logits, mse_loss};
use wengert_nn::{
    BatchNorm1d, Dropout, Error, Flatten, LayerNorm, Linear, Module, Reduction, Relu, Residual,
    Sequential, Sigmoid, Tanh,
};

/// One step of plain gradient descent: what an optimizer does, through the
/// public parameter visitor. Frozen parameters have no gradient and are skipped.
fn sgd_step(m: &mut dyn Module<f64>, grads: &Gradients<f64>, lr: f64) {
    m.visit_parameters_mut(&mut |_, p| {
        if let Some(g) = grads.get(p) {
            let new = p
                .as_slice()
                .iter()
                .zip(g.as_slice())
                .map(|(w, g)| w - lr * g)
                .collect();
            *p = p.with_data(new).unwrap();
        }
    });
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[test]
fn lecture_deltas_for_a_three_layer_sigmoid_network_agree_with_autodiff() {
    // Aula 9 (shared/seeds/002...): input a¹ = x (2 units), hidden layer 2 (3
    // sigmoid units), output layer 3 (1 sigmoid unit), log-loss
    // J = -[y ln a³ + (1 - y) ln(1 - a³)]. Weights as in the notes, W^[ℓ] is
    // [units of ℓ, units of ℓ-1], which is how Linear stores them.
    let w2 = [[0.1, -0.4], [0.3, 0.2], [-0.5, 0.6]];
    let b2 = [0.05, -0.1, 0.2];
    let w3 = [[0.7, -0.3, 0.4]];
    let b3 = [-0.2];
    let net = Sequential::new()
        .add(
            Linear::from_tensors(
                Tensor::from_vec(w2.concat(), [3, 2])
                    .unwrap()
                    .requires_grad(),
                Some(Tensor::from_vec(b2.to_vec(), [3]).unwrap().requires_grad()),
            )
            .unwrap(),
        )
        .add(Sigmoid)
        .add(
            Linear::from_tensors(
                Tensor::from_vec(w3.concat(), [1, 3])
                    .unwrap()
                    .requires_grad(),
                Some(Tensor::from_vec(b3.to_vec(), [1]).unwrap().requires_grad()),
            )
            .unwrap(),
        )
        .add(Sigmoid);
    for (x, y) in [([1.0, -2.0], 1.0), ([0.5, 0.3], 0.0), ([-1.5, 2.5], 1.0)] {
        // Forward, by hand.
        let z2: Vec<f64> = (0..3)
            .map(|i| w2[i][0] * x[0] + w2[i][1] * x[1] + b2[i])
            .collect();
        let a2: Vec<f64> = z2.iter().map(|&z| sigmoid(z)).collect();
        let z3 = (0..3).map(|j| w3[0][j] * a2[j]).sum::<f64>() + b3[0];
        let a3 = sigmoid(z3);
        // Step 1: δ³ = a³ - y.  Step 2: δ² = (W³ᵀ δ³) ∘ σ'(z²).
        let d3 = a3 - y;
        let d2: Vec<f64> = (0..3)
            .map(|j| w3[0][j] * d3 * a2[j] * (1.0 - a2[j]))
            .collect();
        // Step 3: ∂J/∂W^ℓ = δ^ℓ a^{ℓ-1}ᵀ, ∂J/∂b^ℓ = δ^ℓ.
        let dw3: Vec<f64> = a2.iter().map(|a| d3 * a).collect();
        let dw2: Vec<f64> = (0..3).flat_map(|i| [d2[i] * x[0], d2[i] * x[1]]).collect();
        let expected = [
            ("layers.0.weight", dw2),
            ("layers.0.bias", d2.clone()),
            ("layers.2.weight", dw3),
            ("layers.2.bias", vec![d3]),
        ];

        let xt = Tensor::from_vec(x.to_vec(), [1, 2]).unwrap();
        let yt = Tensor::from_vec(vec![y], [1, 1]).unwrap();
        let out = net.forward(&xt);
        assert!((out.item() - a3).abs() < 1e-15);
        let grads = binary_cross_entropy(&out, &yt, Reduction::Sum)
            .unwrap()
            .backward()
            .unwrap();
        let params = net.named_parameters();
        for ((name, p), (want_name, want)) in params.iter().zip(&expected) {
            assert_eq!(name, want_name);
            let got = grads.get(p).unwrap().to_vec();
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g - w).abs() < 1e-14,
                    "{name}: autodiff {got:?}, deltas {want:?}"
                );
            }
        }
        // The logits form of the same loss gives the same gradients.
        let grads2 = {
            let mut z = xt.clone();
            let layers = net.named_parameters();
            z = z
                .matmul_t(&layers[0].1, false, true)
                .add(&layers[1].1)
                .sigmoid();
            z = z.matmul_t(&layers[2].1, false, true).add(&layers[3].1);
            binary_cross_entropy_with_logits(&z, &yt, Reduction::Sum)
                .unwrap()
                .backward()
                .unwrap()
        };
        for (name, p) in &params {
            let (a, b) = (
                grads.get(p).unwrap().to_vec(),
                grads2.get(p).unwrap().to_vec(),
            );
            for (u, v) in a.iter().zip(&b) {
                assert!((u - v).abs() < 1e-14, "{name}");
            }
        }
    }
}

#[test]
fn sequential_and_residual_grads_match_finite_differences_over_every_parameter() {
    let mut rng = StdRng::seed_from_u64(1);
    let build = |rng: &mut StdRng| {
        Sequential::<f64>::new()
            .add(Flatten)
            .add(Linear::new(6, 5, true, rng).unwrap())
            .add(LayerNorm::new(&[5], 1e-5).unwrap())
            .add(Residual::new(
                Sequential::new()
                    .add(Linear::new(5, 5, true, rng).unwrap())
                    .add(Tanh),
            ))
            .add(Residual::with_projection(
                Sequential::new()
                    .add(Linear::new(5, 3, true, rng).unwrap())
                    .add(Sigmoid),
                Linear::new(5, 3, false, rng).unwrap(),
            ))
            .add(BatchNorm1d::new(3).unwrap())
    };
    let template = build(&mut rng);
    let names: Vec<String> = template
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "layers.1.weight",
            "layers.1.bias",
            "layers.2.weight",
            "layers.2.bias",
            "layers.3.inner.layers.0.weight",
            "layers.3.inner.layers.0.bias",
            "layers.4.inner.layers.0.weight",
            "layers.4.inner.layers.0.bias",
            "layers.4.projection.weight",
            "layers.5.weight",
            "layers.5.bias",
        ]
    );
    let x = Tensor::randn([4, 2, 3], 0.0, 1.0, &mut rng).unwrap();
    let mut inputs = vec![x];
    inputs.extend(
        template
            .named_parameters()
            .into_iter()
            .map(|(_, p)| p.detach()),
    );
    let f = |xs: &[Tensor<f64>]| {
        let mut net = build(&mut StdRng::seed_from_u64(1));
        net.set_parameters(&xs[1..]).unwrap();
        net.forward(&xs[0])
    };
    gradcheck(f, &inputs).unwrap();
}

#[test]
fn residual_without_projection_rejects_a_shape_change() {
    let mut rng = StdRng::seed_from_u64(0);
    let r = Residual::<f32>::new(Linear::new(4, 3, true, &mut rng).unwrap());
    let e = r.try_forward(&Tensor::zeros([2, 4])).unwrap_err();
    assert!(matches!(
        e,
        Error::InputShape {
            layer: "residual",
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "residual: expected input of shape [2, 3] (the shape of f(x)) on the skip path, got [2, 4]"
    );
}

#[test]
fn errors_inside_a_sequential_name_the_failing_layer() {
    let mut rng = StdRng::seed_from_u64(0);
    let net = Sequential::<f32>::new()
        .add(Linear::new(4, 3, true, &mut rng).unwrap())
        .add(Linear::new(4, 2, true, &mut rng).unwrap());
    let e = net.try_forward(&Tensor::zeros([2, 4])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "linear: expected input of shape [*, 4], got [2, 3]"
    );
}

#[test]
fn train_and_eval_reach_every_layer_and_buffers_are_named() {
    let mut net = Sequential::<f64>::new()
        .add(Dropout::new(0.5, 3).unwrap())
        .add(BatchNorm1d::new(2).unwrap());
    let names: Vec<String> = net.named_buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["layers.1.running_mean", "layers.1.running_var"]);
    net.eval();
    // Eval: dropout is the identity and batch norm uses running stats (0, 1).
    let x = Tensor::from_vec(vec![1.0, 2.0], [1, 2]).unwrap();
    let y = net.forward(&x).to_vec();
    let s = (1.0f64 + 1e-5).sqrt();
    assert!((y[0] - 1.0 / s).abs() < 1e-12 && (y[1] - 2.0 / s).abs() < 1e-12);
    // Buffers can be replaced (checkpoint loading).
    net.visit_buffers_mut(&mut |_, b| *b = Tensor::full([2], 4.0));
    assert_eq!(net.named_buffers()[0].1.to_vec(), vec![4.0, 4.0]);
}

#[test]
fn frozen_parameters_get_no_gradient_and_are_never_updated() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut net = Sequential::<f64>::new()
        .add(Linear::new(3, 4, true, &mut rng).unwrap())
        .add(Relu)
        .add(Linear::new(4, 1, true, &mut rng).unwrap());
    net.set_parameter_frozen("layers.0.weight", true).unwrap();
    net.set_parameter_frozen("layers.0.bias", true).unwrap();
    let before = net.named_parameters();
    let x = Tensor::randn([8, 3], 0.0, 1.0, &mut rng).unwrap();
    let y = Tensor::randn([8, 1], 0.0, 1.0, &mut rng).unwrap();
    for _ in 0..3 {
        let grads = mse_loss(&net.forward(&x), &y, Reduction::Mean)
            .unwrap()
            .backward()
            .unwrap();
        let params = net.named_parameters();
        assert!(grads.get(&params[0].1).is_none() && grads.get(&params[1].1).is_none());
        assert!(grads.get(&params[2].1).is_some());
        sgd_step(&mut net, &grads, 0.1);
    }
    let after = net.named_parameters();
    assert_eq!(before[0].1.to_vec(), after[0].1.to_vec());
    assert_eq!(before[1].1.to_vec(), after[1].1.to_vec());
    assert_ne!(before[2].1.to_vec(), after[2].1.to_vec());
    // The update kept the leaf identity of the trainable parameters.
    assert_eq!(before[2].1.leaf_id(), after[2].1.leaf_id());
    assert_eq!(net.num_trainable_parameters(), 4 + 1);
}

#[test]
fn an_mlp_learns_xor() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut net = Sequential::<f64>::new()
        .add(Linear::new(2, 8, true, &mut rng).unwrap())
        .add(Tanh)
        .add(Linear::new(8, 1, true, &mut rng).unwrap());
    let x = Tensor::from_vec(vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], [4, 2]).unwrap();
    let y = Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], [4, 1]).unwrap();
    let mut last = f64::INFINITY;
    for _ in 0..2000 {
        let l = binary_cross_entropy_with_logits(&net.forward(&x), &y, Reduction::Mean).unwrap();
        last = l.item();
        let grads = l.backward().unwrap();
        sgd_step(&mut net, &grads, 0.5);
    }
    assert!(last < 0.05, "final loss {last}");
    let p = net.forward(&x).sigmoid().to_vec();
    for (p, t) in p.iter().zip([0.0, 1.0, 1.0, 0.0]) {
        assert!((p - t).abs() < 0.2, "{p} vs {t}");
    }
}

#[test]
fn linear_regression_recovers_known_weights() {
    let mut rng = StdRng::seed_from_u64(11);
    let w_true = Tensor::from_vec(vec![2.0, -3.0, 0.5], [1, 3]).unwrap();
    let x = Tensor::randn([64, 3], 0.0, 1.0, &mut rng).unwrap();
    let y = x.matmul_t(&w_true, false, true).add_scalar(1.0);
    let mut model = Linear::<f64>::new(3, 1, true, &mut rng).unwrap();
    for _ in 0..500 {
        let grads = loss::mse_loss(&model.forward(&x), &y, Reduction::Mean)
            .unwrap()
            .backward()
            .unwrap();
        sgd_step(&mut model, &grads, 0.1);
    }
    for (w, t) in model.weight.to_vec().iter().zip([2.0, -3.0, 0.5]) {
        assert!((w - t).abs() < 1e-6, "{:?}", model.weight);
    }
    assert!((model.bias.as_ref().unwrap().item() - 1.0).abs() < 1e-6);
}

#[test]
fn f32_network_agrees_with_f64() {
    let mut rng = StdRng::seed_from_u64(4);
    let l64 = Linear::<f64>::new(3, 2, true, &mut rng).unwrap();
    let to32 = |t: &Tensor<f64>| {
        Tensor::<f32>::from_vec(
            t.as_slice().iter().map(|&v| v as f32).collect(),
            t.shape().clone(),
        )
        .unwrap()
        .requires_grad()
    };
    let l32 = Linear::from_tensors(to32(&l64.weight), l64.bias.as_ref().map(to32)).unwrap();
    let x = Tensor::<f64>::randn([5, 3], 0.0, 1.0, &mut rng).unwrap();
    let y64 = l64.forward(&x).tanh().sum();
    let y32 = l32.forward(&to32(&x).detach()).tanh().sum();
    assert!((y64.item() - y32.item() as f64).abs() < 1e-4 * y64.item().abs().max(1.0));
    let g64 = y64.backward().unwrap();
    let g32 = y32.backward().unwrap();
    let (a, b) = (
        g64.get(&l64.weight).unwrap().to_vec(),
        g32.get(&l32.weight).unwrap().to_vec(),
    );
    for (u, v) in a.iter().zip(&b) {
        assert!((u - *v as f64).abs() < 1e-4 * u.abs().max(1.0));
    }
}

#[test]
#[should_panic(expected = "linear: expected input of shape [*, 4], got [2, 3]")]
fn forward_panics_with_the_error_message() {
    let mut rng = StdRng::seed_from_u64(0);
    Linear::<f32>::new(4, 1, true, &mut rng)
        .unwrap()
        .forward(&Tensor::zeros([2, 3]));
}

/// A tiny image task: 6×6 images holding one bright bar, vertical (class 0) or
/// horizontal (class 1), at a random position, on low noise.
fn bars(n: usize, rng: &mut StdRng) -> (Tensor<f64>, Vec<usize>) {
    use rand::RngExt;
    let mut data = Vec::with_capacity(n * 36);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 2;
        let at = rng.random_range(0..6);
        for r in 0..6 {
            for c in 0..6 {
                let on = if class == 0 { c == at } else { r == at };
                let noise: f64 = rng.random_range(-0.1..0.1);
                data.push(if on { 1.0 } else { 0.0 } + noise);
            }
        }
        labels.push(class);
    }
    (Tensor::from_vec(data, [n, 1, 6, 6]).unwrap(), labels)
}

#[test]
fn a_small_cnn_learns_to_tell_bars_apart() {
    use wengert_core::Conv2dParams;
    use wengert_nn::{Conv2d, MaxPool2d};
    let mut rng = StdRng::seed_from_u64(7);
    let same = Conv2dParams {
        padding: [1, 1],
        ..Default::default()
    };
    let mut net = Sequential::new()
        .add(Conv2d::<f64>::new(1, 4, [3, 3], same, true, &mut rng).unwrap())
        .add(Relu)
        .add(MaxPool2d::new([2, 2]).unwrap())
        .add(Flatten)
        .add(Linear::new(4 * 3 * 3, 2, true, &mut rng).unwrap());
    assert_eq!(net.num_parameters(), 4 * 9 + 4 + 36 * 2 + 2);
    let (x, labels) = bars(16, &mut rng);
    let loss_of = |net: &Sequential<f64>| {
        loss::cross_entropy(&net.forward(&x), &labels, Reduction::Mean).unwrap()
    };
    let first = loss_of(&net).item();
    for _ in 0..30 {
        let l = loss_of(&net);
        let grads = l.backward().unwrap();
        sgd_step(&mut net, &grads, 0.5);
    }
    let last = loss_of(&net).item();
    assert!(last < 0.5 * first, "loss {first} -> {last}");
    let logits = net.forward(&x).to_vec();
    let correct = labels
        .iter()
        .enumerate()
        .filter(|&(i, &c)| (logits[2 * i + 1] > logits[2 * i]) == (c == 1))
        .count();
    assert!(correct >= 14, "{correct} of 16 correct");
}
