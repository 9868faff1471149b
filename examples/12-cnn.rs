//! # 12. A small convolutional network
//!
//! What it teaches: a CNN built from the layers of example 11 (`Conv2d`,
//! `Relu`, `MaxPool2d`, then `Flatten` and `Linear`), trained with Adam and
//! the cross-entropy, beats a fully connected network of about the same
//! number of parameters, because its filters are shared over the image
//! ("forçam localidade": a 5×5 filter has 25 weights wherever it looks).
//!
//! By default it trains on the embedded UCI digits (8×8, a seeded 80/20
//! split); with `--data DIR` on MNIST, from the 10,000-image test set in
//! `DIR` (`t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`): the
//! first 8,000 images train, the last 2,000 test. It prints the loss and the
//! accuracies per epoch, plots them, and trains the comparison MLP.
//! `--min-accuracy 0.97` makes it exit with an error when the CNN's final
//! test accuracy is lower: CI runs it that way on MNIST.
//!
//! The network, LeNet-5's layout made smaller (for 28×28 inputs): conv 8@5×5
//! padding 2 → ReLU → max-pool 2 → conv 16@5×5 → ReLU → max-pool 2 → 400 → 32
//! → ReLU → 10, 16.6 k parameters; each size follows `floor((n + 2p − k)/s) +
//! 1` (example 11): 28 → 28 → 14 → 10 → 5. On 8×8 digits the filters are 3×3
//! with padding 1: 8 → 8 → 4 → 4 → 2.
//!
//! Lectures: "Aula 6 - Introdução a deep learning" (convolutions, padding and
//! stride, pooling, the CNN architecture and the six training steps) and
//! "Módulo 8 - Redes neuronales profundas" (the "revolution of depth" of
//! AlexNet, VGG and ResNet, He initialisation). Where they differ: Aula 6's
//! step 3 "soma os erros de todas as classes" is, for softmax with the
//! cross-entropy, the sum of `−y_k log ŷ_k` over classes, which keeps only the
//! true class's `−log ŷ_y`; and its pooling slide says pooling makes the
//! network robust to small shifts and makes the representation "equivariante"
//! so that size does not matter: max-pooling gives invariance to shifts of
//! less than a window (not to size), and convolution is what is shift
//! equivariant. Módulo 8 shows CNN architectures but no convolution itself.
//!
//! Run it with `cargo run --release --example 12-cnn` or `cargo run --release
//! --example 12-cnn -- --data ../shared/data/mnist` (flags: `--epochs N`,
//! `--seed N`, `--quick`, `--out DIR`, `--data DIR`, `--min-accuracy X`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError, Series};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::data::Dataset;
use wengert::nn::optim::{Adam, AdamConfig, Optimizer};
use wengert::nn::schedule::{CosineAnnealingLr, LrSchedule};
use wengert::nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, Reduction, Relu, Sequential, loss};
use wengert::{Conv2dParams, no_grad};

/// Output size of a convolution or pooling along one axis: `floor((n + 2p −
/// k)/s) + 1`.
pub fn out_size(n: usize, k: usize, p: usize, s: usize) -> usize {
    (n + 2 * p - k) / s + 1
}

/// Width of the CNN's hidden fully connected layer.
pub const HIDDEN: usize = 32;

/// The CNN for square one-channel images of side `side`: 5×5 filters for
/// MNIST-sized inputs, 3×3 (all padded) for the 8×8 digits.
pub fn cnn(side: usize, rng: &mut StdRng) -> Result<Sequential, BoxError> {
    let (k, p1, p2) = if side >= 16 { (5, 2, 0) } else { (3, 1, 1) };
    let pad = |p| Conv2dParams {
        padding: [p, p],
        ..Default::default()
    };
    let after = out_size(out_size(side, k, p1, 1), 2, 0, 2);
    let after = out_size(out_size(after, k, p2, 1), 2, 0, 2);
    Ok(Sequential::new()
        .add(Conv2d::new(1, 8, [k, k], pad(p1), true, rng)?)
        .add(Relu)
        .add(MaxPool2d::new([2, 2])?)
        .add(Conv2d::new(8, 16, [k, k], pad(p2), true, rng)?)
        .add(Relu)
        .add(MaxPool2d::new([2, 2])?)
        .add(Flatten)
        .add(Linear::new(16 * after * after, HIDDEN, true, rng)?)
        .add(Relu)
        .add(Linear::new(HIDDEN, 10, true, rng)?))
}

/// The fully connected comparison: `pixels → hidden → 10` with `hidden`
/// chosen so that it has at least as many parameters as `cnn_params`.
pub fn mlp(pixels: usize, cnn_params: usize, rng: &mut StdRng) -> Result<Sequential, BoxError> {
    // pixels·h + h + 10·h + 10 >= cnn_params.
    let hidden = (cnn_params - 10).div_ceil(pixels + 11);
    Ok(Sequential::new()
        .add(Flatten)
        .add(Linear::new(pixels, hidden, true, rng)?)
        .add(Relu)
        .add(Linear::new(hidden, 10, true, rng)?))
}

/// Training and test sets, images `[n, 1, side, side]` in `[0, 1]`.
pub struct Data {
    /// What the data is, for printing.
    pub name: String,
    /// The training set.
    pub train: Dataset,
    /// The held-out test set.
    pub test: Dataset,
    /// Image side in pixels.
    pub side: usize,
}

/// The digits split 80/20 by `seed`, or MNIST's t10k files in `dir` split
/// 8,000 / 2,000 in file order.
pub fn load(dir: Option<&std::path::Path>, seed: u64) -> Result<Data, BoxError> {
    match dir {
        None => {
            let d = wengert::data::digits()?;
            let labels = d.labels().expect("classification").to_vec();
            let d = Dataset::classification(d.inputs().reshape([d.len(), 1, 8, 8]), labels)?;
            let s = d.split(0.8, 0.0, 0.2, &mut StdRng::seed_from_u64(seed))?;
            Ok(Data {
                name: "UCI digits 8×8".into(),
                train: s.train,
                test: s.test,
                side: 8,
            })
        }
        Some(dir) => {
            let d = wengert::data::idx::load_mnist(
                dir.join("t10k-images-idx3-ubyte.gz"),
                dir.join("t10k-labels-idx1-ubyte.gz"),
            )?;
            let n = d.len();
            if n < 2_001 {
                return Err(format!("{}: {n} images, need more than 2000", dir.display()).into());
            }
            let split = n - 2_000;
            Ok(Data {
                name: format!("MNIST t10k ({split} train / 2000 test)"),
                train: d.select(&(0..split).collect::<Vec<_>>()),
                test: d.select(&(split..n).collect::<Vec<_>>()),
                side: d.inputs().dims()[2],
            })
        }
    }
}

/// The fraction of `data` that `model` classifies correctly.
pub fn accuracy(model: &dyn Module, data: &Dataset) -> Result<f64, BoxError> {
    let labels = data.labels().expect("classification");
    let mut right = 0;
    for b in data.batches(500)? {
        let z = no_grad(|| model.try_forward(&b.inputs))?;
        let l = b.labels().expect("classification");
        right += z
            .argmax(Some(-1))
            .iter()
            .zip(l)
            .filter(|(p, y)| p == y)
            .count();
    }
    Ok(right as f64 / labels.len() as f64)
}

/// Per-epoch record of one training run.
#[derive(Clone, Debug, Default)]
pub struct Curves {
    /// Mean training loss of each epoch.
    pub loss: Vec<f64>,
    /// Training accuracy after each epoch.
    pub train_acc: Vec<f64>,
    /// Test accuracy after each epoch.
    pub test_acc: Vec<f64>,
}

/// Trains `model` for `epochs` with Adam (cosine-annealed from `lr`),
/// mini-batches of 32 shuffled by `seed`.
pub fn train(
    model: &mut dyn Module,
    data: &Data,
    epochs: usize,
    lr: f64,
    seed: u64,
    args: &Args,
    what: &str,
) -> Result<Curves, BoxError> {
    let batch = 32;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut opt = Adam::new(AdamConfig {
        lr,
        ..Default::default()
    })?;
    let schedule = CosineAnnealingLr::new(lr, epochs, 0.0)?;
    let steps = data.train.len().div_ceil(batch);
    let bar = common::progress((epochs * steps) as u64, args, what);
    let mut c = Curves::default();
    for epoch in 0..epochs {
        schedule.apply(&mut opt, epoch)?;
        let mut total = 0.0;
        for b in data.train.batches(batch)?.shuffle(&mut rng) {
            let l = loss::cross_entropy(
                &model.try_forward(&b.inputs)?,
                b.labels().expect("classification"),
                Reduction::Mean,
            )?;
            total += f64::from(l.item()) / steps as f64;
            let grads = l.backward()?;
            opt.step(model, &grads)?;
            bar.inc(1);
        }
        c.loss.push(total);
        c.train_acc.push(accuracy(model, &data.train)?);
        c.test_acc.push(accuracy(model, &data.test)?);
        bar.set_message(format!("{what} {:.3}", c.test_acc[epoch]));
    }
    bar.finish_and_clear();
    Ok(c)
}

/// What the example measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// The CNN's curves.
    pub cnn: Curves,
    /// Its number of parameters.
    pub cnn_params: usize,
    /// The MLP's curves.
    pub mlp: Curves,
    /// Its number of parameters.
    pub mlp_params: usize,
    /// Training and test set sizes.
    pub sizes: (usize, usize),
}

impl Report {
    /// The CNN's test accuracy after the last epoch.
    pub fn final_accuracy(&self) -> f64 {
        *self.cnn.test_acc.last().expect("at least one epoch")
    }
}

/// The error `--min-accuracy` turns a low final accuracy into.
pub fn check_min_accuracy(accuracy: f64, min: Option<f64>) -> Result<(), String> {
    match min {
        Some(m) if accuracy < m => Err(format!(
            "12-cnn: final test accuracy {:.2}% is below --min-accuracy {:.2}%",
            100.0 * accuracy,
            100.0 * m
        )),
        _ => Ok(()),
    }
}

/// Runs the example: trains the CNN and the MLP, prints and plots the curves.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let data = load(args.data.as_deref(), args.seed)?;
    let epochs = args.epochs.unwrap_or(match (args.quick, data.side > 8) {
        (true, false) => 12,
        (false, false) => 30,
        (true, true) => 2,
        (false, true) => 8,
    });
    let lr = 3e-3;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut net = cnn(data.side, &mut rng)?;
    let cnn_params = net.num_parameters();
    let mut fc = mlp(data.side * data.side, cnn_params, &mut rng)?;
    let mlp_params = fc.num_parameters();
    let (n_train, n_test) = (data.train.len(), data.test.len());
    if print {
        println!(
            "{}: {n_train} training and {n_test} test images, {epochs} epochs, Adam lr {lr} (cosine), batch 32",
            data.name
        );
        println!("CNN {cnn_params} parameters, MLP {mlp_params} parameters\n");
    }
    let c = train(&mut net, &data, epochs, lr, args.seed, args, "CNN")?;
    let m = train(&mut fc, &data, epochs, lr, args.seed, args, "MLP")?;
    if print {
        println!(
            "{:>6}{:>12}{:>12}{:>12}{:>12}{:>12}",
            "epoch", "CNN loss", "CNN train", "CNN test", "MLP loss", "MLP test"
        );
        for e in 0..epochs {
            println!(
                "{:>6}{:>12.4}{:>11.2}%{:>11.2}%{:>12.4}{:>11.2}%",
                e + 1,
                c.loss[e],
                100.0 * c.train_acc[e],
                100.0 * c.test_acc[e],
                m.loss[e],
                100.0 * m.test_acc[e]
            );
        }
        let pts = |v: &[f64]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .map(|(e, &y)| ((e + 1) as f64, y))
                .collect()
        };
        let s = |label: &str, v: &[f64]| Series {
            label: label.into(),
            points: pts(v),
        };
        let p = common::plot_lines(
            &args.out,
            "12-cnn-loss.svg",
            &format!("training loss, {}", data.name),
            ("epoch", "mean cross-entropy"),
            &[s("CNN", &c.loss), s("MLP", &m.loss)],
            true,
            common::Legend::UpperRight,
        )?;
        println!("\nplot: {}", p.display());
        let p = common::plot_lines(
            &args.out,
            "12-cnn-accuracy.svg",
            &format!("accuracy, {}", data.name),
            ("epoch", "accuracy"),
            &[
                s("CNN train", &c.train_acc),
                s("CNN test", &c.test_acc),
                s("MLP train", &m.train_acc),
                s("MLP test", &m.test_acc),
            ],
            false,
            common::Legend::LowerRight,
        )?;
        println!("plot: {}", p.display());
        println!(
            "\nfinal test accuracy: CNN {:.2}% ({cnn_params} parameters), MLP {:.2}% ({mlp_params} parameters)",
            100.0 * c.test_acc[epochs - 1],
            100.0 * m.test_acc[epochs - 1]
        );
    }
    Ok(Report {
        cnn: c,
        cnn_params,
        mlp: m,
        mlp_params,
        sizes: (n_train, n_test),
    })
}

#[allow(dead_code)]
fn main() {
    let args = Args::parse("12. a small CNN on the digits or MNIST");
    let outcome = run(&args, true)
        .map_err(|e| format!("12-cnn: {e}"))
        .and_then(|r| check_min_accuracy(r.final_accuracy(), args.min_accuracy));
    if let Err(msg) = outcome {
        eprintln!("{msg}");
        std::process::exit(1);
    }
}
