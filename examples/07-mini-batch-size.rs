//! # 7. Batch, stochastic and mini-batch gradient descent
//!
//! What it teaches: what the batch size changes. The same softmax
//! regression (one `Linear` 64 → 10 layer, zero initial weights, so the loss
//! starts at `ln 10`) is trained on the embedded UCI digits by
//!
//! - batch gradient descent (`b = n`: one update per epoch, the exact gradient
//!   of the training loss),
//! - stochastic gradient descent (`b = 1`: `n` updates per epoch, one example
//!   each), and
//! - mini-batch gradient descent (`b = 32`),
//!
//! each at the best learning rate of a small sweep (the best rate grows with
//! `b`). The loss on the whole training split is plotted against the number
//! of examples seen (epochs) and against wall-clock training time. Then the
//! gradient noise is measured: the mean squared distance between a
//! mini-batch gradient and the full gradient, at the starting point, for
//! `b = 1, 4, 16, 64, 256, n`. For batches drawn without replacement it is
//! `(σ²/b)·(n - b)/(n - 1)`, `σ²` being the variance of one example's
//! gradient: the noise falls as `1/b` and is zero at `b = n`.
//!
//! It follows the mini-batch section of "INF721 A10: Otimização" and section
//! 3 of "Aula 9 - Redes Neurais - Treinamento". Where they differ from what is
//! right:
//! - A10 writes mini-batch as `1 > b < n`: it is `1 < b < n`.
//! - A10's loop computes `l_t = 1/1000 * np.sum(L(Yh_t, Y_t))`: the sum must
//!   be divided by the batch's own size (a mean), otherwise the step scales
//!   with `b/1000` and the last, smaller batch is under-weighted. The library's
//!   `Reduction::Mean` does this.
//! - A10's `n_batches = n // batch_size` silently skips the last
//!   `n mod batch_size` examples every epoch, the same ones every epoch since
//!   the loop never shuffles. Shuffle every epoch (`Batches::shuffle`) and keep
//!   or drop the short batch knowingly (`Batches::drop_last`); here the short
//!   batch is kept.
//! - A10 recommends batch gradient descent for small training sets; on these
//!   1437 images it is the slowest of the three, per epoch (the table) and
//!   per second (the time plot): one exact step per epoch does not beat 45
//!   noisy ones.
//! - "Exact gradient" (A10, Aula 9) means the exact gradient of the training
//!   loss; a mini-batch gradient is an unbiased estimate of it whose variance
//!   shrinks as `1/b`, as measured here, so "more stable" has a number.
//! - Powers of two (A10) are a convention for memory alignment on GPUs, not a
//!   requirement; any `b` works.
//!
//! Run it with `cargo run --release --example 07-mini-batch-size`
//! (flags: `--epochs N`, `--seed N`, `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use std::time::{Duration, Instant};

use common::{Args, BoxError, Series};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::Tensor;
use wengert::data::{Dataset, Splits};
use wengert::nn::optim::{Optimizer, Sgd, SgdConfig};
use wengert::nn::{Linear, Module, Reduction, loss};

/// The three ways of the notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `b = n`.
    Batch,
    /// `b = 1`.
    Stochastic,
    /// `b` = this many examples.
    MiniBatch(usize),
}

impl Method {
    /// The batch size on `n` training examples.
    pub fn batch_size(&self, n: usize) -> usize {
        match *self {
            Method::Batch => n,
            Method::Stochastic => 1,
            Method::MiniBatch(b) => b,
        }
    }

    /// A name such as `mini-batch (b = 32)`.
    pub fn label(&self) -> String {
        match self {
            Method::Batch => "batch (b = n)".into(),
            Method::Stochastic => "stochastic (b = 1)".into(),
            Method::MiniBatch(b) => format!("mini-batch (b = {b})"),
        }
    }

    /// The learning rates tried.
    pub fn lrs(&self) -> [f64; 3] {
        match self {
            Method::Batch => [0.3, 1.0, 3.0],
            Method::Stochastic => [0.003, 0.01, 0.03],
            Method::MiniBatch(_) => [0.1, 0.3, 1.0],
        }
    }
}

/// The three methods compared.
pub const METHODS: [Method; 3] = [Method::Batch, Method::Stochastic, Method::MiniBatch(32)];

/// The softmax regression with zero weights and bias.
pub fn softmax_regression() -> Result<Linear<f32>, BoxError> {
    Ok(Linear::from_tensors(
        Tensor::zeros([10, 64]).requires_grad(),
        Some(Tensor::zeros([10]).requires_grad()),
    )?)
}

/// The mean cross-entropy of `model` on `data`, unrecorded.
pub fn full_loss(model: &Linear<f32>, data: &Dataset) -> Result<f64, BoxError> {
    let labels = data.labels().expect("digits are labelled");
    wengert::no_grad(|| {
        let z = model.try_forward(data.inputs())?;
        Ok(f64::from(
            loss::cross_entropy(&z, labels, Reduction::Mean)?.item(),
        ))
    })
}

/// One measurement during training.
#[derive(Clone, Copy, Debug)]
pub struct Checkpoint {
    /// Updates so far.
    pub updates: usize,
    /// Examples seen so far (`updates` times the batch size, short batches
    /// counted as they are).
    pub examples: usize,
    /// Training time so far, evaluations excluded.
    pub seconds: f64,
    /// Mean cross-entropy on the whole training split.
    pub loss: f64,
}

/// One training run.
pub struct Run {
    /// The method.
    pub method: Method,
    /// The learning rate.
    pub lr: f64,
    /// Updates in one epoch.
    pub updates_per_epoch: usize,
    /// The start, then a checkpoint every `eval_every` examples (or every
    /// update when an update sees more).
    pub curve: Vec<Checkpoint>,
    /// The training loss after each epoch (`[0]` = before training).
    pub epoch_losses: Vec<f64>,
    /// The loss of each update's own batch, before the update.
    pub batch_losses: Vec<f64>,
}

impl Run {
    /// The share of updates whose batch loss is above the previous update's:
    /// how jagged the curve of A10's "Comportamento de treinamento" is.
    pub fn rises(&self) -> f64 {
        let ups = self.batch_losses.windows(2).filter(|w| w[1] > w[0]).count();
        ups as f64 / (self.batch_losses.len() - 1) as f64
    }

    /// The training loss at the first checkpoint after `updates` updates.
    pub fn loss_after_updates(&self, updates: usize) -> f64 {
        self.curve
            .iter()
            .find(|c| c.updates >= updates)
            .unwrap_or(self.curve.last().expect("the start"))
            .loss
    }

    /// The training loss after the last epoch.
    pub fn final_loss(&self) -> f64 {
        *self.epoch_losses.last().expect("the start")
    }

    /// Training time per example, in microseconds.
    pub fn micros_per_example(&self) -> f64 {
        let last = self.curve.last().expect("the start");
        1e6 * last.seconds / last.examples as f64
    }
}

/// Trains for `epochs` epochs with plain SGD at `lr`, batches of the method's
/// size shuffled by `seed`, evaluating every `eval_every` examples.
pub fn train(
    method: Method,
    lr: f64,
    data: &Dataset,
    epochs: usize,
    eval_every: usize,
    seed: u64,
    args: &Args,
) -> Result<Run, BoxError> {
    let n = data.len();
    let b = method.batch_size(n);
    let mut model = softmax_regression()?;
    let mut opt = Sgd::new(SgdConfig {
        lr,
        ..Default::default()
    })?;
    let mut order = StdRng::seed_from_u64(seed);
    let start = full_loss(&model, data)?;
    let mut curve = vec![Checkpoint {
        updates: 0,
        examples: 0,
        seconds: 0.0,
        loss: start,
    }];
    let mut epoch_losses = vec![start];
    let (mut updates, mut examples, mut next_eval) = (0, 0, eval_every);
    let mut busy = Duration::ZERO;
    let mut batch_losses = Vec::new();
    let bar = common::progress(epochs as u64, args, &format!("b = {b}, γ = {lr}"));
    for _ in 0..epochs {
        for batch in data.batches(b)?.shuffle(&mut order) {
            let t = Instant::now();
            let z = model.try_forward(&batch.inputs)?;
            let l = loss::cross_entropy(&z, batch.labels().expect("labelled"), Reduction::Mean)?;
            let grads = l.backward()?;
            opt.step(&mut model, &grads)?;
            busy += t.elapsed();
            batch_losses.push(f64::from(l.item()));
            updates += 1;
            examples += batch.indices.len();
            if examples >= next_eval {
                curve.push(Checkpoint {
                    updates,
                    examples,
                    seconds: busy.as_secs_f64(),
                    loss: full_loss(&model, data)?,
                });
                next_eval = (examples / eval_every + 1) * eval_every;
            }
        }
        epoch_losses.push(full_loss(&model, data)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(Run {
        method,
        lr,
        updates_per_epoch: n.div_ceil(b),
        curve,
        epoch_losses,
        batch_losses,
    })
}

/// The mean squared distance between a batch gradient and the full gradient
/// at the starting point, over the batches of enough shuffled epochs to
/// average at least [`NOISE_BATCHES`] batches (short batches dropped). For
/// `b = 1` that is every example once and for `b = n` the full batch once:
/// both exact.
pub fn gradient_noise(data: &Dataset, b: usize, seed: u64) -> Result<f64, BoxError> {
    let model = softmax_regression()?;
    let grad = |inputs: &Tensor<f32>, labels: &[usize]| -> Result<Vec<f64>, BoxError> {
        let z = model.try_forward(inputs)?;
        let g = loss::cross_entropy(&z, labels, Reduction::Mean)?.backward()?;
        let mut out = Vec::new();
        model.visit_parameters(&mut |_, p| {
            let gp = g.get(p).expect("every parameter is used");
            out.extend(gp.as_slice().iter().map(|&v| f64::from(v)));
        });
        Ok(out)
    };
    let full = grad(data.inputs(), data.labels().expect("labelled"))?;
    let mut order = StdRng::seed_from_u64(seed);
    let per_epoch = data.len() / b;
    // One batch per epoch is the full batch itself, the same every epoch.
    let epochs = if b == data.len() {
        1
    } else {
        NOISE_BATCHES.div_ceil(per_epoch)
    };
    let (mut sum, mut count) = (0.0, 0);
    for _ in 0..epochs {
        for batch in data.batches(b)?.shuffle(&mut order).drop_last(true) {
            let g = grad(&batch.inputs, batch.labels().expect("labelled"))?;
            sum += g
                .iter()
                .zip(&full)
                .map(|(a, f)| (a - f).powi(2))
                .sum::<f64>();
            count += 1;
        }
    }
    Ok(sum / f64::from(count))
}

/// How many batch gradients, at least, [`gradient_noise`] averages.
pub const NOISE_BATCHES: usize = 200;

/// What the example found.
pub struct Report {
    /// The training examples.
    pub n: usize,
    /// Per method, every learning rate tried (in [`Method::lrs`] order).
    pub sweep: Vec<Vec<Run>>,
    /// `(b, E‖g_b - g‖²)` at the starting point.
    pub noise: Vec<(usize, f64)>,
    /// Epochs trained.
    pub epochs: usize,
}

impl Report {
    /// The run of `method` with the lowest loss after the last epoch.
    pub fn best(&self, method: Method) -> &Run {
        let runs = &self.sweep[METHODS
            .iter()
            .position(|&m| m == method)
            .expect("a compared method")];
        runs.iter()
            .min_by(|a, b| a.final_loss().total_cmp(&b.final_loss()))
            .expect("three learning rates")
    }
}

/// Runs the example.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let data = wengert::data::digits()?;
    let data = if args.quick {
        data.select(&(0..600).collect::<Vec<_>>())
    } else {
        data
    };
    let Splits { train: data, .. } = data.split(0.8, 0.0, 0.2, &mut rng)?;
    let n = data.len();
    let epochs = args.epochs.unwrap_or(if args.quick { 4 } else { 20 });
    let eval_every = 64;
    let mut sweep = Vec::new();
    for method in METHODS {
        let runs = method
            .lrs()
            .into_iter()
            .map(|lr| train(method, lr, &data, epochs, eval_every, args.seed, args))
            .collect::<Result<Vec<_>, _>>()?;
        sweep.push(runs);
    }
    let noise = [1, 4, 16, 64, 256, n]
        .into_iter()
        .filter(|&b| b <= n)
        .map(|b| Ok((b, gradient_noise(&data, b, args.seed)?)))
        .collect::<Result<Vec<_>, BoxError>>()?;
    let report = Report {
        n,
        sweep,
        noise,
        epochs,
    };
    if print {
        print_report(&report, args)?;
    }
    Ok(report)
}

fn print_report(r: &Report, args: &Args) -> Result<(), BoxError> {
    println!(
        "Softmax regression on {} digits, zero start (loss ln 10 = {:.4}), {} epochs\n",
        r.n,
        10f64.ln(),
        r.epochs
    );
    println!("learning-rate sweep: training loss after the last epoch (and how often it rose)");
    for (method, runs) in METHODS.iter().zip(&r.sweep) {
        print!("{:<22}", method.label());
        for run in runs {
            print!(
                "   γ = {:<6}{:.4} ({:>2.0}% rises)",
                run.lr,
                run.final_loss(),
                100.0 * run.rises()
            );
        }
        println!();
    }
    let shown: Vec<usize> = [1, 5, r.epochs]
        .into_iter()
        .filter(|&e| e <= r.epochs)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    println!("\neach method at its best γ: training loss after epochs and after updates");
    print!("{:<22}{:>7}{:>10}", "method", "γ", "upd/epoch");
    for e in &shown {
        print!("{:>10}", format!("ep {e}"));
    }
    println!(
        "{:>12}{:>10}{:>10}",
        format!("{} upd", r.epochs),
        "rises",
        "µs/ex"
    );
    let best: Vec<&Run> = METHODS.iter().map(|&m| r.best(m)).collect();
    for run in &best {
        print!(
            "{:<22}{:>7}{:>10}",
            run.method.label(),
            run.lr,
            run.updates_per_epoch
        );
        for &e in &shown {
            print!("{:>10.4}", run.epoch_losses[e]);
        }
        println!(
            "{:>12.4}{:>9.0}%{:>10.2}",
            run.loss_after_updates(r.epochs),
            100.0 * run.rises(),
            run.micros_per_example()
        );
    }
    println!(
        "(rises: share of updates whose batch loss is above the previous update's;\n\
         µs/ex: training time per example, evaluations excluded: wall clock, noisy)"
    );
    let by = |x: &dyn Fn(&Checkpoint) -> f64| -> Vec<Series> {
        best.iter()
            .map(|run| Series {
                label: format!("{}, γ = {}", run.method.label(), run.lr),
                points: run.curve.iter().map(|c| (x(c), c.loss)).collect(),
            })
            .collect()
    };
    let n = r.n as f64;
    let p = common::plot_lines(
        &args.out,
        "07-loss-vs-epochs.svg",
        "training loss against examples seen",
        ("epochs (examples seen / n)", "cross-entropy"),
        &by(&|c| c.examples as f64 / n),
        true,
        common::Legend::UpperRight,
    )?;
    println!("\nplot: {}", p.display());
    let p = common::plot_lines(
        &args.out,
        "07-loss-vs-time.svg",
        "training loss against training time",
        ("seconds", "cross-entropy"),
        &by(&|c| c.seconds),
        true,
        common::Legend::UpperRight,
    )?;
    println!("plot: {}", p.display());

    let sigma2 = r.noise[0].1;
    println!("\ngradient noise at the start: E‖g_b - g‖² against (σ²/b)·(n - b)/(n - 1)");
    println!(
        "{:>6}{:>16}{:>16}{:>10}",
        "b", "measured", "predicted", "ratio"
    );
    for &(b, v) in &r.noise {
        let predicted = noise_prediction(sigma2, b, r.n);
        let ratio = if predicted > 0.0 {
            format!("{:.2}", v / predicted)
        } else {
            "-".into()
        };
        println!("{b:>6}{v:>16.4e}{predicted:>16.4e}{ratio:>10}");
    }
    Ok(())
}

/// `(σ²/b)·(n - b)/(n - 1)`: the variance of the mean of `b` of `n` per-example
/// gradients drawn without replacement, `σ²` the variance of one.
pub fn noise_prediction(sigma2: f64, b: usize, n: usize) -> f64 {
    sigma2 / b as f64 * (n - b) as f64 / (n - 1) as f64
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("7. batch, stochastic and mini-batch gradient descent");
    run(&args, true)?;
    Ok(())
}
