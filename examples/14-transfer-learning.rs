//! # 14. Transfer learning
//!
//! What it teaches: how to reuse a trained network's layers for another task
//! (save, load, freeze, replace the head, fine-tune), and to measure whether
//! it helps before believing it does. A network whose *features* are one
//! layer `64 → 128` (ReLU) and whose head is `128 → 64 → 5` is trained on the
//! digits 0-4 of the embedded UCI digits and saved as a checkpoint
//! (safetensors, `wengert::nn::checkpoint`). A fresh network loads it, its
//! feature layer is frozen (`Module::freeze`), its head is replaced by a new
//! linear head `128 → 5` for the digits 5-9, and only the head is trained, on
//! a few labelled examples per class. The same labelled examples and the same
//! number of steps go to four alternatives: the transferred network with
//! nothing frozen, frozen *random* features with the same new head, the same
//! architecture trained from scratch, and a linear classifier on the raw
//! pixels. The test accuracy on 5-9 is plotted against the number of
//! labelled examples per class.
//!
//! It also checks what the mechanics promise: the loaded network equals the
//! saved one bit for bit, and after fine-tuning the frozen feature weights are
//! bit-identical to the loaded ones while the head has moved.
//!
//! What it finds: here transfer *hurts*. Features learned to tell 0-4 apart
//! are worse for 5-9 than frozen random features, and both are worse than
//! training from scratch (with 5 examples a class, about 82%, 86% and 89%).
//! Five source classes teach features that separate those five; the 8x8
//! pixels are already almost linearly separable, so a random ReLU layer that
//! keeps them (128 units for 64 pixels) is the better frozen representation.
//! Transfer pays when the source task is broad (many classes, much data) and
//! the target's raw inputs are hard; neither holds for 0-4 → 5-9 on 8x8
//! digits.
//!
//! Lectures: "Aula 6 - Introdução a deep learning" lists "Transferir o
//! aprendizado" among the techniques for deep networks, against the obstacle
//! "Dados insuficientes para tantos parâmetros"; "Módulo 8 - Redes neuronales
//! profundas" has the related "Aprendizaje de múltiples tareas" (a
//! representation shared between two related tasks).
//!
//! Where the notes differ: they present transfer as a technique that helps,
//! with a picture and no caveat. It can hurt (*negative transfer*, as
//! measured here): compare with training from scratch and with frozen random
//! features on the same labelled examples before relying on it. And frozen
//! layers must really receive no update: here they are constants, so the tape
//! records nothing for them and the optimizer skips them, which the example
//! checks bit for bit.
//!
//! Run it with `cargo run --release --example 14-transfer-learning`
//! (flags: `--epochs N` for the source training, `--seed N`, `--quick`,
//! `--out DIR`; the checkpoint goes to `DIR/14-checkpoint/`).

#[allow(dead_code)]
pub mod common;

use std::path::PathBuf;

use common::{Args, BoxError, Series};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use wengert::Tensor;
use wengert::data::Dataset;
use wengert::nn::optim::{Adam, AdamConfig, Optimizer};
use wengert::nn::{Linear, Module, Reduction, Relu, Sequential, checkpoint, loss};

/// Width of the features the head reads.
pub const FEATURES: usize = 128;
/// Classes of each task (0-4, then 5-9).
pub const CLASSES: usize = 5;

/// A feature layer and a classification head. Parameters are named
/// `features.*` and `head.*`, so that the head can be replaced and the
/// features frozen by name.
pub struct Classifier {
    /// `64 → FEATURES`, then ReLU.
    pub features: Sequential<f32>,
    /// `FEATURES → … → CLASSES`, logits.
    pub head: Sequential<f32>,
}

impl Classifier {
    /// A freshly initialised network.
    pub fn new(rng: &mut StdRng) -> Result<Classifier, BoxError> {
        let features = Sequential::new()
            .add(Linear::new(64, FEATURES, true, rng)?)
            .add(Relu);
        let head = Sequential::new()
            .add(Linear::new(FEATURES, 64, true, rng)?)
            .add(Relu)
            .add(Linear::new(64, CLASSES, true, rng)?);
        Ok(Classifier { features, head })
    }
}

impl Module<f32> for Classifier {
    fn try_forward(&self, x: &Tensor<f32>) -> wengert::nn::Result<Tensor<f32>> {
        self.head.try_forward(&self.features.try_forward(x)?)
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<f32>)) {
        self.features
            .visit_parameters(&mut |n, t| f(&format!("features.{n}"), t));
        self.head
            .visit_parameters(&mut |n, t| f(&format!("head.{n}"), t));
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<f32>)) {
        self.features
            .visit_parameters_mut(&mut |n, t| f(&format!("features.{n}"), t));
        self.head
            .visit_parameters_mut(&mut |n, t| f(&format!("head.{n}"), t));
    }
}

/// A linear head `FEATURES → CLASSES` for the target task.
pub fn new_head(rng: &mut StdRng) -> Result<Sequential<f32>, BoxError> {
    Ok(Sequential::new().add(Linear::new(FEATURES, CLASSES, true, rng)?))
}

/// The bits of every parameter, by name: for exact comparisons.
pub fn bits(m: &dyn Module<f32>) -> Vec<(String, Vec<u32>)> {
    m.named_parameters()
        .into_iter()
        .map(|(n, t)| (n, t.as_slice().iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// Trains every trainable parameter of `model` with Adam (lr 0.01) for
/// `epochs` passes over `data` in shuffled batches of 32.
pub fn train(
    model: &mut dyn Module<f32>,
    data: &Dataset,
    epochs: usize,
    rng: &mut StdRng,
) -> Result<(), BoxError> {
    let mut opt = Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    })?;
    for _ in 0..epochs {
        for batch in data.batches(32)?.shuffle(rng) {
            let labels = batch.labels().ok_or("unlabelled batch")?;
            let z = model.try_forward(&batch.inputs)?;
            let l = loss::cross_entropy(&z, labels, Reduction::Mean)?;
            opt.step(model, &l.backward()?)?;
        }
    }
    Ok(())
}

/// The fraction of `data` that `model` classifies correctly.
pub fn accuracy(model: &dyn Module<f32>, data: &Dataset) -> Result<f64, BoxError> {
    let labels = data.labels().ok_or("unlabelled data")?;
    let predicted = model.try_forward(data.inputs())?.try_argmax(Some(1))?;
    let right = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    Ok(right as f64 / labels.len() as f64)
}

/// The examples of `data` whose label is in `lo..lo + CLASSES`, relabelled
/// `0..CLASSES`.
pub fn task(data: &Dataset, lo: usize) -> Result<Dataset, BoxError> {
    let labels = data.labels().ok_or("unlabelled data")?;
    let keep: Vec<usize> = (0..labels.len())
        .filter(|&i| (lo..lo + CLASSES).contains(&labels[i]))
        .collect();
    let picked = data.select(&keep);
    let relabelled = picked
        .labels()
        .ok_or("unlabelled data")?
        .iter()
        .map(|&l| l - lo)
        .collect();
    Ok(Dataset::classification(
        picked.inputs().clone(),
        relabelled,
    )?)
}

/// `shots` examples of each class of `data`, drawn at random.
pub fn few_shot(data: &Dataset, shots: usize, rng: &mut StdRng) -> Result<Dataset, BoxError> {
    let labels = data.labels().ok_or("unlabelled data")?;
    let mut picked = Vec::new();
    for c in 0..CLASSES {
        let mut of_c: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        of_c.shuffle(rng);
        picked.extend_from_slice(&of_c[..shots.min(of_c.len())]);
    }
    Ok(data.select(&picked))
}

/// Mean test accuracies on 5-9 for one number of labelled examples per class.
#[derive(Clone, Debug)]
pub struct Row {
    /// Labelled examples per class.
    pub shots: usize,
    /// Frozen transferred features, new head trained.
    pub transfer: f64,
    /// Transferred features, new head, everything trained.
    pub fine_tuned: f64,
    /// Frozen random features, head trained.
    pub random_features: f64,
    /// The whole network trained from scratch.
    pub scratch: f64,
    /// A linear head on the raw pixels.
    pub raw_head: f64,
}

/// What the example found.
pub struct Report {
    /// Test accuracy on 0-4 of the source network.
    pub source_accuracy: f64,
    /// Where the checkpoint was written.
    pub checkpoint: PathBuf,
    /// A fresh network differed from the saved one before loading.
    pub fresh_differed: bool,
    /// After loading, every parameter equals the saved one bit for bit.
    pub loaded_equals_saved: bool,
    /// After fine-tuning, every feature parameter equals the loaded one bit for bit.
    pub frozen_unchanged: bool,
    /// Fine-tuning changed the head.
    pub head_changed: bool,
    /// Trainable parameters while fine-tuning (the head only).
    pub trainable_while_fine_tuning: usize,
    /// Accuracies by labelled examples per class.
    pub rows: Vec<Row>,
}

/// The number of epochs every few-shot model trains: a fixed number of
/// steps, whatever the number of examples.
fn few_shot_epochs(n: usize) -> usize {
    const STEPS: usize = 150;
    STEPS.div_ceil(n.div_ceil(32))
}

/// Runs the example.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let splits = wengert::data::digits()?.split(0.7, 0.0, 0.3, &mut rng)?;
    let (source_train, source_test) = (task(&splits.train, 0)?, task(&splits.test, 0)?);
    let (target_pool, target_test) = (task(&splits.train, 5)?, task(&splits.test, 5)?);

    // 1. Learn features on 0-4 and save the whole network.
    let mut source = Classifier::new(&mut rng)?;
    let epochs = args.epochs.unwrap_or(if args.quick { 10 } else { 30 });
    let bar = common::progress(epochs as u64, args, "source task");
    for _ in 0..epochs {
        train(&mut source, &source_train, 1, &mut rng)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let source_accuracy = accuracy(&source, &source_test)?;
    let dir = args.out.join("14-checkpoint");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("digits-0-4.safetensors");
    checkpoint::save_module(&source, &path)?;

    // 2. Load it into a network built from other random numbers.
    let mut loaded = Classifier::new(&mut StdRng::seed_from_u64(args.seed ^ 0xfeed))?;
    let fresh_differed = bits(&loaded) != bits(&source);
    checkpoint::load_module(&mut loaded, &path)?;
    let loaded_equals_saved = bits(&loaded) == bits(&source);

    // 3. Freeze the features, replace the head, fine-tune on a few examples.
    let shots_list: &[usize] = if args.quick {
        &[5]
    } else {
        &[1, 2, 5, 10, 20, 50]
    };
    let repeats = if args.quick { 3 } else { 5 };
    let mut rows = Vec::new();
    let (mut frozen_unchanged, mut head_changed, mut trainable) = (true, true, 0);
    let bar = common::progress((shots_list.len() * repeats) as u64, args, "few-shot");
    for &shots in shots_list {
        let mut row = Row {
            shots,
            transfer: 0.0,
            fine_tuned: 0.0,
            random_features: 0.0,
            scratch: 0.0,
            raw_head: 0.0,
        };
        for r in 0..repeats {
            let mut draw =
                StdRng::seed_from_u64(args.seed.wrapping_mul(1000) + 10 * shots as u64 + r as u64);
            let few = few_shot(&target_pool, shots, &mut draw)?;
            let ep = few_shot_epochs(few.len());

            let mut tuned = Classifier::new(&mut draw)?;
            checkpoint::load_module(&mut tuned, &path)?;
            tuned.features.freeze();
            tuned.head = new_head(&mut draw)?;
            trainable = tuned.num_trainable_parameters();
            let (features_before, head_before) = (bits(&tuned.features), bits(&tuned.head));
            train(&mut tuned, &few, ep, &mut draw)?;
            frozen_unchanged &= bits(&tuned.features) == features_before;
            head_changed &= bits(&tuned.head) != head_before;
            row.transfer += accuracy(&tuned, &target_test)? / repeats as f64;

            // The same start, nothing frozen: the features adapt too.
            let mut whole = Classifier::new(&mut draw)?;
            checkpoint::load_module(&mut whole, &path)?;
            whole.head = new_head(&mut draw)?;
            train(&mut whole, &few, ep, &mut draw)?;
            row.fine_tuned += accuracy(&whole, &target_test)? / repeats as f64;

            // Frozen features that never learned anything: what the learned
            // ones are worth.
            let mut random = Classifier::new(&mut draw)?;
            random.features.freeze();
            random.head = new_head(&mut draw)?;
            train(&mut random, &few, ep, &mut draw)?;
            row.random_features += accuracy(&random, &target_test)? / repeats as f64;

            let mut scratch = Classifier::new(&mut draw)?;
            scratch.head = new_head(&mut draw)?;
            train(&mut scratch, &few, ep, &mut draw)?;
            row.scratch += accuracy(&scratch, &target_test)? / repeats as f64;

            let mut raw = Linear::<f32>::new(64, CLASSES, true, &mut draw)?;
            train(&mut raw, &few, ep, &mut draw)?;
            row.raw_head += accuracy(&raw, &target_test)? / repeats as f64;
            bar.inc(1);
        }
        rows.push(row);
    }
    bar.finish_and_clear();
    let report = Report {
        source_accuracy,
        checkpoint: path,
        fresh_differed,
        loaded_equals_saved,
        frozen_unchanged,
        head_changed,
        trainable_while_fine_tuning: trainable,
        rows,
    };
    if print {
        print_report(&report, args, repeats)?;
    }
    Ok(report)
}

fn print_report(r: &Report, args: &Args, repeats: usize) -> Result<(), BoxError> {
    println!(
        "source task, digits 0-4: test accuracy {:.1}%",
        100.0 * r.source_accuracy
    );
    println!("checkpoint: {}", r.checkpoint.display());
    println!(
        "fresh network differs from the saved one: {}; after loading, equal bit for bit: {}",
        r.fresh_differed, r.loaded_equals_saved
    );
    println!(
        "fine-tuning trains {} parameters (the head); frozen features unchanged bit for bit: {}; head changed: {}",
        r.trainable_while_fine_tuning, r.frozen_unchanged, r.head_changed
    );
    println!(
        "\ntarget task, digits 5-9: test accuracy, mean of {repeats} draws of the labelled examples\n"
    );
    println!(
        "{:>10} {:>20} {:>20} {:>20} {:>20} {:>20}",
        "per class",
        "transferred, frozen",
        "transferred, all",
        "random, frozen",
        "from scratch",
        "linear on pixels"
    );
    for row in &r.rows {
        println!(
            "{:>10} {:>19.1}% {:>19.1}% {:>19.1}% {:>19.1}% {:>19.1}%",
            row.shots,
            100.0 * row.transfer,
            100.0 * row.fine_tuned,
            100.0 * row.random_features,
            100.0 * row.scratch,
            100.0 * row.raw_head
        );
    }
    if r.rows.len() > 1 {
        let series = |label: &str, f: fn(&Row) -> f64| Series {
            label: label.to_string(),
            points: r
                .rows
                .iter()
                .map(|row| (row.shots as f64, f(row)))
                .collect(),
        };
        let p = common::plot_lines(
            &args.out,
            "14-accuracy-by-labelled-examples.svg",
            "digits 5-9: test accuracy against labelled examples per class",
            ("labelled examples per class", "test accuracy"),
            &[
                series("transferred features, frozen", |r| r.transfer),
                series("transferred, nothing frozen", |r| r.fine_tuned),
                series("random features, frozen", |r| r.random_features),
                series("from scratch", |r| r.scratch),
                series("linear on pixels", |r| r.raw_head),
            ],
            false,
            common::Legend::LowerRight,
        )?;
        println!("plot: {}", p.display());
    }
    Ok(())
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("14. transfer learning");
    run(&args, true)?;
    Ok(())
}
