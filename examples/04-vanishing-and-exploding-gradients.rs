//! # 4. Vanishing and exploding gradients
//!
//! What it teaches: why the first layers of a deep sigmoid network barely
//! learn, why ReLU with N(0, 1) weights blows up, and what He initialisation
//! changes. It measures, for every layer ℓ, the norm of the bias gradient
//! `‖∂J/∂b^[ℓ]‖ = ‖Σ_samples δ^[ℓ]‖` (the error signal that reaches the
//! layer, Nielsen's measure of how fast it learns) on the embedded UCI digits
//! (64 inputs, 10 sigmoid outputs with the log-loss, hidden layers of 30
//! units), at initialisation and averaged over a few seeds:
//!
//! 1. sigmoid with N(0, 1) weights and biases, 2, 3, 4 and 6 hidden layers;
//! 2. sigmoid with N(0, 1/fan_in) weights and N(0, 1) biases, the network of
//!    the lectures' figures: each added layer divides the first layer's
//!    gradient by about 5, orders of magnitude at 6 hidden layers;
//! 3. ReLU with N(0, 1): the error signal grows by about `√(30/2)` a layer
//!    going backward (exploding);
//! 4. sigmoid with Xavier (Glorot) normal, `N(0, 2/(fan_in + fan_out))`, and
//!    ReLU with He normal, `N(0, 2/fan_in)`, biases 0: Xavier does not rescue
//!    the sigmoid (its derivation assumes slope 1 at 0, as tanh has; the
//!    sigmoid's is 1/4), He + ReLU keeps every layer within a small factor.
//!
//! Then it trains the figures' 4-hidden-layer network and plots each layer's
//! gradient norm over the epochs: the figures of "Aula 21 - Treinando redes
//! neurais", "Aula 6 - Introdução a deep learning" and "Módulo 8 - Redes
//! neuronales profundas", taken there from Nielsen's *Neural Networks and
//! Deep Learning*, chapter 5.
//!
//! Where the slides differ: sigmoid with N(0, 1) vanishes much less than they
//! suggest (the large weights multiply the backward signal by about √30 and
//! nearly cancel the small `σ'` of saturated units); the vanishing of the
//! figures comes from the sigmoid with moderate weights. (The Glorot normal of
//! Aula 21, `N(0, 1/fan_avg)` with `fan_avg = (fan_in + fan_out)/2`, is the
//! same distribution as Módulo 8's `N(0, 2/(n_e + n_s))`: both are variances.)
//!
//! Run it with `cargo run --release --example 04-vanishing-and-exploding-gradients`
//! (flags: `--epochs N`, `--seed N`, `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError, Series};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::Tensor;
use wengert::nn::init::{FanMode, Init, RELU_GAIN};

/// Width of every hidden layer, as in the lectures' figures.
pub const WIDTH: usize = 30;

/// The hidden layers' activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// `σ(z) = 1 / (1 + e^-z)`.
    Sigmoid,
    /// `max(z, 0)`.
    Relu,
}

/// How weights and biases are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Weights and biases from N(0, 1), "antigamente".
    StdNormal,
    /// Weights from N(0, 1/fan_in), biases from N(0, 1): the network of the
    /// lectures' figures (Nielsen's default initialiser).
    Nielsen,
    /// Xavier (Glorot) normal weights, zero biases.
    Xavier,
    /// He (Kaiming) normal weights with gain √2, fan-in, zero biases.
    He,
}

/// One network to measure.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Hidden activation.
    pub act: Act,
    /// Initialisation.
    pub scheme: Scheme,
    /// Number of hidden layers.
    pub hidden: usize,
}

impl Config {
    /// A row label such as `sigmoid N(0,1), 4 hidden`.
    pub fn label(&self) -> String {
        let act = match self.act {
            Act::Sigmoid => "sigmoid",
            Act::Relu => "relu",
        };
        let init = match self.scheme {
            Scheme::StdNormal => "N(0,1)",
            Scheme::Nielsen => "N(0,1/n)",
            Scheme::Xavier => "Xavier",
            Scheme::He => "He",
        };
        format!("{act} {init}, {} hidden", self.hidden)
    }
}

/// The gradients `(∂J/∂W, ∂J/∂b)` of one layer.
pub type LayerGrads = (Tensor<f64>, Tensor<f64>);

/// A multilayer perceptron as plain tensors: `(W, b)` per layer, `W` stored
/// `[in, out]` so that a layer is `a W + b` on a batch of rows.
pub struct Mlp {
    /// The layers, hidden ones first, the output layer last.
    pub layers: Vec<(Tensor<f64>, Tensor<f64>)>,
    /// The hidden activation.
    pub act: Act,
}

impl Mlp {
    /// Draws a network `inputs → hidden × WIDTH → outputs` as `cfg` says.
    pub fn new(
        cfg: Config,
        inputs: usize,
        outputs: usize,
        rng: &mut StdRng,
    ) -> Result<Mlp, BoxError> {
        let mut sizes = vec![inputs];
        sizes.extend(std::iter::repeat_n(WIDTH, cfg.hidden));
        sizes.push(outputs);
        let (w_init, b_init) = match cfg.scheme {
            Scheme::StdNormal => (
                Init::Normal {
                    mean: 0.0,
                    std: 1.0,
                },
                Init::Normal {
                    mean: 0.0,
                    std: 1.0,
                },
            ),
            Scheme::Nielsen => (
                Init::LeCunNormal { gain: 1.0 },
                Init::Normal {
                    mean: 0.0,
                    std: 1.0,
                },
            ),
            Scheme::Xavier => (Init::XavierNormal { gain: 1.0 }, Init::Zeros),
            Scheme::He => (
                Init::KaimingNormal {
                    gain: RELU_GAIN,
                    mode: FanMode::FanIn,
                },
                Init::Zeros,
            ),
        };
        let mut layers = Vec::new();
        for pair in sizes.windows(2) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            // Initialisers read PyTorch's [out, in]; store the transpose.
            let w = w_init
                .sample::<f64, _>([fan_out, fan_in], rng)?
                .transpose(0, 1);
            let b = b_init.sample::<f64, _>([fan_out], rng)?;
            layers.push((w, b));
        }
        Ok(Mlp {
            layers,
            act: cfg.act,
        })
    }

    /// The log-loss of the sigmoid outputs against one-hot `targets`, summed
    /// over the outputs and averaged over the samples, and
    /// the gradients `(∂J/∂W, ∂J/∂b)` of every layer (the output layer last).
    pub fn loss_and_grads(
        &self,
        x: &Tensor<f64>,
        targets: &Tensor<f64>,
    ) -> Result<(f64, Vec<LayerGrads>), BoxError> {
        let leaves: Vec<_> = self
            .layers
            .iter()
            .map(|(w, b)| (w.detach().requires_grad(), b.detach().requires_grad()))
            .collect();
        let mut a = x.clone();
        let last = leaves.len() - 1;
        for (l, (w, b)) in leaves.iter().enumerate() {
            let z = &a.matmul(w) + b;
            a = match (l == last, self.act) {
                (true, _) => z,
                (false, Act::Sigmoid) => z.sigmoid(),
                (false, Act::Relu) => z.relu(),
            };
        }
        // J = -(1/m) Σ_samples Σ_outputs [y log σ(z) + (1 - y) log(1 - σ(z))],
        // with 1 - σ(z) = σ(-z) so that saturated outputs give finite logs.
        let per = &(targets * &a.log_sigmoid()) + &(&(1.0 - targets) * &a.neg().log_sigmoid());
        let loss = per.sum_axes(&[1], false).mean().neg();
        let g = loss.backward()?;
        let get = |p: &Tensor<f64>| g.get(p).expect("the loss depends on every layer").clone();
        let grads = leaves.iter().map(|(w, b)| (get(w), get(b))).collect();
        Ok((loss.item(), grads))
    }

    /// `‖∂J/∂b^[ℓ]‖ = ‖Σ_samples δ^[ℓ]‖` for every layer, the output layer
    /// last: how fast each layer's biases learn (Nielsen's measure).
    pub fn grad_norms(&self, x: &Tensor<f64>, targets: &Tensor<f64>) -> Result<Vec<f64>, BoxError> {
        let (_, grads) = self.loss_and_grads(x, targets)?;
        Ok(grads.iter().map(|(_, gb)| norm(gb)).collect())
    }

    /// One step of gradient descent, `θ ← θ - lr ∂J/∂θ`; returns the loss and
    /// the per-layer bias-gradient norms before the step.
    pub fn sgd_step(
        &mut self,
        x: &Tensor<f64>,
        targets: &Tensor<f64>,
        lr: f64,
    ) -> Result<(f64, Vec<f64>), BoxError> {
        let (loss, grads) = self.loss_and_grads(x, targets)?;
        for ((w, b), (gw, gb)) in self.layers.iter_mut().zip(&grads) {
            *w = &*w - &gw.mul_scalar(lr);
            *b = &*b - &gb.mul_scalar(lr);
        }
        Ok((loss, grads.iter().map(|(_, gb)| norm(gb)).collect()))
    }
}

fn norm(t: &Tensor<f64>) -> f64 {
    t.as_slice().iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// The digits as f64 rows `[n, 64]` and one-hot targets `[n, 10]`, the first
/// `n` samples.
pub fn digits(n: usize) -> Result<(Tensor<f64>, Tensor<f64>), BoxError> {
    let data = wengert::data::digits()?;
    let n = n.min(data.len());
    let x: Vec<f64> = data.inputs().as_slice()[..n * 64]
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    let labels = data.labels().expect("digits are labelled");
    let mut y = vec![0.0; n * 10];
    for (i, &c) in labels[..n].iter().enumerate() {
        y[i * 10 + c] = 1.0;
    }
    Ok((Tensor::from_vec(x, [n, 64])?, Tensor::from_vec(y, [n, 10])?))
}

/// One measured network: its configuration and `‖∂J/∂b^[ℓ]‖` per layer at
/// initialisation (output layer last).
pub struct Row {
    /// The network.
    pub config: Config,
    /// The norms, hidden layer 1 first, the output layer last.
    pub norms: Vec<f64>,
}

impl Row {
    /// First hidden layer's norm over the last hidden layer's.
    pub fn first_over_last_hidden(&self) -> f64 {
        self.norms[0] / self.norms[self.config.hidden - 1]
    }
}

/// What the example found.
pub struct Report {
    /// The table at initialisation.
    pub rows: Vec<Row>,
    /// Per epoch, the mean of each layer's gradient norm over the epoch's
    /// steps, for the 4-hidden-layer sigmoid network of the lectures' figures
    /// (weights N(0, 1/fan_in), biases N(0, 1)) in training.
    pub training: Vec<Vec<f64>>,
}

/// The networks of the table, in printing order.
pub fn configs() -> Vec<Config> {
    let mut out = Vec::new();
    for scheme in [Scheme::StdNormal, Scheme::Nielsen] {
        for hidden in [2, 3, 4, 6] {
            out.push(Config {
                act: Act::Sigmoid,
                scheme,
                hidden,
            });
        }
    }
    for (act, scheme) in [
        (Act::Relu, Scheme::StdNormal),
        (Act::Sigmoid, Scheme::Xavier),
        (Act::Relu, Scheme::He),
    ] {
        for hidden in [4, 6] {
            out.push(Config {
                act,
                scheme,
                hidden,
            });
        }
    }
    out
}

/// Measures every configuration, averaging the norms over `repeats` seeds so
/// that one lucky draw does not make the table.
pub fn measure(args: &Args) -> Result<Vec<Row>, BoxError> {
    let (x, y) = digits(if args.quick { 300 } else { 1000 })?;
    let repeats = if args.quick { 2 } else { 5 };
    let mut rows = Vec::new();
    for config in configs() {
        let mut sum = vec![0.0; config.hidden + 1];
        for r in 0..repeats {
            let mut rng = StdRng::seed_from_u64(args.seed.wrapping_mul(1000).wrapping_add(r));
            let net = Mlp::new(config, 64, 10, &mut rng)?;
            for (s, n) in sum.iter_mut().zip(net.grad_norms(&x, &y)?) {
                *s += n / repeats as f64;
            }
        }
        rows.push(Row { config, norms: sum });
    }
    Ok(rows)
}

/// Trains the 4-hidden-layer sigmoid network of the figures (weights
/// N(0, 1/fan_in), biases N(0, 1)) with mini-batch gradient
/// descent; returns per epoch the mean gradient norm of each layer.
pub fn train(args: &Args) -> Result<(Vec<f64>, Vec<Vec<f64>>), BoxError> {
    let config = Config {
        act: Act::Sigmoid,
        scheme: Scheme::Nielsen,
        hidden: 4,
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut net = Mlp::new(config, 64, 10, &mut rng)?;
    let (x, y) = digits(if args.quick { 500 } else { 1797 })?;
    let n = x.dims()[0];
    let (batch, lr) = (20, 0.5);
    let epochs = args.epochs.unwrap_or(if args.quick { 3 } else { 40 });
    let bar = common::progress(epochs as u64, args, "training");
    let (mut out, mut losses) = (Vec::new(), Vec::new());
    for _ in 0..epochs {
        let mut loss = 0.0;
        let mut mean = vec![0.0; config.hidden + 1];
        let steps = n.div_ceil(batch);
        for s in 0..steps {
            let len = batch.min(n - s * batch);
            let (xb, yb) = (x.narrow(0, s * batch, len), y.narrow(0, s * batch, len));
            let (l, norms) = net.sgd_step(&xb, &yb, lr)?;
            loss += l / steps as f64;
            for (m, v) in mean.iter_mut().zip(norms) {
                *m += v / steps as f64;
            }
        }
        out.push(mean);
        losses.push(loss);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok((losses, out))
}

/// Runs the example: the table, the plots, the training curves.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let rows = measure(args)?;
    let (losses, training) = train(args)?;
    if print {
        println!(
            "‖∂J/∂b‖ per layer at initialisation (hidden layers 1.., then the output layer), digits, {WIDTH} units a layer\n"
        );
        print!("{:<28}", "network");
        for l in 1..=7 {
            print!("{:>10}", format!("layer {l}"));
        }
        println!("{:>14}", "first/last");
        for row in &rows {
            print!("{:<28}", row.config.label());
            for n in &row.norms {
                print!("{n:>10.2e}");
            }
            for _ in row.norms.len()..7 {
                print!("{:>10}", "");
            }
            println!("{:>14.2e}", row.first_over_last_hidden());
        }
        println!("(first/last: first hidden layer over last hidden layer)");
        let deepest = |act, scheme| {
            let row = rows
                .iter()
                .find(|r| r.config.act == act && r.config.scheme == scheme && r.config.hidden == 6)
                .expect("in the table");
            Series {
                label: row.config.label(),
                points: row
                    .norms
                    .iter()
                    .enumerate()
                    .map(|(l, &v)| ((l + 1) as f64, v))
                    .collect(),
            }
        };
        let series = [
            deepest(Act::Sigmoid, Scheme::StdNormal),
            deepest(Act::Sigmoid, Scheme::Nielsen),
            deepest(Act::Relu, Scheme::StdNormal),
            deepest(Act::Sigmoid, Scheme::Xavier),
            deepest(Act::Relu, Scheme::He),
        ];
        let p = common::plot_lines(
            &args.out,
            "04-gradient-norms-by-layer.svg",
            "gradient norm per layer at initialisation, 6 hidden layers",
            ("layer (7 = output)", "‖∂J/∂b‖"),
            &series,
            true,
            common::Legend::LowerRight,
        )?;
        println!("\nplot: {}", p.display());

        println!(
            "\ntraining sigmoid N(0,1/n), 4 hidden layers (the figures' network): mean ‖∂J/∂b‖ per epoch"
        );
        print!("{:>6}", "epoch");
        for l in 1..=5 {
            print!("{:>10}", format!("layer {l}"));
        }
        println!("{:>10}", "loss");
        let every = (training.len() / 8).max(1);
        for (e, norms) in training
            .iter()
            .enumerate()
            .filter(|(e, _)| e % every == 0 || *e + 1 == training.len())
        {
            print!("{:>6}", e + 1);
            for v in norms {
                print!("{v:>10.2e}");
            }
            println!("{:>10.4}", losses[e]);
        }
        let curves: Vec<Series> = (0..5)
            .map(|l| Series {
                label: if l == 4 {
                    "output layer".to_string()
                } else {
                    format!("hidden layer {}", l + 1)
                },
                points: training
                    .iter()
                    .enumerate()
                    .map(|(e, n)| ((e + 1) as f64, n[l]))
                    .collect(),
            })
            .collect();
        let p = common::plot_lines(
            &args.out,
            "04-gradient-norms-in-training.svg",
            "sigmoid N(0,1/n), 4 hidden layers: ‖∂J/∂b‖ during training",
            ("epoch", "‖∂J/∂b‖"),
            &curves,
            true,
            common::Legend::LowerRight,
        )?;
        println!("plot: {}", p.display());
    }
    Ok(Report { rows, training })
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("4. vanishing and exploding gradients");
    run(&args, true)?;
    Ok(())
}
