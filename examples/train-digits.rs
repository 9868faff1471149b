//! # The main example: a digit classifier, trained and tested
//!
//! An MLP `64 → 256 → 128 → 10` (ReLU) learns the embedded UCI handwritten
//! digits (1797 images of 8x8 pixels, no download): a seeded 70/15/15
//! train/validation/test split, every pixel standardised by the training
//! set's mean and standard deviation, Adam (lr 3·10⁻⁴) on shuffled
//! mini-batches of 32 with the cross-entropy loss, the training loss, validation loss and validation
//! accuracy printed every epoch under a progress bar, early stopping on the
//! validation loss with the best epoch's weights restored, then the accuracy on
//! the test set, which training never saw. The loss and accuracy curves go
//! to an SVG file whose path is printed.
//!
//! It uses the parts a training loop is made of: `wengert::data` (the digits,
//! the split, shuffled batches), `wengert::nn` (`Sequential`, `Linear`,
//! `Relu`, `loss::cross_entropy`, `optim::Adam`,
//! `early_stopping::EarlyStopping`) and the tape (`backward`).
//!
//! Run it with `cargo run --release --example train-digits`
//! (flags: `--epochs N` (the most epochs), `--seed N` (the split, the
//! initialisation and the batch order), `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use std::path::PathBuf;

use common::{Args, BoxError, Series};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::Tensor;
use wengert::data::Dataset;
use wengert::nn::early_stopping::{Decision, EarlyStopping};
use wengert::nn::optim::{Adam, AdamConfig, Optimizer};
use wengert::nn::schedule::Mode;
use wengert::nn::{Linear, Module, Reduction, Relu, Sequential, loss};

/// Epochs without a better validation loss before training stops.
pub const PATIENCE: usize = 10;

/// One epoch's numbers.
#[derive(Clone, Copy, Debug)]
pub struct Epoch {
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Loss on the validation set after the epoch.
    pub val_loss: f64,
    /// Accuracy on the training set after the epoch.
    pub train_accuracy: f64,
    /// Accuracy on the validation set after the epoch.
    pub val_accuracy: f64,
}

/// What training produced.
pub struct Report {
    /// Every epoch that ran.
    pub epochs: Vec<Epoch>,
    /// The epoch (from 0) whose weights were kept.
    pub best_epoch: usize,
    /// Accuracy of the kept weights on the test set.
    pub test_accuracy: f64,
    /// Examples in the training, validation and test sets.
    pub sizes: (usize, usize, usize),
    /// The plot, when one was written.
    pub plot: Option<PathBuf>,
}

/// The network.
pub fn mlp(rng: &mut StdRng) -> Result<Sequential<f32>, BoxError> {
    Ok(Sequential::new()
        .add(Linear::new(64, 256, true, rng)?)
        .add(Relu)
        .add(Linear::new(256, 128, true, rng)?)
        .add(Relu)
        .add(Linear::new(128, 10, true, rng)?))
}

/// The mean and standard deviation of every pixel over `data`.
pub fn pixel_statistics(data: &Dataset) -> (Vec<f32>, Vec<f32>) {
    let x = data.inputs().as_slice();
    let n = data.len() as f32;
    let mut mean = vec![0.0f32; 64];
    let mut sq = vec![0.0f32; 64];
    for row in x.chunks(64) {
        for (j, &v) in row.iter().enumerate() {
            mean[j] += v / n;
            sq[j] += v * v / n;
        }
    }
    let std = mean
        .iter()
        .zip(&sq)
        .map(|(m, s)| (s - m * m).max(0.0).sqrt())
        .collect();
    (mean, std)
}

/// `data` with every pixel standardised, `(x - mean) / std`, by the training
/// set's statistics; pixels that never vary there (std 0) become 0.
pub fn standardised(data: &Dataset, mean: &[f32], std: &[f32]) -> Result<Dataset, BoxError> {
    let x: Vec<f32> = data
        .inputs()
        .as_slice()
        .chunks(64)
        .flat_map(|row| {
            row.iter().enumerate().map(|(j, &v)| {
                if std[j] > 0.0 {
                    (v - mean[j]) / std[j]
                } else {
                    0.0
                }
            })
        })
        .collect();
    let labels = data.labels().ok_or("unlabelled data")?.to_vec();
    Ok(Dataset::classification(
        Tensor::from_vec(x, [data.len(), 64])?,
        labels,
    )?)
}

/// The mean cross-entropy and the accuracy of `net` on `data`.
pub fn evaluate(net: &Sequential<f32>, data: &Dataset) -> Result<(f64, f64), BoxError> {
    let labels = data.labels().ok_or("unlabelled data")?;
    let z = net.try_forward(data.inputs())?;
    let l = loss::cross_entropy(&z, labels, Reduction::Mean)?;
    let predicted = z.try_argmax(Some(1))?;
    let right = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    Ok((f64::from(l.item()), right as f64 / labels.len() as f64))
}

/// Trains and tests; prints every epoch and writes the plot when `print`.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut splits = wengert::data::digits()?.split(0.7, 0.15, 0.15, &mut rng)?;
    let (mean, std) = pixel_statistics(&splits.train);
    for set in [&mut splits.train, &mut splits.validation, &mut splits.test] {
        *set = standardised(set, &mean, &std)?;
    }
    let sizes = (
        splits.train.len(),
        splits.validation.len(),
        splits.test.len(),
    );
    let mut net = mlp(&mut rng)?;
    let mut opt = Adam::new(AdamConfig {
        lr: 3e-4,
        ..Default::default()
    })?;
    let mut stop = EarlyStopping::new(Mode::Min, PATIENCE, 0.0)?;
    let max_epochs = args.epochs.unwrap_or(if args.quick { 5 } else { 60 });
    let bar = common::progress(max_epochs as u64, args, "training");
    let say = |line: String| {
        // A hidden bar prints nothing, not even its println lines.
        match (print, bar.is_hidden()) {
            (false, _) => {}
            (true, true) => println!("{line}"),
            (true, false) => bar.println(line),
        }
    };
    say(format!(
        "digits: {} training, {} validation, {} test examples (seed {})",
        sizes.0, sizes.1, sizes.2, args.seed
    ));
    say(format!(
        "{:>6} {:>11} {:>10} {:>10} {:>10}",
        "epoch", "train loss", "val loss", "train acc", "val acc"
    ));
    let mut epochs = Vec::new();
    for e in 0..max_epochs {
        let (mut sum, mut steps) = (0.0, 0);
        for batch in splits.train.batches(32)?.shuffle(&mut rng) {
            let labels = batch.labels().ok_or("unlabelled batch")?;
            let l = loss::cross_entropy(&net.try_forward(&batch.inputs)?, labels, Reduction::Mean)?;
            opt.step(&mut net, &l.backward()?)?;
            sum += f64::from(l.item());
            steps += 1;
        }
        let (_, train_accuracy) = evaluate(&net, &splits.train)?;
        let (val_loss, val_accuracy) = evaluate(&net, &splits.validation)?;
        let epoch = Epoch {
            train_loss: sum / steps as f64,
            val_loss,
            train_accuracy,
            val_accuracy,
        };
        epochs.push(epoch);
        say(format!(
            "{:>6} {:>11.4} {:>10.4} {:>9.1}% {:>9.1}%",
            e + 1,
            epoch.train_loss,
            epoch.val_loss,
            100.0 * train_accuracy,
            100.0 * val_accuracy
        ));
        bar.inc(1);
        if stop.update(val_loss, &net) == Decision::Stop {
            break;
        }
    }
    bar.finish_and_clear();
    stop.restore_best(&mut net)?;
    let best_epoch = stop.best_epoch().ok_or("no epoch ran")?;
    let (_, test_accuracy) = evaluate(&net, &splits.test)?;
    let mut report = Report {
        epochs,
        best_epoch,
        test_accuracy,
        sizes,
        plot: None,
    };
    if print {
        println!(
            "\nstopped after {} epochs; kept epoch {} (lowest validation loss)",
            report.epochs.len(),
            best_epoch + 1
        );
        println!(
            "test accuracy: {:.2}% ({} test images)",
            100.0 * test_accuracy,
            sizes.2
        );
        report.plot = Some(plot(&report, args)?);
        println!(
            "plot: {}",
            report.plot.as_ref().expect("just set").display()
        );
    }
    Ok(report)
}

/// Loss and accuracy curves in one SVG.
fn plot(r: &Report, args: &Args) -> Result<PathBuf, BoxError> {
    let series = |label: &str, f: fn(&Epoch) -> f64| Series {
        label: label.to_string(),
        points: r
            .epochs
            .iter()
            .enumerate()
            .map(|(e, ep)| ((e + 1) as f64, f(ep)))
            .collect(),
    };
    common::plot_lines(
        &args.out,
        "train-digits.svg",
        "digits MLP: loss and accuracy per epoch",
        ("epoch", "loss / accuracy"),
        &[
            series("training loss", |e| e.train_loss),
            series("validation loss", |e| e.val_loss),
            series("training accuracy", |e| e.train_accuracy),
            series("validation accuracy", |e| e.val_accuracy),
        ],
        false,
        common::Legend::UpperRight,
    )
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("train-digits: an MLP on the embedded UCI digits");
    run(&args, true)?;
    Ok(())
}
