//! # 9. Batch normalisation
//!
//! What it teaches: what batch normalisation does to a deep sigmoid network,
//! and why it behaves differently in training and in evaluation. Two networks
//! of 8 hidden sigmoid layers of 32 units learn the embedded UCI digits with
//! the same SGD, batches and epochs: a plain one (`Linear → Sigmoid`), and one
//! with `Linear → BatchNorm1d → Sigmoid` (the linear layer's bias dropped: the
//! normalisation subtracts it again, β takes its place). It prints and plots:
//!
//! - the training loss per epoch: with batch norm it falls much faster;
//! - the gradient norm `‖∂J/∂W^[ℓ]‖` of every layer at initialisation: the
//!   plain network's first layers get gradients orders of magnitude smaller
//!   than its last (example 4's vanishing gradient), batch norm keeps them
//!   level, and its first layer's gradient is far larger;
//! - train vs eval mode: in training a unit is normalised with the statistics
//!   of the current batch, so an example's output depends on the other
//!   examples of its batch (and one example alone is an error: its variance
//!   is 0); in eval mode the layer uses its running statistics, so the output
//!   for an example is the same alone or in any batch. The running mean of the
//!   first layer is compared with the mean over the whole training set.
//!
//! The layer, per unit and per batch `B` of `m` examples (`BatchNorm1d`, as
//! `torch.nn.BatchNorm1d`):
//!
//! ```text
//! training:  μ_B = (1/m) Σ x      σ²_B = (1/m) Σ (x − μ_B)²      (biased)
//!            x̂ = (x − μ_B) / √(σ²_B + ε)      y = γ x̂ + β
//!            running_mean ← 0.9 running_mean + 0.1 μ_B
//!            running_var  ← 0.9 running_var  + 0.1 · m/(m − 1) σ²_B   (unbiased)
//! eval:      x̂ = (x − running_mean) / √(running_var + ε)      y = γ x̂ + β
//! ```
//!
//! Lectures: "Módulo 8 - Redes neuronales profundas" (normalización por lotes),
//! "Aula 21 - Treinando redes neurais" (batch normalization as a fix for
//! convergence), "Aula 6 - Introdução a deep learning" ("normalizar a ativação
//! de cada camada").
//!
//! Where the notes differ: Módulo 8's four steps are right (mean, *biased*
//! variance, ε inside the square root, then γ and β); its "transform batch
//! statistics into population statistics" is, in the original paper, the mean
//! of the batch means and `m/(m − 1)` times the mean of the batch variances over
//! the training set, and in PyTorch (and here) an exponential moving average
//! with momentum 0.1 of the batch mean and of the *unbiased* batch variance,
//! updated at every training forward pass. Aula 21 writes `z = (x − x̄_B)/S_B`:
//! no ε (a unit that is constant over a batch divides by zero) and no γ, β
//! (without them the layer could not undo the normalisation: a sigmoid after it
//! would be stuck near its linear middle); its "x̄, s fixed at test time" is
//! right in spirit, the fixed values being the running statistics. Módulo 8's
//! "converges faster if the inputs have mean 0, variance 1 and are
//! uncorrelated": batch norm standardises each unit but does not decorrelate
//! them.
//!
//! Run it with `cargo run --release --example 09-batch-normalisation`
//! (flags: `--epochs N`, `--seed N`, `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError, Series};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::Tensor;
use wengert::data::Dataset;
use wengert::nn::optim::{Optimizer, Sgd, SgdConfig};
use wengert::nn::{BatchNorm1d, Linear, Module, Reduction, Sequential, Sigmoid, loss};

/// Hidden layers.
pub const DEPTH: usize = 8;
/// Units per hidden layer.
pub const WIDTH: usize = 32;
/// The learning rate of both networks.
pub const LR: f64 = 0.1;

/// The network: `DEPTH` hidden sigmoid layers, with batch norm before each
/// sigmoid when `batch_norm`.
pub fn network(batch_norm: bool, rng: &mut StdRng) -> Result<Sequential, BoxError> {
    let mut net = Sequential::new();
    let mut fan_in = 64;
    for _ in 0..DEPTH {
        net.push(Linear::new(fan_in, WIDTH, !batch_norm, rng)?);
        if batch_norm {
            net.push(BatchNorm1d::new(WIDTH)?);
        }
        net.push(Sigmoid);
        fan_in = WIDTH;
    }
    net.push(Linear::new(WIDTH, 10, true, rng)?);
    Ok(net)
}

/// `‖∂J/∂W‖` of every linear layer, first to last, on `data`.
pub fn weight_grad_norms(net: &Sequential, data: &Dataset) -> Result<Vec<f64>, BoxError> {
    let z = net.try_forward(data.inputs())?;
    let l = loss::cross_entropy(&z, data.labels().expect("labelled"), Reduction::Mean)?;
    let g = l.backward()?;
    Ok(net
        .named_parameters()
        .iter()
        .filter(|(name, p)| name.ends_with(".weight") && p.dims().len() == 2)
        .map(|(_, p)| {
            let g = g.get(p).expect("every weight has a gradient");
            g.as_slice()
                .iter()
                .map(|&v| f64::from(v) * f64::from(v))
                .sum::<f64>()
                .sqrt()
        })
        .collect())
}

/// One trained network.
pub struct Run {
    /// With batch norm or not.
    pub batch_norm: bool,
    /// Mean training loss of each epoch (over its batches, in training mode).
    pub losses: Vec<f64>,
    /// `‖∂J/∂W^[ℓ]‖` at initialisation, first layer first, output layer last.
    pub init_norms: Vec<f64>,
    /// Training accuracy at the end, in eval mode.
    pub accuracy: f64,
}

impl Run {
    /// `"batch norm"` or `"plain"`.
    pub fn name(&self) -> &'static str {
        if self.batch_norm {
            "batch norm"
        } else {
            "plain"
        }
    }
}

/// What train and eval mode do with one example.
pub struct Modes {
    /// Eval mode: max |output of example 0 alone − its output in a batch|.
    pub eval_alone_vs_batch: f64,
    /// Eval mode: the same between two different batches.
    pub eval_batch_vs_batch: f64,
    /// Training mode: max |output of example 0 in batch A − in batch B|.
    pub train_batch_vs_batch: f64,
    /// The error message of a training-mode forward pass on one example.
    pub train_alone_error: String,
    /// First layer: max |running mean − mean over the training set| over the
    /// units.
    pub running_mean_error: f64,
    /// First layer: the largest |mean over the training set| over the units,
    /// for scale.
    pub mean_scale: f64,
}

/// What the example found.
pub struct Report {
    /// The plain network.
    pub plain: Run,
    /// The network with batch norm.
    pub batch_norm: Run,
    /// The batch-norm network's two modes, after training.
    pub modes: Modes,
}

/// Trains one network; returns the run and the trained network.
pub fn train(
    batch_norm: bool,
    data: &Dataset,
    epochs: usize,
    seed: u64,
    bar: &indicatif::ProgressBar,
) -> Result<(Run, Sequential), BoxError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut net = network(batch_norm, &mut rng)?;
    // A batch of 256 examples measures the gradient at initialisation; in
    // training mode, as the first step sees it (this also moves the running
    // statistics once, as a first step would).
    let first = data.select(&(0..256.min(data.len())).collect::<Vec<_>>());
    let init_norms = weight_grad_norms(&net, &first)?;
    let mut opt = Sgd::new(SgdConfig {
        lr: LR,
        ..Default::default()
    })?;
    let mut losses = Vec::new();
    for _ in 0..epochs {
        let (mut sum, mut steps) = (0.0, 0);
        for batch in data.batches(32)?.shuffle(&mut rng).drop_last(true) {
            let z = net.try_forward(&batch.inputs)?;
            let l = loss::cross_entropy(&z, batch.labels().expect("labelled"), Reduction::Mean)?;
            opt.step(&mut net, &l.backward()?)?;
            sum += f64::from(l.item());
            steps += 1;
        }
        losses.push(sum / steps as f64);
        bar.inc(1);
    }
    net.eval();
    let pred = net.try_forward(data.inputs())?.argmax(Some(1));
    let labels = data.labels().expect("labelled");
    let hits = pred.iter().zip(labels).filter(|(p, y)| p == y).count();
    Ok((
        Run {
            batch_norm,
            losses,
            init_norms,
            accuracy: hits as f64 / labels.len() as f64,
        },
        net,
    ))
}

fn max_abs_diff(a: &Tensor<f32>, b: &Tensor<f32>) -> f64 {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max)
}

/// Example 0's outputs, row 0 of `net(x)`.
fn row0(net: &Sequential, x: &Tensor<f32>) -> Result<Tensor<f32>, BoxError> {
    Ok(net.try_forward(x)?.narrow(0, 0, 1))
}

/// Shows train and eval mode on the trained batch-norm network `net` (in eval
/// mode on entry, left in training mode).
pub fn modes(net: &mut Sequential, data: &Dataset) -> Result<Modes, BoxError> {
    let x = data.inputs();
    // Example 0 alone, with examples 1..64, and with examples 64..128.
    let alone = x.narrow(0, 0, 1);
    let with = |start: usize| {
        let rows: Vec<usize> = std::iter::once(0).chain(start..start + 63).collect();
        x.index_select(0, &rows)
    };
    let (batch_a, batch_b) = (with(1), with(64));
    let e_alone = row0(net, &alone)?;
    let e_a = row0(net, &batch_a)?;
    let e_b = row0(net, &batch_b)?;
    // The first layer's running mean against the mean of its pre-activations
    // over the whole training set.
    let params = net.named_parameters();
    let w = &params
        .iter()
        .find(|(n, _)| n == "layers.0.weight")
        .expect("first layer")
        .1;
    let population = x.matmul(&w.detach().transpose(0, 1)).mean_axes(&[0], false);
    let buffers = net.named_buffers();
    let running = &buffers
        .iter()
        .find(|(n, _)| n == "layers.1.running_mean")
        .expect("first batch norm")
        .1;
    let running_mean_error = max_abs_diff(running, &population);
    let mean_scale = population
        .as_slice()
        .iter()
        .map(|v| f64::from(v.abs()))
        .fold(0.0, f64::max);
    net.train();
    let t_a = row0(net, &batch_a)?;
    let t_b = row0(net, &batch_b)?;
    let train_alone_error = match net.try_forward(&alone) {
        Ok(_) => String::from("(no error)"),
        Err(e) => e.to_string(),
    };
    Ok(Modes {
        eval_alone_vs_batch: max_abs_diff(&e_alone, &e_a),
        eval_batch_vs_batch: max_abs_diff(&e_a, &e_b),
        train_batch_vs_batch: max_abs_diff(&t_a, &t_b),
        train_alone_error,
        running_mean_error,
        mean_scale,
    })
}

/// Runs the example: two trainings, the mode comparison, the plots.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let data = wengert::data::digits()?;
    let epochs = args.epochs.unwrap_or(if args.quick { 4 } else { 30 });
    let bar = common::progress(2 * epochs as u64, args, "training");
    let (plain, _) = train(false, &data, epochs, args.seed, &bar)?;
    let (bn, mut net) = train(true, &data, epochs, args.seed, &bar)?;
    bar.finish_and_clear();
    let modes = modes(&mut net, &data)?;
    let report = Report {
        plain,
        batch_norm: bn,
        modes,
    };
    if print {
        print_report(&report, args)?;
    }
    Ok(report)
}

fn print_report(r: &Report, args: &Args) -> Result<(), BoxError> {
    println!(
        "{DEPTH} hidden sigmoid layers of {WIDTH} on the digits, SGD lr {LR}, batches of 32\n"
    );
    println!(
        "‖∂J/∂W‖ per layer at initialisation (layer {} = output)",
        DEPTH + 1
    );
    print!("{:<12}", "");
    for l in 1..=DEPTH + 1 {
        print!("{:>10}", format!("layer {l}"));
    }
    println!("{:>12}", "first/last");
    for run in [&r.plain, &r.batch_norm] {
        print!(
            "{:<12}",
            if run.batch_norm {
                "batch norm"
            } else {
                "plain"
            }
        );
        for v in &run.init_norms {
            print!("{v:>10.2e}");
        }
        println!(
            "{:>12.2e}",
            run.init_norms[0] / run.init_norms[run.init_norms.len() - 1]
        );
    }
    println!("\ntraining loss (mean over each epoch's batches)");
    println!("{:>6}{:>12}{:>12}", "epoch", "plain", "batch norm");
    let n = r.plain.losses.len();
    let every = (n / 10).max(1);
    for e in (0..n).filter(|e| e % every == 0 || e + 1 == n) {
        println!(
            "{:>6}{:>12.4}{:>12.4}",
            e + 1,
            r.plain.losses[e],
            r.batch_norm.losses[e]
        );
    }
    println!(
        "training accuracy (eval mode): plain {:.1}%, batch norm {:.1}%",
        100.0 * r.plain.accuracy,
        100.0 * r.batch_norm.accuracy
    );
    let m = &r.modes;
    println!("\nthe trained batch-norm network, example 0's 10 outputs:");
    println!(
        "  eval mode, alone vs in a batch of 64:           max difference {:.1e}",
        m.eval_alone_vs_batch
    );
    println!(
        "  eval mode, in two different batches:            max difference {:.1e}",
        m.eval_batch_vs_batch
    );
    println!(
        "  training mode, in two different batches:        max difference {:.3}",
        m.train_batch_vs_batch
    );
    println!("  training mode, alone: {}", m.train_alone_error);
    println!(
        "  first layer: running mean vs the training set's mean, max difference {:.3} (means up to {:.3})",
        m.running_mean_error, m.mean_scale
    );
    let curve = |run: &Run| Series::indexed(run.name(), &run.losses);
    let p = common::plot_lines(
        &args.out,
        "09-loss.svg",
        "8 sigmoid layers: training loss with and without batch norm",
        ("epoch", "cross-entropy"),
        &[curve(&r.plain), curve(&r.batch_norm)],
        true,
        common::Legend::LowerLeft,
    )?;
    println!("\nplot: {}", p.display());
    let norms = |run: &Run| Series::indexed(run.name(), &run.init_norms);
    let p = common::plot_lines(
        &args.out,
        "09-gradient-norms.svg",
        "‖∂J/∂W‖ per layer at initialisation",
        ("layer (9 = output)", "‖∂J/∂W‖"),
        &[norms(&r.plain), norms(&r.batch_norm)],
        true,
        common::Legend::LowerRight,
    )?;
    println!("plot: {}", p.display());
    Ok(())
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("9. batch normalisation");
    run(&args, true)?;
    Ok(())
}
