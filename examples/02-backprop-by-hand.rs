//! # 2. Backpropagation by hand, next to autodiff
//!
//! What it teaches: the error-propagation ("delta") formulas of the backprop
//! lecture ("Aula 9 - Redes Neurais - Treinamento") are reverse-mode automatic
//! differentiation written out for one network. For the lecture's three-layer
//! network (3 inputs, 3 sigmoid hidden units, 1 sigmoid output, log-loss) it
//! computes every gradient twice, once with the delta formulas and once with
//! wengert's tape, prints them side by side and asserts that they agree; then it
//! trains the network with the hand-made gradients, checking them against the
//! tape at every step, and plots the loss.
//!
//! The formulas, for a mini-batch `X` (3 × m, one sample per column) and the
//! mean log-loss `J = -(1/m) Σ [y log a³ + (1 - y) log(1 - a³)]`:
//!
//! ```text
//! z² = W² X + b²     a² = σ(z²)     z³ = W³ a² + b³     a³ = σ(z³)
//! δ³ = (a³ - y) / m                          ∂J/∂W³ = δ³ a²ᵀ   ∂J/∂b³ = Σ_columns δ³
//! δ² = (W³ᵀ δ³) ∘ σ'(z²),  σ'(z²) = a² ∘ (1 - a²)   ∂J/∂W² = δ² Xᵀ   ∂J/∂b² = Σ_columns δ²
//! ```
//!
//! Where the notes differ, they are wrong: their equation 4 writes
//! `δ^[ℓ] = (W^[ℓ+1] ∘ δ^[ℓ+1]) σ'(z^[ℓ])`, but the product with the next layer's
//! weights is a matrix product with the *transpose*, and the product with
//! `σ'` is the element-wise one: `δ^[ℓ] = (W^[ℓ+1]ᵀ δ^[ℓ+1]) ∘ σ'(z^[ℓ])`. The
//! first form of their equation 9 drops the factor `xᵀ`, and equation 13 gives
//! `∂J/∂W^[2]` the shape 3 × 2 where it has the shape of `W^[2]`, 3 × 3; `b^[2]`
//! is a column (3 × 1), not 1 × 3. `δ^[L] = a^[L] - y` holds per sample; for
//! the mean over a batch it is divided by m.
//!
//! Run it with `cargo run --release --example 02-backprop-by-hand` (flags:
//! `--epochs N`, `--seed N`, `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError, Series};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::Tensor;

/// The lecture's network: `W²` 3 × 3, `b²` 3 × 1, `W³` 1 × 3, `b³` 1 × 1.
#[derive(Clone)]
pub struct Net {
    /// Hidden-layer weights, 3 × 3.
    pub w2: Tensor<f64>,
    /// Hidden-layer bias, a column 3 × 1.
    pub b2: Tensor<f64>,
    /// Output weights, 1 × 3.
    pub w3: Tensor<f64>,
    /// Output bias, 1 × 1.
    pub b3: Tensor<f64>,
}

/// The four gradients, in the order `W², b², W³, b³`.
pub type NetGrads = [Tensor<f64>; 4];

/// Names of the parameters, in [`NetGrads`] order.
pub const NAMES: [&str; 4] = ["W2", "b2", "W3", "b3"];

impl Net {
    /// Draws every weight and bias from N(0, std²).
    pub fn random(std: f64, rng: &mut StdRng) -> Result<Net, wengert::Error> {
        Ok(Net {
            w2: Tensor::randn([3, 3], 0.0, std, rng)?,
            b2: Tensor::randn([3, 1], 0.0, std, rng)?,
            w3: Tensor::randn([1, 3], 0.0, std, rng)?,
            b3: Tensor::randn([1, 1], 0.0, std, rng)?,
        })
    }

    fn params(&self) -> [&Tensor<f64>; 4] {
        [&self.w2, &self.b2, &self.w3, &self.b3]
    }
}

/// The forward pass: returns `(a², a³)` for inputs `x` (3 × m).
fn forward(net: &Net, x: &Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) {
    let a2 = (&net.w2.matmul(x) + &net.b2).sigmoid();
    let a3 = (&net.w3.matmul(&a2) + &net.b3).sigmoid();
    (a2, a3)
}

/// The mean log-loss, written as in the lecture (no fused, stabler form: the
/// point is to differentiate exactly the formula the notes write).
fn log_loss(a3: &Tensor<f64>, y: &Tensor<f64>) -> Tensor<f64> {
    let per_sample = &(y * &a3.log()) + &(&(1.0 - y) * &(1.0 - a3).log());
    per_sample.mean().neg()
}

/// The gradients by the delta formulas (no tape: every tensor here is a
/// constant), and the loss.
pub fn backprop_by_hand(net: &Net, x: &Tensor<f64>, y: &Tensor<f64>) -> (f64, NetGrads) {
    let net = Net {
        w2: net.w2.detach(),
        b2: net.b2.detach(),
        w3: net.w3.detach(),
        b3: net.b3.detach(),
    };
    let m = x.dims()[1] as f64;
    let (a2, a3) = forward(&net, x);
    let loss = log_loss(&a3, y).item();
    let delta3 = (&a3 - y).div_scalar(m); // 1 × m
    let grad_w3 = delta3.matmul(&a2.transpose(0, 1)); // 1 × 3
    let grad_b3 = delta3.sum_axes(&[1], true); // 1 × 1
    let sigma_prime = &a2 * &(1.0 - &a2); // 3 × m
    let delta2 = &net.w3.transpose(0, 1).matmul(&delta3) * &sigma_prime; // 3 × m
    let grad_w2 = delta2.matmul(&x.transpose(0, 1)); // 3 × 3
    let grad_b2 = delta2.sum_axes(&[1], true); // 3 × 1
    (loss, [grad_w2, grad_b2, grad_w3, grad_b3])
}

/// The gradients from wengert's tape, and the loss.
pub fn backprop_by_tape(
    net: &Net,
    x: &Tensor<f64>,
    y: &Tensor<f64>,
) -> Result<(f64, NetGrads), wengert::Error> {
    let leaves = Net {
        w2: net.w2.detach().requires_grad(),
        b2: net.b2.detach().requires_grad(),
        w3: net.w3.detach().requires_grad(),
        b3: net.b3.detach().requires_grad(),
    };
    let (_, a3) = forward(&leaves, x);
    let loss = log_loss(&a3, y);
    let g = loss.backward()?;
    let get = |p: &Tensor<f64>| {
        g.get(p)
            .expect("the loss depends on every parameter")
            .clone()
    };
    let grads = leaves.params().map(get);
    Ok((loss.item(), grads))
}

/// The largest absolute difference between two sets of gradients.
pub fn max_abs_diff(a: &NetGrads, b: &NetGrads) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(p, q)| {
            p.as_slice()
                .iter()
                .zip(q.as_slice())
                .map(|(u, v)| (u - v).abs())
        })
        .fold(0.0, f64::max)
}

/// The training set: points of `[-1, 1]³`, labelled 1 where `x₀ x₁ > 0` (an
/// XOR of the first two coordinates; the third is noise). Columns are samples.
pub fn xor_in_3d(m: usize, rng: &mut StdRng) -> Result<(Tensor<f64>, Tensor<f64>), wengert::Error> {
    let x = Tensor::<f64>::rand_uniform([3, m], -1.0, 1.0, rng)?;
    let xs = x.as_slice();
    let labels = (0..m)
        .map(|j| if xs[j] * xs[m + j] > 0.0 { 1.0 } else { 0.0 })
        .collect();
    Ok((x, Tensor::from_vec(labels, [1, m])?))
}

/// What the example found.
pub struct Report {
    /// The largest |hand − tape| over every gradient element, at every step.
    pub max_diff: f64,
    /// The full-batch loss before each step of training.
    pub losses: Vec<f64>,
}

/// Runs the example: one sample side by side, then training with the hand
/// gradients, each step checked against the tape.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    // The notes' initialisation N(0, 0.1), reading 0.1 as the standard
    // deviation (the notes do not say): small weights keep every output near
    // 1/2, so training starts on a plateau at J = ln 2 before the hidden units
    // break symmetry.
    let mut net = Net::random(0.1, &mut rng)?;

    // --- One sample: the lecture's derivation, number by number --------------
    let x1 = Tensor::from_vec(vec![0.5, -1.0, 2.0], [3, 1])?;
    let y1 = Tensor::from_vec(vec![1.0], [1, 1])?;
    let (loss_hand, hand) = backprop_by_hand(&net, &x1, &y1);
    let (loss_tape, tape) = backprop_by_tape(&net, &x1, &y1)?;
    assert!((loss_hand - loss_tape).abs() < 1e-12);
    let mut max_diff = max_abs_diff(&hand, &tape);
    if print {
        println!("one sample x = (0.5, -1, 2), y = 1: J = {loss_hand:.6}\n");
        println!(
            "{:>8} {:>20} {:>20} {:>10}",
            "param", "delta formulas", "wengert tape", "|diff|"
        );
        for ((name, h), t) in NAMES.iter().zip(&hand).zip(&tape) {
            let cols = h.dims()[1];
            for (k, (u, v)) in h.as_slice().iter().zip(t.as_slice()).enumerate() {
                let at = format!("{name}[{},{}]", k / cols, k % cols);
                println!("{at:>8} {u:>20.14} {v:>20.14} {:>10.1e}", (u - v).abs());
            }
        }
    }

    // --- Training with the hand-made gradients --------------------------------
    let m = if args.quick { 64 } else { 256 };
    let epochs = args.epochs.unwrap_or(if args.quick { 1500 } else { 3000 });
    let (x, y) = xor_in_3d(m, &mut rng)?;
    let lr = 2.0;
    let mut losses = Vec::with_capacity(epochs);
    let bar = common::progress(epochs as u64, args, "training");
    for _ in 0..epochs {
        let (loss, hand) = backprop_by_hand(&net, &x, &y);
        let (_, tape) = backprop_by_tape(&net, &x, &y)?;
        max_diff = max_diff.max(max_abs_diff(&hand, &tape));
        losses.push(loss);
        // W ← W - α ∂J/∂W (the lecture's equation 1), with the hand gradients.
        let step = |p: &Tensor<f64>, g: &Tensor<f64>| &p.detach() - &g.mul_scalar(lr);
        net = Net {
            w2: step(&net.w2, &hand[0]),
            b2: step(&net.b2, &hand[1]),
            w3: step(&net.w3, &hand[2]),
            b3: step(&net.b3, &hand[3]),
        };
        bar.inc(1);
    }
    bar.finish_and_clear();
    if print {
        println!("\ntraining on {m} points, labels x0·x1 > 0, full batch, learning rate {lr}");
        println!("{:>7} {:>10}", "epoch", "J");
        let every = (epochs / 10).max(1);
        for (e, l) in losses.iter().enumerate().filter(|(e, _)| e % every == 0) {
            println!("{e:>7} {l:>10.6}");
        }
        println!(
            "\nlargest |delta formulas - tape| over every gradient element of every step: {max_diff:.1e}"
        );
        let curve = Series {
            label: "log-loss J".to_string(),
            points: losses
                .iter()
                .enumerate()
                .map(|(e, &l)| (e as f64, l))
                .collect(),
        };
        let path = common::plot_lines(
            &args.out,
            "02-backprop-loss.svg",
            "3-3-1 sigmoid network, gradient descent with the delta formulas",
            ("epoch", "mean log-loss"),
            &[curve],
            false,
            common::Legend::UpperRight,
        )?;
        println!("loss curve: {}", path.display());
    }
    Ok(Report { max_diff, losses })
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("2. backprop by hand next to autodiff");
    let report = run(&args, true)?;
    assert!(
        report.max_diff < 1e-12,
        "the delta formulas and the tape disagree"
    );
    Ok(())
}
