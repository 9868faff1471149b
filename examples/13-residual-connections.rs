//! # 13. Residual connections
//!
//! What it teaches: why a deep plain network stops learning and why the same
//! network with skip connections trains. Three networks of the same depth
//! (30 hidden layers of 32 ReLU units on the embedded UCI digits):
//!
//! 1. **plain**: `h ← W relu(h) + b` in every hidden layer, PyTorch's
//!    default `Linear` initialisation (weights U(−1/√n, 1/√n), variance
//!    `1/(3n)`);
//! 2. **residual**: the same layers, the same initialisation, each hidden
//!    layer after the first wrapped in [`wengert::nn::Residual`]:
//!    `h ← h + W relu(h) + b` (the pre-activation order: the ReLU before
//!    the layer, so that the branch adds a zero-mean term);
//! 3. **plain, He init**: the plain network with He normal weights
//!    N(0, 2/n) and zero biases, the cure of example 4.
//!
//! It prints and plots (log axis) `‖∂J/∂W^[ℓ]‖` for every layer at
//! initialisation, then trains the three with the same SGD and plots the
//! training loss per epoch. In the plain network every layer multiplies the
//! backward signal by a Jacobian `W diag(relu'(z))` whose gain is about
//! `√(n · 1/(3n) · 1/2) = 1/√6`, so over 29 layers the first layer's gradient
//! shrinks by about `6^(−29/2) ≈ 10^(−11)` (measured: 1.7e-12 against 1e-2
//! at the output layer), SGD cannot move it, and the loss stays at `ln 10`
//! (uniform guessing). In the residual network the Jacobian of a block is
//! `I + W diag(relu'(z))`: the identity carries the gradient back
//! unchanged, and the first layer's gradient is as large as the last one's.
//! The He-initialised plain network does not vanish at initialisation, yet
//! trains much more slowly than the residual one, and unsteadily.
//!
//! Lectures: "Aula 6 - Introdução a deep learning" (the obstacles to training
//! deep networks, vanishing gradients) and "Módulo 8 - Redes neuronales
//! profundas" ("Incorporar conexiones residuales a la red", with the figures
//! of He et al., *Deep Residual Learning for Image Recognition*, 2015).
//!
//! Where the notes differ:
//! - Aula 6 does not mention residual connections. Módulo 8 lists them among
//!   the cures for vanishing and exploding gradients and illustrates that
//!   problem with a figure from He et al. (2015). In that paper the deep
//!   plain networks' higher *training* error is explicitly not blamed on
//!   vanishing gradients: they use batch normalisation, the authors checked
//!   that the backward gradients have healthy norms, and they call the
//!   effect *degradation*, an optimisation difficulty. Both are real: the
//!   plain network here (no normalisation, default initialisation) does
//!   vanish; the He-initialised one does not, and still trains more slowly
//!   than the residual one.
//! - What is added: in He et al. (2015) a block is `y = relu(x + F(x))` with
//!   `F(x) = W₂ relu(W₁ x)`, two layers and a ReLU *after* the addition, so the
//!   skip path's gradient is `relu'(x + F(x))`, 0 or 1, not exactly 1. The
//!   "gradient of `1 + ∂F/∂x`" holds for the pre-activation form
//!   `y = x + F(x)` (He et al., *Identity Mappings in Deep Residual
//!   Networks*, 2016), which is what `Residual` computes and what this
//!   example uses, with one layer per block to keep the parameters of the
//!   plain and residual networks identical.
//! - `∂y/∂x = I + ∂F/∂x` is a matrix (a Jacobian), and the product of L of
//!   them is not the identity either: with these small blocks the signal
//!   grows slowly from block to block, forward and backward. The residual
//!   network's weight gradients stay within a factor of about 5 of each
//!   other across the 31 layers.
//!
//! Run it with `cargo run --release --example 13-residual-connections`
//! (flags: `--epochs N`, `--seed N`, `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError, Series};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::Tensor;
use wengert::data::Dataset;
use wengert::nn::init::{FanMode, Init, RELU_GAIN};
use wengert::nn::optim::{Optimizer, Sgd, SgdConfig};
use wengert::nn::{Linear, Module, Reduction, Relu, Residual, Sequential, loss};

/// Units in every hidden layer.
pub const WIDTH: usize = 32;
/// Hidden layers (the first maps the 64 pixels to `WIDTH` units).
pub const DEPTH: usize = 30;
/// The SGD learning rate (momentum 0.9) of all three networks.
pub const LR: f64 = 0.005;

/// The three networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `h ← W relu(h) + b`, default initialisation.
    Plain,
    /// `h ← h + W relu(h) + b` after the first layer, default initialisation.
    Residual,
    /// `h ← W relu(h) + b`, He normal weights and zero biases.
    PlainHe,
}

impl Kind {
    /// The label in tables and legends.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Plain => "plain",
            Kind::Residual => "residual",
            Kind::PlainHe => "plain, He init",
        }
    }
}

/// A hidden layer `WIDTH → WIDTH` initialised as `kind` says.
fn hidden_layer(kind: Kind, rng: &mut StdRng) -> Result<Linear<f32>, BoxError> {
    if kind != Kind::PlainHe {
        return Ok(Linear::new(WIDTH, WIDTH, true, rng)?);
    }
    let he = Init::KaimingNormal {
        gain: RELU_GAIN,
        mode: FanMode::FanIn,
    };
    let w = he.sample::<f32, _>([WIDTH, WIDTH], rng)?.requires_grad();
    Ok(Linear::from_tensors(
        w,
        Some(Tensor::zeros([WIDTH]).requires_grad()),
    )?)
}

/// Builds `64 → DEPTH × WIDTH → 10`. Every hidden layer after the first is
/// `relu` then `Linear` (the order of pre-activation residual networks), in
/// the residual network wrapped as `h ← h + W relu(h) + b`; the first hidden
/// layer and the output layer are the same plain layers in all three
/// networks.
pub fn network(kind: Kind, depth: usize, rng: &mut StdRng) -> Result<Sequential<f32>, BoxError> {
    let mut net = Sequential::new().add(Linear::new(64, WIDTH, true, rng)?);
    for _ in 1..depth {
        let layer = hidden_layer(kind, rng)?;
        if kind == Kind::Residual {
            net.push(Residual::new(Sequential::new().add(Relu).add(layer)));
        } else {
            net.push(Relu);
            net.push(layer);
        }
    }
    net.push(Relu);
    net.push(Linear::new(WIDTH, 10, true, rng)?);
    Ok(net)
}

/// `‖∂J/∂W^[ℓ]‖` (Frobenius) of every weight matrix, the first hidden layer
/// first and the output layer last, for the cross-entropy on `(x, labels)`.
pub fn weight_grad_norms(
    net: &Sequential<f32>,
    x: &Tensor<f32>,
    labels: &[usize],
) -> Result<Vec<f64>, BoxError> {
    let l = loss::cross_entropy(&net.try_forward(x)?, labels, Reduction::Mean)?;
    let grads = l.backward()?;
    let mut out = Vec::new();
    for (name, p) in net.named_parameters() {
        if name.ends_with("weight") {
            let g = grads.get(&p).ok_or(format!("no gradient for {name}"))?;
            out.push(
                g.as_slice()
                    .iter()
                    .map(|&v| f64::from(v).powi(2))
                    .sum::<f64>()
                    .sqrt(),
            );
        }
    }
    Ok(out)
}

/// The fraction of `data` that `net` classifies correctly.
pub fn accuracy(net: &Sequential<f32>, data: &Dataset) -> Result<f64, BoxError> {
    let labels = data.labels().ok_or("unlabelled data")?;
    let predicted = net.try_forward(data.inputs())?.try_argmax(Some(1))?;
    let right = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    Ok(right as f64 / labels.len() as f64)
}

/// One network's measurements.
pub struct Network {
    /// Which network.
    pub kind: Kind,
    /// `‖∂J/∂W^[ℓ]‖` at initialisation, layer 1 first, the output layer last.
    pub grad_norms: Vec<f64>,
    /// Mean training loss of each epoch.
    pub losses: Vec<f64>,
    /// Accuracy on the held-out 20% after training.
    pub test_accuracy: f64,
}

/// What the example found.
pub struct Report {
    /// Hidden layers of every network.
    pub depth: usize,
    /// Plain, residual, plain with He initialisation, in that order.
    pub networks: Vec<Network>,
}

impl Report {
    /// The measurements of `kind`.
    pub fn get(&self, kind: Kind) -> &Network {
        self.networks
            .iter()
            .find(|n| n.kind == kind)
            .expect("every kind is measured")
    }
}

/// Measures and trains the three networks.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let depth = DEPTH;
    let epochs = args.epochs.unwrap_or(if args.quick { 4 } else { 20 });
    let mut rng = StdRng::seed_from_u64(args.seed);
    let splits = wengert::data::digits()?.split(0.8, 0.0, 0.2, &mut rng)?;
    let train_labels = splits.train.labels().ok_or("unlabelled data")?;
    let kinds = [Kind::Plain, Kind::Residual, Kind::PlainHe];
    let bar = common::progress((epochs * kinds.len()) as u64, args, "training");
    let mut networks = Vec::new();
    for (k, kind) in kinds.into_iter().enumerate() {
        // The same seed for every network: the plain and residual networks
        // start from identical weights.
        let mut init_rng = StdRng::seed_from_u64(args.seed.wrapping_add(1));
        let mut net = network(kind, depth, &mut init_rng)?;
        let grad_norms = weight_grad_norms(&net, splits.train.inputs(), train_labels)?;
        let mut opt = Sgd::new(SgdConfig {
            lr: LR,
            momentum: 0.9,
            ..Default::default()
        })?;
        let mut batch_rng = StdRng::seed_from_u64(args.seed.wrapping_add(100 + k as u64));
        let mut losses = Vec::new();
        for _ in 0..epochs {
            let (mut sum, mut steps) = (0.0, 0);
            for batch in splits.train.batches(32)?.shuffle(&mut batch_rng) {
                let labels = batch.labels().ok_or("unlabelled batch")?;
                let l =
                    loss::cross_entropy(&net.try_forward(&batch.inputs)?, labels, Reduction::Mean)?;
                opt.step(&mut net, &l.backward()?)?;
                sum += f64::from(l.item());
                steps += 1;
            }
            losses.push(sum / steps as f64);
            bar.inc(1);
        }
        let test_accuracy = accuracy(&net, &splits.test)?;
        networks.push(Network {
            kind,
            grad_norms,
            losses,
            test_accuracy,
        });
    }
    bar.finish_and_clear();
    let report = Report { depth, networks };
    if print {
        print_report(&report, args)?;
    }
    Ok(report)
}

/// A curve through `(1, values[0]), (2, values[1]), ...`: values by layer or
/// by epoch, both counted from 1.
fn numbered(label: &str, values: &[f64]) -> Series {
    Series {
        label: label.to_string(),
        points: (1u32..)
            .map(f64::from)
            .zip(values.iter().copied())
            .collect(),
    }
}

fn print_report(r: &Report, args: &Args) -> Result<(), BoxError> {
    println!(
        "{} hidden layers of {WIDTH} ReLU units, digits; ‖∂J/∂W‖ per layer at initialisation\n",
        r.depth
    );
    print!("{:>6}", "layer");
    for n in &r.networks {
        print!("{:>16}", n.kind.label());
    }
    println!();
    let layers = r.depth + 1;
    for l in (0..layers).filter(|l| l % 5 == 0 || *l + 1 == layers || *l == 1) {
        print!(
            "{:>6}",
            if l + 1 == layers {
                "output".to_string()
            } else {
                (l + 1).to_string()
            }
        );
        for n in &r.networks {
            print!("{:>16.2e}", n.grad_norms[l]);
        }
        println!();
    }
    let (plain, res) = (r.get(Kind::Plain), r.get(Kind::Residual));
    println!(
        "\nfirst layer: plain / residual = {:.1e}",
        plain.grad_norms[0] / res.grad_norms[0]
    );
    let plot = |series: Vec<Series>, file, title, axes, log, legend| {
        common::plot_lines(&args.out, file, title, axes, &series, log, legend)
    };
    let norms = r
        .networks
        .iter()
        .map(|n| numbered(n.kind.label(), &n.grad_norms))
        .collect();
    let p = plot(
        norms,
        "13-gradient-norms-by-layer.svg",
        "‖∂J/∂W‖ per layer at initialisation, 30 hidden layers",
        ("layer (31 = output)", "‖∂J/∂W‖"),
        true,
        common::Legend::LowerRight,
    )?;
    println!("plot: {}", p.display());

    println!("\ntraining loss per epoch (SGD, lr {LR}, momentum 0.9, batches of 32)\n");
    print!("{:>6}", "epoch");
    for n in &r.networks {
        print!("{:>16}", n.kind.label());
    }
    println!();
    let epochs = r.networks[0].losses.len();
    let every = (epochs / 10).max(1);
    for e in (0..epochs).filter(|e| e % every == 0 || e + 1 == epochs) {
        print!("{:>6}", e + 1);
        for n in &r.networks {
            print!("{:>16.4}", n.losses[e]);
        }
        println!();
    }
    print!("{:>6}", "test");
    for n in &r.networks {
        print!("{:>15.1}%", 100.0 * n.test_accuracy);
    }
    println!(
        "   (accuracy on the held-out 20%; ln 10 = {:.4})",
        10f64.ln()
    );
    let curves = r
        .networks
        .iter()
        .map(|n| numbered(n.kind.label(), &n.losses))
        .collect();
    let p = plot(
        curves,
        "13-training-loss.svg",
        "training loss, 30 hidden layers",
        ("epoch", "cross-entropy"),
        false,
        // Below the He curve and above the residual one.
        common::Legend::Coordinate(420, 250),
    )?;
    println!("plot: {}", p.display());
    Ok(())
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("13. residual connections");
    run(&args, true)?;
    Ok(())
}
