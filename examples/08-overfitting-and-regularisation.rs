//! # 8. Overfitting and regularisation
//!
//! What it teaches: what overfitting looks like in the training and validation
//! curves, and what L1, L2 (weight decay), dropout and early stopping do about
//! it. A network far too big for its data (64 → 256 → 256 → 10, ReLU, about
//! 85 000 parameters) is trained on 179 of the embedded UCI digits (10%, a
//! fifth of their labels replaced by a wrong class, so that there is noise to
//! memorise) and validated on 539 clean others, with mini-batch SGD, five
//! times from the same initial weights:
//!
//! 1. no regularisation: the training loss keeps falling, the validation loss
//!    reaches a minimum and then rises, and the gap between them grows (the
//!    backprop lecture's Figure 2, "Aula 9 - Redes Neurais - Treinamento");
//! 2. L1, `λ·Σ|w|` added to the loss (`penalty::Penalty::L1`);
//! 3. L2, `λ/2·Σw²` (`penalty::Penalty::L2`, the same gradient as
//!    `WeightDecay::L2(λ)` in the optimizer: Aula 9's update
//!    `W ← (1 − αλ) W − α ∂J/∂W`);
//! 4. dropout after each hidden layer (`Dropout`, `p = 0.5`);
//! 5. early stopping on the validation loss (`early_stopping::EarlyStopping`)
//!    with the weights of the best epoch restored.
//!
//! Losses are measured in eval mode (no dropout) and without the penalty, so
//! that the five runs are compared on the same quantity. It counts the weights
//! that end within 10⁻³ of zero: L1, whose pull `λ·sign(w)` does not fade as
//! `w` shrinks, drives most of them there; L2, whose pull `λw` does, shrinks
//! the weights geometrically and zeroes far fewer. Only weights are penalised,
//! not biases (Aula 9: "apenas esses pesos são regularizados").
//!
//! Lectures: Aula 9 (L2, the curves of Figure 2), "Aula 21 - Treinando redes
//! neurais" (Lasso and Ridge on every layer, early stopping, dropout), "Aula 6 -
//! Introdução a deep learning" (dropout), "INF721" (L1, L2, dropout in the
//! previous class).
//!
//! Where the notes differ: Aula 21 writes the L2 term as `Σw²` and Aula 9 as
//! `λ/2·Σw²`; the factor 1/2 only rescales λ (with it, the gradient is `λw`, the
//! optimizers' weight decay). The classic dropout of the notes keeps a unit with
//! probability `P` during training and multiplies the weights by `P` at test
//! time; `Dropout` is *inverted* dropout: it divides the survivors by `P` while
//! training and is the identity at test time. Both compute the same function
//! (a network trained with `m / P` and weights `W'` is the notes' network with
//! `W = W'/P`, whose test-time weights `P·W` are `W'`): the scaling just moves
//! from inference into training, so a saved model needs no rescaling.
//!
//! Run it with `cargo run --release --example 08-overfitting-and-regularisation`
//! (flags: `--epochs N`, `--seed N`, `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError, Series};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert::data::Dataset;
use wengert::nn::early_stopping::{Decision, EarlyStopping};
use wengert::nn::optim::{Optimizer, Sgd, SgdConfig};
use wengert::nn::penalty::{Penalty, penalty, weights_only};
use wengert::nn::schedule::Mode;
use wengert::nn::{Dropout, Linear, Module, Reduction, Relu, Sequential, loss};

/// Width of the two hidden layers.
pub const WIDTH: usize = 256;
/// A weight counts as zero below this magnitude.
pub const ZERO: f32 = 1e-3;
/// The L1 coefficient λ.
pub const L1: f64 = 5e-4;
/// The L2 coefficient λ.
pub const L2: f64 = 1e-2;
/// The drop probability of the dropout run.
pub const DROP: f64 = 0.5;
/// Epochs without improvement before early stopping stops.
pub const PATIENCE: usize = 10;
/// The fraction of training labels replaced by a wrong one.
pub const NOISE: f64 = 0.2;

/// The five ways to train.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Regulariser {
    /// Plain training.
    None,
    /// `λ·Σ|w|` on the weights.
    L1(f64),
    /// `λ/2·Σw²` on the weights.
    L2(f64),
    /// Dropout with drop probability `p` after each hidden layer.
    Dropout(f64),
    /// Stop after `patience` epochs without a better validation loss and
    /// restore the best epoch's weights.
    EarlyStopping(usize),
}

impl Regulariser {
    /// A short label for tables and legends.
    pub fn label(&self) -> String {
        match self {
            Regulariser::None => "none".into(),
            Regulariser::L1(l) => format!("L1 λ={l}"),
            Regulariser::L2(l) => format!("L2 λ={l}"),
            Regulariser::Dropout(p) => format!("dropout p={p}"),
            Regulariser::EarlyStopping(p) => format!("early stop ({p})"),
        }
    }
}

/// One training run.
pub struct Run {
    /// How it was regularised.
    pub reg: Regulariser,
    /// Mean cross-entropy on the training set after each epoch (eval mode, no
    /// penalty).
    pub train: Vec<f64>,
    /// The same on the validation set.
    pub val: Vec<f64>,
    /// The final model's validation loss (for early stopping: after
    /// restoring the best weights).
    pub final_val: f64,
    /// The final model's training loss.
    pub final_train: f64,
    /// The final model's validation accuracy.
    pub accuracy: f64,
    /// How many weights (not biases) end with `|w| < ZERO`, and how many
    /// weights there are.
    pub zero_weights: (usize, usize),
    /// Root mean square of the final weights.
    pub weight_rms: f64,
    /// Early stopping only: the best validation loss it recorded and its epoch
    /// (from 0).
    pub best: Option<(f64, usize)>,
}

impl Run {
    /// Validation minus training loss of the final model.
    pub fn gap(&self) -> f64 {
        self.final_val - self.final_train
    }
}

/// What the example found.
pub struct Report {
    /// The runs, in the order of [`regularisers`].
    pub runs: Vec<Run>,
}

impl Report {
    /// The run regularised by `reg`'s kind.
    pub fn run(&self, kind: fn(&Regulariser) -> bool) -> &Run {
        self.runs
            .iter()
            .find(|r| kind(&r.reg))
            .expect("every kind is run")
    }
}

/// The runs, in order.
pub fn regularisers() -> [Regulariser; 5] {
    [
        Regulariser::None,
        Regulariser::L1(L1),
        Regulariser::L2(L2),
        Regulariser::Dropout(DROP),
        Regulariser::EarlyStopping(PATIENCE),
    ]
}

/// The network, with dropout after each hidden layer when `drop > 0`.
pub fn network(drop: f64, rng: &mut StdRng) -> Result<Sequential, BoxError> {
    let mut net = Sequential::new();
    for (l, fan_in) in [64, WIDTH].into_iter().enumerate() {
        net.push(Linear::new(fan_in, WIDTH, true, rng)?);
        net.push(Relu);
        if drop > 0.0 {
            net.push(Dropout::new(drop, l as u64)?);
        }
    }
    net.push(Linear::new(WIDTH, 10, true, rng)?);
    Ok(net)
}

/// Mean cross-entropy and accuracy of `net` on `data`, in eval mode.
pub fn evaluate(net: &mut Sequential, data: &Dataset) -> Result<(f64, f64), BoxError> {
    net.eval();
    let labels = data.labels().expect("digits are labelled");
    let z = net.try_forward(data.inputs())?;
    let l = loss::cross_entropy(&z, labels, Reduction::Mean)?;
    let hits = z
        .argmax(Some(1))
        .iter()
        .zip(labels)
        .filter(|(p, y)| p == y)
        .count();
    net.train();
    Ok((f64::from(l.item()), hits as f64 / labels.len() as f64))
}

/// Trains one network as `reg` says for at most `epochs` epochs.
pub fn train(
    reg: Regulariser,
    train_set: &Dataset,
    val_set: &Dataset,
    epochs: usize,
    seed: u64,
    bar: &indicatif::ProgressBar,
) -> Result<Run, BoxError> {
    // The same initial weights and batch order for every run.
    let mut rng = StdRng::seed_from_u64(seed);
    let drop = if let Regulariser::Dropout(p) = reg {
        p
    } else {
        0.0
    };
    let mut net = network(drop, &mut rng)?;
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        ..Default::default()
    })?;
    let pen = match reg {
        Regulariser::L1(l) => Some(Penalty::L1(l)),
        Regulariser::L2(l) => Some(Penalty::L2(l)),
        _ => None,
    };
    let mut stop = match reg {
        Regulariser::EarlyStopping(p) => Some(EarlyStopping::new(Mode::Min, p, 0.0)?),
        _ => None,
    };
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for _ in 0..epochs {
        for batch in train_set.batches(32)?.shuffle(&mut rng) {
            let labels = batch.labels().expect("digits are labelled");
            let z = net.try_forward(&batch.inputs)?;
            let mut l = loss::cross_entropy(&z, labels, Reduction::Mean)?;
            if let Some(p) = pen {
                l = &l + &penalty(&net, p, weights_only)?;
            }
            opt.step(&mut net, &l.backward()?)?;
        }
        train.push(evaluate(&mut net, train_set)?.0);
        val.push(evaluate(&mut net, val_set)?.0);
        bar.inc(1);
        if let Some(s) = stop.as_mut()
            && s.update(*val.last().expect("pushed"), &net) == Decision::Stop
        {
            break;
        }
    }
    bar.inc((epochs - train.len()) as u64);
    let best = match &stop {
        Some(s) => {
            s.restore_best(&mut net)?;
            Some((s.best().expect("updated"), s.best_epoch().expect("updated")))
        }
        None => None,
    };
    let (final_train, _) = evaluate(&mut net, train_set)?;
    let (final_val, accuracy) = evaluate(&mut net, val_set)?;
    let mut weights = Vec::new();
    net.visit_parameters(&mut |name, p| {
        if weights_only(name) {
            weights.extend_from_slice(p.as_slice());
        }
    });
    let zeros = weights.iter().filter(|w| w.abs() < ZERO).count();
    let rms =
        (weights.iter().map(|&w| f64::from(w * w)).sum::<f64>() / weights.len() as f64).sqrt();
    Ok(Run {
        reg,
        train,
        val,
        final_val,
        final_train,
        accuracy,
        zero_weights: (zeros, weights.len()),
        weight_rms: rms,
        best,
    })
}

/// The digits split: 10% for training, with a fraction `NOISE` of their
/// labels replaced by a different class drawn at random, and 30% (clean) for
/// validation.
pub fn split(seed: u64) -> Result<(Dataset, Dataset), BoxError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let s = wengert::data::digits()?.split(0.1, 0.3, 0.0, &mut rng)?;
    let mut labels = s.train.labels().expect("digits are labelled").to_vec();
    let n = labels.len();
    for i in rand::seq::index::sample(&mut rng, n, (NOISE * n as f64) as usize) {
        labels[i] = (labels[i] + rng.random_range(1..10)) % 10;
    }
    let train = Dataset::classification(s.train.inputs().clone(), labels)?;
    Ok((train, s.validation))
}

/// Runs the example: five trainings, the table, the plots.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let (train_set, val_set) = split(args.seed)?;
    let epochs = args.epochs.unwrap_or(if args.quick { 60 } else { 150 });
    let regs = regularisers();
    let bar = common::progress((epochs * regs.len()) as u64, args, "training");
    let runs = regs
        .iter()
        .map(|&reg| train(reg, &train_set, &val_set, epochs, args.seed, &bar))
        .collect::<Result<Vec<_>, _>>()?;
    bar.finish_and_clear();
    let report = Report { runs };
    if print {
        print_report(&report, &train_set, &val_set, args)?;
    }
    Ok(report)
}

fn print_report(r: &Report, train: &Dataset, val: &Dataset, args: &Args) -> Result<(), BoxError> {
    let none = &r.runs[0];
    let min = argmin(&none.val);
    println!(
        "64 → {WIDTH} → {WIDTH} → 10 ReLU on {} training digits, {} validation digits; SGD lr 0.05, momentum 0.9, batches of 32\n",
        train.len(),
        val.len()
    );
    println!(
        "no regularisation: validation loss lowest at epoch {} ({:.4}, training {:.4}); at epoch {}: validation {:.4}, training {:.2e}",
        min + 1,
        none.val[min],
        none.train[min],
        none.val.len(),
        none.final_val,
        none.final_train
    );
    println!(
        "the gap (validation − training) grew from {:.4} to {:.4}\n",
        none.val[min] - none.train[min],
        none.gap()
    );
    println!(
        "{:<18}{:>8}{:>12}{:>12}{:>10}{:>10}{:>22}{:>12}",
        "regulariser",
        "epochs",
        "train loss",
        "val loss",
        "gap",
        "val acc",
        format!("weights |w|<{ZERO:.0e}"),
        "weight rms"
    );
    for run in &r.runs {
        let (z, n) = run.zero_weights;
        println!(
            "{:<18}{:>8}{:>12.4}{:>12.4}{:>10.4}{:>9.1}%{:>14} ({:>4.1}%){:>12.4}",
            run.reg.label(),
            run.train.len(),
            run.final_train,
            run.final_val,
            run.gap(),
            100.0 * run.accuracy,
            z,
            100.0 * z as f64 / n as f64,
            run.weight_rms
        );
    }
    let es = &r.runs[4];
    if let Some((best, epoch)) = es.best {
        println!(
            "\nearly stopping: stopped after epoch {}, best validation loss {best:.6} at epoch {}; restored model's validation loss {:.6}",
            es.train.len(),
            epoch + 1,
            es.final_val
        );
    }
    let p = common::plot_lines(
        &args.out,
        "08-train-and-validation-loss.svg",
        "no regularisation: training and validation loss",
        ("epoch", "cross-entropy"),
        &[
            Series::indexed("training", &none.train),
            Series::indexed("validation", &none.val),
        ],
        true,
        common::Legend::LowerLeft,
    )?;
    println!("\nplot: {}", p.display());
    let mut series = Vec::new();
    for run in &r.runs[..4] {
        series.push(Series::indexed(
            format!("{} (validation)", run.reg.label()),
            &run.val,
        ));
        series.push(Series::indexed(
            format!("{} (training)", run.reg.label()),
            &run.train,
        ));
    }
    let p = common::plot_lines(
        &args.out,
        "08-regularisers.svg",
        "training and validation loss by regulariser",
        ("epoch", "cross-entropy"),
        &series,
        true,
        common::Legend::LowerLeft,
    )?;
    println!("plot: {}", p.display());
    Ok(())
}

/// The index of the smallest value.
pub fn argmin(v: &[f64]) -> usize {
    (0..v.len())
        .min_by(|&a, &b| v[a].total_cmp(&v[b]))
        .expect("not empty")
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("8. overfitting and regularisation");
    run(&args, true)?;
    Ok(())
}
